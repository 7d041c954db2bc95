//! The tasks model: mutate-by-id CRUD folded from dispatches `0x01..=0x04` (created, renamed,
//! completed, deleted), a query builder and Prisma-style shortcuts.
//!
//! Promises: the state is a pure function of the folded events (replay = live); queries never
//! see a half-applied event. Events about unknown ids (or a second create of an id) are fold
//! errors, counted under the model's `LogAndContinue` policy and otherwise ignored.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::adapter::{
    CortexAdapter, CortexConfig, CortexError, CortexEvent, FoldError, FoldErrorPolicy,
    StartPosition,
};
use super::idmap::IdMap;
use super::title::Title;
use crate::redex::RedexFile;

/// Dispatch of a task-created event.
pub const DISPATCH_CREATED: u8 = 0x01;
/// Dispatch of a task-renamed event.
pub const DISPATCH_RENAMED: u8 = 0x02;
/// Dispatch of a task-completed event.
pub const DISPATCH_COMPLETED: u8 = 0x03;
/// Dispatch of a task-deleted event.
pub const DISPATCH_DELETED: u8 = 0x04;
const _: () = assert!(DISPATCH_DELETED < super::meta::APP_DISPATCH_START);

/// A task id (chosen by the caller).
pub type TaskId = u64;

/// Status of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TaskStatus {
    /// Created, not completed.
    Pending,
    /// Completed.
    Completed,
}

/// One task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// Id.
    pub id: TaskId,
    /// Title (inline when short, so query results clone without atomics; see [`Title`]).
    pub title: Title,
    /// Status.
    pub status: TaskStatus,
    /// Creation time (unix nanos, from the event).
    pub created_ns: u64,
    /// Last change time (unix nanos, from the event).
    pub updated_ns: u64,
}

/// A task event (the payload after the EventMeta prefix is its postcard encoding).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskEvent {
    /// `0x01`.
    Created {
        /// Id.
        id: TaskId,
        /// Title.
        title: String,
        /// Time.
        ts: u64,
    },
    /// `0x02`.
    Renamed {
        /// Id.
        id: TaskId,
        /// New title.
        title: String,
        /// Time.
        ts: u64,
    },
    /// `0x03`.
    Completed {
        /// Id.
        id: TaskId,
        /// Time.
        ts: u64,
    },
    /// `0x04`.
    Deleted {
        /// Id.
        id: TaskId,
    },
}

impl TaskEvent {
    /// The dispatch byte of this event.
    pub fn dispatch(&self) -> u8 {
        self.borrowed().dispatch()
    }

    fn borrowed(&self) -> TaskEventRef<'_> {
        match self {
            TaskEvent::Created { id, title, ts } => TaskEventRef::Created {
                id: *id,
                title,
                ts: *ts,
            },
            TaskEvent::Renamed { id, title, ts } => TaskEventRef::Renamed {
                id: *id,
                title,
                ts: *ts,
            },
            TaskEvent::Completed { id, ts } => TaskEventRef::Completed { id: *id, ts: *ts },
            TaskEvent::Deleted { id } => TaskEventRef::Deleted { id: *id },
        }
    }
}

/// Borrowing mirror of [`TaskEvent`]: the same variants and fields in the same order, so the
/// same postcard bytes (tested). Encoding copies no title into a `String`; decoding borrows
/// the title from the log instead of allocating it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum TaskEventRef<'a> {
    Created { id: TaskId, title: &'a str, ts: u64 },
    Renamed { id: TaskId, title: &'a str, ts: u64 },
    Completed { id: TaskId, ts: u64 },
    Deleted { id: TaskId },
}

impl TaskEventRef<'_> {
    fn dispatch(&self) -> u8 {
        match self {
            TaskEventRef::Created { .. } => DISPATCH_CREATED,
            TaskEventRef::Renamed { .. } => DISPATCH_RENAMED,
            TaskEventRef::Completed { .. } => DISPATCH_COMPLETED,
            TaskEventRef::Deleted { .. } => DISPATCH_DELETED,
        }
    }
}

