//! [`MeshConfig`]: the `{"adapter": {"type": "mesh", ...}}` form of the bus configuration, its
//! strict JSON codec, and the loading of the secrets it points at (key file, PSK file).
//!
//! Promises: parsing and [`MeshConfig::validate`] touch no file and no socket; every refusal is
//! an [`Error::Config`] naming the key by its dotted path (`adapter.listen`,
//! `adapter.peers.1.card`, ...), and only absent keys take defaults. A peer's node card is
//! checked (length and signature) while parsing. [`MeshConfig::load_psk`] and
//! [`MeshConfig::load_identity`] read the files when the bus is built; their errors name
//! `adapter.psk_file` / `adapter.key_file` too. Secret files that group or others can access
//! are refused (unix).
//!
//! Not promised: that the peers are reachable (that is the adapter's business at run time);
//! hiding `psk_hex` from the normalized form (prefer `psk_file`, which keeps the secret out of
//! configuration text).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::config::uint;
use crate::error::{Error, Result};
use crate::identity::{Identity, NodeCard, NodeId, hex};

/// Where the mesh-wide pre-shared key comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum PskSource {
    /// Given inline as 64 hex digits (`psk_hex`).
    Inline([u8; 32]),
    /// Read from a file holding 64 hex digits and an optional newline (`psk_file`).
    File(PathBuf),
}

impl std::fmt::Debug for PskSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PskSource::Inline(_) => f.write_str("Inline(..)"),
            PskSource::File(p) => f.debug_tuple("File").field(p).finish(),
        }
    }
}

/// A node reached directly: its address and card (the relay of a [`PeerRoute::Via`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neighbour {
    /// Its UDP address.
    pub addr: SocketAddr,
    /// Its node card.
    pub card: NodeCard,
}

/// How the adapter reaches a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerRoute {
    /// At this UDP address.
    Direct(SocketAddr),
    /// Through this relay, which the adapter dials directly first; the handshake and every
    /// packet then travel through it, sealed end to end (the relay cannot read them).
    Via(Neighbour),
}

/// A peer the adapter dials and forwards to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerSpec {
    /// Its node card (public key, X25519 static key and the signature binding them).
    pub card: NodeCard,
    /// How it is reached.
    pub route: PeerRoute,
}

impl PeerSpec {
    /// Parses `ADDR@CARD` (the card as 256 hex digits), the form `net` takes on its command
    /// line; `key` names the option or key in the error.
    pub fn parse(text: &str, key: &str) -> Result<PeerSpec> {
        let n = parse_neighbour(text, key)?;
        Ok(PeerSpec {
            card: n.card,
            route: PeerRoute::Direct(n.addr),
        })
    }

    /// A peer reached through `relay`.
    pub fn via(card: NodeCard, relay: Neighbour) -> PeerSpec {
        PeerSpec {
            card,
            route: PeerRoute::Via(relay),
        }
    }

    /// Where the packets go first: the peer's address, or the relay's.
    pub fn first_hop(&self) -> SocketAddr {
        match &self.route {
            PeerRoute::Direct(a) => *a,
            PeerRoute::Via(r) => r.addr,
        }
    }

    /// `ADDR` or `via ADDR`, for messages.
    pub fn describe(&self) -> String {
        match &self.route {
            PeerRoute::Direct(a) => a.to_string(),
            PeerRoute::Via(r) => format!("via {}", r.addr),
        }
    }

    /// The peer's node id (the card was verified when parsed).
    pub fn node_id(&self) -> NodeId {
        // A card that parsed has a valid signature; `verify` only recomputes the id.
        self.card.verify().unwrap_or(NodeId(0))
    }

    /// `ADDR@CARD` (the inverse of [`PeerSpec::parse`]); a relayed peer's card alone.
    pub fn to_arg(&self) -> String {
        match &self.route {
            PeerRoute::Direct(a) => format!("{a}@{}", hex(&self.card.to_bytes())),
            PeerRoute::Via(_) => hex(&self.card.to_bytes()),
        }
    }

