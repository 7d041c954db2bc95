//! What an endpoint counts. Every datagram handed to `handle_datagram` ends up in exactly one
//! of `rx_accepted` or `rx_dropped`, and every drop is also counted under its reason.

use std::collections::BTreeMap;

/// Counters of one endpoint (monotonic).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// Datagrams handed in.
    pub rx_datagrams: u64,
    /// Datagrams accepted (authentic data, control, heartbeat or handshake messages, including
    /// stream-level duplicates of frames already delivered).
    pub rx_accepted: u64,
    /// Datagrams dropped, all reasons (see `drops`).
    pub rx_dropped: u64,
    /// Drops by reason: wire error kinds (`truncated`, `bad_magic`, ...), crypto error kinds
    /// (`auth_failed`, `replayed`, ...), `handshake_<kind>` (e.g. `handshake_decrypt` for a
    /// wrong PSK, `handshake_bad_signature`), `unknown_session`, `bad_handshake_header`,
    /// `bad_frame`, `bad_control`, `stream_mode_mismatch`, `stream_overflow`, `queue_full`,
    /// `too_many_streams`; for routed datagrams `routed_from_unknown` (not from a neighbour
    /// with a session), `ttl_expired`, `no_route`, `route_loop`, `no_inner_packet` and the
    /// routing header's wire error kinds.
    pub drops: BTreeMap<&'static str, u64>,
    /// Datagrams produced for sending.
    pub tx_datagrams: u64,
    /// Bytes of those datagrams.
    pub tx_bytes: u64,
    /// Sessions established (either role).
    pub sessions_established: u64,
    /// Old sessions dropped to keep at most `MAX_SESSIONS_PER_PEER` per peer.
    pub sessions_evicted: u64,
    /// Init retransmissions answered again without a new session.
    pub handshake_duplicates: u64,
    /// Outgoing handshakes that failed (timed out or wrong identity).
    pub handshakes_failed: u64,
    /// Data frames sent for the first time.
    pub frames_sent: u64,
    /// Data frames resent (each with a fresh nonce).
    pub frames_retransmitted: u64,
    /// Reliable frames received again after delivery (suppressed).
    pub frames_duplicate: u64,
    /// Events delivered to the application queue.
    pub events_delivered: u64,
    /// Events accepted for sending.
    pub events_sent: u64,
    /// Acks sent.
    pub acks_sent: u64,
    /// Heartbeats sent.
    pub heartbeats_sent: u64,
    /// Routed datagrams this node forwarded to a next hop for others (never decrypted).
    pub relay_forwarded: u64,
    /// Datagrams this node originated behind a routing header (sent through a relay).
    pub routed_sent: u64,
    /// Authentic sealed packets delivered here through a relay.
    pub routed_received: u64,
    /// Packets that had no way out (no usable route and no direct address); each counts as
    /// sent and lost, so reliable frames are resent later.
    pub tx_no_path: u64,
    /// Direct heartbeats probing a link whose traffic goes through a relay.
    pub probes_sent: u64,
    /// Direct links marked down (by their link detector or by the peer's link report).
    pub links_down: u64,
    /// Of `links_down`: links marked down while this node still heard the peer directly,
    /// because the peer reported not hearing this node (loss in one direction).
    pub links_down_by_peer: u64,
    /// Direct links marked up again after being down.
    pub links_up: u64,
    /// Changes of the best next hop of some destination (each also an `Event::RouteChanged`).
    pub route_changes: u64,
    /// Data frames that could not be sealed (the session's nonces are exhausted).
    pub tx_seal_failed: u64,
    /// Fragmentation of events larger than one frame.
    pub fragments: FragmentCounters,
}

/// What fragmentation and reassembly did. A fragment datagram that authenticates is
/// accepted (`rx_accepted`) even when reassembly then drops it; the drops are counted here
/// by reason (fragments or partial events dropped, see `mesh::stream::FragDrop`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FragmentCounters {
    /// Fragments sealed for the first time.
    pub sent: u64,
    /// Fragments received (delivered by their stream: in order for reliable streams).
    pub received: u64,
    /// Events put back together and delivered.
    pub reassembled: u64,
    /// Drops for inconsistency: empty fragment, index past the last, conflicting last flag,
    /// or a fragment packet with a nonzero `event_count` (`fragment_bad`).
    pub bad: u64,
    /// Fragments whose index was already held (`fragment_overlap`).
    pub overlap: u64,
    /// Drops of events growing past `max_message` (`fragment_oversized`).
    pub oversized: u64,
    /// Partial events evicted to bound memory (`fragment_evicted`).
    pub evicted: u64,
    /// Partial events dropped incomplete after `reassembly_timeout` (`fragment_timed_out`).
    pub timed_out: u64,
}

impl FragmentCounters {
    /// Counts one drop.
    pub(crate) fn dropped(&mut self, reason: crate::mesh::stream::FragDrop) {
        use crate::mesh::stream::FragDrop;
        match reason {
            FragDrop::Bad => self.bad += 1,
            FragDrop::Overlap => self.overlap += 1,
            FragDrop::Oversized => self.oversized += 1,
            FragDrop::Evicted => self.evicted += 1,
            FragDrop::TimedOut => self.timed_out += 1,
        }
    }
}

impl Counters {
    /// Count of drops with this reason.
    pub fn dropped(&self, reason: &str) -> u64 {
        self.drops.get(reason).copied().unwrap_or(0)
    }

    pub(crate) fn drop(&mut self, reason: &'static str) {
        self.rx_dropped += 1;
        *self.drops.entry(reason).or_insert(0) += 1;
    }
}
