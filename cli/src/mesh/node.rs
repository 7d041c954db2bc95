//! `net node --listen ADDR --psk-file F [--key-file F] [--peer ADDR@CARD]... [--via ADDR@CARD
//! --peer CARD]`: run a mesh node until SIGINT/SIGTERM.
//!
//! A node relays for others by itself: when a peer dials a third node through it, it forwards
//! their sealed packets (counted in `net`'s datagram figures, never readable by it).
//!
//! Prints its identity (node id, public key, card, the `ADDR@CARD` argument others pass to
//! reach it) and its peers, then a line of counters every `--stats-every` seconds (forwarded /
//! failed, received / ingested, datagrams, sessions), and a final one after a clean shutdown.
//! Events peers send land in the node's own bus (retained in memory, not printed: `net recv`
//! prints them). `--run-for SECS` stops it by itself (used by scripts and tests).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use clap::Args;
use net::mesh::config::Neighbour;

use super::args::{MeshArgs, MeshBus, PeerArg, addr, peer, relay, resolve};
use super::signals;
use crate::failure::{CliResult, fail};

/// Options of `net node`.
#[derive(Debug, Args)]
pub struct NodeArgs {
    /// UDP address to listen on (`127.0.0.1:0` picks a free port).
    #[arg(long, value_name = "ADDR", value_parser = addr)]
    listen: SocketAddr,
    #[command(flatten)]
    mesh: MeshArgs,
    /// A peer to dial and forward to, as ADDR@CARD, or CARD with --via (repeatable).
    #[arg(long = "peer", value_name = "ADDR@CARD", value_parser = peer)]
    peers: Vec<PeerArg>,
    /// Reach every peer given as a bare CARD through this relay (ADDR@CARD), which is dialled
    /// directly; the relay forwards the sealed packets without being able to read them.
    #[arg(long, value_name = "ADDR@CARD", value_parser = relay)]
    via: Option<Neighbour>,
    /// Seconds between counter lines (0: only the final one).
    #[arg(long, value_name = "SECS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(0..=86_400))]
    stats_every: u64,
    /// Stop by itself after this many seconds.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=31_536_000))]
    run_for: Option<u64>,
}

/// Runs `net node` until interrupted.
pub fn run(args: &NodeArgs) -> CliResult<()> {
    signals::install().map_err(|e| fail!("cannot install signal handlers: {e}"))?;
    let peers = resolve(&args.peers, args.via.as_ref())?;
    let mesh = MeshBus::start(&args.mesh, args.listen, &peers)?;
    for line in mesh.identity_lines() {
        println!("{line}");
    }
    for line in mesh.peer_lines(&peers) {
        println!("{line}");
    }
    println!("running      (Ctrl-C to stop)");
    let started = Instant::now();
    let every = Duration::from_secs(args.stats_every);
    let mut next = started + every;
    let end = args.run_for.map(|s| started + Duration::from_secs(s));
    while !signals::stop_requested() && end.is_none_or(|e| Instant::now() < e) {
        std::thread::sleep(Duration::from_millis(50));
        if !every.is_zero() && Instant::now() >= next {
            next += every;
            println!(
                "[{:>5}s] {}",
                started.elapsed().as_secs(),
                mesh.counter_line()
            );
            for line in mesh.peer_lines(&peers) {
                println!("{line}");
            }
        }
    }
    let report = mesh.bus.shutdown()?;
    println!("stopped      {}", mesh.counter_line());
    if report.undelivered > 0 {
        return Err(fail!(
            "{} events were still in the bus at shutdown",
            report.undelivered
        ));
    }
    Ok(())
}
