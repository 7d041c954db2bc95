//! [`Roster`]: the sans-IO membership state machine of a publishing node. It answers
//! subscribe / unsubscribe messages with acks, keeps one subscriber roster per channel (plain
//! members and queue groups), and says for each publish which peers receive it.
//!
//! Decisions, in order, for a subscribe of `peer` to `channel` at `now` (Unix seconds):
//! 1. a channel whose hash is [`CONTROL_STREAM`] is refused (`reserved_channel`);
//! 2. the channel's config (its registration in the [`ChannelRegistry`], else the default):
//!    visibility and subscriber capability tags ([`Roster::set_same_subnet`],
//!    [`Roster::set_capabilities`] tell what the roster cannot see itself);
//! 3. when the config has `require_token`: no credential is `no_token`; otherwise the
//!    [`AuthGuard`] decides (cached grant, throttled peer, or a full [`TokenCheck`] against the
//!    [`TokenVerifier`]), each token failure with its own [`DenyReason`]. A credential sent for
//!    a channel that does not require one is ignored;
//! 4. the roster may hold at most `max_members` peers per channel (`roster_full`).
//!
//! A peer is on a channel's roster once: subscribing again replaces its group and credential.
//!
//! **Publish** ([`Roster::fan_out`]): every plain member, and one member per queue group
//! (round robin over the group's members in subscribe order, skipping members that fail the
//! check), re-checked on every call: visibility and capabilities, then for token channels the
//! guard's fast path, falling back to a full check with the stored credential when the grant is
//! gone (expired, swept, revoked). A member that fails is removed from the roster and reported
//! with its reason, so a revocation takes effect on the next publish: the guard watches the
//! verifier's revocation epoch, so revoking a leaf, a parent or an issuer generation through
//! the [`TokenVerifier`] needs no further call.
//!
//! **Eviction**: [`Roster::evict_peer`] (the driver calls it when the failure detector reports
//! a peer `Failed`) removes the peer from every roster and drops its cached grants;
//! [`Roster::sweep`] drops subscribers whose grants expired.
//!
//! Not here: sockets, clocks, sending (see `driver`), publish authorization of the local
//! application (the node publishing is trusted), rate limits.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use super::reason::DenyReason;
use super::wire::{AckStatus, CONTROL_STREAM, Credential, Message};
use crate::channel::{
    Action, AuthGuard, ChannelConfig, ChannelHash, ChannelName, ChannelRegistry, GuardConfig,
    PeerToken, TokenCheck, Verdict,
};
use crate::identity::NodeId;
use crate::token::TokenVerifier;

/// Default most members of one channel's roster.
pub const DEFAULT_MAX_MEMBERS: usize = 4096;

#[derive(Debug, Clone)]
struct Member {
    peer: NodeId,
    credential: Option<Credential>,
}

#[derive(Debug, Default)]
struct Group {
    members: Vec<Member>,
    next: usize,
}

#[derive(Debug)]
struct ChannelRoster {
    name: ChannelName,
    plain: Vec<Member>,
    groups: BTreeMap<String, Group>,
}

impl ChannelRoster {
    fn len(&self) -> usize {
        self.plain.len() + self.groups.values().map(|g| g.members.len()).sum::<usize>()
    }

    fn remove(&mut self, peer: NodeId) -> bool {
        let before = self.len();
        self.plain.retain(|m| m.peer != peer);
        for g in self.groups.values_mut() {
            g.members.retain(|m| m.peer != peer);
        }
        self.groups.retain(|_, g| !g.members.is_empty());
        self.len() != before
    }
}

/// Counters of a [`Roster`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RosterStats {
    /// Subscribes admitted (including re-subscribes).
    pub admitted: u64,
    /// Subscribes denied, by [`DenyReason::kind`].
    pub denied: BTreeMap<&'static str, u64>,
    /// Unsubscribes that removed a member.
    pub unsubscribed: u64,
    /// Members removed because their peer failed.
    pub evicted: u64,
    /// Members removed at publish time because they no longer pass the checks.
    pub dropped: u64,
    /// Members removed by sweeps because their grant expired.
    pub expired: u64,
}

impl RosterStats {
    /// Denials counted under `reason`.
    pub fn denied_for(&self, reason: DenyReason) -> u64 {
        self.denied.get(reason.kind()).copied().unwrap_or(0)
    }
}

