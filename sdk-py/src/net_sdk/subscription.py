"""Subscriptions as generators and as async iterators.

A ``Subscription`` wraps the engine's push subscription (``net.Subscription``):

- ``for event in sub`` is a generator. Waiting happens in Rust with the GIL released: the
  engine parks the thread on its notifier and wakes it when events are stored. Ctrl-C works.
- ``async for event in sub`` never blocks the event loop. Events that are already available
  are taken on the loop thread without waiting; when none are, the iterator awaits
  ``net.Subscription.wait`` running in a worker thread of its own (one per iterator), which
  returns as soon as an event is available or the subscription ended. ``wait`` does not take
  the event, so cancelling the awaiting task loses nothing. After ``YIELD_EVERY`` events in a
  row the iterator yields to the loop once, so a busy stream cannot starve other tasks.

Both end cleanly when the bus shuts down (after everything stored was delivered) or after
``close()``.

Lag: when retention evicted events before the subscriber read them (the engine's
``Lagged(skipped)`` item), the subscription counts it (``skipped``, ``lags``) and applies its
lag policy ``on_lag``: ``"warn"`` (the default) issues a ``LaggedWarning`` and iteration goes
on; a callable is called with ``skipped`` and iteration goes on; ``"raise"`` raises
``LaggedError`` from the iterator (or ``next``), and the subscription stays usable: iterating
again (a new ``for`` loop, ``next(sub)``, ``sub.next()``) continues with the first event after
the gap. The TypeScript SDK has the same policy
(``onLag: 'warn' | 'throw' | function``).

``TypedSubscription`` decodes each event into a model (dataclass or Pydantic); an event that
does not fit raises ``DecodeError`` from the iterator, after which iterating again continues
with the next event.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any, Generic, Literal, Optional, TypeVar, Union

from typing_extensions import Self

import net
from net_sdk.errors import LaggedError, LaggedWarning
from net_sdk.models import Codec

T = TypeVar("T")

#: Longest single wait of the async iterator's worker thread, in seconds. The wait returns
#: early as soon as an event arrives; the bound only limits how long a worker thread outlives
#: a cancelled task.
WAIT_SLICE = 0.25

#: The async iterator yields to the event loop after this many events taken without waiting.
YIELD_EVERY = 256

#: The lag policy: ``"warn"`` (default), ``"raise"``, or a callable taking ``skipped``.
OnLag = Union[Literal["warn", "raise"], Callable[[int], None]]


def lag_policy(on_lag: Any) -> OnLag:
    """Check a lag policy given by the caller (None means the default, ``"warn"``)."""
    if on_lag is None:
        return "warn"
    if on_lag in ("warn", "raise") or callable(on_lag):
        return on_lag  # type: ignore[no-any-return]
    raise net.InvalidArgumentError(f"on_lag must be 'warn', 'raise' or a callable, got {on_lag!r}")


class _ClosesOnExit:
    """``with`` and ``async with`` support for objects whose ``close()`` ends them."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()


