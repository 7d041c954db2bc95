//! Tokens through `net_sdk::Mesh` over real nodes on 127.0.0.1: a publisher with a trust root
//! and a `require_token` channel admits a subscriber presenting a root -> delegate chain (set on
//! the builder) and delivers to it; no token, a token for another channel and an expired token
//! are each denied with the publisher's own reason; a chain for another identity is refused
//! locally before anything is sent; revoking the middle token through the publisher's `Mesh`
//! drops the delegated subscriber on the next publish (`revoked`); queue-group members split
//! the events. Every wait is bounded.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use net::channel::ChannelConfig;
use net::identity::Identity;
use net::token::{Grant, Scope, Token, TokenChain, TokenError, delegate, issue};
use net_sdk::{DenyReason, Mesh, MeshError};

const PSK: [u8; 32] = [0x44; 32];
const WAIT: Duration = Duration::from_secs(10);
const SECURE: &str = "secure/temp";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn seed(n: u8) -> [u8; 32] {
    [n; 32]
}

fn id(n: u8) -> Identity {
    Identity::from_seed(&seed(n))
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

fn grant(subject: &Identity, scope: Scope, channel: &str, window: (u64, u64), depth: u8) -> Grant {
    Grant {
        subject: subject.entity_id(),
        scope,
        channel: net::channel::ChannelName::parse(channel)
            .unwrap()
            .hash()
            .get(),
        not_before: window.0,
        not_after: window.1,
        depth,
        nonce: u64::from(subject.entity_id().0[0]) << 8 | u64::from(depth),
    }
}

fn publisher(root: &Identity, n: u8) -> Mesh {
    let p = Mesh::builder("127.0.0.1:0".parse().unwrap(), PSK)
        .seed(seed(n))
        .trust_roots([root.entity_id()])
        .build()
        .expect("build publisher");
    p.register_channel(
        SECURE,
        ChannelConfig {
            require_token: true,
            ..ChannelConfig::default()
        },
    )
    .unwrap();
    p
}

/// Root -> mid (subscribe + delegate, depth 1) for `SECURE`, valid for an hour.
fn mid_token(root: &Identity, mid: &Identity) -> Token {
    let t = now();
    let g = grant(
        mid,
        Scope::SUBSCRIBE | Scope::DELEGATE,
        SECURE,
        (t - 60, t + 3600),
        1,
    );
    issue(root, 0, &g).unwrap()
}

#[test]
fn token_channel_admits_a_delegated_chain_and_denies_each_bad_token_with_its_reason() {
    let (root, mid) = (id(10), id(11));
    let p = publisher(&root, 12);
    let t = now();
    let mid_tok = mid_token(&root, &mid);
    let leaf = |who: &Identity| {
        delegate(
            &mid_tok,
            &mid,
            0,
            &grant(who, Scope::SUBSCRIBE, SECURE, (t - 60, t + 3600), 0),
        )
        .unwrap()
    };

    // A: the chain root -> mid -> A, set on the builder for the channel.
    let a_chain = TokenChain::from_tokens(vec![mid_tok, leaf(&id(13))]).unwrap();
    let a = Mesh::builder("127.0.0.1:0".parse().unwrap(), PSK)
        .seed(seed(13))
        .token(SECURE, a_chain.clone())
        .build()
        .unwrap();
    assert_eq!(a.entity_id(), id(13).entity_id());
    link(&a, &p);
    a.subscribe_channel(p.node_id(), SECURE, WAIT)
        .expect("a valid chain from the root is admitted");
    let report = p.publish(SECURE, b"t=21.5").unwrap();
    assert_eq!(report.delivered, vec![a.node_id()]);
    assert!(report.dropped.is_empty(), "{report:?}");
    assert!(p.wait_acked(SECURE, &report, WAIT).unwrap().is_empty());
    let got = a
        .recv(WAIT)
        .expect("the admitted subscriber gets the event");
    assert_eq!(
        (got.channel.as_str(), &got.payload[..]),
        (SECURE, &b"t=21.5"[..])
    );

    // B: no token.
    let b = Mesh::builder("127.0.0.1:0".parse().unwrap(), PSK)
        .seed(seed(14))
        .build()
        .unwrap();
    link(&b, &p);
    let e = b.subscribe_channel(p.node_id(), SECURE, WAIT).unwrap_err();
    assert_eq!(e, MeshError::Denied(DenyReason::NoToken));
    assert_eq!(e.deny_reason(), Some(DenyReason::NoToken));
    assert!(e.to_string().contains("no_token"), "{e}");

    // B: a root token for another channel.
    let other = issue(
        &root,
        0,
        &grant(
            &id(14),
            Scope::SUBSCRIBE,
            "secure/other",
            (t - 60, t + 3600),
            0,
        ),
    )
    .unwrap();
    let e = b
        .subscribe_channel_with_token(p.node_id(), SECURE, &TokenChain::single(other), WAIT)
        .unwrap_err();
    assert_eq!(e, MeshError::Denied(DenyReason::WrongChannel));

    // B: an expired root token (ended an hour ago, far beyond the 30 s skew).
    let expired = issue(
        &root,
        0,
        &grant(&id(14), Scope::SUBSCRIBE, SECURE, (t - 7200, t - 3600), 0),
    )
    .unwrap();
    b.set_token(SECURE, TokenChain::single(expired)).unwrap();
    let e = b.subscribe_channel(p.node_id(), SECURE, WAIT).unwrap_err();
    assert_eq!(e, MeshError::Denied(DenyReason::Expired));
    assert!(b.clear_token(SECURE).unwrap());

    // B presenting A's chain: refused locally, nothing sent.
    let acks_before = p.stats().acks_sent;
    let e = b
        .subscribe_channel_with_token(p.node_id(), SECURE, &a_chain, WAIT)
        .unwrap_err();
    assert_eq!(e, MeshError::Token(TokenError::WrongSubject));
    assert!(matches!(
        Mesh::builder("127.0.0.1:0".parse().unwrap(), PSK)
            .seed(seed(14))
            .token(SECURE, a_chain.clone())
            .build(),
        Err(MeshError::Token(TokenError::WrongSubject))
    ));
    assert_eq!(p.stats().acks_sent, acks_before);
    assert!(b.recv(Duration::from_millis(200)).is_none());

    // Revoking mid's token (A's parent) on the publisher drops A on the next publish.
    p.revoke_token(mid_tok.hash()).unwrap();
    let report = p.publish(SECURE, b"t=22.0").unwrap();
    assert!(report.delivered.is_empty(), "{report:?}");
    assert_eq!(report.dropped, vec![(a.node_id(), DenyReason::Revoked)]);
    assert!(a.recv(Duration::from_millis(300)).is_none());
    // A subscribing again with the same chain is refused as revoked.
    let e = a.subscribe_channel(p.node_id(), SECURE, WAIT).unwrap_err();
    assert_eq!(e, MeshError::Denied(DenyReason::Revoked));
    // A node without trust roots has nothing to revoke.
    assert_eq!(a.revoke_token([0; 32]), Err(MeshError::NoVerifier));

    for m in [&p, &a, &b] {
        m.shutdown();
    }
}

#[test]
fn revoking_an_issuer_generation_reaches_delegated_subscribers() {
    let (root, mid) = (id(20), id(21));
    let p = publisher(&root, 22);
    let t = now();
    let mid_tok = mid_token(&root, &mid);
    let a_leaf = delegate(
        &mid_tok,
        &mid,
        0,
        &grant(&id(23), Scope::SUBSCRIBE, SECURE, (t - 60, t + 3600), 0),
    )
    .unwrap();
    let a = Mesh::builder("127.0.0.1:0".parse().unwrap(), PSK)
        .seed(seed(23))
        .build()
        .unwrap();
    link(&a, &p);
    let chain = TokenChain::from_tokens(vec![mid_tok, a_leaf]).unwrap();
    a.subscribe_channel_with_token(p.node_id(), SECURE, &chain, WAIT)
        .unwrap();
    assert_eq!(
        p.publish(SECURE, b"1").unwrap().delivered,
        vec![a.node_id()]
    );
    assert_eq!(a.recv(WAIT).unwrap().payload, b"1");
    // Everything the root signed at generation 0 (mid's token) is revoked.
    p.revoke_generation(root.entity_id(), 0).unwrap();
    let report = p.publish(SECURE, b"2").unwrap();
    assert_eq!(report.dropped, vec![(a.node_id(), DenyReason::Revoked)]);
    assert!(a.recv(Duration::from_millis(300)).is_none());
    p.shutdown();
    a.shutdown();
}

#[test]
fn queue_group_members_with_tokens_split_the_events() {
    let root = id(30);
    let p = publisher(&root, 31);
    let t = now();
    let members: Vec<Mesh> = [32u8, 33]
        .iter()
        .map(|&n| {
            let tok = issue(
                &root,
                0,
                &grant(&id(n), Scope::SUBSCRIBE, SECURE, (t - 60, t + 3600), 0),
            )
            .unwrap();
            let m = Mesh::builder("127.0.0.1:0".parse().unwrap(), PSK)
                .seed(seed(n))
                .token(SECURE, TokenChain::single(tok))
                .build()
                .unwrap();
            link(&m, &p);
            m.subscribe_queue_group(p.node_id(), SECURE, "workers", WAIT)
                .unwrap();
            m
        })
        .collect();
    for i in 0..20u32 {
        let report = p.publish(SECURE, i.to_string().as_bytes()).unwrap();
        assert_eq!(
            report.delivered.len(),
            1,
            "one member per publish: {report:?}"
        );
    }
    let mut seen: Vec<Vec<u32>> = Vec::new();
    for m in &members {
        let mut got = Vec::new();
        while let Some(e) = m.recv(Duration::from_millis(500)) {
            got.push(String::from_utf8(e.payload).unwrap().parse().unwrap());
        }
        seen.push(got);
    }
    assert!(seen.iter().all(|g| !g.is_empty()), "{seen:?}");
    let mut all: Vec<u32> = seen.concat();
    all.sort_unstable();
    assert_eq!(
        all,
        (0..20).collect::<Vec<_>>(),
        "each event to exactly one member"
    );
    p.shutdown();
    for m in &members {
        m.shutdown();
    }
}
