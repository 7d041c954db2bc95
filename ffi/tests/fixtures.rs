//! The shared golden fixtures in `tests/cross_lang/bus/`, run through the C ABI: the answers
//! must be the engine's (same kinds, same keys, same normalized forms).

mod common;

use std::ffi::CString;
use std::ptr;

use common::*;
use net_ffi::*;

/// The normalized form of `config` through `net_config_normalize`, or the failing code.
fn normalize(config: &str) -> Result<serde_json::Value, i32> {
    let text = CString::new(config).unwrap();
    let mut out = ptr::null_mut();
    // SAFETY: a C string and a valid out-pointer.
    let rc = unsafe { net_config_normalize(text.as_ptr(), &mut out) };
    if rc != NET_OK {
        return Err(rc);
    }
    Ok(serde_json::from_str(&take_string(out)).unwrap())
}

#[test]
fn config_cases() {
    let f = fixture("bus/config_cases.json");
    for case in f["valid"].as_array().unwrap() {
        let input = case["input"].to_string();
        let normalized = normalize(&input)
            .unwrap_or_else(|rc| panic!("{}: {rc} {}", case["name"], last_error()));
        assert_eq!(normalized, case["normalized"], "{}", case["name"]);
        // A bus over the memory adapter starts without any server and reports the same form
        // (networked adapters would need their server; their parsing is covered above).
        if case["normalized"]["adapter"]["type"] != "memory" {
            continue;
        }
        let bus = init(Some(&input))
            .unwrap_or_else(|rc| panic!("{}: {rc} {}", case["name"], last_error()));
        let mut out = ptr::null_mut();
        // SAFETY: a live bus and a valid out-pointer.
        assert_eq!(unsafe { net_config_json(bus, &mut out) }, NET_OK);
        let from_bus: serde_json::Value = serde_json::from_str(&take_string(out)).unwrap();
        assert_eq!(from_bus, case["normalized"], "{}", case["name"]);
        free(bus);
    }
    for case in f["invalid"].as_array().unwrap() {
        let text = match case.get("input_text") {
            Some(t) => t.as_str().unwrap().to_owned(),
            None => case["input"].to_string(),
        };
        assert_eq!(case["kind"], "config");
        let key = case["key"].as_str().unwrap();
        assert_eq!(
            normalize(&text).err(),
            Some(NET_ERR_CONFIG),
            "{}",
            case["name"]
        );
        assert_eq!(last_key(), key, "{}", case["name"]);
        let rc = init(Some(&text)).expect_err(case["name"].as_str().unwrap());
        assert_eq!(rc, NET_ERR_CONFIG, "{}", case["name"]);
        assert_eq!(last_key(), key, "{}", case["name"]);
        assert!(last_error().contains(key));
    }
}

#[test]
fn event_cases() {
    let f = fixture("bus/event_cases.json");
    let bus = init(None).unwrap();
    for raw in f["invalid"].as_array().unwrap() {
        let raw = raw.as_str().unwrap();
        assert_eq!(
            ingest(bus, raw.as_bytes()),
            Err(NET_ERR_INVALID_JSON),
            "{raw:?}"
        );
        // The NUL-terminated form agrees.
        let c = CString::new(raw).unwrap();
        // SAFETY: a live bus and a C string.
        let rc = unsafe { net_ingest(bus, c.as_ptr(), ptr::null_mut()) };
        assert_eq!(rc, NET_ERR_INVALID_JSON, "{raw:?}");
    }
    for raw in f["valid"].as_array().unwrap() {
        let raw = raw.as_str().unwrap();
        assert!(
            ingest(bus, raw.as_bytes()).is_ok(),
            "{raw:?}: {}",
            last_error()
        );
    }
    free(bus);
}

