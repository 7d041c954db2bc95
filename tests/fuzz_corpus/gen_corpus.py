#!/usr/bin/env python3
"""Seeds tests/fuzz_corpus/packet/ from the wire fixtures plus hand-made edge cases.

File names say what the engine must do: `valid_*` parse as a datagram, `invalid_*` are refused,
`any_*` only must not crash. cargo-fuzz may add files (named by hash) when run by hand; those are
`any_`-like. Run: python3 tests/fuzz_corpus/gen_corpus.py
"""
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
WIRE = os.path.join(HERE, "..", "cross_lang", "wire")
OUT = os.path.join(HERE, "packet")


def load(name):
    with open(os.path.join(WIRE, name)) as f:
        return json.load(f)


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def main():
    os.makedirs(OUT, exist_ok=True)
    header = load("header.json")
    routing = load("routing_header.json")
    aad = load("aad.json")
    for c in header["valid"]:
        write("valid_header_" + c["name"], bytes.fromhex(c["header_hex"] + c["payload_hex"]))
    for c in header["invalid"] + header["invalid_packet"]:
        write("invalid_header_" + c["name"], bytes.fromhex(c["datagram_hex"]))
    for c in routing["datagrams"]:
        write("valid_datagram_" + c["name"], bytes.fromhex(c["datagram_hex"]))
    for c in routing["bad_datagrams"]:
        write("invalid_datagram_" + c["name"], bytes.fromhex(c["datagram_hex"]))
    for c in routing["invalid"]:
        write("invalid_routing_" + c["name"], bytes.fromhex(c["hex"]))
    for c in aad["seal"]:
        sealed = bytes.fromhex(c["packet_hex"])
        write("valid_sealed_%d" % c["counter"], sealed)
        write("valid_routed_sealed_%d" % c["counter"],
              bytes.fromhex(routing["valid"][1]["hex"]) + sealed)
    rng = random.Random(6)
    for i in range(6):
        write("any_random_%d" % i, bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))))
    sealed = bytes.fromhex(aad["seal"][0]["packet_hex"])
    for i in range(6):
        b = bytearray(sealed)
        b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        write("any_bitflip_%d" % i, bytes(b))
    write("any_max_lengths", bytes.fromhex("454e01000000000000000000") + b"\x00" * 48 + b"\xff\xff\xff\xff")


if __name__ == "__main__":
    main()
