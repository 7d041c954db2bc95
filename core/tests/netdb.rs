//! The memories model and the NetDB facade: tag queries, watch, coexistence with tasks,
//! whole-db snapshot and restore, failure-atomic build.

use std::time::Duration;

use net::cortex::memories::{MemoriesFilter, MemoryOrder};
use net::cortex::tasks::{TaskStatus, TasksFilter};
use net::netdb::{NetDb, NetDbError, NetDbSnapshot};
use net::redex::{Redex, RedexFileConfig};

const W: Duration = Duration::from_secs(10);

#[test]
fn memories_tag_queries_pin_and_watch() {
    let db = NetDb::builder(Redex::new())
        .origin(9)
        .with_memories()
        .build()
        .unwrap();
    let m = db.memories().unwrap();
    assert!(matches!(db.tasks(), Err(NetDbError::MissingModel("tasks"))));
    m.store(1, "rust is fast", &["lang", "rust"], "chat", 10)
        .unwrap();
    m.store(2, "go is simple", &["lang", "go"], "chat", 20)
        .unwrap();
    m.store(3, "buy milk", &["todo"], "note", 30).unwrap();
    m.pin(3, 31).unwrap();
    let last = m.retag(2, &["go", "lang", "lang"], 40).unwrap();
    m.wait_for_seq(last, W).unwrap();
    let ids = |f: &MemoriesFilter| m.find_many(f).iter().map(|x| x.id).collect::<Vec<_>>();
    assert_eq!(
        ids(&MemoriesFilter {
            tag: Some("lang".into()),
            ..Default::default()
        }),
        vec![1, 2]
    );
    assert_eq!(
        ids(&MemoriesFilter {
            any_tags: Some(vec!["rust".into(), "todo".into()]),
            ..Default::default()
        }),
        vec![1, 3]
    );
    assert_eq!(
        ids(&MemoriesFilter {
            all_tags: Some(vec!["lang".into(), "go".into()]),
            ..Default::default()
        }),
        vec![2]
    );
    assert_eq!(
        ids(&MemoriesFilter {
            pinned: Some(true),
            ..Default::default()
        }),
        vec![3]
    );
    assert_eq!(
        ids(&MemoriesFilter {
            source: Some("chat".into()),
            order_by: MemoryOrder::CreatedDesc,
            ..Default::default()
        }),
        vec![2, 1]
    );
    assert_eq!(m.find_unique(2).unwrap().tags, vec!["go", "lang"]);

    let mut w = m.watch(MemoriesFilter {
        pinned: Some(true),
        ..Default::default()
    });
    assert_eq!(w.recv_timeout(W).unwrap().unwrap().len(), 1);
    m.store(4, "unrelated", &[], "x", 50).unwrap();
    assert_eq!(w.recv_timeout(Duration::from_millis(200)).unwrap(), None);
    m.unpin(3, 60).unwrap();
    assert_eq!(w.recv_timeout(W).unwrap(), Some(vec![]));
    m.delete(1).unwrap();
}

#[test]
fn whole_db_snapshot_restores_both_models() {
    let redex = Redex::new();
    let db = NetDb::builder(redex.clone())
        .origin(1)
        .with_tasks()
        .with_memories()
        .build()
        .unwrap();
    let t = db.tasks().unwrap();
    let m = db.memories().unwrap();
    for id in 0..50 {
        t.create(id, "task", id).unwrap();
        m.store(id, "memory", &["a"], "s", id).unwrap();
    }
    let s1 = t.complete(7, 100).unwrap();
    let s2 = m.pin(7, 100).unwrap();
    t.wait_for_seq(s1, W).unwrap();
    m.wait_for_seq(s2, W).unwrap();
    // Models never see each other's events.
    assert_eq!(t.adapter().error_count(), 0);
    assert_eq!(m.adapter().error_count(), 0);

    let snap = db.snapshot().unwrap();
    let blob = snap.encode().unwrap();
    let decoded = NetDbSnapshot::decode(&blob).unwrap();
    assert_eq!(decoded, snap);
    let tasks_state = t.adapter().state().read().clone();
    let mem_state = m.adapter().state().read().clone();
    db.close().unwrap();

    // Restore onto fresh (empty) files: the state comes from the snapshot alone.
    let db2 = NetDb::builder(Redex::new())
        .with_tasks()
        .with_memories()
        .build_from_snapshot(&decoded)
        .unwrap();
    assert_eq!(*db2.tasks().unwrap().adapter().state().read(), tasks_state);
    assert_eq!(*db2.memories().unwrap().adapter().state().read(), mem_state);
    let done = TasksFilter {
        status: Some(TaskStatus::Completed),
        ..Default::default()
    };
    assert_eq!(db2.tasks().unwrap().count_where(&done), 1);
    assert!(NetDbSnapshot::decode(b"\xff\xff").is_err());
}

#[test]
fn build_is_failure_atomic() {
    let redex = Redex::new();
    let err = NetDb::builder(redex.clone())
        .with_tasks()
        .with_memories_on("bad//name")
        .build()
        .unwrap_err();
    assert!(matches!(err, NetDbError::Cortex(_)));
    assert!(
        redex.channels().is_empty(),
        "the tasks file was left open: {:?}",
        redex.channels()
    );
    let e: net::Error = err.into();
    assert_eq!(e.kind(), net::ErrorKind::InvalidArgument);
    // A persistent file needs a base directory.
    assert!(
        NetDb::builder(Redex::new())
            .with_tasks()
            .file_config(RedexFileConfig::persistent(Default::default()))
            .build()
            .is_err()
    );
}

