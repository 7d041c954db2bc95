#!/usr/bin/env python3
"""Checks tests/cross_lang/wire/tokens.json against the byte layout in docs/tokens.md.

An implementation independent of the Rust engine (struct.pack, hashlib.blake2s and the
`cryptography` package): it derives each identity's key from its seed, re-encodes every token
from its fields, re-signs it with the issuer's seed (ed25519 is deterministic), and compares the
bytes, hashes and chains with the file. The Rust test core/tests/token_fixtures.rs regenerates
the file from the engine; this script shows the engine matches the documented layout.
Run: python3 tests/cross_lang/wire/check_tokens.py (exit status 1 on any mismatch).
"""
import hashlib
import json
import os
import struct
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

HERE = os.path.dirname(os.path.abspath(__file__))


def public_key(seed):
    raw = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    return raw.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def main():
    with open(os.path.join(HERE, "tokens.json")) as f:
        fx = json.load(f)
    seeds = {}
    for ident in fx["identities"]:
        seed = bytes.fromhex(ident["seed_hex"])
        pk = public_key(seed)
        assert pk.hex() == ident["public_key_hex"], ident["name"]
        seeds[pk] = seed
    encoded = {}
    for t in fx["tokens"]:
        issuer = bytes.fromhex(t["issuer_hex"])
        signed = (b"NT" + struct.pack("<BBB", 1, t["scope"], t["depth"]) + issuer
                  + bytes.fromhex(t["subject_hex"])
                  + struct.pack("<QQQIQ", int(t["channel_hash"]), int(t["not_before"]),
                                int(t["not_after"]), t["issuer_generation"], int(t["nonce"]))
                  + bytes.fromhex(t["parent_hex"]))
        assert len(signed) == 137
        sig = Ed25519PrivateKey.from_private_bytes(seeds[issuer]).sign(signed)
        assert sig.hex() == t["signature_hex"], t["name"] + ": signature"
        token = signed + sig
        assert len(token) == 201
        assert token.hex() == t["token_hex"], t["name"] + ": bytes"
        digest = hashlib.blake2s(token, digest_size=32).digest()
        assert digest.hex() == t["hash_hex"], t["name"] + ": hash"
        encoded[t["name"]] = token
    by_name = {t["name"]: t for t in fx["tokens"]}
    assert by_name["delegated"]["parent_hex"] == by_name["root_issued"]["hash_hex"]
    for c in fx["chains"]:
        names = c["name"].split("+")
        want = bytes([len(names)]) + b"".join(encoded[n] for n in names)
        assert want.hex() == c["chain_hex"], c["name"]
    print(f"tokens.json: {len(fx['tokens'])} tokens and {len(fx['chains'])} chains match the layout")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"tokens.json mismatch: {e}", file=sys.stderr)
        sys.exit(1)
