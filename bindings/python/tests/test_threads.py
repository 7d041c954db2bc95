"""Threads emitting concurrently into one bus, with a subscriber reading at the same time."""

from __future__ import annotations

import threading
from collections import Counter

import net

THREADS = 4
PER_THREAD = 5_000


def test_concurrent_producers_lose_nothing() -> None:
    with net.EventBus({"num_shards": 4}) as bus:
        sub = bus.subscribe()
        receipts: list[list[net.Receipt]] = [[] for _ in range(THREADS)]
        received: list[net.Event] = []

        def produce(t: int) -> None:
            for i in range(PER_THREAD):
                if i % 2:
                    receipts[t].append(bus.ingest({"t": t, "i": i}))
                else:
                    receipts[t].append(bus.ingest_raw(f'{{"t":{t},"i":{i}}}'))

        def consume() -> None:
            while len(received) < THREADS * PER_THREAD:
                item = sub.next(timeout=10)
                if isinstance(item, net.Event):
                    received.append(item)

        consumer = threading.Thread(target=consume)
        consumer.start()
        producers = [threading.Thread(target=produce, args=(t,)) for t in range(THREADS)]
        for p in producers:
            p.start()
        for p in producers:
            p.join()
        bus.flush()
        consumer.join(timeout=30)
        assert not consumer.is_alive()

        all_receipts = [r for rs in receipts for r in rs]
        assert len(set(all_receipts)) == THREADS * PER_THREAD  # (shard, seq) never repeats
        stats = bus.stats()
        assert stats["accepted"] == THREADS * PER_THREAD
        assert stats["delivered"] == THREADS * PER_THREAD
        seen = Counter((e.json()["t"], e.json()["i"]) for e in received)
        assert len(seen) == THREADS * PER_THREAD and max(seen.values()) == 1
        # Each producer's events keep their order within a shard.
        for t in range(THREADS):
            by_shard: dict[int, list[int]] = {}
            for e in received:
                v = e.json()
                if v["t"] == t:
                    by_shard.setdefault(e.shard, []).append(v["i"])
            for seq in by_shard.values():
                assert seq == sorted(seq)


def test_concurrent_batches_and_block_mode() -> None:
    cfg = {
        "num_shards": 2,
        "ring_capacity": 64,
        "backpressure": {"mode": "block", "timeout_ms": 10_000},
    }
    with net.EventBus(cfg) as bus:
        results: list[net.BatchResult] = []
        lock = threading.Lock()

        def produce() -> None:
            for _ in range(20):
                out = bus.ingest_batch([{"x": i} for i in range(100)])
                with lock:
                    results.append(out)

        threads = [threading.Thread(target=produce) for _ in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        bus.flush()
        assert all(r.ok for r in results)
        assert bus.stats()["delivered"] == THREADS * 20 * 100