#[test]
fn filter_cases() {
    let f = fixture("bus/filter_cases.json");
    let event = f["event"].to_string();
    let bus = init(None).unwrap();
    ingest(bus, event.as_bytes()).unwrap();
    flush(bus);
    for case in f["cases"].as_array().unwrap() {
        let req = serde_json::json!({"limit": 10, "filter": case["filter"]}).to_string();
        let result = poll_json(bus, &req)
            .unwrap_or_else(|rc| panic!("{}: {rc} {}", case["name"], last_error()));
        let matched = result["events"].as_array().unwrap().len() == 1;
        assert_eq!(
            matched,
            case["match"].as_bool().unwrap(),
            "{}",
            case["name"]
        );
    }
    for case in f["invalid"].as_array().unwrap() {
        assert_eq!(case["kind"], "invalid_filter");
        let req = serde_json::json!({"filter": case["filter"]}).to_string();
        // A `null` filter means "no filter" in a request, so only non-null cases apply.
        if case["filter"].is_null() {
            continue;
        }
        assert_eq!(
            poll_json(bus, &req).err(),
            Some(NET_ERR_INVALID_FILTER),
            "{}",
            case["name"]
        );
        let opts = CString::new(req).unwrap();
        let mut sub = ptr::null_mut();
        // SAFETY: a live bus, a C string and a valid out-pointer.
        let rc = unsafe { net_subscribe(bus, opts.as_ptr(), &mut sub) };
        assert_eq!(rc, NET_ERR_INVALID_FILTER, "{}", case["name"]);
        assert!(sub.is_null());
    }
    free(bus);
}

#[test]
fn cursor_cases() {
    let f = fixture("bus/cursor_cases.json");
    let shards = f["shards"].as_u64().unwrap();
    let bus = init(Some(&format!("{{\"num_shards\": {shards}}}"))).unwrap();
    for cursor in f["invalid"].as_array().unwrap() {
        let req = serde_json::json!({"cursor": cursor}).to_string();
        assert_eq!(
            poll_json(bus, &req).err(),
            Some(NET_ERR_INVALID_CURSOR),
            "{cursor}"
        );
        let mut page = ptr::null_mut();
        let c = CString::new(req).unwrap();
        // SAFETY: a live bus, a C string and a valid out-pointer.
        let rc = unsafe { net_poll_ex(bus, c.as_ptr(), &mut page) };
        assert_eq!(rc, NET_ERR_INVALID_CURSOR, "{cursor}");
        assert!(page.is_null());
    }
    free(bus);
}

#[test]
fn poll_request_cases() {
    let f = fixture("bus/poll_request_cases.json");
    let bus = init(None).unwrap();
    for i in 0..5 {
        ingest(bus, format!("{{\"t\":{i}}}").as_bytes()).unwrap();
    }
    flush(bus);
    for case in f["valid"].as_array().unwrap() {
        let input = case["input"].as_str().unwrap();
        let want = &case["normalized"];
        // The fixture's cursors are parser cases, not cursors of this bus.
        if !want["cursor"].is_null() {
            continue;
        }
        let page =
            poll_json(bus, input).unwrap_or_else(|rc| panic!("{input}: {rc} {}", last_error()));
        let got = page["events"].as_array().unwrap().len() as u64;
        let limit = want["limit"].as_u64().unwrap();
        // Five stored events; a filter on the fixture's paths matches none of them.
        let expected = if want["filter"].is_null() {
            limit.min(5)
        } else {
            0
        };
        assert_eq!(got, expected, "{input}");
    }
    for case in f["invalid"].as_array().unwrap() {
        let input = case["input"].as_str().unwrap();
        let kind = net::ErrorKind::from_name(case["engine_kind"].as_str().unwrap()).unwrap();
        let rc = poll_json(bus, input).expect_err(input);
        assert_eq!(rc, kind.code(), "{input}: {}", last_error());
        if let Some(key) = case["key"].as_str() {
            assert!(last_error().contains(key), "{input}: {}", last_error());
        }
    }
    free(bus);
}
