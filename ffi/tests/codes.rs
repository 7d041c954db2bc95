//! The error codes agree everywhere: the `#define`s in `include/net.h`, the constants of this
//! crate, the engine's `ErrorKind::code()` and `tests/cross_lang/errors.json`.

use std::collections::BTreeMap;
use std::ffi::CStr;
use std::path::Path;

use net::ErrorKind;
use net_ffi::{ERROR_CODES, net_code_name};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// `NET_ERR_*` name -> value, as written in the checked-in header.
fn header_codes() -> BTreeMap<String, i32> {
    let header = std::fs::read_to_string(root().join("include/net.h")).expect("include/net.h");
    header
        .lines()
        .filter_map(|l| l.strip_prefix("#define NET_ERR_"))
        .map(|rest| {
            let mut parts = rest.split_whitespace();
            let name = parts.next().expect("name").to_owned();
            let value = parts.next().expect("value");
            (name, value.parse().expect("integer code"))
        })
        .collect()
}

#[test]
fn header_rust_and_fixture_agree() {
    let fixture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/cross_lang/errors.json")).expect("fixture"),
    )
    .expect("valid JSON");
    let kinds = fixture["kinds"].as_array().expect("kinds");
    assert_eq!(kinds.len(), ErrorKind::ALL.len());
    assert_eq!(ERROR_CODES.len(), ErrorKind::ALL.len());
    let header = header_codes();
    assert_eq!(header.len(), ErrorKind::ALL.len(), "{header:?}");
    for entry in kinds {
        let name = entry["kind"].as_str().expect("kind");
        let code = entry["code"].as_i64().expect("code") as i32;
        let kind = ErrorKind::from_name(name).expect("engine knows the kind");
        assert_eq!(kind.code(), code, "engine vs fixture for {name}");
        let (ffi_code, _) = ERROR_CODES
            .iter()
            .find(|(_, k)| *k == kind)
            .expect("ffi maps the kind");
        assert_eq!(*ffi_code, code, "ffi vs fixture for {name}");
        assert_eq!(
            header.get(&name.to_uppercase()),
            Some(&code),
            "net.h vs fixture for NET_ERR_{}",
            name.to_uppercase()
        );
        // SAFETY: net_code_name returns a static NUL-terminated string.
        let c_name = unsafe { CStr::from_ptr(net_code_name(code)) };
        assert_eq!(c_name.to_str().unwrap(), name);
    }
}