mod prop_memories {
    use net::cortex::memories::{MemoriesFilter, MemoriesState, Memory, MemoryEvent, MemoryOrder};
    use proptest::prelude::*;

    const TAGS: [&str; 4] = ["a", "b", "c", "d"];

    fn tags() -> impl Strategy<Value = Vec<String>> {
        prop::collection::vec(
            prop::sample::select(TAGS.to_vec()).prop_map(String::from),
            0..4,
        )
    }

    fn event() -> impl Strategy<Value = MemoryEvent> {
        let id = 0u64..15;
        prop_oneof![
            (
                id.clone(),
                tags(),
                prop::sample::select(vec!["x", "y"]),
                0u64..40
            )
                .prop_map(|(id, tags, src, ts)| MemoryEvent::Stored {
                    id,
                    content: format!("c{id}"),
                    tags,
                    source: src.into(),
                    ts
                }),
            (id.clone(), tags(), 0u64..40).prop_map(|(id, tags, ts)| MemoryEvent::Retagged {
                id,
                tags,
                ts
            }),
            (id.clone(), 0u64..40).prop_map(|(id, ts)| MemoryEvent::Pinned { id, ts }),
            (id.clone(), 0u64..40).prop_map(|(id, ts)| MemoryEvent::Unpinned { id, ts }),
            id.prop_map(|id| MemoryEvent::Deleted { id }),
        ]
    }

    fn filter() -> impl Strategy<Value = MemoriesFilter> {
        let tag = prop::sample::select(TAGS.to_vec()).prop_map(String::from);
        (
            prop::option::of(tag),
            prop::option::of(tags()),
            prop::option::of(tags()),
            prop::option::of(prop::sample::select(vec!["x", "y"]).prop_map(String::from)),
            prop::option::of(any::<bool>()),
            prop_oneof![
                Just(MemoryOrder::IdAsc),
                Just(MemoryOrder::IdDesc),
                Just(MemoryOrder::CreatedDesc)
            ],
            prop::option::of(0usize..8),
        )
            .prop_map(
                |(tag, any_tags, all_tags, source, pinned, order_by, limit)| MemoriesFilter {
                    tag,
                    any_tags,
                    all_tags,
                    source,
                    pinned,
                    content_contains: None,
                    order_by,
                    limit,
                },
            )
    }

    fn naive(all: &[Memory], f: &MemoriesFilter) -> Vec<Memory> {
        let has = |m: &Memory, t: &String| m.tags.contains(t);
        let mut v: Vec<Memory> = all
            .iter()
            .filter(|m| {
                f.tag.as_ref().is_none_or(|t| has(m, t))
                    && f.any_tags
                        .as_ref()
                        .is_none_or(|ts| ts.iter().any(|t| has(m, t)))
                    && f.all_tags
                        .as_ref()
                        .is_none_or(|ts| ts.iter().all(|t| has(m, t)))
                    && f.source.as_ref().is_none_or(|s| &m.source == s)
                    && f.pinned.is_none_or(|p| m.pinned == p)
            })
            .cloned()
            .collect();
        match f.order_by {
            MemoryOrder::IdAsc => v.sort_by_key(|m| m.id),
            MemoryOrder::IdDesc => v.sort_by_key(|m| std::cmp::Reverse(m.id)),
            MemoryOrder::CreatedDesc => v.sort_by_key(|m| std::cmp::Reverse((m.created_ns, m.id))),
        }
        v.truncate(f.limit.unwrap_or(usize::MAX));
        v
    }

    proptest! {
        #[test]
        fn memories_query_engine_matches_naive_reference(events in prop::collection::vec(event(), 0..60), filters in prop::collection::vec(filter(), 1..6)) {
            let mut state = MemoriesState::default();
            let mut reference: Vec<Memory> = Vec::new();
            for e in &events {
                let applied = state.apply(e).is_ok();
                let pos = reference.iter().position(|m| Some(m.id) == match e {
                    MemoryEvent::Stored { id, .. } | MemoryEvent::Retagged { id, .. } | MemoryEvent::Pinned { id, .. } | MemoryEvent::Unpinned { id, .. } | MemoryEvent::Deleted { id } => Some(*id),
                });
                let norm = |t: &Vec<String>| { let mut t = t.clone(); t.sort(); t.dedup(); t };
                let ok = match (e, pos) {
                    (MemoryEvent::Stored { id, content, tags, source, ts }, None) => {
                        reference.push(Memory { id: *id, content: content.clone(), tags: norm(tags), source: source.clone(), pinned: false, created_ns: *ts, updated_ns: *ts });
                        true
                    }
                    (MemoryEvent::Retagged { tags, ts, .. }, Some(i)) => { reference[i].tags = norm(tags); reference[i].updated_ns = *ts; true }
                    (MemoryEvent::Pinned { ts, .. }, Some(i)) => { reference[i].pinned = true; reference[i].updated_ns = *ts; true }
                    (MemoryEvent::Unpinned { ts, .. }, Some(i)) => { reference[i].pinned = false; reference[i].updated_ns = *ts; true }
                    (MemoryEvent::Deleted { .. }, Some(i)) => { reference.remove(i); true }
                    _ => false,
                };
                prop_assert_eq!(applied, ok);
            }
            for f in &filters {
                prop_assert_eq!(state.find_many(f), naive(&reference, f));
                let mut unlimited = f.clone();
                unlimited.limit = None;
                prop_assert_eq!(state.count_where(f), naive(&reference, &unlimited).len());
            }
        }
    }
}
