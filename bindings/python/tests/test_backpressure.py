"""Every backpressure mode surfaces as its own outcome: the right exception, or none.

A ring of 2 is flooded with one batch of events: the producer pushes far faster than a drain
worker wakes up, so the ring is full for most of the batch and each mode shows its behaviour.
"""

from __future__ import annotations

from typing import Any

import pytest

import net

FLOOD = 50_000


def flood(backpressure: Any) -> tuple[net.BatchResult, dict[str, Any]]:
    """Offer FLOOD events to a ring of 2 under ``backpressure``; return outcomes and stats."""
    with net.EventBus({"ring_capacity": 2, "backpressure": backpressure}) as bus:
        out = bus.ingest_raw_batch(['{"i":1}'] * FLOOD)
        bus.flush()
        stats = bus.stats()
    return out, stats


def error_types(out: net.BatchResult) -> set[type]:
    return {type(e) for _, e in out.errors()}


def test_drop_oldest_accepts_everything_and_counts_drops() -> None:
    out, stats = flood("drop_oldest")
    assert out.ok
    assert stats["accepted"] == FLOOD
    assert stats["dropped"]["drop_oldest"] > 0
    assert stats["delivered"] + stats["dropped"]["drop_oldest"] == FLOOD


def test_drop_newest_raises_dropped() -> None:
    out, stats = flood("drop_newest")
    assert out.failed > 0
    assert error_types(out) == {net.DroppedError}
    assert "drop_newest" in str(out.errors()[0][1])
    assert stats["dropped"]["drop_newest"] == out.failed
    assert stats["accepted"] == out.accepted


def test_fail_producer_raises_backpressure() -> None:
    out, stats = flood("fail_producer")
    assert out.failed > 0
    assert error_types(out) == {net.BackpressureError}
    assert stats["rejected"]["backpressure"] == out.failed
    assert stats["dropped"]["drop_newest"] == 0


def test_block_times_out_with_timeout_error() -> None:
    out, stats = flood({"mode": "block", "timeout_ms": 0})
    assert out.failed > 0
    assert error_types(out) == {net.TimeoutError}
    assert stats["rejected"]["timeout"] == out.failed


def test_block_waits_for_room() -> None:
    out, stats = flood({"mode": "block", "timeout_ms": 5000})
    assert out.ok
    assert stats["delivered"] == FLOOD


def test_sample_keeps_one_in_n() -> None:
    out, stats = flood({"mode": "sample", "keep_one_in": 1000, "high_water": 0.5})
    assert out.failed > 0
    assert error_types(out) == {net.DroppedError}
    assert "sampled" in str(out.errors()[0][1])
    assert stats["dropped"]["sampled"] == out.failed


def test_single_ingest_raises_the_same_classes() -> None:
    cfg: dict[str, Any] = {"ring_capacity": 2, "backpressure": "fail_producer"}
    with net.EventBus(cfg) as bus, pytest.raises(net.BackpressureError):
        for _ in range(FLOOD):
            bus.ingest_raw("1")
    cfg["backpressure"] = "drop_newest"
    with net.EventBus(cfg) as bus, pytest.raises(net.DroppedError):
        for _ in range(FLOOD):
            bus.ingest({"i": 1})
    cfg["backpressure"] = {"mode": "block", "timeout_ms": 0}
    with net.EventBus(cfg) as bus, pytest.raises(net.TimeoutError):
        for _ in range(FLOOD):
            bus.ingest_raw("1")


def test_modes_are_pairwise_different() -> None:
    outcomes = {}
    for mode in ("drop_oldest", "drop_newest", "fail_producer", "block", "sample"):
        bp: Any = {"mode": mode}
        if mode == "block":
            bp["timeout_ms"] = 0
        if mode == "sample":
            bp["keep_one_in"] = 1000
        out, _ = flood(bp)
        outcomes[mode] = (
            frozenset(error_types(out)),
            frozenset(str(e) for _, e in out.errors()[:1]),
        )
    assert len(set(outcomes.values())) == 5