/// Who receives one publish.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FanOut {
    /// The peers to send to (plain members, then one per queue group).
    pub peers: Vec<NodeId>,
    /// Members removed because they no longer pass the checks, with the reason.
    pub dropped: Vec<(NodeId, DenyReason)>,
}

/// The subscriber rosters of a publishing node (see the module docs).
pub struct Roster {
    registry: ChannelRegistry,
    guard: AuthGuard,
    verifier: Option<Arc<TokenVerifier>>,
    channels: HashMap<ChannelHash, ChannelRoster>,
    same_subnet: HashSet<NodeId>,
    caps: HashMap<NodeId, Vec<String>>,
    max_members: usize,
    stats: RosterStats,
}

impl std::fmt::Debug for Roster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Roster")
            .field("channels", &self.channels.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Roster {
    /// A roster deciding with `registry`, tokens checked by `verifier` (`None`: token channels
    /// refuse every credential as `untrusted_root`), and an auth guard configured by `guard`.
    /// The guard watches `verifier`'s revocations, so a revocation through the verifier reaches
    /// the subscribers it affects on the next publish.
    pub fn new(
        registry: ChannelRegistry,
        verifier: Option<Arc<TokenVerifier>>,
        guard: GuardConfig,
    ) -> Result<Roster, crate::channel::GuardConfigError> {
        let mut guard = AuthGuard::new(guard)?;
        if let Some(v) = &verifier {
            guard.watch_revocations(v.revocation_epoch());
        }
        Ok(Roster {
            registry,
            guard,
            verifier,
            channels: HashMap::new(),
            same_subnet: HashSet::new(),
            caps: HashMap::new(),
            max_members: DEFAULT_MAX_MEMBERS,
            stats: RosterStats::default(),
        })
    }

    /// Sets the most members of one channel's roster (at least 1).
    pub fn set_max_members(&mut self, max: usize) {
        self.max_members = max.max(1);
    }

    /// The channel registry (changes apply to the next subscribe and publish).
    pub fn registry_mut(&mut self) -> &mut ChannelRegistry {
        &mut self.registry
    }

    /// The channel registry.
    pub fn registry(&self) -> &ChannelRegistry {
        &self.registry
    }

    /// Says whether `peer` is in this node's subnet (for `SubnetLocal` channels; default no).
    pub fn set_same_subnet(&mut self, peer: NodeId, same: bool) {
        if same {
            self.same_subnet.insert(peer);
        } else {
            self.same_subnet.remove(&peer);
        }
    }

    /// Sets the capability tags `peer` holds (default none).
    pub fn set_capabilities(&mut self, peer: NodeId, tags: Vec<String>) {
        self.caps.insert(peer, tags);
    }

    /// The counters.
    pub fn stats(&self) -> &RosterStats {
        &self.stats
    }

    /// The auth guard's counters.
    pub fn guard_stats(&self) -> crate::channel::GuardStats {
        self.guard.stats()
    }

    /// The members of `channel`: (peer, queue group).
    pub fn members(&self, channel: ChannelHash) -> Vec<(NodeId, Option<String>)> {
        let Some(r) = self.channels.get(&channel) else {
            return Vec::new();
        };
        let mut out: Vec<(NodeId, Option<String>)> =
            r.plain.iter().map(|m| (m.peer, None)).collect();
        for (name, g) in &r.groups {
            out.extend(g.members.iter().map(|m| (m.peer, Some(name.clone()))));
        }
        out
    }

    /// Whether `peer` is on `channel`'s roster.
    pub fn is_member(&self, channel: ChannelHash, peer: NodeId) -> bool {
        self.channels.get(&channel).is_some_and(|r| {
            r.plain.iter().any(|m| m.peer == peer)
                || r.groups
                    .values()
                    .any(|g| g.members.iter().any(|m| m.peer == peer))
        })
    }

    /// Handles a message from `peer`; returns the ack to send back (none for acks, which
    /// answer this node's own requests and are the driver's business).
    pub fn handle(&mut self, peer: NodeId, now: u64, msg: &Message) -> Option<Message> {
        match msg {
            Message::Subscribe {
                request_id,
                channel,
                group,
                credential,
            } => {
                let status = match self.subscribe(peer, channel, group, credential, now) {
                    Ok(()) => {
                        self.stats.admitted += 1;
                        AckStatus::Subscribed
                    }
                    Err(r) => {
                        *self.stats.denied.entry(r.kind()).or_insert(0) += 1;
                        AckStatus::Denied(r)
                    }
                };
                Some(Message::Ack {
                    request_id: *request_id,
                    channel: channel.hash(),
                    status,
                })
            }
            Message::Unsubscribe {
                request_id,
                channel,
            } => {
                let hash = channel.hash();
                let removed = self.remove_member(hash, peer);
                if removed {
                    self.stats.unsubscribed += 1;
                    self.guard.revoke(peer, hash, Action::Subscribe);
                }
                Some(Message::Ack {
                    request_id: *request_id,
                    channel: hash,
                    status: if removed {
                        AckStatus::Unsubscribed
                    } else {
                        AckStatus::NotSubscribed
                    },
                })
            }
            Message::Ack { .. } => None,
        }
    }

    fn remove_member(&mut self, hash: ChannelHash, peer: NodeId) -> bool {
        let Some(r) = self.channels.get_mut(&hash) else {
            return false;
        };
        let removed = r.remove(peer);
        if r.len() == 0 {
            self.channels.remove(&hash);
        }
        removed
    }

    fn subscribe(
        &mut self,
        peer: NodeId,
        channel: &ChannelName,
        group: &Option<String>,
        credential: &Option<Credential>,
        now: u64,
    ) -> Result<(), DenyReason> {
        let hash = channel.hash();
        if hash.get() == CONTROL_STREAM {
            return Err(DenyReason::ReservedChannel);
        }
        let config = self.registry.resolve(channel).config;
        let ctx = Ctx {
            same_subnet: &self.same_subnet,
            caps: &self.caps,
            verifier: self.verifier.as_deref(),
        };
        admissible(
            &ctx,
            &mut self.guard,
            config,
            peer,
            hash,
            credential.as_ref(),
            now,
        )?;
        let member = Member {
            peer,
            credential: credential.clone(),
        };
        let max = self.max_members;
        let r = self.channels.entry(hash).or_insert_with(|| ChannelRoster {
            name: channel.clone(),
            plain: Vec::new(),
            groups: BTreeMap::new(),
        });
        r.remove(peer);
        if r.len() >= max {
            if r.len() == 0 {
                self.channels.remove(&hash);
            }
            return Err(DenyReason::RosterFull);
        }
        match group {
            None => r.plain.push(member),
            Some(g) => r.groups.entry(g.clone()).or_default().members.push(member),
        }
        Ok(())
    }

    /// Who receives a publish on `channel` at `now` (see the module docs); members that no
    /// longer pass are removed and reported.
    pub fn fan_out(&mut self, channel: ChannelHash, now: u64) -> FanOut {
        let mut out = FanOut::default();
        self.fan_out_into(channel, now, &mut out);
        out
    }

    /// As [`fan_out`](Self::fan_out), reusing `out` (cleared first).
    pub fn fan_out_into(&mut self, channel: ChannelHash, now: u64, out: &mut FanOut) {
        out.peers.clear();
        out.dropped.clear();
        let Some(mut r) = self.channels.remove(&channel) else {
            return;
        };
        let config = self.registry.resolve_hash(channel).config;
        let ctx = Ctx {
            same_subnet: &self.same_subnet,
            caps: &self.caps,
            verifier: self.verifier.as_deref(),
        };
        let guard = &mut self.guard;
        let mut keep = Vec::with_capacity(r.plain.len());
        for m in std::mem::take(&mut r.plain) {
            match admissible(
                &ctx,
                guard,
                config,
                m.peer,
                channel,
                m.credential.as_ref(),
                now,
            ) {
                Ok(()) => {
                    out.peers.push(m.peer);
                    keep.push(m);
                }
                Err(reason) => out.dropped.push((m.peer, reason)),
            }
        }
        r.plain = keep;
        for g in r.groups.values_mut() {
            let mut tries = g.members.len();
            while tries > 0 && !g.members.is_empty() {
                tries -= 1;
                let i = g.next % g.members.len();
                let m = &g.members[i];
                let peer = m.peer;
                match admissible(
                    &ctx,
                    guard,
                    config,
                    peer,
                    channel,
                    m.credential.as_ref(),
                    now,
                ) {
                    Ok(()) => {
                        out.peers.push(peer);
                        g.next = i + 1;
                        break;
                    }
                    Err(reason) => {
                        out.dropped.push((peer, reason));
                        g.members.remove(i);
                        g.next = i;
                    }
                }
            }
        }
        r.groups.retain(|_, g| !g.members.is_empty());
        self.stats.dropped += out.dropped.len() as u64;
        if r.len() > 0 {
            self.channels.insert(channel, r);
        }
    }

    /// The channel name of a roster, if any peer is subscribed to it.
    pub fn channel_name(&self, channel: ChannelHash) -> Option<&ChannelName> {
        self.channels.get(&channel).map(|r| &r.name)
    }

    /// Removes `peer` from every roster and drops its cached grants; returns from how many
    /// rosters it was removed.
    pub fn evict_peer(&mut self, peer: NodeId) -> usize {
        let hashes: Vec<ChannelHash> = self.channels.keys().copied().collect();
        let n = hashes
            .into_iter()
            .filter(|&h| self.remove_member(h, peer))
            .count();
        self.guard.revoke_peer(peer);
        self.stats.evicted += n as u64;
        n
    }

    /// Evicts expired grants from the guard and removes those subscribers from their rosters;
    /// returns the (peer, channel) pairs removed.
    pub fn sweep(&mut self, now: u64) -> Vec<(NodeId, ChannelHash)> {
        let report = self.guard.sweep(now);
        let mut removed = Vec::new();
        for (peer, channel, action) in report.expired {
            if action == Action::Subscribe && self.remove_member(channel, peer) {
                removed.push((peer, channel));
            }
        }
        self.stats.expired += removed.len() as u64;
        removed
    }

    /// Drops the cached grants obtained with token `token_id`; affected subscribers are
    /// re-checked on the next publish. Not needed after `TokenVerifier::revoke_token` on this
    /// roster's verifier (the guard watches it); for credentials checked elsewhere.
    pub fn revoke_token(&mut self, token_id: u64) -> usize {
        self.guard.revoke_token(token_id)
    }

    /// Drops every cached grant; every subscriber of a token channel is re-checked on the next
    /// publish. Not needed after a revocation through this roster's verifier (the guard watches
    /// its epoch); for changes the roster cannot see.
    pub fn invalidate_grants(&mut self) {
        self.guard.invalidate_all();
    }
}

/// What the checks need besides the guard (borrowed apart from it).
struct Ctx<'a> {
    same_subnet: &'a HashSet<NodeId>,
    caps: &'a HashMap<NodeId, Vec<String>>,
    verifier: Option<&'a TokenVerifier>,
}

