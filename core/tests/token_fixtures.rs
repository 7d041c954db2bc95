//! The token golden fixture (`tests/cross_lang/wire/tokens.json`): fixed seeds and timestamps,
//! every field, the encoded tokens and chain, their hashes and a table of verification outcomes.
//! The test rebuilds the whole file from the engine and compares; set `NET_REGEN_WIRE=1` to
//! rewrite it (only when the format deliberately changes). It also decodes the pinned bytes.

use net::identity::{EntityId, Identity, hex};
use net::token::{
    ANY_CHANNEL, Grant, Scope, Token, TokenChain, TokenError, TokenVerifier, VerifyConfig,
    delegate, issue,
};
use serde_json::{Value, json};

const CHANNEL: u64 = 0x9E37_79B9_7F4A_7C15;
const T0: u64 = 1_767_225_600; // 2026-01-01T00:00:00Z
const SKEW: u64 = 30;

fn seed(byte: u8) -> [u8; 32] {
    std::array::from_fn(|i| byte.wrapping_add(i as u8))
}

fn token_json(name: &str, t: &Token) -> Value {
    json!({
        "name": name,
        "scope": t.scope.bits(),
        "depth": t.depth,
        "issuer_hex": hex(t.issuer.as_bytes()),
        "subject_hex": hex(t.subject.as_bytes()),
        "channel_hash": t.channel.to_string(),
        "not_before": t.not_before.to_string(),
        "not_after": t.not_after.to_string(),
        "issuer_generation": t.issuer_generation,
        "nonce": t.nonce.to_string(),
        "parent_hex": hex(&t.parent),
        "signature_hex": hex(&t.signature),
        "token_hex": hex(&t.to_bytes()),
        "hash_hex": hex(&t.hash()),
    })
}

struct World {
    root: Identity,
    a: Identity,
    b: Identity,
    root_token: Token,
    delegated: Token,
    any_channel: Token,
    self_signed: Token,
}

fn world() -> World {
    let root = Identity::from_seed(&seed(0x10));
    let a = Identity::from_seed(&seed(0x20));
    let b = Identity::from_seed(&seed(0x30));
    let root_token = issue(
        &root,
        1,
        &Grant {
            subject: a.entity_id(),
            scope: Scope::PUBLISH | Scope::SUBSCRIBE | Scope::DELEGATE,
            channel: CHANNEL,
            not_before: T0,
            not_after: T0 + 86_400,
            depth: 2,
            nonce: 0x0102_0304_0506_0708,
        },
    )
    .unwrap();
    let delegated = delegate(
        &root_token,
        &a,
        7,
        &Grant {
            subject: b.entity_id(),
            scope: Scope::SUBSCRIBE,
            channel: CHANNEL,
            not_before: T0 + 3_600,
            not_after: T0 + 7_200,
            depth: 0,
            nonce: 42,
        },
    )
    .unwrap();
    let any_channel = issue(
        &root,
        1,
        &Grant {
            subject: b.entity_id(),
            scope: Scope::ADMIN,
            channel: ANY_CHANNEL,
            not_before: T0,
            not_after: T0 + 60,
            depth: 0,
            nonce: u64::MAX,
        },
    )
    .unwrap();
    let self_signed = issue(
        &a,
        0,
        &Grant {
            subject: a.entity_id(),
            scope: Scope::ALL,
            channel: ANY_CHANNEL,
            not_before: T0,
            not_after: T0 + 86_400,
            depth: 5,
            nonce: 1,
        },
    )
    .unwrap();
    World {
        root,
        a,
        b,
        root_token,
        delegated,
        any_channel,
        self_signed,
    }
}

fn outcome(r: Result<net::token::Authorized, TokenError>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => e.kind().into(),
    }
}

