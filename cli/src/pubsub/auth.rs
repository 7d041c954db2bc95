//! Token options of `net pub` / `net sub`: trust roots given as a public key or a key file,
//! token files as `net token issue|delegate` write them (raw chain bytes with `--out`, or the
//! hex text they print), and a hint for each way a subscribe can be refused.
//!
//! Promises: an unreadable or malformed token file, or a root that is neither 64 hex digits
//! nor a readable key file, is a run failure naming the file or value and the reason. Not
//! here: verification (the engine's `TokenVerifier`, run by the publisher).

use std::path::Path;

use net::identity::{EntityId, Identity};
use net::membership::DenyReason;
use net::token::TokenChain;

use crate::failure::{CliResult, fail};

/// A `--trust-root` value: 64 hex digits of an ed25519 public key, or a key file (`net keygen
/// --out`) whose public key is used.
pub fn trust_root(text: &str) -> CliResult<EntityId> {
    if let Ok(id) = EntityId::from_hex(text.trim()) {
        return Ok(id);
    }
    match Identity::load(Path::new(text)) {
        Ok(identity) => Ok(identity.entity_id()),
        Err(e) => Err(fail!(
            "--trust-root {text:?} is neither a 64-hex-digit public key nor a readable key file: {e}"
        )),
    }
}

/// Reads a token chain from `path`: raw bytes (`net token issue --out F`) or the hex text
/// `net token issue` prints.
pub fn read_token_file(path: &Path) -> CliResult<TokenChain> {
    let raw =
        std::fs::read(path).map_err(|e| fail!("cannot read token file {}: {e}", path.display()))?;
    let bytes = std::str::from_utf8(&raw)
        .ok()
        .and_then(|t| decode_hex(t.trim()))
        .unwrap_or(raw);
    TokenChain::from_bytes(&bytes).map_err(|e| {
        fail!(
            "token file {} does not hold a token chain ({}): {e}",
            path.display(),
            e.kind()
        )
    })
}

/// Decodes an even-length string of hex digits; `None` for anything else.
fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.is_empty()
        || !text.len().is_multiple_of(2)
        || !text.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return None;
    }
    text.as_bytes()
        .chunks_exact(2)
        .map(|pair| {
            let pair = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(pair, 16).ok()
        })
        .collect()
}

/// What to do about a refused subscribe, for the error message.
pub fn hint(reason: DenyReason) -> &'static str {
    match reason {
        DenyReason::NoToken => "the channel requires a permission token: pass --token-file",
        DenyReason::Expired => "the token (or one it was delegated from) has expired",
        DenyReason::NotYetValid => "the token is not valid yet (check the clocks)",
        DenyReason::WrongChannel => "the token was issued for another channel",
        DenyReason::WrongScope => "the token does not grant subscribe",
        DenyReason::WrongSubject => {
            "the token was issued for another key: pass the matching --key-file"
        }
        DenyReason::UntrustedRoot | DenyReason::SelfSignedNonRoot => {
            "the chain does not start at a root the publisher trusts"
        }
        DenyReason::Revoked => "the token, or one it was delegated from, is revoked",
        DenyReason::Throttled => "too many failed attempts from this node; wait and retry",
        _ => "see docs/membership.md for the reasons",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_decoding_is_strict() {
        assert_eq!(decode_hex("00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(decode_hex("0"), None);
        assert_eq!(decode_hex(""), None);
        assert_eq!(decode_hex("zz"), None);
        assert_eq!(decode_hex("+1"), None);
    }

    #[test]
    fn a_root_is_a_public_key_or_a_key_file() {
        let id = Identity::from_seed(&[7; 32]);
        assert_eq!(
            trust_root(&net::identity::hex(&id.public_key())).unwrap(),
            id.entity_id()
        );
        let e = trust_root("/nonexistent/root.key").unwrap_err();
        assert!(e.0.contains("--trust-root"), "{e}");
    }
}
