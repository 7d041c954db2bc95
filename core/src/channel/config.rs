//! Per-channel policy: who may see the channel ([`Visibility`]), which capability tags a
//! publisher or subscriber must hold, whether a permission token is required, an optional rate
//! limit, and the delivery [`Reliability`].
//!
//! Promises: [`ChannelConfig::validate`] rejects configs that cannot work (a private channel with
//! no peer, a zero rate, a malformed tag) with a [`ConfigError`] naming the field;
//! [`ChannelConfig::check_publish`] / [`ChannelConfig::check_subscribe`] decide visibility and
//! capabilities for one peer and say which rule refused. Not here: token verification (the
//! [`super::AuthGuard`] and the token module), subnet geometry (the caller says whether a peer
//! is in the local subnet), enforcing the rate limit (the publish path does that).

use std::fmt;

use super::error::ConfigError;
use crate::identity::NodeId;

/// Who may see a channel.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Visibility {
    /// Every peer of the mesh (the fail-open default).
    #[default]
    Global,
    /// Only peers in the local subnet; gateways do not forward it.
    SubnetLocal,
    /// Only the listed peers (`Visibility::private` sorts and deduplicates them).
    Private(Vec<NodeId>),
}

impl Visibility {
    /// A private visibility over `peers` (sorted and deduplicated).
    pub fn private(peers: impl IntoIterator<Item = NodeId>) -> Visibility {
        let mut v: Vec<NodeId> = peers.into_iter().collect();
        v.sort_unstable();
        v.dedup();
        Visibility::Private(v)
    }

    /// Whether `peer` may see the channel; `same_subnet` says whether it is in our subnet.
    pub fn admits(&self, peer: NodeId, same_subnet: bool) -> bool {
        match self {
            Visibility::Global => true,
            Visibility::SubnetLocal => same_subnet,
            // Lists built by `Visibility::private` are sorted; a hand-built unsorted list is
            // still answered correctly (by a scan, on a miss only).
            Visibility::Private(peers) => {
                peers.binary_search(&peer).is_ok() || peers.contains(&peer)
            }
        }
    }
}

/// A set of capability tags a peer must all hold (empty: no requirement).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CapabilityRequirement {
    tags: Vec<String>,
}

/// Longest capability tag, in bytes.
pub const MAX_TAG_LEN: usize = 64;

impl CapabilityRequirement {
    /// No requirement.
    pub fn none() -> CapabilityRequirement {
        CapabilityRequirement::default()
    }

    /// Requires every tag in `tags` (duplicates are dropped; checked by `validate`).
    pub fn all_of<S: Into<String>>(tags: impl IntoIterator<Item = S>) -> CapabilityRequirement {
        let mut tags: Vec<String> = tags.into_iter().map(Into::into).collect();
        tags.sort_unstable();
        tags.dedup();
        CapabilityRequirement { tags }
    }

    /// The required tags, sorted.
    pub fn tags(&self) -> &[String] {
        &self.tags
    }

    /// The first required tag that `held` lacks, or `None` when every one is held.
    pub fn missing<'a, S: AsRef<str>>(&'a self, held: &[S]) -> Option<&'a str> {
        self.tags
            .iter()
            .find(|t| !held.iter().any(|h| h.as_ref() == t.as_str()))
            .map(String::as_str)
    }

    fn validate(&self, field: &'static str) -> Result<(), ConfigError> {
        for tag in &self.tags {
            let ok = !tag.is_empty()
                && tag.len() <= MAX_TAG_LEN
                && tag.bytes().all(|b| b.is_ascii_graphic());
            if !ok {
                return Err(ConfigError::BadCapabilityTag {
                    field,
                    tag: tag.clone(),
                });
            }
        }
        Ok(())
    }
}

/// How events on a channel are delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reliability {
    /// Sent once; losses are not repaired (the default).
    #[default]
    FireAndForget,
    /// Sent on a reliable stream; each publish reports delivered and failed peers.
    Reliable,
}

/// A token-bucket rate limit on publishes to a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Sustained events per second (at least 1).
    pub per_sec: u32,
    /// Events allowed in a burst (at least 1).
    pub burst: u32,
}

/// The policy of one channel.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChannelConfig {
    /// Who may see the channel.
    pub visibility: Visibility,
    /// Tags a publisher must hold.
    pub publish_caps: CapabilityRequirement,
    /// Tags a subscriber must hold.
    pub subscribe_caps: CapabilityRequirement,
    /// Whether publishers and subscribers must present a valid permission token.
    pub require_token: bool,
    /// Optional rate limit on publishes.
    pub rate_limit: Option<RateLimit>,
    /// Delivery reliability.
    pub reliability: Reliability,
}

/// Why a peer may not publish or subscribe under a config (tokens aside).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessError {
    /// The channel's visibility does not include the peer.
    NotVisible,
    /// The peer lacks a required capability tag.
    MissingCapability(String),
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccessError::NotVisible => f.write_str("the channel is not visible to this peer"),
            AccessError::MissingCapability(t) => write!(f, "missing capability tag {t:?}"),
        }
    }
}

impl std::error::Error for AccessError {}

impl ChannelConfig {
    /// A config with the given visibility and every other field at its default.
    pub fn with_visibility(visibility: Visibility) -> ChannelConfig {
        ChannelConfig {
            visibility,
            ..ChannelConfig::default()
        }
    }

    /// Checks that the config can work; the error names the field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Visibility::Private(p) = &self.visibility
            && p.is_empty()
        {
            return Err(ConfigError::EmptyPeerList);
        }
        if let Some(r) = self.rate_limit {
            if r.per_sec == 0 {
                return Err(ConfigError::ZeroRateLimit { field: "per_sec" });
            }
            if r.burst == 0 {
                return Err(ConfigError::ZeroRateLimit { field: "burst" });
            }
        }
        self.publish_caps.validate("publish_caps")?;
        self.subscribe_caps.validate("subscribe_caps")
    }

    /// Whether `peer` (holding capability tags `held`) may publish, tokens aside.
    pub fn check_publish<S: AsRef<str>>(
        &self,
        peer: NodeId,
        same_subnet: bool,
        held: &[S],
    ) -> Result<(), AccessError> {
        self.check(&self.publish_caps, peer, same_subnet, held)
    }

    /// Whether `peer` (holding capability tags `held`) may subscribe, tokens aside.
    pub fn check_subscribe<S: AsRef<str>>(
        &self,
        peer: NodeId,
        same_subnet: bool,
        held: &[S],
    ) -> Result<(), AccessError> {
        self.check(&self.subscribe_caps, peer, same_subnet, held)
    }

    fn check<S: AsRef<str>>(
        &self,
        caps: &CapabilityRequirement,
        peer: NodeId,
        same_subnet: bool,
        held: &[S],
    ) -> Result<(), AccessError> {
        if !self.visibility.admits(peer, same_subnet) {
            return Err(AccessError::NotVisible);
        }
        match caps.missing(held) {
            Some(tag) => Err(AccessError::MissingCapability(tag.to_string())),
            None => Ok(()),
        }
    }
}
