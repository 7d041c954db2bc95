#!/usr/bin/env python3
"""Generates the wire fixtures in this folder from the byte layout in docs/wire.md.

An implementation independent of the Rust engine (struct.pack, hashlib and the `cryptography`
package), so the fixtures check the engine rather than echo it. Run by hand after a deliberate
wire change: `python3 tests/cross_lang/wire/gen_fixtures.py`. u64 values are decimal strings
in the JSON (JavaScript numbers cannot hold them); byte strings are lowercase hex.
"""
import hashlib
import json
import os
import struct

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives import serialization

HERE = os.path.dirname(os.path.abspath(__file__))
U64 = {"session_id", "stream_id", "sequence", "dest_id"}


def header_bytes(f, magic=b"\x45\x4e", version=1):
    return (magic + struct.pack("<BBBBBBHH", version, f["flags"], f["priority"], f["hop_ttl"],
                                f["hop_count"], f["frag_flags"], f["subprotocol_id"], f["channel_hash"])
            + bytes.fromhex(f["nonce"])
            + struct.pack("<QQQIIHHHH", f["session_id"], f["stream_id"], f["sequence"], f["subnet_id"],
                          f["origin_hash"], f["fragment_id"], f["fragment_offset"], f["payload_len"],
                          f["event_count"]))


def routing_bytes(r, magic=b"RT", reserved=0):
    return magic + struct.pack("<BBBBIQ", r["ttl"], r["hop_count"], r["flags"], reserved, r["src_id"], r["dest_id"])


def aad(h):
    return h[0:6] + h[7:12] + h[24:64]


def jsonable(fields):
    return {k: (str(v) if k in U64 else v) for k, v in fields.items()}


def hfields(**kw):
    f = dict(flags=0, priority=0, hop_ttl=0, hop_count=0, frag_flags=0, subprotocol_id=0, channel_hash=0,
             nonce="00" * 12, session_id=0, stream_id=0, sequence=0, subnet_id=0, origin_hash=0,
             fragment_id=0, fragment_offset=0, payload_len=0, event_count=0)
    f.update(kw)
    return f


FULL = hfields(flags=0x05, priority=7, hop_ttl=16, hop_count=3, frag_flags=0x03, subprotocol_id=0x0400,
               channel_hash=0xBEEF, nonce="000000000102030405060708", session_id=0x1122334455667788,
               stream_id=0x0102030405060708, sequence=0xFFFFFFFFFFFFFFFE, subnet_id=0x0A0B0C0D,
               origin_hash=0xDEADBEEF, fragment_id=0x1234, fragment_offset=0x0560, payload_len=4,
               event_count=1)
MAXED = hfields(flags=0x0F, priority=255, hop_ttl=255, hop_count=255, frag_flags=0x01, subprotocol_id=0xFFFF,
                channel_hash=0xFFFF, nonce="ff" * 12, session_id=2**64 - 1, stream_id=2**64 - 1,
                sequence=2**64 - 1, subnet_id=2**32 - 1, origin_hash=2**32 - 1, fragment_id=0xFFFF,
                fragment_offset=0xFFFF, payload_len=0, event_count=0xFFFF)
PLAIN = hfields(flags=0x04, priority=1, hop_ttl=1, subprotocol_id=0, channel_hash=0x0102,
                session_id=42, stream_id=1, sequence=1, payload_len=0, event_count=0)


def header_fixture():
    valid = []
    for name, f in [("zero", hfields()), ("all_fields_distinct", FULL), ("all_fields_max", MAXED),
                    ("plain_reliable", PLAIN)]:
        payload = bytes(range(f["payload_len"]))
        valid.append({"name": name, "fields": jsonable(f), "header_hex": header_bytes(f).hex(),
                      "payload_hex": payload.hex()})
    good = header_bytes(PLAIN)
    invalid = [
        ("empty", b"", "truncated"),
        ("one_byte", b"\x45", "truncated"),
        ("63_bytes", good[:63], "truncated"),
        ("magic_big_endian", header_bytes(PLAIN, magic=b"\x4e\x45"), "bad_magic"),
        ("routing_magic", header_bytes(PLAIN, magic=b"RT"), "bad_magic"),
        ("version_0", header_bytes(PLAIN, version=0), "unsupported_version"),
        ("version_2", header_bytes(PLAIN, version=2), "unsupported_version"),
        ("reserved_flag_0x10", header_bytes(hfields(flags=0x10)), "reserved_bits"),
        ("reserved_flag_0x80", header_bytes(hfields(flags=0x84)), "reserved_bits"),
        ("reserved_frag_flag", header_bytes(hfields(frag_flags=0x05)), "reserved_bits"),
        ("hop_count_over_ttl", header_bytes(hfields(hop_ttl=2, hop_count=3)), "hop_limit_exceeded"),
        ("last_without_fragment", header_bytes(hfields(frag_flags=0x02)), "bad_fragment"),
        ("fragment_id_without_fragment", header_bytes(hfields(fragment_id=9)), "bad_fragment"),
        ("fragment_offset_without_fragment", header_bytes(hfields(fragment_offset=1)), "bad_fragment"),
        ("payload_beyond_datagram", header_bytes(hfields(payload_len=10)) + b"\x00" * 5, "payload_beyond_datagram"),
        ("payload_len_max_nothing_after", header_bytes(hfields(payload_len=0xFFFF)), "payload_beyond_datagram"),
    ]
    cases = [{"name": n, "datagram_hex": d.hex(), "kind": k} for n, d, k in invalid]
    # Header::parse allows bytes after the payload; split_packet (exact packet) does not.
    trailing = [{"name": "trailing_byte", "datagram_hex": (header_bytes(hfields(payload_len=2)) + b"abc").hex(),
                 "kind": "trailing_bytes"}]
    return {"description": "64-byte Net header (docs/wire.md). valid: encode(fields) == header_hex and "
                           "parse(header_hex + payload_hex) == fields. invalid: Header::parse(datagram) fails with kind. "
                           "invalid_packet: Header::parse succeeds but split_packet (exact length) fails with kind.",
            "valid": valid, "invalid": cases, "invalid_packet": trailing}


