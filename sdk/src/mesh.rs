//! [`Mesh`]: the SDK's handle to one encrypted mesh node with channel pub/sub.
//!
//! A thin wrapper over the engine's [`MeshNode`] and [`PubSub`]: [`Mesh::builder`] binds a UDP
//! socket, starts the node and its pub/sub reader, and every method forwards to one engine
//! call. Nothing is reimplemented: membership, authorization and fan-out are the engine's
//! (see `docs/membership.md`). Calls are blocking (they wait at most the timeout they are
//! given, or the engine's own credit timeout for a publish); from an async runtime, run them
//! on a blocking thread.
//!
//! Promised: a channel name is checked before anything is sent ([`MeshError::Name`]); a
//! subscribe that the publisher refuses comes back as [`MeshError::Refused`] with the ack.
//! A channel that was not registered takes the registry's default config (open to everyone),
//! as in the engine.
//! Not promised: delivery of events published before the subscribe, ordering across
//! publishers, token issuing (use `net::token` and pass the credential yourself).

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use net::channel::{ChannelConfig, ChannelName, ChannelRegistry, GuardConfig, NameError};
use net::identity::{Identity, IdentityError, KeyFileError, NodeCard, NodeId};
use net::membership::{AckStatus, Credential, PubSub, PubSubConfig, PubSubError, Roster};
use net::mesh::handshake::HandshakeConfig;
use net::mesh::node::{MeshNode, NodeConfig};
use net::mesh::session::EndpointConfig;

pub use net::channel::RegistryError;
pub use net::membership::PublishReport;

/// Why a [`Mesh`] call failed: the engine's typed error, wrapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeshError {
    /// The channel name is not valid.
    Name(NameError),
    /// The channel could not be registered (bad config, already registered, hash clash).
    Registry(RegistryError),
    /// The node failed (bind, connect, shut down, ...).
    Node(net::mesh::session::MeshError),
    /// A pub/sub call failed (no ack in time, stopped, ...).
    PubSub(PubSubError),
    /// The publisher answered a subscribe with something other than `Subscribed`.
    Refused(AckStatus),
    /// The identity key file could not be read.
    KeyFile(KeyFileError),
    /// A fresh identity could not be generated.
    Identity(IdentityError),
    /// The guard configuration was rejected.
    Guard(String),
}

impl fmt::Display for MeshError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MeshError::Name(e) => write!(f, "mesh: bad channel name: {e}"),
            MeshError::Registry(e) => write!(f, "mesh: {e}"),
            MeshError::Node(e) => write!(f, "mesh: {e}"),
            MeshError::PubSub(e) => write!(f, "mesh: {e}"),
            MeshError::Refused(s) => write!(f, "mesh: subscribe refused: {}", s.kind()),
            MeshError::KeyFile(e) => write!(f, "mesh: {e}"),
            MeshError::Identity(e) => write!(f, "mesh: {e}"),
            MeshError::Guard(e) => write!(f, "mesh: guard config: {e}"),
        }
    }
}

impl std::error::Error for MeshError {}

impl From<NameError> for MeshError {
    fn from(e: NameError) -> Self {
        MeshError::Name(e)
    }
}

impl From<RegistryError> for MeshError {
    fn from(e: RegistryError) -> Self {
        MeshError::Registry(e)
    }
}

impl From<net::mesh::session::MeshError> for MeshError {
    fn from(e: net::mesh::session::MeshError) -> Self {
        MeshError::Node(e)
    }
}

impl From<PubSubError> for MeshError {
    fn from(e: PubSubError) -> Self {
        MeshError::PubSub(e)
    }
}

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

/// Configures and starts a [`Mesh`] (see [`Mesh::builder`]).
pub struct MeshBuilder {
    listen: SocketAddr,
    psk: [u8; 32],
    identity: IdentitySource,
    pubsub: PubSubConfig,
}

impl fmt::Debug for MeshBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let identity = match &self.identity {
            IdentitySource::Generate => "generate".to_string(),
            IdentitySource::Given(_) => "given".to_string(),
            IdentitySource::File(p) => p.display().to_string(),
        };
        f.debug_struct("MeshBuilder")
            .field("listen", &self.listen)
            .field("identity", &identity)
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
        let endpoint = EndpointConfig::new(HandshakeConfig::new(identity, self.psk));
        let node = Arc::new(MeshNode::start(NodeConfig::new(endpoint, self.listen))?);
        let roster = Roster::new(ChannelRegistry::new(), None, GuardConfig::default())
            .map_err(|e| MeshError::Guard(e.to_string()))?;
        let pubsub = PubSub::start(Arc::clone(&node), roster, self.pubsub);
        Ok(Mesh { node, pubsub })
    }
}

/// One mesh node with channel pub/sub. See the module docs.
pub struct Mesh {
    node: Arc<MeshNode>,
    pubsub: PubSub,
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

    /// Subscribes to `channel` at `publisher` (connected), waiting up to `timeout` for the
    /// ack. A refusal comes back as [`MeshError::Refused`].
    pub fn subscribe_channel(
        &self,
        publisher: NodeId,
        channel: &str,
        timeout: Duration,
    ) -> Result<(), MeshError> {
        self.subscribe_with(publisher, channel, None, None, timeout)
    }

    /// Like [`subscribe_channel`](Self::subscribe_channel), in queue `group` if given and
    /// with a token `credential` if given.
    pub fn subscribe_with(
        &self,
        publisher: NodeId,
        channel: &str,
        group: Option<&str>,
        credential: Option<Credential>,
        timeout: Duration,
    ) -> Result<(), MeshError> {
        let name = ChannelName::parse(channel)?;
        match self
            .pubsub
            .subscribe(publisher, &name, group, credential, timeout)?
        {
            AckStatus::Subscribed => Ok(()),
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
