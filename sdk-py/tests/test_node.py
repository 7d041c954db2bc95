"""NetNode: configuration by keyword, emit/poll round trips, models, errors, context managers."""

from __future__ import annotations

import dataclasses
import enum
import json
from pathlib import Path
from typing import Any

import pydantic
import pytest

import net
import net_sdk
from net_sdk import NetNode

CONFIG_CASES = json.loads(
    (Path(__file__).resolve().parents[2] / "tests/cross_lang/bus/config_cases.json").read_text()
)


def test_keywords_map_to_engine_keys() -> None:
    with NetNode(shards=4, backpressure="fail_producer", ring_capacity=1024) as node:
        cfg = node.config
        assert cfg["num_shards"] == 4
        assert cfg["ring_capacity"] == 1024
        assert cfg["backpressure"] == {"mode": "fail_producer"}
    with NetNode({"drain_batch": 64}, backpressure={"mode": "block", "timeout_ms": 5}) as node:
        assert node.config["drain_batch"] == 64
        assert node.config["drain_linger_ns"] == 5000
        assert node.config["backpressure"] == {"mode": "block", "timeout_ms": 5}
    with NetNode(drain_linger_ns=0) as node:
        assert node.config["drain_linger_ns"] == 0


def test_config_is_validated_by_the_engine() -> None:
    with pytest.raises(net_sdk.ConfigError) as info:
        NetNode({"num_shard": 4})
    assert info.value.key == "num_shard"
    assert "num_shard" in str(info.value)
    with pytest.raises(net_sdk.ConfigError) as info:
        NetNode(shards=0)
    assert info.value.key == "num_shards"
    with pytest.raises(net_sdk.ConfigError) as info:
        NetNode(backpressure="drop_oldes")
    assert info.value.key == "backpressure.mode"
    with pytest.raises(net_sdk.ConfigError) as info:
        NetNode({"num_shards": 2}, shards=4)
    assert info.value.key == "num_shards"
    with pytest.raises(net_sdk.ConfigError) as info:
        NetNode(drain_linger_ns=1_000_001)
    assert info.value.key == "drain_linger_ns"
    with pytest.raises(TypeError):
        NetNode(shardz=4)  # type: ignore[call-arg]


MAPPING_CASES = [c for c in CONFIG_CASES["invalid"] if isinstance(c.get("input"), dict)]


@pytest.mark.parametrize("case", MAPPING_CASES, ids=lambda c: c["name"])
def test_fixture_configs_fail_through_the_sdk(case: dict[str, Any]) -> None:
    with pytest.raises(net.NetError) as info:
        NetNode(case["input"])
    assert info.value.kind == case["kind"] and info.value.key == case["key"]


def test_emit_poll_round_trip(node: NetNode) -> None:
    r = node.emit({"token": "hello", "index": 0})
    assert isinstance(r, net_sdk.Receipt)
    node.emit_raw('{"token": "raw"}')
    node.emit_raw(b"[1,2]")
    out = node.emit_batch([{"i": i} for i in range(3)])
    assert out.ok and len(out) == 3
    raws = node.emit_raw_batch(['{"r":1}', "nope"])
    assert raws.accepted == 1 and isinstance(raws[1], net_sdk.InvalidJsonError)
    node.flush()
    page = node.poll(100)
    assert [e.raw for e in page] == [
        '{"token":"hello","index":0}',
        '{"token": "raw"}',
        "[1,2]",
        '{"i":0}',
        '{"i":1}',
        '{"i":2}',
        '{"r":1}',
    ]
    assert node.poll(2, page.cursor).events == []
    assert [e.json() for e in node.poll(filter={"path": "i", "gte": 1})] == [{"i": 1}, {"i": 2}]
    assert node.stats()["accepted"] == 7


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Color(enum.Enum):
    RED = "red"


class Reading(pydantic.BaseModel):
    sensor: str
    celsius: float


def test_emit_models(node: NetNode) -> None:
    node.emit(Point(1, 2))
    node.emit(Reading(sensor="a", celsius=1.5))
    node.emit({"color": Color.RED, "points": [Point(0, 0)]})
    out = node.emit_batch([Point(3, 4), Reading(sensor="b", celsius=2)])
    assert out.ok
    node.flush()
    assert [e.json() for e in node.poll()] == [
        {"x": 1, "y": 2},
        {"sensor": "a", "celsius": 1.5},
        {"color": "red", "points": [{"x": 0, "y": 0}]},
        {"x": 3, "y": 4},
        {"sensor": "b", "celsius": 2.0},
    ]


def test_emit_rejects_what_is_not_json(node: NetNode) -> None:
    with pytest.raises(net_sdk.InvalidArgumentError) as info:
        node.emit({"when": object()})
    assert "`when`" in str(info.value)
    with pytest.raises(net_sdk.InvalidJsonError):
        node.emit_raw("{'single': 'quotes'}")
    with pytest.raises(net_sdk.InvalidArgumentError):
        node.emit_raw(12)  # type: ignore[arg-type]
    with pytest.raises(net_sdk.InvalidArgumentError):
        node.poll(limit=-5)


def test_use_after_shutdown() -> None:
    node = NetNode()
    node.emit({"a": 1})
    report = node.shutdown()
    assert report["accepted"] == 1 and report["delivered"] == 1
    assert not node.is_running
    with pytest.raises(net_sdk.ShuttingDownError):
        node.emit({"a": 2})
    with pytest.raises(net_sdk.ShuttingDownError):
        node.flush()
    assert node.shutdown() == report
    assert len(node.poll()) == 1


def test_every_write_after_shutdown_is_refused_and_reads_end_cleanly() -> None:
    node = NetNode(shards=2)
    node.emit_batch([1, 2, 3])
    node.shutdown()
    with pytest.raises(net_sdk.ShuttingDownError, match="shutting down"):
        node.emit_raw("{}")
    for result in (node.emit_batch([1, {"a": 2}]), node.emit_raw_batch(["1", b"2"])):
        assert result.accepted == 0 and len(result) == 2
        assert all(isinstance(r, net_sdk.ShuttingDownError) for r in result)

    @dataclasses.dataclass
    class Late:
        n: int

    channel = node.channel("late", Late)
    with pytest.raises(net_sdk.ShuttingDownError):
        channel.publish(Late(1))
    with pytest.raises(net_sdk.ShuttingDownError):
        channel.publish_batch([Late(1), Late(2)])
    # Bad input is still reported as bad input.
    with pytest.raises(net_sdk.InvalidArgumentError):
        node.emit({"x": object()})
    # A subscription opened after shutdown delivers what is stored, then ends (no hang).
    assert sorted(e.raw for e in node.subscribe()) == ["1", "2", "3"]
    assert node.stats()["accepted"] == 3


async def test_async_iteration_after_shutdown_ends() -> None:
    node = NetNode()
    node.emit({"a": 1})
    await node.ashutdown()
    got = [event.json() async for event in node.subscribe()]
    assert got == [{"a": 1}]


def test_context_managers() -> None:
    with NetNode() as node:
        node.emit({})
    assert not node.is_running
    assert "NetNode(EventBus(" in repr(node)


async def test_async_context_manager_and_helpers() -> None:
    async with NetNode(shards=2) as node:
        node.emit({"a": 1})
        await node.aflush()
        assert len(node.poll()) == 1
    assert not node.is_running
    assert (await node.ashutdown())["accepted"] == 1
