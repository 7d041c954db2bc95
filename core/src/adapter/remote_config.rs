//! Settings of the networked adapters (Redis Streams, NATS JetStream) and their strict JSON codec.
//!
//! These types are compiled in every build, whether or not the `redis` / `jetstream` cargo
//! features are on, so a configuration parses (and is validated) the same everywhere; building a
//! bus with an adapter that is not compiled in is a `config` error naming `adapter.type`.
//! Every error names its key (`adapter.url`, `adapter.prefix`, ...); only absent keys take
//! defaults.

use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::config::uint;
use crate::error::{Error, Result};

/// Settings of the Redis Streams adapter (`{"type":"redis", ...}`).
#[derive(Debug, Clone, PartialEq)]
pub struct RedisConfig {
    /// `redis://[user:password@]host[:port][/db]` (port 6379 and db 0 by default).
    pub url: String,
    /// Key prefix: shard `n` lives in the stream `{prefix}:shard:{n}`.
    pub prefix: String,
    /// `MAXLEN ~` bound per shard stream; 0 disables trimming.
    pub max_len_per_shard: u64,
    /// Bound on establishing one TCP connection.
    pub connect_timeout: Duration,
    /// Bound on one command round trip (socket read/write timeout).
    pub command_timeout: Duration,
    /// How long one `on_batch` keeps reconnecting (with backoff) before it reports an error.
    pub reconnect_timeout: Duration,
}

/// Settings of the NATS JetStream adapter (`{"type":"jetstream", ...}`).
#[derive(Debug, Clone, PartialEq)]
pub struct JetStreamConfig {
    /// `nats://[user:password@]host[:port]` (port 4222 by default).
    pub url: String,
    /// Name prefix: shard `n` is the stream `{prefix}_shard_{n}` on subject `{prefix}.shard.{n}`.
    pub prefix: String,
    /// Stream replicas (1..=5).
    pub replicas: u8,
    /// `max_msgs` of each shard stream (oldest discarded); 0 = unlimited. A message is a frame
    /// of up to 1024 events, so at least this many events are retained.
    pub max_messages_per_shard: u64,
    /// `file` (default) or `memory` storage.
    pub memory_storage: bool,
    /// Server-side `Nats-Msg-Id` deduplication window.
    pub duplicate_window: Duration,
    /// Bound on establishing the connection.
    pub connect_timeout: Duration,
    /// Bound on one request (publish acknowledgement, stream info, fetch).
    pub request_timeout: Duration,
    /// How long one `on_batch` keeps retrying (with backoff) before it reports an error.
    pub reconnect_timeout: Duration,
}

/// The parts of a validated `redis://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisUrl {
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Database index (`SELECT`).
    pub db: u32,
    /// ACL user name, if any.
    pub username: Option<String>,
    /// Password, if any (`AUTH`).
    pub password: Option<String>,
}

/// The parts of a validated `nats://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatsUrl {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

const DEFAULT_PREFIX: &str = "net";
const DEFAULT_MAX_LEN: u64 = 1_000_000;
const MAX_TIMEOUT_MS: u64 = 3_600_000;

impl RedisConfig {
    /// Defaults for everything but the URL.
    pub fn new(url: impl Into<String>) -> RedisConfig {
        RedisConfig {
            url: url.into(),
            prefix: DEFAULT_PREFIX.to_owned(),
            max_len_per_shard: DEFAULT_MAX_LEN,
            connect_timeout: Duration::from_secs(2),
            command_timeout: Duration::from_secs(5),
            reconnect_timeout: Duration::from_secs(10),
        }
    }

    /// Checks every field; the error names the key.
    pub fn validate(&self) -> Result<()> {
        parse_redis_url(&self.url)?;
        check_prefix(&self.prefix, |c| {
            !c.is_ascii_whitespace() && c.is_ascii_graphic()
        })?;
        check_timeouts(&[
            ("connect_timeout_ms", self.connect_timeout, false),
            ("command_timeout_ms", self.command_timeout, false),
            ("reconnect_timeout_ms", self.reconnect_timeout, true),
        ])
    }

    /// The parsed URL (validated).
    pub fn parsed_url(&self) -> Result<RedisUrl> {
        parse_redis_url(&self.url)
    }

