//! The AuthGuard with the token module plugged in ([`TokenCheck`]): a valid root-anchored chain
//! admits and is then cached; wrong scope, channel or presenter are each denied with the token
//! module's reason; revocation of a parent reaches a cached delegated grant on the next check
//! (by hand with `invalidate_all`, or by itself when the guard watches the verifier's revocation
//! epoch, for a parent token and for an issuer generation); a storm of bad chains from one peer
//! is throttled by count.

use net::channel::{
    Action, AuthGuard, ChannelName, Denied, PeerToken, TokenCheck, Verdict, token_id,
};
use net::identity::Identity;
use net::token::{
    Grant, Scope, TokenChain, TokenError, TokenVerifier, VerifyConfig, delegate, issue,
};

fn id(n: u8) -> Identity {
    Identity::from_seed(&[n; 32])
}

#[test]
fn token_chains_through_the_guard() {
    let (root, alice, bob) = (id(1), id(2), id(3));
    let verifier = TokenVerifier::new([root.entity_id()], VerifyConfig { skew_secs: 5 });
    let check = TokenCheck::new(&verifier);
    let temp = ChannelName::parse("sensors/temp").unwrap().hash();
    let other = ChannelName::parse("sensors/other").unwrap().hash();
    let grant = Grant {
        subject: alice.entity_id(),
        scope: Scope::SUBSCRIBE | Scope::DELEGATE,
        channel: temp.get(),
        not_before: 100,
        not_after: 200,
        depth: 1,
        nonce: 9,
    };
    let alice_tok = issue(&root, 0, &grant).unwrap();
    let alice_chain = TokenChain::single(alice_tok).to_bytes();
    let alice_cred = PeerToken {
        subject: alice.entity_id(),
        chain: &alice_chain,
    };
    let mut g = AuthGuard::default();
    let a = alice.node_id();

    assert_eq!(
        g.check_fast(a, temp, Action::Subscribe, 150),
        Verdict::NeedsFullCheck
    );
    let granted = g
        .check_full(a, temp, Action::Subscribe, &alice_cred, 150, &check)
        .unwrap();
    assert_eq!(granted.expires_at, 206, "not_after + skew + 1");
    assert_eq!(granted.token_id, token_id(&alice_tok.hash()));
    assert_eq!(
        g.check_fast(a, temp, Action::Subscribe, 205),
        Verdict::Admit { expires_at: 206 }
    );

    // Each wrong request gets the token module's own reason.
    let denied = |g: &mut AuthGuard, peer, ch, act, cred: &PeerToken<'_>| match g
        .check_full(peer, ch, act, cred, 150, &check)
    {
        Err(Denied::Rejected(e)) => e,
        other => panic!("expected a rejection, got {other:?}"),
    };
    assert!(matches!(
        denied(&mut g, a, temp, Action::Publish, &alice_cred),
        TokenError::WrongScope { .. }
    ));
    assert!(matches!(
        denied(&mut g, a, other, Action::Subscribe, &alice_cred),
        TokenError::WrongChannel { .. }
    ));
    // Bob presents Alice's token as himself, or under Alice's identity from his own node.
    let as_bob = PeerToken {
        subject: bob.entity_id(),
        chain: &alice_chain,
    };
    assert_eq!(
        denied(&mut g, bob.node_id(), temp, Action::Subscribe, &as_bob),
        TokenError::WrongSubject
    );
    assert_eq!(
        denied(&mut g, bob.node_id(), temp, Action::Subscribe, &alice_cred),
        TokenError::WrongSubject
    );
    let none = PeerToken {
        subject: bob.entity_id(),
        chain: &[],
    };
    assert!(matches!(
        denied(&mut g, bob.node_id(), temp, Action::Subscribe, &none),
        TokenError::NoToken | TokenError::Malformed(_)
    ));
    // A self-issued token from a non-root is worthless.
    let self_issued = issue(
        &bob,
        0,
        &Grant {
            subject: bob.entity_id(),
            ..grant
        },
    )
    .unwrap();
    let self_chain = TokenChain::single(self_issued).to_bytes();
    assert_eq!(
        denied(
            &mut g,
            bob.node_id(),
            temp,
            Action::Subscribe,
            &PeerToken {
                subject: bob.entity_id(),
                chain: &self_chain
            }
        ),
        TokenError::SelfSignedNonRoot
    );

    // Alice delegates to Bob; Bob's grant is cached; revoking Alice's token reaches it.
    let bob_tok = delegate(
        &alice_tok,
        &alice,
        0,
        &Grant {
            subject: bob.entity_id(),
            scope: Scope::SUBSCRIBE,
            depth: 0,
            nonce: 10,
            ..grant
        },
    )
    .unwrap();
    let bob_chain = TokenChain::from_tokens(vec![alice_tok, bob_tok])
        .unwrap()
        .to_bytes();
    let bob_cred = PeerToken {
        subject: bob.entity_id(),
        chain: &bob_chain,
    };
    let b = bob.node_id();
    g.check(b, temp, Action::Subscribe, &bob_cred, 150, &check)
        .unwrap();
    assert!(matches!(
        g.check_fast(b, temp, Action::Subscribe, 151),
        Verdict::Admit { .. }
    ));
    verifier.revoke_token(alice_tok.hash());
    // Revoking Alice's own token id drops her grant; the transitive reach needs invalidate_all.
    assert_eq!(g.revoke_token(token_id(&alice_tok.hash())), 1);
    g.invalidate_all();
    assert_eq!(
        g.check_fast(b, temp, Action::Subscribe, 151),
        Verdict::NeedsFullCheck
    );
    assert!(matches!(
        g.check(b, temp, Action::Subscribe, &bob_cred, 151, &check),
        Err(Denied::Rejected(TokenError::Revoked { .. }))
    ));
}

