//! The token chains a [`super::Mesh`] presents when it subscribes: one per channel name, all
//! for this node's own identity. Promises: a chain is accepted only if its leaf names this
//! node's entity id as subject (otherwise the publisher would refuse it as `wrong_subject`, so
//! the mistake is reported locally as [`TokenError::WrongSubject`] instead); nothing else is
//! checked here (roots, windows and signatures are the publisher's verifier's business). Not
//! here: issuing tokens (`net::token::issue` / `delegate`, or `net token issue`).

use std::collections::HashMap;
use std::sync::Mutex;

use net::channel::ChannelName;
use net::identity::EntityId;
use net::membership::Credential;
use net::token::{TokenChain, TokenError};

/// Per-channel chains for one subject.
#[derive(Debug)]
pub(crate) struct TokenBook {
    subject: EntityId,
    chains: Mutex<HashMap<ChannelName, TokenChain>>,
}

impl TokenBook {
    /// An empty book for `subject` (this node's entity id).
    pub(crate) fn new(subject: EntityId) -> TokenBook {
        TokenBook {
            subject,
            chains: Mutex::new(HashMap::new()),
        }
    }

    /// The credential presenting `chain` as this node, if its leaf is for this node.
    pub(crate) fn credential(&self, chain: &TokenChain) -> Result<Credential, TokenError> {
        if chain.leaf().subject != self.subject {
            return Err(TokenError::WrongSubject);
        }
        Ok(Credential {
            subject: self.subject,
            chain: chain.to_bytes(),
        })
    }

    /// Remembers `chain` for `channel` (replacing an earlier one) after the subject check.
    pub(crate) fn set(&self, channel: ChannelName, chain: TokenChain) -> Result<(), TokenError> {
        self.credential(&chain)?;
        self.lock().insert(channel, chain);
        Ok(())
    }

    /// Forgets the chain of `channel`; returns whether there was one.
    pub(crate) fn remove(&self, channel: &ChannelName) -> bool {
        self.lock().remove(channel).is_some()
    }

    /// The credential to present for `channel`, if a chain is set for it.
    pub(crate) fn credential_for(&self, channel: &ChannelName) -> Option<Credential> {
        let chain = self.lock().get(channel).cloned()?;
        // Only chains that passed the subject check are stored.
        self.credential(&chain).ok()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ChannelName, TokenChain>> {
        // The map is never left half-updated, so a poisoned lock still holds a valid map.
        self.chains.lock().unwrap_or_else(|p| p.into_inner())
    }
}
