//! Delegation: the subject of a token that grants `delegate` signs a narrower token for someone
//! else. Promises: a delegated token never grants more than its parent — scope is a subset,
//! depth is strictly lower, the window lies inside the parent's, and the channel is the
//! parent's (or any channel only under an any-channel parent); the same rules are re-checked on
//! every chain link by [`super::chain`], so a hand-built wider token is refused there too.

use super::error::{TokenError, Widening};
use super::issue::{Grant, sign};
use super::layout::{ANY_CHANNEL, Token};
use super::scope::Scope;
use crate::identity::Identity;

/// Checks that `parent` may delegate at all (it grants delegate and has depth left).
pub fn check_can_delegate(parent: &Token) -> Result<(), TokenError> {
    if !parent.scope.contains(Scope::DELEGATE) {
        return Err(TokenError::NotDelegable);
    }
    if parent.depth == 0 {
        return Err(TokenError::DepthExhausted);
    }
    Ok(())
}

/// Checks that a child carrying `grant` would be no wider than `parent`.
pub fn check_narrowing(parent: &Token, grant: &Grant) -> Result<(), TokenError> {
    if !parent.scope.contains(grant.scope) {
        return Err(TokenError::Widened(Widening::Scope));
    }
    if grant.depth >= parent.depth {
        return Err(TokenError::Widened(Widening::Depth));
    }
    if parent.channel != ANY_CHANNEL && grant.channel != parent.channel {
        return Err(TokenError::Widened(Widening::Channel));
    }
    if grant.not_before < parent.not_before || grant.not_after > parent.not_after {
        return Err(TokenError::Widened(Widening::Window));
    }
    Ok(())
}

/// The grant a token carries (for re-checking narrowing on an existing child).
pub fn grant_of(token: &Token) -> Grant {
    Grant {
        subject: token.subject,
        scope: token.scope,
        channel: token.channel,
        not_before: token.not_before,
        not_after: token.not_after,
        depth: token.depth,
        nonce: token.nonce,
    }
}

/// `holder` (the subject of `parent`, signing at its own key `generation`) delegates a narrower
/// token carrying `grant`. The result's `parent` field is `parent.hash()`.
pub fn delegate(
    parent: &Token,
    holder: &Identity,
    generation: u32,
    grant: &Grant,
) -> Result<Token, TokenError> {
    if holder.entity_id() != parent.subject {
        return Err(TokenError::NotSubject);
    }
    check_can_delegate(parent)?;
    check_narrowing(parent, grant)?;
    sign(holder, generation, grant, parent.hash())
}

#[cfg(test)]
mod tests {
    use super::super::issue::issue;
    use super::*;

    #[test]
    fn each_rule_has_its_reason() {
        let root = Identity::from_seed(&[1; 32]);
        let a = Identity::from_seed(&[2; 32]);
        let b = Identity::from_seed(&[3; 32]).entity_id();
        let base = Grant {
            subject: a.entity_id(),
            scope: Scope::PUBLISH | Scope::SUBSCRIBE | Scope::DELEGATE,
            channel: 9,
            not_before: 100,
            not_after: 200,
            depth: 2,
            nonce: 0,
        };
        let parent = issue(&root, 0, &base).unwrap();
        let child = Grant {
            subject: b,
            scope: Scope::PUBLISH,
            depth: 1,
            ..base
        };
        let t = delegate(&parent, &a, 0, &child).unwrap();
        assert_eq!(t.parent, parent.hash());
        assert_eq!(t.issuer, a.entity_id());
        let cases = [
            (
                Grant {
                    scope: Scope::ADMIN,
                    ..child
                },
                Widening::Scope,
            ),
            (Grant { depth: 2, ..child }, Widening::Depth),
            (
                Grant {
                    channel: 0,
                    ..child
                },
                Widening::Channel,
            ),
            (
                Grant {
                    channel: 8,
                    ..child
                },
                Widening::Channel,
            ),
            (
                Grant {
                    not_before: 99,
                    ..child
                },
                Widening::Window,
            ),
            (
                Grant {
                    not_after: 201,
                    ..child
                },
                Widening::Window,
            ),
        ];
        for (g, w) in cases {
            assert_eq!(delegate(&parent, &a, 0, &g), Err(TokenError::Widened(w)));
        }
        assert_eq!(
            delegate(&parent, &root, 0, &child),
            Err(TokenError::NotSubject)
        );
        let no_del = issue(
            &root,
            0,
            &Grant {
                scope: Scope::PUBLISH,
                ..base
            },
        )
        .unwrap();
        assert_eq!(
            delegate(&no_del, &a, 0, &child),
            Err(TokenError::NotDelegable)
        );
        let flat = issue(&root, 0, &Grant { depth: 0, ..base }).unwrap();
        assert_eq!(
            delegate(&flat, &a, 0, &child),
            Err(TokenError::DepthExhausted)
        );
    }
}