/// Visibility, capabilities and (for token channels) the guard: a cached grant admits, a
/// throttled peer is refused, otherwise the credential gets a full check.
fn admissible(
    ctx: &Ctx<'_>,
    guard: &mut AuthGuard,
    config: &ChannelConfig,
    peer: NodeId,
    hash: ChannelHash,
    credential: Option<&Credential>,
    now: u64,
) -> Result<(), DenyReason> {
    let held: &[String] = ctx.caps.get(&peer).map_or(&[], Vec::as_slice);
    config
        .check_subscribe(peer, ctx.same_subnet.contains(&peer), held)
        .map_err(|e| DenyReason::from(&e))?;
    if !config.require_token {
        return Ok(());
    }
    match guard.check_fast(peer, hash, Action::Subscribe, now) {
        Verdict::Admit { .. } => return Ok(()),
        Verdict::Deny { .. } => return Err(DenyReason::Throttled),
        Verdict::NeedsFullCheck => {}
    }
    let Some(cred) = credential else {
        return Err(DenyReason::NoToken);
    };
    let Some(verifier) = ctx.verifier else {
        return Err(DenyReason::UntrustedRoot);
    };
    let token = PeerToken {
        subject: cred.subject,
        chain: &cred.chain,
    };
    guard
        .check_full(
            peer,
            hash,
            Action::Subscribe,
            &token,
            now,
            &TokenCheck::new(verifier),
        )
        .map(|_| ())
        .map_err(|d| DenyReason::from(&d))
}
