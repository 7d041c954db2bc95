#!/usr/bin/env python3
"""Seeds tests/fuzz_corpus/token/ from tests/cross_lang/wire/tokens.json plus edge cases.

File names say what the engine must do with the bytes read as a token chain: `valid_*` parse,
`invalid_*` are refused, `any_*` only must not crash. cargo-fuzz may add files (named by hash)
when run by hand. Run: python3 tests/fuzz_corpus/gen_token_corpus.py
"""
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "token")


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(HERE, "..", "cross_lang", "wire", "tokens.json")) as f:
        fx = json.load(f)
    chains = {c["name"].replace("+", "_"): bytes.fromhex(c["chain_hex"]) for c in fx["chains"]}
    for name, chain in chains.items():
        write(f"valid_chain_{name}", chain)
    two = chains["root_issued_delegated"]
    # Truncations at every field boundary of the second token, and inside the first.
    for cut in [0, 1, 2, 3, 5, 37, 69, 77, 93, 105, 137, 200, 201, 202, 300, len(two) - 1]:
        write(f"invalid_truncated_{cut}", two[:cut])
    write("invalid_trailing", two + b"\x00")
    write("invalid_count_9", bytes([9]) + two[1:])
    write("invalid_count_255", bytes([255]) + two[1:])
    bad_magic = bytearray(two)
    bad_magic[1] = ord("X")
    write("invalid_magic", bytes(bad_magic))
    bad_version = bytearray(two)
    bad_version[1 + 201 + 2] = 2
    write("invalid_version", bytes(bad_version))
    bad_scope = bytearray(two)
    bad_scope[1 + 3] = 0xF0
    write("invalid_scope_bits", bytes(bad_scope))
    inverted = bytearray(two)
    inverted[1 + 77:1 + 85] = (2**64 - 1).to_bytes(8, "little")
    write("invalid_inverted_window", bytes(inverted))
    rng = random.Random(7)
    # Signature and field flips still parse (verification refuses them).
    for i in range(6):
        flipped = bytearray(two)
        flipped[1 + 201 + 137 + rng.randrange(64)] ^= 1 << rng.randrange(8)
        write(f"valid_sig_flip_{i}", bytes(flipped))
    for i in range(6):
        flipped = bytearray(two)
        flipped[rng.randrange(len(two))] ^= 1 << rng.randrange(8)
        write(f"any_bitflip_{i}", bytes(flipped))
    for i in range(4):
        n = rng.choice([1, 2, 8])
        write(f"any_random_{i}", bytes([n]) + bytes(rng.randrange(256) for _ in range(201 * n)))
    write("any_zero_token", bytes([1]) + b"NT\x01" + bytes(198))


if __name__ == "__main__":
    main()
