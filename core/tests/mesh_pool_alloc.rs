//! The send path allocates nothing per packet in steady state: a counting global allocator
//! (this test binary only) counts every allocation made inside the measured node's calls
//! (`send_many`, `flush`, `poll_transmit`, `handle_datagram` of acks, `handle_timeout`) once
//! the node has warmed up, and the packet pool's miss counter must not move either. The
//! driver role (handing sent buffers back with `PacketPool::put`) is played by the harness,
//! as `MeshNode` does after `sendmmsg`. A relay's forwarding is measured the same way.

mod mesh_support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mesh_support::{check_event, config, event};
use net::mesh::session::{Endpoint, Event};
use net::mesh::stream::StreamMode;

struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn note_alloc() {
    // `try_with`: the allocator can run while thread locals are being torn down.
    let _ = COUNTING.try_with(|c| {
        if c.get() {
            let _ = ALLOCS.try_with(|a| a.set(a.get() + 1));
        }
    });
}

// SAFETY: every method forwards to the system allocator unchanged; counting touches only
// const-initialised thread-local cells, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_alloc();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_alloc();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_alloc();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` counting its allocations (on this thread) into the total when `on`.
fn counted<R>(on: bool, f: impl FnOnce() -> R) -> R {
    COUNTING.with(|c| c.set(on));
    let r = f();
    COUNTING.with(|c| c.set(false));
    r
}

fn allocs() -> u64 {
    ALLOCS.with(|a| a.get())
}

/// Endpoints wired by index, with the harness as the network and the UDP driver.
struct Wire {
    now: Instant,
    nodes: Vec<Endpoint>,
    addrs: Vec<SocketAddr>,
    /// Allocations are counted inside calls to this node.
    measured: Option<usize>,
}

impl Wire {
    fn new(nodes: Vec<Endpoint>) -> Wire {
        let addrs = (0..nodes.len())
            .map(|i| SocketAddr::from(([10, 0, 0, i as u8 + 1], 7000)))
            .collect();
        Wire {
            now: Instant::now(),
            nodes,
            addrs,
            measured: None,
        }
    }

    fn on(&self, i: usize) -> bool {
        self.measured == Some(i)
    }

    /// Moves every datagram to its destination until the network is quiet; each sent buffer
    /// goes back to its sender's pool (what `MeshNode` does after the system call).
    fn pump(&mut self) {
        loop {
            let mut moved = false;
            for from in 0..self.nodes.len() {
                loop {
                    let on = self.on(from);
                    let Some(mut t) = counted(on, || self.nodes[from].poll_transmit()) else {
                        break;
                    };
                    moved = true;
                    let to = self.addrs.iter().position(|a| *a == t.dest).unwrap();
                    let (now, src) = (self.now, self.addrs[from]);
                    let on_to = self.on(to);
                    counted(on_to, || {
                        self.nodes[to].handle_datagram(now, src, &mut t.data)
                    });
                    self.nodes[from].packet_pool().put(t.data);
                }
            }
            if !moved {
                return;
            }
        }
    }

    /// Advances time and runs due timers.
    fn tick(&mut self, dt: Duration) {
        self.now += dt;
        let now = self.now;
        for i in 0..self.nodes.len() {
            let on = self.on(i);
            let n = &mut self.nodes[i];
            if n.poll_timeout().is_some_and(|t| t <= now) {
                counted(on, || n.handle_timeout(now));
            }
        }
        self.pump();
    }

    fn connect(&mut self, a: usize, b: usize, ts: u64) {
        let card = self.nodes[b].card();
        let (now, addr) = (self.now, self.addrs[b]);
        self.nodes[a].connect(now, addr, &card, ts).unwrap();
        for _ in 0..100 {
            self.tick(Duration::from_millis(1));
        }
        let (ia, ib) = (self.nodes[a].node_id(), self.nodes[b].node_id());
        assert!(self.nodes[a].is_connected(ib) && self.nodes[b].is_connected(ia));
    }

