"""Push subscriptions: waits in Rust (GIL released), lag signals, cursors, shutdown and close."""

from __future__ import annotations

import threading
import time

import pytest

import net


def test_iterates_what_was_emitted(bus: net.EventBus) -> None:
    for i in range(5):
        bus.ingest({"i": i})
    bus.flush()
    sub = bus.subscribe()
    got = [sub.next(timeout=1) for _ in range(5)]
    assert [e.json()["i"] for e in got if isinstance(e, net.Event)] == [0, 1, 2, 3, 4]
    with pytest.raises(net.TimeoutError):
        sub.next(timeout=0.05)
    with pytest.raises(net.TimeoutError):
        sub.next(timeout=0)


def test_wakes_when_events_land(bus: net.EventBus) -> None:
    sub = bus.subscribe()

    def later() -> None:
        time.sleep(0.2)
        bus.ingest({"late": True})

    t = threading.Thread(target=later)
    start = time.monotonic()
    t.start()
    item = sub.next(timeout=5)
    elapsed = time.monotonic() - start
    t.join()
    assert isinstance(item, net.Event) and item.json() == {"late": True}
    assert 0.15 < elapsed < 2


def test_gil_is_released_while_waiting(bus: net.EventBus) -> None:
    sub = bus.subscribe()
    counter = 0
    stop = threading.Event()

    def spin() -> None:
        nonlocal counter
        while not stop.is_set():
            counter += 1

    t = threading.Thread(target=spin)
    t.start()
    with pytest.raises(net.TimeoutError):
        sub.next(timeout=0.3)
    before = counter
    time.sleep(0.05)
    stop.set()
    t.join()
    assert before > 1000  # the other thread ran while we waited


def test_start_latest_and_cursor_resume(bus: net.EventBus) -> None:
    bus.ingest({"old": 1})
    bus.flush()
    latest = bus.subscribe(start="latest")
    bus.ingest({"new": 2})
    bus.flush()
    item = latest.next(timeout=1)
    assert isinstance(item, net.Event) and item.json() == {"new": 2}

    first = bus.subscribe()
    one = first.next(timeout=1)
    assert isinstance(one, net.Event) and one.json() == {"old": 1}
    resumed = bus.subscribe(cursor=first.cursor())
    two = resumed.next(timeout=1)
    assert isinstance(two, net.Event) and two.json() == {"new": 2}
    # A subscription cursor works with poll too.
    assert [e.json() for e in bus.poll(10, first.cursor())] == [{"new": 2}]


def test_cursor_counts_only_handed_out_items(bus: net.EventBus) -> None:
    for i in range(10):
        bus.ingest(i)
    bus.flush()
    sub = bus.subscribe(batch=100)
    sub.next(timeout=1)
    sub.next(timeout=1)
    assert [e.json() for e in bus.poll(100, sub.cursor())] == list(range(2, 10))


def test_filtered_subscription(bus: net.EventBus) -> None:
    sub = bus.subscribe({"path": "k", "eq": "yes"})
    for i in range(6):
        bus.ingest({"k": "yes" if i % 2 else "no", "i": i})
    got = [sub.next(timeout=1) for _ in range(3)]
    assert [e.json()["i"] for e in got if isinstance(e, net.Event)] == [1, 3, 5]


def test_lagged_signal() -> None:
    with net.EventBus({"adapter": {"type": "memory", "max_events_per_shard": 10}}) as bus:
        for i in range(100):
            bus.ingest({"i": i})
        bus.flush()
        sub = bus.subscribe()
        first = sub.next(timeout=1)
        assert isinstance(first, net.Lagged) and first.skipped == 90
        assert repr(first) == "Lagged(skipped=90)"
        rest = [sub.next(timeout=1) for _ in range(10)]
        assert [e.json()["i"] for e in rest if isinstance(e, net.Event)] == list(range(90, 100))


def test_try_next_and_wait_do_not_block(bus: net.EventBus) -> None:
    sub = bus.subscribe()
    assert sub.try_next() is None
    assert not sub.ended
    assert sub.wait(0.05) is False
    bus.ingest({"x": 1})
    assert sub.wait(2) is True
    assert sub.wait(0) is True  # waiting does not take the item
    item = sub.try_next()
    assert isinstance(item, net.Event) and item.json() == {"x": 1}
    assert sub.try_next() is None


def test_generator_ends_on_shutdown_while_waiting() -> None:
    bus = net.EventBus()
    sub = bus.subscribe()
    got: list[object] = []
    done = threading.Event()

    def consume() -> None:
        got.extend(sub)  # iterates until the subscription ends
        done.set()

    t = threading.Thread(target=consume)
    t.start()
    for i in range(3):
        bus.ingest({"i": i})
    time.sleep(0.2)
    bus.shutdown()
    assert done.wait(5), "iteration did not end after shutdown"
    t.join()
    assert len(got) == 3
    assert sub.ended
    assert sub.wait(0) is True
    assert sub.next(timeout=0) is None


def test_close_ends_a_waiting_iteration(bus: net.EventBus) -> None:
    sub = bus.subscribe()
    done = threading.Event()

    def consume() -> None:
        for _ in sub:
            pass
        done.set()

    t = threading.Thread(target=consume)
    t.start()
    time.sleep(0.1)
    sub.close()
    assert done.wait(2)
    t.join()
    assert sub.closed and sub.ended
    assert sub.try_next() is None
    assert sub.next() is None
    with bus.subscribe() as other:
        assert not other.closed
    assert other.closed


def test_subscribe_after_shutdown_reads_what_is_left() -> None:
    bus = net.EventBus()
    bus.ingest({"a": 1})
    bus.shutdown()
    sub = bus.subscribe()
    assert [e.raw for e in sub if isinstance(e, net.Event)] == ['{"a":1}']
    assert "Subscription(" in repr(sub)


def test_ctrl_c_interrupts_a_wait(bus: net.EventBus) -> None:
    import _thread

    sub = bus.subscribe()
    timer = threading.Timer(0.2, _thread.interrupt_main)
    timer.start()
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        sub.next()  # no timeout: only the signal can end this wait
    timer.join()
    assert time.monotonic() - start < 2
