"""net-mesh: a high-performance, schema-agnostic event bus (Python binding).

Everything here is the Rust engine, reached through the native module ``net._net``:
``EventBus`` ingests JSON events into sharded lock-free rings, and any number of consumers
read them back with cursors (``poll``) or have them pushed (``subscribe``). Configuration is
the engine's strict JSON configuration as a dict; every engine error is an exception class
derived from ``NetError``, one per stable error kind.

For an idiomatic layer (a ``NetNode`` context manager, generators and async iterators,
dataclass or Pydantic models) use the SDK, ``net_sdk`` (package ``net-mesh-sdk``).
"""

from net._net import (
    ENGINE_VERSION,
    ERROR_CLASSES,
    ERROR_KINDS,
    MAX_POLL_LIMIT,
    AdapterError,
    BackpressureError,
    BatchResult,
    ConfigError,
    DroppedError,
    Event,
    EventBus,
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
    Subscription,
    __version__,
    normalize_config,
)
from net._net import (
    TimeoutError as TimeoutError,
)


def error_class(kind: str) -> type[NetError]:
    """The exception class of an engine error kind (``"invalid_json"`` -> ``InvalidJsonError``).

    Raises ``KeyError`` for a name that is not a kind.
    """
    return ERROR_CLASSES[kind]


# `TimeoutError` is left out of `__all__` so that `from net import *` does not shadow the
# builtin (`net.TimeoutError` is a subclass of it, so `except TimeoutError` still catches it).
__all__ = [
    "ENGINE_VERSION",
    "ERROR_CLASSES",
    "ERROR_KINDS",
    "MAX_POLL_LIMIT",
    "AdapterError",
    "BackpressureError",
    "BatchResult",
    "ConfigError",
    "DroppedError",
    "Event",
    "EventBus",
    "InternalError",
    "InvalidArgumentError",
    "InvalidCursorError",
    "InvalidFilterError",
    "InvalidJsonError",
    "Lagged",
    "NetError",
    "PayloadTooLargeError",
    "PollResult",
    "Receipt",
    "ShuttingDownError",
    "Subscription",
    "__version__",
    "error_class",
    "normalize_config",
]
