//! Issuing a token and verifying one token on its own: its signature and its validity window at
//! an explicit `now` with a configurable clock-skew tolerance. Promises: [`issue`] refuses an
//! inverted window; [`verify`] is deterministic in its inputs (no clock is read here). Not here:
//! whether the issuer is trusted (that is [`super::chain`]) or revoked ([`super::revocation`]).

use ed25519_dalek::{Signature, VerifyingKey};

use super::error::{Malformed, TokenError};
use super::layout::Token;
use super::scope::Scope;
use crate::identity::{EntityId, Identity};

/// Default clock-skew tolerance: 30 seconds either side of the window.
pub const DEFAULT_SKEW_SECS: u64 = 30;

/// How lenient verification is about clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyConfig {
    /// Seconds a token is still accepted before `not_before` and after `not_after`.
    pub skew_secs: u64,
}

impl Default for VerifyConfig {
    fn default() -> Self {
        VerifyConfig {
            skew_secs: DEFAULT_SKEW_SECS,
        }
    }
}

/// What a new token grants; the issuer, parent and signature are filled in by [`issue`] or
/// [`super::delegate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    /// Whom the token is for.
    pub subject: EntityId,
    /// Actions granted.
    pub scope: Scope,
    /// Channel hash granted ([`super::ANY_CHANNEL`] = every channel).
    pub channel: u64,
    /// First valid second (Unix time, inclusive).
    pub not_before: u64,
    /// Last valid second (Unix time, inclusive).
    pub not_after: u64,
    /// Further delegation steps the subject may make.
    pub depth: u8,
    /// Caller-chosen value distinguishing otherwise identical tokens.
    pub nonce: u64,
}

/// Signs a token carrying `grant` with `issuer` at `generation`, delegated from `parent`
/// (all zero for a directly issued token). Shared by [`issue`] and [`super::delegate`].
pub(crate) fn sign(
    issuer: &Identity,
    generation: u32,
    grant: &Grant,
    parent: [u8; 32],
) -> Result<Token, TokenError> {
    if grant.not_before > grant.not_after {
        return Err(Malformed::InvertedWindow {
            not_before: grant.not_before,
            not_after: grant.not_after,
        }
        .into());
    }
    let mut token = Token {
        scope: grant.scope,
        depth: grant.depth,
        issuer: issuer.entity_id(),
        subject: grant.subject,
        channel: grant.channel,
        not_before: grant.not_before,
        not_after: grant.not_after,
        issuer_generation: generation,
        nonce: grant.nonce,
        parent,
        signature: [0; 64],
    };
    token.signature = issuer.sign(&token.signed_bytes());
    Ok(token)
}

/// Issues a token (not delegated from another) signed by `issuer` at its key `generation`.
/// Only tokens whose issuer is a configured root start a valid chain; anyone can issue, but a
/// non-root's own tokens are refused by [`super::TokenVerifier`].
pub fn issue(issuer: &Identity, generation: u32, grant: &Grant) -> Result<Token, TokenError> {
    sign(issuer, generation, grant, [0; 32])
}

/// Checks the token's ed25519 signature (strict verification) against its issuer key.
pub fn verify_signature(token: &Token) -> Result<(), TokenError> {
    let key =
        VerifyingKey::from_bytes(token.issuer.as_bytes()).map_err(|_| TokenError::BadIssuerKey)?;
    verify_signature_with(token, &key)
}

/// [`verify_signature`] with the issuer's key already decompressed (saves the point
/// decompression for keys seen often, such as roots). `key` must be the token's issuer key.
pub(crate) fn verify_signature_with(token: &Token, key: &VerifyingKey) -> Result<(), TokenError> {
    key.verify_strict(
        &token.signed_bytes(),
        &Signature::from_bytes(&token.signature),
    )
    .map_err(|_| TokenError::BadSignature)
}

/// Checks that `now` (Unix seconds) is inside the window widened by the skew tolerance.
pub fn check_window(token: &Token, now: u64, config: &VerifyConfig) -> Result<(), TokenError> {
    if now.saturating_add(config.skew_secs) < token.not_before {
        return Err(TokenError::NotYetValid {
            not_before: token.not_before,
            now,
        });
    }
    if now > token.not_after.saturating_add(config.skew_secs) {
        return Err(TokenError::Expired {
            not_after: token.not_after,
            now,
        });
    }
    Ok(())
}

/// Verifies one token on its own: signature, then window. Trust and revocation are checked by
/// [`super::TokenVerifier`].
pub fn verify(token: &Token, now: u64, config: &VerifyConfig) -> Result<(), TokenError> {
    verify_signature(token)?;
    check_window(token, now, config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(subject: EntityId) -> Grant {
        Grant {
            subject,
            scope: Scope::PUBLISH,
            channel: 5,
            not_before: 1_000,
            not_after: 2_000,
            depth: 0,
            nonce: 1,
        }
    }

    #[test]
    fn issue_verify_window_and_skew() {
        let root = Identity::from_seed(&[1; 32]);
        let sub = Identity::from_seed(&[2; 32]).entity_id();
        let t = issue(&root, 0, &grant(sub)).unwrap();
        let cfg = VerifyConfig { skew_secs: 10 };
        assert_eq!(verify(&t, 1_500, &cfg), Ok(()));
        assert_eq!(verify(&t, 990, &cfg), Ok(()));
        assert_eq!(verify(&t, 2_010, &cfg), Ok(()));
        assert_eq!(
            verify(&t, 989, &cfg),
            Err(TokenError::NotYetValid {
                not_before: 1_000,
                now: 989
            })
        );
        assert_eq!(
            verify(&t, 2_011, &cfg),
            Err(TokenError::Expired {
                not_after: 2_000,
                now: 2_011
            })
        );
        let mut forged = t;
        forged.channel = 6;
        assert_eq!(verify(&forged, 1_500, &cfg), Err(TokenError::BadSignature));
        let mut g = grant(sub);
        g.not_before = 3_000;
        assert!(matches!(
            issue(&root, 0, &g),
            Err(TokenError::Malformed(Malformed::InvertedWindow { .. }))
        ));
        // Extreme times do not overflow.
        let mut wide = grant(sub);
        wide.not_before = 0;
        wide.not_after = u64::MAX;
        let t = issue(&root, 0, &wide).unwrap();
        assert_eq!(
            verify(
                &t,
                u64::MAX,
                &VerifyConfig {
                    skew_secs: u64::MAX
                }
            ),
            Ok(())
        );
    }
}
