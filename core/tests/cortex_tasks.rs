//! The tasks model: CRUD through the fold, queries, replay, snapshot, watch, and a property
//! test of the query engine against a naive reference.

use std::time::Duration;

use net::cortex::tasks::{Task, TaskEvent, TaskOrder, TaskStatus, Tasks, TasksFilter, TasksState};
use net::redex::{RedexFile, RedexFileConfig};
use proptest::prelude::*;

const W: Duration = Duration::from_secs(10);

#[test]
fn crud_queries_replay_snapshot() {
    let file = RedexFile::open("cortex/tasks", None, RedexFileConfig::heap()).unwrap();
    let tasks = Tasks::open(file.clone(), 7).unwrap();
    for id in 0..100u64 {
        tasks.create(id, &format!("task {id}"), 1000 + id).unwrap();
    }
    for id in (0..100u64).step_by(3) {
        tasks.complete(id, 5000).unwrap();
    }
    tasks.rename(1, "renamed", 6000).unwrap();
    let last = tasks.delete(2).unwrap();
    tasks.wait_for_seq(last, W).unwrap();

    assert_eq!(&*tasks.find_unique(1).unwrap().title, "renamed");
    assert!(tasks.find_unique(2).is_none());
    let done = TasksFilter {
        status: Some(TaskStatus::Completed),
        ..Default::default()
    };
    assert_eq!(tasks.count_where(&done), 34);
    assert!(tasks.exists_where(&done));
    let q = tasks
        .adapter()
        .state()
        .read()
        .query()
        .where_status(TaskStatus::Pending)
        .order_by(TaskOrder::IdDesc)
        .limit(3)
        .collect();
    assert_eq!(q.iter().map(|t| t.id).collect::<Vec<_>>(), vec![98, 97, 95]);

    // Unknown ids are counted fold errors, not a halt.
    let bad = tasks.complete(12345, 1).unwrap();
    tasks.wait_for_seq(bad, W).unwrap();
    assert_eq!(tasks.adapter().error_count(), 1);

    let replay = Tasks::open(file.clone(), 7).unwrap();
    replay.wait_for_seq(bad, W).unwrap();
    assert_eq!(
        *replay.adapter().state().read(),
        *tasks.adapter().state().read()
    );

    let (snap, at) = tasks.adapter().snapshot().unwrap();
    let more = tasks.create(500, "after snapshot", 9000).unwrap();
    tasks.wait_for_seq(more, W).unwrap();
    let resumed = Tasks::open_from_snapshot(file, 7, &snap, at).unwrap();
    resumed.wait_for_seq(more, W).unwrap();
    assert_eq!(
        *resumed.adapter().state().read(),
        *tasks.adapter().state().read()
    );
}

#[test]
fn watch_emits_initial_then_changes_only() {
    let file = RedexFile::open("cortex/tasks", None, RedexFileConfig::heap()).unwrap();
    let tasks = Tasks::open(file, 1).unwrap();
    let s = tasks.create(1, "a", 1).unwrap();
    tasks.wait_for_seq(s, W).unwrap();
    let mut w = tasks.watch(TasksFilter {
        status: Some(TaskStatus::Completed),
        ..Default::default()
    });
    assert_eq!(w.recv_timeout(W).unwrap(), Some(vec![]));
    // A change outside the filter's result emits nothing.
    tasks.create(2, "b", 2).unwrap();
    assert_eq!(w.recv_timeout(Duration::from_millis(200)).unwrap(), None);
    tasks.complete(1, 3).unwrap();
    let got = w.recv_timeout(W).unwrap().unwrap();
    assert_eq!(got.iter().map(|t| t.id).collect::<Vec<_>>(), vec![1]);
    tasks.adapter().close();
    assert!(w.recv_timeout(W).is_err());
}

fn naive(tasks: &[Task], f: &TasksFilter) -> Vec<Task> {
    let mut v: Vec<Task> = tasks
        .iter()
        .filter(|t| {
            f.status.is_none_or(|s| t.status == s)
                && f.title_contains
                    .as_ref()
                    .is_none_or(|s| t.title.contains(s.as_str()))
                && f.created_after.is_none_or(|a| t.created_ns >= a)
                && f.created_before.is_none_or(|b| t.created_ns < b)
        })
        .cloned()
        .collect();
    use std::cmp::Reverse;
    match f.order_by {
        TaskOrder::IdAsc => v.sort_by_key(|t| t.id),
        TaskOrder::IdDesc => v.sort_by_key(|t| Reverse(t.id)),
        TaskOrder::CreatedAsc => v.sort_by_key(|t| (t.created_ns, t.id)),
        TaskOrder::CreatedDesc => v.sort_by_key(|t| Reverse((t.created_ns, t.id))),
        TaskOrder::UpdatedDesc => v.sort_by_key(|t| Reverse((t.updated_ns, t.id))),
    }
    v.truncate(f.limit.unwrap_or(usize::MAX));
    v
}

