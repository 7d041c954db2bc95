//! Chain verification end to end through `TokenVerifier`: each refusal has its own reason, a
//! valid chain from a root admits, revocation reaches delegated tokens, and the cache answers
//! repeated chains without changing any answer.

use net::identity::{EntityId, Identity};
use net::token::{
    ANY_CHANNEL, Grant, Scope, TokenChain, TokenError, TokenVerifier, VerifyConfig, Widening,
    delegate, issue,
};

const CH: u64 = 0xC0FF_EE00_0000_0001;
const NOW: u64 = 1_800_000_000;

fn id(n: u8) -> Identity {
    Identity::from_seed(&[n; 32])
}

fn grant(subject: EntityId, scope: Scope, depth: u8) -> Grant {
    Grant {
        subject,
        scope,
        channel: CH,
        not_before: NOW - 100,
        not_after: NOW + 100,
        depth,
        nonce: 7,
    }
}

fn verifier(root: &Identity) -> TokenVerifier {
    TokenVerifier::new([root.entity_id()], VerifyConfig { skew_secs: 5 })
}

/// root -> a (publish|subscribe|delegate, depth 2) -> b (publish, depth 0).
fn two_link_chain(root: &Identity, a: &Identity, b: &Identity) -> TokenChain {
    let t0 = issue(
        root,
        0,
        &grant(
            a.entity_id(),
            Scope::PUBLISH | Scope::SUBSCRIBE | Scope::DELEGATE,
            2,
        ),
    )
    .unwrap();
    let t1 = delegate(&t0, a, 0, &grant(b.entity_id(), Scope::PUBLISH, 0)).unwrap();
    TokenChain::single(t0).with(t1).unwrap()
}

#[test]
fn valid_chain_from_root_admits() {
    let (root, a, b) = (id(1), id(2), id(3));
    let v = verifier(&root);
    let chain = two_link_chain(&root, &a, &b);
    let ok = v
        .authorize(&chain, &b.entity_id(), CH, Scope::PUBLISH, NOW)
        .unwrap();
    assert_eq!(ok.subject, b.entity_id());
    assert_eq!(ok.not_after, NOW + 100);
    assert_eq!(ok.leaf, chain.leaf().hash());
    // The encoded form authorizes the same way.
    let bytes = chain.to_bytes();
    assert_eq!(
        v.authorize_bytes(&bytes, &b.entity_id(), CH, Scope::PUBLISH, NOW),
        Ok(ok)
    );
    // A root's direct token admits too.
    let direct = issue(&root, 0, &grant(a.entity_id(), Scope::SUBSCRIBE, 0)).unwrap();
    assert!(
        v.authorize(
            &TokenChain::single(direct),
            &a.entity_id(),
            CH,
            Scope::SUBSCRIBE,
            NOW
        )
        .is_ok()
    );
}

#[test]
fn each_refusal_has_its_own_reason() {
    let (root, a, b, stranger) = (id(1), id(2), id(3), id(4));
    let v = verifier(&root);
    let chain = two_link_chain(&root, &a, &b);
    let be = b.entity_id();

    assert_eq!(
        v.authorize_bytes(&[], &be, CH, Scope::PUBLISH, NOW),
        Err(TokenError::NoToken)
    );
    assert_eq!(
        v.authorize(&chain, &be, CH, Scope::PUBLISH, NOW + 106),
        Err(TokenError::Expired {
            not_after: NOW + 100,
            now: NOW + 106
        })
    );
    assert_eq!(
        v.authorize(&chain, &be, CH, Scope::PUBLISH, NOW - 106),
        Err(TokenError::NotYetValid {
            not_before: NOW - 100,
            now: NOW - 106
        })
    );
    assert_eq!(
        v.authorize(&chain, &be, CH + 1, Scope::PUBLISH, NOW),
        Err(TokenError::WrongChannel {
            granted: CH,
            wanted: CH + 1
        })
    );
    assert_eq!(
        v.authorize(&chain, &be, CH, Scope::SUBSCRIBE, NOW),
        Err(TokenError::WrongScope {
            granted: Scope::PUBLISH,
            wanted: Scope::SUBSCRIBE
        })
    );
    assert_eq!(
        v.authorize(&chain, &a.entity_id(), CH, Scope::PUBLISH, NOW),
        Err(TokenError::WrongSubject)
    );
    // Self-issued by a non-root: worthless.
    let own = issue(&stranger, 0, &grant(stranger.entity_id(), Scope::ALL, 3)).unwrap();
    assert_eq!(
        v.authorize(
            &TokenChain::single(own),
            &stranger.entity_id(),
            CH,
            Scope::PUBLISH,
            NOW
        ),
        Err(TokenError::SelfSignedNonRoot)
    );
    // Issued by a non-root to someone else: untrusted root.
    let other = issue(&stranger, 0, &grant(be, Scope::ALL, 0)).unwrap();
    assert_eq!(
        v.authorize(&TokenChain::single(other), &be, CH, Scope::PUBLISH, NOW),
        Err(TokenError::UntrustedRoot)
    );
    // A delegated token presented without its parent.
    let leaf_only = TokenChain::single(*chain.leaf());
    assert_eq!(
        v.authorize(&leaf_only, &be, CH, Scope::PUBLISH, NOW),
        Err(TokenError::UntrustedRoot)
    );
    // A signature byte flipped.
    let mut bad = chain.tokens().to_vec();
    bad[1].signature[10] ^= 1;
    assert_eq!(
        v.authorize(
            &TokenChain::from_tokens(bad).unwrap(),
            &be,
            CH,
            Scope::PUBLISH,
            NOW
        ),
        Err(TokenError::BadSignature)
    );
}