    pub(crate) fn from_object(o: &Map<String, Value>) -> Result<RedisConfig> {
        let mut cfg = RedisConfig::new(required_url(o)?);
        for (k, v) in o {
            let key = format!("adapter.{k}");
            match k.as_str() {
                "type" | "url" => {}
                "prefix" => cfg.prefix = string(v, &key)?,
                "max_len_per_shard" => cfg.max_len_per_shard = uint(v, &key, u64::MAX)?,
                "connect_timeout_ms" => cfg.connect_timeout = millis(v, &key)?,
                "command_timeout_ms" => cfg.command_timeout = millis(v, &key)?,
                "reconnect_timeout_ms" => cfg.reconnect_timeout = millis(v, &key)?,
                _ => return Err(Error::config(key, "unknown key for adapter `redis`")),
            }
        }
        cfg.validate()?;
        Ok(cfg)
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({
            "type": "redis",
            "url": self.url,
            "prefix": self.prefix,
            "max_len_per_shard": self.max_len_per_shard,
            "connect_timeout_ms": self.connect_timeout.as_millis() as u64,
            "command_timeout_ms": self.command_timeout.as_millis() as u64,
            "reconnect_timeout_ms": self.reconnect_timeout.as_millis() as u64,
        })
    }
}

impl JetStreamConfig {
    /// Defaults for everything but the URL.
    pub fn new(url: impl Into<String>) -> JetStreamConfig {
        JetStreamConfig {
            url: url.into(),
            prefix: DEFAULT_PREFIX.to_owned(),
            replicas: 1,
            max_messages_per_shard: DEFAULT_MAX_LEN,
            memory_storage: false,
            duplicate_window: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(5),
            reconnect_timeout: Duration::from_secs(10),
        }
    }

    /// Checks every field; the error names the key.
    pub fn validate(&self) -> Result<()> {
        parse_nats_url(&self.url)?;
        check_prefix(&self.prefix, |c| {
            c.is_ascii_alphanumeric() || c == '_' || c == '-'
        })?;
        if !(1..=5).contains(&self.replicas) {
            return Err(Error::config("adapter.replicas", "must be in 1..=5"));
        }
        if self.max_messages_per_shard > i64::MAX as u64 {
            return Err(Error::config(
                "adapter.max_messages_per_shard",
                "must fit in a signed 64-bit integer",
            ));
        }
        if self.duplicate_window.is_zero() {
            return Err(Error::config(
                "adapter.duplicate_window_ms",
                "must be at least 1",
            ));
        }
        check_timeouts(&[
            ("connect_timeout_ms", self.connect_timeout, false),
            ("request_timeout_ms", self.request_timeout, false),
            ("reconnect_timeout_ms", self.reconnect_timeout, true),
        ])
    }

    /// The parsed URL (validated).
    pub fn parsed_url(&self) -> Result<NatsUrl> {
        parse_nats_url(&self.url)
    }

    pub(crate) fn from_object(o: &Map<String, Value>) -> Result<JetStreamConfig> {
        let mut cfg = JetStreamConfig::new(required_url(o)?);
        for (k, v) in o {
            let key = format!("adapter.{k}");
            match k.as_str() {
                "type" | "url" => {}
                "prefix" => cfg.prefix = string(v, &key)?,
                "replicas" => cfg.replicas = uint(v, &key, 5)? as u8,
                "max_messages_per_shard" => cfg.max_messages_per_shard = uint(v, &key, u64::MAX)?,
                "storage" => {
                    cfg.memory_storage = match v.as_str() {
                        Some("file") => false,
                        Some("memory") => true,
                        _ => return Err(Error::config(key, "must be \"file\" or \"memory\"")),
                    }
                }
                "duplicate_window_ms" => cfg.duplicate_window = millis(v, &key)?,
                "connect_timeout_ms" => cfg.connect_timeout = millis(v, &key)?,
                "request_timeout_ms" => cfg.request_timeout = millis(v, &key)?,
                "reconnect_timeout_ms" => cfg.reconnect_timeout = millis(v, &key)?,
                _ => return Err(Error::config(key, "unknown key for adapter `jetstream`")),
            }
        }
        cfg.validate()?;
        Ok(cfg)
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({
            "type": "jetstream",
            "url": self.url,
            "prefix": self.prefix,
            "replicas": self.replicas,
            "max_messages_per_shard": self.max_messages_per_shard,
            "storage": if self.memory_storage { "memory" } else { "file" },
            "duplicate_window_ms": self.duplicate_window.as_millis() as u64,
            "connect_timeout_ms": self.connect_timeout.as_millis() as u64,
            "request_timeout_ms": self.request_timeout.as_millis() as u64,
            "reconnect_timeout_ms": self.reconnect_timeout.as_millis() as u64,
        })
    }
}

fn required_url(o: &Map<String, Value>) -> Result<String> {
    match o.get("url") {
        None => Err(Error::config("adapter.url", "missing")),
        Some(v) => string(v, "adapter.url"),
    }
}

fn string(v: &Value, key: &str) -> Result<String> {
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| Error::config(key, "must be a string"))
}

fn millis(v: &Value, key: &str) -> Result<Duration> {
    Ok(Duration::from_millis(uint(v, key, MAX_TIMEOUT_MS)?))
}

fn check_prefix(prefix: &str, allowed: impl Fn(char) -> bool) -> Result<()> {
    if prefix.is_empty() || prefix.len() > 64 || !prefix.chars().all(allowed) {
        return Err(Error::config(
            "adapter.prefix",
            format!("`{prefix}` must be 1..=64 characters of the allowed set"),
        ));
    }
    Ok(())
}

