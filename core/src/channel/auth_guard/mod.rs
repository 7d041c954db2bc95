//! [`AuthGuard`]: the per-packet authorization fast path of a channel.
//!
//! A 4 KiB bloom filter sits in front of an exact set of verified grants keyed by
//! `(peer, channel hash, action)`. [`AuthGuard::check_fast`] answers [`Verdict::Admit`] when a
//! live grant is cached, [`Verdict::Deny`] when the peer is throttled for auth failures, and
//! [`Verdict::NeedsFullCheck`] otherwise. [`AuthGuard::check_full`] runs a pluggable
//! [`FullCheck`] (for example token verification) and caches what it admits; every failure
//! takes a token from the peer's failure bucket, and a peer with an empty bucket gets no more
//! full checks until it refills, so a bad-token storm cannot turn signature verification into a
//! denial of service. [`AuthGuard::sweep`] evicts expired grants and reports them (so the
//! membership layer can drop those subscribers); the `revoke*` and
//! [`AuthGuard::invalidate_all`] calls take effect on the very next check.
//!
//! Transitive revocation: a grant is cached per leaf credential, so the guard cannot see which
//! cached grants were derived from a token that is revoked later (a parent of a delegated token,
//! or every token of an issuer generation). [`AuthGuard::watch_revocations`] ties the guard to a
//! [`RevocationEpoch`] (from `TokenVerifier::revocation_epoch`): the fast path compares it with
//! the value the cache was built at and, when it moved, admits nothing from the cache; the next
//! full check drops every cached grant first and re-verifies. So a revocation through the
//! verifier takes effect on the next check with no call on the guard.
//!
//! Promises: sans-IO and deterministic given the `now` arguments (unix seconds); `check_fast`
//! takes `&self`, does not allocate, lock or touch the limiter unless the cache misses; a grant
//! admits only while `now < expires_at`; the exact set is authoritative (the bloom filter only
//! short-cuts misses). Not here: locking (one guard per task, or share it behind a lock), the
//! token format (the `token` module; [`TokenCheck`] plugs its verifier in), visibility and
//! capabilities (see [`super::ChannelConfig`]).

mod bloom;
mod limiter;
mod mix;
mod token_check;

pub use token_check::{PeerToken, TokenCheck, token_id};

use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};

use self::bloom::Bloom;
use self::limiter::FailureLimiter;
use self::mix::{MixState, PassState, fold_mul, random_seed};
use super::hash::ChannelHash;
use crate::identity::NodeId;
use crate::token::RevocationEpoch;

/// What a peer wants to do on a channel. Grants are per action: a subscribe grant does not
/// admit publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Publish events to the channel.
    Publish,
    /// Receive the channel's events.
    Subscribe,
}

/// What a full check grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    /// Unix second from which the grant no longer admits (the credential's expiry).
    pub expires_at: u64,
    /// An id of the credential (for example a token hash prefix) for [`AuthGuard::revoke_token`];
    /// 0 when there is none.
    pub token_id: u64,
}

/// The fast path's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A live grant is cached.
    Admit {
        /// When the cached grant stops admitting.
        expires_at: u64,
    },
    /// The peer is throttled for auth failures; no full check will run before `until`.
    Deny {
        /// Unix second from which full checks run again.
        until: u64,
    },
    /// Nothing cached: run [`AuthGuard::check_full`].
    NeedsFullCheck,
}

/// Why [`AuthGuard::check_full`] (or [`AuthGuard::check`]) did not admit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied<E> {
    /// The peer failed too often; the verifier was not run.
    Throttled {
        /// Unix second from which full checks run again.
        until: u64,
    },
    /// The verifier rejected the credential, with its reason.
    Rejected(E),
    /// The verifier accepted a grant that had already expired at `now`.
    GrantExpired {
        /// The grant's expiry.
        expires_at: u64,
    },
}

impl<E: fmt::Display> fmt::Display for Denied<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Denied::Throttled { until } => {
                write!(f, "too many auth failures: throttled until {until}")
            }
            Denied::Rejected(e) => write!(f, "unauthorized: {e}"),
            Denied::GrantExpired { expires_at } => {
                write!(f, "unauthorized: grant expired at {expires_at}")
            }
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for Denied<E> {}

/// A pluggable full authorization check (token verification and the like).
///
/// Implemented for closures `Fn(NodeId, ChannelHash, Action, &C, u64) -> Result<Grant, E>`
/// (annotate the credential parameter's type, e.g. `|p, c, a, cred: &[u8], now| ...`).
pub trait FullCheck<C: ?Sized> {
    /// Why a credential is rejected.
    type Error;
    /// Decides whether `peer` may do `action` on `channel` with `credential` at `now`.
    fn full_check(
        &self,
        peer: NodeId,
        channel: ChannelHash,
        action: Action,
        credential: &C,
        now: u64,
    ) -> Result<Grant, Self::Error>;
}

