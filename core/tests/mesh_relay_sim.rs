//! Relaying inside the sans-IO endpoint, on a small seeded simulated network whose links can
//! be cut one by one: A -> B -> C with no A-C link (relayed handshake, reliable streams both
//! ways under loss, B holding no A-C session and never seeing a plaintext event), tampering
//! by the relay rejected and counted at C, hop budgets and missing routes counted at the
//! node that drops, and rerouting around a failed relay or a failed direct link and back.

mod mesh_support;

use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mesh_support::{Rng, check_event, config, event};
use net::identity::NodeId;
use net::mesh::session::{DetectorConfig, Endpoint, EndpointConfig, Event, HealthChange};
use net::mesh::stream::StreamMode;

const DT: Duration = Duration::from_millis(1);

/// Fast failure detection so reroutes happen within a second of simulated time.
fn fast(mut c: EndpointConfig) -> EndpointConfig {
    c.detector = DetectorConfig {
        heartbeat_interval: Duration::from_millis(50),
        suspect_after: Duration::from_millis(150),
        fail_after: Duration::from_millis(400),
    };
    c.link_fail_after = Duration::from_millis(200);
    c
}

/// A deterministic network: 1 ms latency (2 ms for a reordered copy), seeded loss,
/// duplication, reordering and one-bit corruption, links that can be cut, and an
/// optional relay that flips one ciphertext byte of the next routed datagrams it sends.
struct Net {
    now: Instant,
    nodes: Vec<Endpoint>,
    addrs: Vec<SocketAddr>,
    /// Directed links (from, to) that lose every datagram.
    cut: HashSet<(usize, usize)>,
    loss: f64,
    /// Rates of duplicated, delayed (overtaken) and corrupted copies; 0 unless set.
    duplicate: f64,
    reorder: f64,
    corrupt: f64,
    /// Corrupted copies handed to a node.
    corrupted: u64,
    rng: Rng,
    in_flight: VecDeque<(Instant, usize, usize, Vec<u8>)>,
    /// Every datagram each node sent or received, for checks of what a relay saw.
    seen: Vec<Vec<Vec<u8>>>,
    /// (relay, how many): the relay's next routed datagrams get one byte flipped.
    tamper: Option<(usize, usize)>,
    events: Vec<Vec<Event>>,
    /// Events other than data that `take_data` set aside.
    log: Vec<Vec<Event>>,
}

impl Net {
    fn new(configs: Vec<EndpointConfig>, loss: f64, seed: u64) -> Net {
        let n = configs.len();
        Net {
            now: Instant::now(),
            nodes: configs.into_iter().map(Endpoint::new).collect(),
            addrs: (0..n)
                .map(|i| SocketAddr::from(([10, 0, 0, i as u8 + 1], 7000)))
                .collect(),
            cut: HashSet::new(),
            loss,
            duplicate: 0.0,
            reorder: 0.0,
            corrupt: 0.0,
            corrupted: 0,
            rng: Rng::new(seed),
            in_flight: VecDeque::new(),
            seen: vec![Vec::new(); n],
            tamper: None,
            events: vec![Vec::new(); n],
            log: vec![Vec::new(); n],
        }
    }

    fn id(&self, i: usize) -> NodeId {
        self.nodes[i].node_id()
    }

    /// Cuts (or restores) both directions between `a` and `b`.
    fn set_cut(&mut self, a: usize, b: usize, cut: bool) {
        for link in [(a, b), (b, a)] {
            if cut {
                self.cut.insert(link);
            } else {
                self.cut.remove(&link);
            }
        }
    }

