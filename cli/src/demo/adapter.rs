//! `net demo --adapter`: `memory` (the default), `redis://...` or `nats://...`.
//!
//! A networked adapter gets a fresh key/stream prefix per run (`netdemo_<pid>_<secs>`), so the
//! poller and the subscriber see exactly this run's events; the data stays on the server.

use net::AdapterConfig;
use net::adapter::remote_config::{JetStreamConfig, RedisConfig, parse_nats_url, parse_redis_url};

/// A validated `--adapter` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdapterFlag {
    /// The in-memory adapter.
    Memory,
    /// Redis Streams at this URL.
    Redis(String),
    /// NATS JetStream at this URL.
    JetStream(String),
}

/// clap value parser: a bad value is a usage error naming the flag.
pub fn parse(value: &str) -> Result<AdapterFlag, String> {
    if value == "memory" {
        Ok(AdapterFlag::Memory)
    } else if value.starts_with("redis://") {
        parse_redis_url(value).map_err(|e| e.to_string())?;
        Ok(AdapterFlag::Redis(value.to_owned()))
    } else if value.starts_with("nats://") {
        parse_nats_url(value).map_err(|e| e.to_string())?;
        Ok(AdapterFlag::JetStream(value.to_owned()))
    } else {
        Err("expected memory, redis://host[:port][/db] or nats://host[:port]".to_owned())
    }
}

impl AdapterFlag {
    /// The adapter configuration, retaining at least `keep` events per shard.
    pub fn config(&self, keep: usize) -> AdapterConfig {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let prefix = format!("netdemo_{}_{secs}", std::process::id());
        match self {
            AdapterFlag::Memory => AdapterConfig::Memory {
                max_events_per_shard: keep,
                max_bytes_per_shard: keep.saturating_mul(256),
            },
            AdapterFlag::Redis(url) => AdapterConfig::Redis(RedisConfig {
                prefix,
                max_len_per_shard: keep as u64,
                ..RedisConfig::new(url.as_str())
            }),
            AdapterFlag::JetStream(url) => AdapterConfig::JetStream(JetStreamConfig {
                prefix,
                max_messages_per_shard: keep as u64,
                ..JetStreamConfig::new(url.as_str())
            }),
        }
    }
}
