//! The mesh commands: `net node`, `net send`, `net recv` and `net psk`.
//!
//! Each runs an event bus configured with the mesh adapter (the same `{"adapter": {"type":
//! "mesh", ...}}` configuration every skin takes), so what they show is what an application
//! gets: `send` ingests stdin lines into its bus, which forwards them to its peers; `recv`
//! prints what its bus was pushed; `node` only runs and reports. Status goes to stderr, events
//! to stdout. SIGINT and SIGTERM stop a command cleanly (the bus drains, the peers acknowledge,
//! then the node stops). Not here: relaying (a node's routing table, see `docs/mesh.md`).

pub mod args;
pub mod node;
pub mod psk;
pub mod recv;
pub mod send;
pub mod signals;
