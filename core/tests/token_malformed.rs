//! Bad input never panics and always has a typed reason: every truncation length of a token and
//! of a chain, every signature byte flipped, every signed byte flipped, odd headers. Plus a
//! property test that delegation only ever narrows.

use net::identity::{EntityId, Identity};
use net::token::{
    Grant, MAX_CHAIN_LEN, Malformed, SIGNED_LEN, Scope, TOKEN_LEN, Token, TokenChain, TokenError,
    TokenVerifier, VerifyConfig, Widening, delegate, issue, verify,
};
use proptest::prelude::*;

const NOW: u64 = 1_700_000_000;

fn sample() -> (Identity, Token) {
    let root = Identity::from_seed(&[1; 32]);
    let g = Grant {
        subject: Identity::from_seed(&[2; 32]).entity_id(),
        scope: Scope::ALL,
        channel: 42,
        not_before: NOW - 10,
        not_after: NOW + 10,
        depth: 3,
        nonce: 5,
    };
    let t = issue(&root, 0, &g).unwrap();
    (root, t)
}

#[test]
fn every_truncation_length_is_typed() {
    let (_, t) = sample();
    let b = t.to_bytes();
    for len in 0..TOKEN_LEN {
        assert_eq!(
            Token::from_bytes(&b[..len]),
            Err(TokenError::Malformed(Malformed::Truncated {
                len,
                needed: TOKEN_LEN
            })),
            "len {len}"
        );
    }
    let mut long = b.to_vec();
    long.push(0);
    assert_eq!(
        Token::from_bytes(&long),
        Err(TokenError::Malformed(Malformed::TrailingBytes {
            len: TOKEN_LEN + 1,
            expected: TOKEN_LEN
        }))
    );
    let chain = TokenChain::single(t).with(t).unwrap().to_bytes();
    for len in 1..chain.len() {
        assert_eq!(
            TokenChain::from_bytes(&chain[..len]),
            Err(TokenError::Malformed(Malformed::Truncated {
                len,
                needed: chain.len()
            })),
            "chain len {len}"
        );
    }
    assert_eq!(TokenChain::from_bytes(&[]), Err(TokenError::NoToken));
    assert_eq!(TokenChain::from_bytes(&[0]), Err(TokenError::NoToken));
    assert_eq!(
        TokenChain::from_bytes(&[MAX_CHAIN_LEN as u8 + 1]),
        Err(TokenError::Malformed(Malformed::BadChainLength(
            MAX_CHAIN_LEN as u8 + 1
        )))
    );
}

#[test]
fn every_flipped_signature_byte_is_a_bad_signature() {
    let (root, t) = sample();
    let cfg = VerifyConfig::default();
    assert_eq!(verify(&t, NOW, &cfg), Ok(()));
    let v = TokenVerifier::new([root.entity_id()], cfg);
    let b = t.to_bytes();
    for i in SIGNED_LEN..TOKEN_LEN {
        for bit in [0x01u8, 0x80] {
            let mut x = b;
            x[i] ^= bit;
            let parsed = Token::from_bytes(&x).unwrap();
            assert_eq!(
                verify(&parsed, NOW, &cfg),
                Err(TokenError::BadSignature),
                "byte {i}"
            );
            let mut chain = vec![1u8];
            chain.extend_from_slice(&x);
            assert_eq!(
                v.verify(&TokenChain::from_bytes(&chain).unwrap(), NOW),
                Err(TokenError::BadSignature)
            );
        }
    }
}

#[test]
fn every_flipped_signed_byte_is_refused_with_a_reason() {
    let (root, t) = sample();
    let cfg = VerifyConfig::default();
    let v = TokenVerifier::new([root.entity_id()], cfg);
    let b = t.to_bytes();
    for i in 0..SIGNED_LEN {
        let mut x = b;
        x[i] ^= 0x01;
        let reason = match Token::from_bytes(&x) {
            Err(e) => e,
            Ok(parsed) => v
                .verify(&TokenChain::single(parsed), NOW)
                .expect_err("a changed token must not verify"),
        };
        let expected_kinds: &[&str] = match i {
            0..=4 => &["malformed", "bad_signature"],
            5..=36 => &["bad_issuer_key", "bad_signature", "untrusted_root"],
            77..=84 => &["malformed", "not_yet_valid", "bad_signature"],
            85..=92 => &["malformed", "expired", "bad_signature"],
            105..=136 => &["broken_chain"],
            _ => &["bad_signature"],
        };
        assert!(
            expected_kinds.contains(&reason.kind()),
            "byte {i}: {reason:?}"
        );
        assert!(!reason.to_string().is_empty());
    }
}

