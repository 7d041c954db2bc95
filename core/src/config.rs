//! Bus configuration: a plain struct, a builder, and a strict JSON codec.
//!
//! Promises: every configuration is validated before a bus is built; unknown keys, unknown enum
//! strings, wrong types and out-of-range values are [`Error::Config`] errors that name the
//! offending key by its dotted path. Nothing silently falls back to a default on a typo; only an
//! *absent* key takes its default. [`EventBusConfig::to_json`] prints the normalized form (every
//! key, every default filled in), which is what the golden fixtures pin.

use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::adapter::remote_config::{JetStreamConfig, RedisConfig};
use crate::bus::filter::Path;
use crate::error::{Error, Result};
use crate::mesh::config::MeshConfig;

/// What a producer experiences when its shard's ring is full.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Backpressure {
    /// Push the oldest undrained event out of the ring to make room (counted as `drop_oldest`).
    #[default]
    DropOldest,
    /// Discard the offered event (counted as `drop_newest`; the producer gets `Error::Dropped`).
    DropNewest,
    /// Reject the offered event with `Error::Backpressure`; nothing is dropped.
    FailProducer,
    /// Wait up to `timeout` for room, then reject with `Error::Timeout`.
    Block {
        /// Longest time a producer waits for room.
        timeout: Duration,
    },
    /// Above `high_water` (a fraction of the ring), keep 1 in `keep_one_in` offered events and
    /// drop the rest (counted as `sampled`); a completely full ring drops the event as well.
    Sample {
        /// Keep one event in this many above the high-water mark (at least 1).
        keep_one_in: u32,
        /// Fill fraction of the ring, in (0, 1], above which sampling starts.
        high_water: f64,
    },
}

impl Backpressure {
    /// The stable mode name used in JSON.
    pub fn mode(&self) -> &'static str {
        match self {
            Backpressure::DropOldest => "drop_oldest",
            Backpressure::DropNewest => "drop_newest",
            Backpressure::FailProducer => "fail_producer",
            Backpressure::Block { .. } => "block",
            Backpressure::Sample { .. } => "sample",
        }
    }

    /// Default `block` timeout.
    pub const DEFAULT_BLOCK_TIMEOUT: Duration = Duration::from_millis(100);
    /// Default sampling rate.
    pub const DEFAULT_KEEP_ONE_IN: u32 = 10;
    /// Default sampling high-water mark.
    pub const DEFAULT_HIGH_WATER: f64 = 0.8;
}

/// Where events go after the rings, and its settings.
#[derive(Debug, Clone, PartialEq)]
pub enum AdapterConfig {
    /// The in-memory adapter (default): retains the newest events per shard.
    Memory {
        /// Retained events per shard; older ones are evicted (and counted).
        max_events_per_shard: usize,
        /// Retained payload bytes per shard; older events are evicted (and counted).
        max_bytes_per_shard: usize,
    },
    /// Redis Streams (cargo feature `redis`): one stream per shard.
    Redis(RedisConfig),
    /// NATS JetStream (cargo feature `jetstream`): one stream per shard.
    JetStream(JetStreamConfig),
    /// The encrypted mesh: stores like the memory adapter, forwards every stored batch to the
    /// configured peers and ingests what peers send (see `docs/mesh.md`).
    Mesh(MeshConfig),
}

impl AdapterConfig {
    /// The tag the adapter built from this configuration writes into cursors (memory 1,
    /// redis 2, jetstream 3, mesh 4), so skins can decode cursors without a bus.
    pub fn cursor_tag(&self) -> u8 {
        match self {
            AdapterConfig::Memory { .. } => crate::adapter::memory::MEMORY_CURSOR_TAG,
            AdapterConfig::Redis(_) => crate::adapter::REDIS_CURSOR_TAG,
            AdapterConfig::JetStream(_) => crate::adapter::JETSTREAM_CURSOR_TAG,
            AdapterConfig::Mesh(_) => crate::mesh::bus_adapter::MESH_CURSOR_TAG,
        }
    }
}

