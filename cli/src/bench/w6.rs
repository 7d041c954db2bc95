//! W6: two mesh nodes on 127.0.0.1 move 64-byte events on a reliable stream, next to plain
//! UDP moving the same number of same-sized datagrams in the same run.
//!
//! `w6.mesh_reliable_eps`: a sender thread pushes the events with `send_batch` (512 per call,
//! waiting for credit when the receiver's window is full); the timer stops when the receiver
//! holds the last one. Each event carries its index; the receiver checks every one arrives
//! exactly once and in order. `w6.raw_udp_eps`: the same payload as 1,400-byte datagrams of
//! 20 events (what the mesh puts in one datagram) between two plain sockets, no encryption and
//! no flow control; plain UDP may drop, so its figure counts the events delivered.

use std::net::UdpSocket;
use std::sync::Arc;
use std::time::{Duration, Instant};

use net::mesh::session::Event;

use super::mesh_pair::{self, STREAM};
use super::plan::Plan;
use super::run::{Run, per_second};
use crate::failure::{CliResult, fail, join};

/// Events per `send_batch` call.
const CHUNK: usize = 512;
/// Bytes of one event.
const EVENT_BYTES: usize = 64;
/// Events per datagram in the plain UDP comparison (a mesh datagram holds 20 with defaults).
const EVENTS_PER_DATAGRAM: u64 = 20;
/// Bytes of one datagram in the plain UDP comparison.
const DATAGRAM_BYTES: usize = 1400;
/// Longest quiet time before the workload gives up.
const STALL: Duration = Duration::from_secs(10);

fn event(i: u64) -> [u8; EVENT_BYTES] {
    let mut e = [b'.'; EVENT_BYTES];
    e[..8].copy_from_slice(&i.to_le_bytes());
    e
}

/// One repetition: both figures.
pub fn run(plan: &Plan) -> CliResult<Run> {
    let n = plan.w6_events;
    let mut out = Run::default();
    let (eps, received) = mesh(n)?;
    out.figure("w6.mesh_reliable_eps", eps, n, received)?;
    let (udp_eps, delivered) = raw_udp(n)?;
    out.figure_lossy("w6.raw_udp_eps", udp_eps, n, delivered)?;
    Ok(out)
}

fn mesh(n: u64) -> CliResult<(f64, u64)> {
    let pair = mesh_pair::start(31)?;
    let (a, peer) = (Arc::clone(&pair.a), pair.peer_b);
    let start = Instant::now();
    let sender = std::thread::Builder::new()
        .name("w6-sender".to_owned())
        .spawn(move || -> CliResult<u64> {
            let mut next = 0u64;
            let mut chunk: Vec<[u8; EVENT_BYTES]> = Vec::with_capacity(CHUNK);
            while next < n {
                chunk.clear();
                chunk.extend((next..n.min(next + CHUNK as u64)).map(event));
                let (done, r) = a
                    .send_batch(peer, STREAM, chunk.iter().map(|e| &e[..]))
                    .map_err(|e| fail!("w6 send: {e}"))?;
                next += done as u64;
                if r.is_err() && done < chunk.len() {
                    a.send_blocking(peer, STREAM, &chunk[done], STALL)
                        .map_err(|e| fail!("w6 send after {next} events: {e}"))?;
                    next += 1;
                }
            }
            a.flush().map_err(|e| fail!("w6 flush: {e}"))?;
            Ok(next)
        })
        .map_err(|e| fail!("cannot start the w6 sender: {e}"))?;

    let mut expected = 0u64;
    let mut events = Vec::new();
    let mut last = Instant::now();
    while expected < n {
        events.clear();
        let got = pair
            .b
            .recv_batch(&mut events, Duration::from_millis(100))
            .unwrap_or(0);
        if got == 0 && last.elapsed() > STALL {
            break;
        }
        for ev in &events {
            if let Event::Data(d) = ev {
                last = Instant::now();
                for e in d.events() {
                    let index = e
                        .first_chunk::<8>()
                        .map(|b| u64::from_le_bytes(*b))
                        .ok_or_else(|| fail!("w6: an event of {} bytes", e.len()))?;
                    if index != expected {
                        pair.shutdown();
                        return Err(fail!("w6: expected event {expected}, got {index}"));
                    }
                    expected += 1;
                }
            }
        }
    }
    let elapsed = start.elapsed();
    let sent = join(sender, "w6 sender")?;
    pair.shutdown();
    if sent != n {
        return Err(fail!("w6: the sender got {sent} of {n} events accepted"));
    }
    Ok((per_second(expected, elapsed), expected))
}

/// A loopback UDP socket with the 4 MiB buffers the mesh node asks for.
fn udp_socket() -> CliResult<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))
        .map_err(|e| fail!("w6 udp socket: {e}"))?;
    // Best effort, as in the node: the kernel may cap the sizes.
    let _ = s.set_recv_buffer_size(4 << 20);
    let _ = s.set_send_buffer_size(4 << 20);
    let addr: std::net::SocketAddr = "127.0.0.1:0".parse().map_err(|e| fail!("address: {e}"))?;
    s.bind(&addr.into())
        .map_err(|e| fail!("w6 udp bind: {e}"))?;
    Ok(s.into())
}

fn raw_udp(n: u64) -> CliResult<(f64, u64)> {
    let datagrams = n.div_ceil(EVENTS_PER_DATAGRAM);
    let rx = udp_socket()?;
    let tx = udp_socket()?;
    rx.set_read_timeout(Some(Duration::from_millis(200)))
        .map_err(|e| fail!("w6 udp: {e}"))?;
    let to = rx.local_addr().map_err(|e| fail!("w6 udp: {e}"))?;
    let receiver = std::thread::Builder::new()
        .name("w6-udp-receiver".to_owned())
        .spawn(move || -> CliResult<(u64, Option<Instant>)> {
            let mut buf = vec![0u8; 65536];
            let (mut got, mut last) = (0u64, None);
            while got < datagrams {
                match rx.recv(&mut buf) {
                    Ok(_) => {
                        got += 1;
                        last = Some(Instant::now());
                    }
                    Err(_) => break, // quiet for 200 ms: the sender is done, the rest was lost
                }
            }
            Ok((got, last))
        })
        .map_err(|e| fail!("cannot start the w6 udp receiver: {e}"))?;
    let datagram = [b'u'; DATAGRAM_BYTES];
    let start = Instant::now();
    for _ in 0..datagrams {
        // A full socket buffer is a drop, as plain UDP does under load; keep going.
        let _ = tx.send_to(&datagram, to);
    }
    let (got, last) = join(receiver, "w6 udp receiver")?;
    let Some(last) = last else {
        return Err(fail!("w6: no plain UDP datagram arrived"));
    };
    let delivered = got * EVENTS_PER_DATAGRAM;
    Ok((per_second(delivered, last - start), delivered.min(n)))
}
