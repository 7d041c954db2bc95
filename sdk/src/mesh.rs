//! [`Mesh`]: the SDK's handle to one encrypted mesh node with channel pub/sub.
//!
//! A thin wrapper over the engine's [`MeshNode`] and [`PubSub`]: [`Mesh::builder`] binds a UDP
//! socket, starts the node and its pub/sub reader, and every method forwards to one engine
//! call. Nothing is reimplemented: membership, authorization and fan-out are the engine's
//! (see `docs/membership.md`). Calls are blocking (they wait at most the timeout they are
//! given, or the engine's own credit timeout for a publish); from an async runtime, run them
//! on a blocking thread.
//!
//! Tokens (`docs/tokens.md`): a publishing node given trust roots
//! ([`MeshBuilder::trust_roots`]) verifies the chains subscribers present on channels
//! registered with `require_token`, and revocations through [`Mesh::revoke_token`] /
//! [`Mesh::revoke_generation`] reach every token delegated from the revoked one on the next
//! publish. A subscribing node presents the chain set for the channel
//! ([`MeshBuilder::token`], [`Mesh::set_token`]) or one given to
//! [`Mesh::subscribe_channel_with_token`], always as its own identity.
//!
//! Promised: a channel name is checked before anything is sent ([`MeshError::Name`]); a
//! subscribe that the publisher refuses comes back as [`MeshError::Denied`] with the
//! publisher's reason; a chain whose leaf is for another identity is refused locally
//! ([`MeshError::Token`]). A channel that was not registered takes the registry's default
//! config (open to everyone), as in the engine.
//! Not promised: delivery of events published before the subscribe, ordering across
//! publishers, token issuing (use `net::token::issue` / `delegate` or `net token issue`), and
//! authorization of this node's own publishes (the application owning a node is trusted).

mod error;
mod tokens;

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use net::channel::{ChannelConfig, ChannelName, ChannelRegistry, GuardConfig};
use net::identity::{EntityId, Identity, NodeCard, NodeId};
use net::membership::{AckStatus, Credential, PubSub, PubSubConfig, Roster};
use net::mesh::handshake::HandshakeConfig;
use net::mesh::node::{MeshNode, NodeConfig};
use net::mesh::session::EndpointConfig;
use net::token::{TokenChain, TokenVerifier, VerifyConfig};

use self::tokens::TokenBook;

pub use self::error::MeshError;
pub use net::channel::RegistryError;
pub use net::membership::{DenyReason, PublishReport};

/// An event received on a subscribed channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The channel name.
    pub channel: String,
    /// The event bytes.
    pub payload: Vec<u8>,
    /// The publishing node.
    pub from: NodeId,
}

enum IdentitySource {
    Generate,
    Given(Box<Identity>),
    File(PathBuf),
}

/// Where a builder's token verifier comes from.
enum VerifierSource {
    None,
    Roots(Vec<EntityId>),
    Shared(Arc<TokenVerifier>),
}

/// Configures and starts a [`Mesh`] (see [`Mesh::builder`]).
pub struct MeshBuilder {
    listen: SocketAddr,
    psk: [u8; 32],
    identity: IdentitySource,
    pubsub: PubSubConfig,
    verifier: VerifierSource,
    verify: VerifyConfig,
    guard: GuardConfig,
    tokens: Vec<(String, TokenChain)>,
}

impl fmt::Debug for MeshBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let identity = match &self.identity {
            IdentitySource::Generate => "generate".to_string(),
            IdentitySource::Given(_) => "given".to_string(),
            IdentitySource::File(p) => p.display().to_string(),
        };
        let roots = match &self.verifier {
            VerifierSource::None => 0,
            VerifierSource::Roots(r) => r.len(),
            VerifierSource::Shared(_) => 1,
        };
        f.debug_struct("MeshBuilder")
            .field("listen", &self.listen)
            .field("identity", &identity)
            .field("trust_roots", &roots)
            .field("tokens", &self.tokens.len())
            .finish_non_exhaustive()
    }
}

