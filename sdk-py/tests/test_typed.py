"""Typed subscriptions and channels with dataclasses and Pydantic v2."""

from __future__ import annotations

import asyncio
import dataclasses
import enum
from typing import Any, Literal, Optional, Union

import pydantic
import pytest

import net_sdk
from net_sdk import NetNode


@dataclasses.dataclass
class Tag:
    name: str


@dataclasses.dataclass
class Reading:
    sensor: str
    celsius: float
    tags: list[Tag] = dataclasses.field(default_factory=list)
    note: Optional[str] = None


class Level(enum.Enum):
    LOW = "low"
    HIGH = "high"


@dataclasses.dataclass
class Alarm:
    level: Level
    kind: Literal["fire", "flood"]
    code: Union[int, str]
    extra: dict[str, int] = dataclasses.field(default_factory=dict)
    pair: tuple[int, int] = (0, 0)


class PReading(pydantic.BaseModel):
    sensor: str
    celsius: float


def test_subscribe_typed_dataclass(node: NetNode) -> None:
    node.emit(Reading("a", 21.5, [Tag("x")]))
    node.emit({"sensor": "b", "celsius": 3})
    sub = node.subscribe_typed(Reading)
    assert sub.next(1) == Reading("a", 21.5, [Tag("x")])
    assert sub.next(1) == Reading("b", 3)


def test_subscribe_typed_pydantic(node: NetNode) -> None:
    node.emit(PReading(sensor="a", celsius=1.0))
    got = node.subscribe_typed(PReading).next(1)
    assert got == PReading(sensor="a", celsius=1.0)


def test_decode_error_then_continue(node: NetNode) -> None:
    node.emit({"sensor": "a", "celsius": 1})
    node.emit({"sensor": "b", "celsius": "warm"})
    node.emit({"sensor": "c", "celsius": 3})
    models: tuple[type[Any], ...] = (Reading, PReading)
    for model in models:
        sub = node.subscribe_typed(model)
        it = iter(sub)
        assert next(it).sensor == "a"
        with pytest.raises(net_sdk.DecodeError) as info:
            next(it)
        assert info.value.event.json()["sensor"] == "b"
        assert next(iter(sub)).sensor == "c"  # iterating again goes on after the bad event


async def test_typed_async_iteration(node: NetNode) -> None:
    sub = node.subscribe_typed(Reading)
    node.emit({"sensor": "a", "celsius": 1})
    node.emit({"bad": 1})
    node.emit({"sensor": "c", "celsius": 3})
    assert (await sub.__anext__()).sensor == "a"
    with pytest.raises(net_sdk.DecodeError):
        await sub.__anext__()
    assert (await sub.__anext__()).sensor == "c"


@pytest.mark.parametrize("model", [Reading, PReading])
def test_channel_round_trip(node: NetNode, model: Any) -> None:
    temps = node.channel("sensors/temperature", model)
    other = node.channel("sensors/humidity", model)
    sub = temps.subscribe()
    temps.publish(model(sensor="a", celsius=20.5))
    other.publish({"sensor": "h", "celsius": 50})
    temps.publish({"sensor": "b", "celsius": 21})
    assert [sub.next(1).sensor for _ in range(2)] == ["a", "b"]  # type: ignore[union-attr]
    node.flush()
    raw = [e.json() for e in node.poll()]
    assert raw[0]["channel"] == "sensors/temperature"
    assert {k: raw[0]["payload"][k] for k in ("sensor", "celsius")} == {
        "sensor": "a",
        "celsius": 20.5,
    }
    hot = temps.subscribe({"path": "payload.celsius", "gt": 20.7})
    assert [r.sensor for r in (hot.next(1),)] == ["b"]  # type: ignore[union-attr]
    assert repr(temps).startswith("Channel('sensors/temperature'")


