//! The responding side: answers Inits, at most one session per distinct Init.

use std::collections::HashMap;
use std::time::Instant;

use blake2::{Blake2s256, Digest};

use super::message::{INIT_PAYLOAD_LEN, MessageType, Preamble};
use super::{
    HandshakeConfig, HandshakeError, HandshakeEvent, Output, Session, builder, finish,
    init_signed_message, later, prologue,
};
use crate::identity::{NodeCard, NodeId, verify};

struct Answered {
    reply: Vec<u8>,
    peer: NodeId,
    session_id: u64,
    expires: Instant,
}

/// Answers handshakes for one node. Holds, per initiator, the newest accepted Init timestamp,
/// and a bounded cache of recently answered Inits (by BLAKE2s digest of the whole message).
pub struct Responder {
    config: HandshakeConfig,
    card: NodeCard,
    answered: HashMap<[u8; 32], Answered>,
    latest: HashMap<NodeId, u64>,
}

impl std::fmt::Debug for Responder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Responder")
            .field("node_id", &self.config.identity.node_id())
            .field("answered", &self.answered.len())
            .finish_non_exhaustive()
    }
}

impl Responder {
    /// A responder for `config.identity`.
    pub fn new(config: HandshakeConfig) -> Self {
        let card = config.identity.card();
        Responder {
            config,
            card,
            answered: HashMap::new(),
            latest: HashMap::new(),
        }
    }

    /// This node's card (what initiators need to dial it).
    pub fn card(&self) -> NodeCard {
        self.card
    }

    /// Answered Inits currently remembered.
    pub fn remembered(&self) -> usize {
        self.answered.len()
    }

    /// The next instant [`handle_timeout`](Self::handle_timeout) has work, if any.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.answered.values().map(|a| a.expires).min()
    }

    /// Forgets answered Inits whose time is up.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.answered.retain(|_, a| a.expires > now);
    }

    /// Handles one Init received at `now`. Returns the Reply to send and `Established`, the
    /// same Reply and `Duplicate` for an Init already answered, or `Failed` and nothing to send.
    pub fn handle_init(&mut self, now: Instant, msg: &[u8]) -> Output {
        match self.try_handle(now, msg) {
            Ok(out) => out,
            Err(e) => Output::event(HandshakeEvent::Failed(e)),
        }
    }

    fn try_handle(&mut self, now: Instant, msg: &[u8]) -> Result<Output, HandshakeError> {
        let (pre, noise) = Preamble::parse(msg)?;
        let me = self.config.identity.node_id();
        if pre.kind != MessageType::Init {
            return Err(HandshakeError::Unexpected);
        }
        if pre.responder != me {
            return Err(HandshakeError::WrongResponder);
        }
        if let Some(allow) = &self.config.allow
            && !allow.contains(&pre.initiator)
        {
            return Err(HandshakeError::NotAllowed);
        }
        let digest: [u8; 32] = Blake2s256::digest(msg).into();
        if let Some(a) = self.answered.get(&digest)
            && a.expires > now
        {
            let event = HandshakeEvent::Duplicate {
                peer: a.peer,
                session_id: a.session_id,
            };
            return Ok(Output {
                transmit: Some(a.reply.clone()),
                event: Some(event),
            });
        }

        let prologue = prologue(pre.initiator, me);
        let mut hs = builder()?
            .psk(0, &self.config.psk)
            .and_then(|b| b.prologue(&prologue))
            .and_then(|b| b.local_private_key(self.config.identity.static_secret()))
            .and_then(|b| b.build_responder())
            .map_err(|_| HandshakeError::Internal)?;
        let mut payload = [0u8; 256];
        let n = hs
            .read_message(noise, &mut payload)
            .map_err(|_| HandshakeError::Decrypt)?;
        let (public, timestamp) = self.check_init(&payload[..n], &prologue, pre.initiator)?;
        if self
            .latest
            .get(&pre.initiator)
            .is_some_and(|&t| t >= timestamp)
        {
            return Err(HandshakeError::Replayed);
        }

        let mut reply_payload = [0u8; 96];
        reply_payload[..32].copy_from_slice(&self.card.public_key);
        reply_payload[32..].copy_from_slice(&self.card.signature);
        let mut reply = Vec::with_capacity(super::REPLY_LEN);
        Preamble {
            kind: MessageType::Reply,
            initiator: pre.initiator,
            responder: me,
        }
        .write(&mut reply);
        let mut noise_out = [0u8; 256];
        let m = hs
            .write_message(&reply_payload, &mut noise_out)
            .map_err(|_| HandshakeError::Internal)?;
        reply.extend_from_slice(&noise_out[..m]);
        let (session_id, keys) = finish(&mut hs, false);

        self.latest.insert(pre.initiator, timestamp);
        self.remember(
            now,
            digest,
            Answered {
                reply: reply.clone(),
                peer: pre.initiator,
                session_id,
                expires: later(now, self.config.reply_cache_ttl),
            },
        );
        let session = Session {
            peer: pre.initiator,
            peer_public_key: public,
            session_id,
            keys,
            initiator: false,
        };
        Ok(Output {
            transmit: Some(reply),
            event: Some(HandshakeEvent::Established(Box::new(session))),
        })
    }

    /// Checks the Init payload: key matches the claimed node id, signature verifies.
    fn check_init(
        &self,
        payload: &[u8],
        prologue: &[u8; 38],
        initiator: NodeId,
    ) -> Result<([u8; 32], u64), HandshakeError> {
        let Ok(payload) = <&[u8; INIT_PAYLOAD_LEN]>::try_from(payload) else {
            return Err(HandshakeError::Malformed);
        };
        let mut public = [0u8; 32];
        public.copy_from_slice(&payload[..32]);
        let mut ts = [0u8; 8];
        ts.copy_from_slice(&payload[32..40]);
        let timestamp = u64::from_le_bytes(ts);
        let mut signature = [0u8; 64];
        signature.copy_from_slice(&payload[40..]);
        if NodeId::of(&public) != initiator {
            return Err(HandshakeError::IdentityMismatch);
        }
        let signed = init_signed_message(prologue, &self.card.static_key, timestamp);
        verify(&public, &signed, &signature).map_err(|_| HandshakeError::BadSignature)?;
        Ok((public, timestamp))
    }

    fn remember(&mut self, now: Instant, digest: [u8; 32], answered: Answered) {
        if self.answered.len() >= self.config.reply_cache_max {
            self.handle_timeout(now);
        }
        if self.answered.len() >= self.config.reply_cache_max
            && let Some(oldest) = self
                .answered
                .iter()
                .min_by_key(|(_, a)| a.expires)
                .map(|(k, _)| *k)
        {
            self.answered.remove(&oldest);
        }
        if self.config.reply_cache_max > 0 {
            self.answered.insert(digest, answered);
        }
    }
}
