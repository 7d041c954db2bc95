//! The memories model: content with set-valued tags, folded from dispatches `0x10..=0x14`
//! (stored, retagged, pinned, unpinned, deleted), with tag predicates in three flavours.
//!
//! Promises: as for [`super::tasks`] — the state is a pure function of the folded events, and
//! events about unknown ids (or a second store of an id) are counted fold errors.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::adapter::{
    CortexAdapter, CortexConfig, CortexError, CortexEvent, FoldError, FoldErrorPolicy,
    StartPosition,
};
use super::idmap::IdMap;
use crate::redex::RedexFile;

/// Dispatch of a memory-stored event.
pub const DISPATCH_STORED: u8 = 0x10;
/// Dispatch of a memory-retagged event.
pub const DISPATCH_RETAGGED: u8 = 0x11;
/// Dispatch of a memory-pinned event.
pub const DISPATCH_PINNED: u8 = 0x12;
/// Dispatch of a memory-unpinned event.
pub const DISPATCH_UNPINNED: u8 = 0x13;
/// Dispatch of a memory-deleted event.
pub const DISPATCH_DELETED: u8 = 0x14;
const _: () = assert!(DISPATCH_DELETED < super::meta::APP_DISPATCH_START);
const _: () = assert!(DISPATCH_STORED > super::tasks::DISPATCH_DELETED);

/// A memory id (chosen by the caller).
pub type MemoryId = u64;

/// One memory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Memory {
    /// Id.
    pub id: MemoryId,
    /// Content.
    pub content: String,
    /// Tags, sorted and deduplicated.
    pub tags: Vec<String>,
    /// Where it came from.
    pub source: String,
    /// Whether it is pinned.
    pub pinned: bool,
    /// Creation time (unix nanos, from the event).
    pub created_ns: u64,
    /// Last change time.
    pub updated_ns: u64,
}

/// A memory event (payload = its postcard encoding).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MemoryEvent {
    /// `0x10`.
    Stored {
        /// Id.
        id: MemoryId,
        /// Content.
        content: String,
        /// Tags.
        tags: Vec<String>,
        /// Source.
        source: String,
        /// Time.
        ts: u64,
    },
    /// `0x11`.
    Retagged {
        /// Id.
        id: MemoryId,
        /// New tags.
        tags: Vec<String>,
        /// Time.
        ts: u64,
    },
    /// `0x12`.
    Pinned {
        /// Id.
        id: MemoryId,
        /// Time.
        ts: u64,
    },
    /// `0x13`.
    Unpinned {
        /// Id.
        id: MemoryId,
        /// Time.
        ts: u64,
    },
    /// `0x14`.
    Deleted {
        /// Id.
        id: MemoryId,
    },
}

impl MemoryEvent {
    /// The dispatch byte of this event.
    pub fn dispatch(&self) -> u8 {
        match self {
            MemoryEvent::Stored { .. } => DISPATCH_STORED,
            MemoryEvent::Retagged { .. } => DISPATCH_RETAGGED,
            MemoryEvent::Pinned { .. } => DISPATCH_PINNED,
            MemoryEvent::Unpinned { .. } => DISPATCH_UNPINNED,
            MemoryEvent::Deleted { .. } => DISPATCH_DELETED,
        }
    }
}

/// Sort order of query results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum MemoryOrder {
    /// By id ascending (the default).
    #[default]
    IdAsc,
    /// By id descending.
    IdDesc,
    /// By creation time descending, then id descending.
    CreatedDesc,
}

/// A query over memories (plain data).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MemoriesFilter {
    /// Only memories with this tag.
    pub tag: Option<String>,
    /// Only memories with at least one of these tags.
    pub any_tags: Option<Vec<String>>,
    /// Only memories with all of these tags.
    pub all_tags: Option<Vec<String>>,
    /// Only this source.
    pub source: Option<String>,
    /// Only pinned (`true`) or unpinned (`false`) memories.
    pub pinned: Option<bool>,
    /// Only content containing this substring.
    pub content_contains: Option<String>,
    /// Result order.
    pub order_by: MemoryOrder,
    /// At most this many results.
    pub limit: Option<usize>,
}

impl MemoriesFilter {
    /// Whether `m` passes the predicates.
    pub fn matches(&self, m: &Memory) -> bool {
        let has = |t: &String| m.tags.binary_search(t).is_ok();
        self.tag.as_ref().is_none_or(has)
            && self.any_tags.as_ref().is_none_or(|v| v.iter().any(has))
            && self.all_tags.as_ref().is_none_or(|v| v.iter().all(has))
            && self.source.as_ref().is_none_or(|s| &m.source == s)
            && self.pinned.is_none_or(|p| m.pinned == p)
            && self
                .content_contains
                .as_deref()
                .is_none_or(|s| m.content.contains(s))
    }
}

