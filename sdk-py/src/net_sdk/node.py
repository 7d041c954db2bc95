"""``NetNode``: one event bus node, as a context manager.

A thin layer over ``net.EventBus``: every call is the engine's. The constructor only maps
friendly keyword names to the engine's configuration keys (``shards`` -> ``num_shards``);
the engine validates the result strictly, so an unknown key or a bad value raises
``net.ConfigError`` naming the key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any, Optional, TypeVar, Union

from typing_extensions import Self

import net
from net_sdk.channel import Channel
from net_sdk.models import codec_for, to_jsonable
from net_sdk.subscription import OnLag, Subscription, TypedSubscription, lag_policy

T = TypeVar("T")

#: Keyword arguments of ``NetNode`` and the engine configuration key each one sets.
KEYWORDS = {
    "shards": "num_shards",
    "ring_capacity": "ring_capacity",
    "backpressure": "backpressure",
    "partition_key": "partition_key",
    "max_event_bytes": "max_event_bytes",
    "drain_batch": "drain_batch",
    "drain_workers": "drain_workers",
    "drain_linger_ns": "drain_linger_ns",
    "adapter": "adapter",
}

Key = Union[str, bytes, None]
Filter = Union[Mapping[str, Any], str, None]


def engine_config(config: Optional[Mapping[str, Any]], **keywords: Any) -> dict[str, Any]:
    """Merge ``config`` (engine keys) with friendly keywords (``KEYWORDS``) into one dict.

    Keywords that are None are left out. A key given both ways raises ``net.ConfigError``.
    """
    merged: dict[str, Any] = dict(config) if config is not None else {}
    for name, value in keywords.items():
        if value is None:
            continue
        key = KEYWORDS[name]
        if key in merged:
            err = net.ConfigError(
                f"invalid config key `{key}`: given twice (keyword `{name}` and config)"
            )
            err.key = key
            raise err
        merged[key] = value
    return merged


class NetNode:
    """One event bus node.

    ``NetNode(shards=4, backpressure="fail_producer")``, or ``NetNode({"num_shards": 4})``
    with the engine's configuration keys. Use it as a context manager (``with`` or
    ``async with``) to shut it down on exit; see ``docs/python.md``.
    """

    def __init__(
        self,
        config: Optional[Mapping[str, Any]] = None,
        *,
        shards: Optional[int] = None,
        ring_capacity: Optional[int] = None,
        backpressure: Union[str, Mapping[str, Any], None] = None,
        partition_key: Optional[str] = None,
        max_event_bytes: Optional[int] = None,
        drain_batch: Optional[int] = None,
        drain_workers: Optional[int] = None,
        drain_linger_ns: Optional[int] = None,
        adapter: Union[str, Mapping[str, Any], None] = None,
    ) -> None:
        self._bus = net.EventBus(
            engine_config(
                config,
                shards=shards,
                ring_capacity=ring_capacity,
                backpressure=backpressure,
                partition_key=partition_key,
                max_event_bytes=max_event_bytes,
                drain_batch=drain_batch,
                drain_workers=drain_workers,
                drain_linger_ns=drain_linger_ns,
                adapter=adapter,
            )
        )

    @property
    def bus(self) -> net.EventBus:
        """The underlying ``net.EventBus``, for calls the SDK does not wrap."""
        return self._bus

    @property
    def config(self) -> dict[str, Any]:
        """The normalized engine configuration (every key, defaults filled in)."""
        return self._bus.config

    @property
    def is_running(self) -> bool:
        """True until shutdown starts."""
        return self._bus.is_running

    # --- producing -----------------------------------------------------------------------

    def emit(self, obj: Any, *, key: Key = None) -> net.Receipt:
        """Serialize ``obj`` to JSON (in Rust) and emit it.

        ``obj`` is a JSON-like value, a dataclass instance or a Pydantic model. ``key`` sends
        every event with the same key to the same shard (so they keep their order).
        """
        return self._bus.ingest(obj, key=key, default=to_jsonable)

    def emit_raw(self, data: Union[str, bytes, bytearray], *, key: Key = None) -> net.Receipt:
        """Emit JSON text as is, after the engine validated it."""
        return self._bus.ingest_raw(data, key=key)

    def emit_batch(self, objs: Iterable[Any]) -> net.BatchResult:
        """Serialize and emit many values; each one's outcome is reported, in order."""
        return self._bus.ingest_batch(objs, default=to_jsonable)

    def emit_raw_batch(self, raws: Iterable[Union[str, bytes, bytearray]]) -> net.BatchResult:
        """Emit many pre-serialized JSON texts, each validated; outcomes in order."""
        return self._bus.ingest_raw_batch(raws)

    # --- consuming -----------------------------------------------------------------------

    def poll(
        self,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
        filter: Filter = None,
        ordering: Optional[str] = None,
    ) -> net.PollResult:
        """Read up to ``limit`` (default 100) events without consuming them.

        ``cursor`` resumes after a previous page; ``filter`` (a dict or JSON text in the
        filter language) is evaluated in the engine; ``ordering`` is ``"per_shard"`` (the
        default) or ``"insertion_time"``.
        """
        return self._bus.poll(limit, cursor, filter, ordering)  # type: ignore[arg-type]

    def subscribe(
        self,
        filter: Filter = None,
        *,
        start: Optional[str] = None,
        cursor: Optional[str] = None,
        batch: Optional[int] = None,
        ordering: Optional[str] = None,
        on_lag: Optional[OnLag] = None,
    ) -> Subscription:
        """Open a push subscription (iterate it with ``for`` or ``async for``).

        ``start`` is ``"beginning"`` (default) or ``"latest"``; ``cursor`` resumes after a
        previous poll or subscription instead. ``on_lag`` is what happens when the
        subscriber fell behind retention: ``"warn"`` (default: a ``LaggedWarning``, iteration
        goes on), ``"raise"`` (``LaggedError``; the subscription stays usable) or a callable
        taking the number of events skipped. Every lag is counted in ``skipped`` and ``lags``.
        """
        policy = lag_policy(on_lag)
        native = self._bus.subscribe(
            filter,
            start=start,  # type: ignore[arg-type]
            cursor=cursor,
            batch=batch,
            ordering=ordering,  # type: ignore[arg-type]
        )
        return Subscription(native, policy)

    def subscribe_typed(
        self,
        model: type[T],
        filter: Filter = None,
        *,
        start: Optional[str] = None,
        cursor: Optional[str] = None,
        batch: Optional[int] = None,
        ordering: Optional[str] = None,
        on_lag: Optional[OnLag] = None,
    ) -> TypedSubscription[T]:
        """Like ``subscribe``, decoding each event into ``model`` (dataclass or Pydantic)."""
        codec = codec_for(model)
        sub = self.subscribe(
            filter, start=start, cursor=cursor, batch=batch, ordering=ordering, on_lag=on_lag
        )
        return TypedSubscription(sub, codec)

    def channel(self, name: str, model: type[T]) -> Channel[T]:
        """A typed channel of ``model`` payloads named ``name`` (see ``net_sdk.channel``)."""
        return Channel(self, name, model)

    # --- control -------------------------------------------------------------------------

    def flush(self, timeout: Optional[float] = None) -> None:
        """Wait until every event emitted before the call is visible to poll and subscribers."""
        self._bus.flush(timeout)

    async def aflush(self, timeout: Optional[float] = None) -> None:
        """``flush`` in a worker thread, for async code."""
        await asyncio.get_running_loop().run_in_executor(None, self._bus.flush, timeout)

    def stats(self) -> dict[str, Any]:
        """A snapshot of the engine's counters."""
        return self._bus.stats()

    def shutdown(self) -> dict[str, Any]:
        """Stop accepting events, drain, and report the outcome (idempotent).

        Open subscriptions deliver what is left and then end.
        """
        return self._bus.shutdown()

    async def ashutdown(self) -> dict[str, Any]:
        """``shutdown`` in a worker thread, for async code."""
        return await asyncio.get_running_loop().run_in_executor(None, self._bus.shutdown)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.shutdown()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self.ashutdown()

    def __repr__(self) -> str:
        return f"NetNode({self._bus!r})"
