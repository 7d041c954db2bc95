//! Golden fixtures for the RedEX 20-byte entry and the CortEX EventMeta prefix
//! (`tests/cross_lang/wire/redex_entry.json`, `tests/cross_lang/wire/event_meta.json`).
//! Set `NET_REGEN_WIRE=1` to rewrite them (only when the format deliberately changes).
//! `redex_entry_v1.json` holds entries written by checksum format 1 (before CRC32C); it is
//! frozen, never rewritten: those bytes must keep verifying so older logs reopen.

use net::cortex::EventMeta;
use net::redex::IndexRecord;
use serde_json::{Value, json};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/cross_lang/wire")
        .join(name)
}

fn entry_cases() -> Value {
    let mut cases = Vec::new();
    for (seq, offset, payload) in [
        (0u64, 0u32, &b"hello"[..]),
        (1, 5, b""),
        (0x0102_0304_0506_0708, 4096, b"{\"token\":\"hello\"}"),
    ] {
        let r = IndexRecord::heap(seq, offset, payload);
        cases.push(json!({"kind":"heap","seq":seq,"offset":offset,"payload_hex":hex(payload),"entry_hex":hex(&r.encode()),"checksum":r.flags_checksum & 0x0FFF_FFFF}));
    }
    for (seq, payload) in [(2u64, *b"12345678"), (u64::MAX - 1, [0xFFu8; 8])] {
        let r = IndexRecord::inline(seq, payload);
        cases.push(json!({"kind":"inline","seq":seq,"payload_hex":hex(&payload),"entry_hex":hex(&r.encode()),"checksum":r.flags_checksum & 0x0FFF_FFFF}));
    }
    json!({"format":"redex entry v2: seq u64le | offset u32le | len u32le | flags(4 bits: 0x8=inline, 0x4=crc32c, set on every v2 entry)+checksum(28 bits) u32le; checksum = crc32c(entry[0..16] ++ u32le(flags bits only) ++ (payload, or empty if inline)) & 0x0FFFFFFF, crc32c = Castagnoli (iSCSI) CRC, init and xorout 0xFFFFFFFF","cases":cases})
}

fn meta_cases() -> Value {
    let mut cases = Vec::new();
    for (d, fl, o, s, tail) in [
        (0x01u8, 0u8, 0u32, 0u64, &b""[..]),
        (0x81, 0x01, 0xDEAD_BEEF, 42, b"tail"),
        (0x10, 0x02, 7, 1_700_000_000_000_000_000, b"{\"a\":1}"),
    ] {
        let m = EventMeta::new(d, fl, o, s, tail);
        cases.push(json!({"dispatch":d,"flags":fl,"origin_hash":o,"seq_or_ts":s,"tail_hex":hex(tail),"checksum":m.checksum,"meta_hex":hex(&m.encode())}));
    }
    json!({"format":"EventMeta v1: dispatch u8 | flags u8 | pad 2 zero bytes | origin_hash u32le | seq_or_ts u64le | checksum u32le = low 32 bits of xxh3_64(tail)","cases":cases})
}

fn check(name: &str, v: Value) {
    let p = path(name);
    if std::env::var_os("NET_REGEN_WIRE").is_some() {
        std::fs::write(&p, serde_json::to_string_pretty(&v).unwrap() + "\n").unwrap();
    }
    let on_disk: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    assert_eq!(on_disk, v, "{name} differs from the engine's encoding");
}

#[test]
fn redex_entry_fixture() {
    check("redex_entry.json", entry_cases());
    // Decoding the pinned bytes verifies.
    let r = IndexRecord::inline(2, *b"12345678");
    assert!(IndexRecord::decode(&r.encode()).verify(&[]));
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn format_1_entries_still_verify() {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(path("redex_entry_v1.json")).unwrap())
            .unwrap();
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 5);
    for c in cases {
        let b: [u8; 20] = unhex(c["entry_hex"].as_str().unwrap()).try_into().unwrap();
        let r = IndexRecord::decode(&b);
        assert_eq!(r.encode(), b);
        let inline = c["kind"] == "inline";
        assert_eq!(r.is_inline(), inline);
        assert_eq!(
            r.flags_checksum & 0x4000_0000,
            0,
            "format 1 has no crc32c flag"
        );
        let payload = unhex(c["payload_hex"].as_str().unwrap());
        let p: &[u8] = if inline { &[] } else { &payload };
        assert!(r.verify(p), "{c}");
        if inline {
            assert_eq!(r.inline_bytes().to_vec(), payload);
        }
        // One flipped bit anywhere in the entry fails.
        for bit in 0..160 {
            let mut f = b;
            f[bit / 8] ^= 1 << (bit % 8);
            let d = IndexRecord::decode(&f);
            let p: &[u8] = if d.is_inline() { &[] } else { &payload };
            assert!(!d.verify(p), "{c}: bit {bit}");
        }
    }
}

#[test]
fn event_meta_fixture() {
    check("event_meta.json", meta_cases());
}
