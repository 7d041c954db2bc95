//! What an endpoint hands out: datagrams to send and events for the application.

use std::net::SocketAddr;

use super::HealthChange;
use crate::identity::NodeId;
use crate::mesh::handshake::HandshakeError;
use crate::mesh::stream::StreamTag;
use crate::mesh::wire::Frame;

/// A datagram to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Where to.
    pub dest: SocketAddr,
    /// The whole datagram.
    pub data: Vec<u8>,
}

/// One received frame of events on a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The sending peer.
    pub peer: NodeId,
    /// The session it arrived on.
    pub session_id: u64,
    /// The stream.
    pub stream_id: u64,
    /// The frame's sequence number within the stream.
    pub sequence: u64,
    /// Whether the stream is reliable.
    pub reliable: bool,
    /// The stream's header tag (subprotocol id and channel hint; zero for plain streams).
    pub tag: StreamTag,
    frame: Vec<u8>,
    count: u16,
    /// `frame` is one whole (reassembled) event, not an event frame.
    single: bool,
}

impl Delivery {
    /// A delivery of a frame already checked by [`Frame::parse`].
    pub(crate) fn new(
        peer: NodeId,
        session_id: u64,
        stream_id: u64,
        sequence: u64,
        reliable: bool,
        frame: Vec<u8>,
        count: u16,
    ) -> Self {
        Delivery {
            peer,
            session_id,
            stream_id,
            sequence,
            reliable,
            tag: StreamTag::default(),
            frame,
            count,
            single: false,
        }
    }

    /// A delivery of one event put back together from fragments.
    pub(crate) fn reassembled(
        peer: NodeId,
        session_id: u64,
        stream_id: u64,
        sequence: u64,
        reliable: bool,
        event: Vec<u8>,
    ) -> Self {
        Delivery {
            single: true,
            ..Delivery::new(peer, session_id, stream_id, sequence, reliable, event, 1)
        }
    }

    /// Whether this is one event reassembled from fragments (its `sequence` is that of the
    /// last fragment; [`frame_bytes`](Self::frame_bytes) are then the event itself).
    pub fn is_reassembled(&self) -> bool {
        self.single
    }

    /// The same delivery with the stream's header tag.
    pub(crate) fn with_tag(mut self, tag: StreamTag) -> Self {
        self.tag = tag;
        self
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        usize::from(self.count)
    }

    /// Whether the frame holds no events.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The raw frame bytes (see `docs/wire.md`); for a reassembled event, the event's bytes.
    pub fn frame_bytes(&self) -> &[u8] {
        &self.frame
    }

    /// The events, in order (the frame was checked on receipt).
    pub fn events(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let single = self.single.then_some(self.frame.as_slice());
        let framed = if self.single {
            None
        } else {
            Frame::parse(&self.frame, self.count).ok()
        };
        single
            .into_iter()
            .chain(framed.into_iter().flat_map(|f| f.iter()))
    }

    /// Takes the frame bytes out (e.g. to keep them without copying); for a reassembled
    /// event, the event's bytes.
    pub fn into_frame(self) -> Vec<u8> {
        self.frame
    }
}

/// Something the application should know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A session with `peer` is usable (initiator: on the Reply; responder: on the first
    /// authentic packet from the initiator).
    Connected {
        /// The peer.
        peer: NodeId,
        /// Its address; for a session agreed through a relay, the relay's address.
        addr: SocketAddr,
        /// The session.
        session_id: u64,
        /// Whether this node dialled.
        initiator: bool,
    },
    /// An outgoing handshake ended without a session.
    ConnectFailed {
        /// The dialled peer.
        peer: NodeId,
        /// Why.
        error: HandshakeError,
    },
    /// The failure detector changed its view of a peer.
    Health {
        /// The peer.
        peer: NodeId,
        /// What changed.
        change: HealthChange,
    },
    /// Events arrived.
    Data(Delivery),
    /// The best usable route to `dest` changed (a route was added or removed, or a
    /// neighbour's direct link went down or came back).
    RouteChanged {
        /// The destination.
        dest: NodeId,
        /// The neighbour its packets go to now (`dest` itself when direct), or `None` when
        /// no usable route is left.
        next_hop: Option<NodeId>,
    },
}
