//! The scope byte of a token: which actions it grants. Promises: only the four defined bits are
//! ever set in a [`Scope`] built through this module; narrowing is a subset test. Not here: what
//! an action means on a channel (the channel layer decides that).

use std::fmt;

/// A set of granted actions (bit 0 publish, bit 1 subscribe, bit 2 admin, bit 3 delegate).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Scope(u8);

impl Scope {
    /// Nothing granted.
    pub const NONE: Scope = Scope(0);
    /// May publish on the channel.
    pub const PUBLISH: Scope = Scope(0b0001);
    /// May subscribe to the channel.
    pub const SUBSCRIBE: Scope = Scope(0b0010);
    /// May administer the channel (configure it, evict members).
    pub const ADMIN: Scope = Scope(0b0100);
    /// May delegate (issue narrower tokens to others), as far as the delegation depth allows.
    pub const DELEGATE: Scope = Scope(0b1000);
    /// Every defined bit.
    pub const ALL: Scope = Scope(0b1111);

    /// The scope of a wire byte, or `None` when it sets undefined bits.
    pub fn from_bits(bits: u8) -> Option<Scope> {
        (bits & !Scope::ALL.0 == 0).then_some(Scope(bits))
    }

    /// The wire byte.
    pub fn bits(self) -> u8 {
        self.0
    }

    /// Whether every bit of `other` is in `self`.
    pub fn contains(self, other: Scope) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether no bit is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The union of two scopes.
    pub fn union(self, other: Scope) -> Scope {
        Scope(self.0 | other.0)
    }

    /// Parses a comma-separated list of `publish`, `subscribe`, `admin`, `delegate` (or `all`).
    pub fn parse(text: &str) -> Result<Scope, String> {
        let mut scope = Scope::NONE;
        for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            scope = scope.union(match word.to_ascii_lowercase().as_str() {
                "publish" | "pub" => Scope::PUBLISH,
                "subscribe" | "sub" => Scope::SUBSCRIBE,
                "admin" => Scope::ADMIN,
                "delegate" => Scope::DELEGATE,
                "all" => Scope::ALL,
                _ => {
                    return Err(format!(
                        "unknown scope {word:?} (use publish, subscribe, admin, delegate, all)"
                    ));
                }
            });
        }
        Ok(scope)
    }
}

impl std::ops::BitOr for Scope {
    type Output = Scope;
    fn bitor(self, rhs: Scope) -> Scope {
        self.union(rhs)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        let names = [
            (Scope::PUBLISH, "publish"),
            (Scope::SUBSCRIBE, "subscribe"),
            (Scope::ADMIN, "admin"),
            (Scope::DELEGATE, "delegate"),
        ];
        let mut first = true;
        for (bit, name) in names {
            if self.contains(bit) {
                if !first {
                    f.write_str(",")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scope({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_parse_and_display() {
        assert_eq!(Scope::from_bits(0x10), None);
        assert_eq!(Scope::from_bits(0x0F), Some(Scope::ALL));
        let s = Scope::parse("publish, delegate").unwrap();
        assert_eq!(s, Scope::PUBLISH | Scope::DELEGATE);
        assert_eq!(s.to_string(), "publish,delegate");
        assert!(s.contains(Scope::PUBLISH));
        assert!(!s.contains(Scope::SUBSCRIBE | Scope::PUBLISH));
        assert!(Scope::parse("write").is_err());
        assert_eq!(Scope::parse("").unwrap().to_string(), "none");
    }
}