fn build() -> Value {
    let w = world();
    let chain = TokenChain::single(w.root_token).with(w.delegated).unwrap();
    let v = TokenVerifier::new([w.root.entity_id()], VerifyConfig { skew_secs: SKEW });
    let be = w.b.entity_id();
    let chains = [
        ("root_issued", TokenChain::single(w.root_token)),
        ("root_issued+delegated", chain.clone()),
        ("any_channel", TokenChain::single(w.any_channel)),
        ("self_signed", TokenChain::single(w.self_signed)),
    ];
    let find = |n: &str| chains.iter().find(|(k, _)| *k == n).unwrap().1.clone();
    let checks: Vec<(&str, EntityId, u64, Scope, u64)> = vec![
        (
            "root_issued+delegated",
            be,
            CHANNEL,
            Scope::SUBSCRIBE,
            T0 + 5_000,
        ),
        (
            "root_issued+delegated",
            be,
            CHANNEL,
            Scope::PUBLISH,
            T0 + 5_000,
        ),
        (
            "root_issued+delegated",
            be,
            CHANNEL + 1,
            Scope::SUBSCRIBE,
            T0 + 5_000,
        ),
        (
            "root_issued+delegated",
            be,
            CHANNEL,
            Scope::SUBSCRIBE,
            T0 + 7_200 + SKEW + 1,
        ),
        (
            "root_issued+delegated",
            be,
            CHANNEL,
            Scope::SUBSCRIBE,
            T0 + 3_600 - SKEW - 1,
        ),
        (
            "root_issued+delegated",
            w.a.entity_id(),
            CHANNEL,
            Scope::SUBSCRIBE,
            T0 + 5_000,
        ),
        (
            "root_issued",
            w.a.entity_id(),
            CHANNEL,
            Scope::PUBLISH,
            T0 + 5_000,
        ),
        ("any_channel", be, 12345, Scope::ADMIN, T0 + 60 + SKEW),
        (
            "self_signed",
            w.a.entity_id(),
            CHANNEL,
            Scope::PUBLISH,
            T0 + 5_000,
        ),
    ];
    let checks: Vec<Value> = checks
        .into_iter()
        .map(|(name, subject, channel, scope, now)| {
            let r = v.authorize(&find(name), &subject, channel, scope, now);
            json!({"chain": name, "subject_hex": hex(subject.as_bytes()),
                   "channel_hash": channel.to_string(), "scope": scope.bits(),
                   "now": now.to_string(), "expect": outcome(r)})
        })
        .collect();
    json!({
        "description": "Permission tokens (core/src/token, docs/tokens.md). Token (201 bytes, integers LE): magic 'NT' | version u8 = 1 | scope u8 (1 publish, 2 subscribe, 4 admin, 8 delegate) | depth u8 | issuer ed25519 key [32] | subject ed25519 key [32] | channel_hash u64 (0 = any channel) | not_before u64 | not_after u64 (Unix seconds, inclusive) | issuer_generation u32 | nonce u64 | parent [32] (BLAKE2s-256 of the parent token, zero if not delegated) | ed25519 signature [64] over bytes 0..137. Token hash = BLAKE2s-256(all 201 bytes). Chain = count u8 (1..=8) | tokens, root-issued first. Checks use the roots listed and skew_secs.",
        "identities": [
            {"name": "root", "seed_hex": hex(&seed(0x10)), "public_key_hex": hex(&w.root.public_key())},
            {"name": "a", "seed_hex": hex(&seed(0x20)), "public_key_hex": hex(&w.a.public_key())},
            {"name": "b", "seed_hex": hex(&seed(0x30)), "public_key_hex": hex(&w.b.public_key())},
        ],
        "roots": [hex(&w.root.public_key())],
        "skew_secs": SKEW,
        "tokens": [
            token_json("root_issued", &w.root_token),
            token_json("delegated", &w.delegated),
            token_json("any_channel", &w.any_channel),
            token_json("self_signed", &w.self_signed),
        ],
        "chains": chains.iter().map(|(n, c)| json!({"name": n, "chain_hex": hex(&c.to_bytes())})).collect::<Vec<_>>(),
        "checks": checks,
    })
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn tokens_fixture_matches_the_engine() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/cross_lang/wire/tokens.json");
    let built = build();
    if std::env::var_os("NET_REGEN_WIRE").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(&built).unwrap() + "\n").unwrap();
    }
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let on_disk: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        on_disk, built,
        "tokens.json differs from the engine's encoding"
    );

    // Decoding the pinned bytes gives back the pinned fields, and the checks are not trivial.
    for t in on_disk["tokens"].as_array().unwrap() {
        let parsed = Token::from_bytes(&unhex(t["token_hex"].as_str().unwrap())).unwrap();
        assert_eq!(hex(&parsed.hash()), t["hash_hex"]);
        assert_eq!(u64::from(parsed.scope.bits()), t["scope"].as_u64().unwrap());
        assert_eq!(parsed.channel.to_string(), t["channel_hash"]);
    }
    for c in on_disk["chains"].as_array().unwrap() {
        assert!(TokenChain::from_bytes(&unhex(c["chain_hex"].as_str().unwrap())).is_ok());
    }
    let expects: Vec<&str> = on_disk["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["expect"].as_str().unwrap())
        .collect();
    assert_eq!(
        expects,
        [
            "ok",
            "wrong_scope",
            "wrong_channel",
            "expired",
            "not_yet_valid",
            "wrong_subject",
            "ok",
            "ok",
            "self_signed_non_root"
        ]
    );
}