    fn to_json(&self) -> Value {
        let card = hex(&self.card.to_bytes());
        match &self.route {
            PeerRoute::Direct(a) => json!({"addr": a.to_string(), "card": card}),
            PeerRoute::Via(r) => json!({"card": card, "via": {
                "addr": r.addr.to_string(),
                "card": hex(&r.card.to_bytes()),
            }}),
        }
    }
}

/// Parses `ADDR@CARD`; `key` names the option or key in the error.
pub fn parse_neighbour(text: &str, key: &str) -> Result<Neighbour> {
    let (addr, card) = text
        .split_once('@')
        .ok_or_else(|| Error::config(key, format!("`{text}` is not ADDR@CARD (card in hex)")))?;
    Ok(Neighbour {
        addr: parse_addr(addr, key)?,
        card: parse_card(card, key)?,
    })
}

/// Parses a node card given as hex digits; `key` names the option or key in the error.
pub fn parse_card_hex(text: &str, key: &str) -> Result<NodeCard> {
    parse_card(text, key)
}

/// Settings of the mesh adapter (`{"type": "mesh", ...}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeshConfig {
    /// UDP address to bind (`127.0.0.1:0` takes a free port).
    pub listen: SocketAddr,
    /// Identity key file (`net keygen`); `None`: a fresh random identity on every start.
    pub key_file: Option<PathBuf>,
    /// The mesh-wide pre-shared key.
    pub psk: PskSource,
    /// Peers to dial and to forward every stored batch to.
    pub peers: Vec<PeerSpec>,
    /// Reliable stream id used towards every peer (and the only one accepted from peers).
    pub stream_id: u64,
    /// Bound on one dial of a peer.
    pub connect_timeout: Duration,
    /// Longest wait for a peer's credit per batch before the rest counts as failed.
    pub credit_timeout: Duration,
    /// After a failure, a peer is skipped for this long; unreachable peers are redialled at
    /// this interval.
    pub retry_after: Duration,
    /// Retention of the local store (like the memory adapter).
    pub max_events_per_shard: usize,
    /// Retention of the local store in payload bytes per shard.
    pub max_bytes_per_shard: usize,
}

const MAX_TIMEOUT_MS: u64 = 3_600_000;
const MAX_PEERS: usize = 256;

impl MeshConfig {
    /// Defaults for everything but the address and the PSK.
    pub fn new(listen: SocketAddr, psk: PskSource) -> MeshConfig {
        MeshConfig {
            listen,
            key_file: None,
            psk,
            peers: Vec::new(),
            stream_id: 1,
            connect_timeout: Duration::from_secs(2),
            credit_timeout: Duration::from_secs(2),
            retry_after: Duration::from_secs(1),
            max_events_per_shard: 1 << 20,
            max_bytes_per_shard: 256 << 20,
        }
    }

    /// Checks the fields a builder could set out of range; the error names the key.
    pub fn validate(&self) -> Result<()> {
        if self.peers.len() > MAX_PEERS {
            return Err(Error::config(
                "adapter.peers",
                format!("at most {MAX_PEERS} peers"),
            ));
        }
        for (i, p) in self.peers.iter().enumerate() {
            p.card
                .verify()
                .map_err(|e| Error::config(format!("adapter.peers.{i}.card"), e.to_string()))?;
        }
        if self.stream_id == 0 {
            return Err(Error::config("adapter.stream_id", "must be at least 1"));
        }
        for (key, d) in [
            ("connect_timeout_ms", self.connect_timeout),
            ("credit_timeout_ms", self.credit_timeout),
            ("retry_after_ms", self.retry_after),
        ] {
            if d.is_zero() || d > Duration::from_millis(MAX_TIMEOUT_MS) {
                return Err(Error::config(
                    format!("adapter.{key}"),
                    format!("must be in 1..={MAX_TIMEOUT_MS}"),
                ));
            }
        }
        if self.max_events_per_shard == 0 {
            return Err(Error::config(
                "adapter.max_events_per_shard",
                "must be at least 1",
            ));
        }
        if self.max_bytes_per_shard == 0 {
            return Err(Error::config(
                "adapter.max_bytes_per_shard",
                "must be at least 1",
            ));
        }
        Ok(())
    }

