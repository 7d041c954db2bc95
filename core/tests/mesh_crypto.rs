//! Per-packet AEAD: round trips, tamper detection over every byte, replay and window sliding,
//! and totality on arbitrary input.

use net::mesh::crypto::{
    CryptoError, Opener, PacketCipher, REPLAY_WINDOW, Sealer, SessionKeys, TAG_LEN,
};
use net::mesh::wire::{HEADER_LEN, Header, flags};
use proptest::prelude::*;

const KEY: [u8; 32] = [9; 32];

fn header() -> Header {
    Header {
        flags: flags::RELIABLE,
        priority: 2,
        hop_ttl: 4,
        hop_count: 0,
        subprotocol_id: 0x0400,
        channel_hash: 0x1234,
        session_id: 77,
        stream_id: 3,
        sequence: 1,
        subnet_id: 0x01020304,
        origin_hash: 0xCAFEBABE,
        event_count: 1,
        ..Header::default()
    }
}

fn seal(sealer: &mut Sealer, plaintext: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; HEADER_LEN + plaintext.len() + TAG_LEN];
    buf[HEADER_LEN..HEADER_LEN + plaintext.len()].copy_from_slice(plaintext);
    let mut h = header();
    let n = sealer.seal(&mut h, &mut buf, plaintext.len()).unwrap();
    assert_eq!(n, buf.len());
    buf
}

#[test]
fn round_trip_with_session_keys() {
    let a = SessionKeys {
        tx: [1; 32],
        rx: [2; 32],
    };
    let b = SessionKeys {
        tx: [2; 32],
        rx: [1; 32],
    };
    let mut ca = PacketCipher::new(&a).unwrap();
    let mut cb = PacketCipher::new(&b).unwrap();
    for i in 0..10u8 {
        let msg = vec![i; usize::from(i) * 7];
        let mut p = seal(&mut ca.sealer, &msg);
        let (h, plain) = cb.opener.open(&mut p).unwrap();
        assert_eq!(plain, msg.as_slice());
        assert_eq!(h.nonce[4..], u64::from(i).to_le_bytes());
        assert_eq!(usize::from(h.payload_len), msg.len() + TAG_LEN);
        let mut back = seal(&mut cb.sealer, &msg);
        assert_eq!(ca.opener.open(&mut back).unwrap().1, msg.as_slice());
    }
    // A's own packets do not open with A's rx key (directional keys).
    let mut p = seal(&mut ca.sealer, b"x");
    assert_eq!(ca.opener.open(&mut p).unwrap_err(), CryptoError::AuthFailed);
}