#[test]
fn chain_rules_are_rechecked_on_hand_built_links() {
    let (root, a, b) = (id(1), id(2), id(3));
    let v = verifier(&root);
    let be = b.entity_id();
    let t0 = issue(
        &root,
        0,
        &grant(a.entity_id(), Scope::PUBLISH | Scope::DELEGATE, 1),
    )
    .unwrap();
    // Build children with `issue` (no narrowing check) and patch the parent link by hand.
    let forge = |g: &Grant, signer: &Identity, parent: [u8; 32]| {
        let mut t = issue(signer, 0, g).unwrap();
        t.parent = parent;
        t.signature = signer.sign(&t.signed_bytes());
        TokenChain::single(t0).with(t).unwrap()
    };
    let ok = grant(be, Scope::PUBLISH, 0);
    let cases: Vec<(Grant, TokenError)> = vec![
        (
            grant(be, Scope::PUBLISH | Scope::ADMIN, 0),
            TokenError::Widened(Widening::Scope),
        ),
        (
            grant(be, Scope::PUBLISH, 1),
            TokenError::Widened(Widening::Depth),
        ),
        (
            Grant {
                channel: ANY_CHANNEL,
                ..ok
            },
            TokenError::Widened(Widening::Channel),
        ),
        (
            Grant {
                not_after: NOW + 101,
                ..ok
            },
            TokenError::Widened(Widening::Window),
        ),
    ];
    for (g, want) in cases {
        let chain = forge(&g, &a, t0.hash());
        assert_eq!(v.authorize(&chain, &be, CH, Scope::PUBLISH, NOW), Err(want));
    }
    // Signed by someone other than the parent's subject.
    let chain = forge(&ok, &b, t0.hash());
    assert_eq!(
        v.authorize(&chain, &be, CH, Scope::PUBLISH, NOW),
        Err(TokenError::BrokenChain { link: 1 })
    );
    // Naming another parent.
    let chain = forge(&ok, &a, [9; 32]);
    assert_eq!(
        v.authorize(&chain, &be, CH, Scope::PUBLISH, NOW),
        Err(TokenError::BrokenChain { link: 1 })
    );
    // A grandchild under a depth-exhausted link.
    let t1 = delegate(&t0, &a, 0, &grant(be, Scope::PUBLISH | Scope::DELEGATE, 0)).unwrap();
    let c = id(5);
    let mut t2 = issue(&b, 0, &grant(c.entity_id(), Scope::PUBLISH, 0)).unwrap();
    t2.parent = t1.hash();
    t2.signature = b.sign(&t2.signed_bytes());
    let chain = TokenChain::from_tokens(vec![t0, t1, t2]).unwrap();
    assert_eq!(
        v.authorize(&chain, &c.entity_id(), CH, Scope::PUBLISH, NOW),
        Err(TokenError::DepthExhausted)
    );
    // A child under a parent without delegate.
    let plain = issue(&root, 0, &grant(a.entity_id(), Scope::PUBLISH, 1)).unwrap();
    let mut child = issue(&a, 0, &ok).unwrap();
    child.parent = plain.hash();
    child.signature = a.sign(&child.signed_bytes());
    let chain = TokenChain::from_tokens(vec![plain, child]).unwrap();
    assert_eq!(
        v.authorize(&chain, &be, CH, Scope::PUBLISH, NOW),
        Err(TokenError::NotDelegable)
    );
}

