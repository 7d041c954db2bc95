//! Permission tokens (layer 5): fixed-layout, ed25519-signed grants of publish / subscribe /
//! admin / delegate on a channel (or every channel) for a validity window, delegatable to a
//! bounded depth, and chains of them anchored to configured root identities.
//!
//! - [`Token`]: the 201-byte encoding (every byte in `docs/tokens.md`, pinned by
//!   `tests/cross_lang/wire/tokens.json`);
//! - [`Scope`]: the scope bits; [`issue`] / [`verify`]: signing and single-token checks with an
//!   explicit `now` and a clock-skew tolerance ([`VerifyConfig`]);
//! - [`delegate`]: narrowing-only delegation; [`TokenChain`] / [`verify_chain`]: root-anchored
//!   chains; [`Revocations`]: revocation by issuer generation or token hash, reaching every
//!   token delegated from a revoked one; [`RevocationEpoch`]: a shared counter bumped on every
//!   revocation, for caches outside this module; [`TokenCache`]: bounded, expiry-aware verified
//!   results;
//! - [`TokenVerifier`]: all of the above behind one thread-safe handle;
//! - [`TokenError`]: one typed reason per refusal.
//!
//! Promises: sans-IO (no clock, no network: `now` is a parameter, Unix seconds); no panic on
//! any input. Not here: carrying tokens or revocations over the mesh, and the per-packet auth
//! fast path (the channel layer's).

mod cache;
mod chain;
mod delegate;
mod error;
mod issue;
mod layout;
mod revocation;
mod scope;
mod verifier;

pub use cache::{DEFAULT_CACHE_CAPACITY, TokenCache};
pub use chain::{Authorized, MAX_CHAIN_LEN, TokenChain, TrustRoots, verify_chain};
pub use delegate::{check_can_delegate, check_narrowing, delegate, grant_of};
pub use error::{Malformed, TokenError, Widening};
pub use issue::{
    DEFAULT_SKEW_SECS, Grant, VerifyConfig, check_window, issue, verify, verify_signature,
};
pub use layout::{ANY_CHANNEL, SIGNED_LEN, TOKEN_LEN, TOKEN_MAGIC, TOKEN_VERSION, Token};
pub use revocation::{RevocationEpoch, Revocations};
pub use scope::Scope;
pub use verifier::TokenVerifier;