    fn step(&mut self) {
        for from in 0..self.nodes.len() {
            while let Some(t) = self.nodes[from].poll_transmit() {
                let mut data = t.data;
                self.seen[from].push(data.clone());
                let Some(to) = self.addrs.iter().position(|a| *a == t.dest) else {
                    continue;
                };
                if self.cut.contains(&(from, to)) || self.rng.chance(self.loss) {
                    continue;
                }
                if let Some((relay, left)) = &mut self.tamper
                    && *relay == from
                    && *left > 0
                    && data.starts_with(b"RT")
                    && data.len() > 18 + 64
                {
                    data[18 + 64] ^= 0x01;
                    *left -= 1;
                }
                let copies = if self.rng.chance(self.duplicate) {
                    2
                } else {
                    1
                };
                for _ in 0..copies {
                    let mut copy = data.clone();
                    if self.rng.chance(self.corrupt) {
                        let i = self.rng.below(copy.len() as u64) as usize;
                        copy[i] ^= 1 << self.rng.below(8);
                        self.corrupted += 1;
                    }
                    let delay = if self.rng.chance(self.reorder) {
                        2 * DT
                    } else {
                        DT
                    };
                    self.in_flight.push_back((self.now + delay, to, from, copy));
                }
            }
        }
        let (due, later): (VecDeque<_>, VecDeque<_>) = std::mem::take(&mut self.in_flight)
            .into_iter()
            .partition(|(at, ..)| *at <= self.now);
        self.in_flight = later;
        for (_, to, from, mut data) in due {
            self.seen[to].push(data.clone());
            self.nodes[to].handle_datagram(self.now, self.addrs[from], &mut data);
        }
        for (i, n) in self.nodes.iter_mut().enumerate() {
            if n.poll_timeout().is_some_and(|t| t <= self.now) {
                n.handle_timeout(self.now);
            }
            while let Some(ev) = n.poll_event() {
                self.events[i].push(ev);
            }
        }
        self.now += DT;
    }

    /// Steps until `done` or `limit` of simulated time; returns whether done.
    fn run(&mut self, limit: Duration, mut done: impl FnMut(&mut Net) -> bool) -> bool {
        let end = self.now + limit;
        while self.now < end {
            if done(self) {
                return true;
            }
            self.step();
        }
        done(self)
    }

    fn connect(&mut self, a: usize, b: usize, ts: u64) {
        let (now, addr, card) = (self.now, self.addrs[b], self.nodes[b].card());
        self.nodes[a]
            .connect(now, addr, &card, ts)
            .expect("connect");
        let (pa, pb) = (self.id(a), self.id(b));
        assert!(
            self.run(Duration::from_secs(5), |n| {
                n.nodes[a].is_connected(pb)
                    && n.nodes[b].current_session(pa) == n.nodes[a].current_session(pb)
            }),
            "{a} <-> {b} never connected"
        );
    }

    fn connect_via(&mut self, a: usize, via: usize, c: usize, ts: u64) {
        let (now, card, hop) = (self.now, self.nodes[c].card(), self.id(via));
        let peer = self.nodes[a]
            .connect_via(now, hop, &card, ts)
            .expect("connect_via");
        assert_eq!(peer, self.id(c));
        let (pa, pc) = (self.id(a), self.id(c));
        assert!(
            self.run(Duration::from_secs(5), |n| {
                n.nodes[a].is_connected(pc)
                    && n.nodes[c].current_session(pa) == n.nodes[a].current_session(pc)
            }),
            "{a} -> {c} through {via} never connected"
        );
    }

    /// Takes the data events node `i` received on `stream`, checking each one.
    /// Other events are kept in `log`.
    fn take_data(&mut self, i: usize, stream: u64, got: &mut Vec<u64>) {
        for ev in std::mem::take(&mut self.events[i]) {
            if let Event::Data(d) = ev {
                assert_eq!(d.stream_id, stream);
                for e in d.events() {
                    let (s, idx) = check_event(e);
                    assert_eq!(s, stream);
                    got.push(idx);
                }
            } else {
                self.log[i].push(ev);
            }
        }
    }

    /// Sends `count` events each way between `a` (stream 1) and `c` (stream 2) on reliable
    /// streams, at most `per_step` per side per millisecond and only while credit allows,
    /// and checks both arrive exactly once in order. `during` runs once per step (to cut
    /// links and the like).
    fn exchange(
        &mut self,
        a: usize,
        c: usize,
        count: u64,
        per_step: usize,
        limit: Duration,
        mut during: impl FnMut(&mut Net),
    ) {
        let (pa, pc) = (self.id(a), self.id(c));
        self.nodes[a]
            .open_stream(pc, 1, StreamMode::Reliable)
            .unwrap();
        self.nodes[c]
            .open_stream(pa, 2, StreamMode::Reliable)
            .unwrap();
        let (mut next_a, mut next_c) = (0u64, 0u64);
        let (mut got_c, mut got_a) = (Vec::new(), Vec::new());
        let end = self.now + limit;
        while (got_c.len() as u64) < count || (got_a.len() as u64) < count {
            assert!(
                self.now < end,
                "stuck: C has {} of {count}, A has {} of {count}",
                got_c.len(),
                got_a.len()
            );
            let now = self.now;
            for _ in 0..per_step {
                if next_a < count && self.nodes[a].send(now, pc, 1, &event(1, next_a)).is_ok() {
                    next_a += 1;
                }
                if next_c < count && self.nodes[c].send(now, pa, 2, &event(2, next_c)).is_ok() {
                    next_c += 1;
                }
            }
            self.nodes[a].flush(now);
            self.nodes[c].flush(now);
            during(self);
            self.step();
            self.take_data(c, 1, &mut got_c);
            self.take_data(a, 2, &mut got_a);
        }
        assert_eq!(
            got_c,
            (0..count).collect::<Vec<_>>(),
            "A -> C in order once"
        );
        assert_eq!(
            got_a,
            (0..count).collect::<Vec<_>>(),
            "C -> A in order once"
        );
    }
}