#[test]
fn revocation_reaches_delegated_tokens_on_the_next_check() {
    let (root, a, b) = (id(1), id(2), id(3));
    let be = b.entity_id();
    // Revoking the root's generation 0 refuses a's token and b's token delegated from it.
    let v = verifier(&root);
    let chain = two_link_chain(&root, &a, &b);
    assert!(v.authorize(&chain, &be, CH, Scope::PUBLISH, NOW).is_ok());
    v.revoke_generation(root.entity_id(), 0);
    assert_eq!(
        v.authorize(&chain, &be, CH, Scope::PUBLISH, NOW),
        Err(TokenError::Revoked { link: 0 })
    );
    // A token the root signs at generation 1 is unaffected.
    let fresh = issue(&root, 1, &grant(be, Scope::PUBLISH, 0)).unwrap();
    assert!(
        v.authorize(&TokenChain::single(fresh), &be, CH, Scope::PUBLISH, NOW)
            .is_ok()
    );

    // Revoking the parent token by hash refuses the child (cached before the revocation).
    let v = verifier(&root);
    assert!(v.authorize(&chain, &be, CH, Scope::PUBLISH, NOW).is_ok());
    v.revoke_token(chain.tokens()[0].hash());
    assert_eq!(
        v.authorize(&chain, &be, CH, Scope::PUBLISH, NOW),
        Err(TokenError::Revoked { link: 0 })
    );

    // Revoking the delegator's generation refuses only what it signed.
    let v = verifier(&root);
    v.revoke_generation(a.entity_id(), 0);
    assert_eq!(
        v.authorize(&chain, &be, CH, Scope::PUBLISH, NOW),
        Err(TokenError::Revoked { link: 1 })
    );
    let a_direct = TokenChain::single(chain.tokens()[0]);
    assert!(
        v.authorize(&a_direct, &a.entity_id(), CH, Scope::PUBLISH, NOW)
            .is_ok()
    );
}

#[test]
fn cache_hits_expire_and_never_change_an_answer() {
    let (root, a, b) = (id(1), id(2), id(3));
    let be = b.entity_id();
    let v = verifier(&root);
    let chain = two_link_chain(&root, &a, &b);
    for _ in 0..3 {
        assert!(v.authorize(&chain, &be, CH, Scope::PUBLISH, NOW).is_ok());
    }
    let (entries, hits, misses) = v.cache_stats();
    assert_eq!((entries, hits, misses), (1, 2, 1));
    // Request checks still apply on a hit.
    assert!(matches!(
        v.authorize(&chain, &be, CH + 1, Scope::PUBLISH, NOW),
        Err(TokenError::WrongChannel { .. })
    ));
    // Past expiry (plus skew) the cached entry is not used; the full check says Expired.
    assert!(matches!(
        v.authorize(&chain, &be, CH, Scope::PUBLISH, NOW + 106),
        Err(TokenError::Expired { .. })
    ));
    assert_eq!(v.cache_stats().0, 0);
    // Same leaf with a tampered ancestor is not served from the cache.
    assert!(v.authorize(&chain, &be, CH, Scope::PUBLISH, NOW).is_ok());
    let mut tokens = chain.tokens().to_vec();
    tokens[0].signature[0] ^= 1;
    let tampered = TokenChain::from_tokens(tokens).unwrap();
    assert_eq!(
        v.authorize(&tampered, &be, CH, Scope::PUBLISH, NOW),
        Err(TokenError::BadSignature)
    );
    // Purge drops expired entries only.
    assert_eq!(v.purge_expired(NOW), 0);
    assert_eq!(v.purge_expired(NOW + 106), 1);
}

#[test]
fn cache_is_bounded_and_evicts_soonest_expiry_first() {
    use net::token::TokenCache;
    let root = id(1);
    let v = TokenVerifier::with_cache_capacity([root.entity_id()], VerifyConfig::default(), 4);
    let mut chains = Vec::new();
    for i in 0..6u64 {
        let g = Grant {
            not_after: NOW + 1000 - i,
            nonce: i,
            ..grant(id(2).entity_id(), Scope::PUBLISH, 0)
        };
        let c = TokenChain::single(issue(&root, 0, &g).unwrap());
        assert!(v.verify(&c, NOW).is_ok());
        chains.push(c);
    }
    assert_eq!(v.cache_stats().0, 4);
    // When full the soonest-expiring entry goes: chains 0..=2 (latest expiry) and the newest (5)
    // stay, 3 and 4 were evicted.
    let (_, hits_before, _) = v.cache_stats();
    for i in [0, 1, 2, 5] {
        v.verify(&chains[i], NOW).unwrap();
    }
    assert_eq!(v.cache_stats().1, hits_before + 4);
    v.verify(&chains[3], NOW).unwrap();
    assert_eq!(v.cache_stats().1, hits_before + 4);
    let mut c = TokenCache::new(0);
    let auth = v.verify(&chains[0], NOW).unwrap();
    c.insert(&chains[0], auth, 0);
    assert!(c.is_empty());
}
