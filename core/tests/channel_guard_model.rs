//! The AuthGuard against a plain reference model: random sequences of admits, full checks,
//! revocations, sweeps and fast checks over a small key space (so keys repeat and collide in
//! the bloom filter) must give the same verdicts as a `HashMap` of grants plus a per-peer
//! failure count.

use std::collections::HashMap;

use net::channel::{Action, AuthGuard, ChannelHash, Denied, Grant, GuardConfig, Verdict};
use net::identity::NodeId;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Admit {
        peer: u64,
        ch: u64,
        sub: bool,
        ttl: u64,
        token: u64,
    },
    Full {
        peer: u64,
        ch: u64,
        sub: bool,
        ok: bool,
    },
    Revoke {
        peer: u64,
        ch: u64,
        sub: bool,
    },
    RevokePeer(u64),
    RevokeChannel(u64),
    RevokeToken(u64),
    InvalidateAll,
    Sweep,
    Tick(u64),
}

fn op() -> impl Strategy<Value = Op> {
    let peer = 0u64..4;
    let ch = 1u64..4;
    prop_oneof![
        4 => (peer.clone(), ch.clone(), any::<bool>(), 1u64..20, 0u64..3)
            .prop_map(|(peer, ch, sub, ttl, token)| Op::Admit { peer, ch, sub, ttl, token }),
        4 => (peer.clone(), ch.clone(), any::<bool>(), any::<bool>())
            .prop_map(|(peer, ch, sub, ok)| Op::Full { peer, ch, sub, ok }),
        1 => (peer.clone(), ch.clone(), any::<bool>())
            .prop_map(|(peer, ch, sub)| Op::Revoke { peer, ch, sub }),
        1 => peer.clone().prop_map(Op::RevokePeer),
        1 => ch.clone().prop_map(Op::RevokeChannel),
        1 => (0u64..3).prop_map(Op::RevokeToken),
        1 => Just(Op::InvalidateAll),
        1 => Just(Op::Sweep),
        2 => (0u64..8).prop_map(Op::Tick),
    ]
}

type Key = (u64, u64, bool);

fn action(sub: bool) -> Action {
    if sub {
        Action::Subscribe
    } else {
        Action::Publish
    }
}

/// The model's limiter: burst 2, refill 2 per 10 s, throttle 5 s, in the guard's integer units.
struct Bucket {
    credit: u64,
    last: u64,
    until: u64,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn guard_matches_model(ops in prop::collection::vec(op(), 1..120)) {
        let config = GuardConfig { failure_burst: 2, failure_window_secs: 10, throttle_secs: 5, max_entries: 1 << 20 };
        let mut g = AuthGuard::new(config).unwrap();
        let mut grants: HashMap<Key, (u64, u64)> = HashMap::new();
        let mut buckets: HashMap<u64, Bucket> = HashMap::new();
        let mut now = 100u64;
        let throttled = |b: &HashMap<u64, Bucket>, peer: u64, now: u64| {
            b.get(&peer).filter(|b| now < b.until).map(|b| b.until)
        };
        for op in ops {
            match op {
                Op::Admit { peer, ch, sub, ttl, token } => {
                    let grant = Grant { expires_at: now + ttl, token_id: token };
                    g.admit(NodeId(peer), ChannelHash::from_u64(ch).unwrap(), action(sub), grant);
                    grants.insert((peer, ch, sub), (now + ttl, token));
                }
                Op::Full { peer, ch, sub, ok } => {
                    let verifier = |_p: NodeId, _c: ChannelHash, _a: Action, cred: &bool, now: u64| {
                        if *cred { Ok(Grant { expires_at: now + 10, token_id: 1 }) } else { Err("bad") }
                    };
                    let got = g.check_full(NodeId(peer), ChannelHash::from_u64(ch).unwrap(), action(sub), &ok, now, &verifier);
                    if let Some(until) = throttled(&buckets, peer, now) {
                        prop_assert_eq!(got, Err(Denied::Throttled { until }));
                    } else if ok {
                        prop_assert!(got.is_ok());
                        grants.insert((peer, ch, sub), (now + 10, 1));
                    } else {
                        prop_assert_eq!(got, Err(Denied::Rejected("bad")));
                        let b = buckets.entry(peer).or_insert(Bucket { credit: 20, last: now, until: 0 });
                        b.credit = (b.credit + (now - b.last) * 2).min(20);
                        b.last = now;
                        b.credit = b.credit.saturating_sub(10);
                        if b.credit < 10 {
                            b.until = now + 5u64.max((10 - b.credit).div_ceil(2));
                        }
                    }
                }
                Op::Revoke { peer, ch, sub } => {
                    let removed = g.revoke(NodeId(peer), ChannelHash::from_u64(ch).unwrap(), action(sub));
                    prop_assert_eq!(removed, grants.remove(&(peer, ch, sub)).is_some());
                }
                Op::RevokePeer(p) => {
                    let before = grants.len();
                    grants.retain(|k, _| k.0 != p);
                    prop_assert_eq!(g.revoke_peer(NodeId(p)), before - grants.len());
                }
                Op::RevokeChannel(c) => {
                    let before = grants.len();
                    grants.retain(|k, _| k.1 != c);
                    prop_assert_eq!(g.revoke_channel(ChannelHash::from_u64(c).unwrap()), before - grants.len());
                }
                Op::RevokeToken(t) => {
                    let before = grants.len();
                    if t != 0 {
                        grants.retain(|_, v| v.1 != t);
                    }
                    prop_assert_eq!(g.revoke_token(t), before - grants.len());
                }
                Op::InvalidateAll => {
                    g.invalidate_all();
                    grants.clear();
                }
                Op::Sweep => {
                    let mut expired: Vec<Key> = g
                        .sweep(now)
                        .expired
                        .into_iter()
                        .map(|(p, c, a)| (p.0, c.get(), a == Action::Subscribe))
                        .collect();
                    expired.sort();
                    let mut want: Vec<Key> = grants.iter().filter(|(_, v)| v.0 <= now).map(|(k, _)| *k).collect();
                    want.sort();
                    grants.retain(|_, v| v.0 > now);
                    prop_assert_eq!(expired, want);
                }
                Op::Tick(dt) => now += dt,
            }
            prop_assert_eq!(g.len(), grants.len());
            for peer in 0..4 {
                for ch in 1..4 {
                    for sub in [false, true] {
                        let got = g.check_fast(NodeId(peer), ChannelHash::from_u64(ch).unwrap(), action(sub), now);
                        let want = match grants.get(&(peer, ch, sub)) {
                            Some(&(exp, _)) if now < exp => Verdict::Admit { expires_at: exp },
                            _ => match throttled(&buckets, peer, now) {
                                Some(until) => Verdict::Deny { until },
                                None => Verdict::NeedsFullCheck,
                            },
                        };
                        prop_assert_eq!(got, want, "peer {} ch {} sub {} now {}", peer, ch, sub, now);
                    }
                }
            }
        }
    }
}
