//! Replays the saved token fuzz corpus (`tests/fuzz_corpus/token/`) through the token parsers
//! and verifier, as an ordinary stable test. `valid_*` files must parse as a chain,
//! `invalid_*` must be refused by the parser, everything (including files cargo-fuzz adds when
//! run by hand, `core/fuzz/`) must not panic.

use std::path::PathBuf;

use net::identity::EntityId;
use net::token::{Scope, Token, TokenChain, TokenVerifier, VerifyConfig};

/// What the fuzz target does with one input (kept identical to `core/fuzz/fuzz_targets/token.rs`).
fn exercise(data: &[u8]) -> bool {
    let _ = Token::from_bytes(data).map(|t| (t.hash(), t.to_bytes()));
    let parsed = TokenChain::from_bytes(data);
    if let Ok(chain) = &parsed {
        let root = chain.tokens()[0].issuer;
        let v = TokenVerifier::new([root], VerifyConfig::default());
        let _ = v.authorize(
            chain,
            &chain.leaf().subject,
            1,
            Scope::PUBLISH,
            1_767_225_600,
        );
        let _ = v.verify(chain, u64::MAX);
        let _ = TokenVerifier::new([EntityId([0; 32])], VerifyConfig::default()).verify(chain, 0);
    }
    parsed.is_ok()
}

#[test]
fn token_corpus_replays_without_panics() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fuzz_corpus/token");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir:?}: {e}")) {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let data = std::fs::read(&path).unwrap();
        let ok = exercise(&data);
        if name.starts_with("valid_") {
            assert!(
                ok,
                "{name} should parse: {:?}",
                TokenChain::from_bytes(&data).err()
            );
        }
        if name.starts_with("invalid_") {
            assert!(!ok, "{name} should be refused");
        }
        seen += 1;
    }
    assert!(seen >= 30, "corpus has only {seen} files");
}

#[test]
fn pinned_valid_chain_verifies_and_its_flips_do_not() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fuzz_corpus/token");
    let good = std::fs::read(dir.join("valid_chain_root_issued_delegated")).unwrap();
    let chain = TokenChain::from_bytes(&good).unwrap();
    let v = TokenVerifier::new([chain.tokens()[0].issuer], VerifyConfig::default());
    assert!(v.verify(&chain, 1_767_225_600 + 5_000).is_ok());
    let flipped = std::fs::read(dir.join("valid_sig_flip_0")).unwrap();
    let chain = TokenChain::from_bytes(&flipped).unwrap();
    assert_eq!(
        v.verify(&chain, 1_767_225_600 + 5_000)
            .map_err(|e| e.kind()),
        Err("bad_signature")
    );
}