@pytest.mark.parametrize(
    "bad",
    [
        {"sensor": "a", "celsius": "hot"},
        {"sensor": "a"},
        {"sensor": 5, "celsius": 1.0},
        {"sensor": "a", "celsius": 1.0, "unknown": 1},
        ["not", "a", "mapping"],
    ],
)
def test_invalid_payloads_raise_at_publish(node: NetNode, bad: Any) -> None:
    for model in (Reading, PReading):
        if model is PReading and "unknown" in bad:
            continue  # Pydantic ignores extra keys by default (model config decides)
        channel = node.channel("c", model)
        with pytest.raises(net_sdk.ValidationError) as info:
            channel.publish(bad)
        assert isinstance(info.value, net_sdk.InvalidArgumentError)
        assert info.value.kind == "invalid_argument"
    node.flush()
    assert node.stats()["accepted"] == 0


def test_invalid_instances_raise_at_publish(node: NetNode) -> None:
    r = Reading("a", 1.0)
    r.celsius = "warm"  # type: ignore[assignment]
    with pytest.raises(net_sdk.ValidationError, match="celsius"):
        node.channel("c", Reading).publish(r)
    p = PReading(sensor="a", celsius=1.0)
    p.celsius = "warm"  # type: ignore[assignment]
    with pytest.raises(net_sdk.ValidationError) as info:
        node.channel("c", PReading).publish(p)
    assert info.value.errors
    assert node.stats()["accepted"] == 0


def test_publish_batch_validates_everything_first(node: NetNode) -> None:
    ch = node.channel("c", Reading)
    with pytest.raises(net_sdk.ValidationError):
        ch.publish_batch([Reading("a", 1), {"sensor": "b", "celsius": None}])
    assert node.stats()["accepted"] == 0
    out = ch.publish_batch([Reading("a", 1), {"sensor": "b", "celsius": 2}])
    assert len(out) == 2 and out[0].shard == out[1].shard


def test_dataclass_type_checks() -> None:
    codec = net_sdk.codec_for(Alarm)
    assert codec.encode(Alarm(Level.HIGH, "fire", 3, {"a": 1}, (1, 2))) == {
        "level": Level.HIGH,
        "kind": "fire",
        "code": 3,
        "extra": {"a": 1},
        "pair": (1, 2),
    }
    for bad in (
        {"level": Level.LOW, "kind": "wind", "code": 1},
        {"level": Level.LOW, "kind": "fire", "code": 1.5},
        {"level": Level.LOW, "kind": "fire", "code": 1, "extra": {"a": "b"}},
        {"level": Level.LOW, "kind": "fire", "code": True, "pair": (1, 2, 3)},
        {"level": "nope", "kind": "fire", "code": 1},
    ):
        with pytest.raises(net_sdk.ValidationError):
            codec.encode(bad)


def test_enum_fields_round_trip(node: NetNode) -> None:
    ch = node.channel("alarms", Alarm)
    sub = ch.subscribe()
    ch.publish(Alarm(Level.HIGH, "flood", "X1", pair=(3, 4)))
    assert sub.next(1) == Alarm(Level.HIGH, "flood", "X1", pair=(3, 4))


def test_models_must_be_models(node: NetNode) -> None:
    with pytest.raises(net_sdk.InvalidArgumentError):
        node.channel("c", dict)
    with pytest.raises(net_sdk.InvalidArgumentError):
        node.subscribe_typed(int)
    with pytest.raises(net_sdk.InvalidArgumentError):
        node.channel("", Reading)


def test_ten_thousand_events_through_a_channel() -> None:
    with NetNode(shards=4) as node:
        ch = node.channel("bulk", PReading)
        sub = ch.subscribe()
        n = 10_000
        for start in range(0, n, 1000):
            out = ch.publish_batch(
                [PReading(sensor=f"s{i}", celsius=i) for i in range(start, start + 1000)]
            )
            assert len(out) == 1000
        got = []
        for reading in sub:
            got.append(reading.sensor)
            if len(got) == n:
                break
        assert got == [f"s{i}" for i in range(n)]  # one channel keeps its order


async def test_channel_async(node: NetNode) -> None:
    ch = node.channel("c", PReading)
    sub = ch.subscribe()

    async def publish() -> None:
        await asyncio.sleep(0.1)
        ch.publish({"sensor": "z", "celsius": 0})

    task = asyncio.ensure_future(publish())
    async for reading in sub:
        assert reading.sensor == "z"
        break
    await task
