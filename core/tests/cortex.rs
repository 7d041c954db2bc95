//! CortEX folds: live = replay, snapshot + resume = replay, wait_for_seq, error policies,
//! start positions and the changes stream.

use std::collections::BTreeMap;
use std::time::Duration;

use net::cortex::{
    CortexAdapter, CortexConfig, CortexEvent, FoldError, FoldErrorPolicy, StartPosition,
};
use net::redex::{RedexFile, RedexFileConfig};

/// State: a key -> value map plus an ordered log of applied seqs.
#[derive(Default, Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Kv {
    map: BTreeMap<u8, u64>,
    applied: Vec<u64>,
}

fn kv_fold(st: &mut Kv, ev: &CortexEvent<'_>) -> Result<(), FoldError> {
    if ev.meta.dispatch == 0xFF {
        return Err(FoldError(format!("poison at {}", ev.seq)));
    }
    let v = ev.payload.iter().map(|&b| u64::from(b)).sum::<u64>();
    *st.map.entry(ev.meta.dispatch).or_default() += v;
    st.applied.push(ev.seq);
    Ok(())
}

fn cfg(start: StartPosition, on_error: FoldErrorPolicy) -> CortexConfig {
    CortexConfig {
        start,
        on_error,
        origin_hash: 0xABCD,
    }
}

const W: Duration = Duration::from_secs(10);

#[test]
fn live_state_equals_replay_and_snapshot_resume_equals_replay() {
    let file = RedexFile::open("c", None, RedexFileConfig::heap()).unwrap();
    let live = CortexAdapter::open(
        file.clone(),
        Kv::default(),
        kv_fold,
        cfg(StartPosition::FromBeginning, FoldErrorPolicy::Stop),
    )
    .unwrap();
    let mut last = 0;
    for i in 0..500u32 {
        last = live
            .append((i % 7) as u8 + 0x80, 0, &i.to_le_bytes())
            .unwrap();
        if i == 250 {
            live.wait_for_seq(last, W).unwrap();
        }
    }
    live.wait_for_seq(last, W).unwrap();
    let (snap, snap_seq) = {
        // Snapshot taken mid-stream: append more afterwards.
        live.snapshot().unwrap()
    };
    for i in 500..800u32 {
        last = live
            .append((i % 7) as u8 + 0x80, 0, &i.to_le_bytes())
            .unwrap();
    }
    live.wait_for_seq(last, W).unwrap();
    let live_state = live.state().read().clone();
    assert_eq!(live_state.applied.len(), 800);

    let replay = CortexAdapter::open(
        file.clone(),
        Kv::default(),
        kv_fold,
        cfg(StartPosition::FromBeginning, FoldErrorPolicy::Stop),
    )
    .unwrap();
    replay.wait_for_seq(last, W).unwrap();
    assert_eq!(*replay.state().read(), live_state);

    let resumed = CortexAdapter::open_from_snapshot(
        file,
        &snap,
        snap_seq,
        kv_fold,
        cfg(StartPosition::FromBeginning, FoldErrorPolicy::Stop),
    )
    .unwrap();
    resumed.wait_for_seq(last, W).unwrap();
    assert_eq!(*resumed.state().read(), live_state);
    assert!(
        CortexAdapter::<Kv>::open_from_snapshot(
            live.file().clone(),
            &snap,
            Some(u64::MAX),
            kv_fold,
            CortexConfig::default()
        )
        .is_err()
    );
}

#[test]
fn wait_for_seq_sees_the_write() {
    let file = RedexFile::open("w", None, RedexFileConfig::heap()).unwrap();
    let a = CortexAdapter::open(file, Kv::default(), kv_fold, CortexConfig::default()).unwrap();
    for i in 0..200u8 {
        let seq = a.append(0x81, 0, &[i]).unwrap();
        a.wait_for_seq(seq, W).unwrap();
        assert_eq!(a.state().read().applied.last(), Some(&seq));
    }
}