fn norm(mut tags: Vec<String>) -> Vec<String> {
    tags.sort();
    tags.dedup();
    tags
}

/// The folded state: memories by id. Serialized as a map from id to memory in ascending id
/// order (the snapshot format); held in an [`IdMap`], which inserts increasing ids cheaply.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MemoriesState {
    memories: IdMap<Memory>,
}

impl MemoriesState {
    /// Applies one event (the fold).
    pub fn apply(&mut self, ev: &MemoryEvent) -> Result<(), FoldError> {
        let missing = |id| FoldError(format!("memory {id} does not exist"));
        match ev {
            MemoryEvent::Stored {
                id,
                content,
                tags,
                source,
                ts,
            } => {
                let new = self.memories.insert_new(*id, || Memory {
                    id: *id,
                    content: content.clone(),
                    tags: norm(tags.clone()),
                    source: source.clone(),
                    pinned: false,
                    created_ns: *ts,
                    updated_ns: *ts,
                });
                if !new {
                    return Err(FoldError(format!("memory {id} already exists")));
                }
            }
            MemoryEvent::Retagged { id, tags, ts } => {
                let m = self.memories.get_mut(*id).ok_or_else(|| missing(*id))?;
                m.tags = norm(tags.clone());
                m.updated_ns = *ts;
            }
            MemoryEvent::Pinned { id, ts } | MemoryEvent::Unpinned { id, ts } => {
                let m = self.memories.get_mut(*id).ok_or_else(|| missing(*id))?;
                m.pinned = matches!(ev, MemoryEvent::Pinned { .. });
                m.updated_ns = *ts;
            }
            MemoryEvent::Deleted { id } => {
                self.memories.remove(*id).ok_or_else(|| missing(*id))?;
            }
        }
        Ok(())
    }

    /// The memory with this id.
    pub fn find_unique(&self, id: MemoryId) -> Option<&Memory> {
        self.memories.get(id)
    }

    /// Memories passing `f`, ordered and limited.
    pub fn find_many(&self, f: &MemoriesFilter) -> Vec<Memory> {
        let limit = f.limit.unwrap_or(usize::MAX);
        let it = self.memories.values().filter(|m| f.matches(m));
        match f.order_by {
            MemoryOrder::IdAsc => it.take(limit).cloned().collect(),
            MemoryOrder::IdDesc => self
                .memories
                .values()
                .rev()
                .filter(|m| f.matches(m))
                .take(limit)
                .cloned()
                .collect(),
            MemoryOrder::CreatedDesc => {
                let mut v: Vec<&Memory> = it.collect();
                v.sort_by_key(|m| std::cmp::Reverse((m.created_ns, m.id)));
                v.into_iter().take(limit).cloned().collect()
            }
        }
    }

    /// How many memories pass `f`.
    pub fn count_where(&self, f: &MemoriesFilter) -> usize {
        self.memories.values().filter(|m| f.matches(m)).count()
    }

    /// Whether any memory passes `f`.
    pub fn exists_where(&self, f: &MemoriesFilter) -> bool {
        self.memories.values().any(|m| f.matches(m))
    }

    /// Number of memories.
    pub fn len(&self) -> usize {
        self.memories.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.memories.is_empty()
    }
}

fn memories_fold(st: &mut MemoriesState, ev: &CortexEvent<'_>) -> Result<(), FoldError> {
    let e: MemoryEvent =
        postcard::from_bytes(ev.payload).map_err(|e| FoldError(format!("decode: {e}")))?;
    if e.dispatch() != ev.meta.dispatch {
        return Err(FoldError("dispatch does not match the event".into()));
    }
    st.apply(&e)
}

fn config(origin_hash: u32) -> CortexConfig {
    CortexConfig {
        start: StartPosition::FromBeginning,
        on_error: FoldErrorPolicy::LogAndContinue,
        origin_hash,
    }
}

/// The memories model over one RedEX file (conventionally `cortex/memories`).
#[derive(Debug)]
pub struct Memories {
    adapter: CortexAdapter<MemoriesState>,
}

impl Memories {
    /// Opens the model, replaying the file from the beginning.
    pub fn open(file: RedexFile, origin_hash: u32) -> Result<Memories, CortexError> {
        let adapter = CortexAdapter::open(
            file,
            MemoriesState::default(),
            memories_fold,
            config(origin_hash),
        )?;
        Ok(Memories { adapter })
    }