    /// Parses the adapter object (strict; see the module docs).
    pub(crate) fn from_object(o: &Map<String, Value>) -> Result<MeshConfig> {
        let listen = match o.get("listen") {
            None => return Err(Error::config("adapter.listen", "missing")),
            Some(v) => parse_addr(string(v, "adapter.listen")?, "adapter.listen")?,
        };
        let psk = match (o.get("psk_hex"), o.get("psk_file")) {
            (Some(_), Some(_)) => {
                return Err(Error::config(
                    "adapter.psk_file",
                    "give psk_hex or psk_file, not both",
                ));
            }
            (None, None) => {
                return Err(Error::config(
                    "adapter.psk_hex",
                    "missing (give psk_hex or psk_file)",
                ));
            }
            (Some(v), None) => PskSource::Inline(parse_hex32(
                string(v, "adapter.psk_hex")?,
                "adapter.psk_hex",
            )?),
            (None, Some(v)) => PskSource::File(path(v, "adapter.psk_file")?),
        };
        let mut cfg = MeshConfig::new(listen, psk);
        for (k, v) in o {
            let key = format!("adapter.{k}");
            match k.as_str() {
                "type" | "listen" | "psk_hex" | "psk_file" => {}
                "key_file" => {
                    cfg.key_file = match v {
                        Value::Null => None,
                        v => Some(path(v, &key)?),
                    }
                }
                "peers" => cfg.peers = parse_peers(v)?,
                "stream_id" => cfg.stream_id = uint(v, &key, u64::MAX)?,
                "connect_timeout_ms" => cfg.connect_timeout = millis(v, &key)?,
                "credit_timeout_ms" => cfg.credit_timeout = millis(v, &key)?,
                "retry_after_ms" => cfg.retry_after = millis(v, &key)?,
                "max_events_per_shard" => {
                    cfg.max_events_per_shard = uint(v, &key, u64::MAX)? as usize
                }
                "max_bytes_per_shard" => {
                    cfg.max_bytes_per_shard = uint(v, &key, u64::MAX)? as usize
                }
                _ => return Err(Error::config(key, "unknown key for adapter `mesh`")),
            }
        }
        cfg.validate()?;
        Ok(cfg)
    }

    /// The normalized JSON form (every key, defaults filled in).
    pub(crate) fn to_json(&self) -> Value {
        let mut o = json!({
            "type": "mesh",
            "listen": self.listen.to_string(),
            "key_file": self.key_file.as_ref().map(|p| p.display().to_string()),
            "peers": self.peers.iter().map(PeerSpec::to_json).collect::<Vec<_>>(),
            "stream_id": self.stream_id,
            "connect_timeout_ms": self.connect_timeout.as_millis() as u64,
            "credit_timeout_ms": self.credit_timeout.as_millis() as u64,
            "retry_after_ms": self.retry_after.as_millis() as u64,
            "max_events_per_shard": self.max_events_per_shard,
            "max_bytes_per_shard": self.max_bytes_per_shard,
        });
        if let Some(map) = o.as_object_mut() {
            match &self.psk {
                PskSource::Inline(k) => map.insert("psk_hex".into(), Value::String(hex(k))),
                PskSource::File(p) => {
                    map.insert("psk_file".into(), Value::String(p.display().to_string()))
                }
            };
        }
        o
    }

    /// The PSK: inline, or read from `psk_file` (64 hex digits and an optional newline).
    pub fn load_psk(&self) -> Result<[u8; 32]> {
        match &self.psk {
            PskSource::Inline(k) => Ok(*k),
            PskSource::File(p) => read_psk_file(p),
        }
    }

