//! The sans-IO [`Roster`] with the clock in hand: grants that expire are swept with their
//! subscribers (and refused at publish time before a sweep), a re-subscribe moves a member
//! between groups, a full roster refuses with its reason, queue-group round robin skips a member
//! that no longer passes, and acks echo request ids with the channel hash.

use std::sync::Arc;

use net::channel::{ChannelConfig, ChannelName, ChannelRegistry, GuardConfig};
use net::identity::{Identity, NodeId};
use net::membership::{AckStatus, Credential, DenyReason, Message, Roster};
use net::token::{Grant, Scope, TokenChain, TokenVerifier, VerifyConfig, issue};

fn name(s: &str) -> ChannelName {
    ChannelName::parse(s).unwrap()
}

fn sub(id: u64, ch: &ChannelName, group: Option<&str>, cred: Option<Credential>) -> Message {
    Message::Subscribe {
        request_id: id,
        channel: ch.clone(),
        group: group.map(str::to_string),
        credential: cred,
    }
}

fn status(reply: Option<Message>) -> AckStatus {
    match reply {
        Some(Message::Ack { status, .. }) => status,
        other => panic!("expected an ack, got {other:?}"),
    }
}

#[test]
fn expired_grants_are_refused_at_publish_and_swept() {
    let root = Identity::from_seed(&[1; 32]);
    let (a, b) = (Identity::from_seed(&[2; 32]), Identity::from_seed(&[3; 32]));
    let ch = name("secure/clock");
    let mut reg = ChannelRegistry::new();
    reg.register(
        ch.clone(),
        ChannelConfig {
            require_token: true,
            ..ChannelConfig::default()
        },
    )
    .unwrap();
    let verifier = Arc::new(TokenVerifier::new(
        [root.entity_id()],
        VerifyConfig { skew_secs: 0 },
    ));
    let mut r = Roster::new(reg, Some(verifier), GuardConfig::default()).unwrap();
    let cred = |who: &Identity, not_after: u64| {
        let t = issue(
            &root,
            0,
            &Grant {
                subject: who.entity_id(),
                scope: Scope::SUBSCRIBE,
                channel: ch.hash().get(),
                not_before: 900,
                not_after,
                depth: 0,
                nonce: not_after,
            },
        )
        .unwrap();
        Some(Credential {
            subject: who.entity_id(),
            chain: TokenChain::single(t).to_bytes(),
        })
    };
    let reply = r.handle(a.node_id(), 1000, &sub(7, &ch, None, cred(&a, 1100)));
    assert_eq!(
        reply,
        Some(Message::Ack {
            request_id: 7,
            channel: ch.hash(),
            status: AckStatus::Subscribed
        })
    );
    assert_eq!(
        status(r.handle(b.node_id(), 1000, &sub(8, &ch, None, cred(&b, 5000)))),
        AckStatus::Subscribed
    );
    assert_eq!(r.fan_out(ch.hash(), 1100).peers.len(), 2);
    // At 1101 A's grant is gone: refused at publish time, with the token's reason.
    let f = r.fan_out(ch.hash(), 1101);
    assert_eq!(f.peers, vec![b.node_id()]);
    assert_eq!(f.dropped, vec![(a.node_id(), DenyReason::Expired)]);
    // B's expires at 5001; a sweep then removes it without a publish.
    assert!(r.sweep(4000).is_empty());
    assert_eq!(r.sweep(5001), vec![(b.node_id(), ch.hash())]);
    assert!(r.members(ch.hash()).is_empty());
    assert_eq!(r.stats().expired, 1);
    assert_eq!(r.stats().dropped, 1);
}

#[test]
fn groups_resubscribe_capacity_and_round_robin() {
    let ch = name("jobs/render");
    let mut reg = ChannelRegistry::new();
    reg.register(ch.clone(), ChannelConfig::default()).unwrap();
    let mut r = Roster::new(reg, None, GuardConfig::default()).unwrap();
    let (p1, p2, p3, p4) = (NodeId(1), NodeId(2), NodeId(3), NodeId(4));
    for p in [p1, p2, p3] {
        assert_eq!(
            status(r.handle(p, 0, &sub(1, &ch, Some("g"), None))),
            AckStatus::Subscribed
        );
    }
    // Round robin in subscribe order.
    let picks: Vec<NodeId> = (0..6).map(|_| r.fan_out(ch.hash(), 0).peers[0]).collect();
    assert_eq!(picks, vec![p1, p2, p3, p1, p2, p3]);
    // P2 moves to plain membership: it now gets every event, the group alternates P1, P3.
    assert_eq!(
        status(r.handle(p2, 0, &sub(2, &ch, None, None))),
        AckStatus::Subscribed
    );
    assert_eq!(r.members(ch.hash()).len(), 3, "still one entry per peer");
    let f = r.fan_out(ch.hash(), 0);
    assert!(f.peers.contains(&p2) && f.peers.len() == 2);
    // Capacity.
    r.set_max_members(3);
    assert_eq!(
        status(r.handle(p4, 0, &sub(3, &ch, None, None))),
        AckStatus::Denied(DenyReason::RosterFull)
    );
    // A registry change makes P1 invisible: the group skips and drops it, P3 is picked.
    r.registry_mut()
        .update(
            &ch,
            ChannelConfig::with_visibility(net::channel::Visibility::private([p2, p3])),
        )
        .unwrap();
    let f = r.fan_out(ch.hash(), 0);
    let mut peers = f.peers.clone();
    peers.sort();
    assert_eq!(peers, vec![p2, p3]);
    assert_eq!(f.dropped, vec![(p1, DenyReason::NotVisible)]);
    // Unsubscribe and a second unsubscribe.
    let un = Message::Unsubscribe {
        request_id: 9,
        channel: ch.clone(),
    };
    assert_eq!(status(r.handle(p3, 0, &un)), AckStatus::Unsubscribed);
    assert_eq!(status(r.handle(p3, 0, &un)), AckStatus::NotSubscribed);
    assert_eq!(r.members(ch.hash()), vec![(p2, None)]);
    // Acks need no answer.
    assert_eq!(
        r.handle(
            p2,
            0,
            &Message::Ack {
                request_id: 1,
                channel: ch.hash(),
                status: AckStatus::Subscribed
            }
        ),
        None
    );
    assert_eq!(r.evict_peer(p2), 1);
    assert!(r.fan_out(ch.hash(), 0).peers.is_empty());
}
