//! Replays the saved fuzz corpus (`tests/fuzz_corpus/packet/`) through every packet parser, as an
//! ordinary stable test. `valid_*` files must parse, `invalid_*` must be refused, everything
//! (including files cargo-fuzz adds when run by hand, `core/fuzz/`) must not panic.

use std::path::PathBuf;

use net::mesh::crypto::Opener;
use net::mesh::wire::{
    Frame, Header, HeaderView, RoutingHeader, classify, parse_datagram, split_packet,
};

/// What the fuzz target does with one input (kept identical to `core/fuzz/fuzz_targets/packet.rs`).
fn exercise(data: &[u8]) -> bool {
    let _ = classify(data);
    let _ = Header::parse(data);
    let _ = HeaderView::parse(data).map(|v| v.to_header());
    let _ = split_packet(data);
    let _ = RoutingHeader::parse(data);
    let parsed = parse_datagram(data);
    if let Ok(d) = &parsed {
        let _ = Frame::parse(d.payload, d.header.event_count).map(|f| f.iter().count());
    }
    let mut copy = data.to_vec();
    if let Ok(mut opener) = Opener::new(&[0u8; 32]) {
        let _ = opener.open(&mut copy);
    }
    parsed.is_ok()
}

#[test]
fn corpus_replays_without_panics() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fuzz_corpus/packet");
    let mut seen = 0;
    let fixture_key: [u8; 32] = std::array::from_fn(|i| i as u8);
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir:?}: {e}")) {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let data = std::fs::read(&path).unwrap();
        let ok = exercise(&data);
        if name.starts_with("valid_") {
            assert!(ok, "{name} should parse: {:?}", parse_datagram(&data).err());
        }
        if name.starts_with("invalid_") {
            assert!(!ok, "{name} should be refused");
        }
        if name.starts_with("valid_sealed_") {
            let mut p = data.clone();
            assert!(
                Opener::new(&fixture_key).unwrap().open(&mut p).is_ok(),
                "{name} should open"
            );
        }
        seen += 1;
    }
    assert!(seen >= 40, "corpus has only {seen} files");
}