#[test]
fn stop_policy_halts_and_log_and_continue_counts() {
    let file = RedexFile::open("e", None, RedexFileConfig::heap()).unwrap();
    let stop = CortexAdapter::open(
        file.clone(),
        Kv::default(),
        kv_fold,
        cfg(StartPosition::FromBeginning, FoldErrorPolicy::Stop),
    )
    .unwrap();
    let go = CortexAdapter::open(
        file.clone(),
        Kv::default(),
        kv_fold,
        cfg(
            StartPosition::FromBeginning,
            FoldErrorPolicy::LogAndContinue,
        ),
    )
    .unwrap();
    stop.append(0x80, 0, b"a").unwrap();
    let bad = stop.append(0xFF, 0, b"x").unwrap();
    file.append(b"no prefix").unwrap();
    let after = stop.append(0x80, 0, b"b").unwrap();
    let err = stop.wait_for_seq(after, W).unwrap_err();
    assert!(matches!(err, net::cortex::CortexError::FoldStopped { seq, .. } if seq == bad));
    assert!(!stop.is_running());
    assert_eq!(stop.folded_next(), bad);
    go.wait_for_seq(after, W).unwrap();
    assert_eq!(go.error_count(), 2);
    assert_eq!(go.state().read().applied, vec![0, after]);
    let e: net::Error = err.into();
    assert_eq!(e.kind(), net::ErrorKind::Adapter);
}

#[test]
fn live_only_and_from_seq_start_positions() {
    let file = RedexFile::open("s", None, RedexFileConfig::heap()).unwrap();
    let w = CortexAdapter::open(
        file.clone(),
        Kv::default(),
        kv_fold,
        CortexConfig::default(),
    )
    .unwrap();
    for i in 0..10u8 {
        w.append(0x80, 0, &[i]).unwrap();
    }
    let live = CortexAdapter::open(
        file.clone(),
        Kv::default(),
        kv_fold,
        cfg(StartPosition::LiveOnly, FoldErrorPolicy::Stop),
    )
    .unwrap();
    let from = CortexAdapter::open(
        file.clone(),
        Kv::default(),
        kv_fold,
        cfg(StartPosition::FromSeq(7), FoldErrorPolicy::Stop),
    )
    .unwrap();
    let s = w.append(0x80, 0, &[1]).unwrap();
    live.wait_for_seq(s, W).unwrap();
    from.wait_for_seq(s, W).unwrap();
    assert_eq!(live.state().read().applied, vec![10]);
    assert_eq!(from.state().read().applied, vec![7, 8, 9, 10]);
}

#[test]
fn changes_reports_progress_and_ends_on_close() {
    let file = RedexFile::open("ch", None, RedexFileConfig::heap()).unwrap();
    let a = CortexAdapter::open(file, Kv::default(), kv_fold, CortexConfig::default()).unwrap();
    let mut ch = a.changes();
    let s = a.append(0x80, 0, b"x").unwrap();
    let mut got = None;
    while got != Some(s) {
        got = ch
            .recv_timeout(W)
            .expect("progress")
            .map(Some)
            .unwrap_or(None);
        assert!(got.is_some());
    }
    let mut stream = a.changes();
    let s2 = a.append(0x80, 0, b"y").unwrap();
    let v = futures::executor::block_on(futures::StreamExt::next(&mut stream));
    assert!(v.is_some_and(|v| v <= s2));
    a.close();
    loop {
        match ch.recv_timeout(W) {
            Some(Some(_)) => continue,
            Some(None) => break,
            None => panic!("changes did not end after close"),
        }
    }
}

/// A fold that has caught up paces itself between small batches; it must still fold every
/// event with nobody in `wait_for_seq`: a trickle, a burst, then one isolated event.
#[test]
fn a_caught_up_fold_keeps_folding_without_waiters() {
    let file = RedexFile::open("pace", None, RedexFileConfig::heap()).unwrap();
    let a = CortexAdapter::open(file, Kv::default(), kv_fold, CortexConfig::default()).unwrap();
    let mut ch = a.changes();
    let mut last = 0;
    for i in 0..50u32 {
        last = a.append(0x80, 0, &i.to_le_bytes()).unwrap();
        std::thread::sleep(Duration::from_micros(200));
    }
    for i in 0..5_000u32 {
        last = a.append(0x81, 0, &i.to_le_bytes()).unwrap();
    }
    let deadline = std::time::Instant::now() + W;
    while a.folded_next() <= last {
        assert!(std::time::Instant::now() < deadline, "fold stalled");
        std::thread::sleep(Duration::from_millis(1));
    }
    let single = a.append(0x82, 0, b"z").unwrap();
    let mut seen = 0;
    while seen < single {
        seen = ch.recv_timeout(W).expect("progress").expect("running");
    }
    assert_eq!(seen, single);
    let st = a.state().read();
    assert_eq!(st.applied.len(), 5_051);
    assert!(st.applied.windows(2).all(|w| w[1] == w[0] + 1));
}
