"""Subscriptions: generators, async iterators that never block the loop, shutdown, lag."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from typing import Any

import pytest

import net
import net_sdk
from net_sdk import NetNode


@dataclass
class Reading:
    sensor: str
    celsius: float


def test_generator_round_trip(node: NetNode) -> None:
    sub = node.subscribe()
    for i in range(10):
        node.emit({"i": i})
    got = []
    for event in sub:
        got.append(event.json()["i"])
        if len(got) == 10:
            break
    assert got == list(range(10))
    with pytest.raises(net_sdk.TimeoutError):
        sub.next(timeout=0.05)
    node.emit({"i": 10})
    nxt = sub.next(timeout=1)
    assert nxt is not None and nxt.json() == {"i": 10}


def test_generator_ends_cleanly_on_shutdown_while_waiting() -> None:
    node = NetNode()
    sub = node.subscribe()
    got: list[int] = []
    errors: list[BaseException] = []

    def consume() -> None:
        try:
            got.extend(e.json()["i"] for e in sub)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    t = threading.Thread(target=consume)
    t.start()
    for i in range(3):
        node.emit({"i": i})
    time.sleep(0.2)  # the consumer is now waiting for more
    node.shutdown()
    t.join(timeout=5)
    assert not t.is_alive(), "generator did not end after shutdown"
    assert errors == []
    assert got == [0, 1, 2]
    assert sub.ended


def test_resume_from_cursor(node: NetNode) -> None:
    for i in range(5):
        node.emit({"i": i})
    sub = node.subscribe()
    it = iter(sub)
    assert [next(it).json()["i"] for _ in range(2)] == [0, 1]
    again = node.subscribe(cursor=sub.cursor())
    assert [again.next(1).json()["i"] for _ in range(3)] == [2, 3, 4]  # type: ignore[union-attr]
    latest = node.subscribe(start="latest")
    node.emit({"i": 5})
    assert latest.next(1).json() == {"i": 5}  # type: ignore[union-attr]


def test_lag_is_reported_to_a_callable() -> None:
    with NetNode(adapter={"type": "memory", "max_events_per_shard": 5}) as node:
        for i in range(50):
            node.emit({"i": i})
        node.flush()
        lags: list[int] = []
        sub = node.subscribe(on_lag=lags.append)
        first = sub.next(1)
        assert first is not None and first.json() == {"i": 45}
        assert lags == [45] and sub.skipped == 45 and sub.lags == 1


def test_lag_warns_by_default_counts_and_goes_on() -> None:
    with NetNode(adapter={"type": "memory", "max_events_per_shard": 4}) as node:
        for i in range(10):
            node.emit({"i": i})
        node.flush()
        sub = node.subscribe()
        it = iter(sub)
        with pytest.warns(net_sdk.LaggedWarning) as caught:
            assert [next(it).json()["i"] for _ in range(4)] == [6, 7, 8, 9]
            for i in range(10, 20):
                node.emit({"i": i})
            node.flush()
            assert [next(it).json()["i"] for _ in range(4)] == [16, 17, 18, 19]
        assert [str(w.message) for w in caught] == [
            "subscriber fell behind retention: 6 events were evicted unread "
            "(6 in 1 lag on this subscription)",
            "subscriber fell behind retention: 6 events were evicted unread "
            "(12 in 2 lags on this subscription)",
        ]
        assert sub.skipped == 12 and sub.lags == 2


def test_lag_raises_under_raise_and_iteration_goes_on() -> None:
    with NetNode(adapter={"type": "memory", "max_events_per_shard": 4}) as node:
        for i in range(10):
            node.emit({"i": i})
        node.flush()
        sub = node.subscribe(on_lag="raise")
        with pytest.raises(net_sdk.LaggedError, match="6 events") as raised:
            for _ in sub:
                pass
        assert raised.value.skipped == 6 and sub.skipped == 6
        # The exception ended that loop, not the subscription.
        assert [e.json()["i"] for e in (next(sub), next(sub))] == [6, 7]
        got = []
        for event in sub:
            got.append(event.json()["i"])
            if len(got) == 2:
                break
        assert got == [8, 9]
        again = node.subscribe(on_lag="raise")
        with pytest.raises(net_sdk.LaggedError):
            again.next(1)
        assert again.next(1).json() == {"i": 6}  # type: ignore[union-attr]


async def test_lag_policy_applies_to_async_iteration() -> None:
    with NetNode(adapter={"type": "memory", "max_events_per_shard": 3}) as node:
        for i in range(8):
            node.emit({"i": i})
        node.flush()
        sub = node.subscribe(on_lag="raise")
        with pytest.raises(net_sdk.LaggedError):
            await sub.__anext__()
        assert (await sub.__anext__()).json() == {"i": 5}
        seen: list[int] = []
        got = []
        async for event in node.subscribe(on_lag=seen.append):
            got.append(event.json()["i"])
            if len(got) == 3:
                break
        assert got == [5, 6, 7] and seen == [5]


def test_lag_policy_applies_to_typed_subscriptions_and_channels() -> None:
    with NetNode(adapter={"type": "memory", "max_events_per_shard": 3}) as node:
        channel = node.channel("lagging", Reading)
        for i in range(8):
            channel.publish(Reading(sensor=f"s{i}", celsius=float(i)))
        node.flush()
        seen: list[int] = []
        sub = channel.subscribe(on_lag=seen.append)
        assert [next(sub).sensor for _ in range(3)] == ["s5", "s6", "s7"]
        assert seen == [5]
        typed = node.subscribe_typed(Reading, on_lag="raise")
        with pytest.raises(net_sdk.LaggedError):
            next(typed)


@pytest.mark.parametrize("on_lag", ["throw", "ignore", 5])
def test_invalid_lag_policy_is_refused(node: NetNode, on_lag: Any) -> None:
    with pytest.raises(
        net.InvalidArgumentError, match="on_lag must be 'warn', 'raise' or a callable"
    ):
        node.subscribe(on_lag=on_lag)


async def test_async_iterator_round_trip(node: NetNode) -> None:
    for i in range(3):
        node.emit({"i": i})
    got = []
    async for event in node.subscribe():
        got.append(event.json()["i"])
        if len(got) == 3:
            break
    assert got == [0, 1, 2]


async def test_async_iterator_wakes_on_new_events(node: NetNode) -> None:
    sub = node.subscribe()

    async def produce() -> None:
        await asyncio.sleep(0.2)
        node.emit({"late": 1})

    producer = asyncio.ensure_future(produce())
    event = await asyncio.wait_for(sub.__anext__(), 5)
    await producer
    assert event.json() == {"late": 1}


async def test_event_loop_keeps_running_on_time_while_a_subscriber_waits(node: NetNode) -> None:
    """A ticker coroutine stays on schedule while a subscriber awaits events that come late."""
    sub = node.subscribe()
    lateness: list[float] = []
    received: list[float] = []
    interval = 0.01

    async def ticker() -> None:
        next_tick = time.monotonic() + interval
        for _ in range(60):  # about 0.6 s
            await asyncio.sleep(max(0.0, next_tick - time.monotonic()))
            lateness.append(time.monotonic() - next_tick)
            next_tick += interval

    async def subscriber() -> None:
        async for _event in sub:
            received.append(time.monotonic())
            break

    async def producer() -> None:
        await asyncio.sleep(0.4)
        node.emit({"finally": True})

    start = time.monotonic()
    await asyncio.gather(ticker(), subscriber(), producer())
    assert len(lateness) == 60
    assert max(lateness) < 0.25, f"the loop stalled for {max(lateness):.3f} s"
    assert received and received[0] - start >= 0.39


async def test_busy_stream_does_not_starve_other_tasks(node: NetNode) -> None:
    node.emit_batch([{"i": i} for i in range(5000)])
    node.flush()
    ticks = 0

    async def other() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.ensure_future(other())
    count = 0
    async for _ in node.subscribe():
        count += 1
        if count == 5000:
            break
    task.cancel()
    assert ticks >= 5000 // net_sdk.subscription.YIELD_EVERY - 1


async def test_async_iterator_ends_cleanly_on_shutdown_while_waiting() -> None:
    node = NetNode()
    got: list[int] = []

    async def consume() -> None:
        async for event in node.subscribe():
            got.append(event.json()["i"])

    task = asyncio.ensure_future(consume())
    node.emit({"i": 1})
    await asyncio.sleep(0.3)  # the consumer now waits in its worker thread
    assert not task.done()
    await node.ashutdown()
    await asyncio.wait_for(task, 5)  # ends without an exception
    assert got == [1]


async def test_cancelling_a_waiting_task_loses_nothing(node: NetNode) -> None:
    sub = node.subscribe()
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(sub.__anext__(), 0.1)
    node.emit({"kept": True})
    event = await asyncio.wait_for(sub.__anext__(), 5)
    assert event.json() == {"kept": True}


async def test_close_ends_async_iteration(node: NetNode) -> None:
    sub = node.subscribe()

    async def consume() -> int:
        n = 0
        async for _ in sub:
            n += 1
        return n

    task = asyncio.ensure_future(consume())
    await asyncio.sleep(0.1)
    sub.close()
    assert await asyncio.wait_for(task, 2) == 0
    async with node.subscribe() as other:
        assert not other.ended
    assert other.ended


def test_sync_close_and_context_manager(node: NetNode) -> None:
    with node.subscribe() as sub:
        node.emit(1)
        assert sub.next(1) is not None
    assert sub.ended
    assert list(sub) == []
    assert isinstance(sub.native, net.Subscription)
