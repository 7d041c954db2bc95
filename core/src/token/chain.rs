//! Token chains: a root-issued token followed by the tokens delegated from it, leaf last, and
//! their verification against configured root identities ([`TrustRoots`]). Encoding: a count
//! byte (1..=[`MAX_CHAIN_LEN`]) followed by that many 201-byte tokens. Promises: a chain is
//! accepted only if its first issuer is a root, every link is issued by the previous link's
//! subject, names the previous link's hash as parent, is no wider than it, is inside its window,
//! is not revoked and is signed; the returned [`Authorized`] is the narrowest window over all
//! links. Per link the cheap checks run first and the ed25519 verify last, so tokens that fail
//! on their face cost no signature work. Not here: caching (see [`super::TokenCache`]) or what
//! the presenter asks for (see [`Authorized::permits`]).

use std::collections::HashMap;

use ed25519_dalek::VerifyingKey;

use super::delegate::{check_can_delegate, check_narrowing, grant_of};
use super::error::{Malformed, TokenError};
use super::issue::{VerifyConfig, check_window, verify_signature, verify_signature_with};
use super::layout::{TOKEN_LEN, Token};
use super::revocation::Revocations;
use super::scope::Scope;
use crate::identity::EntityId;

/// The longest chain accepted (a root-issued token plus 7 delegations).
pub const MAX_CHAIN_LEN: usize = 8;

/// The configured root identities, with their keys decompressed once.
#[derive(Debug, Clone, Default)]
pub struct TrustRoots {
    keys: HashMap<EntityId, Option<VerifyingKey>>,
}

impl TrustRoots {
    /// Trusts `roots`. A root whose bytes are not a valid ed25519 key is kept, but every token
    /// it signs is refused as [`TokenError::BadIssuerKey`].
    pub fn new(roots: impl IntoIterator<Item = EntityId>) -> TrustRoots {
        TrustRoots {
            keys: roots
                .into_iter()
                .map(|r| (r, VerifyingKey::from_bytes(r.as_bytes()).ok()))
                .collect(),
        }
    }

    /// Whether `id` is a root.
    pub fn contains(&self, id: &EntityId) -> bool {
        self.keys.contains_key(id)
    }

    /// How many roots are configured.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no root is configured (then no chain verifies).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// A root-issued token and the tokens delegated from it, in order (leaf last).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenChain {
    tokens: Vec<Token>,
}

impl TokenChain {
    /// A chain of one directly issued token.
    pub fn single(token: Token) -> TokenChain {
        TokenChain {
            tokens: vec![token],
        }
    }

    /// A chain from tokens in order (root-issued first). Fails on an empty list or one longer
    /// than [`MAX_CHAIN_LEN`]; the links themselves are checked by [`verify_chain`].
    pub fn from_tokens(tokens: Vec<Token>) -> Result<TokenChain, TokenError> {
        if tokens.is_empty() {
            return Err(TokenError::NoToken);
        }
        if tokens.len() > MAX_CHAIN_LEN {
            return Err(Malformed::BadChainLength(tokens.len().min(255) as u8).into());
        }
        Ok(TokenChain { tokens })
    }

    /// This chain with `child` (delegated from the current leaf) appended.
    pub fn with(&self, child: Token) -> Result<TokenChain, TokenError> {
        let mut tokens = self.tokens.clone();
        tokens.push(child);
        TokenChain::from_tokens(tokens)
    }

    /// The tokens, root-issued first.
    pub fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    /// The last token: the one granting the presenter.
    pub fn leaf(&self) -> &Token {
        // `tokens` is never empty: every constructor checks it.
        &self.tokens[self.tokens.len() - 1]
    }

