//! W7: round trips A -> B -> A of one 64-byte event over reliable streams on loopback.
//!
//! B's echo thread sends every event it receives back on its own stream; A takes the time
//! before `send` and after `recv` returns the echo, one event in flight. Each echo must be the
//! event just sent (its index is checked), so a lost or repeated event fails the run.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use net::mesh::session::Event;
use net::mesh::stream::StreamMode;

use super::mesh_pair::{self, REPLY_STREAM, STREAM};
use super::plan::Plan;
use super::run::Run;
use crate::failure::{CliResult, fail, join};
use crate::latency::Latencies;

/// Longest wait for one echo.
const STALL: Duration = Duration::from_secs(5);

/// One repetition: p50 and p99.
pub fn run(plan: &Plan) -> CliResult<Run> {
    let n = plan.w7_samples;
    let pair = mesh_pair::start(41)?;
    let stop = Arc::new(AtomicBool::new(false));
    let echo = {
        let (b, peer_a, stop) = (Arc::clone(&pair.b), pair.peer_a, Arc::clone(&stop));
        std::thread::Builder::new()
            .name("w7-echo".to_owned())
            .spawn(move || -> CliResult<u64> {
                let mut echoed = 0u64;
                let mut events = Vec::new();
                let mut reply_open = false;
                while !stop.load(Ordering::Acquire) {
                    events.clear();
                    if b.recv_batch(&mut events, Duration::from_millis(20))
                        .is_err()
                    {
                        continue;
                    }
                    for ev in &events {
                        if let Event::Data(d) = ev {
                            if !reply_open {
                                b.open_stream(peer_a, REPLY_STREAM, StreamMode::Reliable)
                                    .map_err(|e| fail!("w7 reply stream: {e}"))?;
                                reply_open = true;
                            }
                            for e in d.events() {
                                b.send_blocking(peer_a, REPLY_STREAM, e, STALL)
                                    .map_err(|e| fail!("w7 echo: {e}"))?;
                                echoed += 1;
                            }
                        }
                    }
                }
                Ok(echoed)
            })
            .map_err(|e| fail!("cannot start the w7 echo thread: {e}"))?
    };

    let mut lat = Latencies::with_capacity(n as usize);
    let mut received = 0u64;
    let mut outcome = Ok(());
    'samples: for i in 0..n {
        let mut ev = [b'.'; 64];
        ev[..8].copy_from_slice(&i.to_le_bytes());
        let t0 = Instant::now();
        if let Err(e) = pair.a.send(pair.peer_b, STREAM, &ev) {
            outcome = Err(fail!("w7 send {i}: {e}"));
            break;
        }
        loop {
            match pair.a.recv(STALL.saturating_sub(t0.elapsed())) {
                Ok(Event::Data(d)) => {
                    let t1 = Instant::now();
                    let back: Vec<&[u8]> = d.events().collect();
                    if back.len() != 1 || back[0] != ev {
                        outcome = Err(fail!(
                            "w7: round trip {i} came back as {} events",
                            back.len()
                        ));
                        break 'samples;
                    }
                    lat.push(t1.saturating_duration_since(t0).as_nanos() as u64);
                    received += 1;
                    break;
                }
                Ok(_) => {} // health or connection events
                Err(e) => {
                    outcome = Err(fail!("w7: no echo of {i} within {STALL:?}: {e}"));
                    break 'samples;
                }
            }
        }
    }
    stop.store(true, Ordering::Release);
    let echoed = join(echo, "w7 echo");
    pair.shutdown();
    outcome?;
    let echoed = echoed?;
    if echoed != received {
        return Err(fail!("w7: B echoed {echoed} events, A received {received}"));
    }
    let p50 = lat.percentile(50.0).unwrap_or(0) as f64 / 1e3;
    let p99 = lat.percentile(99.0).unwrap_or(0) as f64 / 1e3;
    let mut out = Run::default();
    out.figure("w7.rtt_p50_us", p50, n, received)?;
    out.figure("w7.rtt_p99_us", p99, n, received)?;
    Ok(out)
}
