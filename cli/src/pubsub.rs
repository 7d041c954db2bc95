//! `net pub --channel NAME` and `net sub --channel NAME --from ADDR@CARD`: channel pub/sub
//! over the mesh (the engine's `PubSub` on a `MeshNode`).
//!
//! `pub` registers the channel (default config: open), prints its identity (the `peer arg`
//! line is what `sub --from` takes) to stderr, waits until `--subscribers N` peers subscribed
//! (bounded by `--wait-ms`), then publishes each non-empty stdin line as one event; it fails
//! (exit 1) if a publish did not reach every member. `sub` dials the publisher, subscribes and
//! prints each event's payload as one line on stdout; it ends after `--count` events, after
//! `--idle-exit SECS` without one, or on SIGINT/SIGTERM. Not promised: events published
//! before the subscribe; tokens (channels needing one refuse the subscribe with its reason).

use std::io::{BufRead as _, Write as _};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use net::channel::{ChannelConfig, ChannelName, ChannelRegistry, GuardConfig};
use net::identity::hex;
use net::membership::{AckStatus, PubSub, PubSubConfig, Roster};
use net::mesh::config::{MeshConfig, PskSource};
use net::mesh::handshake::HandshakeConfig;
use net::mesh::node::{MeshNode, NodeConfig};
use net::mesh::session::EndpointConfig;

use crate::failure::{CliResult, fail};
use crate::mesh::args::{MeshArgs, PeerArg, addr, peer};
use crate::mesh::signals;

/// Options of `net pub`.
#[derive(Debug, Args)]
pub struct PubArgs {
    /// The channel to publish on (e.g. `sensors/temp`).
    #[arg(long, value_name = "NAME", value_parser = channel)]
    channel: ChannelName,
    /// UDP address to listen on (subscribers dial it).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0", value_parser = addr)]
    listen: SocketAddr,
    #[command(flatten)]
    mesh: MeshArgs,
    /// Wait for this many subscribers before reading stdin.
    #[arg(long, value_name = "N", default_value_t = 0)]
    subscribers: usize,
    /// Bound on that wait, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 30_000,
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    wait_ms: u64,
}

/// Options of `net sub`.
#[derive(Debug, Args)]
pub struct SubArgs {
    /// The channel to subscribe to.
    #[arg(long, value_name = "NAME", value_parser = channel)]
    channel: ChannelName,
    /// The publisher, as ADDR@CARD (`net pub` prints its `peer arg`).
    #[arg(long, value_name = "ADDR@CARD", value_parser = peer)]
    from: PeerArg,
    /// UDP address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0", value_parser = addr)]
    listen: SocketAddr,
    #[command(flatten)]
    mesh: MeshArgs,
    /// Exit after printing this many events.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    count: Option<u64>,
    /// Exit after this many seconds without a new event.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    idle_exit: Option<u64>,
}

/// Parses a channel name for clap.
fn channel(text: &str) -> Result<ChannelName, String> {
    ChannelName::parse(text).map_err(|e| format!("`{text}` is not a channel name: {e}"))
}

/// Starts the node and its pub/sub with `registry`.
fn start(args: &MeshArgs, listen: SocketAddr, registry: ChannelRegistry) -> CliResult<PubSub> {
    let mut cfg = MeshConfig::new(listen, PskSource::File(args.psk_file.clone()));
    cfg.key_file = args.key_file.clone();
    let endpoint = EndpointConfig::new(HandshakeConfig::new(cfg.load_identity()?, cfg.load_psk()?));
    let node = MeshNode::start(NodeConfig::new(endpoint, listen))
        .map_err(|e| fail!("cannot start the node on {listen}: {e}"))?;
    let roster = Roster::new(registry, None, GuardConfig::default())
        .map_err(|e| fail!("guard config: {e}"))?;
    let ps = PubSub::start(Arc::new(node), roster, PubSubConfig::default());
    let node = ps.node();
    let card = node.card();
    eprintln!("node id      {}", node.node_id());
    eprintln!(
        "peer arg     {}@{}",
        node.local_addr(),
        hex(&card.to_bytes())
    );
    Ok(ps)
}