/// Root -> Alice (may delegate) -> Bob: Bob's grant is cached; a revocation through the
/// verifier alone (no call on the guard) stops it on the next check, denied as revoked at the
/// parent's link, while an unrelated cached grant is re-verified and admitted again.
#[test]
fn watched_revocations_reach_cached_delegated_grants() {
    let (root, alice, bob, carol) = (id(1), id(2), id(3), id(5));
    let verifier = TokenVerifier::new([root.entity_id()], VerifyConfig { skew_secs: 5 });
    let check = TokenCheck::new(&verifier);
    let temp = ChannelName::parse("sensors/temp").unwrap().hash();
    let grant = |subject: &Identity, nonce| Grant {
        subject: subject.entity_id(),
        scope: Scope::SUBSCRIBE | Scope::DELEGATE,
        channel: temp.get(),
        not_before: 100,
        not_after: 10_000,
        depth: 1,
        nonce,
    };
    let chain_for_bob = |root_generation: u32, nonce: u64| {
        let alice_tok = issue(&root, root_generation, &grant(&alice, nonce)).unwrap();
        let bob_tok = delegate(
            &alice_tok,
            &alice,
            0,
            &Grant {
                scope: Scope::SUBSCRIBE,
                depth: 0,
                ..grant(&bob, nonce + 1)
            },
        )
        .unwrap();
        (
            alice_tok,
            TokenChain::from_tokens(vec![alice_tok, bob_tok])
                .unwrap()
                .to_bytes(),
        )
    };
    let carol_chain = TokenChain::single(issue(&root, 7, &grant(&carol, 50)).unwrap()).to_bytes();
    let carol_cred = PeerToken {
        subject: carol.entity_id(),
        chain: &carol_chain,
    };
    let (b, c) = (bob.node_id(), carol.node_id());
    let mut g = AuthGuard::default();
    g.watch_revocations(verifier.revocation_epoch());

    // Round 1: revoke Alice's token (Bob's parent) by hash.
    let (alice_tok, bob_chain) = chain_for_bob(0, 1);
    let bob_cred = PeerToken {
        subject: bob.entity_id(),
        chain: &bob_chain,
    };
    g.check(b, temp, Action::Subscribe, &bob_cred, 150, &check)
        .unwrap();
    g.check(c, temp, Action::Subscribe, &carol_cred, 150, &check)
        .unwrap();
    assert!(matches!(
        g.check_fast(b, temp, Action::Subscribe, 151),
        Verdict::Admit { .. }
    ));
    let verified_before = g.stats().verified;
    verifier.revoke_token(alice_tok.hash());
    assert_eq!(
        g.check_fast(b, temp, Action::Subscribe, 152),
        Verdict::NeedsFullCheck,
        "a cached grant must not admit after a revocation it may derive from"
    );
    assert_eq!(
        g.check(b, temp, Action::Subscribe, &bob_cred, 152, &check),
        Err(Denied::Rejected(TokenError::Revoked { link: 0 }))
    );
    assert_eq!(
        g.check_fast(b, temp, Action::Subscribe, 153),
        Verdict::NeedsFullCheck
    );
    // Carol's grant was dropped with the rest, re-verified, and admits again from the cache.
    g.check(c, temp, Action::Subscribe, &carol_cred, 153, &check)
        .unwrap();
    assert_eq!(g.stats().verified, verified_before + 2);
    assert!(matches!(
        g.check_fast(c, temp, Action::Subscribe, 154),
        Verdict::Admit { .. }
    ));

    // Round 2: a fresh chain (root generation 1) admits; then revoking the root's generations
    // through 1 reaches Bob's delegated token two links down.
    let (_, bob_chain) = chain_for_bob(1, 3);
    let bob_cred = PeerToken {
        subject: bob.entity_id(),
        chain: &bob_chain,
    };
    g.check(b, temp, Action::Subscribe, &bob_cred, 160, &check)
        .unwrap();
    assert!(matches!(
        g.check_fast(b, temp, Action::Subscribe, 161),
        Verdict::Admit { .. }
    ));
    verifier.revoke_generation(root.entity_id(), 1);
    assert_eq!(
        g.check_fast(b, temp, Action::Subscribe, 162),
        Verdict::NeedsFullCheck
    );
    assert_eq!(
        g.check(b, temp, Action::Subscribe, &bob_cred, 162, &check),
        Err(Denied::Rejected(TokenError::Revoked { link: 0 }))
    );
    // Carol's token is of generation 7: still good.
    g.check(c, temp, Action::Subscribe, &carol_cred, 163, &check)
        .unwrap();
    // A sweep after a revocation drops the stale grants too (nothing reported as expired).
    verifier.revoke_token([9; 32]);
    assert!(g.sweep(164).expired.is_empty());
    assert!(g.is_empty());
}

