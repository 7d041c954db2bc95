//! Errors of the session layer and the UDP node.

use std::fmt;

use crate::identity::{IdentityError, NodeId};
use crate::mesh::crypto::CryptoError;
use crate::mesh::handshake::HandshakeError;
use crate::mesh::stream::StreamError;

/// Why a mesh call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MeshError {
    /// No established session with this peer.
    NotConnected(NodeId),
    /// The stream was not opened on this peer's session.
    UnknownStream {
        /// The peer.
        peer: NodeId,
        /// The stream id.
        stream_id: u64,
    },
    /// The stream is already open with another mode (or another [`StreamTag`](crate::mesh::stream::StreamTag)).
    StreamModeConflict {
        /// The peer.
        peer: NodeId,
        /// The stream id.
        stream_id: u64,
    },
    /// The stream refused the event (backpressure, too large).
    Stream(StreamError),
    /// Sealing failed (e.g. the session's nonces are exhausted).
    Crypto(CryptoError),
    /// The handshake could not start or failed.
    Handshake(HandshakeError),
    /// A peer card did not verify.
    Identity(IdentityError),
    /// A socket operation failed (the node only).
    Io {
        /// The I/O error kind.
        kind: std::io::ErrorKind,
        /// Its message.
        message: String,
    },
    /// The node is not a neighbour this node can send through (no session with a direct
    /// address), or not a node that can be dialled through one.
    NotNeighbour(NodeId),
    /// A bounded wait ended first.
    Timeout,
    /// The node was shut down.
    ShutDown,
}

impl MeshError {
    /// Stable snake_case name.
    pub fn kind(&self) -> &'static str {
        match self {
            MeshError::NotConnected(_) => "not_connected",
            MeshError::UnknownStream { .. } => "unknown_stream",
            MeshError::StreamModeConflict { .. } => "stream_mode_conflict",
            MeshError::Stream(e) => e.kind(),
            MeshError::Crypto(e) => e.kind(),
            MeshError::Handshake(e) => e.kind(),
            MeshError::Identity(_) => "identity",
            MeshError::Io { .. } => "io",
            MeshError::NotNeighbour(_) => "not_neighbour",
            MeshError::Timeout => "timeout",
            MeshError::ShutDown => "shut_down",
        }
    }

    /// Whether this is the credit window refusing an event (retry after the receiver reads).
    pub fn is_backpressure(&self) -> bool {
        matches!(self, MeshError::Stream(StreamError::Backpressure { .. }))
    }
}

impl fmt::Display for MeshError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MeshError::NotConnected(p) => write!(f, "no session with node {:016x}", p.0),
            MeshError::UnknownStream { peer, stream_id } => {
                write!(f, "stream {stream_id} is not open to node {:016x}", peer.0)
            }
            MeshError::StreamModeConflict { peer, stream_id } => write!(
                f,
                "stream {stream_id} to node {:016x} is open with another mode or tag",
                peer.0
            ),
            MeshError::Stream(e) => write!(f, "{e}"),
            MeshError::Crypto(e) => write!(f, "crypto: {e}"),
            MeshError::Handshake(e) => write!(f, "{e}"),
            MeshError::Identity(e) => write!(f, "identity: {e}"),
            MeshError::Io { kind, message } => write!(f, "socket ({kind:?}): {message}"),
            MeshError::NotNeighbour(p) => write!(
                f,
                "node {:016x} is not a directly connected neighbour to relay through",
                p.0
            ),
            MeshError::Timeout => f.write_str("timed out"),
            MeshError::ShutDown => f.write_str("mesh node is shut down"),
        }
    }
}

impl std::error::Error for MeshError {}

impl From<StreamError> for MeshError {
    fn from(e: StreamError) -> Self {
        MeshError::Stream(e)
    }
}

impl From<CryptoError> for MeshError {
    fn from(e: CryptoError) -> Self {
        MeshError::Crypto(e)
    }
}

impl From<HandshakeError> for MeshError {
    fn from(e: HandshakeError) -> Self {
        MeshError::Handshake(e)
    }
}

impl From<IdentityError> for MeshError {
    fn from(e: IdentityError) -> Self {
        MeshError::Identity(e)
    }
}

impl From<std::io::Error> for MeshError {
    fn from(e: std::io::Error) -> Self {
        MeshError::Io {
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

impl From<MeshError> for crate::Error {
    fn from(e: MeshError) -> Self {
        match e {
            // The bus's Backpressure names a shard; the mesh has none, so shard 0.
            MeshError::Stream(StreamError::Backpressure { .. }) => {
                crate::Error::Backpressure { shard: 0 }
            }
            MeshError::Stream(StreamError::EventTooLarge { len, max }) => {
                crate::Error::PayloadTooLarge { size: len, max }
            }
            MeshError::Timeout => crate::Error::Timeout("mesh: timed out".into()),
            MeshError::ShutDown => crate::Error::ShuttingDown,
            MeshError::Io { .. } => crate::Error::Internal(format!("mesh: {e}")),
            other => crate::Error::InvalidArgument(format!("mesh: {other}")),
        }
    }
}
