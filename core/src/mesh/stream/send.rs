//! The sending half of a stream: batching into frames, sequence numbers, unacked frames,
//! retransmission decisions and credit.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::inflight::InFlight;
use super::{Ack, FragInfo, StreamError, StreamMode, StreamTag};
use crate::mesh::session::PacketPool;
use crate::mesh::wire::EVENT_PREFIX_LEN;

/// A closed frame waiting to be sealed and sent for the first time.
#[derive(Debug)]
pub struct ReadyFrame {
    /// Its sequence number (from 1).
    pub sequence: u64,
    /// The event frame bytes.
    pub frame: Vec<u8>,
    /// Events in it (0 for a fragment).
    pub count: u16,
    /// Set when the frame is one fragment of an event too large for one frame: its bytes
    /// are then a slice of that event, not an event frame.
    pub frag: Option<FragInfo>,
}

#[derive(Debug)]
struct Unacked {
    frame: Vec<u8>,
    count: u16,
    frag: Option<FragInfo>,
    last_sent: Instant,
    resends: u32,
}

/// The retransmit timeout of a frame already resent `resends` times: `rto` doubled per resend,
/// at most 32 times `rto`, so a dead peer is not flooded.
pub fn backoff(rto: Duration, resends: u32) -> Duration {
    rto.saturating_mul(1 << resends.min(5))
}

/// Sending state of one stream.
#[derive(Debug)]
pub struct SendStream {
    mode: StreamMode,
    max_frame: usize,
    next_seq: u64,
    building: Vec<u8>,
    building_count: u16,
    ready: VecDeque<ReadyFrame>,
    unacked: InFlight<Unacked>,
    /// Frame bytes closed so far (reliable credit accounting).
    committed: u64,
    credit_limit: u64,
    free: Vec<Vec<u8>>,
    pool: Option<Arc<PacketPool>>,
    tag: StreamTag,
    /// Scheduling priority (higher is served first; see `Endpoint::poll_transmit`), also
    /// written to byte 4 of every data packet's header.
    priority: u8,
    /// Deficit round robin state (see `mesh::session`'s scheduler): bytes this stream may
    /// still send in the current round, and whether it is in its session's active list.
    deficit: usize,
    scheduled: bool,
    /// Reused by `on_ack` (no allocation per ack).
    acked: Vec<u64>,
    /// Largest event accepted (larger than one frame means fragmented).
    max_message: usize,
    /// The credit a reliable stream starts with (its receiver's window): a larger event
    /// could never be sent.
    window: u64,
    next_frag_id: u16,
}

/// Largest event a stream accepts by default (8 MiB); see [`SendStream::with_max_message`].
pub const DEFAULT_MAX_MESSAGE: usize = 8 << 20;

impl SendStream {
    /// A stream whose frames hold at most `max_frame` bytes and whose initial credit is
    /// `initial_credit` bytes (reliable only).
    pub fn new(mode: StreamMode, max_frame: usize, initial_credit: u64) -> Self {
        SendStream {
            mode,
            max_frame: max_frame.max(EVENT_PREFIX_LEN + 1),
            next_seq: 1,
            building: Vec::new(),
            building_count: 0,
            ready: VecDeque::new(),
            unacked: InFlight::new(),
            committed: 0,
            credit_limit: initial_credit,
            free: Vec::new(),
            pool: None,
            tag: StreamTag::default(),
            priority: 0,
            deficit: 0,
            scheduled: false,
            acked: Vec::new(),
            max_message: DEFAULT_MAX_MESSAGE,
            window: initial_credit,
            next_frag_id: 0,
        }
    }

    /// The same stream taking its frame buffers from `pool` and handing them back to it
    /// (instead of a small private free list).
    pub fn with_pool(mut self, pool: Arc<PacketPool>) -> Self {
        self.pool = Some(pool);
        self
    }

    /// The same stream accepting events up to `max` bytes (at most 65,536 fragments of
    /// `max_frame` bytes); events that do not fit one frame are fragmented.
    pub fn with_max_message(mut self, max: usize) -> Self {
        self.max_message = max.min(self.max_frame * (usize::from(u16::MAX) + 1));
        self
    }

    /// The same stream with header tag `tag` (see [`StreamTag`]).
    pub fn with_tag(mut self, tag: StreamTag) -> Self {
        self.tag = tag;
        self
    }

    /// The same stream with scheduling priority `priority` (higher is more urgent; 0, the
    /// default, is the lowest).
    pub fn with_priority(mut self, priority: u8) -> Self {
        self.priority = priority;
        self
    }

    /// The stream's scheduling priority.
    pub fn priority(&self) -> u8 {
        self.priority
    }

    /// Changes the stream's scheduling priority; frames sent (or resent) from now on carry
    /// the new value.
    pub fn set_priority(&mut self, priority: u8) {
        self.priority = priority;
    }

    /// The header tag of the stream's data packets.
    pub fn tag(&self) -> StreamTag {
        self.tag
    }

