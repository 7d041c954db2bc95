//! Authorization of subscribes over real `MeshNode`s on 127.0.0.1: each refusal arrives in the
//! ack with its own reason (no token, expired, wrong channel, wrong scope, wrong subject,
//! self-signed non-root, revoked parent of a delegated token, not visible, missing
//! capability); a valid chain from a root admits; revoking its parent drops the subscriber on
//! the next publish; a bad-token storm from one peer is throttled by count while another
//! peer's subscribe succeeds and publishes to it during the storm are all delivered. Every
//! wait is bounded.

mod membership_support;

use std::sync::Arc;
use std::time::Duration;

use membership_support::{WAIT, collect, identity, link, name, node, pubsub, unix_now};
use net::channel::{
    CapabilityRequirement, ChannelConfig, ChannelRegistry, GuardConfig, Reliability, Visibility,
};
use net::identity::Identity;
use net::membership::{AckStatus, Credential, DenyReason, PubSub, PubSubConfig, Roster};
use net::token::{Grant, Scope, Token, TokenChain, TokenVerifier, VerifyConfig, delegate, issue};

fn token_registry(secure: &str, private_to: net::identity::NodeId) -> ChannelRegistry {
    let mut reg = ChannelRegistry::new();
    reg.register(
        name(secure),
        ChannelConfig {
            require_token: true,
            reliability: Reliability::Reliable,
            ..ChannelConfig::default()
        },
    )
    .unwrap();
    reg.register(
        name("private/room"),
        ChannelConfig::with_visibility(Visibility::private([private_to])),
    )
    .unwrap();
    reg.register(
        name("gpu/jobs"),
        ChannelConfig {
            subscribe_caps: CapabilityRequirement::all_of(["gpu"]),
            ..ChannelConfig::default()
        },
    )
    .unwrap();
    reg
}

fn grant(subject: &Identity, scope: Scope, channel: u64, depth: u8) -> Grant {
    let now = unix_now();
    Grant {
        subject: subject.entity_id(),
        scope,
        channel,
        not_before: now - 60,
        not_after: now + 3600,
        depth,
        nonce: 1,
    }
}

fn cred(subject: &Identity, tokens: Vec<Token>) -> Option<Credential> {
    Some(Credential {
        subject: subject.entity_id(),
        chain: TokenChain::from_tokens(tokens).unwrap().to_bytes(),
    })
}