    /// The encoded chain: count byte, then the tokens.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + self.tokens.len() * TOKEN_LEN);
        out.push(self.tokens.len() as u8);
        for t in &self.tokens {
            out.extend_from_slice(&t.to_bytes());
        }
        out
    }

    /// Parses an encoded chain. Empty input or a zero count is [`TokenError::NoToken`].
    pub fn from_bytes(b: &[u8]) -> Result<TokenChain, TokenError> {
        let Some(&count) = b.first() else {
            return Err(TokenError::NoToken);
        };
        if count == 0 {
            return Err(TokenError::NoToken);
        }
        if usize::from(count) > MAX_CHAIN_LEN {
            return Err(Malformed::BadChainLength(count).into());
        }
        let needed = 1 + usize::from(count) * TOKEN_LEN;
        if b.len() < needed {
            return Err(Malformed::Truncated {
                len: b.len(),
                needed,
            }
            .into());
        }
        if b.len() > needed {
            return Err(Malformed::TrailingBytes {
                len: b.len(),
                expected: needed,
            }
            .into());
        }
        let tokens = b[1..]
            .chunks_exact(TOKEN_LEN)
            .map(Token::from_bytes)
            .collect::<Result<Vec<_>, _>>()?;
        TokenChain::from_tokens(tokens)
    }
}

/// What a verified chain grants its leaf subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authorized {
    /// The leaf token's subject.
    pub subject: EntityId,
    /// The leaf token's scope.
    pub scope: Scope,
    /// The leaf token's channel ([`super::ANY_CHANNEL`] = every channel).
    pub channel: u64,
    /// The latest `not_before` over the chain.
    pub not_before: u64,
    /// The earliest `not_after` over the chain: when this authorization expires.
    pub not_after: u64,
    /// The leaf token's hash.
    pub leaf: [u8; 32],
}

impl Authorized {
    /// Whether this authorization lets `subject` do `wanted` on `channel`; the first unmet
    /// condition is the error.
    pub fn permits(
        &self,
        subject: &EntityId,
        channel: u64,
        wanted: Scope,
    ) -> Result<(), TokenError> {
        if &self.subject != subject {
            return Err(TokenError::WrongSubject);
        }
        if self.channel != super::ANY_CHANNEL && self.channel != channel {
            return Err(TokenError::WrongChannel {
                granted: self.channel,
                wanted: channel,
            });
        }
        if !self.scope.contains(wanted) {
            return Err(TokenError::WrongScope {
                granted: self.scope,
                wanted,
            });
        }
        Ok(())
    }
}

/// Verifies every link of `chain` at `now`. Per link, in this order: anchoring (the first
/// issuer is one of `roots` and the first token is not itself delegated; later links are issued
/// by the previous subject and name the previous hash), the delegation rules against the
/// previous link, the window (with skew), revocation, and last the ed25519 signature.
pub fn verify_chain(
    chain: &TokenChain,
    roots: &TrustRoots,
    revocations: &Revocations,
    now: u64,
    config: &VerifyConfig,
) -> Result<Authorized, TokenError> {
    let mut previous: Option<(&Token, [u8; 32])> = None;
    let mut not_before = 0u64;
    let mut not_after = u64::MAX;
    for (link, token) in chain.tokens().iter().enumerate() {
        let mut root_key = None;
        match previous {
            None => {
                let Some(key) = roots.keys.get(&token.issuer) else {
                    return Err(if token.issuer == token.subject {
                        TokenError::SelfSignedNonRoot
                    } else {
                        TokenError::UntrustedRoot
                    });
                };
                if token.is_delegated() {
                    return Err(TokenError::BrokenChain { link });
                }
                root_key = Some(key.as_ref().ok_or(TokenError::BadIssuerKey)?);
            }
            Some((parent, parent_hash)) => {
                if token.issuer != parent.subject || token.parent != parent_hash {
                    return Err(TokenError::BrokenChain { link });
                }
                check_can_delegate(parent)?;
                check_narrowing(parent, &grant_of(token))?;
            }
        }
        check_window(token, now, config)?;
        let hash = token.hash();
        if revocations.is_revoked(token, &hash) {
            return Err(TokenError::Revoked { link });
        }
        match root_key {
            Some(key) => verify_signature_with(token, key)?,
            None => verify_signature(token)?,
        }
        not_before = not_before.max(token.not_before);
        not_after = not_after.min(token.not_after);
        previous = Some((token, hash));
    }
    let (leaf, leaf_hash) = previous.ok_or(TokenError::NoToken)?;
    Ok(Authorized {
        subject: leaf.subject,
        scope: leaf.scope,
        channel: leaf.channel,
        not_before,
        not_after,
        leaf: leaf_hash,
    })
}