impl Default for AdapterConfig {
    fn default() -> Self {
        AdapterConfig::Memory {
            max_events_per_shard: 1 << 20,
            max_bytes_per_shard: 256 << 20,
        }
    }
}

/// Configuration of an [`crate::EventBus`].
#[derive(Debug, Clone, PartialEq)]
pub struct EventBusConfig {
    /// Number of shards (1..=1024).
    pub num_shards: u16,
    /// Capacity of each shard's ring; a power of two in 2..=2^24.
    pub ring_capacity: usize,
    /// Full-ring policy.
    pub backpressure: Backpressure,
    /// Optional dot path into each event whose value picks the shard (same value, same shard).
    pub partition_key: Option<String>,
    /// Most events handed to the adapter in one batch (1..=65536).
    pub drain_batch: usize,
    /// Drain worker threads; 0 means `min(num_shards, max(1, cores / 2))`, leaving the other
    /// cores to producers and consumers.
    pub drain_workers: usize,
    /// Coalescing window of the drain workers in nanoseconds (0..=1,000,000; 0 = off). While
    /// events stream into a shard and fewer than a small run of them are ready, its worker
    /// waits up to this long (spinning, no sleep) before popping, so it takes a run of events
    /// the producer has moved past instead of competing for the cache lines it is writing.
    /// An isolated event (the shard's previous pop ended more than one window ago), a flush
    /// and shutdown never wait.
    pub drain_linger_ns: u64,
    /// Largest accepted event in bytes (1..=64 MiB).
    pub max_event_bytes: usize,
    /// The adapter and its settings.
    pub adapter: AdapterConfig,
}

impl Default for EventBusConfig {
    fn default() -> Self {
        EventBusConfig {
            num_shards: 1,
            ring_capacity: 1 << 14,
            backpressure: Backpressure::default(),
            partition_key: None,
            drain_batch: 1024,
            drain_workers: 0,
            drain_linger_ns: DEFAULT_DRAIN_LINGER_NS,
            max_event_bytes: 1 << 20,
            adapter: AdapterConfig::default(),
        }
    }
}

const MAX_SHARDS: u64 = 1024;
const MAX_RING: u64 = 1 << 24;
const MAX_EVENT_BYTES: u64 = 64 << 20;
/// Default `drain_linger_ns`.
pub const DEFAULT_DRAIN_LINGER_NS: u64 = 5_000;
/// Largest `drain_linger_ns` (1 ms): a longer window would be a delay, not a coalescing wait.
pub const MAX_DRAIN_LINGER_NS: u64 = 1_000_000;

