#!/usr/bin/env python3
"""Generates channels.json in this folder from the rules in docs/channels.md.

Independent of the Rust engine: the hash is the `xxhash` package (the C reference XXH3),
the hint is computed here, and the invalid names carry hand-written expected error kinds.
Run by hand after a deliberate change: `pip install xxhash` then
`python3 tests/cross_lang/wire/gen_channels.py`. u64 values are decimal strings in the JSON
(JavaScript numbers cannot hold them).
"""
import json
import os

import xxhash

HERE = os.path.dirname(os.path.abspath(__file__))


def canonical(name):
    h = xxhash.xxh3_64_intdigest(name.encode("ascii"))
    return h if h != 0 else 1


def hint(h):
    return h % 0xFFFF + 1


def find_edge():
    """A name whose hash is a multiple of 65535 (the hint wraps to 1)."""
    i = 0
    while True:
        name = "edge/n%d" % i
        if canonical(name) % 0xFFFF == 0:
            return name
        i += 1


SEG64 = "s" * 64
MAX_NAME = "/".join(["a" * 63] * 4)  # 4*63 + 3 = 255 bytes
assert len(MAX_NAME) == 255
SIXTEEN = "/".join("abcdefghijklmnop")
VALID = [
    "sensors/lidar/front",
    "sensors/lidar/rear",
    "alerts/temperature",
    "sensors",
    "a",
    "cortex/tasks",
    "Sensors/Lidar/Front",
    "sensors/lidar/front-left/raw0001",
    "svc.echo/replies.0a1b2c3d",
    "under_score/dash-ed/dot.ted/9",
    SEG64,
    MAX_NAME,
    SIXTEEN,
    find_edge(),
]
assert len("sensors/lidar/front-left/raw0001") == 32

INVALID = [
    ("", "empty", None),
    ("a" * 256, "too_long", None),
    ("/sensors", "empty_segment", 0),
    ("sensors/", "empty_segment", 1),
    ("sensors//lidar", "empty_segment", 1),
    ("s" * 65, "segment_too_long", 0),
    ("ok/" + "s" * 65, "segment_too_long", 1),
    (SIXTEEN + "/q", "too_many_segments", None),
    ("sensors/lidar front", "invalid_char", 13),
    ("sensors/*", "invalid_char", 8),
    ("sensors/lid\u00e4r", "invalid_char", 11),
    ("a\\b", "invalid_char", 1),
    ("a:b", "invalid_char", 1),
    ("a/./b", "dot_segment", 1),
    ("..", "dot_segment", 0),
]

PATTERNS = [
    {"pattern": "sensors/*", "match": ["sensors/lidar", "sensors/x"],
     "no_match": ["sensors", "sensors/lidar/front", "alerts/x"]},
    {"pattern": "sensors/**", "match": ["sensors", "sensors/lidar", "sensors/lidar/front"],
     "no_match": ["sensorsx", "alerts/sensors", "Sensors/lidar"]},
    {"pattern": "sensors/*/front", "match": ["sensors/lidar/front", "sensors/cam/front"],
     "no_match": ["sensors/lidar/rear", "sensors/lidar/front/x", "sensors/front"]},
    {"pattern": "**", "match": ["a", "sensors/lidar/front"], "no_match": []},
    {"pattern": "*", "match": ["a", "sensors"], "no_match": ["a/b"]},
    {"pattern": "sensors/lidar", "match": ["sensors/lidar"],
     "no_match": ["sensors/lidar/front", "sensors"]},
]

INVALID_PATTERNS = [
    ("sensors/**/front", "double_star_not_last"),
    ("sens*", "partial_wildcard"),
    ("sensors/***", "partial_wildcard"),
    ("sensors//*", "empty_segment"),
    ("", "empty"),
    ("sensors/$", "invalid_char"),
]


def main():
    out = {
        "description": "Channel names: canonical hash = XXH3-64 (seed 0) of the name bytes (0 -> 1), "
                       "wire hint = hash % 65535 + 1. See docs/channels.md.",
        "limits": {"max_name_len": 255, "max_segment_len": 64, "max_segments": 16},
        "valid": [{"name": n, "hash": str(canonical(n)), "hint": hint(canonical(n))} for n in VALID],
        "invalid": [dict({"name": n, "kind": k}, **({} if at is None else {"at": at}))
                    for n, k, at in INVALID],
        "patterns": PATTERNS,
        "invalid_patterns": [{"pattern": p, "kind": k} for p, k in INVALID_PATTERNS],
    }
    with open(os.path.join(HERE, "channels.json"), "w") as f:
        json.dump(out, f, indent=2, ensure_ascii=True)
        f.write("\n")


if __name__ == "__main__":
    main()
