//! `net recv [--listen ADDR] --psk-file F [--key-file F] [--count N]`: print every event peers
//! send, one JSON document per line on stdout.
//!
//! Status (identity, the `ADDR@CARD` to give `net send --to`, the final counters) goes to
//! stderr, so stdout carries only events. The events are read from the command's own bus by a
//! push subscription, so this is exactly what a subscriber of a mesh-configured bus sees. Ends
//! after `--count` events, after `--idle-exit SECS` without one, or on SIGINT/SIGTERM.

use std::io::Write as _;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use clap::Args;
use net::bus::WaitOutcome;
use net::{SubscribeOptions, SubscriptionItem};

use super::args::{MeshArgs, MeshBus, addr};
use super::signals;
use crate::failure::{CliResult, fail};

/// Options of `net recv`.
#[derive(Debug, Args)]
pub struct RecvArgs {
    /// UDP address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0", value_parser = addr)]
    listen: SocketAddr,
    #[command(flatten)]
    mesh: MeshArgs,
    /// Exit after printing this many events.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    count: Option<u64>,
    /// Exit after this many seconds without a new event (once at least one arrived).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    idle_exit: Option<u64>,
}

/// Runs `net recv`.
pub fn run(args: &RecvArgs) -> CliResult<()> {
    signals::install().map_err(|e| fail!("cannot install signal handlers: {e}"))?;
    let mesh = MeshBus::start(&args.mesh, args.listen, &[])?;
    for line in mesh.identity_lines() {
        eprintln!("{line}");
    }
    eprintln!("receiving    (Ctrl-C to stop)");
    let mut sub = mesh.bus.subscribe(SubscribeOptions::default())?;
    let stdout = std::io::stdout();
    let mut printed = 0u64;
    let mut last = None::<Instant>;
    let idle = args.idle_exit.map(Duration::from_secs);
    while !signals::stop_requested() && args.count.is_none_or(|n| printed < n) {
        if let (Some(idle), Some(t)) = (idle, last)
            && t.elapsed() >= idle
        {
            break;
        }
        match sub.wait(Some(Duration::from_millis(50)))? {
            WaitOutcome::Item(SubscriptionItem::Event(e)) => {
                let mut out = stdout.lock();
                out.write_all(e.event.raw())
                    .and_then(|()| out.write_all(b"\n"))
                    .and_then(|()| out.flush())
                    .map_err(|err| fail!("cannot write to stdout: {err}"))?;
                printed += 1;
                last = Some(Instant::now());
            }
            WaitOutcome::Item(SubscriptionItem::Lagged { skipped }) => {
                eprintln!("lagged       {skipped} events were evicted before they were printed");
            }
            WaitOutcome::TimedOut => {}
            WaitOutcome::Ended | WaitOutcome::Cancelled => break,
        }
    }
    drop(sub);
    mesh.bus.shutdown()?;
    eprintln!("printed      {printed} events");
    eprintln!("stopped      {}", mesh.counter_line());
    Ok(())
}