class Subscription(_ClosesOnExit):
    """A push subscription over a bus: iterate it with ``for`` or ``async for``."""

    def __init__(self, native: net.Subscription, on_lag: Optional[OnLag] = None) -> None:
        self._native = native
        self._on_lag = lag_policy(on_lag)
        self._executor: Optional[ThreadPoolExecutor] = None
        self._streak = 0
        self.skipped = 0
        """Events lost to retention so far (the sum of every lag)."""
        self.lags = 0
        """How many times this subscription lagged so far."""

    @property
    def native(self) -> net.Subscription:
        """The underlying ``net.Subscription``."""
        return self._native

    def _lagged(self, skipped: int) -> None:
        """Count one lag and apply the lag policy."""
        self.skipped += skipped
        self.lags += 1
        policy = self._on_lag
        if policy == "raise":
            raise LaggedError(skipped)
        if policy == "warn":
            plural = "" if self.lags == 1 else "s"
            warnings.warn(
                f"subscriber fell behind retention: {skipped} events were evicted unread "
                f"({self.skipped} in {self.lags} lag{plural} on this subscription)",
                LaggedWarning,
                stacklevel=3,
            )
            return
        policy(skipped)

    # --- blocking ------------------------------------------------------------------------

    def __iter__(self) -> Iterator[net.Event]:
        """Yield events as they arrive; ends when the bus shut down or after ``close()``.

        A generator (the fastest way to hand events to a ``for`` loop). An exception from it
        (a ``LaggedError`` under ``on_lag="raise"``, or one from the lag callback) ends that
        generator but not the subscription: iterating again goes on after the gap.
        """
        native = self._native
        for item in native:
            if isinstance(item, net.Lagged):
                self._lagged(item.skipped)
                continue
            yield item

    def __next__(self) -> net.Event:
        """The next event, waiting for it (GIL released); ``StopIteration`` at the end."""
        native = self._native
        while True:
            item = next(native)
            if isinstance(item, net.Lagged):
                self._lagged(item.skipped)
                continue
            return item

    def next(self, timeout: Optional[float] = None) -> Optional[net.Event]:
        """The next event, waiting at most ``timeout`` seconds (None = no bound).

        Returns None once the subscription ended; raises ``net.TimeoutError`` on timeout.
        """
        while True:
            item = self._native.next(timeout)
            if isinstance(item, net.Lagged):
                self._lagged(item.skipped)
                continue
            return item

    # --- asyncio -------------------------------------------------------------------------

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> net.Event:
        native = self._native
        while True:
            item = native.try_next()
            if item is None:
                self._streak = 0
                if native.ended:
                    self._release()
                    raise StopAsyncIteration
                await self._wait()
                continue
            if isinstance(item, net.Lagged):
                self._lagged(item.skipped)
                continue
            self._streak += 1
            if self._streak >= YIELD_EVERY:
                self._streak = 0
                await asyncio.sleep(0)
            return item

    async def _wait(self) -> None:
        """Wait in the worker thread until an item is available or the subscription ended."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="net-sdk-subscription"
            )
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._native.wait, WAIT_SLICE)

    def _release(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None

    # --- state ---------------------------------------------------------------------------

    def cursor(self) -> str:
        """The cursor after the last event handed out (for ``poll`` or a new subscription)."""
        return self._native.cursor()

    @property
    def ended(self) -> bool:
        """True once the subscription ended (bus shut down, all read) or was closed."""
        return self._native.ended

    def close(self) -> None:
        """Stop: iteration ends and waiting calls return within 0.1 s."""
        self._native.close()
        self._release()


class TypedSubscription(_ClosesOnExit, Generic[T]):
    """A subscription that decodes each event into ``T`` (see the module docs)."""

    def __init__(
        self,
        sub: Subscription,
        codec: Codec[T],
        extract: Optional[Callable[[net.Event], Any]] = None,
    ) -> None:
        self._sub = sub
        self._codec = codec
        self._extract = extract

    @property
    def subscription(self) -> Subscription:
        """The untyped subscription underneath."""
        return self._sub

    def _decode(self, event: net.Event) -> T:
        if self._extract is None:
            return self._codec.decode(event)
        return self._codec.decode_obj(self._extract(event), event)

    def __iter__(self) -> Iterator[T]:
        """Yield decoded events; after a ``DecodeError`` or ``LaggedError`` iterate again."""
        for event in self._sub:
            yield self._decode(event)

    def __next__(self) -> T:
        """The next decoded event (see ``Subscription.__next__``)."""
        return self._decode(next(self._sub))

    def next(self, timeout: Optional[float] = None) -> Optional[T]:
        """The next decoded event (see ``Subscription.next``)."""
        event = self._sub.next(timeout)
        return None if event is None else self._decode(event)

    def __aiter__(self) -> AsyncIterator[T]:
        return self

    async def __anext__(self) -> T:
        return self._decode(await self._sub.__anext__())

    def cursor(self) -> str:
        """The cursor after the last event handed out."""
        return self._sub.cursor()

    @property
    def ended(self) -> bool:
        """True once the subscription ended or was closed."""
        return self._sub.ended

    def close(self) -> None:
        """Stop the subscription."""
        self._sub.close()
