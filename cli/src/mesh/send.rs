//! `net send --to ADDR@CARD [--to ...] --psk-file F [--key-file F]`: send stdin lines as events
//! (`--to CARD --via ADDR@CARD`: to a peer reached through a relay).
//!
//! Each non-empty line becomes one event: a line that is a JSON document is sent as it is,
//! any other line as a JSON string (`hello` -> `"hello"`). The lines go into the command's own
//! bus, whose mesh adapter forwards them to every `--to` peer. At end of input (or on
//! SIGINT/SIGTERM) it flushes and waits until the peers acknowledged everything; it fails
//! (exit 1) when a peer cannot be reached within `--connect-timeout-ms` or when any event was
//! not handed to every peer. A summary goes to stderr.

use std::io::BufRead as _;
use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;
use crossbeam_channel::RecvTimeoutError;
use net::mesh::config::Neighbour;

use super::args::{MeshArgs, MeshBus, PeerArg, addr, peer, relay, resolve};
use super::signals;
use crate::failure::{CliResult, fail};

/// Options of `net send`.
#[derive(Debug, Args)]
pub struct SendArgs {
    /// A peer to send to, as ADDR@CARD, or CARD with --via (repeatable; `net recv` and
    /// `net node` print theirs).
    #[arg(long = "to", value_name = "ADDR@CARD", required = true, value_parser = peer)]
    to: Vec<PeerArg>,
    /// Reach every peer given as a bare CARD through this relay (ADDR@CARD), which is dialled
    /// directly; the relay forwards the sealed packets without being able to read them.
    #[arg(long, value_name = "ADDR@CARD", value_parser = relay)]
    via: Option<Neighbour>,
    #[command(flatten)]
    mesh: MeshArgs,
    /// UDP address to send from.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0", value_parser = addr)]
    listen: SocketAddr,
    /// How long to wait at the end for the peers to acknowledge everything, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    ack_timeout_ms: u64,
}

/// The event for one input line: the line itself when it is JSON, otherwise a JSON string.
fn event_text(line: &str) -> String {
    if net::event::validate(line.as_bytes()).is_ok() {
        line.to_owned()
    } else {
        serde_json::Value::String(line.to_owned()).to_string()
    }
}

/// Runs `net send`.
pub fn run(args: &SendArgs) -> CliResult<()> {
    signals::install().map_err(|e| fail!("cannot install signal handlers: {e}"))?;
    let to = resolve(&args.to, args.via.as_ref())?;
    let mesh = MeshBus::start(&args.mesh, args.listen, &to)?;
    let wait = Duration::from_millis(args.mesh.connect_timeout_ms);
    if !mesh.adapter.wait_connected(wait) {
        let down: Vec<String> = mesh
            .peer_lines(&to)
            .into_iter()
            .filter(|l| l.ends_with("(not connected)"))
            .collect();
        let _ = mesh.bus.shutdown();
        return Err(fail!(
            "cannot reach {} within {} ms (wrong address, card or PSK, or the peer is not running)",
            down.join("; "),
            args.mesh.connect_timeout_ms
        ));
    }
    for line in mesh.peer_lines(&to) {
        eprintln!("{line}");
    }
    // Stdin is read on its own thread so a signal is noticed while no line comes.
    let (tx, rx) = crossbeam_channel::bounded::<String>(1024);
    std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        })
        .map_err(|e| fail!("cannot start the stdin thread: {e}"))?;
    let mut sent = 0u64;
    let mut refused = 0u64;
    while !signals::stop_requested() {
        let line = match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        if line.trim().is_empty() {
            continue;
        }
        match mesh.bus.ingest_str(&event_text(&line)) {
            Ok(_) => sent += 1,
            Err(e) => {
                refused += 1;
                eprintln!("refused      {e}");
            }
        }
    }
    mesh.bus.flush()?;
    let acked = mesh
        .adapter
        .wait_acked(Duration::from_millis(args.ack_timeout_ms));
    let stats = mesh.adapter.forward_stats();
    mesh.bus.shutdown()?;
    let peers = to.len() as u64;
    eprintln!(
        "sent         {sent} events to {peers} peer(s): {} handed over, {} failed, {}",
        stats.forwarded,
        stats.failed,
        if acked {
            "all acknowledged"
        } else {
            "NOT all acknowledged"
        }
    );
    if stats.failed > 0 || stats.forwarded != sent * peers || !acked || refused > 0 {
        return Err(fail!(
            "not every event reached every peer ({} failed, {refused} refused){}",
            stats.failed,
            stats
                .last_error
                .map(|e| format!("; last error: {e}"))
                .unwrap_or_default()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::event_text;

    #[test]
    fn json_lines_pass_and_other_lines_become_strings() {
        assert_eq!(event_text(r#"{"a":1}"#), r#"{"a":1}"#);
        assert_eq!(event_text("42"), "42");
        assert_eq!(event_text("hello"), r#""hello""#);
        assert_eq!(event_text(r#"say "hi""#), r#""say \"hi\"""#);
        assert_eq!(event_text("{broken"), r#""{broken""#);
    }
}
