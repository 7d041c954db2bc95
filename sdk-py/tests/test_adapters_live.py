"""The Redis Streams and NATS JetStream adapters through the SDK, against the real servers.

``make test-adapters`` starts both servers and exports ``NET_TEST_REDIS_URL`` and
``NET_TEST_NATS_URL``; without them (a plain ``make test-python``) these tests are skipped and
say why.
"""

from __future__ import annotations

import os
import time

import pytest

import net
from net_sdk import NetNode

CASES = [("redis", "NET_TEST_REDIS_URL"), ("jetstream", "NET_TEST_NATS_URL")]


def _adapter(kind: str, var: str) -> dict[str, str]:
    url = os.environ.get(var)
    if not url:
        pytest.skip(f"{var} is not set: run `make test-adapters` to start the servers")
    prefix = f"py_{kind}_{os.getpid()}_{time.monotonic_ns() % 1_000_000_000}"
    return {"type": kind, "url": url, "prefix": prefix}


@pytest.mark.parametrize(("kind", "var"), CASES)
def test_round_trip_through_a_live_adapter(kind: str, var: str) -> None:
    n = 2000
    with NetNode(shards=2, adapter=_adapter(kind, var)) as node:
        result = node.emit_raw_batch([f'{{"i":{i}}}' for i in range(n)])
        assert len(result) == n
        node.flush()

        seen: set[str] = set()
        next_position = {0: 0, 1: 0}
        cursor: str | None = None
        while True:
            page = node.poll(limit=333, cursor=cursor)
            for event in page:
                assert event.position == next_position[event.shard], "per-shard order"
                next_position[event.shard] += 1
                assert event.raw not in seen, f"{event.raw} read twice"
                seen.add(event.raw)
            cursor = page.cursor
            if not page.has_more:
                break
        assert len(seen) == n
        assert node.stats()["delivered"] == n

        # A memory-adapter cursor is refused by a bus on another adapter.
        with NetNode(shards=2) as memory:
            memory.emit({"i": 0})
            memory.flush()
            foreign = memory.poll(limit=10).cursor
        with pytest.raises(net.InvalidCursorError):
            node.poll(cursor=foreign)
