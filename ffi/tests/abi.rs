//! Behaviour of the C ABI called from Rust: poll forms agree, cursors resume exactly, the
//! README's C snippet is the example program, and bad input never crashes.

mod common;

use std::ffi::{CStr, CString};
use std::path::Path;
use std::ptr;

use common::*;
use net_ffi::*;

#[test]
fn versions() {
    assert_eq!(net_abi_version(), NET_ABI_VERSION);
    // SAFETY: a static NUL-terminated string.
    let v = unsafe { CStr::from_ptr(net_version()) }.to_str().unwrap();
    assert_eq!(v, net::VERSION);
}

#[test]
fn json_and_structured_poll_agree() {
    let bus = init(Some(r#"{"num_shards": 3}"#)).unwrap();
    for i in 0..50 {
        ingest(bus, format!(r#"{{"i":{i}}}"#).as_bytes()).unwrap();
    }
    flush(bus);
    for ordering in ["per_shard", "insertion_time"] {
        let req = format!(r#"{{"limit": 20, "ordering": "{ordering}"}}"#);
        let json = poll_json(bus, &req).unwrap();
        let c = CString::new(req).unwrap();
        let mut page = ptr::null_mut();
        // SAFETY: valid arguments.
        assert_eq!(unsafe { net_poll_ex(bus, c.as_ptr(), &mut page) }, NET_OK);
        // SAFETY: a live page from net_poll_ex.
        let p = unsafe { &*page };
        let events = json["events"].as_array().unwrap();
        assert_eq!(p.count, events.len());
        // SAFETY: `events` holds `count` entries while the page lives.
        let structured = unsafe { std::slice::from_raw_parts(p.events, p.count) };
        for (s, j) in structured.iter().zip(events) {
            // SAFETY: each event's bytes live as long as the page.
            let raw = unsafe { std::slice::from_raw_parts(s.ptr, s.len) };
            assert_eq!(
                serde_json::from_slice::<serde_json::Value>(raw).unwrap(),
                j["event"]
            );
            assert_eq!(u64::from(s.shard), j["shard"].as_u64().unwrap());
            assert_eq!(s.id, j["position"].as_u64().unwrap());
            assert_eq!(s.seq, j["seq"].as_u64().unwrap());
            assert_eq!(s.insertion_ts, j["ts_ns"].as_u64().unwrap());
        }
        // SAFETY: the cursor is a NUL-terminated string owned by the page.
        let cursor = unsafe { CStr::from_ptr(p.cursor) }.to_str().unwrap();
        assert_eq!(cursor, json["cursor"].as_str().unwrap());
        assert_eq!(p.has_more, json["has_more"].as_bool().unwrap());
        // SAFETY: released once; the second call is the documented-safe double free.
        assert_eq!(unsafe { net_poll_page_free(page) }, NET_OK);
        // SAFETY: as above.
        let again = unsafe { net_poll_page_free(page) };
        assert_eq!(again, NET_ERR_INVALID_ARGUMENT);
    }
    free(bus);
}

#[test]
fn cursor_pages_never_skip_or_repeat() {
    let bus = init(Some(r#"{"num_shards": 4}"#)).unwrap();
    for i in 0..200 {
        ingest(bus, format!(r#"{{"i":{i}}}"#).as_bytes()).unwrap();
    }
    flush(bus);
    let mut seen = vec![0u32; 200];
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let req = match &cursor {
            Some(c) => serde_json::json!({"limit": 7, "cursor": c}),
            None => serde_json::json!({"limit": 7}),
        };
        let page = poll_json(bus, &req.to_string()).unwrap();
        for e in page["events"].as_array().unwrap() {
            seen[e["event"]["i"].as_u64().unwrap() as usize] += 1;
        }
        cursor = Some(page["cursor"].as_str().unwrap().to_owned());
        if !page["has_more"].as_bool().unwrap() {
            break;
        }
    }
    assert!(seen.iter().all(|&n| n == 1));
    free(bus);
}

#[test]
fn bad_input_is_an_error_not_a_crash() {
    let bus = init(None).unwrap();
    // Invalid UTF-8 in a request, in a config, in an event.
    let bad = CString::new(vec![b'{', 0xff, b'}']).unwrap();
    let mut out = ptr::null_mut();
    // SAFETY: valid pointers; the text is deliberately not UTF-8.
    let rc = unsafe { net_poll(bus, bad.as_ptr(), &mut out) };
    assert_eq!(rc, NET_ERR_INVALID_ARGUMENT);
    assert!(last_error().contains("UTF-8"));
    let mut other = ptr::null_mut();
    // SAFETY: as above.
    let rc = unsafe { net_init(bad.as_ptr(), &mut other) };
    assert_eq!(rc, NET_ERR_CONFIG);
    assert_eq!(last_key(), "<root>");
    assert_eq!(ingest(bus, &[b'"', 0xff, b'"']), Err(NET_ERR_INVALID_JSON));
    // A foreign pointer given to a free function is refused, not freed.
    let mut local = [0u8; 16];
    // SAFETY: the library only looks the address up; it is not registered, so nothing is freed.
    let rc = unsafe { net_string_free(local.as_mut_ptr().cast()) };
    assert_eq!(rc, NET_ERR_INVALID_ARGUMENT);
    // SAFETY: as above.
    let rc = unsafe { net_poll_page_free(local.as_mut_ptr().cast()) };
    assert_eq!(rc, NET_ERR_INVALID_ARGUMENT);
    // SAFETY: as above.
    let rc = unsafe { net_subscription_free(local.as_mut_ptr().cast()) };
    assert_eq!(rc, NET_ERR_INVALID_ARGUMENT);
    // SAFETY: as above.
    let rc = unsafe { net_free(local.as_mut_ptr().cast()) };
    assert_eq!(rc, NET_ERR_INVALID_ARGUMENT);
    assert_eq!(net_last_error_code(), NET_ERR_INVALID_ARGUMENT);
    free(bus);
}

#[test]
fn errors_are_per_thread() {
    let bus = init(None).unwrap();
    assert_eq!(ingest(bus, b"{"), Err(NET_ERR_INVALID_JSON));
    let other = std::thread::spawn(|| (last_error(), net_last_error_code()))
        .join()
        .unwrap();
    assert_eq!(other, (String::new(), NET_OK));
    assert!(last_error().contains("invalid JSON"));
    free(bus);
}

#[test]
fn readme_c_snippet_is_the_example() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let example = std::fs::read_to_string(root.join("examples/c/hello.c")).unwrap();
    let start = readme.find("```c\n").expect("README has a ```c block") + 5;
    let len = readme[start..].find("```").expect("closed block");
    let snippet = &readme[start..start + len];
    assert!(
        example.contains(snippet),
        "examples/c/hello.c does not contain the README's C snippet verbatim"
    );
}