#[test]
fn bad_chain_storm_is_throttled() {
    let (root, alice, mallory) = (id(1), id(2), id(4));
    let verifier = TokenVerifier::new([root.entity_id()], VerifyConfig::default());
    let check = TokenCheck::new(&verifier);
    let temp = ChannelName::parse("sensors/temp").unwrap().hash();
    let tok = issue(
        &root,
        0,
        &Grant {
            subject: alice.entity_id(),
            scope: Scope::PUBLISH,
            channel: temp.get(),
            not_before: 0,
            not_after: 1_000,
            depth: 0,
            nonce: 1,
        },
    )
    .unwrap();
    let good = TokenChain::single(tok).to_bytes();
    // Mallory's chains: Alice's token with one signature byte flipped, under her own identity.
    let mut forged = good.clone();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    let mut g = AuthGuard::default();
    let mut admitted = 0;
    for _ in 0..1_000 {
        let _ = g.check(
            mallory.node_id(),
            temp,
            Action::Publish,
            &PeerToken {
                subject: mallory.entity_id(),
                chain: &forged,
            },
            10,
            &check,
        );
        if g.check(
            alice.node_id(),
            temp,
            Action::Publish,
            &PeerToken {
                subject: alice.entity_id(),
                chain: &good,
            },
            10,
            &check,
        )
        .is_ok()
        {
            admitted += 1;
        }
    }
    let s = g.stats();
    assert_eq!(
        s.rejected, 16,
        "verifications run for Mallory: the default burst"
    );
    assert_eq!(s.throttled, 1_000 - 16);
    assert_eq!(admitted, 1_000);
    assert_eq!(
        s.admitted, 1,
        "Alice verified once, then served from the cache"
    );
}