impl<C: ?Sized, E, F> FullCheck<C> for F
where
    F: Fn(NodeId, ChannelHash, Action, &C, u64) -> Result<Grant, E>,
{
    type Error = E;
    fn full_check(
        &self,
        peer: NodeId,
        channel: ChannelHash,
        action: Action,
        credential: &C,
        now: u64,
    ) -> Result<Grant, E> {
        self(peer, channel, action, credential, now)
    }
}

/// Tuning of an [`AuthGuard`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuardConfig {
    /// Auth failures a peer may have in a burst before it is throttled (default 16).
    pub failure_burst: u32,
    /// Seconds in which a peer's failure bucket refills completely (default 60).
    pub failure_window_secs: u32,
    /// Seconds a peer stays throttled once its bucket is empty (default 30).
    pub throttle_secs: u32,
    /// Most cached grants; beyond it admitted grants are not cached (default 1 048 576).
    pub max_entries: usize,
}

impl Default for GuardConfig {
    fn default() -> Self {
        GuardConfig {
            failure_burst: 16,
            failure_window_secs: 60,
            throttle_secs: 30,
            max_entries: 1 << 20,
        }
    }
}

/// Why a [`GuardConfig`] is rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardConfigError {
    /// A field that must be at least 1 is 0.
    Zero(&'static str),
}

impl fmt::Display for GuardConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GuardConfigError::Zero(field) => write!(f, "auth guard config: {field} must be >= 1"),
        }
    }
}

impl std::error::Error for GuardConfigError {}

/// Counters of an [`AuthGuard`] (the fast path keeps none, to stay free of shared writes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GuardStats {
    /// Full checks that ran the verifier.
    pub verified: u64,
    /// Full checks that admitted.
    pub admitted: u64,
    /// Full checks the verifier rejected (each took a failure token).
    pub rejected: u64,
    /// Full checks refused without running the verifier (peer throttled).
    pub throttled: u64,
    /// Admitted grants not cached because the set was full.
    pub not_cached: u64,
    /// Grants evicted by sweeps because they expired.
    pub expired: u64,
    /// Grants removed by revocation calls.
    pub revoked: u64,
}

/// Result of [`AuthGuard::sweep`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// The grants that expired and were evicted: (peer, channel, action).
    pub expired: Vec<(NodeId, ChannelHash, Action)>,
    /// Failure buckets forgotten because the peer recovered.
    pub peers_pruned: usize,
}

/// A cache key with its hash, computed once per check and used by both the bloom filter and
/// the exact set (whose hasher passes it through).
#[derive(Debug, Clone, Copy)]
struct Key {
    h: u64,
    peer: u64,
    channel: u64,
    action: Action,
}

impl PartialEq for Key {
    #[inline(always)]
    fn eq(&self, other: &Key) -> bool {
        self.peer == other.peer && self.channel == other.channel && self.action == other.action
    }
}

impl Eq for Key {}

impl Hash for Key {
    #[inline(always)]
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.h);
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    expires_at: u64,
    token_id: u64,
}

/// The per-packet authorization cache with a failure limiter (see the module docs).
pub struct AuthGuard {
    config: GuardConfig,
    seed: u64,
    bloom: Bloom,
    verified: HashMap<Key, Entry, PassState>,
    limiter: FailureLimiter,
    /// Keys removed since the bloom filter was last rebuilt.
    stale: usize,
    stats: GuardStats,
    /// The watched revocation counter and the value the cached grants were made at.
    revocations: Option<(RevocationEpoch, u64)>,
}

