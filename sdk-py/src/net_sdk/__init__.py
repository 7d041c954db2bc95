"""net-mesh SDK for Python (``net-mesh-sdk``).

An idiomatic layer over the binding ``net``, where all the work happens (in Rust)::

    from net_sdk import NetNode

    with NetNode(shards=4) as node:
        node.emit({"token": "hello"})
        node.flush()
        for event in node.subscribe():   # a generator; `async for` works too
            print(event.raw)
            break

- ``NetNode``: a bus node as a context manager; ``emit``, ``emit_raw``, ``emit_batch``,
  ``poll``, ``subscribe``, ``subscribe_typed``, ``channel``, ``flush``, ``stats``,
  ``shutdown``.
- ``Subscription``: a generator and an async iterator that never blocks the event loop.
- Typed payloads with dataclasses or Pydantic v2 (``pip install net-mesh-sdk[pydantic]``).
- Errors: the engine's exception classes (``NetError`` and one class per error kind) plus
  ``ValidationError``, ``DecodeError`` and ``LaggedError`` (and the ``LaggedWarning``).

See ``docs/python.md``.
"""

from net import (
    AdapterError,
    BackpressureError,
    BatchResult,
    ConfigError,
    DroppedError,
    Event,
    InternalError,
    InvalidArgumentError,
    InvalidCursorError,
    InvalidFilterError,
    InvalidJsonError,
    Lagged,
    NetError,
    PayloadTooLargeError,
    PollResult,
    Receipt,
    ShuttingDownError,
)
from net import (
    TimeoutError as TimeoutError,
)
from net_sdk.channel import Channel
from net_sdk.errors import DecodeError, LaggedError, LaggedWarning, ValidationError
from net_sdk.models import Codec, codec_for
from net_sdk.node import NetNode
from net_sdk.subscription import Subscription, TypedSubscription

__version__ = "0.1.0"

# `TimeoutError` is importable but left out of `__all__` so `import *` keeps the builtin.
__all__ = [
    "AdapterError",
    "BackpressureError",
    "BatchResult",
    "Channel",
    "Codec",
    "ConfigError",
    "DecodeError",
    "DroppedError",
    "Event",
    "InternalError",
    "InvalidArgumentError",
    "InvalidCursorError",
    "InvalidFilterError",
    "InvalidJsonError",
    "Lagged",
    "LaggedError",
    "LaggedWarning",
    "NetError",
    "NetNode",
    "PayloadTooLargeError",
    "PollResult",
    "Receipt",
    "ShuttingDownError",
    "Subscription",
    "TypedSubscription",
    "ValidationError",
    "__version__",
    "codec_for",
]