#[test]
fn each_denial_has_its_own_reason_and_a_root_chain_admits() {
    let (root, mid) = (identity(90), identity(91));
    let (p, a, b) = (node(41), node(42), node(43));
    let (a_id, b_id) = (identity(42), identity(43));
    link(&a, &p);
    link(&b, &p);
    let secure = name("secure/temp");
    let h = secure.hash().get();
    let verifier = Arc::new(TokenVerifier::new(
        [root.entity_id()],
        VerifyConfig { skew_secs: 5 },
    ));
    let pp = pubsub(
        &p,
        Roster::new(
            token_registry("secure/temp", b.node_id()),
            Some(Arc::clone(&verifier)),
            GuardConfig::default(),
        )
        .unwrap(),
    );
    let pa = pubsub(&a, membership_support::roster(ChannelRegistry::new(), None));
    let sub = |ch: &net::channel::ChannelName, c: Option<Credential>| {
        pa.subscribe(p.node_id(), ch, None, c, WAIT).unwrap()
    };
    let denied = |r: DenyReason| AckStatus::Denied(r);

    assert_eq!(sub(&secure, None), denied(DenyReason::NoToken));
    let mut expired = grant(&a_id, Scope::SUBSCRIBE, h, 0);
    expired.not_before -= 10_000;
    expired.not_after = unix_now() - 1000;
    assert_eq!(
        sub(
            &secure,
            cred(&a_id, vec![issue(&root, 0, &expired).unwrap()])
        ),
        denied(DenyReason::Expired)
    );
    let other = name("secure/other").hash().get();
    let wrong_channel = issue(&root, 0, &grant(&a_id, Scope::SUBSCRIBE, other, 0)).unwrap();
    assert_eq!(
        sub(&secure, cred(&a_id, vec![wrong_channel])),
        denied(DenyReason::WrongChannel)
    );
    let publish_only = issue(&root, 0, &grant(&a_id, Scope::PUBLISH, h, 0)).unwrap();
    assert_eq!(
        sub(&secure, cred(&a_id, vec![publish_only])),
        denied(DenyReason::WrongScope)
    );
    // B's valid token presented by A.
    let bs = issue(&root, 0, &grant(&b_id, Scope::SUBSCRIBE, h, 0)).unwrap();
    assert_eq!(
        sub(
            &secure,
            Some(Credential {
                subject: b_id.entity_id(),
                chain: TokenChain::single(bs).to_bytes()
            })
        ),
        denied(DenyReason::WrongSubject)
    );
    let self_signed = issue(&a_id, 0, &grant(&a_id, Scope::SUBSCRIBE, h, 0)).unwrap();
    assert_eq!(
        sub(&secure, cred(&a_id, vec![self_signed])),
        denied(DenyReason::SelfSignedNonRoot)
    );
    // root -> mid (may delegate) -> A; first with mid's token revoked.
    let mid_tok = issue(
        &root,
        0,
        &grant(&mid, Scope::SUBSCRIBE | Scope::DELEGATE, h, 1),
    )
    .unwrap();
    let leaf = delegate(&mid_tok, &mid, 0, &grant(&a_id, Scope::SUBSCRIBE, h, 0)).unwrap();
    let revoked_root = issue(
        &root,
        0,
        &Grant {
            nonce: 2,
            ..grant(&mid, Scope::SUBSCRIBE | Scope::DELEGATE, h, 1)
        },
    )
    .unwrap();
    let revoked_leaf = delegate(
        &revoked_root,
        &mid,
        0,
        &grant(&a_id, Scope::SUBSCRIBE, h, 0),
    )
    .unwrap();
    verifier.revoke_token(revoked_root.hash());
    assert_eq!(
        sub(&secure, cred(&a_id, vec![revoked_root, revoked_leaf])),
        denied(DenyReason::Revoked)
    );
    assert_eq!(
        sub(&name("private/room"), None),
        denied(DenyReason::NotVisible)
    );
    assert_eq!(
        sub(&name("gpu/jobs"), None),
        denied(DenyReason::MissingCapability)
    );
    pp.with_roster(|r| r.set_capabilities(a.node_id(), vec!["gpu".into()]));
    assert_eq!(sub(&name("gpu/jobs"), None), AckStatus::Subscribed);

    // The valid chain admits, and publishes reach A.
    assert_eq!(
        sub(&secure, cred(&a_id, vec![mid_tok, leaf])),
        AckStatus::Subscribed
    );
    let r = pp.publish(&secure, b"t=21.5").unwrap();
    assert_eq!(r.delivered, vec![a.node_id()]);
    assert_eq!(collect(&pa, 1, Duration::from_millis(500)).len(), 1);

    // Revoking mid's token (the parent) through the verifier alone takes effect on the next
    // publish: the roster's guard watches the verifier's revocation epoch.
    verifier.revoke_token(mid_tok.hash());
    let r = pp.publish(&secure, b"t=22.0").unwrap();
    assert!(r.delivered.is_empty());
    assert_eq!(r.dropped, vec![(a.node_id(), DenyReason::Revoked)]);
    assert!(!pp.with_roster(|r| r.is_member(secure.hash(), a.node_id())));
    assert!(pa.recv(Duration::from_millis(300)).is_none());

    let stats = pp.with_roster(|r| r.stats().clone());
    for reason in [
        DenyReason::NoToken,
        DenyReason::Expired,
        DenyReason::WrongChannel,
        DenyReason::WrongScope,
        DenyReason::WrongSubject,
        DenyReason::SelfSignedNonRoot,
        DenyReason::Revoked,
        DenyReason::NotVisible,
        DenyReason::MissingCapability,
    ] {
        assert_eq!(stats.denied_for(reason), 1, "{reason}");
    }
    assert_eq!(stats.admitted, 2);
    assert_eq!(stats.dropped, 1);
}