impl fmt::Debug for AuthGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthGuard")
            .field("config", &self.config)
            .field("entries", &self.verified.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Default for AuthGuard {
    fn default() -> Self {
        AuthGuard::build(GuardConfig::default())
    }
}

impl AuthGuard {
    /// A guard with `config`.
    pub fn new(config: GuardConfig) -> Result<AuthGuard, GuardConfigError> {
        if config.failure_burst == 0 {
            return Err(GuardConfigError::Zero("failure_burst"));
        }
        if config.failure_window_secs == 0 {
            return Err(GuardConfigError::Zero("failure_window_secs"));
        }
        if config.max_entries == 0 {
            return Err(GuardConfigError::Zero("max_entries"));
        }
        Ok(AuthGuard::build(config))
    }

    fn build(config: GuardConfig) -> AuthGuard {
        AuthGuard {
            config,
            seed: random_seed() | 1,
            bloom: Bloom::new(),
            verified: HashMap::with_hasher(PassState),
            limiter: FailureLimiter::new(
                config.failure_burst,
                config.failure_window_secs,
                config.throttle_secs,
                MixState::new(random_seed()),
            ),
            stale: 0,
            stats: GuardStats::default(),
            revocations: None,
        }
    }

    /// The key of `(peer, channel, action)` with its keyed hash: one 64x64->128 multiply of
    /// the seeded peer id by the seeded channel hash (wyhash's mixing step).
    #[inline(always)]
    fn key(&self, peer: NodeId, channel: ChannelHash, action: Action) -> Key {
        let c = channel.get() ^ (action as u64);
        Key {
            h: fold_mul(
                peer.0 ^ self.seed,
                c ^ self.seed.rotate_left(32) ^ 0xA076_1D64_78BD_642F,
            ),
            peer: peer.0,
            channel: channel.get(),
            action,
        }
    }

    /// The guard's configuration.
    pub fn config(&self) -> &GuardConfig {
        &self.config
    }

    /// Ties the cache to `epoch` (see the module docs): from now on, whenever the counter has
    /// moved since the cached grants were made, the fast path admits nothing from the cache and
    /// the next full check (or [`admit`](Self::admit), [`sweep`](Self::sweep)) drops them all
    /// first. Grants cached before this call are dropped now. Replaces an earlier watch.
    pub fn watch_revocations(&mut self, epoch: RevocationEpoch) {
        let seen = epoch.get();
        self.revocations = Some((epoch, seen));
        self.invalidate_all();
    }

    /// Whether the cached grants were made at the watched epoch's current value (always true
    /// without a watch).
    #[inline(always)]
    fn cache_current(&self) -> bool {
        match &self.revocations {
            None => true,
            Some((epoch, seen)) => epoch.get() == *seen,
        }
    }

    /// Drops every cached grant if the watched epoch moved; returns whether it did.
    fn sync_revocations(&mut self) -> bool {
        let Some((epoch, seen)) = &mut self.revocations else {
            return false;
        };
        let now = epoch.get();
        if now == *seen {
            return false;
        }
        *seen = now;
        self.invalidate_all();
        true
    }

    /// The per-packet check: cached grant, throttled peer, or "run the full check".
    #[inline]
    pub fn check_fast(
        &self,
        peer: NodeId,
        channel: ChannelHash,
        action: Action,
        now: u64,
    ) -> Verdict {
        let key = self.key(peer, channel, action);
        if self.bloom.may_contain(key.h)
            && self.cache_current()
            && let Some(e) = self.verified.get(&key)
            && now < e.expires_at
        {
            return Verdict::Admit {
                expires_at: e.expires_at,
            };
        }
        match self.limiter.throttled_until(peer.0, now) {
            Some(until) => Verdict::Deny { until },
            None => Verdict::NeedsFullCheck,
        }
    }

    /// Runs `verifier` unless the peer is throttled; caches an admitted grant, counts a
    /// rejection against the peer's failure bucket.
    pub fn check_full<C: ?Sized, V: FullCheck<C>>(
        &mut self,
        peer: NodeId,
        channel: ChannelHash,
        action: Action,
        credential: &C,
        now: u64,
        verifier: &V,
    ) -> Result<Grant, Denied<V::Error>> {
        // Before verifying: a revocation after this point moves the epoch again, so a grant
        // the verifier admits on stale revocations is dropped on the next check.
        self.sync_revocations();
        if let Some(until) = self.limiter.throttled_until(peer.0, now) {
            self.stats.throttled += 1;
            return Err(Denied::Throttled { until });
        }
        self.stats.verified += 1;
        match verifier.full_check(peer, channel, action, credential, now) {
            Ok(grant) if grant.expires_at <= now => Err(Denied::GrantExpired {
                expires_at: grant.expires_at,
            }),
            Ok(grant) => {
                self.stats.admitted += 1;
                self.insert(self.key(peer, channel, action), grant);
                Ok(grant)
            }
            Err(e) => {
                self.stats.rejected += 1;
                self.limiter.record_failure(peer.0, now);
                Err(Denied::Rejected(e))
            }
        }
    }

    /// The fast check, then the full check when nothing is cached.
    pub fn check<C: ?Sized, V: FullCheck<C>>(
        &mut self,
        peer: NodeId,
        channel: ChannelHash,
        action: Action,
        credential: &C,
        now: u64,
        verifier: &V,
    ) -> Result<(), Denied<V::Error>> {
        match self.check_fast(peer, channel, action, now) {
            Verdict::Admit { .. } => Ok(()),
            Verdict::Deny { until } => {
                self.stats.throttled += 1;
                Err(Denied::Throttled { until })
            }
            Verdict::NeedsFullCheck => self
                .check_full(peer, channel, action, credential, now, verifier)
                .map(|_| ()),
        }
    }

    /// Caches a grant obtained elsewhere (for example verified on another path).
    pub fn admit(&mut self, peer: NodeId, channel: ChannelHash, action: Action, grant: Grant) {
        self.sync_revocations();
        self.insert(self.key(peer, channel, action), grant);
    }

    fn insert(&mut self, key: Key, grant: Grant) {
        if self.verified.len() >= self.config.max_entries && !self.verified.contains_key(&key) {
            self.stats.not_cached += 1;
            return;
        }
        self.bloom.insert(key.h);
        self.verified.insert(
            key,
            Entry {
                expires_at: grant.expires_at,
                token_id: grant.token_id,
            },
        );
    }

    /// Evicts grants with `expires_at <= now`, rebuilds the bloom filter, forgets recovered
    /// peers' failure buckets, and reports what expired.
    pub fn sweep(&mut self, now: u64) -> SweepReport {
        self.sync_revocations();
        let mut expired = Vec::new();
        self.verified.retain(|k, e| {
            let live = now < e.expires_at;
            if !live {
                let channel = ChannelHash::from_u64(k.channel);
                if let Some(channel) = channel {
                    expired.push((NodeId(k.peer), channel, k.action));
                }
            }
            live
        });
        self.stats.expired += expired.len() as u64;
        self.rebuild_bloom();
        SweepReport {
            expired,
            peers_pruned: self.limiter.prune(now),
        }
    }

    /// Removes the grants for which `pred(peer, channel, action, token_id)` is true; returns
    /// how many. Takes effect on the next check.
    pub fn revoke_where(
        &mut self,
        mut pred: impl FnMut(NodeId, ChannelHash, Action, u64) -> bool,
    ) -> usize {
        let before = self.verified.len();
        self.verified.retain(|k, e| {
            let channel = ChannelHash::from_u64(k.channel);
            !channel.is_some_and(|c| pred(NodeId(k.peer), c, k.action, e.token_id))
        });
        let removed = before - self.verified.len();
        self.after_removal(removed);
        removed
    }

    /// Removes one grant; returns whether it was cached.
    pub fn revoke(&mut self, peer: NodeId, channel: ChannelHash, action: Action) -> bool {
        let removed = self
            .verified
            .remove(&self.key(peer, channel, action))
            .is_some();
        self.after_removal(usize::from(removed));
        removed
    }

    /// Removes every grant of `peer`.
    pub fn revoke_peer(&mut self, peer: NodeId) -> usize {
        self.revoke_where(|p, _, _, _| p == peer)
    }

    /// Removes every grant on `channel`.
    pub fn revoke_channel(&mut self, channel: ChannelHash) -> usize {
        self.revoke_where(|_, c, _, _| c == channel)
    }

    /// Removes every grant obtained with the credential `token_id` (0 matches nothing).
    pub fn revoke_token(&mut self, token_id: u64) -> usize {
        if token_id == 0 {
            return 0;
        }
        self.revoke_where(|_, _, _, t| t == token_id)
    }

    /// Drops every cached grant (for revocations whose reach the guard cannot see, such as an
    /// issuer generation bump): every peer goes through a full check again.
    pub fn invalidate_all(&mut self) {
        let n = self.verified.len();
        self.verified.clear();
        self.bloom.clear();
        self.stale = 0;
        self.stats.revoked += n as u64;
    }

    fn after_removal(&mut self, removed: usize) {
        self.stats.revoked += removed as u64;
        self.stale += removed;
        // Stale bloom bits only cost false positives; rebuild once they could matter.
        if self.stale > 64 && self.stale * 2 > self.verified.len() {
            self.rebuild_bloom();
        }
    }

    fn rebuild_bloom(&mut self) {
        self.bloom.clear();
        for k in self.verified.keys() {
            self.bloom.insert(k.h);
        }
        self.stale = 0;
    }

    /// Cached grants.
    pub fn len(&self) -> usize {
        self.verified.len()
    }

    /// Whether no grant is cached.
    pub fn is_empty(&self) -> bool {
        self.verified.is_empty()
    }

    /// Peers the failure limiter currently tracks.
    pub fn tracked_peers(&self) -> usize {
        self.limiter.tracked()
    }

    /// The counters.
    pub fn stats(&self) -> GuardStats {
        self.stats
    }
}