/// Sort order of query results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum TaskOrder {
    /// By id ascending (the default).
    #[default]
    IdAsc,
    /// By id descending.
    IdDesc,
    /// By creation time, then id.
    CreatedAsc,
    /// By creation time descending, then id descending.
    CreatedDesc,
    /// By last change time descending, then id descending.
    UpdatedDesc,
}

/// A query over tasks (plain data, so it crosses language boundaries unchanged).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TasksFilter {
    /// Only this status.
    pub status: Option<TaskStatus>,
    /// Only titles containing this substring.
    pub title_contains: Option<String>,
    /// Only tasks created at or after this time.
    pub created_after: Option<u64>,
    /// Only tasks created before this time.
    pub created_before: Option<u64>,
    /// Result order.
    pub order_by: TaskOrder,
    /// At most this many results.
    pub limit: Option<usize>,
}

impl TasksFilter {
    /// Whether `t` passes the predicates (order and limit aside).
    pub fn matches(&self, t: &Task) -> bool {
        self.status.is_none_or(|s| t.status == s)
            && self
                .title_contains
                .as_deref()
                .is_none_or(|s| t.title.contains(s))
            && self.created_after.is_none_or(|a| t.created_ns >= a)
            && self.created_before.is_none_or(|b| t.created_ns < b)
    }
}

/// The folded state: tasks by id. Serialized as a map from id to task in ascending id order
/// (the snapshot format); held in an [`IdMap`], which inserts increasing ids cheaply.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TasksState {
    tasks: IdMap<Task>,
}

impl TasksState {
    /// Applies one event (the fold).
    pub fn apply(&mut self, ev: &TaskEvent) -> Result<(), FoldError> {
        self.apply_ref(ev.borrowed())
    }

    fn apply_ref(&mut self, ev: TaskEventRef<'_>) -> Result<(), FoldError> {
        let missing = |id| FoldError(format!("task {id} does not exist"));
        match ev {
            TaskEventRef::Created { id, title, ts } => {
                let new = self.tasks.insert_new(id, || Task {
                    id,
                    title: Title::from(title),
                    status: TaskStatus::Pending,
                    created_ns: ts,
                    updated_ns: ts,
                });
                if !new {
                    return Err(FoldError(format!("task {id} already exists")));
                }
            }
            TaskEventRef::Renamed { id, title, ts } => {
                let t = self.tasks.get_mut(id).ok_or_else(|| missing(id))?;
                t.title = Title::from(title);
                t.updated_ns = ts;
            }
            TaskEventRef::Completed { id, ts } => {
                let t = self.tasks.get_mut(id).ok_or_else(|| missing(id))?;
                t.status = TaskStatus::Completed;
                t.updated_ns = ts;
            }
            TaskEventRef::Deleted { id } => {
                self.tasks.remove(id).ok_or_else(|| missing(id))?;
            }
        }
        Ok(())
    }

    /// The task with this id.
    pub fn find_unique(&self, id: TaskId) -> Option<&Task> {
        self.tasks.get(id)
    }

    /// Tasks passing `f`, ordered and limited.
    ///
    /// Matches are gathered as references first and cloned in one pass into an exactly sized
    /// result: a clone pushed straight from the filtering iterator was built in a stack
    /// temporary (kept across the push's possible reallocation) and copied again, and that
    /// copy's wide reload stalled on store forwarding for every result.
    pub fn find_many(&self, f: &TasksFilter) -> Vec<Task> {
        let limit = f.limit.unwrap_or(usize::MAX);
        let matching = self.tasks.values().filter(|t| f.matches(t));
        let mut v: Vec<&Task> = match f.order_by {
            TaskOrder::IdAsc => matching.take(limit).collect(),
            TaskOrder::IdDesc => self
                .tasks
                .values()
                .rev()
                .filter(|t| f.matches(t))
                .take(limit)
                .collect(),
            order => {
                let mut v: Vec<&Task> = matching.collect();
                match order {
                    TaskOrder::CreatedAsc => v.sort_by_key(|t| (t.created_ns, t.id)),
                    TaskOrder::CreatedDesc => {
                        v.sort_by_key(|t| std::cmp::Reverse((t.created_ns, t.id)))
                    }
                    _ => v.sort_by_key(|t| std::cmp::Reverse((t.updated_ns, t.id))),
                }
                v
            }
        };
        v.truncate(limit);
        v.into_iter().cloned().collect()
    }

