"""The mesh adapter through the SDK (``docs/mesh.md``, "The JSON form").

Two nodes in this process exchange events over UDP on 127.0.0.1: the receiving node listens
on port 0, and the sending node lists the ``local_addr@card`` entry read from its stats. Bad
mesh configs raise ``net.ConfigError`` naming the key. No server is needed.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import pytest

import net
from net_sdk import NetNode

PSK = "7e" * 32


def _mesh(*peers: Any) -> dict[str, Any]:
    return {
        "type": "mesh",
        "listen": "127.0.0.1:0",
        "psk_hex": PSK,
        "peers": list(peers),
        "connect_timeout_ms": 10_000,
        "credit_timeout_ms": 10_000,
    }


def _peer_entry(node: NetNode) -> str:
    conn = node.stats()["adapter_connection"]
    assert re.fullmatch(r"127\.0\.0\.1:[1-9]\d*", conn["local_addr"]), conn
    assert re.fullmatch(r"[0-9a-f]{256}", conn["card"]), conn
    return f"{conn['local_addr']}@{conn['card']}"


@pytest.fixture
def pair() -> Iterator[tuple[NetNode, NetNode]]:
    """(sender, receiver): the sender forwards to the receiver; both shut down afterwards."""
    receiver = NetNode(shards=2, adapter=_mesh())
    try:
        sender = NetNode(adapter=_mesh(_peer_entry(receiver)))
        try:
            yield sender, receiver
        finally:
            sender.shutdown()
    finally:
        receiver.shutdown()


@pytest.mark.timeout(60)
def test_events_reach_the_other_node_pushed_and_polled(pair: tuple[NetNode, NetNode]) -> None:
    sender, receiver = pair
    n = 200
    with receiver.subscribe() as sub:
        for i in range(n):
            sender.emit({"m": i})
        sender.flush()
        pushed: list[int] = []
        while len(pushed) < n:
            event = sub.next(timeout=30)
            assert event is not None, "the subscription ended early"
            pushed.append(event.json()["m"])
    assert sorted(pushed) == list(range(n)), "each event pushed exactly once"

    polled = 0
    cursor = None
    while True:
        page = receiver.poll(limit=64, cursor=cursor)
        polled += len(page)
        cursor = page.cursor
        if not page.has_more:
            break
    assert polled == n
    stats = receiver.stats()
    assert (stats["accepted"], stats["adapter_name"]) == (n, "mesh")


@pytest.mark.timeout(60)
def test_async_iteration_over_the_mesh(pair: tuple[NetNode, NetNode]) -> None:
    sender, receiver = pair

    async def run() -> list[int]:
        got: list[int] = []
        async with receiver.subscribe() as sub:
            for i in range(50):
                sender.emit({"a": i})
            await sender.aflush()
            async for event in sub:
                got.append(event.json()["a"])
                if len(got) == 50:
                    break
        return got

    assert sorted(asyncio.run(asyncio.wait_for(run(), 30))) == list(range(50))


def test_a_memory_node_reports_no_connection(node: NetNode) -> None:
    assert "adapter_connection" not in node.stats()


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"listen": None}, "adapter.listen"),
        ({"listen": "localhost:7000"}, "adapter.listen"),
        ({"psk_hex": None}, "adapter.psk_hex"),
        ({"psk_hex": "00"}, "adapter.psk_hex"),
        ({"psk_file": "/k"}, "adapter.psk_file"),
        ({"peers": ["127.0.0.1:7001"]}, "adapter.peers.0"),
        ({"peers": [{"addr": "127.0.0.1:7001", "card": "xyz"}]}, "adapter.peers.0.card"),
        ({"stream_id": 0}, "adapter.stream_id"),
        ({"url": "redis://h"}, "adapter.url"),
        # Valid to parse, refused when the node is built: the files do not exist.
        ({"psk_hex": None, "psk_file": "/nonexistent/net-mesh-py.psk"}, "adapter.psk_file"),
        ({"key_file": "/nonexistent/net-mesh-py.key"}, "adapter.key_file"),
    ],
)
def test_bad_mesh_configs_name_the_key(change: dict[str, Any], key: str) -> None:
    adapter: dict[str, Any] = {"type": "mesh", "listen": "127.0.0.1:0", "psk_hex": PSK}
    for k, v in change.items():
        if v is None:
            del adapter[k]
        else:
            adapter[k] = v
    with pytest.raises(net.ConfigError) as err:
        NetNode(adapter=adapter)
    assert err.value.key == key
