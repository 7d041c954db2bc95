//! The receiving half of a stream: ordering, duplicate suppression, ack state and credit.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::{Ack, FragInfo, MAX_NACK_RANGES, StreamMode, StreamTag};

/// A frame more than this many sequences ahead of the next expected one is refused as
/// [`Arrival::Overflow`] (a sender never has that many frames in flight), so sequence
/// arithmetic cannot overflow whatever an authenticated peer sends.
pub const MAX_AHEAD: u64 = 1 << 20;

/// What [`RecvStream::on_frame`] decided about one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// Accepted (delivered now or buffered until the gap before it fills).
    Accepted,
    /// Already delivered or buffered: dropped.
    Duplicate,
    /// Too far ahead of the next expected sequence (the buffer is full): dropped, will be
    /// NACKed and resent.
    Overflow,
}

/// Receiving state of one stream.
#[derive(Debug)]
pub struct RecvStream {
    mode: StreamMode,
    window: u64,
    next: u64,
    pending: BTreeMap<u64, (Vec<u8>, u16, Option<FragInfo>)>,
    pending_bytes: u64,
    consumed: u64,
    advertised: u64,
    since_ack: u32,
    ack_due: Option<Instant>,
    last_ack: Option<Instant>,
    last_activity: Option<Instant>,
    tag: StreamTag,
}

impl RecvStream {
    /// A stream granting `window` bytes of credit beyond what the application consumed.
    pub fn new(mode: StreamMode, window: u64) -> Self {
        RecvStream {
            mode,
            window,
            next: 1,
            pending: BTreeMap::new(),
            pending_bytes: 0,
            consumed: 0,
            advertised: window,
            since_ack: 0,
            ack_due: None,
            last_ack: None,
            last_activity: None,
            tag: StreamTag::default(),
        }
    }

    /// The same stream expecting header tag `tag` on its data packets (see [`StreamTag`]).
    pub fn with_tag(mut self, tag: StreamTag) -> Self {
        self.tag = tag;
        self
    }

    /// The header tag the stream's data packets must carry.
    pub fn tag(&self) -> StreamTag {
        self.tag
    }

    /// The stream's mode.
    pub fn mode(&self) -> StreamMode {
        self.mode
    }

    /// The next sequence a reliable stream will deliver.
    pub fn next_expected(&self) -> u64 {
        self.next
    }

    /// Takes a frame with `sequence` (a fragment when `frag` is set); calls `deliver` for
    /// every frame now deliverable, in order (fire and forget: this one, at once). `ack_every` and `ack_delay` set when the
    /// ack is due: at once if the frame arrived out of order or was a duplicate, after
    /// `ack_every` in-order frames, or `ack_delay` after the first unacked one.
    #[allow(clippy::too_many_arguments)]
    pub fn on_frame(
        &mut self,
        now: Instant,
        sequence: u64,
        frame: Vec<u8>,
        count: u16,
        frag: Option<FragInfo>,
        ack_every: u32,
        ack_delay: Duration,
        mut deliver: impl FnMut(u64, Vec<u8>, u16, Option<FragInfo>),
    ) -> Arrival {
        if self.mode == StreamMode::FireAndForget {
            deliver(sequence, frame, count, frag);
            return Arrival::Accepted;
        }
        self.last_activity = Some(now);
        if sequence == 0 || sequence < self.next || self.pending.contains_key(&sequence) {
            self.ack_due = Some(now);
            return Arrival::Duplicate;
        }
        let in_order = sequence == self.next;
        if !in_order
            && (sequence - self.next > MAX_AHEAD
                || self.pending_bytes + frame.len() as u64 > self.window.saturating_mul(2))
        {
            self.ack_due = Some(now);
            return Arrival::Overflow;
        }
        if in_order {
            deliver(sequence, frame, count, frag);
            self.next += 1;
            while let Some(entry) = self.pending.first_entry() {
                if *entry.key() != self.next {
                    break;
                }
                let (f, c, g) = entry.remove();
                self.pending_bytes -= f.len() as u64;
                deliver(self.next, f, c, g);
                self.next += 1;
            }
        } else {
            self.pending_bytes += frame.len() as u64;
            self.pending.insert(sequence, (frame, count, frag));
        }
        self.since_ack += 1;
        if !in_order || !self.pending.is_empty() || self.since_ack >= ack_every {
            self.ack_due = Some(now);
        } else if self.ack_due.is_none() {
            self.ack_due = Some(now + ack_delay);
        }
        Arrival::Accepted
    }

    /// Records that the application took `bytes` of delivered frames; schedules an ack when
    /// a quarter of the window has opened since the last advertised limit.
    pub fn on_consumed(&mut self, now: Instant, bytes: u64) {
        self.consumed += bytes;
        self.last_activity = Some(now);
        if self.consumed + self.window >= self.advertised + self.window / 4
            && self.ack_due.is_none()
        {
            self.ack_due = Some(now);
        }
    }

    /// When an ack should be sent: when one is due, or every `refresh` while the stream was
    /// active within `linger` (so a lost credit update cannot stall the sender).
    pub fn poll_ack(&self, refresh: Duration, linger: Duration) -> Option<Instant> {
        if self.mode != StreamMode::Reliable {
            return None;
        }
        if let Some(t) = self.ack_due {
            return Some(t);
        }
        let (last_ack, active) = (self.last_ack?, self.last_activity?);
        let refresh_at = last_ack + refresh;
        (refresh_at <= active + linger).then_some(refresh_at)
    }

    /// Whether an ack is scheduled but not yet sent (reliable streams only).
    pub fn owes_ack(&self) -> bool {
        self.mode == StreamMode::Reliable && self.ack_due.is_some()
    }

