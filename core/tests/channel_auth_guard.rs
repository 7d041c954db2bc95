//! The AuthGuard: the fast path admits cached live grants only, full checks cache what they
//! admit, expiry and revocation take effect on the next check, sweeps report evictions, and a
//! bad-credential storm from one peer is throttled (verifier calls counted) while another
//! peer's checks go on.

use std::cell::Cell;

use net::channel::{
    Action, AuthGuard, ChannelHash, ChannelName, Denied, Grant, GuardConfig, GuardConfigError,
    Verdict,
};
use net::identity::NodeId;

fn ch(s: &str) -> ChannelHash {
    ChannelName::parse(s).unwrap().hash()
}

/// A verifier that admits the credential "good" until `expires_at`, counting its calls.
struct Verifier {
    calls: Cell<u32>,
    expires_at: u64,
}

impl Verifier {
    fn new(expires_at: u64) -> Verifier {
        Verifier {
            calls: Cell::new(0),
            expires_at,
        }
    }

    fn f(&self) -> impl Fn(NodeId, ChannelHash, Action, &str, u64) -> Result<Grant, String> + '_ {
        move |peer: NodeId, _c: ChannelHash, _a: Action, cred: &str, _now: u64| {
            self.calls.set(self.calls.get() + 1);
            if cred == "good" {
                Ok(Grant {
                    expires_at: self.expires_at,
                    token_id: peer.0 * 1000 + 7,
                })
            } else {
                Err(format!("bad credential {cred:?}"))
            }
        }
    }
}

#[test]
fn fast_path_admits_only_cached_live_grants() {
    let mut g = AuthGuard::default();
    let (p, c) = (NodeId(42), ch("sensors/lidar/front"));
    assert_eq!(
        g.check_fast(p, c, Action::Subscribe, 100),
        Verdict::NeedsFullCheck
    );
    let v = Verifier::new(200);
    let grant = g
        .check_full(p, c, Action::Subscribe, "good", 100, &v.f())
        .unwrap();
    assert_eq!(grant.expires_at, 200);
    assert_eq!(
        g.check_fast(p, c, Action::Subscribe, 199),
        Verdict::Admit { expires_at: 200 }
    );
    // Grants are per action, per channel and per peer.
    assert_eq!(
        g.check_fast(p, c, Action::Publish, 150),
        Verdict::NeedsFullCheck
    );
    assert_eq!(
        g.check_fast(p, ch("sensors/lidar/rear"), Action::Subscribe, 150),
        Verdict::NeedsFullCheck
    );
    assert_eq!(
        g.check_fast(NodeId(43), c, Action::Subscribe, 150),
        Verdict::NeedsFullCheck
    );
    // Expiry takes effect at expires_at even before a sweep.
    assert_eq!(
        g.check_fast(p, c, Action::Subscribe, 200),
        Verdict::NeedsFullCheck
    );
    assert_eq!(g.len(), 1);
    // `check` runs the verifier only when the fast path cannot answer.
    assert!(
        g.check(p, c, Action::Subscribe, "good", 150, &v.f())
            .is_ok()
    );
    assert_eq!(v.calls.get(), 1);
    assert!(g.check(p, c, Action::Publish, "good", 150, &v.f()).is_ok());
    assert_eq!(v.calls.get(), 2);
}

#[test]
fn an_expired_grant_is_not_cached() {
    let mut g = AuthGuard::default();
    let v = Verifier::new(100);
    let r = g.check_full(NodeId(1), ch("a"), Action::Publish, "good", 100, &v.f());
    assert_eq!(r, Err(Denied::GrantExpired { expires_at: 100 }));
    assert!(g.is_empty());
}

#[test]
fn sweep_evicts_and_reports_expired_grants() {
    let mut g = AuthGuard::default();
    for (i, exp) in [(1u64, 50u64), (2, 60), (3, 500)] {
        g.admit(
            NodeId(i),
            ch("telemetry"),
            Action::Subscribe,
            Grant {
                expires_at: exp,
                token_id: i,
            },
        );
    }
    let r = g.sweep(60);
    let mut expired: Vec<u64> = r.expired.iter().map(|(p, _, _)| p.0).collect();
    expired.sort();
    assert_eq!(expired, vec![1, 2]);
    assert!(
        r.expired
            .iter()
            .all(|(_, c, a)| *c == ch("telemetry") && *a == Action::Subscribe)
    );
    assert_eq!(g.len(), 1);
    assert_eq!(g.stats().expired, 2);
    assert_eq!(
        g.check_fast(NodeId(3), ch("telemetry"), Action::Subscribe, 60),
        Verdict::Admit { expires_at: 500 }
    );
    assert!(g.sweep(61).expired.is_empty());
}

#[test]
fn revocation_takes_effect_on_the_next_check() {
    let mut g = AuthGuard::default();
    let grant = |t| Grant {
        expires_at: 1000,
        token_id: t,
    };
    let (a, b) = (NodeId(1), NodeId(2));
    let (x, y) = (ch("x"), ch("y"));
    g.admit(a, x, Action::Publish, grant(11));
    g.admit(a, y, Action::Publish, grant(11));
    g.admit(b, x, Action::Publish, grant(22));
    g.admit(b, y, Action::Subscribe, grant(33));
    let admitted =
        |g: &AuthGuard, p, c, act| matches!(g.check_fast(p, c, act, 10), Verdict::Admit { .. });
    assert!(g.revoke(b, y, Action::Subscribe));
    assert!(!g.revoke(b, y, Action::Subscribe));
    assert!(!admitted(&g, b, y, Action::Subscribe));
    assert_eq!(g.revoke_token(11), 2);
    assert!(!admitted(&g, a, x, Action::Publish) && !admitted(&g, a, y, Action::Publish));
    assert!(admitted(&g, b, x, Action::Publish));
    assert_eq!(g.revoke_token(0), 0);
    g.admit(a, x, Action::Publish, grant(11));
    assert_eq!(g.revoke_channel(x), 2);
    assert!(g.is_empty());
    g.admit(a, x, Action::Publish, grant(11));
    g.admit(b, x, Action::Publish, grant(22));
    assert_eq!(g.revoke_peer(a), 1);
    assert!(admitted(&g, b, x, Action::Publish));
    g.invalidate_all();
    assert!(!admitted(&g, b, x, Action::Publish));
    assert_eq!(g.stats().revoked, 7);
}

