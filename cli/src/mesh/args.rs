//! Options shared by the mesh commands and the bus they build.
//!
//! Promises: a bad `--peer`/`--to` value or address is a usage error from clap (exit 2) naming
//! the option; an unreadable key or PSK file, or an address that cannot be bound, is a run
//! failure (exit 1) naming the file or address. The bus uses `block` backpressure, so nothing
//! typed at a terminal is dropped.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use net::identity::NodeCard;
use net::identity::hex;
use net::mesh::bus_adapter::MeshAdapter;
use net::mesh::config::{
    MeshConfig, Neighbour, PeerSpec, PskSource, parse_card_hex, parse_neighbour,
};
use net::{AdapterConfig, Backpressure, EventBus, EventBusConfig};

use crate::failure::{CliResult, fail};

/// Identity and key options of every mesh command.
#[derive(Debug, Clone, Args)]
pub struct MeshArgs {
    /// The mesh PSK file (64 hex digits; make one with `net psk --out FILE`).
    #[arg(long, value_name = "FILE")]
    pub psk_file: PathBuf,
    /// This node's identity key file (`net keygen --out FILE`); default: a fresh identity.
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// Bound on dialling each peer, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 3000,
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub connect_timeout_ms: u64,
}

/// A peer as given on the command line: `ADDR@CARD`, or a bare `CARD` reached `--via` a relay.
#[derive(Debug, Clone)]
pub enum PeerArg {
    /// `ADDR@CARD`: dialled directly.
    Direct(PeerSpec),
    /// `CARD`: dialled through the `--via` relay.
    Card(NodeCard),
}

fn message(e: net::Error) -> String {
    match e {
        net::Error::Config { message, .. } => message,
        other => other.to_string(),
    }
}

/// Parses `ADDR@CARD` or a bare `CARD` for clap.
pub fn peer(text: &str) -> Result<PeerArg, String> {
    if text.contains('@') {
        PeerSpec::parse(text, "ADDR@CARD")
            .map(PeerArg::Direct)
            .map_err(message)
    } else {
        parse_card_hex(text, "CARD")
            .map(PeerArg::Card)
            .map_err(message)
    }
}

/// Parses the `--via ADDR@CARD` relay for clap.
pub fn relay(text: &str) -> Result<Neighbour, String> {
    parse_neighbour(text, "ADDR@CARD").map_err(message)
}

/// The peers to configure: bare cards are reached through `via`, which they require.
pub fn resolve(peers: &[PeerArg], via: Option<&Neighbour>) -> CliResult<Vec<PeerSpec>> {
    peers
        .iter()
        .map(|p| match (p, via) {
            (PeerArg::Direct(spec), _) => Ok(spec.clone()),
            (PeerArg::Card(card), Some(relay)) => Ok(PeerSpec::via(*card, relay.clone())),
            (PeerArg::Card(_), None) => Err(fail!(
                "a peer given as a bare CARD is reached through a relay: add --via ADDR@CARD (or give it as ADDR@CARD)"
            )),
        })
        .collect()
}

/// Parses an `IP:port` address for clap.
pub fn addr(text: &str) -> Result<SocketAddr, String> {
    text.parse()
        .map_err(|_| format!("`{text}` is not an IP:port address (e.g. 127.0.0.1:7000)"))
}

/// A running bus over the mesh adapter, and the adapter (for its node and counters).
pub struct MeshBus {
    /// The bus.
    pub bus: EventBus,
    /// Its adapter.
    pub adapter: Arc<MeshAdapter>,
}

impl MeshBus {
    /// Starts the node on `listen`, dials `peers` and builds the bus.
    pub fn start(args: &MeshArgs, listen: SocketAddr, peers: &[PeerSpec]) -> CliResult<MeshBus> {
        let mut mesh = MeshConfig::new(listen, PskSource::File(args.psk_file.clone()));
        mesh.key_file = args.key_file.clone();
        mesh.peers = peers.to_vec();
        mesh.connect_timeout = Duration::from_millis(args.connect_timeout_ms);
        let config = EventBusConfig::builder()
            .num_shards(1)
            .backpressure(Backpressure::Block {
                timeout: Duration::from_secs(30),
            })
            .adapter(AdapterConfig::Mesh(mesh.clone()))
            .build()?;
        let adapter = Arc::new(MeshAdapter::from_config(&mesh)?);
        let bus = EventBus::with_adapter(config, adapter.clone())?;
        Ok(MeshBus { bus, adapter })
    }

    /// Lines describing this node: node id, public key, card, address.
    pub fn identity_lines(&self) -> Vec<String> {
        let node = self.adapter.node();
        let card = node.card();
        vec![
            format!("node id      {}", node.node_id()),
            format!("public key   {}", hex(&card.public_key)),
            format!("card         {}", hex(&card.to_bytes())),
            format!("listening    {}", node.local_addr()),
            format!(
                "peer arg     {}@{}",
                node.local_addr(),
                hex(&card.to_bytes())
            ),
        ]
    }

    /// One line per configured peer with its state.
    pub fn peer_lines(&self, peers: &[PeerSpec]) -> Vec<String> {
        let node = self.adapter.node();
        peers
            .iter()
            .map(|p| {
                let id = p.node_id();
                let state = match node.health(id) {
                    _ if !node.is_connected(id) => "not connected".to_owned(),
                    Some(h) => format!("connected, {h:?}").to_lowercase(),
                    None => "connected".to_owned(),
                };
                format!("peer         {} node {id} ({state})", p.describe())
            })
            .collect()
    }

    /// One line of counters: forwarded / failed, received / ingested, datagrams.
    pub fn counter_line(&self) -> String {
        let f = self.adapter.forward_stats();
        let i = self.adapter.ingress_stats().unwrap_or_default();
        let c = self.adapter.node().counters();
        format!(
            "forwarded {} failed {} | received {} ingested {} rejected {} | datagrams rx {} tx {} dropped {} relayed {} | sessions {}",
            f.forwarded,
            f.failed,
            i.received,
            i.ingested,
            i.rejected,
            c.rx_datagrams,
            c.tx_datagrams,
            c.rx_dropped,
            c.relay_forwarded,
            c.sessions_established
        )
    }
}
