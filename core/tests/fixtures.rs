//! The shared golden fixtures in `tests/cross_lang/`: every language loads the same files.

use std::path::PathBuf;

use net::{ErrorKind, Event, EventBus, EventBusConfig, Filter, PollRequest};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/cross_lang")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn config_cases() {
    let f = fixture("bus/config_cases.json");
    let valid = f["valid"].as_array().unwrap();
    assert!(valid.len() >= 10);
    for case in valid {
        let cfg = EventBusConfig::from_value(&case["input"])
            .unwrap_or_else(|e| panic!("{}: {e}", case["name"]));
        assert_eq!(cfg.to_json(), case["normalized"], "{}", case["name"]);
        // The normalized form is itself valid and a fixed point.
        let again = EventBusConfig::from_value(&cfg.to_json()).unwrap();
        assert_eq!(again, cfg, "{}", case["name"]);
    }
    let invalid = f["invalid"].as_array().unwrap();
    assert!(invalid.len() >= 20);
    for case in invalid {
        let result = match case.get("input_text") {
            Some(text) => EventBusConfig::from_json(text.as_str().unwrap()),
            None => EventBusConfig::from_value(&case["input"]),
        };
        let err = result.expect_err(case["name"].as_str().unwrap());
        assert_eq!(err.kind().as_str(), case["kind"], "{}", case["name"]);
        assert_eq!(err.key(), case["key"].as_str(), "{}: {err}", case["name"]);
        assert!(err.to_string().contains(case["key"].as_str().unwrap()));
    }
}

#[test]
fn filter_cases() {
    let f = fixture("bus/filter_cases.json");
    let event = &f["event"];
    for case in f["cases"].as_array().unwrap() {
        let filter =
            Filter::from_value(&case["filter"]).unwrap_or_else(|e| panic!("{}: {e}", case["name"]));
        assert_eq!(
            filter.matches(event),
            case["match"].as_bool().unwrap(),
            "{}",
            case["name"]
        );
        // Same answer through the raw-bytes path the bus uses.
        let raw = serde_json::to_vec(event).unwrap();
        assert_eq!(filter.matches_raw(&raw), filter.matches(event));
    }
    for case in f["invalid"].as_array().unwrap() {
        let err = Filter::from_value(&case["filter"]).expect_err(case["name"].as_str().unwrap());
        assert_eq!(err.kind().as_str(), case["kind"], "{}", case["name"]);
    }
}

#[test]
fn filter_cases_through_poll() {
    let f = fixture("bus/filter_cases.json");
    let bus = EventBus::new(EventBusConfig::default()).unwrap();
    bus.ingest(Event::from_serialize(&f["event"]).unwrap())
        .unwrap();
    bus.flush().unwrap();
    for case in f["cases"].as_array().unwrap() {
        let filter = Filter::from_value(&case["filter"]).unwrap();
        let got = bus.poll(&PollRequest::new(10).filter(filter)).unwrap();
        assert_eq!(
            got.events.len() == 1,
            case["match"].as_bool().unwrap(),
            "{}",
            case["name"]
        );
    }
}

#[test]
fn error_kinds() {
    let f = fixture("errors.json");
    let kinds = f["kinds"].as_array().unwrap();
    assert_eq!(kinds.len(), ErrorKind::ALL.len());
    for (entry, kind) in kinds.iter().zip(ErrorKind::ALL) {
        assert_eq!(entry["kind"], kind.as_str());
        assert_eq!(entry["code"], kind.code());
        assert_eq!(ErrorKind::from_name(kind.as_str()), Some(kind));
    }
}

#[test]
fn cursor_cases() {
    let f = fixture("bus/cursor_cases.json");
    let cfg = EventBusConfig::builder()
        .num_shards(f["shards"].as_u64().unwrap() as u16)
        .build()
        .unwrap();
    let bus = EventBus::new(cfg).unwrap();
    for bad in f["invalid"].as_array().unwrap() {
        let err = bus
            .poll(&PollRequest::new(10).cursor(bad.as_str().unwrap()))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidCursor, "{bad}");
    }
}

#[test]
fn event_cases() {
    let f = fixture("bus/event_cases.json");
    let bus = EventBus::new(EventBusConfig::default()).unwrap();
    for bad in f["invalid"].as_array().unwrap() {
        let err = bus.ingest_str(bad.as_str().unwrap()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidJson, "{bad}");
    }
    for good in f["valid"].as_array().unwrap() {
        bus.ingest_str(good.as_str().unwrap()).unwrap();
    }
    bus.flush().unwrap();
    let stats = bus.stats();
    assert_eq!(stats.accepted, f["valid"].as_array().unwrap().len() as u64);
    assert_eq!(stats.delivered, stats.accepted);
}