#[test]
fn a_bad_credential_storm_is_throttled_by_count() {
    let config = GuardConfig {
        failure_burst: 16,
        failure_window_secs: 60,
        throttle_secs: 30,
        ..GuardConfig::default()
    };
    let mut g = AuthGuard::new(config).unwrap();
    let (attacker, honest) = (NodeId(666), NodeId(7));
    let c = ch("sensors/temp");
    let v_bad = Verifier::new(10_000);
    let v_good = Verifier::new(10_000);
    g.check_full(honest, c, Action::Publish, "good", 0, &v_good.f())
        .unwrap();

    let mut throttled = 0;
    let mut honest_ok = 0;
    for i in 0..10_000u64 {
        match g.check(attacker, c, Action::Publish, "forged", 1, &v_bad.f()) {
            Err(Denied::Throttled { until }) => {
                assert_eq!(until, 31);
                throttled += 1;
            }
            Err(Denied::Rejected(_)) => {}
            other => panic!("attacker check {i}: {other:?}"),
        }
        // The honest peer's cached grant keeps admitting on the fast path...
        if g.check(honest, c, Action::Publish, "good", 1, &v_good.f())
            .is_ok()
        {
            honest_ok += 1;
        }
    }
    // ...and its new full checks still run.
    assert!(
        g.check(
            honest,
            ch("other"),
            Action::Subscribe,
            "good",
            1,
            &v_good.f()
        )
        .is_ok()
    );
    assert_eq!(v_bad.calls.get(), 16, "verifier runs only for the burst");
    assert_eq!(throttled, 10_000 - 16);
    assert_eq!(honest_ok, 10_000);
    assert_eq!(v_good.calls.get(), 2);
    assert_eq!(
        g.check_fast(attacker, c, Action::Publish, 30),
        Verdict::Deny { until: 31 }
    );
    let s = g.stats();
    assert_eq!((s.rejected, s.throttled, s.admitted), (16, 10_000 - 16, 2));

    // After the throttle: 30 s refilled 8 tokens, so 8 more verifications, then throttled again.
    for _ in 0..100 {
        let _ = g.check(attacker, c, Action::Publish, "forged", 31, &v_bad.f());
    }
    assert_eq!(v_bad.calls.get(), 24);
    // A valid credential from the throttled peer waits for the throttle too.
    assert!(matches!(
        g.check(attacker, c, Action::Publish, "good", 40, &v_good.f()),
        Err(Denied::Throttled { until: 61 })
    ));
    assert!(
        g.check(attacker, c, Action::Publish, "good", 61, &v_good.f())
            .is_ok()
    );
    // The limiter forgets the attacker once its bucket is full again.
    assert_eq!(g.tracked_peers(), 1);
    assert_eq!(g.sweep(61 + 60).peers_pruned, 1);
    assert_eq!(g.tracked_peers(), 0);
}

#[test]
fn many_grants_no_false_admits() {
    let mut g = AuthGuard::default();
    let grant = Grant {
        expires_at: 10,
        token_id: 0,
    };
    for i in 0..20_000u64 {
        g.admit(
            NodeId(i),
            ChannelHash::from_u64(i + 1).unwrap(),
            Action::Publish,
            grant,
        );
    }
    for i in 0..20_000u64 {
        assert!(matches!(
            g.check_fast(
                NodeId(i),
                ChannelHash::from_u64(i + 1).unwrap(),
                Action::Publish,
                0
            ),
            Verdict::Admit { .. }
        ));
        // The bloom filter is saturated at this size; the exact set still decides.
        assert_eq!(
            g.check_fast(
                NodeId(i),
                ChannelHash::from_u64(i + 2).unwrap(),
                Action::Publish,
                0
            ),
            Verdict::NeedsFullCheck
        );
    }
}

#[test]
fn config_bounds() {
    let bad = |c: GuardConfig| AuthGuard::new(c).unwrap_err();
    let d = GuardConfig::default();
    assert_eq!(
        bad(GuardConfig {
            failure_burst: 0,
            ..d
        }),
        GuardConfigError::Zero("failure_burst")
    );
    assert_eq!(
        bad(GuardConfig {
            failure_window_secs: 0,
            ..d
        }),
        GuardConfigError::Zero("failure_window_secs")
    );
    assert_eq!(
        bad(GuardConfig {
            max_entries: 0,
            ..d
        }),
        GuardConfigError::Zero("max_entries")
    );
    // A full set still admits, but does not cache.
    let mut g = AuthGuard::new(GuardConfig {
        max_entries: 2,
        ..d
    })
    .unwrap();
    let v = Verifier::new(100);
    for c in ["a", "b", "c"] {
        assert!(
            g.check_full(NodeId(1), ch(c), Action::Publish, "good", 0, &v.f())
                .is_ok()
        );
    }
    assert_eq!(g.len(), 2);
    assert_eq!(g.stats().not_cached, 1);
    assert_eq!(
        g.check_fast(NodeId(1), ch("c"), Action::Publish, 0),
        Verdict::NeedsFullCheck
    );
}
