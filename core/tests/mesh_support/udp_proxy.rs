//! A test-only UDP proxy for the real-socket mesh tests: it sits between the first node that
//! sends to it (the client) and a target node, and can drop or alter traffic on command.
//!
//! Promises: forwarding in both directions until dropped; every switch takes effect on the
//! next datagram. Does not promise: ordering beyond what one thread forwarding one datagram
//! at a time gives, or more than one client.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// Outer header bytes of a routed datagram before the inner header (`RT` + 16 bytes).
const ROUTED_HEADER: usize = 18;
/// Inner header length.
const INNER_HEADER: usize = 64;

/// The proxy; see the module docs. Dropping it stops its thread.
pub struct UdpProxy {
    /// Where the client sends to reach the target.
    pub addr: SocketAddr,
    /// While set, every datagram in either direction is dropped.
    pub paused: Arc<AtomicBool>,
    /// While set, datagrams from the client to the target are dropped (the target's still
    /// reach the client): a link that fails one way.
    pub drop_to_target: Arc<AtomicBool>,
    /// While above zero, each routed data datagram (inner flags without handshake, heartbeat
    /// or control bits) from the target to the client gets one ciphertext byte flipped, and
    /// the count goes down by one.
    pub tamper: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

/// The switches the forwarding thread reads.
struct Switches {
    paused: Arc<AtomicBool>,
    drop_to_target: Arc<AtomicBool>,
    tamper: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl UdpProxy {
    /// Binds 127.0.0.1:0 and forwards between the first client and `target`.
    pub fn start(target: SocketAddr) -> UdpProxy {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(1)))
            .unwrap();
        let addr = sock.local_addr().unwrap();
        let sw = Switches {
            paused: Arc::new(AtomicBool::new(false)),
            drop_to_target: Arc::new(AtomicBool::new(false)),
            tamper: Arc::new(AtomicU64::new(0)),
            stop: Arc::new(AtomicBool::new(false)),
        };
        let (paused, drop_to_target) = (Arc::clone(&sw.paused), Arc::clone(&sw.drop_to_target));
        let (tamper, stop) = (Arc::clone(&sw.tamper), Arc::clone(&sw.stop));
        let handle = std::thread::spawn(move || forward(&sock, target, &sw));
        UdpProxy {
            addr,
            paused,
            drop_to_target,
            tamper,
            stop,
            handle: Some(handle),
        }
    }
}

fn forward(sock: &UdpSocket, target: SocketAddr, sw: &Switches) {
    let mut client: Option<SocketAddr> = None;
    let mut buf = vec![0u8; 65536];
    while !sw.stop.load(Ordering::Relaxed) {
        let Ok((len, from)) = sock.recv_from(&mut buf) else {
            continue;
        };
        if sw.paused.load(Ordering::Relaxed) {
            continue;
        }
        let data = &mut buf[..len];
        let to = if from == target {
            let Some(c) = client else { continue };
            if is_routed_data(data) && sw.tamper.load(Ordering::Relaxed) > 0 {
                sw.tamper.fetch_sub(1, Ordering::Relaxed);
                data[ROUTED_HEADER + INNER_HEADER + 4] ^= 0x80;
            }
            c
        } else {
            client = Some(from);
            if sw.drop_to_target.load(Ordering::Relaxed) {
                continue;
            }
            target
        };
        let _ = sock.send_to(data, to);
    }
}

/// A routed data datagram with a frame: inner flags without HANDSHAKE, HEARTBEAT or CONTROL.
fn is_routed_data(data: &[u8]) -> bool {
    data.starts_with(b"RT")
        && data.len() > ROUTED_HEADER + INNER_HEADER + 16 + 8
        && data[ROUTED_HEADER + 3] & 0x0B == 0
}

impl Drop for UdpProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