/// A(0) - B(1) - C(2), no A-C link; A and C are B's neighbours.
fn line(loss: f64, seed: u64) -> Net {
    let mut net = Net::new(vec![config(1), config(2), config(3)], loss, seed);
    net.set_cut(0, 2, true);
    net.connect(0, 1, 1);
    net.connect(2, 1, 2);
    net
}

#[test]
fn relayed_handshake_and_reliable_streams_through_a_relay_that_cannot_read() {
    for seed in [1u64, 7, 42] {
        println!("seed {seed}");
        let mut net = line(0.05, seed);
        net.duplicate = 0.02;
        net.reorder = 0.1;
        net.corrupt = 0.01;
        let (a, b, c) = (net.id(0), net.id(1), net.id(2));
        net.connect_via(0, 1, 2, 3);
        // C learned the way back through B; A's route is the one connect_via added.
        assert_eq!(net.nodes[2].next_hop(a), Some(b));
        assert_eq!(net.nodes[0].next_hop(c), Some(b));
        let ac = net.nodes[0].current_session(c).unwrap();
        // B holds exactly its own two sessions, never the A-C one.
        let mut held = net.nodes[1].sessions();
        held.sort_by_key(|&(_, p)| p.0);
        let mut expect = vec![
            (net.nodes[0].current_session(b).unwrap(), a),
            (net.nodes[2].current_session(b).unwrap(), c),
        ];
        expect.sort_by_key(|&(_, p)| p.0);
        assert_eq!(held, expect);
        assert!(held.iter().all(|&(sid, _)| sid != ac));

        net.exchange(0, 2, 10_000, 64, Duration::from_secs(120), |_| {});

        // Everything between A and C went through B, which forwarded without delivering.
        let (ca, cb, cc) = (
            net.nodes[0].counters().clone(),
            net.nodes[1].counters().clone(),
            net.nodes[2].counters().clone(),
        );
        assert!(cb.relay_forwarded > 1000, "{cb:?}");
        assert_eq!(cb.events_delivered, 0);
        assert!(ca.routed_sent > 500 && cc.routed_sent > 500);
        assert!(ca.routed_received > 500 && cc.routed_received > 500);
        // Corrupted copies were dropped somewhere or, when only the unauthenticated routing
        // header or hop count was hit, delivered intact; each makes at most one drop besides
        // what duplicates cause (`replayed`, or `handshake_unexpected` for a second Reply);
        // every delivered event was checked above.
        assert!(net.corrupted > 0);
        let dropped: u64 = (0..3)
            .map(|i| {
                let k = net.nodes[i].counters();
                k.rx_dropped - k.dropped("replayed") - k.dropped("handshake_unexpected")
            })
            .sum();
        assert!(
            dropped > 0 && dropped <= net.corrupted,
            "{dropped} of {}",
            net.corrupted
        );
        // No datagram B sent or received contains a plaintext event.
        for i in [0u64, 1, 4999, 9999] {
            for (stream, e) in [(1, event(1, i)), (2, event(2, i))] {
                assert!(
                    !net.seen[1]
                        .iter()
                        .any(|d| d.windows(e.len()).any(|w| w == e)),
                    "B saw event {stream}/{i} in clear"
                );
            }
        }
        // The relay never became anyone's idea of where A or C is.
        assert_eq!(net.nodes[0].sessions().len(), 2);
        assert_eq!(net.nodes[2].sessions().len(), 2);
    }
}

#[test]
fn tampering_by_the_relay_is_rejected_and_counted_at_the_destination() {
    let mut net = line(0.0, 3);
    net.connect_via(0, 1, 2, 3);
    let before = net.nodes[2].counters().dropped("auth_failed");
    net.tamper = Some((1, 5));
    net.exchange(0, 2, 500, 64, Duration::from_secs(30), |_| {});
    assert_eq!(net.tamper, Some((1, 0)), "five datagrams were altered");
    let cc = net.nodes[2].counters();
    let ca = net.nodes[0].counters();
    // Each altered datagram went to C or A (B relays both ways) and failed the AEAD there.
    assert_eq!(
        cc.dropped("auth_failed") + ca.dropped("auth_failed") - before,
        5,
        "C: {cc:?} A: {ca:?}"
    );
}