    /// How many tasks pass `f` (order and limit ignored).
    pub fn count_where(&self, f: &TasksFilter) -> usize {
        self.tasks.values().filter(|t| f.matches(t)).count()
    }

    /// Whether any task passes `f`.
    pub fn exists_where(&self, f: &TasksFilter) -> bool {
        self.tasks.values().any(|t| f.matches(t))
    }

    /// Number of tasks.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether there are no tasks.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// A query builder over this state.
    pub fn query(&self) -> TasksQuery<'_> {
        TasksQuery {
            state: self,
            filter: TasksFilter::default(),
        }
    }
}

/// A fluent query: `state.query().where_status(..).order_by(..).limit(n).collect()`.
#[derive(Debug, Clone)]
pub struct TasksQuery<'a> {
    state: &'a TasksState,
    filter: TasksFilter,
}

impl TasksQuery<'_> {
    /// Only this status.
    pub fn where_status(mut self, s: TaskStatus) -> Self {
        self.filter.status = Some(s);
        self
    }
    /// Only titles containing `s`.
    pub fn title_contains(mut self, s: impl Into<String>) -> Self {
        self.filter.title_contains = Some(s.into());
        self
    }
    /// Only tasks created at or after `ts`.
    pub fn created_after(mut self, ts: u64) -> Self {
        self.filter.created_after = Some(ts);
        self
    }
    /// Only tasks created before `ts`.
    pub fn created_before(mut self, ts: u64) -> Self {
        self.filter.created_before = Some(ts);
        self
    }
    /// Result order.
    pub fn order_by(mut self, o: TaskOrder) -> Self {
        self.filter.order_by = o;
        self
    }
    /// At most `n` results.
    pub fn limit(mut self, n: usize) -> Self {
        self.filter.limit = Some(n);
        self
    }
    /// The filter built so far.
    pub fn filter(&self) -> &TasksFilter {
        &self.filter
    }
    /// Runs the query.
    pub fn collect(&self) -> Vec<Task> {
        self.state.find_many(&self.filter)
    }
    /// Counts matches.
    pub fn count(&self) -> usize {
        self.state.count_where(&self.filter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrowed_events_encode_and_decode_like_owned_ones() {
        let owned = [
            TaskEvent::Created {
                id: 7,
                title: "write the plan".into(),
                ts: 1 << 40,
            },
            TaskEvent::Renamed {
                id: u64::MAX,
                title: String::new(),
                ts: 3,
            },
            TaskEvent::Completed { id: 0, ts: 9 },
            TaskEvent::Deleted { id: 300 },
        ];
        for ev in &owned {
            let a = postcard::to_allocvec(ev).unwrap();
            let b = postcard::to_allocvec(&ev.borrowed()).unwrap();
            assert_eq!(a, b, "{ev:?}");
            let back: TaskEventRef<'_> = postcard::from_bytes(&a).unwrap();
            assert_eq!(back, ev.borrowed());
            assert_eq!(back.dispatch(), ev.dispatch());
        }
    }
}

fn tasks_fold(st: &mut TasksState, ev: &CortexEvent<'_>) -> Result<(), FoldError> {
    let e: TaskEventRef<'_> =
        postcard::from_bytes(ev.payload).map_err(|e| FoldError(format!("decode: {e}")))?;
    if e.dispatch() != ev.meta.dispatch {
        return Err(FoldError("dispatch does not match the event".into()));
    }
    st.apply_ref(e)
}

/// The tasks model over one RedEX file (conventionally `cortex/tasks`).
#[derive(Debug)]
pub struct Tasks {
    adapter: CortexAdapter<TasksState>,
}

impl Tasks {
    /// Opens the model, replaying the file from the beginning.
    pub fn open(file: RedexFile, origin_hash: u32) -> Result<Tasks, CortexError> {
        let config = CortexConfig {
            start: StartPosition::FromBeginning,
            on_error: FoldErrorPolicy::LogAndContinue,
            origin_hash,
        };
        Ok(Tasks {
            adapter: CortexAdapter::open(file, TasksState::default(), tasks_fold, config)?,
        })
    }

    /// Restores from a snapshot (see [`CortexAdapter::snapshot`]) and resumes after it.
    pub fn open_from_snapshot(
        file: RedexFile,
        origin_hash: u32,
        bytes: &[u8],
        last_seq: Option<u64>,
    ) -> Result<Tasks, CortexError> {
        let config = CortexConfig {
            start: StartPosition::FromBeginning,
            on_error: FoldErrorPolicy::LogAndContinue,
            origin_hash,
        };
        Ok(Tasks {
            adapter: CortexAdapter::open_from_snapshot(file, bytes, last_seq, tasks_fold, config)?,
        })
    }

    fn emit(&self, ev: TaskEventRef<'_>) -> Result<u64, CortexError> {
        self.adapter.append_encoded(ev.dispatch(), 0, &ev)
    }

    /// Creates a task; returns the event's seq.
    pub fn create(&self, id: TaskId, title: &str, now_ns: u64) -> Result<u64, CortexError> {
        self.emit(TaskEventRef::Created {
            id,
            title,
            ts: now_ns,
        })
    }
    /// Renames a task.
    pub fn rename(&self, id: TaskId, title: &str, now_ns: u64) -> Result<u64, CortexError> {
        self.emit(TaskEventRef::Renamed {
            id,
            title,
            ts: now_ns,
        })
    }
    /// Completes a task.
    pub fn complete(&self, id: TaskId, now_ns: u64) -> Result<u64, CortexError> {
        self.emit(TaskEventRef::Completed { id, ts: now_ns })
    }
    /// Deletes a task.
    pub fn delete(&self, id: TaskId) -> Result<u64, CortexError> {
        self.emit(TaskEventRef::Deleted { id })
    }

    /// The adapter (state lock, `wait_for_seq`, `changes`, `snapshot`, `close`).
    pub fn adapter(&self) -> &CortexAdapter<TasksState> {
        &self.adapter
    }

    /// Waits until `seq` is folded.
    pub fn wait_for_seq(&self, seq: u64, timeout: Duration) -> Result<(), CortexError> {
        self.adapter.wait_for_seq(seq, timeout)
    }

    /// [`TasksState::find_unique`] under the read lock.
    pub fn find_unique(&self, id: TaskId) -> Option<Task> {
        self.adapter.state().read().find_unique(id).cloned()
    }
    /// [`TasksState::find_many`] under the read lock.
    pub fn find_many(&self, f: &TasksFilter) -> Vec<Task> {
        self.adapter.state().read().find_many(f)
    }
    /// [`TasksState::count_where`] under the read lock.
    pub fn count_where(&self, f: &TasksFilter) -> usize {
        self.adapter.state().read().count_where(f)
    }
    /// [`TasksState::exists_where`] under the read lock.
    pub fn exists_where(&self, f: &TasksFilter) -> bool {
        self.adapter.state().read().exists_where(f)
    }

    /// A watch of `filter`: yields the current result, then each changed result (deduplicated
    /// by equality; a slow reader sees only the latest).
    pub fn watch(&self, filter: TasksFilter) -> TasksWatch {
        TasksWatch {
            changes: self.adapter.changes(),
            state: self.adapter.shared_state(),
            filter,
            last: None,
        }
    }
}

/// A reactive query over tasks; see [`Tasks::watch`]. Blocking (`recv_timeout`).
pub struct TasksWatch {
    changes: super::Changes<TasksState>,
    state: std::sync::Arc<super::adapter::Shared<TasksState>>,
    filter: TasksFilter,
    last: Option<Vec<Task>>,
}

impl std::fmt::Debug for TasksWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TasksWatch")
            .field("filter", &self.filter)
            .finish_non_exhaustive()
    }
}

impl TasksWatch {
    /// The next distinct result: the initial one at once, then waits up to `timeout` for a
    /// change. `Ok(None)` on timeout; `Err(Closed)` once the fold has stopped.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<Option<Vec<Task>>, CortexError> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let now = self.state.state.read().find_many(&self.filter);
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
