//! The mesh wire golden fixtures in `tests/cross_lang/wire/`, generated from the byte layout by
//! an independent implementation (`gen_fixtures.py`); every language's tests load these files.

use std::path::PathBuf;

use net::identity::{Identity, NodeCard, NodeId};
use net::mesh::crypto::{Opener, Sealer, SessionKeys};
use net::mesh::wire::{
    DatagramKind, Frame, FrameWriter, HEADER_LEN, Header, HeaderView, RoutingHeader, aad, classify,
    parse_datagram, split_packet,
};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/cross_lang/wire")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn hex(v: &Value) -> Vec<u8> {
    let s = v.as_str().expect("hex string");
    assert!(s.len().is_multiple_of(2), "odd hex {s}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn num(v: &Value) -> u64 {
    match v {
        Value::String(s) => s.parse().unwrap(),
        other => other.as_u64().unwrap(),
    }
}

fn header_from(f: &Value) -> Header {
    Header {
        flags: num(&f["flags"]) as u8,
        priority: num(&f["priority"]) as u8,
        hop_ttl: num(&f["hop_ttl"]) as u8,
        hop_count: num(&f["hop_count"]) as u8,
        frag_flags: num(&f["frag_flags"]) as u8,
        subprotocol_id: num(&f["subprotocol_id"]) as u16,
        channel_hash: num(&f["channel_hash"]) as u16,
        nonce: hex(&f["nonce"]).try_into().unwrap(),
        session_id: num(&f["session_id"]),
        stream_id: num(&f["stream_id"]),
        sequence: num(&f["sequence"]),
        subnet_id: num(&f["subnet_id"]) as u32,
        origin_hash: num(&f["origin_hash"]) as u32,
        fragment_id: num(&f["fragment_id"]) as u16,
        fragment_offset: num(&f["fragment_offset"]) as u16,
        payload_len: num(&f["payload_len"]) as u16,
        event_count: num(&f["event_count"]) as u16,
    }
}

fn routing_from(f: &Value) -> RoutingHeader {
    RoutingHeader {
        ttl: num(&f["ttl"]) as u8,
        hop_count: num(&f["hop_count"]) as u8,
        flags: num(&f["flags"]) as u8,
        src_id: num(&f["src_id"]) as u32,
        dest_id: num(&f["dest_id"]),
    }
}

#[test]
fn header_cases() {
    let f = fixture("header.json");
    for case in f["valid"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let header = header_from(&case["fields"]);
        let bytes = hex(&case["header_hex"]);
        assert_eq!(
            header.to_bytes().as_slice(),
            bytes.as_slice(),
            "{name}: encode"
        );
        let mut datagram = bytes.clone();
        datagram.extend(hex(&case["payload_hex"]));
        assert_eq!(Header::parse(&datagram), Ok(header), "{name}: parse");
        let (h, payload) = split_packet(&datagram).unwrap();
        assert_eq!(h, header);
        assert_eq!(payload, &datagram[HEADER_LEN..]);
    }
    let invalid = f["invalid"].as_array().unwrap();
    assert!(invalid.len() >= 10);
    for case in invalid {
        let view_err = HeaderView::parse(&hex(&case["datagram_hex"])).unwrap_err();
        assert_eq!(view_err.kind(), case["kind"], "{}: view", case["name"]);
        let err =
            Header::parse(&hex(&case["datagram_hex"])).expect_err(case["name"].as_str().unwrap());
        assert_eq!(err.kind(), case["kind"], "{}: {err}", case["name"]);
    }
    for case in f["invalid_packet"].as_array().unwrap() {
        let datagram = hex(&case["datagram_hex"]);
        assert!(Header::parse(&datagram).is_ok());
        assert_eq!(
            split_packet(&datagram).unwrap_err().kind(),
            case["kind"],
            "{}",
            case["name"]
        );
    }
}

#[test]
fn routing_header_cases() {
    let f = fixture("routing_header.json");
    for case in f["valid"].as_array().unwrap() {
        let r = routing_from(&case["fields"]);
        let bytes = hex(&case["hex"]);
        assert_eq!(
            r.to_bytes().as_slice(),
            bytes.as_slice(),
            "{}",
            case["name"]
        );
        assert_eq!(RoutingHeader::parse(&bytes), Ok(r), "{}", case["name"]);
    }
    for case in f["invalid"].as_array().unwrap() {
        let err =
            RoutingHeader::parse(&hex(&case["hex"])).expect_err(case["name"].as_str().unwrap());
        assert_eq!(err.kind(), case["kind"], "{}", case["name"]);
    }
    for case in f["classify"].as_array().unwrap() {
        let got = match classify(&hex(&case["datagram_hex"])) {
            Ok(DatagramKind::Direct) => "direct",
            Ok(DatagramKind::Routed) => "routed",
            Err(e) => e.kind(),
        };
        assert_eq!(got, case["class"], "{}", case["name"]);
    }
    for case in f["datagrams"].as_array().unwrap() {
        let bytes = hex(&case["datagram_hex"]);
        let d = parse_datagram(&bytes).unwrap();
        assert_eq!(
            d.routing,
            (!case["routing"].is_null()).then(|| routing_from(&case["routing"]))
        );
        assert_eq!(d.header, header_from(&case["header"]), "{}", case["name"]);
        assert_eq!(d.payload, hex(&case["payload_hex"]).as_slice());
    }
    for case in f["bad_datagrams"].as_array().unwrap() {
        let err =
            parse_datagram(&hex(&case["datagram_hex"])).expect_err(case["name"].as_str().unwrap());
        assert_eq!(err.kind(), case["kind"], "{}", case["name"]);
    }
}

