//! Fuzzes the token parsers with one input: as a single token, as a chain, and (when it parses
//! as a chain) through full verification against a fixed root at a fixed time. Any panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use net::identity::EntityId;
use net::token::{Scope, Token, TokenChain, TokenVerifier, VerifyConfig};

fuzz_target!(|data: &[u8]| {
    let _ = Token::from_bytes(data).map(|t| (t.hash(), t.to_bytes()));
    if let Ok(chain) = TokenChain::from_bytes(data) {
        let root = chain.tokens()[0].issuer;
        let v = TokenVerifier::new([root], VerifyConfig::default());
        let _ = v.authorize(
            &chain,
            &chain.leaf().subject,
            1,
            Scope::PUBLISH,
            1_767_225_600,
        );
        let _ = v.verify(&chain, u64::MAX);
        let _ = TokenVerifier::new([EntityId([0; 32])], VerifyConfig::default()).verify(&chain, 0);
    }
});
