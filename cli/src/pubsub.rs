//! `net pub --channel NAME` and `net sub --channel NAME --from ADDR@CARD`: channel pub/sub
//! over the mesh (the engine's `PubSub` on a `MeshNode`).
//!
//! `pub` registers the channel, prints its identity (the `peer arg` line is what `sub --from`
//! takes) to stderr, waits until `--subscribers N` peers subscribed (bounded by `--wait-ms`),
//! then publishes each non-empty stdin line as one event. The channel is reliable (events are
//! retransmitted until acknowledged) unless `--fire-and-forget`. At the end it waits (bounded
//! by `--ack-timeout-ms`) until every subscriber that was handed events acknowledged them; it
//! fails (exit 1) if a publish did not reach every member or an acknowledgement is missing
//! (fire-and-forget channels have no acknowledgements: nothing is waited for).
//! With `--trust-root` (repeatable) the channel requires a permission token: a subscriber is
//! admitted only with a chain from one of those roots (`docs/tokens.md`), re-checked on every
//! publish. `--token-file` on `pub` checks at start that the file's chain lets this node's key
//! publish on the channel (the publisher's own publishes are not checked by anyone else).
//!
//! `sub` dials the publisher (directly, or as a bare CARD `--via` a relay), subscribes
//! (presenting `--token-file`, in `--queue-group` if given: each event then reaches one member
//! of the group) and prints each event's payload as one line on stdout; it ends after
//! `--count` events, after `--idle-exit SECS` without one, or on SIGINT/SIGTERM. A refused
//! subscribe is exit 1 naming the publisher's reason. Not promised: events published before the
//! subscribe.

mod auth;

use std::collections::BTreeSet;
use std::io::{BufRead as _, Write as _};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Args;
use net::channel::{ChannelConfig, ChannelName, ChannelRegistry, GuardConfig, Reliability};
use net::identity::{EntityId, NodeId, hex};
use net::membership::{AckStatus, Credential, PubSub, PubSubConfig, Roster, valid_group};
use net::mesh::config::{MeshConfig, Neighbour, PeerRoute, PeerSpec, PskSource};
use net::mesh::handshake::HandshakeConfig;
use net::mesh::node::{MeshNode, NodeConfig};
use net::mesh::session::EndpointConfig;
use net::token::{Scope, TokenVerifier, VerifyConfig};

use crate::failure::{CliResult, fail};
use crate::mesh::args::{MeshArgs, PeerArg, addr, peer, relay, resolve};
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
    /// Require a permission token on the channel, from a chain rooted at this identity: its
    /// public key (64 hex digits) or its key file. Repeatable.
    #[arg(long = "trust-root", value_name = "HEX|FILE")]
    trust_roots: Vec<String>,
    /// This node's own token (as `net token issue|delegate` writes it): checked at start to
    /// grant publish on the channel to this node's key, against --trust-root.
    #[arg(long, value_name = "FILE", requires = "trust_roots")]
    token_file: Option<PathBuf>,
    /// Wait for this many subscribers before reading stdin.
    #[arg(long, value_name = "N", default_value_t = 0)]
    subscribers: usize,
    /// Bound on that wait, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 30_000,
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    wait_ms: u64,
    /// Send events once, without acknowledgements or retransmission (default: reliable).
    #[arg(long)]
    fire_and_forget: bool,
    /// How long to wait at the end for the subscribers to acknowledge everything, in
    /// milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    ack_timeout_ms: u64,
}

