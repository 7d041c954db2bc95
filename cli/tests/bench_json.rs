//! `net bench --json --quick`: exactly one JSON object with every key of BENCHMARKS.md (W1-W7).

use std::process::Command;

use serde_json::Value;

const KEYS: [&str; 20] = [
    "w1.ingest_single_eps",
    "w1.ingest_batch1000_eps",
    "w1.ingest_parse_eps",
    "w1_4shards.ingest_single_eps",
    "w1_4shards.ingest_batch1000_eps",
    "w1_4shards.ingest_parse_eps",
    "w2.e2e_eps",
    "w2.crossbeam_eps",
    "w3.p50_us",
    "w3.p99_us",
    "w4.heap_append_32b_ops",
    "w4.heap_append_1k_ops",
    "w4.disk_append_32b_ops",
    "w4.disk_append_1k_ops",
    "w5.header_roundtrip_ns",
    "w5.seal_open_64b_ns",
    "w6.mesh_reliable_eps",
    "w6.raw_udp_eps",
    "w7.rtt_p50_us",
    "w7.rtt_p99_us",
];

#[test]
fn quick_json_has_exactly_the_standard_keys() {
    let out = Command::new(env!("CARGO_BIN_EXE_net"))
        .args(["bench", "--json", "--quick"])
        .output()
        .expect("run net bench");
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    assert!(
        out.status.success(),
        "exit {:?}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    // Exactly one JSON value on stdout, nothing else.
    let mut values = serde_json::Deserializer::from_str(&stdout).into_iter::<Value>();
    let doc = values.next().expect("one value").expect("valid JSON");
    assert!(
        values.next().is_none(),
        "more than one JSON value:\n{stdout}"
    );
    assert!(doc.is_object());
    assert_eq!(doc.as_object().unwrap().len(), 2, "only meta and results");

    let results = doc["results"].as_object().expect("results object");
    for key in KEYS {
        let v = results
            .get(key)
            .unwrap_or_else(|| panic!("missing {key}"))
            .as_f64()
            .unwrap_or_else(|| panic!("{key} is not a number"));
        assert!(v > 0.0, "{key} = {v}");
    }
    assert_eq!(results.len(), KEYS.len(), "unexpected keys: {results:?}");

    let meta = doc["meta"].as_object().expect("meta object");
    assert!(meta["nproc"].as_u64().unwrap() >= 1);
    assert!(!meta["cpu_model"].as_str().unwrap().is_empty());
    assert!(["debug", "release"].contains(&meta["profile"].as_str().unwrap()));
    assert_eq!(meta["quick"], true);
    assert_eq!(
        meta["w4"]["w4.heap_append_32b_ops"]["appends"], 10_000,
        "quick = standard / 100"
    );
    assert_eq!(meta["w5"]["iterations"], 10_000);
    assert!(
        meta["w1"]["config_1shard"]["ring_capacity"]
            .as_u64()
            .unwrap()
            > 0
    );
    for key in KEYS {
        let c = &meta["counts"][key];
        let (sent, received) = (c["sent"].as_u64().unwrap(), c["received"].as_u64().unwrap());
        assert!(sent > 0, "{key}");
        if key == "w6.raw_udp_eps" {
            // Plain UDP promises nothing: some of it may be lost, none may be invented.
            assert!(received > 0 && received <= sent, "{key}: {c}");
        } else {
            assert_eq!(sent, received, "{key}: {c}");
        }
    }
    assert_eq!(meta["w6"]["events"], 20_000);
    assert_eq!(meta["w7"]["samples"], 200);
}

#[test]
fn only_selects_workloads_and_rejects_unknown_prefixes() {
    let out = Command::new(env!("CARGO_BIN_EXE_net"))
        .args(["bench", "--json", "--quick", "--only", "w3"])
        .output()
        .expect("run net bench");
    assert!(out.status.success());
    let doc: Value = serde_json::from_slice(&out.stdout).expect("json");
    let keys: Vec<&String> = doc["results"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["w3.p50_us", "w3.p99_us"]);

    let out = Command::new(env!("CARGO_BIN_EXE_net"))
        .args(["bench", "--json", "--quick", "--only", "w4.disk,w5"])
        .output()
        .expect("run net bench");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).expect("json");
    let keys: Vec<&String> = doc["results"].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "w4.disk_append_1k_ops",
            "w4.disk_append_32b_ops",
            "w5.header_roundtrip_ns",
            "w5.seal_open_64b_ns"
        ]
    );

    let out = Command::new(env!("CARGO_BIN_EXE_net"))
        .args(["bench", "--quick", "--only", "w9"])
        .output()
        .expect("run net bench");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("matches no workload"));
}
