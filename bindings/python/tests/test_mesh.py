"""The mesh adapter through the binding: two ``net.EventBus`` over UDP on 127.0.0.1.

The receiving bus listens on port 0 and a JSON text config (the form every skin takes) lists
its ``local_addr@card`` from ``stats()``; a bad mesh config is ``net.ConfigError`` naming the
key, also from ``normalize_config``.
"""

from __future__ import annotations

import json
import time

import pytest

import net

PSK = "2b" * 32


@pytest.mark.timeout(60)
def test_two_buses_from_json_text() -> None:
    b = net.EventBus({"adapter": {"type": "mesh", "listen": "127.0.0.1:0", "psk_hex": PSK}})
    try:
        conn = b.stats()["adapter_connection"]
        peer = f"{conn['local_addr']}@{conn['card']}"
        text = json.dumps(
            {
                "adapter": {
                    "type": "mesh",
                    "listen": "127.0.0.1:0",
                    "psk_hex": PSK,
                    "peers": [peer],
                    "connect_timeout_ms": 10_000,
                }
            }
        )
        a = net.EventBus(text)
        try:
            for i in range(100):
                a.ingest({"i": i})
            a.flush()
            deadline = time.monotonic() + 30
            seen: list[int] = []
            while len(seen) < 100 and time.monotonic() < deadline:
                seen = [e.json()["i"] for e in b.poll(limit=1000)]
                time.sleep(0.01)
            assert sorted(seen) == list(range(100))
            assert a.stats()["adapter_connection"]["card"] != conn["card"]
        finally:
            a.shutdown()
    finally:
        b.shutdown()


@pytest.mark.parametrize(
    ("adapter", "key"),
    [
        ({"type": "mesh", "psk_hex": PSK}, "adapter.listen"),
        ({"type": "mesh", "listen": "127.0.0.1:0"}, "adapter.psk_hex"),
        (
            {"type": "mesh", "listen": "127.0.0.1:0", "psk_hex": PSK, "peers": ["x"]},
            "adapter.peers.0",
        ),
    ],
)
def test_bad_mesh_configs_name_the_key(adapter: dict[str, object], key: str) -> None:
    for build in (net.EventBus, net.normalize_config):
        with pytest.raises(net.ConfigError) as err:
            build({"adapter": adapter})
        assert err.value.key == key
