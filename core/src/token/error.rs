//! Why a token operation failed: one variant per reason, so callers (the auth guard, the CLI,
//! the SDKs) can report and count each reason separately. Promises: every parse, verify,
//! delegate and chain failure maps to exactly one variant here; no operation in
//! [`crate::token`] panics on bad input. Not here: rate limiting of failures (the auth guard's).

use std::fmt;

use super::scope::Scope;

/// How an encoded token or chain is malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// The input ends after `len` bytes; `needed` bytes were required.
    Truncated {
        /// Bytes present.
        len: usize,
        /// Bytes required.
        needed: usize,
    },
    /// The input has bytes after the last complete token.
    TrailingBytes {
        /// Bytes present.
        len: usize,
        /// Bytes expected.
        expected: usize,
    },
    /// The first two bytes are not the token magic `"NT"`.
    BadMagic,
    /// The version byte is not one this build understands.
    UnsupportedVersion(u8),
    /// The scope byte sets bits that have no meaning.
    UnknownScopeBits(u8),
    /// `not_before` is later than `not_after`.
    InvertedWindow {
        /// The token's `not_before`.
        not_before: u64,
        /// The token's `not_after`.
        not_after: u64,
    },
    /// A chain declares zero tokens or more than [`super::MAX_CHAIN_LEN`].
    BadChainLength(u8),
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Malformed::Truncated { len, needed } => {
                write!(f, "truncated at {len} bytes ({needed} needed)")
            }
            Malformed::TrailingBytes { len, expected } => {
                write!(
                    f,
                    "{len} bytes where {expected} were expected (trailing bytes)"
                )
            }
            Malformed::BadMagic => f.write_str("not a token (bad magic)"),
            Malformed::UnsupportedVersion(v) => write!(f, "unsupported token version {v}"),
            Malformed::UnknownScopeBits(b) => write!(f, "unknown scope bits {b:#04x}"),
            Malformed::InvertedWindow {
                not_before,
                not_after,
            } => write!(f, "not_before {not_before} is after not_after {not_after}"),
            Malformed::BadChainLength(n) => write!(
                f,
                "chain declares {n} tokens (1..={} allowed)",
                super::MAX_CHAIN_LEN
            ),
        }
    }
}

/// Which property of a delegated token is wider than its parent's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Widening {
    /// The child grants a scope bit the parent lacks.
    Scope,
    /// The child names another channel, or any channel under a channel-bound parent.
    Channel,
    /// The child's validity window starts before or ends after the parent's.
    Window,
    /// The child's delegation depth is not below the parent's.
    Depth,
}