/// Options of `net sub`.
#[derive(Debug, Args)]
pub struct SubArgs {
    /// The channel to subscribe to.
    #[arg(long, value_name = "NAME", value_parser = channel)]
    channel: ChannelName,
    /// The publisher, as ADDR@CARD (`net pub` prints its `peer arg`), or its CARD with --via.
    #[arg(long, value_name = "ADDR@CARD", value_parser = peer)]
    from: PeerArg,
    /// Reach a publisher given as a bare CARD through this relay (ADDR@CARD), which is
    /// dialled directly and forwards the sealed packets without reading them.
    #[arg(long, value_name = "ADDR@CARD", value_parser = relay)]
    via: Option<Neighbour>,
    /// UDP address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0", value_parser = addr)]
    listen: SocketAddr,
    #[command(flatten)]
    mesh: MeshArgs,
    /// The permission-token chain to present (as `net token issue|delegate` writes it, raw
    /// or hex); its last token must be for this node's key (--key-file).
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// Join this queue group: each event reaches one member of the group.
    #[arg(long, value_name = "NAME", value_parser = group)]
    queue_group: Option<String>,
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

/// Checks a queue-group name for clap.
fn group(text: &str) -> Result<String, String> {
    if valid_group(text) {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "`{text}` is not a queue-group name (1 to 64 of A-Z a-z 0-9 _ - .)"
        ))
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Starts the node and its pub/sub with `registry` and `verifier`; returns it with this
/// node's entity id.
fn start(
    args: &MeshArgs,
    listen: SocketAddr,
    registry: ChannelRegistry,
    verifier: Option<Arc<TokenVerifier>>,
) -> CliResult<(PubSub, EntityId)> {
    let mut cfg = MeshConfig::new(listen, PskSource::File(args.psk_file.clone()));
    cfg.key_file = args.key_file.clone();
    let identity = cfg.load_identity()?;
    let entity = identity.entity_id();
    let endpoint = EndpointConfig::new(HandshakeConfig::new(identity, cfg.load_psk()?));
    let node = MeshNode::start(NodeConfig::new(endpoint, listen))
        .map_err(|e| fail!("cannot start the node on {listen}: {e}"))?;
    let roster = Roster::new(registry, verifier, GuardConfig::default())
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
    Ok((ps, entity))
}

/// Runs `net pub`.
pub fn run_pub(args: &PubArgs) -> CliResult<()> {
    signals::install().map_err(|e| fail!("cannot install signal handlers: {e}"))?;
    let roots = args
        .trust_roots
        .iter()
        .map(|r| auth::trust_root(r))
        .collect::<CliResult<Vec<_>>>()?;
    let verifier =
        (!roots.is_empty()).then(|| Arc::new(TokenVerifier::new(roots, VerifyConfig::default())));
    let own_token = args
        .token_file
        .as_deref()
        .map(auth::read_token_file)
        .transpose()?;
    let mut registry = ChannelRegistry::new();
    let config = ChannelConfig {
        require_token: verifier.is_some(),
        reliability: if args.fire_and_forget {
            Reliability::FireAndForget
        } else {
            Reliability::Reliable
        },
        ..ChannelConfig::default()
    };
    registry
        .register(args.channel.clone(), config)
        .map_err(|e| fail!("cannot register {}: {e}", args.channel.as_str()))?;
    let (ps, entity) = start(&args.mesh, args.listen, registry, verifier.clone())?;
    let stop = |ps: &PubSub| {
        ps.stop();
        ps.node().shutdown();
    };
    if let (Some(chain), Some(v)) = (&own_token, &verifier) {
        let hash = args.channel.hash().get();
        if let Err(e) = v.authorize(chain, &entity, hash, Scope::PUBLISH, unix_now()) {
            stop(&ps);
            return Err(fail!(
                "--token-file does not let this node publish on {} ({}): {e}",
                args.channel.as_str(),
                e.kind()
            ));
        }
    }
    if verifier.is_some() {
        eprintln!(
            "requiring    a token from a trusted root on {}",
            args.channel.as_str()
        );
    }
    let hash = args.channel.hash();
    let deadline = Instant::now() + Duration::from_millis(args.wait_ms);
    while ps.with_roster(|r| r.members(hash).len()) < args.subscribers {
        if Instant::now() >= deadline || signals::stop_requested() {
            stop(&ps);
            return Err(fail!(
                "fewer than {} subscribers after {} ms",
                args.subscribers,
                args.wait_ms
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    eprintln!("publishing   {} (stdin lines)", args.channel.as_str());
    let (mut published, mut failed, mut dropped) = (0u64, 0u64, 0u64);
    let mut reached: BTreeSet<NodeId> = BTreeSet::new();
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
        for (peer, reason) in &report.dropped {
            dropped += 1;
            eprintln!("dropped      subscriber {peer}: {reason}");
        }
        reached.extend(report.delivered.iter().copied());
    }
    let reached: Vec<NodeId> = reached.into_iter().collect();
    let unacked = ps.wait_acked(
        &args.channel,
        &reached,
        Duration::from_millis(args.ack_timeout_ms),
    );
    stop(&ps);
    eprintln!(
        "published    {published} events, {failed} failed deliveries, {dropped} subscribers dropped, {}",
        if args.fire_and_forget {
            format!(
                "sent to {} subscriber(s) without acknowledgements",
                reached.len()
            )
        } else if unacked.is_empty() {
            format!("all acknowledged by {} subscriber(s)", reached.len())
        } else {
            format!(
                "{} of {} subscribers NOT all acknowledged",
                unacked.len(),
                reached.len()
            )
        }
    );
    if failed > 0 {
        return Err(fail!("{failed} deliveries failed"));
    }
    if !unacked.is_empty() {
        return Err(fail!(
            "{} subscriber(s) did not acknowledge every event within {} ms",
            unacked.len(),
            args.ack_timeout_ms
        ));
    }
    Ok(())
}

/// Dials the publisher directly or through its relay; returns its node id.
fn dial(node: &MeshNode, spec: &PeerSpec, wait: Duration) -> CliResult<NodeId> {
    let reached = match &spec.route {
        PeerRoute::Direct(addr) => node.connect(*addr, &spec.card, wait),
        PeerRoute::Via(relay) => node
            .connect(relay.addr, &relay.card, wait)
            .and_then(|via| node.connect_via(via, &spec.card, wait)),
    };
    reached.map_err(|e| fail!("cannot reach {}: {e}", spec.describe()))
}

/// Runs `net sub`.
pub fn run_sub(args: &SubArgs) -> CliResult<()> {
    signals::install().map_err(|e| fail!("cannot install signal handlers: {e}"))?;
    let spec = resolve(std::slice::from_ref(&args.from), args.via.as_ref())?
        .into_iter()
        .next()
        .ok_or_else(|| fail!("--from is required"))?;
    let chain = args
        .token_file
        .as_deref()
        .map(auth::read_token_file)
        .transpose()?;
    let (ps, entity) = start(&args.mesh, args.listen, ChannelRegistry::new(), None)?;
    let credential = match chain {
        None => None,
        Some(chain) if chain.leaf().subject != entity => {
            ps.stop();
            ps.node().shutdown();
            return Err(fail!(
                "the token in --token-file is for key {}, but this node's key is {entity} (pass the matching --key-file)",
                chain.leaf().subject
            ));
        }
        Some(chain) => Some(Credential {
            subject: entity,
            chain: chain.to_bytes(),
        }),
    };
    let wait = Duration::from_millis(args.mesh.connect_timeout_ms);
    let subscribed = dial(ps.node(), &spec, wait).and_then(|publisher| {
        let group = args.queue_group.as_deref();
        match ps.subscribe(publisher, &args.channel, group, credential, wait) {
            Ok(AckStatus::Subscribed) => Ok(()),
            Ok(AckStatus::Denied(reason)) => Err(fail!(
                "subscribe refused by the publisher: {reason} ({})",
                auth::hint(reason)
            )),
            Ok(other) => Err(fail!("subscribe refused: {}", other.kind())),
            Err(e) => Err(fail!("subscribe: {e}")),
        }
    });
    if let Err(e) = subscribed {
        ps.stop();
        ps.node().shutdown();
        return Err(e);
    }
    match &args.queue_group {
        Some(g) => eprintln!("subscribed   {} (queue group {g})", args.channel.as_str()),
        None => eprintln!("subscribed   {}", args.channel.as_str()),
    }
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
