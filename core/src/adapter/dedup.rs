//! Deduplication ids and the consumer-side deduplication helper of the networked adapters.
//!
//! Every event the Redis and JetStream adapters store carries a [`DedupId`]: the producer id
//! (a number the server hands out once per adapter instance, `INCR`ed in Redis / taken from a
//! counter stream in JetStream, so it is never reused across restarts), the shard and the bus
//! sequence number. Within one producer and shard, sequence numbers only grow in storage order,
//! so a reader that sees an id whose sequence is not above the highest it saw for that
//! (producer, shard) is looking at a repeat. Reading through the bus never yields repeats (the
//! adapters refuse to store them); [`Deduplicator`] is for consumers that read the streams
//! directly (`XREAD`, a JetStream consumer) or merge several sources.

use std::collections::HashMap;
use std::fmt;

/// Identifies one stored event across retries and restarts: `producer:shard:seq` as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DedupId {
    /// The producer (adapter instance) that stored it.
    pub producer: u64,
    /// Shard it was stored in.
    pub shard: u16,
    /// The bus sequence number from the producer's receipt.
    pub seq: u64,
}

impl DedupId {
    /// Parses `producer:shard:seq`.
    pub fn parse(text: &str) -> Option<DedupId> {
        let mut it = text.split(':');
        let id = DedupId {
            producer: it.next()?.parse().ok()?,
            shard: it.next()?.parse().ok()?,
            seq: it.next()?.parse().ok()?,
        };
        it.next().is_none().then_some(id)
    }
}

impl fmt::Display for DedupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.producer, self.shard, self.seq)
    }
}

/// Remembers, per (producer, shard), the highest sequence seen; see the module docs.
#[derive(Debug, Default, Clone)]
pub struct Deduplicator {
    highest: HashMap<(u64, u16), u64>,
    repeats: u64,
}

impl Deduplicator {
    /// An empty deduplicator.
    pub fn new() -> Deduplicator {
        Deduplicator::default()
    }

    /// True the first time `id` (or anything later from its producer and shard) is seen; false
    /// for a repeat, which is counted.
    pub fn first_time(&mut self, id: DedupId) -> bool {
        match self.highest.get_mut(&(id.producer, id.shard)) {
            Some(high) if id.seq <= *high => {
                self.repeats += 1;
                false
            }
            Some(high) => {
                *high = id.seq;
                true
            }
            None => {
                self.highest.insert((id.producer, id.shard), id.seq);
                true
            }
        }
    }

    /// Repeats rejected so far.
    pub fn repeats(&self) -> u64 {
        self.repeats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let id = DedupId {
            producer: 7,
            shard: 3,
            seq: 99,
        };
        assert_eq!(id.to_string(), "7:3:99");
        assert_eq!(DedupId::parse("7:3:99"), Some(id));
        for bad in ["", "7:3", "7:3:99:1", "a:1:2", "1:70000:2"] {
            assert_eq!(DedupId::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn drops_repeats_per_producer_and_shard() {
        let mut d = Deduplicator::new();
        let id = |producer, shard, seq| DedupId {
            producer,
            shard,
            seq,
        };
        assert!(d.first_time(id(1, 0, 5)));
        assert!(d.first_time(id(1, 1, 5)));
        assert!(d.first_time(id(2, 0, 1)));
        assert!(!d.first_time(id(1, 0, 5)));
        assert!(!d.first_time(id(1, 0, 4)));
        assert!(d.first_time(id(1, 0, 6)));
        assert_eq!(d.repeats(), 2);
    }
}
