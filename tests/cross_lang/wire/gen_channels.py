#!/usr/bin/env python3
"""Generates (or, with --check, verifies) channels.json in this folder from the rules in
docs/channels.md.

Independent of the Rust engine: XXH3-64 is written out below from the xxHash specification
(seed 0, default secret; checked against the C reference `xxhash` package when it is
installed), the hint is computed here, and the invalid names carry hand-written expected error
kinds. Plain python3, no packages. Regenerate after a deliberate change:
`python3 tests/cross_lang/wire/gen_channels.py`; `--check` exits non-zero if the file differs.
u64 values are decimal strings in the JSON (JavaScript numbers cannot hold them).
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
M64 = (1 << 64) - 1

# XXH3-64, seed 0 (constants from the xxHash specification).
P32_1, P32_2, P32_3 = 0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D
P64_1, P64_2, P64_3 = 0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9
P64_4, P64_5 = 0x85EBCA77C2B2AE63, 0x27D4EB2F165667C5
PMX1, PMX2 = 0x165667919E3779F9, 0x9FB21C651E98DF25
SECRET = bytes.fromhex(
    "b8fe6c3923a44bbe7c01812cf721ad1cded46de9839097db7240a4a4b7b3671f"
    "cb79e64eccc0e578825ad07dccff7221b8084674f743248ee03590e6813a264c"
    "3c2852bb91c300cb88d0658b1b532ea371644897a20df94e3819ef46a9deacd8"
    "a8fa763fe39c343ff9dcbbc7c70b4f1d8a51e04bcdb45931c89f7ec9d9787364"
    "eac5ac8334d3ebc3c581a0fffa1363eb170ddd51b7f0da49d316552629d4689e"
    "2b16be587d47a1fc8ff8b8d17ad031ce45cb3a8f95160428afd7fbcabb4b407e")


def r32(b, i):
    return int.from_bytes(b[i:i + 4], "little")


def r64(b, i):
    return int.from_bytes(b[i:i + 8], "little")


def fold(a, b):
    p = (a & M64) * (b & M64)
    return (p ^ (p >> 64)) & M64


def avalanche64(h):
    h ^= h >> 33
    h = (h * P64_2) & M64
    h ^= h >> 29
    h = (h * P64_3) & M64
    return h ^ (h >> 32)


def avalanche3(h):
    h ^= h >> 37
    h = (h * PMX1) & M64
    return h ^ (h >> 32)


def rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & M64


def rrmxmx(h, n):
    h ^= rotl(h, 49) ^ rotl(h, 24)
    h = (h * PMX2) & M64
    h ^= ((h >> 35) + n) & M64
    h = (h * PMX2) & M64
    return h ^ (h >> 28)


def mix16(b, i, s):
    return fold(r64(b, i) ^ r64(SECRET, s), r64(b, i + 8) ^ r64(SECRET, s + 8))


def acc512(acc, b, i, s):
    for j in range(8):
        v = r64(b, i + 8 * j)
        k = v ^ r64(SECRET, s + 8 * j)
        acc[j ^ 1] = (acc[j ^ 1] + v) & M64
        acc[j] = (acc[j] + (k & 0xFFFFFFFF) * (k >> 32)) & M64


def xxh3_64(b):
    n = len(b)
    if n == 0:
        return avalanche64(r64(SECRET, 56) ^ r64(SECRET, 64))
    if n <= 3:
        c = (b[0] << 16) | (b[n >> 1] << 24) | b[n - 1] | (n << 8)
        return avalanche64(c ^ (r32(SECRET, 0) ^ r32(SECRET, 4)))
    if n <= 8:
        x = (r32(b, n - 4) + (r32(b, 0) << 32)) ^ (r64(SECRET, 8) ^ r64(SECRET, 16))
        return rrmxmx(x, n)
    if n <= 16:
        lo = r64(b, 0) ^ r64(SECRET, 24) ^ r64(SECRET, 32)
        hi = r64(b, n - 8) ^ r64(SECRET, 40) ^ r64(SECRET, 48)
        swapped = int.from_bytes(lo.to_bytes(8, "little"), "big")
        return avalanche3((n + swapped + hi + fold(lo, hi)) & M64)
    if n <= 128:
        acc = n * P64_1
        if n > 32:
            if n > 64:
                if n > 96:
                    acc += mix16(b, 48, 96) + mix16(b, n - 64, 112)
                acc += mix16(b, 32, 64) + mix16(b, n - 48, 80)
            acc += mix16(b, 16, 32) + mix16(b, n - 32, 48)
        acc += mix16(b, 0, 0) + mix16(b, n - 16, 16)
        return avalanche3(acc & M64)
    if n <= 240:
        acc = n * P64_1
        for i in range(8):
            acc += mix16(b, 16 * i, 16 * i)
        acc = avalanche3(acc & M64)
        end = mix16(b, n - 16, 136 - 17)
        for i in range(8, n // 16):
            end += mix16(b, 16 * i, 16 * (i - 8) + 3)
        return avalanche3((acc + end) & M64)
    acc = [P32_3, P64_1, P64_2, P64_3, P64_4, P32_2, P64_5, P32_1]
    per_block = (len(SECRET) - 64) // 8
    block = 64 * per_block
    blocks = (n - 1) // block
    for blk in range(blocks):
        for s in range(per_block):
            acc512(acc, b, blk * block + 64 * s, 8 * s)
        for j in range(8):
            a = acc[j] ^ (acc[j] >> 47) ^ r64(SECRET, len(SECRET) - 64 + 8 * j)
            acc[j] = (a * P32_1) & M64
    for s in range(((n - 1) - block * blocks) // 64):
        acc512(acc, b, blocks * block + 64 * s, 8 * s)
    acc512(acc, b, n - 64, len(SECRET) - 64 - 7)
    result = n * P64_1
    for i in range(4):
        result += fold(acc[2 * i] ^ r64(SECRET, 11 + 16 * i), acc[2 * i + 1] ^ r64(SECRET, 11 + 16 * i + 8))
    return avalanche3(result & M64)


def self_check():
    """Compares with the C reference when the `xxhash` package is installed."""
    try:
        import xxhash
    except ImportError:
        return False
    import random
    rng = random.Random(7)
    for n in list(range(0, 300)) + [1023, 1024, 1025, 2048, 2049, 5000]:
        data = bytes(rng.randrange(256) for _ in range(n))
        assert xxh3_64(data) == xxhash.xxh3_64_intdigest(data), n
    return True


def canonical(name):
    h = xxh3_64(name.encode("ascii"))
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


def build():
    return {
        "description": "Channel names: canonical hash = XXH3-64 (seed 0) of the name bytes (0 -> 1), "
                       "wire hint = hash % 65535 + 1. See docs/channels.md.",
        "limits": {"max_name_len": 255, "max_segment_len": 64, "max_segments": 16},
        "valid": [{"name": n, "hash": str(canonical(n)), "hint": hint(canonical(n))} for n in VALID],
        "invalid": [dict({"name": n, "kind": k}, **({} if at is None else {"at": at}))
                    for n, k, at in INVALID],
        "patterns": PATTERNS,
        "invalid_patterns": [{"pattern": p, "kind": k} for p, k in INVALID_PATTERNS],
    }


def main():
    checked_against_c = self_check()
    text = json.dumps(build(), indent=2, ensure_ascii=True) + "\n"
    path = os.path.join(HERE, "channels.json")
    if "--check" in sys.argv[1:]:
        with open(path) as f:
            if f.read() != text:
                print("channels.json differs from what gen_channels.py generates", file=sys.stderr)
                sys.exit(1)
        print("channels.json: ok (%d names%s)" % (len(VALID), ", XXH3 checked against the C reference"
                                                   if checked_against_c else ""))
        return
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
