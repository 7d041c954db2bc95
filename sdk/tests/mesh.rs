//! `net_sdk::Mesh` over three real nodes on 127.0.0.1: a publish reaches the subscriber and
//! not the connected-but-unsubscribed node; a bad channel name is a typed error; an
//! private channel's subscribe is refused with the ack; after unsubscribe nothing more arrives.

use std::time::{Duration, Instant};

use net::channel::{ChannelConfig, Visibility};
use net::identity::Identity;
use net_sdk::{DenyReason, Mesh, MeshError};

const PSK: [u8; 32] = [0x33; 32];
const WAIT: Duration = Duration::from_secs(10);

fn mesh(n: u8) -> Mesh {
    Mesh::builder("127.0.0.1:0".parse().unwrap(), PSK)
        .identity(Identity::from_seed(&[n; 32]))
        .build()
        .expect("build mesh")
}

/// `sub` dials `publisher` and waits until the publisher has the session too.
fn link(sub: &Mesh, publisher: &Mesh) {
    sub.connect(publisher.local_addr(), &publisher.card(), WAIT)
        .expect("connect");
    let deadline = Instant::now() + WAIT;
    while !publisher.is_connected(sub.node_id()) {
        assert!(Instant::now() < deadline, "publisher never saw the session");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn publish_reaches_subscriber_only() {
    let (p, a, b) = (mesh(1), mesh(2), mesh(3));
    link(&a, &p);
    link(&b, &p);
    p.register_channel("sensors/temp", ChannelConfig::default())
        .unwrap();
    a.subscribe_channel(p.node_id(), "sensors/temp", WAIT)
        .unwrap();

    let report = p.publish("sensors/temp", b"21.5").unwrap();
    assert_eq!(report.delivered, vec![a.node_id()]);
    assert!(report.failed.is_empty());

    let got = a.recv(WAIT).expect("subscriber got the event");
    assert_eq!(got.channel, "sensors/temp");
    assert_eq!(got.payload, b"21.5");
    assert_eq!(got.from, p.node_id());
    assert_eq!(b.recv(Duration::from_millis(300)), None);

    a.unsubscribe_channel(p.node_id(), "sensors/temp", WAIT)
        .unwrap();
    let report = p.publish("sensors/temp", b"22.0").unwrap();
    assert!(report.delivered.is_empty(), "{report:?}");
    assert_eq!(a.recv(Duration::from_millis(300)), None);

    for m in [&p, &a, &b] {
        m.shutdown();
    }
}

#[test]
fn bad_names_and_unknown_channels_are_typed_errors() {
    let (p, a) = (mesh(4), mesh(5));
    link(&a, &p);
    assert!(matches!(
        p.register_channel("bad//name", ChannelConfig::default()),
        Err(MeshError::Name(_))
    ));
    assert!(matches!(p.publish("", b"x"), Err(MeshError::Name(_))));
    assert!(matches!(
        a.subscribe_channel(p.node_id(), "has space", WAIT),
        Err(MeshError::Name(_))
    ));
    p.register_channel("room/a", ChannelConfig::default())
        .unwrap();
    assert!(matches!(
        p.register_channel("room/a", ChannelConfig::default()),
        Err(MeshError::Registry(_))
    ));
    // Unregistered channels take the registry default (open), so the subscribe succeeds.
    a.subscribe_channel(p.node_id(), "room/unknown", WAIT)
        .unwrap();
    // A channel private to another node refuses `a` with the engine's ack.
    p.register_channel(
        "room/private",
        ChannelConfig::with_visibility(Visibility::private([p.node_id()])),
    )
    .unwrap();
    let refused = a.subscribe_channel(p.node_id(), "room/private", WAIT);
    assert!(
        matches!(refused, Err(MeshError::Denied(DenyReason::NotVisible))),
        "{refused:?}"
    );
    p.shutdown();
    a.shutdown();
    assert!(matches!(
        a.connect(p.local_addr(), &p.card(), Duration::from_millis(100)),
        Err(MeshError::Node(_))
    ));
}
