//! Configuration of a mesh endpoint: handshake policy, failure-detector timing, stream tuning.

use std::time::Duration;

use crate::mesh::handshake::HandshakeConfig;

/// Heartbeat and failure-detector timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DetectorConfig {
    /// A heartbeat is sent to a peer when nothing else was sent to it for this long.
    pub heartbeat_interval: Duration,
    /// A peer heard nothing from for this long is `Suspected`.
    pub suspect_after: Duration,
    /// A peer heard nothing from for this long is `Failed` (its session is kept, so traffic
    /// that resumes makes it `Recovered`).
    pub fail_after: Duration,
}

impl Default for DetectorConfig {
    /// Heartbeat every 1 s, suspected after 3 s, failed after 8 s of silence.
    fn default() -> Self {
        DetectorConfig {
            heartbeat_interval: Duration::from_secs(1),
            suspect_after: Duration::from_secs(3),
            fail_after: Duration::from_secs(8),
        }
    }
}

/// Stream batching, reliability and flow-control tuning (both peers should use the same
/// `window`: a sender starts with that much credit before the receiver's first ack).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamConfig {
    /// Most frame bytes per packet (the datagram adds 64 + 16 bytes).
    pub max_frame: usize,
    /// Credit window in frame bytes granted beyond what the receiving application consumed.
    pub window: u64,
    /// An unacked frame is resent after this long.
    pub rto: Duration,
    /// A NACKed frame is not resent again within this long of its last send.
    pub nack_guard: Duration,
    /// An ack is sent after this many in-order frames...
    pub ack_every: u32,
    /// ...or this long after the first unacked one.
    pub ack_delay: Duration,
    /// While a stream was active within `ack_linger`, its ack is repeated every `ack_refresh`.
    pub ack_refresh: Duration,
    /// See `ack_refresh`.
    pub ack_linger: Duration,
    /// Fire-and-forget frames arriving while this many deliveries wait for the application are
    /// dropped (counted as `queue_full`); reliable streams are bounded by their credit instead.
    pub max_queued_frames: usize,
    /// Most receive streams a peer may open on one session; frames for more are dropped
    /// (counted as `too_many_streams`).
    pub max_streams: usize,
    /// Largest event sent or reassembled; events larger than one frame are fragmented (a
    /// reliable stream also refuses events larger than `window`, which could never get credit).
    pub max_message: usize,
    /// Most fragment bytes a session holds while reassembling (oldest partial events are
    /// evicted first).
    pub reassembly_bytes: usize,
    /// Most partial events a session holds.
    pub reassembly_partials: usize,
    /// A partial event still incomplete after this long is dropped.
    pub reassembly_timeout: Duration,
}

impl StreamConfig {
    /// The reassembly limits these settings give.
    pub fn reassembly_limits(&self) -> crate::mesh::stream::ReassemblyLimits {
        crate::mesh::stream::ReassemblyLimits {
            max_message: self.max_message,
            max_bytes: self.reassembly_bytes,
            max_partials: self.reassembly_partials,
            timeout: self.reassembly_timeout,
        }
    }
}

impl Default for StreamConfig {
    /// 1,320-byte frames (1,400-byte datagrams), 1 MiB window, 200 ms retransmit timeout,
    /// 20 ms NACK guard, ack every 16 frames or after 2 ms, refresh every 100 ms for 2 s,
    /// at most 65,536 queued deliveries before fire-and-forget frames are dropped, at most
    /// 1,024 receive streams per session; events up to 8 MiB (fragmented above one frame),
    /// reassembly of at most 32 MiB and 64 partial events per session, 5 s to complete one.
    fn default() -> Self {
        StreamConfig {
            max_frame: 1320,
            window: 1 << 20,
            rto: Duration::from_millis(200),
            nack_guard: Duration::from_millis(20),
            ack_every: 16,
            ack_delay: Duration::from_millis(2),
            ack_refresh: Duration::from_millis(100),
            ack_linger: Duration::from_secs(2),
            max_queued_frames: 65_536,
            max_streams: 1024,
            max_message: crate::mesh::stream::DEFAULT_MAX_MESSAGE,
            reassembly_bytes: 32 << 20,
            reassembly_partials: 64,
            reassembly_timeout: Duration::from_secs(5),
        }
    }
}

/// Default hop budget of routed packets ([`EndpointConfig::max_hops`]).
pub const DEFAULT_MAX_HOPS: u8 = 8;

/// Everything an [`Endpoint`](super::Endpoint) needs.
#[derive(Debug, Clone)]
pub struct EndpointConfig {
    /// Identity, PSK, allow-list and handshake timers.
    pub handshake: HandshakeConfig,
    /// Heartbeats and failure detection.
    pub detector: DetectorConfig,
    /// Streams.
    pub stream: StreamConfig,
    /// Hop budget of the packets this node sends through relays (the routing header's `ttl`
    /// and the authenticated Net `hop_ttl`): a packet may pass at most this many relays.
    pub max_hops: u8,
    /// A neighbour's direct link that delivered nothing authentic for this long is marked
    /// down, so routes through it give way to others. Shorter than `detector.fail_after`
    /// (default 3 s against 8 s), so traffic moves to another path before the peers behind
    /// the link would be declared failed.
    pub link_fail_after: Duration,
}

impl EndpointConfig {
    /// The timing of the direct-link detectors: silent for `link_fail_after` means failed.
    pub fn link_detector(&self) -> DetectorConfig {
        DetectorConfig {
            heartbeat_interval: self.detector.heartbeat_interval,
            suspect_after: self.link_fail_after,
            fail_after: self.link_fail_after,
        }
    }

    /// Default timing for `handshake`'s identity and PSK.
    pub fn new(handshake: HandshakeConfig) -> Self {
        EndpointConfig {
            handshake,
            detector: DetectorConfig::default(),
            stream: StreamConfig::default(),
            max_hops: DEFAULT_MAX_HOPS,
            link_fail_after: Duration::from_secs(3),
        }
    }
}