impl EventBusConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> EventBusConfigBuilder {
        EventBusConfigBuilder {
            config: EventBusConfig::default(),
        }
    }

    /// Checks every field; the error names the first offending key.
    pub fn validate(&self) -> Result<()> {
        if self.num_shards == 0 || u64::from(self.num_shards) > MAX_SHARDS {
            return Err(Error::config(
                "num_shards",
                format!("must be in 1..={MAX_SHARDS}"),
            ));
        }
        let cap = self.ring_capacity as u64;
        if !(2..=MAX_RING).contains(&cap) || !cap.is_power_of_two() {
            return Err(Error::config(
                "ring_capacity",
                format!("must be a power of two in 2..={MAX_RING}, got {cap}"),
            ));
        }
        match self.backpressure {
            Backpressure::Block { timeout } if timeout > Duration::from_secs(3600) => {
                return Err(Error::config(
                    "backpressure.timeout_ms",
                    "must be at most 3600000",
                ));
            }
            Backpressure::Sample {
                keep_one_in,
                high_water,
            } => {
                if keep_one_in == 0 {
                    return Err(Error::config(
                        "backpressure.keep_one_in",
                        "must be at least 1",
                    ));
                }
                if !(high_water > 0.0 && high_water <= 1.0) {
                    return Err(Error::config(
                        "backpressure.high_water",
                        "must be a fraction in (0, 1]",
                    ));
                }
            }
            _ => {}
        }
        if let Some(key) = &self.partition_key {
            Path::parse(key).map_err(|e| Error::config("partition_key", e.to_string()))?;
        }
        if !(1..=65536).contains(&self.drain_batch) {
            return Err(Error::config("drain_batch", "must be in 1..=65536"));
        }
        if self.drain_workers > 1024 {
            return Err(Error::config("drain_workers", "must be in 0..=1024"));
        }
        if self.drain_linger_ns > MAX_DRAIN_LINGER_NS {
            return Err(Error::config(
                "drain_linger_ns",
                format!(
                    "must be in 0..={MAX_DRAIN_LINGER_NS} (nanoseconds), got {}",
                    self.drain_linger_ns
                ),
            ));
        }
        if self.max_event_bytes == 0 || self.max_event_bytes as u64 > MAX_EVENT_BYTES {
            return Err(Error::config(
                "max_event_bytes",
                format!("must be in 1..={MAX_EVENT_BYTES}"),
            ));
        }
        match &self.adapter {
            AdapterConfig::Redis(r) => r.validate()?,
            AdapterConfig::JetStream(j) => j.validate()?,
            AdapterConfig::Mesh(m) => m.validate()?,
            &AdapterConfig::Memory {
                max_events_per_shard,
                max_bytes_per_shard,
            } => {
                if max_events_per_shard == 0 {
                    return Err(Error::config(
                        "adapter.max_events_per_shard",
                        "must be at least 1",
                    ));
                }
                if max_bytes_per_shard == 0 {
                    return Err(Error::config(
                        "adapter.max_bytes_per_shard",
                        "must be at least 1",
                    ));
                }
            }
        }
        Ok(())
    }

    /// Parses and validates JSON configuration text (strict: see the module docs).
    pub fn from_json(text: &str) -> Result<EventBusConfig> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| Error::config("<root>", format!("not valid JSON: {e}")))?;
        Self::from_value(&value)
    }

    /// Parses and validates an already-parsed JSON value.
    pub fn from_value(value: &Value) -> Result<EventBusConfig> {
        let obj = value
            .as_object()
            .ok_or_else(|| Error::config("<root>", "must be a JSON object"))?;
        let mut cfg = EventBusConfig::default();
        for (key, v) in obj {
            match key.as_str() {
                "num_shards" => cfg.num_shards = uint(v, key, MAX_SHARDS)? as u16,
                "ring_capacity" => cfg.ring_capacity = uint(v, key, MAX_RING)? as usize,
                "backpressure" => cfg.backpressure = parse_backpressure(v)?,
                "partition_key" => {
                    cfg.partition_key = match v {
                        Value::Null => None,
                        Value::String(s) => Some(s.clone()),
                        _ => return Err(Error::config(key, "must be a string or null")),
                    }
                }
                "drain_batch" => cfg.drain_batch = uint(v, key, 65536)? as usize,
                "drain_workers" => cfg.drain_workers = uint(v, key, 1024)? as usize,
                "drain_linger_ns" => cfg.drain_linger_ns = uint(v, key, MAX_DRAIN_LINGER_NS)?,
                "max_event_bytes" => cfg.max_event_bytes = uint(v, key, MAX_EVENT_BYTES)? as usize,
                "adapter" => cfg.adapter = parse_adapter(v)?,
                other => return Err(Error::config(other, "unknown key")),
            }
        }
        cfg.validate()?;
        Ok(cfg)
    }

    /// The normalized JSON form: every key present, defaults filled in.
    pub fn to_json(&self) -> Value {
        let backpressure = match self.backpressure {
            Backpressure::Block { timeout } => {
                json!({"mode": "block", "timeout_ms": timeout.as_millis() as u64})
            }
            Backpressure::Sample {
                keep_one_in,
                high_water,
            } => json!({"mode": "sample", "keep_one_in": keep_one_in, "high_water": high_water}),
            other => json!({"mode": other.mode()}),
        };
        let adapter = match &self.adapter {
            AdapterConfig::Redis(r) => r.to_json(),
            AdapterConfig::JetStream(j) => j.to_json(),
            AdapterConfig::Mesh(m) => m.to_json(),
            &AdapterConfig::Memory {
                max_events_per_shard,
                max_bytes_per_shard,
            } => json!({
                "type": "memory",
                "max_events_per_shard": max_events_per_shard,
                "max_bytes_per_shard": max_bytes_per_shard,
            }),
        };
        json!({
            "num_shards": self.num_shards,
            "ring_capacity": self.ring_capacity,
            "backpressure": backpressure,
            "partition_key": self.partition_key,
            "drain_batch": self.drain_batch,
            "drain_workers": self.drain_workers,
            "drain_linger_ns": self.drain_linger_ns,
            "max_event_bytes": self.max_event_bytes,
            "adapter": adapter,
        })
    }
}

