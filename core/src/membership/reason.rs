//! [`DenyReason`]: why a subscribe was refused (or a subscriber dropped at publish time), one
//! variant per cause, each with a stable one-byte wire code and a snake_case name.
//!
//! Promises: every [`AccessError`], every [`Denied`] of the auth guard and every [`TokenError`]
//! maps to exactly one reason; codes are never reused. Not here: deciding (see `roster`).

use std::fmt;

use crate::channel::{AccessError, Denied};
use crate::token::TokenError;

/// Why a peer may not be (or stay) on a channel's roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DenyReason {
    /// The channel's visibility does not include the peer.
    NotVisible,
    /// The peer lacks a capability tag the channel requires of subscribers.
    MissingCapability,
    /// The channel requires a token and none was presented.
    NoToken,
    /// The peer failed auth too often; its credential was not checked.
    Throttled,
    /// The token (or one it was delegated from) is past its validity window.
    Expired,
    /// The token is not valid yet.
    NotYetValid,
    /// The token is bound to another channel.
    WrongChannel,
    /// The token does not grant the subscribe scope.
    WrongScope,
    /// The token names another subject than the subscribing peer.
    WrongSubject,
    /// The chain does not start at a configured root.
    UntrustedRoot,
    /// The first token is self-issued by an identity that is not a root.
    SelfSignedNonRoot,
    /// The token, or a token it was delegated from, is revoked.
    Revoked,
    /// A signature in the chain does not verify (or an issuer key is not a valid key).
    BadSignature,
    /// The token bytes are malformed.
    MalformedToken,
    /// The chain is not a valid delegation (broken link, widened grant, depth exhausted,
    /// parent not delegable, delegator not the parent's subject).
    BadChain,
    /// The channel's roster is full.
    RosterFull,
    /// The channel's hash is reserved for the control stream.
    ReservedChannel,
}

const ALL: [DenyReason; 17] = [
    DenyReason::NotVisible,
    DenyReason::MissingCapability,
    DenyReason::NoToken,
    DenyReason::Throttled,
    DenyReason::Expired,
    DenyReason::NotYetValid,
    DenyReason::WrongChannel,
    DenyReason::WrongScope,
    DenyReason::WrongSubject,
    DenyReason::UntrustedRoot,
    DenyReason::SelfSignedNonRoot,
    DenyReason::Revoked,
    DenyReason::BadSignature,
    DenyReason::MalformedToken,
    DenyReason::BadChain,
    DenyReason::RosterFull,
    DenyReason::ReservedChannel,
];

impl DenyReason {
    /// Every reason, in code order.
    pub fn all() -> &'static [DenyReason] {
        &ALL
    }

    /// The wire code (1..=17; 0 means "no reason").
    pub fn code(self) -> u8 {
        match self {
            DenyReason::NotVisible => 1,
            DenyReason::MissingCapability => 2,
            DenyReason::NoToken => 3,
            DenyReason::Throttled => 4,
            DenyReason::Expired => 5,
            DenyReason::NotYetValid => 6,
            DenyReason::WrongChannel => 7,
            DenyReason::WrongScope => 8,
            DenyReason::WrongSubject => 9,
            DenyReason::UntrustedRoot => 10,
            DenyReason::SelfSignedNonRoot => 11,
            DenyReason::Revoked => 12,
            DenyReason::BadSignature => 13,
            DenyReason::MalformedToken => 14,
            DenyReason::BadChain => 15,
            DenyReason::RosterFull => 16,
            DenyReason::ReservedChannel => 17,
        }
    }

    /// The reason of a wire code, `None` for 0 and unknown codes.
    pub fn from_code(code: u8) -> Option<DenyReason> {
        ALL.iter().copied().find(|r| r.code() == code)
    }

    /// A stable snake_case name.
    pub fn kind(self) -> &'static str {
        match self {
            DenyReason::NotVisible => "not_visible",
            DenyReason::MissingCapability => "missing_capability",
            DenyReason::NoToken => "no_token",
            DenyReason::Throttled => "throttled",
            DenyReason::Expired => "expired",
            DenyReason::NotYetValid => "not_yet_valid",
            DenyReason::WrongChannel => "wrong_channel",
            DenyReason::WrongScope => "wrong_scope",
            DenyReason::WrongSubject => "wrong_subject",
            DenyReason::UntrustedRoot => "untrusted_root",
            DenyReason::SelfSignedNonRoot => "self_signed_non_root",
            DenyReason::Revoked => "revoked",
            DenyReason::BadSignature => "bad_signature",
            DenyReason::MalformedToken => "malformed_token",
            DenyReason::BadChain => "bad_chain",
            DenyReason::RosterFull => "roster_full",
            DenyReason::ReservedChannel => "reserved_channel",
        }
    }
}

impl fmt::Display for DenyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind())
    }
}

impl From<&AccessError> for DenyReason {
    fn from(e: &AccessError) -> DenyReason {
        match e {
            AccessError::NotVisible => DenyReason::NotVisible,
            AccessError::MissingCapability(_) => DenyReason::MissingCapability,
        }
    }
}

impl From<&TokenError> for DenyReason {
    fn from(e: &TokenError) -> DenyReason {
        match e {
            TokenError::NoToken => DenyReason::NoToken,
            TokenError::Malformed(_) => DenyReason::MalformedToken,
            TokenError::BadIssuerKey | TokenError::BadSignature => DenyReason::BadSignature,
            TokenError::Expired { .. } => DenyReason::Expired,
            TokenError::NotYetValid { .. } => DenyReason::NotYetValid,
            TokenError::WrongChannel { .. } => DenyReason::WrongChannel,
            TokenError::WrongScope { .. } => DenyReason::WrongScope,
            TokenError::WrongSubject => DenyReason::WrongSubject,
            TokenError::UntrustedRoot => DenyReason::UntrustedRoot,
            TokenError::SelfSignedNonRoot => DenyReason::SelfSignedNonRoot,
            TokenError::Revoked { .. } => DenyReason::Revoked,
            _ => DenyReason::BadChain,
        }
    }
}

impl From<&Denied<TokenError>> for DenyReason {
    fn from(d: &Denied<TokenError>) -> DenyReason {
        match d {
            Denied::Throttled { .. } => DenyReason::Throttled,
            Denied::Rejected(e) => DenyReason::from(e),
            Denied::GrantExpired { .. } => DenyReason::Expired,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for &r in DenyReason::all() {
            assert!(seen.insert(r.code()), "{r} reuses a code");
            assert_eq!(DenyReason::from_code(r.code()), Some(r));
        }
        assert_eq!(DenyReason::from_code(0), None);
        assert_eq!(DenyReason::from_code(200), None);
    }
}