impl fmt::Display for Widening {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Widening::Scope => "scope",
            Widening::Channel => "channel",
            Widening::Window => "validity window",
            Widening::Depth => "delegation depth",
        })
    }
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenError {
    /// No token was presented (an empty chain).
    NoToken,
    /// The bytes are not a well-formed token or chain.
    Malformed(Malformed),
    /// The issuer's public key is not a valid ed25519 key.
    BadIssuerKey,
    /// The signature does not verify against the issuer's key.
    BadSignature,
    /// `now` is past `not_after` plus the skew tolerance.
    Expired {
        /// The token's `not_after` (Unix seconds).
        not_after: u64,
        /// The time checked against.
        now: u64,
    },
    /// `now` plus the skew tolerance is before `not_before`.
    NotYetValid {
        /// The token's `not_before` (Unix seconds).
        not_before: u64,
        /// The time checked against.
        now: u64,
    },
    /// The token is bound to another channel.
    WrongChannel {
        /// The channel hash the token grants (never 0 here: 0 grants every channel).
        granted: u64,
        /// The channel hash asked for.
        wanted: u64,
    },
    /// The token does not grant every scope bit asked for.
    WrongScope {
        /// What the token grants.
        granted: Scope,
        /// What was asked for.
        wanted: Scope,
    },
    /// The token names another subject than the presenter.
    WrongSubject,
    /// The first token's issuer is not a configured root (and the token is not self-issued).
    UntrustedRoot,
    /// The first token is self-issued (issuer = subject) by an identity that is not a root.
    SelfSignedNonRoot,
    /// The token, or a token it was delegated from, is revoked.
    Revoked {
        /// Position in the chain of the revoked token (0 = the root-issued one).
        link: usize,
    },
    /// The parent token has delegation depth 0.
    DepthExhausted,
    /// The parent token lacks the delegate scope bit.
    NotDelegable,
    /// The delegator is not the parent token's subject.
    NotSubject,
    /// A delegated token is wider than its parent.
    Widened(Widening),
    /// A chain link does not follow from the previous one (issuer is not the previous subject,
    /// or its parent hash is not the previous token's hash, or the first token is itself
    /// delegated and its parent is missing).
    BrokenChain {
        /// Position in the chain of the link that does not follow.
        link: usize,
    },
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenError::NoToken => f.write_str("no token presented"),
            TokenError::Malformed(m) => write!(f, "malformed token: {m}"),
            TokenError::BadIssuerKey => f.write_str("issuer key is not a valid ed25519 key"),
            TokenError::BadSignature => f.write_str("token signature does not verify"),
            TokenError::Expired { not_after, now } => {
                write!(f, "token expired at {not_after} (now {now})")
            }
            TokenError::NotYetValid { not_before, now } => {
                write!(f, "token not valid before {not_before} (now {now})")
            }
            TokenError::WrongChannel { granted, wanted } => {
                write!(f, "token is for channel {granted:016x}, not {wanted:016x}")
            }
            TokenError::WrongScope { granted, wanted } => {
                write!(f, "token grants {granted}, {wanted} was asked for")
            }
            TokenError::WrongSubject => f.write_str("token was issued to another subject"),
            TokenError::UntrustedRoot => f.write_str("chain does not start at a trusted root"),
            TokenError::SelfSignedNonRoot => {
                f.write_str("self-issued token from an identity that is not a root")
            }
            TokenError::Revoked { link } => write!(f, "token revoked (chain link {link})"),
            TokenError::DepthExhausted => f.write_str("delegation depth exhausted"),
            TokenError::NotDelegable => f.write_str("parent token does not grant delegate"),
            TokenError::NotSubject => f.write_str("delegator is not the parent token's subject"),
            TokenError::Widened(w) => write!(f, "delegated token widens its parent's {w}"),
            TokenError::BrokenChain { link } => write!(f, "token chain broken at link {link}"),
        }
    }
}

impl std::error::Error for TokenError {}

impl From<Malformed> for TokenError {
    fn from(m: Malformed) -> Self {
        TokenError::Malformed(m)
    }
}

impl From<TokenError> for crate::Error {
    fn from(e: TokenError) -> Self {
        crate::Error::InvalidArgument(format!("token: {e}"))
    }
}

impl TokenError {
    /// A short stable name for the reason (for counters and cross-language tests).
    pub fn kind(&self) -> &'static str {
        match self {
            TokenError::NoToken => "no_token",
            TokenError::Malformed(_) => "malformed",
            TokenError::BadIssuerKey => "bad_issuer_key",
            TokenError::BadSignature => "bad_signature",
            TokenError::Expired { .. } => "expired",
            TokenError::NotYetValid { .. } => "not_yet_valid",
            TokenError::WrongChannel { .. } => "wrong_channel",
            TokenError::WrongScope { .. } => "wrong_scope",
            TokenError::WrongSubject => "wrong_subject",
            TokenError::UntrustedRoot => "untrusted_root",
            TokenError::SelfSignedNonRoot => "self_signed_non_root",
            TokenError::Revoked { .. } => "revoked",
            TokenError::DepthExhausted => "depth_exhausted",
            TokenError::NotDelegable => "not_delegable",
            TokenError::NotSubject => "not_subject",
            TokenError::Widened(_) => "widened",
            TokenError::BrokenChain { .. } => "broken_chain",
        }
    }
}