/// The non-negative integer `v` at most `max`, or a config error naming `key`.
pub(crate) fn uint(v: &Value, key: &str, max: u64) -> Result<u64> {
    let n = v
        .as_u64()
        .ok_or_else(|| Error::config(key, format!("must be a non-negative integer, got {v}")))?;
    if n > max {
        return Err(Error::config(
            key,
            format!("must be at most {max}, got {n}"),
        ));
    }
    Ok(n)
}

fn parse_backpressure(v: &Value) -> Result<Backpressure> {
    const KEY: &str = "backpressure";
    let (mode, params): (&str, Option<&Map<String, Value>>) = match v {
        Value::String(s) => (s.as_str(), None),
        Value::Object(o) => {
            let mode = o
                .get("mode")
                .ok_or_else(|| Error::config("backpressure.mode", "missing"))?
                .as_str()
                .ok_or_else(|| Error::config("backpressure.mode", "must be a string"))?;
            (mode, Some(o))
        }
        _ => {
            return Err(Error::config(
                KEY,
                "must be a mode string or an object with `mode`",
            ));
        }
    };
    let allowed: &[&str] = match mode {
        "drop_oldest" | "drop_newest" | "fail_producer" => &[],
        "block" => &["timeout_ms"],
        "sample" => &["keep_one_in", "high_water"],
        other => {
            return Err(Error::config(
                "backpressure.mode",
                format!(
                    "unknown mode `{other}` (expected drop_oldest, drop_newest, fail_producer, block or sample)"
                ),
            ));
        }
    };
    if let Some(o) = params {
        for k in o.keys() {
            if k != "mode" && !allowed.contains(&k.as_str()) {
                return Err(Error::config(
                    format!("backpressure.{k}"),
                    format!("unknown key for mode `{mode}`"),
                ));
            }
        }
    }
    let get = |k: &str| params.and_then(|o| o.get(k));
    Ok(match mode {
        "drop_oldest" => Backpressure::DropOldest,
        "drop_newest" => Backpressure::DropNewest,
        "fail_producer" => Backpressure::FailProducer,
        "block" => Backpressure::Block {
            timeout: match get("timeout_ms") {
                Some(t) => Duration::from_millis(uint(t, "backpressure.timeout_ms", 3_600_000)?),
                None => Backpressure::DEFAULT_BLOCK_TIMEOUT,
            },
        },
        _ => Backpressure::Sample {
            keep_one_in: match get("keep_one_in") {
                Some(n) => uint(n, "backpressure.keep_one_in", u64::from(u32::MAX))? as u32,
                None => Backpressure::DEFAULT_KEEP_ONE_IN,
            },
            high_water: match get("high_water") {
                Some(h) => h
                    .as_f64()
                    .ok_or_else(|| Error::config("backpressure.high_water", "must be a number"))?,
                None => Backpressure::DEFAULT_HIGH_WATER,
            },
        },
    })
}