#[test]
fn aad_and_seal_cases() {
    let f = fixture("aad.json");
    assert_eq!(f["aad_len"], 51);
    for case in f["cases"].as_array().unwrap() {
        let h: [u8; HEADER_LEN] = hex(&case["header_hex"]).try_into().unwrap();
        assert_eq!(
            aad(&h).as_slice(),
            hex(&case["aad_hex"]).as_slice(),
            "{}",
            case["name"]
        );
    }
    let key: [u8; 32] = hex(&f["key_hex"]).try_into().unwrap();
    let mut sealer = Sealer::new(&key).unwrap();
    let mut opener = Opener::new(&key).unwrap();
    for v in f["seal"].as_array().unwrap() {
        assert_eq!(sealer.next_counter(), num(&v["counter"]));
        let mut header = header_from(&v["header_fields"]);
        let plaintext = hex(&v["plaintext_hex"]);
        let expected = hex(&v["packet_hex"]);
        let mut buf = vec![0u8; HEADER_LEN + plaintext.len() + 16];
        buf[HEADER_LEN..HEADER_LEN + plaintext.len()].copy_from_slice(&plaintext);
        let n = sealer.seal(&mut header, &mut buf, plaintext.len()).unwrap();
        assert_eq!(
            &buf[..n],
            expected.as_slice(),
            "seal counter {}",
            v["counter"]
        );
        let mut packet = expected.clone();
        let (h, plain) = opener.open(&mut packet).unwrap();
        assert_eq!(h, header);
        assert_eq!(plain, plaintext.as_slice());
    }
    // The same vectors open with session keys whose rx is the fixture key.
    let keys = SessionKeys {
        tx: [0; 32],
        rx: key,
    };
    let mut opener = Opener::new(&keys.rx).unwrap();
    let mut last = hex(&f["seal"][2]["packet_hex"]);
    assert!(opener.open(&mut last).is_ok());
}

#[test]
fn frame_cases() {
    let f = fixture("frame.json");
    for case in f["valid"].as_array().unwrap() {
        let events: Vec<Vec<u8>> = case["events_hex"]
            .as_array()
            .unwrap()
            .iter()
            .map(hex)
            .collect();
        let expected = hex(&case["frame_hex"]);
        let mut buf = vec![0u8; expected.len()];
        let mut w = FrameWriter::new(&mut buf);
        for e in &events {
            w.push(e).unwrap();
        }
        assert_eq!(w.count() as u64, num(&case["count"]));
        assert_eq!(w.len(), expected.len());
        assert_eq!(buf, expected, "{}", case["name"]);
        let frame = Frame::parse(&expected, num(&case["count"]) as u16).unwrap();
        let got: Vec<&[u8]> = frame.iter().collect();
        assert_eq!(
            got,
            events.iter().map(Vec::as_slice).collect::<Vec<_>>(),
            "{}",
            case["name"]
        );
    }
    for case in f["invalid"].as_array().unwrap() {
        let err = Frame::parse(&hex(&case["frame_hex"]), num(&case["count"]) as u16)
            .expect_err(case["name"].as_str().unwrap());
        assert_eq!(err.kind(), case["kind"], "{}: {err}", case["name"]);
    }
}

#[test]
fn identity_cases() {
    let f = fixture("identity.json");
    for case in f["cases"].as_array().unwrap() {
        let seed: [u8; 32] = hex(&case["seed_hex"]).try_into().unwrap();
        let id = Identity::from_seed(&seed);
        assert_eq!(
            id.public_key().as_slice(),
            hex(&case["public_key_hex"]).as_slice()
        );
        assert_eq!(id.node_id(), NodeId(num(&case["node_id"])));
        assert_eq!(
            u64::from(id.node_id().routing_id()),
            num(&case["routing_id"])
        );
        assert_eq!(u64::from(id.origin_hash()), num(&case["origin_hash"]));
        assert_eq!(
            id.static_public().as_slice(),
            hex(&case["static_key_hex"]).as_slice()
        );
        let card_bytes = hex(&case["card_hex"]);
        assert_eq!(id.card().to_bytes().as_slice(), card_bytes.as_slice());
        assert_eq!(
            NodeCard::from_bytes(&card_bytes).unwrap().verify(),
            Ok(id.node_id())
        );
    }
}