def routing_fixture():
    valid_r = [
        ("zero", dict(ttl=0, hop_count=0, flags=0, src_id=0, dest_id=0)),
        ("typical", dict(ttl=8, hop_count=1, flags=0x02, src_id=0x89ABCDEF, dest_id=0x0123456789ABCDEF)),
        ("max", dict(ttl=255, hop_count=255, flags=0x0F, src_id=2**32 - 1, dest_id=2**64 - 1)),
    ]
    valid = [{"name": n, "fields": jsonable(r), "hex": routing_bytes(r).hex()} for n, r in valid_r]
    typical = valid_r[1][1]
    invalid = [
        ("empty", b"", "truncated"),
        ("17_bytes", routing_bytes(typical)[:17], "truncated"),
        ("net_magic", routing_bytes(typical, magic=b"\x45\x4e"), "bad_magic"),
        ("lowercase_rt", routing_bytes(typical, magic=b"rt"), "bad_magic"),
        ("reserved_route_flag", routing_bytes(dict(typical, flags=0x10)), "reserved_bits"),
        ("reserved_byte", routing_bytes(typical, reserved=1), "reserved_byte"),
    ]
    direct = header_bytes(PLAIN)
    routed = routing_bytes(typical) + header_bytes(hfields(payload_len=3)) + b"xyz"
    classify = [
        {"name": "direct", "datagram_hex": direct.hex(), "class": "direct"},
        {"name": "routed", "datagram_hex": routed.hex(), "class": "routed"},
        {"name": "two_bytes_direct", "datagram_hex": "454e", "class": "direct"},
        {"name": "two_bytes_routed", "datagram_hex": "5254", "class": "routed"},
        {"name": "empty", "datagram_hex": "", "class": "truncated"},
        {"name": "one_byte", "datagram_hex": "45", "class": "truncated"},
        {"name": "unknown", "datagram_hex": "4e45" + "00" * 62, "class": "bad_magic"},
    ]
    datagrams = [
        {"name": "routed_packet", "datagram_hex": routed.hex(), "routing": jsonable(typical),
         "header": jsonable(hfields(payload_len=3)), "payload_hex": b"xyz".hex()},
        {"name": "direct_packet", "datagram_hex": direct.hex(), "routing": None,
         "header": jsonable(PLAIN), "payload_hex": ""},
    ]
    bad_datagrams = [
        {"name": "routed_truncated_inner", "datagram_hex": (routing_bytes(typical) + direct[:40]).hex(), "kind": "truncated"},
        {"name": "routed_inner_bad_magic", "datagram_hex": (routing_bytes(typical) + routing_bytes(typical) + direct).hex(), "kind": "bad_magic"},
        {"name": "routed_trailing", "datagram_hex": (routed + b"!").hex(), "kind": "trailing_bytes"},
    ]
    return {"description": "18-byte routing header and datagram classification (docs/wire.md). valid: encode(fields) == hex, "
                           "parse(hex) == fields. classify: class of a datagram from bytes 0-1 (or the error kind). "
                           "datagrams: parse_datagram results; bad_datagrams: parse_datagram error kinds.",
            "valid": valid, "invalid": [{"name": n, "hex": d.hex(), "kind": k} for n, d, k in invalid],
            "classify": classify, "datagrams": datagrams, "bad_datagrams": bad_datagrams}