    /// Builds the ack to send now and resets the ack timers.
    pub fn make_ack(&mut self, now: Instant) -> Ack {
        let mut nacks = Vec::new();
        let mut expect = self.next;
        // The ack may name only so many gaps: it then reports as `highest` the last sequence
        // before the first gap it could not name, so the sender never takes a gap for data.
        let mut highest = self.next - 1;
        for &seq in self.pending.keys() {
            if seq > expect {
                if nacks.len() == MAX_NACK_RANGES {
                    break;
                }
                let len = u32::try_from(seq - expect).unwrap_or(u32::MAX);
                nacks.push((expect, len));
            }
            highest = seq;
            expect = seq + 1;
        }
        let limit = self.consumed + self.window;
        self.advertised = limit;
        self.since_ack = 0;
        self.ack_due = None;
        self.last_ack = Some(now);
        Ack {
            cumulative: self.next - 1,
            highest,
            credit_limit: limit,
            nacks,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesh::stream::SendStream;

    const EVERY: u32 = 16;
    const DELAY: Duration = Duration::from_millis(2);

    fn feed(r: &mut RecvStream, now: Instant, seq: u64, out: &mut Vec<u64>) -> Arrival {
        r.on_frame(
            now,
            seq,
            vec![0; 10],
            1,
            None,
            EVERY,
            DELAY,
            |s, _, _, _| out.push(s),
        )
    }

    #[test]
    fn in_order_exactly_once_with_gaps_and_duplicates() {
        let now = Instant::now();
        let mut r = RecvStream::new(StreamMode::Reliable, 1 << 20);
        let mut got = Vec::new();
        for seq in [3, 1, 1, 5, 2, 3, 4] {
            feed(&mut r, now, seq, &mut got);
        }
        assert_eq!(got, vec![1, 2, 3, 4, 5]);
        assert_eq!(feed(&mut r, now, 2, &mut got), Arrival::Duplicate);
        assert_eq!(r.next_expected(), 6);
    }

    #[test]
    fn more_gaps_than_an_ack_can_name_lower_highest() {
        let now = Instant::now();
        let mut r = RecvStream::new(StreamMode::Reliable, 1 << 20);
        let mut got = Vec::new();
        // Received: 1, then every even sequence 4..=200: gaps at 2-3, 5, 7, ...
        feed(&mut r, now, 1, &mut got);
        for seq in (4..=200).step_by(2) {
            feed(&mut r, now, seq, &mut got);
        }
        let ack = r.make_ack(now);
        assert_eq!(ack.cumulative, 1);
        assert_eq!(ack.nacks.len(), MAX_NACK_RANGES);
        assert_eq!(ack.nacks[0], (2, 2));
        let (last_start, last_len) = ack.nacks[MAX_NACK_RANGES - 1];
        // The last named gap is followed by a received sequence, and nothing beyond the next
        // unnamed gap is claimed.
        assert_eq!(ack.highest, last_start + u64::from(last_len));
        assert!(ack.highest < 200);
        let mut b = Vec::new();
        ack.encode(&mut b);
        assert_eq!(super::super::Ack::parse(&b), Ok(ack.clone()));

        // A sender holding 1..=200 frees exactly the received ones up to `highest` and
        // resends exactly the named gaps.
        let mut s = SendStream::new(StreamMode::Reliable, 64, 1 << 20);
        for i in 0..200u64 {
            s.push(&i.to_le_bytes()).unwrap();
            s.close();
        }
        while let Some(f) = s.pop_ready() {
            s.sent(f, now);
        }
        let mut resend = Vec::new();
        s.on_ack(
            &ack,
            now + Duration::from_secs(1),
            Duration::ZERO,
            &mut resend,
        );
        let named: Vec<u64> = ack
            .nacks
            .iter()
            .flat_map(|&(st, l)| st..st + u64::from(l))
            .collect();
        assert_eq!(resend, named);
        let freed = (4..=ack.highest).step_by(2).count() + 1;
        assert_eq!(s.unacked(), 200 - freed);
        // Every sequence above `highest` is still held.
        for seq in ack.highest + 1..=200 {
            assert!(s.unacked_frame(seq).is_some(), "{seq}");
        }
    }

    #[test]
    fn absurd_sequences_are_refused() {
        let now = Instant::now();
        let mut r = RecvStream::new(StreamMode::Reliable, 1 << 20);
        let mut got = Vec::new();
        assert_eq!(feed(&mut r, now, 0, &mut got), Arrival::Duplicate);
        assert_eq!(feed(&mut r, now, u64::MAX, &mut got), Arrival::Overflow);
        assert_eq!(
            feed(&mut r, now, 2 + MAX_AHEAD, &mut got),
            Arrival::Overflow
        );
        assert_eq!(
            feed(&mut r, now, 1 + MAX_AHEAD, &mut got),
            Arrival::Accepted
        );
        let ack = r.make_ack(now);
        assert_eq!((ack.cumulative, ack.highest), (0, 1 + MAX_AHEAD));
        assert!(got.is_empty());
    }

    #[test]
    fn credit_opens_as_the_application_consumes() {
        let now = Instant::now();
        let mut r = RecvStream::new(StreamMode::Reliable, 1000);
        assert_eq!(r.make_ack(now).credit_limit, 1000);
        r.on_consumed(now, 100);
        // (A refresh interval longer than the linger: only a due ack counts here.)
        let refresh = Duration::from_secs(10);
        assert_eq!(
            r.poll_ack(refresh, DELAY),
            None,
            "less than a quarter window"
        );
        r.on_consumed(now, 200);
        assert_eq!(r.poll_ack(refresh, DELAY), Some(now));
        assert_eq!(r.make_ack(now).credit_limit, 1300);
    }
}
