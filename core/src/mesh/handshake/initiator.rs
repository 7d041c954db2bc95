//! The initiating side: sends Init, resends it on a timer, accepts the first valid Reply.

use std::time::Instant;

use super::message::{INIT_PAYLOAD_LEN, MessageType, Preamble};
use super::{
    HandshakeConfig, HandshakeError, HandshakeEvent, Output, Session, builder, finish,
    init_signed_message, later, prologue,
};
use crate::identity::{NodeCard, NodeId};

/// Whom the initiator dials: the responder's node id and X25519 static key (from its card or
/// configuration). The responder's ed25519 key is learned and checked during the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerTarget {
    /// The responder's node id.
    pub node_id: NodeId,
    /// The responder's X25519 static public key.
    pub static_key: [u8; 32],
}

impl From<&NodeCard> for PeerTarget {
    fn from(card: &NodeCard) -> Self {
        PeerTarget {
            node_id: NodeId::of(&card.public_key),
            static_key: card.static_key,
        }
    }
}

enum State {
    Waiting(Box<snow::HandshakeState>),
    Done,
}

/// An outgoing handshake in progress.
pub struct Initiator {
    state: State,
    me: NodeId,
    peer: PeerTarget,
    init: Vec<u8>,
    started: Instant,
    next_retransmit: Instant,
    config_retransmit: std::time::Duration,
    give_up_at: Instant,
}

impl std::fmt::Debug for Initiator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Initiator")
            .field("peer", &self.peer.node_id)
            .field("done", &matches!(self.state, State::Done))
            .finish_non_exhaustive()
    }
}

impl Initiator {
    /// Starts a handshake at `now`. `timestamp` must be greater than any this node used before
    /// with this responder (Unix nanoseconds are the intended source). Returns the state
    /// machine and the Init to send.
    pub fn start(
        config: &HandshakeConfig,
        peer: PeerTarget,
        now: Instant,
        timestamp: u64,
    ) -> Result<(Initiator, Vec<u8>), HandshakeError> {
        let me = config.identity.node_id();
        let prologue = prologue(me, peer.node_id);
        let mut hs = builder()?
            .psk(0, &config.psk)
            .and_then(|b| b.prologue(&prologue))
            .and_then(|b| b.remote_public_key(&peer.static_key))
            .and_then(|b| b.build_initiator())
            .map_err(|_| HandshakeError::Internal)?;
        let signature =
            config
                .identity
                .sign(&init_signed_message(&prologue, &peer.static_key, timestamp));
        let mut payload = [0u8; INIT_PAYLOAD_LEN];
        payload[..32].copy_from_slice(&config.identity.public_key());
        payload[32..40].copy_from_slice(&timestamp.to_le_bytes());
        payload[40..].copy_from_slice(&signature);
        let mut init = Vec::with_capacity(super::INIT_LEN);
        Preamble {
            kind: MessageType::Init,
            initiator: me,
            responder: peer.node_id,
        }
        .write(&mut init);
        let mut noise = [0u8; 256];
        let n = hs
            .write_message(&payload, &mut noise)
            .map_err(|_| HandshakeError::Internal)?;
        init.extend_from_slice(&noise[..n]);
        let initiator = Initiator {
            state: State::Waiting(Box::new(hs)),
            me,
            peer,
            init: init.clone(),
            started: now,
            next_retransmit: later(now, config.retransmit_after),
            config_retransmit: config.retransmit_after,
            give_up_at: later(now, config.give_up_after),
        };
        Ok((initiator, init))
    }

    /// The responder this handshake dials.
    pub fn peer(&self) -> PeerTarget {
        self.peer
    }

    /// When the handshake started.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// Whether the handshake is over (established or failed).
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// The next instant [`handle_timeout`](Self::handle_timeout) wants to be called, if any.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::Waiting(_) => Some(self.next_retransmit.min(self.give_up_at)),
            State::Done => None,
        }
    }

    /// Advances timers: resends the identical Init when due, fails with `TimedOut` at the deadline.
    pub fn handle_timeout(&mut self, now: Instant) -> Output {
        if matches!(self.state, State::Done) {
            return Output::default();
        }
        if now >= self.give_up_at {
            self.state = State::Done;
            return Output::event(HandshakeEvent::Failed(HandshakeError::TimedOut));
        }
        if now >= self.next_retransmit {
            self.next_retransmit = later(now, self.config_retransmit);
            return Output {
                transmit: Some(self.init.clone()),
                event: None,
            };
        }
        Output::default()
    }

    /// Feeds a message received from the peer. A malformed or undecryptable message is
    /// `Rejected` and the handshake keeps waiting (so injected garbage cannot abort it); a
    /// Reply that decrypts but carries a wrong identity ends it with `Failed`.
    pub fn handle_reply(&mut self, msg: &[u8]) -> Output {
        let State::Waiting(hs) = &mut self.state else {
            return Output::event(HandshakeEvent::Rejected(HandshakeError::Unexpected));
        };
        let (pre, noise) = match Preamble::parse(msg) {
            Ok(p) => p,
            Err(e) => return Output::event(HandshakeEvent::Rejected(e)),
        };
        if pre.kind != MessageType::Reply
            || pre.initiator != self.me
            || pre.responder != self.peer.node_id
        {
            return Output::event(HandshakeEvent::Rejected(HandshakeError::Unexpected));
        }
        let mut payload = [0u8; 256];
        let n = match hs.read_message(noise, &mut payload) {
            Ok(n) => n,
            Err(_) => return Output::event(HandshakeEvent::Rejected(HandshakeError::Decrypt)),
        };
        let result = check_reply(&payload[..n], &self.peer);
        let session = result.map(|public| {
            let (session_id, keys) = finish(hs, true);
            Session {
                peer: self.peer.node_id,
                peer_public_key: public,
                session_id,
                keys,
                initiator: true,
            }
        });
        self.state = State::Done;
        match session {
            Ok(s) => Output::event(HandshakeEvent::Established(Box::new(s))),
            Err(e) => Output::event(HandshakeEvent::Failed(e)),
        }
    }
}

/// Checks the Reply payload: the key signs the static key Noise used (a valid card) and hashes
/// to the dialled node id.
fn check_reply(payload: &[u8], peer: &PeerTarget) -> Result<[u8; 32], HandshakeError> {
    let Some((public, signature)) = payload.split_first_chunk::<32>() else {
        return Err(HandshakeError::Malformed);
    };
    let Ok(signature) = <[u8; 64]>::try_from(signature) else {
        return Err(HandshakeError::Malformed);
    };
    if NodeId::of(public) != peer.node_id {
        return Err(HandshakeError::IdentityMismatch);
    }
    let card = NodeCard {
        public_key: *public,
        static_key: peer.static_key,
        signature,
    };
    card.verify().map_err(|_| HandshakeError::BadSignature)?;
    Ok(*public)
}