    /// The identity: loaded from `key_file`, or a fresh random one.
    pub fn load_identity(&self) -> Result<Identity> {
        match &self.key_file {
            Some(p) => Identity::load(p)
                .map_err(|e| Error::config("adapter.key_file", format!("`{}`: {e}", p.display()))),
            None => Identity::generate()
                .map_err(|e| Error::Internal(format!("cannot generate an identity: {e}"))),
        }
    }
}

/// Reads a PSK file: 64 hex digits, an optional trailing newline, nothing else; refused when
/// group or others can access it (unix). Errors name `adapter.psk_file`.
pub fn read_psk_file(p: &Path) -> Result<[u8; 32]> {
    const KEY: &str = "adapter.psk_file";
    let bad = |m: String| Error::config(KEY, format!("`{}`: {m}", p.display()));
    let meta = std::fs::metadata(p).map_err(|e| bad(e.to_string()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(bad("group or others can access it (chmod 600)".to_owned()));
        }
    }
    if meta.len() > 256 {
        return Err(bad("larger than a PSK file can be".to_owned()));
    }
    let text = std::fs::read_to_string(p).map_err(|e| bad(e.to_string()))?;
    let digits = text.strip_suffix('\n').unwrap_or(&text);
    parse_hex32(digits, KEY).map_err(|_| bad("must hold exactly 64 hex digits".to_owned()))
}

/// A new random PSK from the operating system's random number generator.
pub fn generate_psk() -> Result<[u8; 32]> {
    use ring::rand::{SecureRandom, SystemRandom};
    let mut key = [0u8; 32];
    SystemRandom::new()
        .fill(&mut key)
        .map_err(|_| Error::Internal("the system random number generator failed".into()))?;
    Ok(key)
}

/// Writes a new PSK file (`psk_file_text`) with mode 0600 (unix); an existing file is refused
/// unless `replace`. Errors are `invalid_argument` naming the path.
pub fn write_psk_file(path: &Path, key: &[u8; 32], replace: bool) -> Result<()> {
    use std::io::Write as _;
    let bad = |m: String| Error::InvalidArgument(format!("`{}`: {m}", path.display()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if replace {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            bad("already exists (use --force to replace it)".into())
        } else {
            bad(e.to_string())
        }
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| bad(e.to_string()))?;
    }
    file.write_all(psk_file_text(key).as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| bad(e.to_string()))
}

/// The text form of a PSK file for `key`.
pub fn psk_file_text(key: &[u8; 32]) -> String {
    format!("{}\n", hex(key))
}

