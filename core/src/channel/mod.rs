//! Channels (layer 6): hierarchical channel names and their hashes, patterns, per-channel
//! configs, the channel registry, and the [`AuthGuard`] per-packet authorization fast path.
//!
//! Promises: a [`ChannelName`] is always valid (strict rules, typed [`NameError`] naming the
//! problem); its canonical 64-bit [`ChannelHash`] and 16-bit wire [`ChannelHint`] are pinned
//! by `tests/cross_lang/wire/channels.json`; everything here is sans-IO (no sockets, no clocks:
//! time comes in as `now` arguments). Not here: membership and publish fan-out over the mesh,
//! token formats and signature checks (the `token` module; the guard takes any [`FullCheck`]).
//! Reference: `docs/channels.md`.

pub mod auth_guard;
mod config;
mod error;
mod hash;
mod name;
mod pattern;
mod rate;
mod registry;

pub use auth_guard::{
    Action, AuthGuard, Denied, FullCheck, Grant, GuardConfig, GuardConfigError, GuardStats,
    PeerToken, SweepReport, TokenCheck, Verdict, token_id,
};
pub use config::{
    AccessError, CapabilityRequirement, ChannelConfig, MAX_TAG_LEN, RateLimit, Reliability,
    Visibility,
};
pub use error::{ConfigError, NameError, PatternError, RegistryError};
pub use hash::{ChannelHash, ChannelHint};
pub use name::{ChannelName, MAX_NAME_LEN, MAX_SEGMENT_LEN, MAX_SEGMENTS, validate};
pub use pattern::ChannelPattern;
pub use rate::{PublishBucket, RateLimited};
pub use registry::{ChannelRegistry, Resolved};