#[test]
fn every_tampered_byte_is_rejected_except_hop_count() {
    let mut sealer = Sealer::new(&KEY).unwrap();
    let packet = seal(&mut sealer, br#"{"token":"hello","index":1}"#);
    for i in 0..packet.len() {
        for bit in [0x01u8, 0x80] {
            let mut p = packet.clone();
            p[i] ^= bit;
            let mut opener = Opener::new(&KEY).unwrap();
            let result = opener.open(&mut p).map(|(h, _)| h);
            if i == 6 {
                // hop_count: not authenticated (relays increment it), but bounded by hop_ttl.
                match result {
                    Ok(h) => assert_eq!(h.hop_count, bit),
                    Err(e) => assert_eq!(
                        e,
                        CryptoError::Wire(net::mesh::wire::WireError::HopLimitExceeded {
                            hop_ttl: 4,
                            hop_count: bit
                        })
                    ),
                }
            } else {
                assert!(
                    result.is_err(),
                    "flipping bit {bit:#x} of byte {i} went unnoticed"
                );
            }
        }
    }
    let mut p = packet.clone();
    assert!(Opener::new(&KEY).unwrap().open(&mut p).is_ok());
}

#[test]
fn wrong_key_fails() {
    let mut p = seal(&mut Sealer::new(&KEY).unwrap(), b"secret");
    assert_eq!(
        Opener::new(&[8; 32]).unwrap().open(&mut p).unwrap_err(),
        CryptoError::AuthFailed
    );
}

#[test]
fn replays_and_old_packets_are_rejected() {
    let mut sealer = Sealer::new(&KEY).unwrap();
    let mut opener = Opener::new(&KEY).unwrap();
    let first = seal(&mut sealer, b"0");
    assert!(opener.open(&mut first.clone()).is_ok());
    assert_eq!(
        opener.open(&mut first.clone()).unwrap_err(),
        CryptoError::Replayed
    );

    // Out of order inside the window is fine, each once.
    let packets: Vec<Vec<u8>> = (1..=50).map(|_| seal(&mut sealer, b"p")).collect();
    for p in packets.iter().rev() {
        assert!(opener.open(&mut p.clone()).is_ok());
    }
    for p in &packets {
        assert_eq!(
            opener.open(&mut p.clone()).unwrap_err(),
            CryptoError::Replayed
        );
    }

    // Slide the window ahead; counter 1 becomes too old, counter 50 (exactly REPLAY_WINDOW - 1
    // behind the newest) is still tracked.
    let mut last = Vec::new();
    for _ in 0..REPLAY_WINDOW - 1 {
        last = seal(&mut sealer, b"q");
    }
    assert!(opener.open(&mut last).is_ok());
    assert_eq!(opener.window().highest(), Some(50 + REPLAY_WINDOW - 1));
    assert_eq!(
        opener.open(&mut packets[0].clone()).unwrap_err(),
        CryptoError::TooOld
    );
    assert_eq!(
        opener.open(&mut packets[49].clone()).unwrap_err(),
        CryptoError::Replayed
    );
}

#[test]
fn forged_packets_do_not_move_the_window() {
    let mut sealer = Sealer::new(&KEY).unwrap();
    let mut opener = Opener::new(&KEY).unwrap();
    let good = seal(&mut sealer, b"first");
    // A forged packet with a huge counter and a bad tag.
    let mut forged = good.clone();
    forged[12 + 4..24].copy_from_slice(&1_000_000u64.to_le_bytes());
    assert_eq!(
        opener.open(&mut forged).unwrap_err(),
        CryptoError::AuthFailed
    );
    assert_eq!(opener.window().highest(), None);
    assert!(opener.open(&mut good.clone()).is_ok());
}

#[test]
fn seal_refuses_bad_arguments() {
    let mut sealer = Sealer::new(&KEY).unwrap();
    let mut h = header();
    let mut small = [0u8; HEADER_LEN + 10];
    assert_eq!(
        sealer.seal(&mut h, &mut small, 10).unwrap_err(),
        CryptoError::BufferTooSmall {
            needed: HEADER_LEN + 10 + TAG_LEN,
            got: HEADER_LEN + 10
        }
    );
    let mut huge = vec![0u8; HEADER_LEN + 70_000];
    assert!(matches!(
        sealer.seal(&mut h, &mut huge, 65_530),
        Err(CryptoError::PayloadTooLarge(_))
    ));
    assert!(matches!(
        sealer.seal(&mut h, &mut huge, usize::MAX),
        Err(CryptoError::PayloadTooLarge(_))
    ));
    let mut bad = header();
    bad.flags = 0x80;
    let mut buf = [0u8; HEADER_LEN + TAG_LEN];
    assert!(matches!(
        sealer.seal(&mut bad, &mut buf, 0),
        Err(CryptoError::Wire(_))
    ));
    // Failed seals consumed no counter.
    assert_eq!(sealer.next_counter(), 0);
}

#[test]
fn short_and_odd_packets_fail_cleanly() {
    let mut opener = Opener::new(&KEY).unwrap();
    let mut h = header();
    h.payload_len = 15;
    let mut p = h.to_bytes().to_vec();
    p.extend([0u8; 15]);
    assert_eq!(
        opener.open(&mut p).unwrap_err(),
        CryptoError::ShortCiphertext
    );
    let mut p = seal(&mut Sealer::new(&KEY).unwrap(), b"abc");
    p[12] = 1;
    assert_eq!(opener.open(&mut p).unwrap_err(), CryptoError::BadNonce);
    assert!(matches!(opener.open(&mut []), Err(CryptoError::Wire(_))));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn open_never_panics(mut bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut opener = Opener::new(&KEY).unwrap();
        prop_assert!(opener.open(&mut bytes).is_err());
    }

    #[test]
    fn any_plaintext_round_trips(msg in proptest::collection::vec(any::<u8>(), 0..1400)) {
        let mut sealer = Sealer::new(&KEY).unwrap();
        let mut opener = Opener::new(&KEY).unwrap();
        let mut p = seal(&mut sealer, &msg);
        prop_assert_eq!(opener.open(&mut p).unwrap().1, msg.as_slice());
    }
}