impl MeshBuilder {
    /// Uses `identity` (default: a freshly generated one).
    pub fn identity(mut self, identity: Identity) -> Self {
        self.identity = IdentitySource::Given(Box::new(identity));
        self
    }

    /// Loads the identity from a key file written by `net keygen` / `Identity::save`.
    pub fn key_file(mut self, path: impl AsRef<Path>) -> Self {
        self.identity = IdentitySource::File(path.as_ref().to_path_buf());
        self
    }

    /// Uses the identity derived from a 32-byte seed (the same seed gives the same node id and
    /// entity id every time; keep it secret like a key file).
    pub fn seed(mut self, seed: [u8; 32]) -> Self {
        self.identity = IdentitySource::Given(Box::new(Identity::from_seed(&seed)));
        self
    }

    /// Trusts these root identities (ed25519 public keys) for the token chains subscribers
    /// present on `require_token` channels registered here. Without roots (the default), such
    /// channels refuse every token as `untrusted_root`. Replaces an earlier
    /// [`token_verifier`](Self::token_verifier).
    pub fn trust_roots(mut self, roots: impl IntoIterator<Item = EntityId>) -> Self {
        self.verifier = VerifierSource::Roots(roots.into_iter().collect());
        self
    }

    /// The clock-skew tolerance used with [`trust_roots`](Self::trust_roots) (default
    /// `VerifyConfig::default()`, 30 s).
    pub fn verify_config(mut self, config: VerifyConfig) -> Self {
        self.verify = config;
        self
    }

    /// Uses an existing verifier (its roots, skew and revocations, shared with whoever else
    /// holds it). Replaces [`trust_roots`](Self::trust_roots).
    pub fn token_verifier(mut self, verifier: Arc<TokenVerifier>) -> Self {
        self.verifier = VerifierSource::Shared(verifier);
        self
    }

    /// Tunes the auth guard in front of the verifier (failure limiter, capacity).
    pub fn guard_config(mut self, config: GuardConfig) -> Self {
        self.guard = config;
        self
    }

    /// Presents `chain` whenever this node subscribes to `channel` (by exact name). The name
    /// is checked, and the chain's leaf must be for this node's identity, when the node is
    /// built ([`MeshError::Name`], [`MeshError::Token`]).
    pub fn token(mut self, channel: &str, chain: TokenChain) -> Self {
        self.tokens.push((channel.to_string(), chain));
        self
    }

    /// Tunes the pub/sub driver (credit timeout, inbox size, ...).
    pub fn pubsub_config(mut self, config: PubSubConfig) -> Self {
        self.pubsub = config;
        self
    }

    /// Binds the socket and starts the node and its pub/sub reader.
    pub fn build(self) -> Result<Mesh, MeshError> {
        let identity = match self.identity {
            IdentitySource::Generate => Identity::generate().map_err(MeshError::Identity)?,
            IdentitySource::Given(id) => *id,
            IdentitySource::File(p) => Identity::load(&p).map_err(MeshError::KeyFile)?,
        };
        let book = TokenBook::new(identity.entity_id());
        for (channel, chain) in self.tokens {
            book.set(ChannelName::parse(&channel)?, chain)?;
        }
        let verifier = match self.verifier {
            VerifierSource::None => None,
            VerifierSource::Roots(roots) => Some(Arc::new(TokenVerifier::new(roots, self.verify))),
            VerifierSource::Shared(v) => Some(v),
        };
        let roster = Roster::new(ChannelRegistry::new(), verifier.clone(), self.guard)
            .map_err(|e| MeshError::Guard(e.to_string()))?;
        let entity = identity.entity_id();
        let endpoint = EndpointConfig::new(HandshakeConfig::new(identity, self.psk));
        let node = Arc::new(MeshNode::start(NodeConfig::new(endpoint, self.listen))?);
        let pubsub = PubSub::start(Arc::clone(&node), roster, self.pubsub);
        Ok(Mesh {
            node,
            pubsub,
            entity,
            verifier,
            tokens: book,
        })
    }
}

/// One mesh node with channel pub/sub. See the module docs.
pub struct Mesh {
    node: Arc<MeshNode>,
    pubsub: PubSub,
    entity: EntityId,
    verifier: Option<Arc<TokenVerifier>>,
    tokens: TokenBook,
}

