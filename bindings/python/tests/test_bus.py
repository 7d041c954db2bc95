"""EventBus round trips: ingest, poll, cursors, filters, orderings, batches, stats, shutdown."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

import net


def test_ingest_poll_round_trip(bus: net.EventBus) -> None:
    r = bus.ingest({"token": "hello", "n": 1})
    assert isinstance(r, net.Receipt)
    assert (r.shard, r.seq) == (0, 0)
    assert bus.ingest_raw('{"token": "raw"}').seq == 1
    bus.ingest_raw(b"[1, 2]")
    bus.ingest_raw(bytearray(b"3"))
    bus.flush()
    page = bus.poll()
    assert [e.raw for e in page] == ['{"token":"hello","n":1}', '{"token": "raw"}', "[1, 2]", "3"]
    assert page.events[0].json() == {"token": "hello", "n": 1}
    first = page.events[0]
    assert (first.shard, first.position, first.seq) == (0, 0, 0)
    assert first.ts_ns > 0
    assert first.raw_bytes == b'{"token":"hello","n":1}'
    assert len(first) == len(first.raw_bytes)
    assert "Event(" in repr(first)
    assert not page.has_more
    assert page.skipped == 0


def test_receipts_are_values(bus: net.EventBus) -> None:
    a = bus.ingest(1)
    b = bus.ingest(2)
    assert a != b
    assert {a, b, a} == {a, b}
    assert b.seq == a.seq + 1
    assert repr(a) == "Receipt(shard=0, seq=0)"


def test_serialization_of_python_values(bus: net.EventBus) -> None:
    values: list[Any] = [
        None,
        True,
        False,
        0,
        -(2**63),
        2**64 - 1,
        2**100,
        -(2**100),
        1.5,
        1e300,
        'text with "quotes", \\ and \n and é and 🎉',
        [1, (2, 3), []],
        {"nested": {"deep": [{"x": None}]}, "": 1},
    ]
    for v in values:
        bus.ingest(v)
    bus.flush()
    back = [e.json() for e in bus.poll(100)]
    expected = json.loads(json.dumps(values))
    assert back == expected


@pytest.mark.parametrize(
    ("value", "path", "fragment"),
    [
        ({1, 2}, "<root>", "set"),
        ({"a": [1, object()]}, "a.1", "object"),
        ({1: "x"}, "<root>", "dict keys must be str"),
        ({"a": float("nan")}, "a", "NaN"),
        ([float("inf")], "0", "not a JSON number"),
        ({"b": b"bytes"}, "b", "bytes"),
    ],
)
def test_unserializable_values(bus: net.EventBus, value: Any, path: str, fragment: str) -> None:
    with pytest.raises(net.InvalidArgumentError) as info:
        bus.ingest(value)
    assert f"`{path}`" in str(info.value)
    assert fragment in str(info.value)


def test_cycles_are_rejected(bus: net.EventBus) -> None:
    a: list[Any] = []
    a.append(a)
    with pytest.raises(net.InvalidArgumentError, match="nested deeper"):
        bus.ingest(a)


def test_default_callable(bus: net.EventBus) -> None:
    class Point:
        def __init__(self, x: int) -> None:
            self.x = x

    bus.ingest({"p": Point(3)}, default=lambda o: {"x": o.x})
    bus.flush()
    assert bus.poll().events[0].json() == {"p": {"x": 3}}

    def refuse(o: object) -> object:
        raise TypeError("no thanks")

    with pytest.raises(net.InvalidArgumentError) as info:
        bus.ingest({"p": Point(1)}, default=refuse)
    assert isinstance(info.value.__cause__, TypeError)
    with pytest.raises(net.InvalidArgumentError, match="returned the"):
        bus.ingest(Point(1), default=lambda o: o)


def test_lone_surrogates_are_rejected(bus: net.EventBus) -> None:
    with pytest.raises(net.InvalidArgumentError):
        bus.ingest({"s": "\ud800"})
    with pytest.raises(net.InvalidJsonError):
        bus.ingest_raw('"\ud800"')


def test_wrong_argument_types(bus: net.EventBus) -> None:
    bad_calls: list[Callable[[], object]] = [
        lambda: bus.ingest_raw(5),  # type: ignore[arg-type]
        lambda: bus.ingest_raw(None),  # type: ignore[arg-type]
        lambda: bus.ingest({"a": 1}, key=5),  # type: ignore[arg-type]
        lambda: bus.poll("10"),  # type: ignore[arg-type]
        lambda: bus.poll(-1),
        lambda: bus.poll(True),
        lambda: bus.poll(0),
        lambda: bus.poll(net.MAX_POLL_LIMIT + 1),
        lambda: bus.poll(10, 5),  # type: ignore[arg-type]
        lambda: bus.poll(10, ordering="sideways"),  # type: ignore[arg-type]
        lambda: bus.flush(-1),
        lambda: bus.flush(float("nan")),
        lambda: bus.flush("soon"),  # type: ignore[arg-type]
        lambda: bus.subscribe(start="middle"),  # type: ignore[arg-type]
        lambda: bus.subscribe(start="latest", cursor="x"),
        lambda: bus.subscribe(batch=0),
        lambda: bus.subscribe(batch=-3),
        lambda: bus.ingest_batch(5),  # type: ignore[arg-type]
        lambda: bus.ingest_raw_batch(None),  # type: ignore[arg-type]
    ]
    for call in bad_calls:
        with pytest.raises(net.InvalidArgumentError):
            call()
    with pytest.raises(net.InvalidArgumentError, match=r"limit must be in 1\.\.=100000"):
        bus.poll(0)


def test_payload_too_large() -> None:
    with net.EventBus({"max_event_bytes": 16}) as bus:
        bus.ingest_raw('"0123456789"')
        with pytest.raises(net.PayloadTooLargeError):
            bus.ingest_raw('"0123456789012345"')
        with pytest.raises(net.PayloadTooLargeError):
            bus.ingest("x" * 100)
        out = bus.ingest_batch(["ok", "y" * 100])
        assert out.accepted == 1
        assert isinstance(out[1], net.PayloadTooLargeError)


def test_ingest_batch_reports_each_outcome(bus: net.EventBus) -> None:
    out = bus.ingest_batch([{"i": 0}, {1, 2}, {"i": 2}])
    assert len(out) == 3
    assert (out.accepted, out.failed, out.ok) == (2, 1, False)
    assert isinstance(out[0], net.Receipt)
    assert isinstance(out[1], net.InvalidArgumentError)
    assert isinstance(out[-1], net.Receipt)
    assert out.receipts()[1] is None
    assert [i for i, _ in out.errors()] == [1]
    assert len(list(out)) == 3 and len(out.outcomes()) == 3
    with pytest.raises(net.InvalidArgumentError):
        out.raise_first()
    with pytest.raises(IndexError):
        out[3]
    assert repr(out) == "BatchResult(accepted=2, failed=1)"
    # A whole batch keeps its order on one shard.
    seqs = [r.seq for r in out.receipts() if r is not None]
    assert seqs == sorted(seqs)


def test_ingest_raw_batch(bus: net.EventBus) -> None:
    out = bus.ingest_raw_batch(['{"a":1}', b"[2]", "{bad", 7, bytearray(b"null")])  # type: ignore[list-item]
    assert out.accepted == 3
    assert isinstance(out[2], net.InvalidJsonError)
    assert isinstance(out[3], net.InvalidArgumentError)
    bus.flush()
    assert [e.raw for e in bus.poll()] == ['{"a":1}', "[2]", "null"]
    assert bus.ingest_raw_batch([]).ok


def test_keys_keep_one_shard() -> None:
    with net.EventBus({"num_shards": 8}) as bus:
        shards = {bus.ingest({"i": i}, key="user-1").shard for i in range(50)}
        assert len(shards) == 1
        as_bytes = bus.ingest_raw("{}", key=b"user-1").shard
        assert {as_bytes} == shards
        spread = {bus.ingest({"i": i}).shard for i in range(50)}
        assert len(spread) > 1


def test_partition_key_from_config() -> None:
    with net.EventBus({"num_shards": 4, "partition_key": "user.id"}) as bus:
        shards = {bus.ingest({"user": {"id": "u7"}, "i": i}).shard for i in range(40)}
        assert len(shards) == 1
        assert bus.ingest({"x": 1}, key="u7").shard in shards


def test_cursor_resumes_without_skip_or_repeat() -> None:
    with net.EventBus({"num_shards": 3}) as bus:
        seen: list[int] = []
        cursor = None
        emitted = 0
        for round_ in range(5):
            for _ in range(37):
                bus.ingest({"i": emitted})
                emitted += 1
            bus.flush()
            while True:
                page = bus.poll(10, cursor)
                seen.extend(e.json()["i"] for e in page)
                cursor = page.cursor
                if not page.has_more:
                    break
            assert sorted(seen) == list(range(emitted)), round_
        assert len(bus.poll(10, cursor)) == 0


def test_filters_are_evaluated_in_the_engine(bus: net.EventBus) -> None:
    for i in range(20):
        bus.ingest({"level": "error" if i % 4 == 0 else "info", "i": i})
    bus.flush()
    page = bus.poll(100, filter={"path": "level", "eq": "error"})
    assert [e.json()["i"] for e in page] == [0, 4, 8, 12, 16]
    combined = {"and": [{"path": "i", "gte": 5}, {"not": {"path": "level", "eq": "info"}}]}
    assert [e.json()["i"] for e in bus.poll(100, filter=combined)] == [8, 12, 16]
    with pytest.raises(net.InvalidFilterError):
        bus.poll(10, filter={"path": "a", "eq": 1, "extra": {1, 2}})


def test_insertion_time_ordering() -> None:
    with net.EventBus({"num_shards": 4}) as bus:
        for i in range(40):
            bus.ingest({"i": i})
            if i % 10 == 9:
                bus.flush()
        page = bus.poll(100, ordering="insertion_time")
        keys = [(e.ts_ns, e.shard, e.position) for e in page]
        assert keys == sorted(keys)
        assert len(page) == 40
        assert len(bus.poll(100, ordering="per_shard")) == 40


def test_stats_and_accounting(bus: net.EventBus) -> None:
    for i in range(100):
        bus.ingest({"i": i})
    bus.flush()
    s = bus.stats()
    assert s["accepted"] == 100
    assert s["delivered"] + s["dropped"]["drop_oldest"] + s["dropped"]["adapter_failed"] == 100
    assert s["in_flight"] == 0
    assert s["adapter_name"] == "memory"
    assert s["adapter"]["retained"] == 100
    assert len(s["shards"]) == 1 and s["shards"][0]["queued"] == 0


def test_shutdown_reports_and_refuses_new_work() -> None:
    bus = net.EventBus({"num_shards": 2})
    for i in range(10):
        bus.ingest({"i": i})
    assert bus.is_running
    report = bus.shutdown()
    assert report["accepted"] == 10
    assert report["delivered"] == 10
    assert report["undelivered"] == 0
    assert report["adapter_error"] is None
    assert not bus.is_running
    assert bus.shutdown() == report  # idempotent
    with pytest.raises(net.ShuttingDownError):
        bus.ingest({"late": True})
    with pytest.raises(net.ShuttingDownError):
        bus.ingest_raw("{}")
    with pytest.raises(net.ShuttingDownError):
        bus.flush()
    late = bus.ingest_batch([1, 2])
    assert late.accepted == 0 and isinstance(late[0], net.ShuttingDownError)
    # Reads keep working after shutdown.
    assert len(bus.poll(100)) == 10


def test_context_manager_shuts_down() -> None:
    with net.EventBus() as bus:
        bus.ingest({})
    assert not bus.is_running
    assert "running=False" in repr(bus)


def test_config_given_as_text_and_none() -> None:
    with net.EventBus('{"num_shards": 2}') as bus:
        assert bus.config["num_shards"] == 2
    with net.EventBus(None) as bus:
        assert bus.config["num_shards"] == 1
    with pytest.raises(net.ConfigError) as info:
        net.EventBus({"num_shards": 2, "adapter": {"type": "memory", "x": {1}}})
    assert info.value.key == "adapter.x"
    with pytest.raises(net.ConfigError) as info:
        net.EventBus(5)  # type: ignore[arg-type]
    assert info.value.key == "<root>"
    with pytest.raises(net.ConfigError):
        net.EventBus({"num_shards": True})
