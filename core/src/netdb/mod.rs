//! NetDB: one handle bundling the enabled CortEX models (layer 11).
//!
//! Promises: `build` is failure-atomic (if a later model fails to open, the models opened
//! before it are stopped and their files closed before the error is returned); a whole-db
//! snapshot is consistent per model (each under its own state lock; there is no cross-model
//! consistency, since each model is its own RedEX file) and round-trips through one postcard
//! blob. Does not promise: raw event access (that stays at the RedEX / CortEX layers).

use serde::{Deserialize, Serialize};

use crate::cortex::CortexError;
use crate::cortex::memories::Memories;
use crate::cortex::tasks::Tasks;
use crate::redex::{Redex, RedexError, RedexFileConfig};

/// Channel of the tasks model.
pub const TASKS_CHANNEL: &str = "cortex/tasks";
/// Channel of the memories model.
pub const MEMORIES_CHANNEL: &str = "cortex/memories";

/// Errors of the NetDB handle; converts into [`crate::Error`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NetDbError {
    /// A model failed.
    Cortex(CortexError),
    /// The model is not enabled on this handle.
    MissingModel(&'static str),
    /// A snapshot bundle could not be encoded or decoded.
    Snapshot(String),
}

impl std::fmt::Display for NetDbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NetDbError::Cortex(e) => write!(f, "netdb: {e}"),
            NetDbError::MissingModel(m) => write!(f, "netdb: model `{m}` is not enabled"),
            NetDbError::Snapshot(m) => write!(f, "netdb: snapshot: {m}"),
        }
    }
}

impl std::error::Error for NetDbError {}

impl From<CortexError> for NetDbError {
    fn from(e: CortexError) -> Self {
        NetDbError::Cortex(e)
    }
}

impl From<RedexError> for NetDbError {
    fn from(e: RedexError) -> Self {
        NetDbError::Cortex(CortexError::Redex(e))
    }
}

impl From<NetDbError> for crate::Error {
    fn from(e: NetDbError) -> crate::Error {
        match e {
            NetDbError::Cortex(c) => c.into(),
            NetDbError::MissingModel(_) | NetDbError::Snapshot(_) => {
                crate::Error::InvalidArgument(e.to_string())
            }
        }
    }
}

/// One model's snapshot: state bytes and the last folded seq.
pub type ModelSnapshot = (Vec<u8>, Option<u64>);

/// A whole-db snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NetDbSnapshot {
    /// The tasks model, if enabled.
    pub tasks: Option<ModelSnapshot>,
    /// The memories model, if enabled.
    pub memories: Option<ModelSnapshot>,
}

impl NetDbSnapshot {
    /// One postcard blob.
    pub fn encode(&self) -> Result<Vec<u8>, NetDbError> {
        postcard::to_allocvec(self).map_err(|e| NetDbError::Snapshot(e.to_string()))
    }

    /// Decodes [`Self::encode`]'s output.
    pub fn decode(bytes: &[u8]) -> Result<Self, NetDbError> {
        postcard::from_bytes(bytes).map_err(|e| NetDbError::Snapshot(e.to_string()))
    }
}

/// Builds a [`NetDb`].
#[derive(Debug, Clone)]
pub struct NetDbBuilder {
    redex: Redex,
    origin: u32,
    tasks: Option<String>,
    memories: Option<String>,
    file: RedexFileConfig,
}

impl NetDbBuilder {
    /// This producer's origin hash.
    pub fn origin(mut self, origin_hash: u32) -> Self {
        self.origin = origin_hash;
        self
    }
    /// Enables the tasks model on [`TASKS_CHANNEL`].
    pub fn with_tasks(self) -> Self {
        self.with_tasks_on(TASKS_CHANNEL)
    }
    /// Enables the tasks model on `channel`.
    pub fn with_tasks_on(mut self, channel: &str) -> Self {
        self.tasks = Some(channel.into());
        self
    }
    /// Enables the memories model on [`MEMORIES_CHANNEL`].
    pub fn with_memories(self) -> Self {
        self.with_memories_on(MEMORIES_CHANNEL)
    }
    /// Enables the memories model on `channel`.
    pub fn with_memories_on(mut self, channel: &str) -> Self {
        self.memories = Some(channel.into());
        self
    }
    /// The RedEX file configuration of the models' files (default: heap).
    pub fn file_config(mut self, config: RedexFileConfig) -> Self {
        self.file = config;
        self
    }