#[test]
fn hop_budget_and_missing_routes_are_counted_where_the_packet_dies() {
    // A(0) - B(1) - D(2) - C(3) in a line; A's budget allows one relay only.
    let mut short = config(1);
    short.max_hops = 1;
    let mut net = Net::new(vec![short, config(2), config(4), config(3)], 0.0, 5);
    for (x, y) in [(0, 2), (0, 3), (1, 3)] {
        net.set_cut(x, y, true);
    }
    net.connect(0, 1, 1);
    net.connect(2, 1, 2);
    net.connect(3, 2, 3);
    let (b, d, c) = (net.id(1), net.id(2), net.id(3));
    net.nodes[1].add_route(c, d, 2);
    net.nodes[0].add_route(c, b, 3);
    let card = net.nodes[3].card();
    let now = net.now;
    net.nodes[0].connect_via(now, b, &card, 4).unwrap();
    assert!(net.run(
        Duration::from_secs(2),
        |n| n.nodes[2].counters().dropped("ttl_expired") >= 2
    ));
    assert!(!net.nodes[0].is_connected(c));
    assert_eq!(
        net.nodes[1].counters().relay_forwarded,
        net.nodes[2].counters().dropped("ttl_expired")
    );
    assert_eq!(net.nodes[3].counters().dropped("ttl_expired"), 0);

    // B has no route to A's next destination: B drops it as no_route.
    let x = net.id(3);
    net.nodes[1].remove_route(x, d);
    let before = net.nodes[1].counters().dropped("no_route");
    assert!(net.run(
        Duration::from_secs(2),
        |n| n.nodes[1].counters().dropped("no_route") > before
    ));
}

/// A(0), B(1), D(2), C(3): A-B, B-C, A-D, D-C; no A-C. The route through B is shorter.
fn diamond() -> Net {
    let configs = vec![
        fast(config(1)),
        fast(config(2)),
        fast(config(4)),
        fast(config(3)),
    ];
    let mut net = Net::new(configs, 0.0, 9);
    net.set_cut(0, 3, true);
    net.set_cut(1, 2, true);
    net.connect(0, 1, 1);
    net.connect(0, 2, 2);
    net.connect(3, 1, 3);
    net.connect(3, 2, 4);
    let (a, b, d, c) = (net.id(0), net.id(1), net.id(2), net.id(3));
    net.nodes[0].add_route(c, d, 3);
    net.nodes[3].add_route(a, d, 3);
    net.nodes[3].add_route(a, b, 2);
    net.connect_via(0, 1, 3, 5);
    assert_eq!(net.nodes[0].next_hop(c), Some(b));
    assert_eq!(net.nodes[3].next_hop(a), Some(b));
    net
}

#[test]
fn a_failed_relay_is_routed_around_and_traffic_returns_when_it_recovers() {
    let mut net = diamond();
    let (a, b, d, c) = (net.id(0), net.id(1), net.id(2), net.id(3));
    net.events[0].clear();
    let start = net.now;
    let mut phase = 0;
    // B vanishes 200 ms into the exchange and comes back 1.5 s later.
    net.exchange(0, 3, 20_000, 4, Duration::from_secs(60), |n| {
        let t = n.now - start;
        if phase == 0 && t >= Duration::from_millis(200) {
            for x in [0, 2, 3] {
                n.set_cut(1, x, true);
            }
            phase = 1;
        }
        if phase == 1 && t >= Duration::from_millis(1700) {
            assert_eq!(n.nodes[0].next_hop(c), Some(d), "A rerouted around B");
            assert_eq!(n.nodes[3].next_hop(a), Some(d), "C rerouted around B");
            assert!(!n.nodes[0].link_up(b));
            n.set_cut(1, 0, false);
            n.set_cut(1, 3, false);
            phase = 2;
        }
    });
    assert_eq!(phase, 2, "the exchange outlasted the outage");
    assert!(net.run(Duration::from_secs(2), |n| n.nodes[0].next_hop(c)
        == Some(b)
        && n.nodes[3].next_hop(a) == Some(b)));
    for i in [0, 3] {
        let k = net.nodes[i].counters();
        assert!(k.links_down >= 1 && k.links_up >= 1, "{k:?}");
    }
    assert!(
        net.nodes[2].counters().relay_forwarded > 0,
        "D carried traffic"
    );
    let changes: Vec<Option<NodeId>> = net.log[0]
        .iter()
        .chain(&net.events[0])
        .filter_map(|e| match e {
            Event::RouteChanged { dest, next_hop } if *dest == c => Some(*next_hop),
            _ => None,
        })
        .collect();
    assert_eq!(
        changes,
        vec![Some(d), Some(b)],
        "A: C via D, then back via B"
    );
    // The reroute beat the peers' own failure detectors: neither end saw the other fail.
    for (i, peer) in [(0, c), (3, a)] {
        assert!(
            !net.log[i].iter().chain(&net.events[i]).any(|e| matches!(
                e,
                Event::Health { peer: p, change: HealthChange::Failed } if *p == peer
            )),
            "node {i} reported its peer failed"
        );
    }
}

