//! The JSON form of the mesh adapter (`{"adapter": {"type": "mesh", ...}}`): strict parsing
//! (each refusal names its key), the normalized form, the files it reads, and buses built
//! from JSON alone exchanging events over real UDP on 127.0.0.1 (one way, both ways without
//! bouncing events back, and refused with a wrong PSK). Every end-to-end test runs under a
//! watchdog.

use std::collections::BTreeSet;
use std::net::UdpSocket;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use net::identity::{Identity, hex};
use net::mesh::config::{MeshConfig, PeerSpec, psk_file_text};
use net::{AdapterConfig, EventBus, EventBusConfig, PollRequest, SubscribeOptions};
use serde_json::{Value, json};

const PSK_HEX: &str = "3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c";

fn bounded(limit: Duration, f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = mpsc::channel();
    let t = std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    match rx.recv_timeout(limit) {
        Ok(()) => t.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(p) = t.join() {
                std::panic::resume_unwind(p);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("test did not finish within {limit:?}"),
    }
}

/// A fresh directory under the system temp dir (removed by the caller).
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "net-mesh-config-{name}-{}-{:?}",
        std::process::id(),
        Instant::now()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn card_hex(seed: u8) -> String {
    hex(&Identity::from_seed(&[seed; 32]).card().to_bytes())
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn parse(adapter: Value) -> net::Result<EventBusConfig> {
    EventBusConfig::from_value(&json!({ "adapter": adapter }))
}

#[test]
fn minimal_config_takes_the_defaults() {
    let cfg = parse(json!({"type": "mesh", "listen": "127.0.0.1:0", "psk_hex": PSK_HEX})).unwrap();
    let AdapterConfig::Mesh(m) = &cfg.adapter else {
        panic!("not a mesh config: {cfg:?}")
    };
    assert_eq!(m.listen.to_string(), "127.0.0.1:0");
    assert_eq!(m.load_psk().unwrap(), [0x3c; 32]);
    assert!(m.peers.is_empty() && m.key_file.is_none());
    assert_eq!(m.stream_id, 1);
    assert_eq!(cfg.adapter.cursor_tag(), 4);
    assert_eq!(
        cfg.to_json()["adapter"],
        json!({
            "type": "mesh", "listen": "127.0.0.1:0", "key_file": null, "psk_hex": PSK_HEX,
            "peers": [], "stream_id": 1, "connect_timeout_ms": 2000, "credit_timeout_ms": 2000,
            "retry_after_ms": 1000, "max_events_per_shard": 1048576,
            "max_bytes_per_shard": 268435456,
        })
    );
}

#[test]
fn every_key_round_trips_through_the_normalized_form() {
    let card = card_hex(7);
    let cfg = parse(json!({
        "type": "mesh", "listen": "[::1]:7000", "key_file": "/etc/net/node.key",
        "psk_file": "/etc/net/mesh.psk",
        "peers": [format!("127.0.0.1:7001@{card}"), {"addr": "10.0.0.2:7002", "card": card.to_uppercase()}],
        "stream_id": 9, "connect_timeout_ms": 100, "credit_timeout_ms": 200,
        "retry_after_ms": 300, "max_events_per_shard": 10, "max_bytes_per_shard": 1000,
    }))
    .unwrap();
    let AdapterConfig::Mesh(m) = &cfg.adapter else {
        panic!()
    };
    assert_eq!(m.peers.len(), 2);
    assert_eq!(m.peers[0].to_arg(), format!("127.0.0.1:7001@{card}"));
    assert_eq!(
        m.peers[1].node_id(),
        Identity::from_seed(&[7; 32]).node_id()
    );
    let normal = cfg.to_json();
    assert_eq!(normal["adapter"]["peers"][1]["card"], json!(card));
    // A peer reached through a relay, in both spellings of the relay.
    let relay = card_hex(8);
    for via in [
        json!(format!("127.0.0.1:7003@{relay}")),
        json!({"addr": "127.0.0.1:7003", "card": relay}),
    ] {
        let cfg = parse(
            json!({"type": "mesh", "listen": "127.0.0.1:0", "psk_hex": PSK_HEX,
            "peers": [{"card": card, "via": via}]}),
        )
        .unwrap();
        let AdapterConfig::Mesh(m) = &cfg.adapter else {
            panic!()
        };
        assert_eq!(m.peers[0].first_hop().port(), 7003);
        assert_eq!(m.peers[0].describe(), "via 127.0.0.1:7003");
        assert_eq!(m.peers[0].to_arg(), card);
        let normal = cfg.to_json();
        assert_eq!(
            normal["adapter"]["peers"][0],
            json!({"card": card, "via": {"addr": "127.0.0.1:7003", "card": relay}})
        );
        assert_eq!(EventBusConfig::from_value(&normal).unwrap(), cfg);
    }
    assert_eq!(normal["adapter"]["psk_file"], json!("/etc/net/mesh.psk"));
    assert!(normal["adapter"].get("psk_hex").is_none());
    let again = EventBusConfig::from_value(&normal).unwrap();
    assert_eq!(again, cfg);
}

#[test]
fn each_bad_config_names_its_key() {
    let card = card_hex(7);
    let mut forged = Identity::from_seed(&[7; 32]).card().to_bytes();
    forged[40] ^= 1;
    let forged = hex(&forged);
    let base = || json!({"type": "mesh", "listen": "127.0.0.1:0", "psk_hex": PSK_HEX});
    let with = |k: &str, v: Value| {
        let mut o = base();
        o[k] = v;
        o
    };
    let without = |k: &str| {
        let mut o = base();
        o.as_object_mut().unwrap().remove(k);
        o
    };
    let cases: Vec<(Value, &str)> = vec![
        (json!("mesh"), "adapter.listen"),
        (without("listen"), "adapter.listen"),
        (with("listen", json!("localhost")), "adapter.listen"),
        (with("listen", json!(7000)), "adapter.listen"),
        (without("psk_hex"), "adapter.psk_hex"),
        (with("psk_file", json!("/x")), "adapter.psk_file"),
        (with("psk_hex", json!("abcd")), "adapter.psk_hex"),
        (with("psk_hex", json!("zz".repeat(32))), "adapter.psk_hex"),
        (with("key_file", json!("")), "adapter.key_file"),
        (with("key_file", json!(5)), "adapter.key_file"),
        (with("peer", json!([])), "adapter.peer"),
        (with("peers", json!({})), "adapter.peers"),
        (with("peers", json!([5])), "adapter.peers.0"),
        (
            with(
                "peers",
                json!([format!("127.0.0.1:1@{card}"), "127.0.0.1:2"]),
            ),
            "adapter.peers.1",
        ),
        (
            with("peers", json!([format!("nowhere@{card}")])),
            "adapter.peers.0",
        ),
        (
            with("peers", json!([{"addr": "127.0.0.1:1"}])),
            "adapter.peers.0.card",
        ),
        (
            with("peers", json!([{"card": card}])),
            "adapter.peers.0.addr",
        ),
        (
            with(
                "peers",
                json!([{"addr": "127.0.0.1:1", "card": card, "name": "b"}]),
            ),
            "adapter.peers.0.name",
        ),
        (
            with(
                "peers",
                json!([{"addr": "127.0.0.1:1", "card": &card[..200]}]),
            ),
            "adapter.peers.0.card",
        ),
        (
            with("peers", json!([{"addr": "127.0.0.1:1", "card": forged}])),
            "adapter.peers.0.card",
        ),
        (
            with(
                "peers",
                json!([{"card": card, "via": format!("127.0.0.1:1@{card}")}]),
            ),
            "adapter.peers.0.via",
        ),
        (
            with(
                "peers",
                json!([{"card": card, "addr": "127.0.0.1:1", "via": "x"}]),
            ),
            "adapter.peers.0.addr",
        ),
        (
            with("peers", json!([{"card": card, "via": "127.0.0.1:1"}])),
            "adapter.peers.0.via",
        ),
        (
            with(
                "peers",
                json!([{"card": card, "via": {"addr": "127.0.0.1:1"}}]),
            ),
            "adapter.peers.0.via.card",
        ),
        (
            with(
                "peers",
                json!([{"card": card, "via": {"addr": "127.0.0.1:1", "card": card_hex(8), "x": 1}}]),
            ),
            "adapter.peers.0.via.x",
        ),
        (
            with(
                "peers",
                json!([{"via": format!("127.0.0.1:1@{}", card_hex(8))}]),
            ),
            "adapter.peers.0.card",
        ),
        (with("stream_id", json!(0)), "adapter.stream_id"),
        (with("stream_id", json!(-1)), "adapter.stream_id"),
        (
            with("connect_timeout_ms", json!(0)),
            "adapter.connect_timeout_ms",
        ),
        (
            with("credit_timeout_ms", json!(3_600_001)),
            "adapter.credit_timeout_ms",
        ),
        (
            with("retry_after_ms", json!("1s")),
            "adapter.retry_after_ms",
        ),
        (
            with("max_events_per_shard", json!(0)),
            "adapter.max_events_per_shard",
        ),
        (
            with("max_bytes_per_shard", json!(0)),
            "adapter.max_bytes_per_shard",
        ),
        (with("url", json!("redis://h")), "adapter.url"),
    ];
    for (adapter, key) in cases {
        let err = parse(adapter.clone()).unwrap_err();
        assert_eq!(err.key(), Some(key), "{adapter}: {err}");
        assert_eq!(err.kind(), net::ErrorKind::Config);
    }
    let err = parse(json!({"type": "mesh2"})).unwrap_err();
    assert!(err.to_string().contains("mesh"), "{err}");
}

#[test]
fn peer_arguments_parse_strictly() {
    let card = card_hex(3);
    let p = PeerSpec::parse(&format!("127.0.0.1:9@{card}"), "--peer").unwrap();
    assert_eq!(p.first_hop().port(), 9);
    for bad in [
        String::new(),
        "127.0.0.1:9".to_owned(),
        format!("127.0.0.1@{card}"),
        format!("127.0.0.1:9@{}", &card[1..]),
        format!("127.0.0.1:9@{card}00"),
    ] {
        let err = PeerSpec::parse(&bad, "--peer").unwrap_err();
        assert_eq!(err.key(), Some("--peer"), "{bad}: {err}");
    }
}

#[test]
fn the_files_it_reads_are_checked_when_the_bus_is_built() {
    let dir = scratch("files");
    let psk = dir.join("mesh.psk");
    let key = dir.join("node.key");
    let bus_with = |extra: Value| {
        let mut a = json!({"type": "mesh", "listen": "127.0.0.1:0"});
        for (k, v) in extra.as_object().unwrap() {
            a[k] = v.clone();
        }
        EventBus::new(parse(a).unwrap())
    };
    // Missing PSK file.
    let err = bus_with(json!({"psk_file": psk})).err().unwrap();
    assert_eq!(err.key(), Some("adapter.psk_file"), "{err}");
    // Readable by others.
    std::fs::write(&psk, psk_file_text(&[9; 32])).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&psk, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = bus_with(json!({"psk_file": psk})).err().unwrap();
        assert_eq!(err.key(), Some("adapter.psk_file"), "{err}");
        assert!(err.to_string().contains("chmod 600"), "{err}");
        std::fs::set_permissions(&psk, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    // Garbage inside.
    std::fs::write(&psk, "not a key\n").unwrap();
    let err = bus_with(json!({"psk_file": psk})).err().unwrap();
    assert_eq!(err.key(), Some("adapter.psk_file"), "{err}");
    std::fs::write(&psk, psk_file_text(&[9; 32])).unwrap();
    // Missing key file.
    let err = bus_with(json!({"psk_file": psk, "key_file": key}))
        .err()
        .unwrap();
    assert_eq!(err.key(), Some("adapter.key_file"), "{err}");
    // Both good: the bus starts, with cursor tag 4.
    Identity::from_seed(&[1; 32]).save(&key, false).unwrap();
    let bus = bus_with(json!({"psk_file": psk, "key_file": key})).unwrap();
    bus.ingest_str(r#"{"a":1}"#).unwrap();
    bus.flush().unwrap();
    let page = bus.poll(&PollRequest::new(10)).unwrap();
    assert_eq!(page.events.len(), 1);
    bus.shutdown().unwrap();
    // An address in use.
    let taken = UdpSocket::bind("127.0.0.1:0").unwrap();
    let err = EventBus::new(
        parse(json!({"type": "mesh", "listen": taken.local_addr().unwrap().to_string(), "psk_hex": PSK_HEX}))
            .unwrap(),
    )
    .err()
    .unwrap();
    assert_eq!(err.key(), Some("adapter.listen"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A JSON bus config text for a node with identity `seed` on `port`, forwarding to `peers`
/// (`(port, seed)` pairs).
fn node_json(dir: &std::path::Path, seed: u8, port: u16, peers: &[(u16, u8)], psk: &str) -> String {
    let key = dir.join(format!("node-{seed}.key"));
    if !key.exists() {
        Identity::from_seed(&[seed; 32]).save(&key, false).unwrap();
    }
    let peers: Vec<String> = peers
        .iter()
        .map(|&(p, s)| format!("127.0.0.1:{p}@{}", card_hex(s)))
        .collect();
    json!({
        "num_shards": 2,
        "adapter": {
            "type": "mesh", "listen": format!("127.0.0.1:{port}"), "key_file": key,
            "psk_hex": psk, "peers": peers, "connect_timeout_ms": 3000, "retry_after_ms": 200,
        }
    })
    .to_string()
}

/// Polls `bus` until it holds `n` events (or `limit` passes); returns the `i` values seen.
fn wait_for(bus: &EventBus, n: usize, limit: Duration) -> Vec<u64> {
    let deadline = Instant::now() + limit;
    loop {
        let mut all = Vec::new();
        let mut request = PollRequest::new(1000);
        loop {
            let page = bus.poll(&request).unwrap();
            let got = page.events.len();
            all.extend(page.events.into_iter().map(|e| {
                let v: Value = serde_json::from_slice(e.event.raw()).unwrap();
                v["i"].as_u64().unwrap()
            }));
            request.cursor = Some(page.cursor);
            if !page.has_more || got == 0 {
                break;
            }
        }
        if all.len() >= n || Instant::now() >= deadline {
            return all;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_json_bus_forwards_to_a_json_bus_that_polls_and_pushes_them() {
    bounded(Duration::from_secs(60), || {
        let dir = scratch("oneway");
        let (pa, pb) = (free_port(), free_port());
        let b = EventBus::from_json(&node_json(&dir, 2, pb, &[], PSK_HEX)).expect("bus b");
        let mut sub = b.subscribe(SubscribeOptions::default()).unwrap();
        let a = EventBus::from_json(&node_json(&dir, 1, pa, &[(pb, 2)], PSK_HEX)).expect("bus a");
        const N: u64 = 3000;
        for i in 0..N {
            a.ingest_str(&format!(r#"{{"i":{i}}}"#)).unwrap();
        }
        a.flush().unwrap();
        let seen = wait_for(&b, N as usize, Duration::from_secs(20));
        let distinct: BTreeSet<u64> = seen.iter().copied().collect();
        assert_eq!(seen.len(), N as usize, "B holds each event once");
        assert_eq!(distinct, (0..N).collect::<BTreeSet<_>>());
        // The subscriber on B was pushed every one of them.
        let mut pushed = 0;
        while pushed < N {
            match sub.wait(Some(Duration::from_secs(10))).unwrap() {
                net::bus::WaitOutcome::Item(net::SubscriptionItem::Event(_)) => pushed += 1,
                other => panic!("subscriber on B: {other:?} after {pushed}"),
            }
        }
        // A still serves its own poll, and B's counters saw the events arrive.
        assert_eq!(wait_for(&a, N as usize, Duration::ZERO).len(), N as usize);
        assert_eq!(b.stats().accepted, N);
        a.shutdown().unwrap();
        b.shutdown().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    });
}

#[test]
fn stats_name_the_nodes_address_and_card_which_another_bus_can_list() {
    bounded(Duration::from_secs(60), || {
        // B listens on port 0 with a fresh random identity: only its stats can say where it is.
        let b = EventBus::from_json(
            &json!({"adapter": {"type": "mesh", "listen": "127.0.0.1:0", "psk_hex": PSK_HEX}})
                .to_string(),
        )
        .expect("bus b");
        let conn = b.stats().adapter_connection.expect("mesh connection stats");
        let addr: std::net::SocketAddr = conn.local_addr.expect("local_addr").parse().unwrap();
        let card = conn.card.expect("card");
        assert_eq!(addr.ip().to_string(), "127.0.0.1");
        assert_ne!(addr.port(), 0, "the bound port, not the requested 0");
        assert_eq!(card.len(), 256);
        let peer = format!("{addr}@{card}");
        PeerSpec::parse(&peer, "peer").expect("a valid peers entry");
        let stats_json = b.stats().to_json();
        assert_eq!(stats_json["adapter_connection"]["card"], json!(card));

        // A key file fixes the card: it is the identity's card.
        let dir = scratch("selfinfo");
        let key = dir.join("a.key");
        Identity::from_seed(&[5; 32]).save(&key, false).unwrap();
        let a = EventBus::from_json(
            &json!({"adapter": {"type": "mesh", "listen": "127.0.0.1:0", "psk_hex": PSK_HEX,
                    "key_file": key, "peers": [peer], "connect_timeout_ms": 3000}})
            .to_string(),
        )
        .expect("bus a");
        let a_conn = a.stats().adapter_connection.unwrap();
        assert_eq!(a_conn.card.as_deref(), Some(card_hex(5).as_str()));
        for i in 0..10 {
            a.ingest_str(&format!(r#"{{"i":{i}}}"#)).unwrap();
        }
        a.flush().unwrap();
        let seen = wait_for(&b, 10, Duration::from_secs(20));
        assert_eq!(
            seen.iter().copied().collect::<BTreeSet<_>>(),
            (0..10).collect()
        );
        a.shutdown().unwrap();
        b.shutdown().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    });
}

#[test]
fn two_buses_that_list_each_other_do_not_bounce_events() {
    bounded(Duration::from_secs(60), || {
        let dir = scratch("twoway");
        let (pa, pb) = (free_port(), free_port());
        let b = EventBus::from_json(&node_json(&dir, 2, pb, &[(pa, 1)], PSK_HEX)).expect("bus b");
        let a = EventBus::from_json(&node_json(&dir, 1, pa, &[(pb, 2)], PSK_HEX)).expect("bus a");
        for i in 0..500u64 {
            a.ingest_str(&format!(r#"{{"i":{i}}}"#)).unwrap();
        }
        for i in 1000..1300u64 {
            b.ingest_str(&format!(r#"{{"i":{i}}}"#)).unwrap();
        }
        a.flush().unwrap();
        b.flush().unwrap();
        let want: BTreeSet<u64> = (0..500).chain(1000..1300).collect();
        for bus in [&a, &b] {
            let seen = wait_for(bus, 800, Duration::from_secs(20));
            assert_eq!(
                seen.iter().copied().collect::<BTreeSet<_>>(),
                want,
                "{:?} {:?} / {:?} {:?}",
                a.adapter_health(),
                a.stats().adapter_connection,
                b.adapter_health(),
                b.stats().adapter_connection
            );
        }
        // Nothing comes back a second time, however long we wait.
        std::thread::sleep(Duration::from_millis(500));
        for bus in [&a, &b] {
            assert_eq!(wait_for(bus, 0, Duration::ZERO).len(), 800);
            assert_eq!(bus.stats().accepted, 800);
        }
        a.shutdown().unwrap();
        b.shutdown().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    });
}

#[test]
fn a_json_bus_reaches_a_peer_through_a_relay_that_reads_nothing() {
    bounded(Duration::from_secs(60), || {
        let dir = scratch("relay");
        let (pa, pb, pc) = (free_port(), free_port(), free_port());
        let c = EventBus::from_json(&node_json(&dir, 3, pc, &[], PSK_HEX)).expect("bus c");
        // B dials C (B's own events would go to C; it emits none).
        let b = EventBus::from_json(&node_json(&dir, 2, pb, &[(pc, 3)], PSK_HEX)).expect("bus b");
        let key = dir.join("node-1.key");
        Identity::from_seed(&[1; 32]).save(&key, false).unwrap();
        let a_config = json!({
            "adapter": {
                "type": "mesh", "listen": format!("127.0.0.1:{pa}"), "key_file": key,
                "psk_hex": PSK_HEX, "connect_timeout_ms": 3000,
                "peers": [{"card": card_hex(3), "via": format!("127.0.0.1:{pb}@{}", card_hex(2))}],
            }
        });
        let a = EventBus::from_json(&a_config.to_string()).expect("bus a");
        const N: u64 = 2000;
        for i in 0..N {
            a.ingest_str(&format!(r#"{{"i":{i}}}"#)).unwrap();
        }
        a.flush().unwrap();
        let mut seen = wait_for(&c, N as usize, Duration::from_secs(20));
        seen.sort_unstable();
        assert_eq!(seen, (0..N).collect::<Vec<_>>(), "C holds each event once");
        std::thread::sleep(Duration::from_millis(200));
        assert!(
            wait_for(&b, 0, Duration::ZERO).is_empty(),
            "the relay's bus got nothing"
        );
        assert_eq!(b.stats().accepted, 0);
        a.shutdown().unwrap();
        b.shutdown().unwrap();
        c.shutdown().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    });
}

#[test]
fn a_peer_with_another_psk_receives_nothing() {
    bounded(Duration::from_secs(60), || {
        let dir = scratch("psk");
        let (pa, pb) = (free_port(), free_port());
        let other = "11".repeat(32);
        let b = EventBus::from_json(&node_json(&dir, 2, pb, &[], &other)).expect("bus b");
        let mut cfg =
            EventBusConfig::from_json(&node_json(&dir, 1, pa, &[(pb, 2)], PSK_HEX)).unwrap();
        if let AdapterConfig::Mesh(m) = &mut cfg.adapter {
            m.connect_timeout = Duration::from_millis(300);
        }
        let started = Instant::now();
        let a = EventBus::new(cfg).expect("bus a starts although its peer refuses it");
        assert!(started.elapsed() < Duration::from_secs(5));
        for i in 0..50u64 {
            a.ingest_str(&format!(r#"{{"i":{i}}}"#)).unwrap();
        }
        a.flush().unwrap();
        std::thread::sleep(Duration::from_millis(300));
        assert!(wait_for(&b, 0, Duration::ZERO).is_empty());
        assert_eq!(
            wait_for(&a, 0, Duration::ZERO).len(),
            50,
            "A keeps its own events"
        );
        assert!(
            matches!(a.adapter_health(), net::adapter::Health::Unhealthy(_)),
            "{:?}",
            a.adapter_health()
        );
        a.shutdown().unwrap();
        b.shutdown().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    });
}

#[test]
fn mesh_config_built_in_code_validates_like_json() {
    let mut m = MeshConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        net::mesh::config::PskSource::Inline([1; 32]),
    );
    m.stream_id = 0;
    let err = EventBusConfig::builder()
        .adapter(AdapterConfig::Mesh(m))
        .build()
        .unwrap_err();
    assert_eq!(err.key(), Some("adapter.stream_id"));
}
