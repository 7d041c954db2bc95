//! [`TokenCheck`]: the [`FullCheck`] backed by the token module's [`TokenVerifier`].
//!
//! The credential is a [`PeerToken`]: the presenter's entity id (its ed25519 public key) and an
//! encoded token chain. The check requires the entity id to derive the peer's node id (so a peer
//! cannot present another identity's token), then asks the verifier whether the chain lets that
//! subject do the action (publish or subscribe scope) on the channel's canonical hash.
//!
//! The grant expires one second after the chain's earliest `not_after` plus the verifier's skew
//! tolerance (the first second the verifier would refuse it), and carries [`token_id`] of the
//! leaf token for [`super::AuthGuard::revoke_token`]. A guard that watches the verifier's
//! revocations (`guard.watch_revocations(verifier.revocation_epoch())`) needs nothing more: any
//! revocation, of a leaf, a parent or an issuer generation, reaches its cached grants on the
//! next check. Without the watch, call `guard.revoke_token(token_id(&hash))` after
//! `TokenVerifier::revoke_token` and `guard.invalidate_all()` after a revocation whose reach the
//! guard cannot see (a parent's, a generation's).

use super::{Action, FullCheck, Grant};
use crate::channel::ChannelHash;
use crate::identity::{EntityId, NodeId};
use crate::token::{Scope, TokenError, TokenVerifier};

/// A presented credential: who presents it and the encoded token chain (empty = no token).
#[derive(Debug, Clone, Copy)]
pub struct PeerToken<'a> {
    /// The presenter's entity id; its node id must be the peer's.
    pub subject: EntityId,
    /// The encoded chain (`TokenChain::to_bytes`).
    pub chain: &'a [u8],
}

/// The guard's id of a token: the first 8 bytes (LE) of its hash, never 0.
pub fn token_id(hash: &[u8; 32]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&hash[..8]);
    u64::from_le_bytes(b).max(1)
}

/// A [`FullCheck`] that verifies token chains with a [`TokenVerifier`].
#[derive(Debug, Clone, Copy)]
pub struct TokenCheck<'v> {
    verifier: &'v TokenVerifier,
}

impl<'v> TokenCheck<'v> {
    /// A check backed by `verifier`.
    pub fn new(verifier: &'v TokenVerifier) -> TokenCheck<'v> {
        TokenCheck { verifier }
    }
}

impl<'a> FullCheck<PeerToken<'a>> for TokenCheck<'_> {
    type Error = TokenError;

    fn full_check(
        &self,
        peer: NodeId,
        channel: ChannelHash,
        action: Action,
        credential: &PeerToken<'a>,
        now: u64,
    ) -> Result<Grant, TokenError> {
        if credential.subject.node_id() != peer {
            return Err(TokenError::WrongSubject);
        }
        let wanted = match action {
            Action::Publish => Scope::PUBLISH,
            Action::Subscribe => Scope::SUBSCRIBE,
        };
        let authorized = self.verifier.authorize_bytes(
            credential.chain,
            &credential.subject,
            channel.get(),
            wanted,
            now,
        )?;
        Ok(Grant {
            expires_at: authorized
                .not_after
                .saturating_add(self.verifier.config().skew_secs)
                .saturating_add(1),
            token_id: token_id(&authorized.leaf),
        })
    }
}
