//! A bounded cache of verified chains keyed by leaf token hash, so a token presented again skips
//! the ed25519 work. Promises: a hit is returned only for the exact same chain (the ancestors are
//! compared), at the same revocation epoch, and while `now` is inside the chain's window widened
//! by the skew; expired entries are dropped when seen and before any live entry is evicted; when
//! full, the entry expiring soonest is evicted. Not here: locking (the owner wraps it) and
//! negative results (refusals are not cached: rate limiting bad tokens is the auth guard's job).

use std::collections::{BTreeSet, HashMap};

use super::chain::{Authorized, TokenChain};
use super::layout::Token;

/// Default number of cached chains.
pub const DEFAULT_CACHE_CAPACITY: usize = 4096;

#[derive(Debug, Clone)]
struct Entry {
    authorized: Authorized,
    ancestors: Vec<Token>,
    epoch: u64,
}

/// Verified chains by leaf hash, bounded and expiry-aware.
#[derive(Debug, Clone)]
pub struct TokenCache {
    capacity: usize,
    entries: HashMap<[u8; 32], Entry>,
    by_expiry: BTreeSet<(u64, [u8; 32])>,
    hits: u64,
    misses: u64,
}

impl TokenCache {
    /// An empty cache holding at most `capacity` chains (0 disables caching).
    pub fn new(capacity: usize) -> TokenCache {
        TokenCache {
            capacity,
            entries: HashMap::new(),
            by_expiry: BTreeSet::new(),
            hits: 0,
            misses: 0,
        }
    }

    /// Number of cached chains.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Lookups answered from the cache so far.
    pub fn hits(&self) -> u64 {
        self.hits
    }

    /// Lookups not answered from the cache so far.
    pub fn misses(&self) -> u64 {
        self.misses
    }

    /// The cached result for `chain` (whose leaf hash is `leaf`) if it was verified at
    /// `epoch` and `now` is inside its window widened by `skew`.
    pub fn get(
        &mut self,
        leaf: &[u8; 32],
        chain: &TokenChain,
        now: u64,
        skew: u64,
        epoch: u64,
    ) -> Option<Authorized> {
        let Some(entry) = self.entries.get(leaf) else {
            self.misses += 1;
            return None;
        };
        let a = entry.authorized;
        let expired = now > a.not_after.saturating_add(skew);
        if expired || entry.epoch != epoch {
            self.remove(leaf);
            self.misses += 1;
            return None;
        }
        let tokens = chain.tokens();
        let same_chain = entry.ancestors.as_slice() == &tokens[..tokens.len() - 1];
        if !same_chain || now.saturating_add(skew) < a.not_before {
            self.misses += 1;
            return None;
        }
        self.hits += 1;
        Some(a)
    }

    /// Remembers a verified chain (made at revocation `epoch`). When the cache is full the entry
    /// expiring soonest goes first, so expired entries are always evicted before live ones.
    pub fn insert(&mut self, chain: &TokenChain, authorized: Authorized, epoch: u64) {
        if self.capacity == 0 {
            return;
        }
        self.remove(&authorized.leaf);
        while self.entries.len() >= self.capacity {
            let Some(&(_, key)) = self.by_expiry.first() else {
                break;
            };
            self.remove(&key);
        }
        let tokens = chain.tokens();
        self.by_expiry
            .insert((authorized.not_after, authorized.leaf));
        self.entries.insert(
            authorized.leaf,
            Entry {
                authorized,
                ancestors: tokens[..tokens.len() - 1].to_vec(),
                epoch,
            },
        );
    }

    /// Drops every entry whose window ended before `now - skew`; returns how many.
    pub fn purge_expired(&mut self, now: u64, skew: u64) -> usize {
        let mut removed = 0;
        while let Some(&(expiry, key)) = self.by_expiry.first() {
            if expiry.saturating_add(skew) >= now {
                break;
            }
            self.remove(&key);
            removed += 1;
        }
        removed
    }

    /// Drops everything (for example after a revocation).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.by_expiry.clear();
    }

    fn remove(&mut self, leaf: &[u8; 32]) {
        if let Some(e) = self.entries.remove(leaf) {
            self.by_expiry.remove(&(e.authorized.not_after, *leaf));
        }
    }
}