impl fmt::Debug for Mesh {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mesh").field("node", &self.node).finish()
    }
}

impl Mesh {
    /// A builder for a node listening on `listen` (e.g. `127.0.0.1:0`) with pre-shared key
    /// `psk`; only peers with the same key can connect.
    pub fn builder(listen: SocketAddr, psk: [u8; 32]) -> MeshBuilder {
        MeshBuilder {
            listen,
            psk,
            identity: IdentitySource::Generate,
            pubsub: PubSubConfig::default(),
            verifier: VerifierSource::None,
            verify: VerifyConfig::default(),
            guard: GuardConfig::default(),
            tokens: Vec::new(),
        }
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.node.local_addr()
    }

    /// This node's card (give it, with the address, to peers that dial this node).
    pub fn card(&self) -> NodeCard {
        self.node.card()
    }

    /// This node's id.
    pub fn node_id(&self) -> NodeId {
        self.node.node_id()
    }

    /// This node's entity id (its ed25519 public key): the subject to issue its tokens for.
    pub fn entity_id(&self) -> EntityId {
        self.entity
    }

    /// The token verifier of channels published here (`None` without trust roots).
    pub fn token_verifier(&self) -> Option<&Arc<TokenVerifier>> {
        self.verifier.as_ref()
    }

    /// Revokes one token by its hash (`Token::hash`) and everything delegated from it; the
    /// next publish drops the subscribers whose chains it reaches (`revoked`).
    pub fn revoke_token(&self, hash: [u8; 32]) -> Result<(), MeshError> {
        self.verifier
            .as_ref()
            .ok_or(MeshError::NoVerifier)?
            .revoke_token(hash);
        Ok(())
    }

    /// Revokes every token `issuer` signed at a generation `<= generation`, and everything
    /// delegated from them; takes effect on the next publish.
    pub fn revoke_generation(&self, issuer: EntityId, generation: u32) -> Result<(), MeshError> {
        self.verifier
            .as_ref()
            .ok_or(MeshError::NoVerifier)?
            .revoke_generation(issuer, generation);
        Ok(())
    }

    /// Presents `chain` from now on whenever this node subscribes to `channel` (replacing an
    /// earlier one). Fails if the name is bad or the chain's leaf is for another identity.
    pub fn set_token(&self, channel: &str, chain: TokenChain) -> Result<(), MeshError> {
        self.tokens.set(ChannelName::parse(channel)?, chain)?;
        Ok(())
    }

    /// Stops presenting a chain for `channel`; returns whether one was set.
    pub fn clear_token(&self, channel: &str) -> Result<bool, MeshError> {
        Ok(self.tokens.remove(&ChannelName::parse(channel)?))
    }

    /// Dials `addr` whose card is `card`, waiting up to `timeout`; returns the peer's id.
    pub fn connect(
        &self,
        addr: SocketAddr,
        card: &NodeCard,
        timeout: Duration,
    ) -> Result<NodeId, MeshError> {
        Ok(self.node.connect(addr, card, timeout)?)
    }

    /// Whether a session with `peer` is up.
    pub fn is_connected(&self, peer: NodeId) -> bool {
        self.node.is_connected(peer)
    }

    /// Registers a channel this node publishes, so peers may subscribe to it here.
    pub fn register_channel(&self, name: &str, config: ChannelConfig) -> Result<(), MeshError> {
        let name = ChannelName::parse(name)?;
        self.pubsub
            .with_roster(|r| r.registry_mut().register(name, config))?;
        Ok(())
    }

    /// Subscribes to `channel` at `publisher` (connected), presenting the chain set for the
    /// channel if any, and waits up to `timeout` for the ack. A refusal comes back as
    /// [`MeshError::Denied`] with the publisher's reason.
    pub fn subscribe_channel(
        &self,
        publisher: NodeId,
        channel: &str,
        timeout: Duration,
    ) -> Result<(), MeshError> {
        let name = ChannelName::parse(channel)?;
        let credential = self.tokens.credential_for(&name);
        self.subscribe_name(publisher, &name, None, credential, timeout)
    }

