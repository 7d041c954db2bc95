//! [`MeshError`]: why a [`super::Mesh`] call failed. Each variant wraps the engine's own typed
//! error or names one SDK-level condition; a subscribe the publisher refused carries the
//! publisher's reason ([`MeshError::Denied`]). Not here: retrying or mapping to other languages'
//! error kinds.

use std::fmt;

use net::channel::{NameError, RegistryError};
use net::identity::{IdentityError, KeyFileError};
use net::membership::{AckStatus, DenyReason, PubSubError};
use net::token::TokenError;

/// Why a [`Mesh`](super::Mesh) call failed: the engine's typed error, wrapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeshError {
    /// The channel name is not valid.
    Name(NameError),
    /// The channel could not be registered (bad config, already registered, hash clash).
    Registry(RegistryError),
    /// The node failed (bind, connect, shut down, ...).
    Node(net::mesh::session::MeshError),
    /// A pub/sub call failed (no ack in time, stopped, ...).
    PubSub(PubSubError),
    /// The publisher refused the subscribe, with its reason (`no_token`, `expired`,
    /// `wrong_channel`, `revoked`, `not_visible`, ...).
    Denied(DenyReason),
    /// The publisher answered a subscribe with an ack that is neither `Subscribed` nor a
    /// denial (not expected from a well-behaved publisher).
    Refused(AckStatus),
    /// A token given to this node cannot be presented by it (for example its leaf names
    /// another subject: [`TokenError::WrongSubject`]).
    Token(TokenError),
    /// A revocation was asked of a node built without trust roots (no token verifier).
    NoVerifier,
    /// The identity key file could not be read.
    KeyFile(KeyFileError),
    /// A fresh identity could not be generated.
    Identity(IdentityError),
    /// The guard configuration was rejected.
    Guard(String),
}

impl MeshError {
    /// The publisher's reason when this is a refused subscribe, else `None`.
    pub fn deny_reason(&self) -> Option<DenyReason> {
        match self {
            MeshError::Denied(r) | MeshError::Refused(AckStatus::Denied(r)) => Some(*r),
            _ => None,
        }
    }
}

impl fmt::Display for MeshError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MeshError::Name(e) => write!(f, "mesh: bad channel name: {e}"),
            MeshError::Registry(e) => write!(f, "mesh: {e}"),
            MeshError::Node(e) => write!(f, "mesh: {e}"),
            MeshError::PubSub(e) => write!(f, "mesh: {e}"),
            MeshError::Denied(r) => write!(f, "mesh: subscribe denied by the publisher: {r}"),
            MeshError::Refused(s) => write!(f, "mesh: subscribe refused: {}", s.kind()),
            MeshError::Token(e) => write!(f, "mesh: token cannot be presented: {e}"),
            MeshError::NoVerifier => {
                f.write_str("mesh: no trust roots configured, so there is nothing to revoke")
            }
            MeshError::KeyFile(e) => write!(f, "mesh: {e}"),
            MeshError::Identity(e) => write!(f, "mesh: {e}"),
            MeshError::Guard(e) => write!(f, "mesh: guard config: {e}"),
        }
    }
}

impl std::error::Error for MeshError {}

impl From<NameError> for MeshError {
    fn from(e: NameError) -> Self {
        MeshError::Name(e)
    }
}

impl From<RegistryError> for MeshError {
    fn from(e: RegistryError) -> Self {
        MeshError::Registry(e)
    }
}

impl From<net::mesh::session::MeshError> for MeshError {
    fn from(e: net::mesh::session::MeshError) -> Self {
        MeshError::Node(e)
    }
}

impl From<PubSubError> for MeshError {
    fn from(e: PubSubError) -> Self {
        MeshError::PubSub(e)
    }
}

impl From<TokenError> for MeshError {
    fn from(e: TokenError) -> Self {
        MeshError::Token(e)
    }
}