#[test]
fn odd_headers_are_typed() {
    let (_, t) = sample();
    let mut b = t.to_bytes();
    b[0] = b'X';
    assert_eq!(
        Token::from_bytes(&b),
        Err(TokenError::Malformed(Malformed::BadMagic))
    );
    let mut b = t.to_bytes();
    b[2] = 2;
    assert_eq!(
        Token::from_bytes(&b),
        Err(TokenError::Malformed(Malformed::UnsupportedVersion(2)))
    );
    let mut b = t.to_bytes();
    b[77..85].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(
        Token::from_bytes(&b),
        Err(TokenError::Malformed(Malformed::InvertedWindow { .. }))
    ));
    assert!(Token::from_bytes(&[0xFF; TOKEN_LEN]).is_err());
}

fn scope_strategy() -> impl Strategy<Value = Scope> {
    (0u8..16).prop_map(|b| Scope::from_bits(b).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Whatever is asked for, a successful delegation is no wider than its parent, verifies in a
    /// chain, and a refused one names the property it would widen.
    #[test]
    fn delegation_only_narrows(
        p_scope in scope_strategy(),
        p_depth in 0u8..4,
        p_channel in prop_oneof![Just(0u64), Just(7u64)],
        c_scope in scope_strategy(),
        c_depth in 0u8..5,
        c_channel in prop_oneof![Just(0u64), Just(7u64), Just(8u64)],
        c_nb in 0u64..40,
        c_na in 60u64..100,
    ) {
        let root = Identity::from_seed(&[1; 32]);
        let a = Identity::from_seed(&[2; 32]);
        let b: EntityId = Identity::from_seed(&[3; 32]).entity_id();
        let base = 1_000u64;
        let parent = issue(&root, 0, &Grant {
            subject: a.entity_id(), scope: p_scope, channel: p_channel,
            not_before: base + 10, not_after: base + 90, depth: p_depth, nonce: 1,
        }).unwrap();
        let g = Grant {
            subject: b, scope: c_scope, channel: c_channel,
            not_before: base + c_nb, not_after: base + c_na, depth: c_depth, nonce: 2,
        };
        match delegate(&parent, &a, 0, &g) {
            Ok(child) => {
                prop_assert!(p_scope.contains(child.scope));
                prop_assert!(child.depth < parent.depth);
                prop_assert!(p_channel == 0 || child.channel == p_channel);
                prop_assert!(child.not_before >= parent.not_before);
                prop_assert!(child.not_after <= parent.not_after);
                let v = TokenVerifier::new([root.entity_id()], VerifyConfig { skew_secs: 0 });
                let chain = TokenChain::single(parent).with(child).unwrap();
                let ok = v.verify(&chain, base + 50).unwrap();
                prop_assert_eq!(ok.scope, c_scope);
            }
            Err(TokenError::NotDelegable) => prop_assert!(!p_scope.contains(Scope::DELEGATE)),
            Err(TokenError::DepthExhausted) => prop_assert_eq!(p_depth, 0),
            Err(TokenError::Widened(w)) => {
                let widened = match w {
                    Widening::Scope => !p_scope.contains(c_scope),
                    Widening::Depth => c_depth >= p_depth,
                    Widening::Channel => p_channel != 0 && c_channel != p_channel,
                    Widening::Window => c_nb < 10 || c_na > 90,
                };
                prop_assert!(widened, "{:?} reported but not widened", w);
            }
            Err(e) => prop_assert!(false, "unexpected {:?}", e),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A stable stand-in for the fuzzer: random edits of a valid two-link chain never panic,
    /// and whatever parses re-encodes to exactly the input bytes.
    #[test]
    fn mutated_chains_never_panic_and_parse_exactly(
        edits in proptest::collection::vec((0usize..403, any::<u8>()), 0..6),
        cut in 0usize..420,
        extra in proptest::collection::vec(any::<u8>(), 0..3),
    ) {
        let (root, t) = sample();
        let a = Identity::from_seed(&[2; 32]);
        let child = delegate(&t, &a, 0, &Grant {
            subject: Identity::from_seed(&[3; 32]).entity_id(),
            scope: Scope::PUBLISH,
            channel: 42,
            not_before: NOW - 5,
            not_after: NOW + 5,
            depth: 0,
            nonce: 9,
        }).unwrap();
        let mut bytes = TokenChain::single(t).with(child).unwrap().to_bytes();
        for (at, value) in edits {
            bytes[at % 403] = value;
        }
        bytes.truncate(cut);
        bytes.extend_from_slice(&extra);
        let _ = Token::from_bytes(&bytes);
        if let Ok(chain) = TokenChain::from_bytes(&bytes) {
            prop_assert_eq!(chain.to_bytes(), bytes.clone());
            let v = TokenVerifier::new([root.entity_id()], VerifyConfig::default());
            let _ = v.verify(&chain, NOW);
        }
    }
}