fn parse_adapter(v: &Value) -> Result<AdapterConfig> {
    let (ty, o) = match v {
        Value::String(s) => (s.as_str(), None),
        Value::Object(o) => (
            o.get("type")
                .ok_or_else(|| Error::config("adapter.type", "missing"))?
                .as_str()
                .ok_or_else(|| Error::config("adapter.type", "must be a string"))?,
            Some(o),
        ),
        _ => {
            return Err(Error::config(
                "adapter",
                "must be a type string or an object with `type`",
            ));
        }
    };
    match ty {
        "memory" => {
            let (mut max_events_per_shard, mut max_bytes_per_shard) = match AdapterConfig::default()
            {
                AdapterConfig::Memory {
                    max_events_per_shard,
                    max_bytes_per_shard,
                } => (max_events_per_shard, max_bytes_per_shard),
                _ => (1 << 20, 256 << 20),
            };
            for (k, val) in o.into_iter().flatten() {
                match k.as_str() {
                    "type" => {}
                    "max_events_per_shard" => {
                        max_events_per_shard =
                            uint(val, "adapter.max_events_per_shard", u64::MAX)? as usize
                    }
                    "max_bytes_per_shard" => {
                        max_bytes_per_shard =
                            uint(val, "adapter.max_bytes_per_shard", u64::MAX)? as usize
                    }
                    other => {
                        return Err(Error::config(
                            format!("adapter.{other}"),
                            "unknown key for adapter `memory`",
                        ));
                    }
                }
            }
            Ok(AdapterConfig::Memory {
                max_events_per_shard,
                max_bytes_per_shard,
            })
        }
        "mesh" => {
            let Some(o) = o else {
                return Err(Error::config(
                    "adapter.listen",
                    "adapter `mesh` needs an object with `listen` and `psk_hex` or `psk_file`",
                ));
            };
            Ok(AdapterConfig::Mesh(MeshConfig::from_object(o)?))
        }
        "redis" | "jetstream" => {
            let Some(o) = o else {
                return Err(Error::config(
                    "adapter.url",
                    format!("adapter `{ty}` needs an object with `url`"),
                ));
            };
            Ok(if ty == "redis" {
                AdapterConfig::Redis(RedisConfig::from_object(o)?)
            } else {
                AdapterConfig::JetStream(JetStreamConfig::from_object(o)?)
            })
        }
        other => Err(Error::config(
            "adapter.type",
            format!("unknown adapter `{other}` (expected memory, redis, jetstream or mesh)"),
        )),
    }
}

/// Builds an [`EventBusConfig`] field by field; [`EventBusConfigBuilder::build`] validates.
#[derive(Debug, Clone)]
pub struct EventBusConfigBuilder {
    config: EventBusConfig,
}

impl EventBusConfigBuilder {
    /// Sets `num_shards`.
    pub fn num_shards(mut self, n: u16) -> Self {
        self.config.num_shards = n;
        self
    }
    /// Sets `ring_capacity`.
    pub fn ring_capacity(mut self, n: usize) -> Self {
        self.config.ring_capacity = n;
        self
    }
    /// Sets the backpressure mode.
    pub fn backpressure(mut self, b: Backpressure) -> Self {
        self.config.backpressure = b;
        self
    }
    /// Sets the partition key path.
    pub fn partition_key(mut self, path: impl Into<String>) -> Self {
        self.config.partition_key = Some(path.into());
        self
    }
    /// Sets `drain_batch`.
    pub fn drain_batch(mut self, n: usize) -> Self {
        self.config.drain_batch = n;
        self
    }
    /// Sets `drain_workers` (0 = automatic).
    pub fn drain_workers(mut self, n: usize) -> Self {
        self.config.drain_workers = n;
        self
    }

