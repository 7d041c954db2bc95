//! [`Title`]: an immutable string that clones without touching shared memory when short.
//!
//! Query results clone every matching record; with an `Arc<str>` each clone (and each drop)
//! is an atomic read-modify-write on a shared counter, which dominated `find_many`. A title of
//! at most [`INLINE_MAX`] bytes is stored inline, so cloning it is a plain copy; a longer one
//! lives in an `Arc<str>` (clone = one reference-count increment).
//!
//! Promises: a `Title` dereferences to its `str`; equality, ordering and hashing are those of
//! the `str`; it serializes as a plain string (the same serde/postcard bytes as `String` or
//! `Arc<str>`).
//!
//! Does not promise: a particular size or which representation a given title uses.

use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Titles up to this many bytes are stored inline.
pub const INLINE_MAX: usize = 23;

/// An immutable string, inline when short; see the module docs.
#[derive(Clone)]
pub struct Title(Repr);

#[derive(Clone)]
enum Repr {
    Inline(InlineBytes),
    Shared(Arc<str>),
}

/// The inline form: the text in `0[..len]` and `len` in the last byte. Whole 8-byte aligned
/// words, so a clone copies three words. An odd-sized layout (a length byte beside a 22-byte
/// buffer) made the compiler copy it in overlapping 4-byte pieces through the stack, and the
/// reload of those pieces stalled on store forwarding: that was ~70% of `find_many`.
#[derive(Clone, Copy)]
#[repr(C, align(8))]
struct InlineBytes([u8; INLINE_MAX + 1]);

impl Title {
    /// The title as a `str`.
    #[inline]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Inline(InlineBytes(buf)) => {
                let bytes = &buf[..usize::from(buf[INLINE_MAX])];
                // SAFETY: `buf[..len]` is a byte-for-byte copy of a whole `&str` (see
                // `From<&str>`), so it is valid UTF-8; it is never mutated afterwards.
                unsafe { std::str::from_utf8_unchecked(bytes) }
            }
            Repr::Shared(s) => s,
        }
    }
}

impl From<&str> for Title {
    fn from(s: &str) -> Title {
        if s.len() <= INLINE_MAX {
            let mut buf = [0u8; INLINE_MAX + 1];
            buf[..s.len()].copy_from_slice(s.as_bytes());
            buf[INLINE_MAX] = s.len() as u8;
            Title(Repr::Inline(InlineBytes(buf)))
        } else {
            Title(Repr::Shared(Arc::from(s)))
        }
    }
}

impl From<String> for Title {
    fn from(s: String) -> Title {
        Title::from(s.as_str())
    }
}

impl From<Arc<str>> for Title {
    fn from(s: Arc<str>) -> Title {
        if s.len() <= INLINE_MAX {
            Title::from(&*s)
        } else {
            Title(Repr::Shared(s))
        }
    }
}

impl Default for Title {
    fn default() -> Title {
        Title::from("")
    }
}

impl std::ops::Deref for Title {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Title {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for Title {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Title {
    fn eq(&self, other: &Title) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Title {}

impl PartialEq<str> for Title {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Title {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialOrd for Title {
    fn partial_cmp(&self, other: &Title) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Title {
    fn cmp(&self, other: &Title) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl std::hash::Hash for Title {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.as_str().hash(h)
    }
}

impl std::fmt::Debug for Title {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Title {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Title {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Title {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Title, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Title;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Title, E> {
                Ok(Title::from(s))
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_like_its_str_on_both_sides_of_the_inline_limit() {
        let long = "x".repeat(INLINE_MAX + 1);
        let samples = [
            "",
            "write the plan",
            "é☃ unicode 🚀",
            &"y".repeat(INLINE_MAX),
            &long,
            "a much longer title that certainly does not fit inline",
        ];
        for s in samples {
            let t = Title::from(s);
            assert_eq!(t.as_str(), s);
            assert_eq!(&*t, s);
            assert_eq!(t, s);
            assert_eq!(t.clone(), t);
            assert_eq!(format!("{t}"), s);
            assert_eq!(format!("{t:?}"), format!("{s:?}"));
            assert_eq!(Title::from(Arc::<str>::from(s)), t);
            assert_eq!(Title::from(s.to_string()), t);
            // Same bytes as a String on the wire, and back.
            let a = postcard::to_allocvec(&t).unwrap();
            assert_eq!(a, postcard::to_allocvec(&s.to_string()).unwrap());
            let back: Title = postcard::from_bytes(&a).unwrap();
            assert_eq!(back, t);
            let j = serde_json::to_string(&t).unwrap();
            assert_eq!(serde_json::from_str::<Title>(&j).unwrap(), t);
        }
        assert!(matches!(
            Title::from("y".repeat(INLINE_MAX)).0,
            Repr::Inline(_)
        ));
        assert!(matches!(Title::from(long.as_str()).0, Repr::Shared(_)));
        let mut v: Vec<Title> = ["b", "a", &long, "ab"]
            .iter()
            .map(|s| Title::from(*s))
            .collect();
        v.sort();
        let strs: Vec<&str> = v.iter().map(|t| t.as_str()).collect();
        assert_eq!(strs, vec!["a", "ab", "b", long.as_str()]);
    }
}