#[test]
fn a_bad_token_storm_is_throttled_while_another_peer_subscribes() {
    let root = identity(95);
    let (p, x, y) = (node(51), node(52), node(53));
    let (x_id, y_id) = (identity(52), identity(53));
    link(&x, &p);
    link(&y, &p);
    let secure = name("secure/storm");
    let h = secure.hash().get();
    let verifier = Arc::new(TokenVerifier::new(
        [root.entity_id()],
        VerifyConfig { skew_secs: 5 },
    ));
    let guard = GuardConfig {
        failure_burst: 4,
        failure_window_secs: 600,
        throttle_secs: 600,
        ..GuardConfig::default()
    };
    let pp = PubSub::start(
        Arc::clone(&p),
        Roster::new(
            token_registry("secure/storm", y.node_id()),
            Some(verifier),
            guard,
        )
        .unwrap(),
        PubSubConfig::default(),
    );
    let px = pubsub(&x, membership_support::roster(ChannelRegistry::new(), None));
    let py = pubsub(&y, membership_support::roster(ChannelRegistry::new(), None));
    // X's token with one signature byte flipped.
    let good = issue(&root, 0, &grant(&x_id, Scope::SUBSCRIBE, h, 0)).unwrap();
    let mut chain = TokenChain::single(good).to_bytes();
    let last = chain.len() - 1;
    chain[last] ^= 0x01;
    const STORM: u64 = 40;
    let mut reasons = Vec::new();
    let mut published = 0usize;
    for i in 0..STORM {
        let c = Some(Credential {
            subject: x_id.entity_id(),
            chain: chain.clone(),
        });
        match px.subscribe(p.node_id(), &secure, None, c, WAIT).unwrap() {
            AckStatus::Denied(r) => reasons.push(r),
            other => panic!("bad token {i} admitted: {other:?}"),
        }
        if i == STORM / 2 {
            // Y's valid subscribe in the middle of the storm.
            let yc = issue(&root, 0, &grant(&y_id, Scope::SUBSCRIBE, h, 0)).unwrap();
            assert_eq!(
                py.subscribe(p.node_id(), &secure, None, cred(&y_id, vec![yc]), WAIT),
                Ok(AckStatus::Subscribed)
            );
        }
        if i >= STORM / 2 {
            // Publishes to Y go on during the storm, every one delivered.
            let r = pp.publish(&secure, &(i as u32).to_le_bytes()).unwrap();
            assert_eq!(r.delivered, vec![y.node_id()]);
            published += 1;
        }
    }
    let bad_sig = reasons
        .iter()
        .filter(|r| **r == DenyReason::BadSignature)
        .count();
    let throttled = reasons
        .iter()
        .filter(|r| **r == DenyReason::Throttled)
        .count();
    assert_eq!((bad_sig, throttled), (4, STORM as usize - 4), "{reasons:?}");
    let g = pp.with_roster(|r| r.guard_stats());
    assert_eq!(
        g.verified, 5,
        "the verifier ran 4 times for X and once for Y"
    );
    assert_eq!(g.rejected, 4);
    assert_eq!(g.admitted, 1);
    // Y still gets events; X is on no roster.
    let r = pp.publish(&secure, b"ok").unwrap();
    assert_eq!(r.delivered, vec![y.node_id()]);
    assert_eq!(
        collect(&py, published + 1, Duration::from_millis(500)).len(),
        published + 1,
        "Y got every event published during and after the storm"
    );
    assert!(!pp.with_roster(|r| r.is_member(secure.hash(), x.node_id())));
}