    /// Sets `drain_linger_ns` (0 = no coalescing window).
    pub fn drain_linger_ns(mut self, ns: u64) -> Self {
        self.config.drain_linger_ns = ns;
        self
    }
    /// Sets `max_event_bytes`.
    pub fn max_event_bytes(mut self, n: usize) -> Self {
        self.config.max_event_bytes = n;
        self
    }
    /// Uses the memory adapter with these retention bounds per shard.
    pub fn memory(mut self, max_events_per_shard: usize, max_bytes_per_shard: usize) -> Self {
        self.config.adapter = AdapterConfig::Memory {
            max_events_per_shard,
            max_bytes_per_shard,
        };
        self
    }
    /// Uses another adapter (for example `AdapterConfig::Redis(RedisConfig::new(url))`).
    pub fn adapter(mut self, adapter: AdapterConfig) -> Self {
        self.config.adapter = adapter;
        self
    }
    /// Validates and returns the configuration.
    pub fn build(self) -> Result<EventBusConfig> {
        self.config.validate()?;
        Ok(self.config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_round_trips() {
        let cfg = EventBusConfig::default();
        cfg.validate().unwrap();
        let back = EventBusConfig::from_value(&cfg.to_json()).unwrap();
        assert_eq!(back, cfg);
    }

    #[test]
    fn errors_name_the_key() {
        let cases = [
            (r#"{"num_shard": 4}"#, "num_shard"),
            (r#"{"num_shards": 0}"#, "num_shards"),
            (r#"{"ring_capacity": 1000}"#, "ring_capacity"),
            (r#"{"backpressure": "drop_oldes"}"#, "backpressure.mode"),
            (
                r#"{"backpressure": {"mode":"block","timeout":5}}"#,
                "backpressure.timeout",
            ),
            (
                r#"{"adapter": {"type":"memory","max_events":5}}"#,
                "adapter.max_events",
            ),
            (r#"{"partition_key": "a..b"}"#, "partition_key"),
        ];
        for (text, key) in cases {
            let err = EventBusConfig::from_json(text).unwrap_err();
            assert_eq!(err.key(), Some(key), "{text}: {err}");
        }
    }

    #[test]
    fn drain_linger_ns_is_bounded_and_zero_turns_it_off() {
        assert_eq!(
            EventBusConfig::default().drain_linger_ns,
            DEFAULT_DRAIN_LINGER_NS
        );
        for ns in [0, 1, DEFAULT_DRAIN_LINGER_NS, MAX_DRAIN_LINGER_NS] {
            let cfg = EventBusConfig::from_json(&format!(r#"{{"drain_linger_ns": {ns}}}"#))
                .unwrap_or_else(|e| panic!("{ns}: {e}"));
            assert_eq!(cfg.drain_linger_ns, ns);
            assert_eq!(cfg.to_json()["drain_linger_ns"], ns);
        }
        // Out of range, negative, fractional or a string: a config error naming the key.
        for bad in [
            format!("{}", MAX_DRAIN_LINGER_NS + 1),
            "-1".to_owned(),
            "1.5".to_owned(),
            r#""2us""#.to_owned(),
            "null".to_owned(),
        ] {
            let err =
                EventBusConfig::from_json(&format!(r#"{{"drain_linger_ns": {bad}}}"#)).unwrap_err();
            assert_eq!(err.key(), Some("drain_linger_ns"), "{bad}: {err}");
        }
        // A config built in code is checked by `validate` (what `EventBus::new` calls).
        let err = EventBusConfig::builder()
            .drain_linger_ns(MAX_DRAIN_LINGER_NS + 1)
            .build()
            .unwrap_err();
        assert_eq!(err.key(), Some("drain_linger_ns"));
        assert!(err.to_string().contains("0..=1000000"), "{err}");
        let ok = EventBusConfig::builder()
            .drain_linger_ns(0)
            .build()
            .unwrap();
        assert_eq!(ok.drain_linger_ns, 0);
    }
}
