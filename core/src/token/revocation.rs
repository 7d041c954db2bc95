//! Revocation state: per issuer, the highest revoked key generation, plus individually revoked
//! token hashes. Promises: a revoked token stays revoked (entries only grow), and because chain
//! verification checks every link, revoking a token also refuses every token delegated from it,
//! however deep. Each change bumps [`Revocations::epoch`] so caches can drop stale results.
//! [`RevocationEpoch`] is the same idea shared across threads: a counter a verifier bumps after
//! every revocation, which caches outside the token module (the channel layer's auth guard)
//! read on their fast path to notice that something they admitted may now be revoked. Not
//! here: how revocations travel between nodes (signed notices are a later step).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

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

/// A shared revocation counter: cloned handles see the same value. A verifier bumps it after
/// each revocation has been recorded, so a reader that sees a new value and then verifies again
/// sees that revocation. Readers compare the value with the one they last saw; any change
/// means "results cached before may be stale".
#[derive(Debug, Clone, Default)]
pub struct RevocationEpoch {
    counter: Arc<AtomicU64>,
}

impl RevocationEpoch {
    /// A new counter at 0.
    pub fn new() -> RevocationEpoch {
        RevocationEpoch::default()
    }

    /// The current value (an acquire load: one plain load on x86).
    #[inline(always)]
    pub fn get(&self) -> u64 {
        self.counter.load(Ordering::Acquire)
    }

    /// Advances the counter (after the revocation it announces is visible to verifiers).
    pub fn bump(&self) {
        self.counter.fetch_add(1, Ordering::AcqRel);
    }

    /// Whether `other` is a handle on the same counter.
    pub fn same_as(&self, other: &RevocationEpoch) -> bool {
        Arc::ptr_eq(&self.counter, &other.counter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_one_counter() {
        let a = RevocationEpoch::new();
        let b = a.clone();
        assert_eq!(b.get(), 0);
        a.bump();
        a.bump();
        assert_eq!(b.get(), 2);
        assert!(a.same_as(&b));
        assert!(!a.same_as(&RevocationEpoch::new()));
    }
}
