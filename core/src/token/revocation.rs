//! Revocation state: per issuer, the highest revoked key generation, plus individually revoked
//! token hashes. Promises: a revoked token stays revoked (entries only grow), and because chain
//! verification checks every link, revoking a token also refuses every token delegated from it,
//! however deep. Each change bumps [`Revocations::epoch`] so caches can drop stale results. Not
//! here: how revocations travel between nodes (signed notices are a later step).

use std::collections::{HashMap, HashSet};

use super::layout::Token;
use crate::identity::EntityId;

/// Revoked issuer generations and revoked token hashes.
#[derive(Debug, Clone, Default)]
pub struct Revocations {
    through_generation: HashMap<EntityId, u32>,
    tokens: HashSet<[u8; 32]>,
    epoch: u64,
}

impl Revocations {
    /// No revocations.
    pub fn new() -> Revocations {
        Revocations::default()
    }

    /// Revokes every token `issuer` signed at a generation `<= generation` (and, through chain
    /// verification, everything delegated from them). Lowering an earlier revocation is ignored.
    pub fn revoke_generation(&mut self, issuer: EntityId, generation: u32) {
        let entry = self.through_generation.entry(issuer).or_insert(generation);
        *entry = (*entry).max(generation);
        self.epoch += 1;
    }

    /// Revokes one token by its [`Token::hash`] (and everything delegated from it).
    pub fn revoke_token(&mut self, hash: [u8; 32]) {
        self.tokens.insert(hash);
        self.epoch += 1;
    }

    /// Whether `token` (whose hash is `hash`) is revoked on its own account.
    pub fn is_revoked(&self, token: &Token, hash: &[u8; 32]) -> bool {
        self.through_generation
            .get(&token.issuer)
            .is_some_and(|&g| token.issuer_generation <= g)
            || self.tokens.contains(hash)
    }

    /// Counts changes; a cached verification made at another epoch is stale.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }
}