    /// Like [`subscribe_channel`](Self::subscribe_channel), presenting `chain` (whose leaf
    /// must be for this node, else [`MeshError::Token`] and nothing is sent).
    pub fn subscribe_channel_with_token(
        &self,
        publisher: NodeId,
        channel: &str,
        chain: &TokenChain,
        timeout: Duration,
    ) -> Result<(), MeshError> {
        let name = ChannelName::parse(channel)?;
        let credential = self.tokens.credential(chain)?;
        self.subscribe_name(publisher, &name, None, Some(credential), timeout)
    }

    /// Like [`subscribe_channel`](Self::subscribe_channel), as a member of queue `group`:
    /// each publish reaches one member of the group.
    pub fn subscribe_queue_group(
        &self,
        publisher: NodeId,
        channel: &str,
        group: &str,
        timeout: Duration,
    ) -> Result<(), MeshError> {
        let name = ChannelName::parse(channel)?;
        let credential = self.tokens.credential_for(&name);
        self.subscribe_name(publisher, &name, Some(group), credential, timeout)
    }

    /// Like [`subscribe_channel`](Self::subscribe_channel), in queue `group` if given and
    /// with exactly the token `credential` given (none: no token, whatever is set for the
    /// channel).
    pub fn subscribe_with(
        &self,
        publisher: NodeId,
        channel: &str,
        group: Option<&str>,
        credential: Option<Credential>,
        timeout: Duration,
    ) -> Result<(), MeshError> {
        let name = ChannelName::parse(channel)?;
        self.subscribe_name(publisher, &name, group, credential, timeout)
    }

    fn subscribe_name(
        &self,
        publisher: NodeId,
        name: &ChannelName,
        group: Option<&str>,
        credential: Option<Credential>,
        timeout: Duration,
    ) -> Result<(), MeshError> {
        match self
            .pubsub
            .subscribe(publisher, name, group, credential, timeout)?
        {
            AckStatus::Subscribed => Ok(()),
            AckStatus::Denied(reason) => Err(MeshError::Denied(reason)),
            other => Err(MeshError::Refused(other)),
        }
    }

    /// Unsubscribes from `channel` at `publisher`, waiting up to `timeout` for the ack.
    pub fn unsubscribe_channel(
        &self,
        publisher: NodeId,
        channel: &str,
        timeout: Duration,
    ) -> Result<(), MeshError> {
        let name = ChannelName::parse(channel)?;
        self.pubsub.unsubscribe(publisher, &name, timeout)?;
        Ok(())
    }

    /// Publishes `payload` to every authorized subscriber of `channel` here; the report says
    /// who got it, who failed and who was dropped.
    pub fn publish(&self, channel: &str, payload: &[u8]) -> Result<PublishReport, MeshError> {
        let name = ChannelName::parse(channel)?;
        Ok(self.pubsub.publish(&name, payload)?)
    }

    /// Waits up to `timeout` until every peer in `report.delivered` acknowledged everything
    /// sent to it on `channel` (for example before shutting down); returns the peers that had
    /// not (empty: all did).
    pub fn wait_acked(
        &self,
        channel: &str,
        report: &PublishReport,
        timeout: Duration,
    ) -> Result<Vec<NodeId>, MeshError> {
        let name = ChannelName::parse(channel)?;
        Ok(self.pubsub.wait_acked(&name, &report.delivered, timeout))
    }

    /// The next event of any subscribed channel, waiting up to `timeout`; `None` if none came.
    pub fn recv(&self, timeout: Duration) -> Option<Received> {
        self.pubsub.recv(timeout).map(|e| Received {
            channel: e.channel.as_str().to_string(),
            payload: e.payload,
            from: e.publisher,
        })
    }

    /// The pub/sub counters.
    pub fn stats(&self) -> net::membership::PubSubStats {
        self.pubsub.stats()
    }

    /// Stops the pub/sub reader and shuts the node down. Later calls fail as shut down.
    pub fn shutdown(&self) {
        self.pubsub.stop();
        self.node.shutdown();
    }
}