fn parse_peers(v: &Value) -> Result<Vec<PeerSpec>> {
    let items = v
        .as_array()
        .ok_or_else(|| Error::config("adapter.peers", "must be an array"))?;
    if items.len() > MAX_PEERS {
        return Err(Error::config(
            "adapter.peers",
            format!("at most {MAX_PEERS} peers"),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let at = format!("adapter.peers.{i}");
            match item {
                Value::String(s) => PeerSpec::parse(s, &at),
                Value::Object(o) => parse_peer_object(o, &at),
                _ => Err(Error::config(
                    at,
                    "must be \"ADDR@CARD\", {\"addr\": ..., \"card\": ...} or {\"card\": ..., \"via\": ...}",
                )),
            }
        })
        .collect()
}

/// `{"addr", "card"}` (direct) or `{"card", "via"}` (through a relay, given as `"ADDR@CARD"`
/// or `{"addr", "card"}`).
fn parse_peer_object(o: &Map<String, Value>, at: &str) -> Result<PeerSpec> {
    let neighbour = |o: &Map<String, Value>, at: &str| -> Result<Neighbour> {
        for k in o.keys() {
            if k != "addr" && k != "card" {
                return Err(Error::config(format!("{at}.{k}"), "unknown key here"));
            }
        }
        let field = |k: &str| {
            let key = format!("{at}.{k}");
            match o.get(k) {
                None => Err(Error::config(key, "missing")),
                Some(v) => string(v, &key).map(|s| (s, key)),
            }
        };
        let (addr, akey) = field("addr")?;
        let (card, ckey) = field("card")?;
        Ok(Neighbour {
            addr: parse_addr(addr, &akey)?,
            card: parse_card(card, &ckey)?,
        })
    };
    let Some(via) = o.get("via") else {
        let n = neighbour(o, at)?;
        return Ok(PeerSpec {
            card: n.card,
            route: PeerRoute::Direct(n.addr),
        });
    };
    for k in o.keys() {
        if k != "via" && k != "card" {
            let why = if k == "addr" {
                "a peer reached via a relay has no address of its own here"
            } else {
                "unknown key for a peer"
            };
            return Err(Error::config(format!("{at}.{k}"), why));
        }
    }
    let ckey = format!("{at}.card");
    let card = match o.get("card") {
        None => return Err(Error::config(ckey, "missing")),
        Some(v) => parse_card(string(v, &ckey)?, &ckey)?,
    };
    let vkey = format!("{at}.via");
    let relay = match via {
        Value::String(s) => parse_neighbour(s, &vkey)?,
        Value::Object(v) => neighbour(v, &vkey)?,
        _ => {
            return Err(Error::config(
                vkey,
                "must be \"ADDR@CARD\" or {\"addr\": ..., \"card\": ...}",
            ));
        }
    };
    if relay.card == card {
        return Err(Error::config(vkey, "a peer cannot be its own relay"));
    }
    Ok(PeerSpec::via(card, relay))
}

fn parse_addr(text: &str, key: &str) -> Result<SocketAddr> {
    text.trim().parse().map_err(|_| {
        Error::config(
            key,
            format!("`{text}` is not an IP:port address (e.g. 127.0.0.1:7000)"),
        )
    })
}

fn parse_card(text: &str, key: &str) -> Result<NodeCard> {
    let bytes = parse_hex(text.trim())
        .ok_or_else(|| Error::config(key, "a node card must be hex digits"))?;
    let card = NodeCard::from_bytes(&bytes).map_err(|e| Error::config(key, e.to_string()))?;
    card.verify()
        .map_err(|e| Error::config(key, format!("the card does not verify: {e}")))?;
    Ok(card)
}

fn parse_hex32(text: &str, key: &str) -> Result<[u8; 32]> {
    parse_hex(text)
        .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
        .ok_or_else(|| Error::config(key, "must be exactly 64 hex digits"))
}

/// Hex digits (either case) to bytes; `None` for an odd length or a non-hex character.
fn parse_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.as_bytes()
        .chunks_exact(2)
        .map(|pair| {
            let hi = (pair[0] as char).to_digit(16)?;
            let lo = (pair[1] as char).to_digit(16)?;
            Some((hi * 16 + lo) as u8)
        })
        .collect()
}

fn string<'a>(v: &'a Value, key: &str) -> Result<&'a str> {
    v.as_str()
        .ok_or_else(|| Error::config(key, "must be a string"))
}

fn path(v: &Value, key: &str) -> Result<PathBuf> {
    let s = string(v, key)?;
    if s.is_empty() {
        return Err(Error::config(key, "must not be empty"));
    }
    Ok(PathBuf::from(s))
}

fn millis(v: &Value, key: &str) -> Result<Duration> {
    Ok(Duration::from_millis(uint(v, key, MAX_TIMEOUT_MS)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_decoding_is_strict() {
        assert_eq!(parse_hex("00fFa1"), Some(vec![0, 255, 161]));
        assert_eq!(parse_hex("0"), None);
        assert_eq!(parse_hex("0g"), None);
        assert_eq!(parse_hex("é0"), None);
        assert!(parse_hex32(&"ab".repeat(31), "k").is_err());
        assert_eq!(parse_hex32(&"ab".repeat(32), "k").unwrap(), [0xab; 32]);
    }
}
