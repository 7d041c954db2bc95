//! Fuzzes every packet parser with one input: classification, Net header, exact packet, routing
//! header, whole datagram, event frame and AEAD open. Any panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use net::mesh::crypto::Opener;
use net::mesh::wire::{
    Frame, Header, HeaderView, RoutingHeader, classify, parse_datagram, split_packet,
};

fuzz_target!(|data: &[u8]| {
    let _ = classify(data);
    let _ = Header::parse(data);
    let _ = HeaderView::parse(data).map(|v| v.to_header());
    let _ = split_packet(data);
    let _ = RoutingHeader::parse(data);
    if let Ok(d) = parse_datagram(data) {
        let _ = Frame::parse(d.payload, d.header.event_count).map(|f| f.iter().count());
    }
    let mut copy = data.to_vec();
    if let Ok(mut opener) = Opener::new(&[0u8; 32]) {
        let _ = opener.open(&mut copy);
    }
});