#[test]
fn a_failed_direct_link_falls_back_to_a_relay_and_is_probed_until_it_returns() {
    // A(0) and C(2) are neighbours, with B(1) as an alternative.
    let configs = vec![fast(config(1)), fast(config(2)), fast(config(3))];
    let mut net = Net::new(configs, 0.0, 11);
    net.connect(0, 1, 1);
    net.connect(2, 1, 2);
    net.connect(0, 2, 3);
    let (a, b, c) = (net.id(0), net.id(1), net.id(2));
    net.nodes[0].add_route(c, b, 2);
    net.nodes[2].add_route(a, b, 2);
    assert_eq!(net.nodes[0].next_hop(c), Some(c));
    let start = net.now;
    let mut phase = 0;
    net.exchange(0, 2, 20_000, 4, Duration::from_secs(60), |n| {
        let t = n.now - start;
        if phase == 0 && t >= Duration::from_millis(100) {
            n.set_cut(0, 2, true);
            phase = 1;
        }
        if phase == 1 && t >= Duration::from_millis(1500) {
            assert_eq!(n.nodes[0].next_hop(c), Some(b));
            assert_eq!(n.nodes[2].next_hop(a), Some(b));
            n.set_cut(0, 2, false);
            phase = 2;
        }
    });
    assert_eq!(phase, 2);
    assert!(net.run(Duration::from_secs(2), |n| n.nodes[0].next_hop(c)
        == Some(c)
        && n.nodes[2].next_hop(a) == Some(a)));
    let (ka, kc) = (net.nodes[0].counters(), net.nodes[2].counters());
    assert!(ka.probes_sent > 0 && kc.probes_sent > 0);
    assert!(
        net.nodes[1].counters().relay_forwarded > 0,
        "B carried traffic meanwhile"
    );
    // One session each way the whole time: rerouting does not touch sessions.
    assert_eq!(ka.sessions_established, 2);
}

#[test]
fn garbage_routed_datagrams_from_a_neighbour_are_dropped_and_counted() {
    let mut net = line(0.0, 13);
    let (b, c) = (net.id(1), net.id(2));
    let from = net.addrs[0];
    let route = |ttl: u8, dest: u64| {
        let mut r = b"RT".to_vec();
        r.extend_from_slice(&[ttl, 0, 0, 0]);
        r.extend_from_slice(&[1, 2, 3, 4]);
        r.extend_from_slice(&dest.to_le_bytes());
        r
    };
    let mut net_header = [0u8; 64];
    net_header[0..3].copy_from_slice(&[0x45, 0x4E, 1]);
    let with_inner = |ttl: u8, dest: u64, hop_ttl: u8| {
        let mut d = route(ttl, dest);
        let mut h = net_header;
        h[5] = hop_ttl;
        d.extend_from_slice(&h);
        d
    };
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"RT".to_vec(), "truncated"),
        (
            {
                let mut d = route(4, c.0);
                d[5] = 9;
                d
            },
            "reserved_byte",
        ),
        (route(4, c.0), "no_inner_packet"),
        (with_inner(0, c.0, 4), "ttl_expired"),
        (with_inner(4, c.0, 0), "ttl_expired"),
        (with_inner(4, 0x1234, 4), "no_route"),
        (with_inner(4, net.id(0).0, 4), "route_loop"),
        // For B itself: the inner packet is opened like any other and refused.
        (with_inner(4, b.0, 4), "unknown_session"),
    ];
    for (mut d, reason) in cases {
        let before = net.nodes[1].counters().clone();
        let now = net.now;
        net.nodes[1].handle_datagram(now, from, &mut d);
        let after = net.nodes[1].counters();
        assert_eq!(
            after.dropped(reason),
            before.dropped(reason) + 1,
            "{reason}: {:?}",
            after.drops
        );
        assert_eq!(after.rx_dropped, before.rx_dropped + 1);
        assert_eq!(after.relay_forwarded, before.relay_forwarded);
    }
}

