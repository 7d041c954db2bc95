//! The mesh handshake: Noise `NKpsk0_25519_ChaChaPoly_BLAKE2s` (via `snow`) as a sans-IO state
//! machine, binding both sides to their ed25519 identities.
//!
//! Two messages. The initiator knows the responder's node id and X25519 static key (NK); both
//! sides know the mesh-wide 32-byte PSK. The Noise prologue is
//! `"net-mesh/handshake/v1" || version || initiator node id (LE u64) || responder node id (LE u64)`.
//!
//! - **Init** (initiator -> responder): a cleartext 18-byte preamble (type 1, version, both node
//!   ids) then Noise `psk, e, es` whose encrypted payload is the initiator's ed25519 public key,
//!   a timestamp (LE u64, strictly increasing per initiator, e.g. Unix nanoseconds) and an
//!   ed25519 signature over `"net-mesh/hs-init/v1" || prologue || responder static key ||
//!   timestamp`. The responder checks that the key hashes to the claimed initiator node id,
//!   the signature, and that the timestamp is newer than any it accepted from that node.
//! - **Reply** (responder -> initiator): preamble (type 2) then Noise `e, ee` whose encrypted
//!   payload is the responder's ed25519 public key and its signature over
//!   `"net-mesh/static-key/v1" || static key` (its [`NodeCard`](crate::identity::NodeCard)
//!   signature). The initiator checks the key hashes to the responder node id it dialled and
//!   that the signature binds the static key Noise just proved possession of.
//!
//! Session keys are Noise's `Split()` outputs: the first key protects initiator-to-responder
//! packets, the second responder-to-initiator; they feed [`crate::mesh::crypto`]. The session id
//! is the first 8 bytes (LE) of the final handshake hash, identical on both sides.
//!
//! Promises: no sockets, no clocks (time is an argument), no panics on any input; a wrong PSK,
//! a forged or mismatched identity, a replayed Init and any malformed message are refused with
//! a typed [`HandshakeError`]. The responder is idempotent: an Init it already answered (a retry
//! whose reply was lost) gets the same reply bytes again and no second session. Not promised:
//! identity hiding for the initiator against the responder (the responder learns who called, by
//! design), or protection against a responder that leaks its static key.

mod initiator;
mod message;
mod responder;

pub use initiator::{Initiator, PeerTarget};
pub use message::{INIT_LEN, MessageType, PREAMBLE_LEN, REPLY_LEN};
pub use responder::Responder;

use std::collections::HashSet;
use std::fmt;
use std::time::{Duration, Instant};

use crate::identity::{Identity, NodeId};
use crate::mesh::crypto::SessionKeys;

/// The Noise protocol name.
pub const NOISE_PARAMS: &str = "Noise_NKpsk0_25519_ChaChaPoly_BLAKE2s";
/// Version of the handshake messages (byte 1 of the preamble, and part of the prologue).
pub const HANDSHAKE_VERSION: u8 = 1;
/// Prefix of the Noise prologue.
pub const PROLOGUE_CONTEXT: &[u8] = b"net-mesh/handshake/v1";
/// Prefix of the message the initiator signs.
pub const INIT_SIGNATURE_CONTEXT: &[u8] = b"net-mesh/hs-init/v1";

/// What both roles need: this node's identity, the mesh PSK and the policy knobs.
#[derive(Clone)]
pub struct HandshakeConfig {
    /// This node's identity (its X25519 static key is derived from it).
    pub identity: Identity,
    /// The mesh-wide pre-shared key.
    pub psk: [u8; 32],
    /// If set, the responder accepts only these initiators.
    pub allow: Option<HashSet<NodeId>>,
    /// Initiator: resend Init after this long without a reply.
    pub retransmit_after: Duration,
    /// Initiator: give up after this long.
    pub give_up_after: Duration,
    /// Responder: how long an answered Init is remembered for idempotent replies.
    pub reply_cache_ttl: Duration,
    /// Responder: at most this many answered Inits are remembered (oldest evicted first).
    pub reply_cache_max: usize,
}

impl fmt::Debug for HandshakeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandshakeConfig")
            .field("identity", &self.identity)
            .field("allow", &self.allow)
            .field("retransmit_after", &self.retransmit_after)
            .field("give_up_after", &self.give_up_after)
            .finish_non_exhaustive()
    }
}

impl HandshakeConfig {
    /// A config with default timing: retransmit after 500 ms, give up after 10 s, remember
    /// answered Inits for 30 s (at most 4096).
    pub fn new(identity: Identity, psk: [u8; 32]) -> Self {
        HandshakeConfig {
            identity,
            psk,
            allow: None,
            retransmit_after: Duration::from_millis(500),
            give_up_after: Duration::from_secs(10),
            reply_cache_ttl: Duration::from_secs(30),
            reply_cache_max: 4096,
        }
    }
}

/// A session both sides agreed on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The peer's node id (checked against its ed25519 key).
    pub peer: NodeId,
    /// The peer's ed25519 public key.
    pub peer_public_key: [u8; 32],
    /// Session id, identical on both sides (first 8 bytes of the handshake hash, LE).
    pub session_id: u64,
    /// This side's tx/rx packet keys.
    pub keys: SessionKeys,
    /// Whether this side initiated.
    pub initiator: bool,
}

