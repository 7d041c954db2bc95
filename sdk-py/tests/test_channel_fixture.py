"""The channel envelope fixture tests/cross_lang/bus/channel_cases.json.

The TypeScript SDK loads the same file: publishing a payload on a channel emits exactly the
fixture's bytes in both languages, and invalid names and payloads fail with the same kind.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

import net
from net_sdk import NetNode

FIXTURE = json.loads(
    (Path(__file__).resolve().parents[2] / "tests/cross_lang/bus/channel_cases.json").read_text(
        encoding="utf-8"
    )
)

FIELD_TYPES: dict[str, Any] = {"string": str, "number": float, "any": Any}


def model(name: str) -> type[Any]:
    """The dataclass of a fixture model (fields in the fixture's order)."""
    fields = [(key, FIELD_TYPES[kind]) for key, kind in FIXTURE["models"][name].items()]
    return dataclasses.make_dataclass(name, fields)


def revive(value: Any) -> Any:
    """A fixture value with its ``{"$special": X}`` markers replaced by the real values."""
    if isinstance(value, list):
        return [revive(v) for v in value]
    if not isinstance(value, dict):
        return value
    special = value.get("$special")
    if special in ("NaN", "Infinity", "-Infinity"):
        return float(special.lower().replace("infinity", "inf"))
    if special == "cycle":
        cycle: list[Any] = []
        cycle.append(cycle)
        return cycle
    return {k: revive(v) for k, v in value.items()}


def test_envelope_keys() -> None:
    assert FIXTURE["envelope"] == {"channel": "channel", "payload": "payload"}


@pytest.mark.parametrize("case", FIXTURE["publish"], ids=lambda c: c["name"])
def test_publish_emits_the_fixture_bytes(case: dict[str, Any]) -> None:
    with NetNode(shards=4) as node:
        channel = node.channel(case["name"], model(case["model"]))
        sub = channel.subscribe(start="latest")
        receipt = channel.publish(case["payload"])
        # The channel name is the partition key: the shard of any event with that key.
        assert receipt.shard == node.emit({"probe": True}, key=case["name"]).shard
        node.flush()
        events = node.poll(limit=10, filter={"path": "channel", "eq": case["name"]}).events
        assert len(events) == 1
        assert events[0].raw_bytes == case["event"].encode("utf-8")
        got = sub.next(5)
        assert got is not None and dataclasses.asdict(got) == case["payload"]


@pytest.mark.parametrize("case", FIXTURE["invalid_names"], ids=lambda c: repr(c["name"]))
def test_invalid_names(node: NetNode, case: dict[str, Any]) -> None:
    with pytest.raises(net.NetError) as info:
        node.channel(case["name"], model("Blob"))
    assert info.value.kind == case["error"]


@pytest.mark.parametrize(
    "case", FIXTURE["invalid_payloads"], ids=lambda c: json.dumps(c["payload"])
)
def test_invalid_payloads(node: NetNode, case: dict[str, Any]) -> None:
    channel = node.channel("invalid", model(case["model"]))
    payload = revive(case["payload"])
    for publish in (channel.publish, lambda p: channel.publish_batch([p])):
        with pytest.raises(net.NetError) as info:
            publish(payload)
        assert info.value.kind == case["error"], info.value
    node.flush()
    assert node.stats()["accepted"] == 0