#[test]
fn a_lost_reply_through_the_relay_is_answered_again_without_a_second_session() {
    let mut net = line(0.0, 17);
    let (a, c) = (net.id(0), net.id(2));
    // B -> A loses everything for a while: the first Reply (relayed by B) never arrives.
    net.cut.insert((1, 0));
    let (now, card, hop) = (net.now, net.nodes[2].card(), net.id(1));
    net.nodes[0].connect_via(now, hop, &card, 3).unwrap();
    assert!(net.run(
        Duration::from_millis(300),
        |n| n.nodes[2].counters().sessions_established == 2
    ));
    // Long enough for that Reply to reach B and be lost, short of A's retry at 500 ms.
    net.run(Duration::from_millis(100), |_| false);
    assert!(!net.nodes[0].is_connected(c));
    net.cut.remove(&(1, 0));
    assert!(
        net.run(Duration::from_secs(3), |n| n.nodes[0].is_connected(c)
            && n.nodes[2].current_session(a)
                == n.nodes[0].current_session(c))
    );
    let kc = net.nodes[2].counters();
    assert!(kc.handshake_duplicates >= 1, "{kc:?}");
    assert_eq!(kc.sessions_established, 2, "B and A: no second A-C session");
    assert_eq!(net.nodes[1].sessions().len(), 2);
}

#[test]
fn a_routed_delivery_never_moves_a_session_to_the_relay_address() {
    // A and C have a direct session; A sends to C through B only (direct route removed),
    // C answers directly. Had C taken B's address from the routed packets, its answers would
    // go to B, which has no such session.
    let mut net = Net::new(vec![config(1), config(2), config(3)], 0.0, 19);
    net.connect(0, 1, 1);
    net.connect(2, 1, 2);
    net.connect(0, 2, 3);
    let (b, c) = (net.id(1), net.id(2));
    net.nodes[0].add_route(c, b, 2);
    assert!(net.nodes[0].remove_route(c, c));
    assert_eq!(net.nodes[0].next_hop(c), Some(b));
    net.exchange(0, 2, 2_000, 16, Duration::from_secs(30), |_| {});
    let (ka, kb, kc) = (
        net.nodes[0].counters(),
        net.nodes[1].counters(),
        net.nodes[2].counters(),
    );
    assert!(
        kc.routed_received > 50,
        "C got A's packets through B: {kc:?}"
    );
    assert_eq!(kc.routed_sent, 0, "C answered directly");
    assert_eq!(ka.routed_received, 0, "A heard C directly");
    assert_eq!(
        kb.rx_dropped, 0,
        "nothing for C's session reached B: {:?}",
        kb.drops
    );
    assert!(kb.relay_forwarded > 50);
}

#[test]
fn two_relays_in_a_row_carry_a_relayed_handshake_and_streams_both_ways() {
    // A(0) - B(1) - D(2) - C(3) in a line.
    let configs = vec![config(1), config(2), config(4), config(3)];
    let mut net = Net::new(configs, 0.02, 23);
    for (x, y) in [(0, 2), (0, 3), (1, 3)] {
        net.set_cut(x, y, true);
    }
    net.connect(0, 1, 1);
    net.connect(2, 1, 2);
    net.connect(3, 2, 3);
    let (a, b, d, c) = (net.id(0), net.id(1), net.id(2), net.id(3));
    net.nodes[0].add_route(c, b, 3);
    net.nodes[1].add_route(c, d, 2);
    net.nodes[2].add_route(a, b, 2);
    net.connect_via(0, 1, 3, 4);
    // C learned the way back through D, as long as the Init travelled (two relays).
    assert_eq!(net.nodes[3].next_hop(a), Some(d));
    assert_eq!(net.nodes[3].routes(a)[0].hops, 3);
    net.exchange(0, 3, 3_000, 32, Duration::from_secs(60), |_| {});
    for relay in [1, 2] {
        let k = net.nodes[relay].counters();
        assert!(k.relay_forwarded > 100, "{k:?}");
        assert_eq!(k.events_delivered, 0);
        assert_eq!(net.nodes[relay].sessions().len(), 2);
    }
}