    /// Restores from a snapshot and resumes after it.
    pub fn open_from_snapshot(
        file: RedexFile,
        origin_hash: u32,
        bytes: &[u8],
        last_seq: Option<u64>,
    ) -> Result<Memories, CortexError> {
        let adapter = CortexAdapter::open_from_snapshot(
            file,
            bytes,
            last_seq,
            memories_fold,
            config(origin_hash),
        )?;
        Ok(Memories { adapter })
    }

    fn emit(&self, ev: &MemoryEvent) -> Result<u64, CortexError> {
        self.adapter.append_encoded(ev.dispatch(), 0, ev)
    }

    /// Stores a memory; returns the event's seq.
    pub fn store(
        &self,
        id: MemoryId,
        content: &str,
        tags: &[&str],
        source: &str,
        now_ns: u64,
    ) -> Result<u64, CortexError> {
        self.emit(&MemoryEvent::Stored {
            id,
            content: content.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            source: source.into(),
            ts: now_ns,
        })
    }
    /// Replaces a memory's tags.
    pub fn retag(&self, id: MemoryId, tags: &[&str], now_ns: u64) -> Result<u64, CortexError> {
        self.emit(&MemoryEvent::Retagged {
            id,
            tags: tags.iter().map(|t| t.to_string()).collect(),
            ts: now_ns,
        })
    }
    /// Pins a memory.
    pub fn pin(&self, id: MemoryId, now_ns: u64) -> Result<u64, CortexError> {
        self.emit(&MemoryEvent::Pinned { id, ts: now_ns })
    }
    /// Unpins a memory.
    pub fn unpin(&self, id: MemoryId, now_ns: u64) -> Result<u64, CortexError> {
        self.emit(&MemoryEvent::Unpinned { id, ts: now_ns })
    }
    /// Deletes a memory.
    pub fn delete(&self, id: MemoryId) -> Result<u64, CortexError> {
        self.emit(&MemoryEvent::Deleted { id })
    }

    /// The adapter (state lock, `wait_for_seq`, `changes`, `snapshot`, `close`).
    pub fn adapter(&self) -> &CortexAdapter<MemoriesState> {
        &self.adapter
    }
    /// Waits until `seq` is folded.
    pub fn wait_for_seq(&self, seq: u64, timeout: Duration) -> Result<(), CortexError> {
        self.adapter.wait_for_seq(seq, timeout)
    }
    /// [`MemoriesState::find_unique`] under the read lock.
    pub fn find_unique(&self, id: MemoryId) -> Option<Memory> {
        self.adapter.state().read().find_unique(id).cloned()
    }
    /// [`MemoriesState::find_many`] under the read lock.
    pub fn find_many(&self, f: &MemoriesFilter) -> Vec<Memory> {
        self.adapter.state().read().find_many(f)
    }
    /// [`MemoriesState::count_where`] under the read lock.
    pub fn count_where(&self, f: &MemoriesFilter) -> usize {
        self.adapter.state().read().count_where(f)
    }
    /// [`MemoriesState::exists_where`] under the read lock.
    pub fn exists_where(&self, f: &MemoriesFilter) -> bool {
        self.adapter.state().read().exists_where(f)
    }

    /// A watch of `filter`: the current result, then each changed result.
    pub fn watch(&self, filter: MemoriesFilter) -> MemoriesWatch {
        MemoriesWatch {
            changes: self.adapter.changes(),
            shared: self.adapter.shared_state(),
            filter,
            last: None,
        }
    }
}

/// A reactive query over memories; see [`Memories::watch`]. Blocking (`recv_timeout`).
pub struct MemoriesWatch {
    changes: super::Changes<MemoriesState>,
    shared: Arc<super::adapter::Shared<MemoriesState>>,
    filter: MemoriesFilter,
    last: Option<Vec<Memory>>,
}

impl std::fmt::Debug for MemoriesWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoriesWatch")
            .field("filter", &self.filter)
            .finish_non_exhaustive()
    }
}

impl MemoriesWatch {
    /// The next distinct result (the initial one at once); `Ok(None)` on timeout,
    /// `Err(Closed)` once the fold has stopped.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<Option<Vec<Memory>>, CortexError> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let now = self.shared.state.read().find_many(&self.filter);
            if self.last.as_ref() != Some(&now) {
                self.last = Some(now.clone());
                return Ok(Some(now));
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.changes.recv_timeout(left) {
                None => return Ok(None),
                Some(None) => return Err(CortexError::Closed),
                Some(Some(_)) => {}
            }
        }
    }
}