    /// The stream's mode.
    pub fn mode(&self) -> StreamMode {
        self.mode
    }

    /// Frames not yet acknowledged (reliable): sent ones, and closed ones still waiting for
    /// their first send.
    pub fn unacked(&self) -> usize {
        self.unacked.len() + self.ready.len()
    }

    /// Closed frames waiting for their first send.
    pub fn ready_frames(&self) -> usize {
        self.ready.len()
    }

    /// Length in bytes of the next closed frame to send, if any.
    pub fn next_ready_len(&self) -> Option<usize> {
        self.ready.front().map(|f| f.frame.len())
    }

    /// Scheduler state: bytes of deficit and whether the stream is in the active list.
    pub(crate) fn sched(&mut self) -> (&mut usize, &mut bool) {
        (&mut self.deficit, &mut self.scheduled)
    }

    /// Whether anything is buffered, ready or unacknowledged.
    pub fn is_idle(&self) -> bool {
        self.building.is_empty() && self.ready.is_empty() && self.unacked.is_empty()
    }

    /// The receiver's credit limit as last learned.
    pub fn credit_limit(&self) -> u64 {
        self.credit_limit
    }

    /// Bytes of credit left for new events (reliable; `u64::MAX` for fire and forget).
    pub fn credit_available(&self) -> u64 {
        match self.mode {
            StreamMode::FireAndForget => u64::MAX,
            StreamMode::Reliable => self
                .credit_limit
                .saturating_sub(self.committed + self.building.len() as u64),
        }
    }

    /// Appends one event to the frame being built, closing it first if the event does not fit.
    /// An event too large for one frame is split into fragments of `max_frame` bytes, each
    /// its own frame (and sequence), after the frame being built is closed. Refuses with
    /// `Backpressure` (reliable, no credit) or `EventTooLarge` (above `max_message`, or for a
    /// reliable stream above its initial credit); nothing is queued on error.
    pub fn push(&mut self, event: &[u8]) -> Result<(), StreamError> {
        let need = EVENT_PREFIX_LEN + event.len();
        if need > self.max_frame || event.len() > usize::from(u16::MAX) {
            return self.push_fragmented(event);
        }
        if self.mode == StreamMode::Reliable {
            let in_flight = self.committed + self.building.len() as u64;
            let available = self.credit_limit.saturating_sub(in_flight);
            if need as u64 > available {
                return Err(StreamError::Backpressure {
                    in_flight,
                    available,
                });
            }
        }
        if self.building.len() + need > self.max_frame || self.building_count == u16::MAX {
            self.close();
        }
        if self.building.capacity() == 0 {
            self.building = match &self.pool {
                Some(pool) => pool.take(self.max_frame),
                None => self.free.pop().unwrap_or_default(),
            };
            self.building.reserve(self.max_frame);
        }
        // `need` fits a u16 length prefix: checked above.
        self.building
            .extend_from_slice(&(event.len() as u16).to_le_bytes());
        self.building.extend_from_slice(event);
        self.building_count += 1;
        Ok(())
    }

    /// Queues `event` as fragments (see [`push`](Self::push)).
    fn push_fragmented(&mut self, event: &[u8]) -> Result<(), StreamError> {
        let max = match self.mode {
            StreamMode::Reliable => self
                .max_message
                .min(usize::try_from(self.window).unwrap_or(usize::MAX)),
            StreamMode::FireAndForget => self.max_message,
        };
        if event.len() > max {
            return Err(StreamError::EventTooLarge {
                len: event.len(),
                max,
            });
        }
        if self.mode == StreamMode::Reliable {
            let in_flight = self.committed + self.building.len() as u64;
            let available = self.credit_limit.saturating_sub(in_flight);
            if event.len() as u64 > available {
                return Err(StreamError::Backpressure {
                    in_flight,
                    available,
                });
            }
        }
        self.close();
        let id = self.next_frag_id;
        self.next_frag_id = self.next_frag_id.wrapping_add(1);
        let n = event.len().div_ceil(self.max_frame);
        for (i, chunk) in event.chunks(self.max_frame).enumerate() {
            let mut frame = match &self.pool {
                Some(pool) => pool.take(chunk.len()),
                None => Vec::with_capacity(chunk.len()),
            };
            frame.extend_from_slice(chunk);
            self.committed += frame.len() as u64;
            self.ready.push_back(ReadyFrame {
                sequence: self.next_seq,
                frame,
                count: 0,
                // At most 65,536 fragments: `max_message` is capped accordingly.
                frag: Some(FragInfo {
                    id,
                    index: u16::try_from(i).unwrap_or(u16::MAX),
                    last: i + 1 == n,
                }),
            });
            self.next_seq += 1;
        }
        Ok(())
    }

    /// Closes the frame being built (if any) so it is sent on the next poll.
    pub fn close(&mut self) {
        if self.building_count == 0 {
            return;
        }
        let frame = std::mem::take(&mut self.building);
        self.committed += frame.len() as u64;
        self.ready.push_back(ReadyFrame {
            sequence: self.next_seq,
            frame,
            count: self.building_count,
            frag: None,
        });
        self.next_seq += 1;
        self.building_count = 0;
    }