/// Each `(key, value, may_be_zero)` must be at most one hour (and non-zero unless allowed).
fn check_timeouts(items: &[(&str, Duration, bool)]) -> Result<()> {
    let max = Duration::from_millis(MAX_TIMEOUT_MS);
    for &(key, value, may_be_zero) in items {
        if (value.is_zero() && !may_be_zero) || value > max {
            let low = if may_be_zero { 0 } else { 1 };
            return Err(Error::config(
                format!("adapter.{key}"),
                format!("must be in {low}..={MAX_TIMEOUT_MS}"),
            ));
        }
    }
    Ok(())
}

/// Splits `[user[:password]@]host[:port]` (host may be `[v6]`).
fn split_authority(auth: &str, default_port: u16) -> std::result::Result<Authority, String> {
    let (userinfo, hostport) = match auth.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, auth),
    };
    let (host, port) = if let Some(rest) = hostport.strip_prefix('[') {
        let (h, after) = rest.split_once(']').ok_or("unclosed `[` in host")?;
        match after {
            "" => (h, None),
            p => (h, Some(p.strip_prefix(':').ok_or("junk after `]`")?)),
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if host.is_empty()
        || host
            .chars()
            .any(|c| c.is_whitespace() || "/?#@".contains(c))
    {
        return Err(format!("bad host `{host}`"));
    }
    let port = match port {
        None => default_port,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => n,
            _ => return Err(format!("bad port `{p}`")),
        },
    };
    let (username, password) = match userinfo {
        None => (None, None),
        Some(u) => match u.split_once(':') {
            Some((user, pass)) => (
                (!user.is_empty()).then(|| user.to_owned()),
                Some(pass.to_owned()),
            ),
            None => (None, Some(u.to_owned())),
        },
    };
    Ok(Authority {
        host: host.to_owned(),
        port,
        username,
        password,
    })
}

struct Authority {
    host: String,
    port: u16,
    username: Option<String>,
    password: Option<String>,
}

/// Parses and validates a `redis://` URL; the error names `adapter.url`.
pub fn parse_redis_url(url: &str) -> Result<RedisUrl> {
    let bad = |m: String| Error::config("adapter.url", format!("`{url}`: {m}"));
    let rest = url
        .strip_prefix("redis://")
        .ok_or_else(|| bad("must start with redis://".into()))?;
    let (auth, db) = match rest.split_once('/') {
        Some((a, "")) => (a, 0),
        Some((a, d)) => (
            a,
            d.parse::<u32>()
                .map_err(|_| bad(format!("bad database index `{d}`")))?,
        ),
        None => (rest, 0),
    };
    let a = split_authority(auth, 6379).map_err(bad)?;
    Ok(RedisUrl {
        host: a.host,
        port: a.port,
        db,
        username: a.username,
        password: a.password,
    })
}

/// Parses and validates a `nats://` URL; the error names `adapter.url`.
pub fn parse_nats_url(url: &str) -> Result<NatsUrl> {
    let bad = |m: String| Error::config("adapter.url", format!("`{url}`: {m}"));
    let rest = url
        .strip_prefix("nats://")
        .ok_or_else(|| bad("must start with nats:// (TLS is not supported)".into()))?;
    let auth = rest.strip_suffix('/').unwrap_or(rest);
    if auth.contains('/') {
        return Err(bad("no path allowed".into()));
    }
    let a = split_authority(auth, 4222).map_err(bad)?;
    Ok(NatsUrl {
        host: a.host,
        port: a.port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_urls() {
        let u = parse_redis_url("redis://:pw@127.0.0.1:6380/2").unwrap();
        assert_eq!((u.host.as_str(), u.port, u.db), ("127.0.0.1", 6380, 2));
        assert_eq!(u.password.as_deref(), Some("pw"));
        assert_eq!(parse_redis_url("redis://h").unwrap().port, 6379);
        assert_eq!(parse_redis_url("redis://[::1]:7").unwrap().host, "::1");
        for bad in [
            "http://h",
            "redis://",
            "redis://h:0",
            "redis://h:x",
            "redis://h/x",
            "redis://h:70000",
        ] {
            assert_eq!(parse_redis_url(bad).unwrap_err().key(), Some("adapter.url"));
        }
    }

    #[test]
    fn nats_urls() {
        assert_eq!(parse_nats_url("nats://h").unwrap().port, 4222);
        assert_eq!(parse_nats_url("nats://u:p@h:5/").unwrap().port, 5);
        for bad in ["tls://h", "nats://", "nats://h/x", "nats://h:"] {
            assert_eq!(parse_nats_url(bad).unwrap_err().key(), Some("adapter.url"));
        }
    }
}