fn event() -> impl Strategy<Value = TaskEvent> {
    let id = 0u64..20;
    // The last title is longer than `Title`'s inline limit, so both representations occur.
    let title = prop::sample::select(vec![
        "alpha",
        "beta",
        "gamma",
        "alphabet",
        "a beta title too long to be stored inline",
    ]);
    prop_oneof![
        (id.clone(), title.clone(), 0u64..50).prop_map(|(id, t, ts)| TaskEvent::Created {
            id,
            title: t.into(),
            ts
        }),
        (id.clone(), title, 0u64..50).prop_map(|(id, t, ts)| TaskEvent::Renamed {
            id,
            title: t.into(),
            ts
        }),
        (id.clone(), 0u64..50).prop_map(|(id, ts)| TaskEvent::Completed { id, ts }),
        id.prop_map(|id| TaskEvent::Deleted { id }),
    ]
}

fn filter() -> impl Strategy<Value = TasksFilter> {
    (
        prop::option::of(prop_oneof![
            Just(TaskStatus::Pending),
            Just(TaskStatus::Completed)
        ]),
        prop::option::of(prop::sample::select(vec!["alpha", "bet", "z"])),
        prop::option::of(0u64..50),
        prop::option::of(0u64..50),
        prop_oneof![
            Just(TaskOrder::IdAsc),
            Just(TaskOrder::IdDesc),
            Just(TaskOrder::CreatedAsc),
            Just(TaskOrder::CreatedDesc),
            Just(TaskOrder::UpdatedDesc)
        ],
        prop::option::of(0usize..10),
    )
        .prop_map(
            |(status, title, after, before, order_by, limit)| TasksFilter {
                status,
                title_contains: title.map(String::from),
                created_after: after,
                created_before: before,
                order_by,
                limit,
            },
        )
}

proptest! {
    #[test]
    fn query_engine_matches_naive_reference(events in prop::collection::vec(event(), 0..80), filters in prop::collection::vec(filter(), 1..6)) {
        let mut state = TasksState::default();
        let mut reference: Vec<Task> = Vec::new();
        for e in &events {
            let ok = state.apply(e).is_ok();
            // Naive reference semantics.
            let pos = |id: u64, r: &Vec<Task>| r.iter().position(|t| t.id == id);
            let ref_ok = match e {
                TaskEvent::Created { id, title, ts } => match pos(*id, &reference) {
                    Some(_) => false,
                    None => { reference.push(Task { id: *id, title: title.as_str().into(), status: TaskStatus::Pending, created_ns: *ts, updated_ns: *ts }); true }
                },
                TaskEvent::Renamed { id, title, ts } => match pos(*id, &reference) {
                    Some(i) => { reference[i].title = title.as_str().into(); reference[i].updated_ns = *ts; true }
                    None => false,
                },
                TaskEvent::Completed { id, ts } => match pos(*id, &reference) {
                    Some(i) => { reference[i].status = TaskStatus::Completed; reference[i].updated_ns = *ts; true }
                    None => false,
                },
                TaskEvent::Deleted { id } => match pos(*id, &reference) {
                    Some(i) => { reference.remove(i); true }
                    None => false,
                },
            };
            prop_assert_eq!(ok, ref_ok);
        }
        for f in &filters {
            let want = naive(&reference, f);
            prop_assert_eq!(state.find_many(f), want.clone());
            let mut unlimited = f.clone();
            unlimited.limit = None;
            prop_assert_eq!(state.count_where(f), naive(&reference, &unlimited).len());
            prop_assert_eq!(state.exists_where(f), !naive(&reference, &unlimited).is_empty());
        }
    }
}

/// The snapshot of the tasks state is a postcard map from id to task in ascending id order,
/// byte for byte what a `BTreeMap<u64, Task>` encodes to, whatever order ids arrived in.
#[test]
fn snapshot_bytes_are_an_ascending_id_map() {
    let file = RedexFile::open("cortex/tasks", None, RedexFileConfig::heap()).unwrap();
    let tasks = Tasks::open(file, 3).unwrap();
    let mut last = 0;
    // Increasing, decreasing and interleaved ids, some completed and some deleted.
    let ids: Vec<u64> = (0..300)
        .chain((1000..1200).rev())
        .chain((0..200).map(|i| 500 + (i * 37) % 200))
        .collect();
    for (k, &id) in ids.iter().enumerate() {
        last = tasks.create(id, &format!("t{id}"), k as u64).unwrap();
        if id % 5 == 0 {
            last = tasks.complete(id, k as u64 + 1).unwrap();
        }
        if id % 7 == 0 {
            last = tasks.delete(id).unwrap();
        }
    }
    tasks.wait_for_seq(last, W).unwrap();
    assert_eq!(tasks.adapter().error_count(), 0);
    let all = tasks.find_many(&TasksFilter::default());
    let want: std::collections::BTreeMap<u64, Task> =
        all.iter().map(|t| (t.id, t.clone())).collect();
    assert_eq!(all.len(), want.len());
    assert!(all.windows(2).all(|w| w[0].id < w[1].id), "IdAsc order");
    let (snap, _) = tasks.adapter().snapshot().unwrap();
    assert_eq!(snap, postcard::to_allocvec(&want).unwrap());
    let back: TasksState = postcard::from_bytes(&snap).unwrap();
    assert_eq!(back, *tasks.adapter().state().read());
}