    /// Whether a closed frame waits to be sent.
    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// Takes the next closed frame to send for the first time.
    pub fn pop_ready(&mut self) -> Option<ReadyFrame> {
        self.ready.pop_front()
    }

    /// Hands a frame back after it was sent: reliable streams keep it until acked; fire and
    /// forget recycles its buffer.
    pub fn sent(&mut self, frame: ReadyFrame, now: Instant) {
        match self.mode {
            StreamMode::Reliable => {
                self.unacked.insert(
                    frame.sequence,
                    Unacked {
                        frame: frame.frame,
                        count: frame.count,
                        frag: frame.frag,
                        last_sent: now,
                        resends: 0,
                    },
                );
            }
            StreamMode::FireAndForget => self.recycle(frame.frame),
        }
    }

    fn recycle(&mut self, mut buf: Vec<u8>) {
        if let Some(pool) = &self.pool {
            pool.put(buf);
        } else if self.free.len() < 8 {
            buf.clear();
            self.free.push(buf);
        }
    }

    /// An unacked frame's bytes, event count and fragment place, for retransmission.
    pub fn unacked_frame(&self, sequence: u64) -> Option<(&[u8], u16, Option<FragInfo>)> {
        self.unacked
            .get(sequence)
            .map(|u| (u.frame.as_slice(), u.count, u.frag))
    }

    /// Records that `sequence` was just retransmitted.
    pub fn mark_resent(&mut self, sequence: u64, now: Instant) {
        if let Some(u) = self.unacked.get_mut(sequence) {
            u.last_sent = now;
            u.resends = u.resends.saturating_add(1);
        }
    }

    /// Applies an ack: frees acknowledged frames, raises the credit limit, and appends to
    /// `resend` the NACKed sequences not sent within `guard`.
    pub fn on_ack(&mut self, ack: &Ack, now: Instant, guard: Duration, resend: &mut Vec<u64>) {
        self.credit_limit = self.credit_limit.max(ack.credit_limit);
        // Everything <= cumulative is received.
        while let Some(u) = self.unacked.pop_upto(ack.cumulative) {
            self.recycle(u.frame);
        }
        // In (cumulative, highest]: received unless inside a NACK range.
        if ack.highest <= ack.cumulative {
            return;
        }
        let mut received = std::mem::take(&mut self.acked);
        received.clear();
        let mut nacks = ack.nacks.iter().peekable();
        for (seq, u) in self.unacked.range(ack.cumulative + 1, ack.highest) {
            while nacks
                .peek()
                .is_some_and(|&&(s, l)| s.saturating_add(u64::from(l)) <= seq)
            {
                nacks.next();
            }
            let missing = nacks.peek().is_some_and(|&&(s, _)| s <= seq);
            if !missing {
                received.push(seq);
            } else if now.saturating_duration_since(u.last_sent) >= guard {
                resend.push(seq);
            }
        }
        for &seq in &received {
            if let Some(u) = self.unacked.remove(seq) {
                self.recycle(u.frame);
            }
        }
        self.acked = received;
    }

    /// Appends to `resend` the unacked sequences whose retransmit timer (`rto`, doubled per
    /// earlier resend, see [`backoff`]) has run out.
    pub fn due(&self, now: Instant, rto: Duration, resend: &mut Vec<u64>) {
        for (seq, u) in self.unacked.iter() {
            if now.saturating_duration_since(u.last_sent) >= backoff(rto, u.resends) {
                resend.push(seq);
            }
        }
    }

    /// When the first unacked frame's retransmit timer fires.
    pub fn poll_timeout(&self, rto: Duration) -> Option<Instant> {
        self.unacked
            .iter()
            .map(|(_, u)| u)
            .map(|u| u.last_sent + backoff(rto, u.resends))
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retransmit_timer_backs_off_per_frame() {
        let t0 = Instant::now();
        let rto = Duration::from_millis(100);
        let mut s = SendStream::new(StreamMode::Reliable, 64, 1 << 20);
        s.push(b"a").unwrap();
        s.close();
        let f = s.pop_ready().unwrap();
        s.sent(f, t0);
        assert_eq!(s.poll_timeout(rto), Some(t0 + rto));
        let mut due = Vec::new();
        s.due(t0 + rto, rto, &mut due);
        assert_eq!(due, vec![1]);
        let mut t = t0 + rto;
        for k in 1..8u32 {
            s.mark_resent(1, t);
            let wait = rto * (1 << k.min(5));
            assert_eq!(s.poll_timeout(rto), Some(t + wait), "after {k} resends");
            due.clear();
            s.due(t + wait - Duration::from_millis(1), rto, &mut due);
            assert!(due.is_empty());
            t += wait;
        }
        assert_eq!(backoff(rto, u32::MAX), rto * 32);
    }
}