    /// Opens every enabled model from its file.
    pub fn build(self) -> Result<NetDb, NetDbError> {
        self.build_from_snapshot(&NetDbSnapshot::default())
    }

    /// Opens every enabled model, restoring those present in `snap` (the others replay their
    /// files from the beginning). Failure-atomic.
    pub fn build_from_snapshot(self, snap: &NetDbSnapshot) -> Result<NetDb, NetDbError> {
        let mut opened: Vec<&str> = Vec::new();
        let r = self.open_all(snap, &mut opened);
        if r.is_err() {
            for ch in opened {
                let _ = self.redex.close_file(ch);
            }
        }
        r
    }

    fn open_all<'a>(
        &'a self,
        snap: &NetDbSnapshot,
        opened: &mut Vec<&'a str>,
    ) -> Result<NetDb, NetDbError> {
        let mut db = NetDb {
            redex: self.redex.clone(),
            tasks: None,
            memories: None,
        };
        if let Some(ch) = &self.tasks {
            let f = self.redex.open_file(ch, self.file.clone())?;
            opened.push(ch);
            db.tasks = Some(match &snap.tasks {
                Some((b, s)) => Tasks::open_from_snapshot(f, self.origin, b, *s)?,
                None => Tasks::open(f, self.origin)?,
            });
        }
        if let Some(ch) = &self.memories {
            let f = self.redex.open_file(ch, self.file.clone())?;
            opened.push(ch);
            db.memories = Some(match &snap.memories {
                Some((b, s)) => Memories::open_from_snapshot(f, self.origin, b, *s)?,
                None => Memories::open(f, self.origin)?,
            });
        }
        Ok(db)
    }
}

/// The handle: per-model accessors, whole-db snapshot.
#[derive(Debug)]
pub struct NetDb {
    redex: Redex,
    tasks: Option<Tasks>,
    memories: Option<Memories>,
}

impl NetDb {
    /// A builder over `redex`.
    pub fn builder(redex: Redex) -> NetDbBuilder {
        NetDbBuilder {
            redex,
            origin: 0,
            tasks: None,
            memories: None,
            file: RedexFileConfig::heap(),
        }
    }

    /// The tasks model.
    pub fn tasks(&self) -> Result<&Tasks, NetDbError> {
        self.tasks.as_ref().ok_or(NetDbError::MissingModel("tasks"))
    }

    /// The memories model.
    pub fn memories(&self) -> Result<&Memories, NetDbError> {
        self.memories
            .as_ref()
            .ok_or(NetDbError::MissingModel("memories"))
    }

    /// The RedEX manager.
    pub fn redex(&self) -> &Redex {
        &self.redex
    }

    /// Snapshots every enabled model.
    pub fn snapshot(&self) -> Result<NetDbSnapshot, NetDbError> {
        Ok(NetDbSnapshot {
            tasks: self
                .tasks
                .as_ref()
                .map(|t| t.adapter().snapshot())
                .transpose()?,
            memories: self
                .memories
                .as_ref()
                .map(|m| m.adapter().snapshot())
                .transpose()?,
        })
    }

    /// Stops every model's fold task and closes the manager's files.
    pub fn close(&self) -> Result<(), NetDbError> {
        if let Some(t) = &self.tasks {
            t.adapter().close();
        }
        if let Some(m) = &self.memories {
            m.adapter().close();
        }
        Ok(self.redex.close_all()?)
    }
}