def aad_fixture():
    cases = []
    for name, f in [("all_fields_distinct", FULL), ("all_fields_max", MAXED), ("plain_reliable", PLAIN)]:
        h = header_bytes(f)
        cases.append({"name": name, "header_hex": h.hex(), "aad_hex": aad(h).hex()})
    # The seal vectors: ChaCha20-Poly1305 with nonce = 4 zero bytes || counter (LE), AAD as above.
    key = bytes(range(32))
    seals = []
    for counter, plaintext in [(0, b'{"token":"hello"}'), (1, b""), (2, bytes(range(64)))]:
        nonce = b"\x00" * 4 + struct.pack("<Q", counter)
        f = dict(PLAIN, nonce=nonce.hex(), payload_len=len(plaintext) + 16, sequence=counter + 1,
                 event_count=1 if plaintext else 0)
        h = header_bytes(f)
        sealed = ChaCha20Poly1305(key).encrypt(nonce, plaintext, aad(h))
        seals.append({"counter": counter, "header_fields": jsonable(dict(f, nonce="00" * 12, payload_len=0)),
                      "plaintext_hex": plaintext.hex(), "packet_hex": (h + sealed).hex()})
    return {"description": "AAD = header bytes 0-5, 7-11, 24-63 (51 bytes; nonce and hop_count excluded). "
                           "seal: a Sealer with tx key key_hex seals the vectors in order (counters 0, 1, 2); "
                           "header_fields are the caller's fields before seal sets nonce and payload_len.",
            "aad_len": 51, "cases": cases, "key_hex": key.hex(), "seal": seals}


def frame_bytes(events):
    return b"".join(struct.pack("<H", len(e)) + e for e in events)


def frame_fixture():
    valid = [
        ("empty", []),
        ("one", [b'{"a":1}']),
        ("three", [b'{"token":"hello"}', b"[]", b'"x"']),
        ("with_empty_event", [b"", b"1"]),
    ]
    invalid = [
        ("prefix_cut", b"\x05", 1, "frame_truncated"),
        ("body_cut", b"\x05\x00abc", 1, "frame_truncated"),
        ("second_event_cut", frame_bytes([b"ab"]) + b"\x09\x00x", 2, "frame_truncated"),
        ("fewer_than_count", frame_bytes([b"ab"]), 2, "event_count_mismatch"),
        ("more_than_count", frame_bytes([b"ab", b"cd"]), 1, "event_count_mismatch"),
        ("count_zero_but_bytes", frame_bytes([b"ab"]), 0, "event_count_mismatch"),
        ("trailing_garbage", frame_bytes([b"ab"]) + b"\xff", 1, "trailing_bytes"),
    ]
    return {"description": "Event frame: event_count entries of (u16 LE length, bytes). valid: writing events gives "
                           "frame_hex; parsing frame_hex with count yields events. invalid: parse(frame_hex, count) fails with kind.",
            "valid": [{"name": n, "events_hex": [e.hex() for e in ev], "count": len(ev), "frame_hex": frame_bytes(ev).hex()}
                      for n, ev in valid],
            "invalid": [{"name": n, "frame_hex": d.hex(), "count": c, "kind": k} for n, d, c, k in invalid]}


def identity_fixture():
    cases = []
    for seed in [bytes(32), bytes(range(32)), bytes([0xA5] * 32)]:
        sk = Ed25519PrivateKey.from_private_bytes(seed)
        pub = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        d = hashlib.blake2s(pub).digest()
        node_id = struct.unpack("<Q", d[0:8])[0]
        origin = struct.unpack("<I", d[8:12])[0]
        x_secret = hashlib.blake2s(b"net-mesh/x25519-static/v1" + seed).digest()
        x_pub = X25519PrivateKey.from_private_bytes(x_secret).public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        sig = sk.sign(b"net-mesh/static-key/v1" + x_pub)
        cases.append({"seed_hex": seed.hex(), "public_key_hex": pub.hex(), "node_id": str(node_id),
                      "routing_id": node_id & 0xFFFFFFFF, "origin_hash": origin, "static_key_hex": x_pub.hex(),
                      "card_hex": (pub + x_pub + sig).hex()})
    return {"description": "Identity derivations (core/src/identity): public key = ed25519(seed); d = BLAKE2s-256(public key); "
                           "node_id = LE u64 d[0..8]; routing_id = node_id mod 2^32; origin_hash = LE u32 d[8..12]; "
                           "static key = X25519(BLAKE2s-256('net-mesh/x25519-static/v1' || seed)); "
                           "card = public key || static key || ed25519 sig over 'net-mesh/static-key/v1' || static key.",
            "cases": cases}


def main():
    for name, fx in [("header", header_fixture()), ("routing_header", routing_fixture()), ("aad", aad_fixture()),
                     ("frame", frame_fixture()), ("identity", identity_fixture())]:
        with open(os.path.join(HERE, name + ".json"), "w") as fh:
            json.dump(fx, fh, indent=2)
            fh.write("\n")


if __name__ == "__main__":
    main()
