//! [`TokenVerifier`]: the configured trust anchors (root identities), the revocation state, the
//! clock-skew tolerance and the token cache behind one thread-safe handle. Promises: every
//! answer is what [`super::verify_chain`] would say at that `now` with the current revocations
//! (the cache never returns a result made before a later revocation); `now` is always passed in,
//! never read from a clock. Each revocation also bumps the verifier's [`RevocationEpoch`]
//! ([`TokenVerifier::revocation_epoch`]) once it is recorded, so a cache built on this verifier's
//! answers (the channel layer's auth guard) can drop what it admitted before. Not here: rate
//! limiting of refusals (the auth guard's).

use parking_lot::{Mutex, RwLock};

use super::cache::{DEFAULT_CACHE_CAPACITY, TokenCache};
use super::chain::{Authorized, TokenChain, TrustRoots, verify_chain};
use super::error::TokenError;
use super::issue::VerifyConfig;
use super::revocation::{RevocationEpoch, Revocations};
use super::scope::Scope;
use crate::identity::EntityId;

/// Roots, revocations, skew and cache: everything needed to decide whether a chain grants.
#[derive(Debug)]
pub struct TokenVerifier {
    roots: TrustRoots,
    config: VerifyConfig,
    revocations: RwLock<Revocations>,
    cache: Mutex<TokenCache>,
    epoch: RevocationEpoch,
}

impl TokenVerifier {
    /// A verifier trusting `roots`, with `config`'s skew and a cache of the default size.
    pub fn new(roots: impl IntoIterator<Item = EntityId>, config: VerifyConfig) -> TokenVerifier {
        TokenVerifier::with_cache_capacity(roots, config, DEFAULT_CACHE_CAPACITY)
    }

    /// As [`TokenVerifier::new`] with a cache of `capacity` chains (0 disables caching).
    pub fn with_cache_capacity(
        roots: impl IntoIterator<Item = EntityId>,
        config: VerifyConfig,
        capacity: usize,
    ) -> TokenVerifier {
        TokenVerifier {
            roots: TrustRoots::new(roots),
            config,
            revocations: RwLock::new(Revocations::new()),
            cache: Mutex::new(TokenCache::new(capacity)),
            epoch: RevocationEpoch::new(),
        }
    }

    /// Whether `id` is a configured root.
    pub fn is_root(&self, id: &EntityId) -> bool {
        self.roots.contains(id)
    }

    /// The verification config.
    pub fn config(&self) -> VerifyConfig {
        self.config
    }

    /// Revokes every token `issuer` signed at a generation `<= generation`, and everything
    /// delegated from those tokens. Takes effect on the next call.
    pub fn revoke_generation(&self, issuer: EntityId, generation: u32) {
        self.revocations
            .write()
            .revoke_generation(issuer, generation);
        self.cache.lock().clear();
        self.epoch.bump();
    }

    /// Revokes one token by hash, and everything delegated from it. Takes effect on the next call.
    pub fn revoke_token(&self, hash: [u8; 32]) {
        self.revocations.write().revoke_token(hash);
        self.cache.lock().clear();
        self.epoch.bump();
    }

    /// A handle on the counter bumped after every revocation (see the module docs); the
    /// channel layer's `AuthGuard::watch_revocations` takes it.
    pub fn revocation_epoch(&self) -> RevocationEpoch {
        self.epoch.clone()
    }

    /// Verifies `chain` at `now` (from the cache when the same chain was verified before at the
    /// same revocation epoch and is still inside its window).
    pub fn verify(&self, chain: &TokenChain, now: u64) -> Result<Authorized, TokenError> {
        let leaf = chain.leaf().hash();
        let skew = self.config.skew_secs;
        let revocations = self.revocations.read();
        let epoch = revocations.epoch();
        if let Some(hit) = self.cache.lock().get(&leaf, chain, now, skew, epoch) {
            return Ok(hit);
        }
        let authorized = verify_chain(chain, &self.roots, &revocations, now, &self.config)?;
        self.cache.lock().insert(chain, authorized, epoch);
        Ok(authorized)
    }

    /// Verifies `chain` and checks it lets `subject` do `wanted` on `channel`.
    pub fn authorize(
        &self,
        chain: &TokenChain,
        subject: &EntityId,
        channel: u64,
        wanted: Scope,
        now: u64,
    ) -> Result<Authorized, TokenError> {
        let authorized = self.verify(chain, now)?;
        authorized.permits(subject, channel, wanted)?;
        Ok(authorized)
    }

    /// [`TokenVerifier::authorize`] on an encoded chain (empty bytes = no token).
    pub fn authorize_bytes(
        &self,
        chain: &[u8],
        subject: &EntityId,
        channel: u64,
        wanted: Scope,
        now: u64,
    ) -> Result<Authorized, TokenError> {
        self.authorize(
            &TokenChain::from_bytes(chain)?,
            subject,
            channel,
            wanted,
            now,
        )
    }

    /// Drops cached chains that expired before `now`; returns how many.
    pub fn purge_expired(&self, now: u64) -> usize {
        self.cache.lock().purge_expired(now, self.config.skew_secs)
    }

    /// Cache statistics: (entries, hits, misses).
    pub fn cache_stats(&self) -> (usize, u64, u64) {
        let c = self.cache.lock();
        (c.len(), c.hits(), c.misses())
    }
}