    /// One round: `src` sends `per_batch` events on `stream` to `dst` (as one batch, then a
    /// flush), the network runs, `sink` takes its events (checked, counted in `next`).
    #[allow(clippy::too_many_arguments)]
    fn round(
        &mut self,
        src: usize,
        dst: usize,
        sink: usize,
        stream: u64,
        per_batch: u64,
        next_sent: &mut u64,
        next_got: &mut u64,
        events: &mut [[u8; 64]],
    ) {
        let to = self.nodes[dst].node_id();
        let now = self.now;
        for (k, e) in events.iter_mut().enumerate().take(per_batch as usize) {
            *e = event(stream, *next_sent + k as u64);
        }
        let on = self.on(src);
        let n = &mut self.nodes[src];
        let (queued, r) = counted(on, || {
            let r = n.send_many(
                now,
                to,
                stream,
                events[..per_batch as usize].iter().map(|e| &e[..]),
            );
            n.flush(now);
            r
        });
        r.unwrap();
        assert_eq!(queued as u64, per_batch);
        *next_sent += per_batch;
        self.tick(Duration::from_micros(50));
        while let Some(ev) = self.nodes[sink].poll_event() {
            if let Event::Data(d) = ev {
                for e in d.events() {
                    assert_eq!(check_event(e), (stream, *next_got));
                    *next_got += 1;
                }
            }
        }
        self.tick(Duration::from_micros(50));
    }
}

const STREAM: u64 = 7;

#[test]
fn steady_state_send_path_allocates_nothing_per_packet() {
    let mut w = Wire::new(vec![Endpoint::new(config(1)), Endpoint::new(config(2))]);
    w.connect(0, 1, 1);
    let b = w.nodes[1].node_id();
    w.nodes[0]
        .open_stream(b, STREAM, StreamMode::Reliable)
        .unwrap();
    let mut events = vec![[0u8; 64]; 64];
    let (mut sent, mut got) = (0u64, 0u64);
    // 45 events per batch: two full frames and one partial, every round.
    for _ in 0..2_000 {
        w.round(0, 1, 1, STREAM, 45, &mut sent, &mut got, &mut events);
    }
    let frames_before = w.nodes[0].counters().frames_sent;
    let misses_before = w.nodes[0].packet_pool().stats().misses;
    let allocs_before = allocs();
    w.measured = Some(0);
    for _ in 0..10_000 {
        w.round(0, 1, 1, STREAM, 45, &mut sent, &mut got, &mut events);
    }
    w.measured = None;
    let allocations = allocs() - allocs_before;
    let frames = w.nodes[0].counters().frames_sent - frames_before;
    let pool = w.nodes[0].packet_pool().stats();
    assert_eq!(got, sent, "every event arrived, in order");
    assert_eq!(frames, 30_000, "three frames per round");
    assert!(w.nodes[0].counters().acks_sent == 0 && w.nodes[1].counters().acks_sent > 1000);
    assert_eq!(
        allocations, 0,
        "{allocations} allocations in the sender over {frames} packets"
    );
    assert_eq!(pool.misses, misses_before, "pool missed: {pool:?}");
    assert!(
        pool.hits > 2 * frames,
        "frames and datagrams from the pool: {pool:?}"
    );
}

#[test]
fn a_relay_forwards_without_allocating() {
    let mut w = Wire::new(vec![
        Endpoint::new(config(1)),
        Endpoint::new(config(2)),
        Endpoint::new(config(3)),
    ]);
    w.connect(0, 1, 1);
    w.connect(2, 1, 2);
    let (hop, c) = (w.nodes[1].node_id(), w.nodes[2].node_id());
    let card = w.nodes[2].card();
    let now = w.now;
    w.nodes[0].connect_via(now, hop, &card, 3).unwrap();
    for _ in 0..100 {
        w.tick(Duration::from_millis(1));
    }
    assert!(w.nodes[0].is_connected(c));
    w.nodes[0]
        .open_stream(c, STREAM, StreamMode::Reliable)
        .unwrap();
    let mut events = vec![[0u8; 64]; 64];
    let (mut sent, mut got) = (0u64, 0u64);
    for _ in 0..2_000 {
        w.round(0, 2, 2, STREAM, 45, &mut sent, &mut got, &mut events);
    }
    let forwarded_before = w.nodes[1].counters().relay_forwarded;
    let misses_before = w.nodes[1].packet_pool().stats().misses;
    let allocs_before = allocs();
    w.measured = Some(1);
    for _ in 0..5_000 {
        w.round(0, 2, 2, STREAM, 45, &mut sent, &mut got, &mut events);
    }
    w.measured = None;
    let allocations = allocs() - allocs_before;
    let forwarded = w.nodes[1].counters().relay_forwarded - forwarded_before;
    assert_eq!(got, sent);
    assert!(
        forwarded >= 15_000,
        "data and acks went through B: {forwarded}"
    );
    assert_eq!(
        allocations, 0,
        "{allocations} allocations in the relay over {forwarded} forwarded datagrams"
    );
    assert_eq!(w.nodes[1].packet_pool().stats().misses, misses_before);
}
