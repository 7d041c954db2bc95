//! Channel membership and publish fan-out over the mesh (issue 7, item 4).
//!
//! - [`wire`]: the membership messages (subscribe / unsubscribe / ack) of subprotocol
//!   [`SUBPROTOCOL_MEMBERSHIP`] (`0x0A00`), strictly parsed;
//! - [`reason`]: [`DenyReason`], why a subscribe is refused or a member dropped;
//! - [`roster`]: [`Roster`], the sans-IO state machine of a publishing node: rosters per
//!   channel, queue groups, authorization through the channel registry and the [`AuthGuard`]
//!   (visibility, capabilities, `require_token`, token chains), eviction;
//! - [`driver`]: [`PubSub`], the roster and a subscriber's side on a running `MeshNode`.
//!
//! Promises: nothing here panics on any input from the network; every message that does not
//! parse is counted and dropped; every refusal carries its own reason. Not here: gossip of
//! memberships (a subscriber subscribes at each publisher), replay, ordering across publishers.
//! Reference: `docs/membership.md`.
//!
//! [`AuthGuard`]: crate::channel::AuthGuard

pub mod driver;
pub mod reason;
pub mod roster;
pub mod wire;

pub use driver::{
    ChannelEvent, PubSub, PubSubConfig, PubSubError, PubSubStats, PublishFailure, PublishReport,
};
pub use reason::DenyReason;
pub use roster::{DEFAULT_MAX_MEMBERS, FanOut, Roster, RosterStats};
pub use wire::{
    AckStatus, CONTROL_STREAM, Credential, MAX_GROUP_LEN, MAX_MESSAGE_LEN, Message,
    SUBPROTOCOL_MEMBERSHIP, WireError, valid_group,
};