/// What a handshake step produced besides bytes to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeEvent {
    /// A new session exists.
    Established(Box<Session>),
    /// Responder: a retransmitted Init was answered again; no new session was created.
    Duplicate {
        /// The initiator.
        peer: NodeId,
        /// The session created by the first copy of this Init.
        session_id: u64,
    },
    /// The message was dropped; the handshake (initiator) keeps waiting for a valid reply.
    Rejected(HandshakeError),
    /// The handshake is over without a session (initiator), or this Init was refused (responder).
    Failed(HandshakeError),
}

/// The result of feeding a handshake state machine: bytes to send (if any) and an event (if any).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Output {
    /// A datagram payload to send to the peer.
    pub transmit: Option<Vec<u8>>,
    /// What happened.
    pub event: Option<HandshakeEvent>,
}

impl Output {
    fn event(event: HandshakeEvent) -> Self {
        Output {
            transmit: None,
            event: Some(event),
        }
    }
}

/// Why a handshake message was refused or a handshake failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The message has the wrong length or an unknown type or version.
    Malformed,
    /// The message is not the one expected now (wrong type, other node ids, already finished).
    Unexpected,
    /// The Init is addressed to another node id.
    WrongResponder,
    /// The initiator is not on the allow-list.
    NotAllowed,
    /// Noise decryption failed: wrong PSK, wrong static key, or altered bytes.
    Decrypt,
    /// The presented ed25519 key does not hash to the node id in the preamble.
    IdentityMismatch,
    /// The identity signature does not verify.
    BadSignature,
    /// The Init's timestamp is not newer than one already accepted from that initiator.
    Replayed,
    /// The initiator got no valid reply in time.
    TimedOut,
    /// `snow` refused a parameter (not expected; a bug if seen).
    Internal,
}

impl HandshakeError {
    /// The stable snake_case name of this error.
    pub const fn kind(&self) -> &'static str {
        match self {
            HandshakeError::Malformed => "malformed",
            HandshakeError::Unexpected => "unexpected",
            HandshakeError::WrongResponder => "wrong_responder",
            HandshakeError::NotAllowed => "not_allowed",
            HandshakeError::Decrypt => "decrypt",
            HandshakeError::IdentityMismatch => "identity_mismatch",
            HandshakeError::BadSignature => "bad_signature",
            HandshakeError::Replayed => "replayed",
            HandshakeError::TimedOut => "timed_out",
            HandshakeError::Internal => "internal",
        }
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "handshake: {}", self.kind())
    }
}

impl std::error::Error for HandshakeError {}

impl From<HandshakeError> for crate::Error {
    fn from(e: HandshakeError) -> Self {
        match e {
            HandshakeError::TimedOut => crate::Error::Timeout(e.to_string()),
            HandshakeError::Internal => crate::Error::Internal(e.to_string()),
            other => crate::Error::InvalidArgument(other.to_string()),
        }
    }
}

/// The Noise prologue binding both node ids.
fn prologue(initiator: NodeId, responder: NodeId) -> [u8; 38] {
    let mut p = [0u8; 38];
    p[..21].copy_from_slice(PROLOGUE_CONTEXT);
    p[21] = HANDSHAKE_VERSION;
    p[22..30].copy_from_slice(&initiator.0.to_le_bytes());
    p[30..38].copy_from_slice(&responder.0.to_le_bytes());
    p
}

/// The bytes the initiator signs.
fn init_signed_message(
    prologue: &[u8; 38],
    responder_static: &[u8; 32],
    timestamp: u64,
) -> [u8; 97] {
    let mut m = [0u8; 97];
    m[..19].copy_from_slice(INIT_SIGNATURE_CONTEXT);
    m[19..57].copy_from_slice(prologue);
    m[57..89].copy_from_slice(responder_static);
    m[89..97].copy_from_slice(&timestamp.to_le_bytes());
    m
}

fn builder() -> Result<snow::Builder<'static>, HandshakeError> {
    let params: snow::params::NoiseParams =
        NOISE_PARAMS.parse().map_err(|_| HandshakeError::Internal)?;
    Ok(snow::Builder::new(params))
}

/// Session id and keys of a finished Noise handshake state, in the given role.
fn finish(hs: &mut snow::HandshakeState, initiator: bool) -> (u64, SessionKeys) {
    let mut id = [0u8; 8];
    for (d, s) in id.iter_mut().zip(hs.get_handshake_hash()) {
        *d = *s;
    }
    let (i2r, r2i) = hs.dangerously_get_raw_split();
    let keys = if initiator {
        SessionKeys { tx: i2r, rx: r2i }
    } else {
        SessionKeys { tx: r2i, rx: i2r }
    };
    (u64::from_le_bytes(id), keys)
}

/// `now + d`, saturating far in the future instead of panicking on overflow.
fn later(now: Instant, d: Duration) -> Instant {
    now.checked_add(d)
        .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 24 * 3600)))
        .unwrap_or(now)
}