/// Runs `net pub`.
pub fn run_pub(args: &PubArgs) -> CliResult<()> {
    signals::install().map_err(|e| fail!("cannot install signal handlers: {e}"))?;
    let mut registry = ChannelRegistry::new();
    registry
        .register(args.channel.clone(), ChannelConfig::default())
        .map_err(|e| fail!("cannot register {}: {e}", args.channel.as_str()))?;
    let ps = start(&args.mesh, args.listen, registry)?;
    let hash = args.channel.hash();
    let deadline = Instant::now() + Duration::from_millis(args.wait_ms);
    while ps.with_roster(|r| r.members(hash).len()) < args.subscribers {
        if Instant::now() >= deadline || signals::stop_requested() {
            ps.node().shutdown();
            return Err(fail!(
                "fewer than {} subscribers after {} ms",
                args.subscribers,
                args.wait_ms
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    eprintln!("publishing   {} (stdin lines)", args.channel.as_str());
    let (mut published, mut failed) = (0u64, 0u64);
    for line in std::io::stdin().lock().lines() {
        let line = line.map_err(|e| fail!("cannot read stdin: {e}"))?;
        if line.is_empty() {
            continue;
        }
        if signals::stop_requested() {
            break;
        }
        let report = ps
            .publish(&args.channel, line.as_bytes())
            .map_err(|e| fail!("publish: {e}"))?;
        published += 1;
        failed += report.failed.len() as u64;
    }
    ps.node().flush().map_err(|e| fail!("flush: {e}"))?;
    // Give reliable streams a moment to be acknowledged before the node goes away.
    std::thread::sleep(Duration::from_millis(200));
    ps.stop();
    ps.node().shutdown();
    eprintln!("published    {published} events, {failed} failed deliveries");
    if failed > 0 {
        return Err(fail!("{failed} deliveries failed"));
    }
    Ok(())
}

/// Runs `net sub`.
pub fn run_sub(args: &SubArgs) -> CliResult<()> {
    signals::install().map_err(|e| fail!("cannot install signal handlers: {e}"))?;
    let PeerArg::Direct(spec) = &args.from else {
        return Err(fail!("--from takes ADDR@CARD"));
    };
    let ps = start(&args.mesh, args.listen, ChannelRegistry::new())?;
    let wait = Duration::from_millis(args.mesh.connect_timeout_ms);
    let publisher = ps
        .node()
        .connect(spec.first_hop(), &spec.card, wait)
        .map_err(|e| fail!("cannot reach {}: {e}", spec.describe()))?;
    match ps.subscribe(publisher, &args.channel, None, None, wait) {
        Ok(AckStatus::Subscribed) => {}
        Ok(other) => return Err(fail!("subscribe refused: {}", other.kind())),
        Err(e) => return Err(fail!("subscribe: {e}")),
    }
    eprintln!("subscribed   {}", args.channel.as_str());
    let stdout = std::io::stdout();
    let mut printed = 0u64;
    let mut last = Instant::now();
    let idle = args.idle_exit.map(Duration::from_secs);
    while !signals::stop_requested() && args.count.is_none_or(|n| printed < n) {
        if idle.is_some_and(|i| last.elapsed() >= i) {
            break;
        }
        let Some(event) = ps.recv(Duration::from_millis(50)) else {
            continue;
        };
        let mut out = stdout.lock();
        out.write_all(&event.payload)
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.flush())
            .map_err(|err| fail!("cannot write to stdout: {err}"))?;
        printed += 1;
        last = Instant::now();
    }
    ps.stop();
    ps.node().shutdown();
    eprintln!("printed      {printed} events");
    Ok(())
}
