"""Errors of the SDK itself; everything else is an engine error from ``net``.

The engine's exception classes (``net.NetError`` and one subclass per stable error kind) are
re-exported by ``net_sdk`` unchanged. The SDK adds:

- ``ValidationError``: a payload does not fit a channel's model; raised at publish, before
  anything reaches the bus. It is an ``InvalidArgumentError``, so ``except net.NetError``
  catches it with every other refused call.
- ``DecodeError``: a stored event does not fit the model a typed subscription decodes into.
  The subscription has already moved past that event (its cursor is after it).
- ``LaggedWarning``: the warning issued when a subscriber fell behind retention under the
  default lag policy (``on_lag="warn"``).
- ``LaggedError``: raised instead under ``on_lag="raise"``; the subscription stays usable.
"""

from __future__ import annotations

from typing import Any

import net


class ValidationError(net.InvalidArgumentError):
    """A payload does not fit a channel's model (raised at publish; nothing was emitted)."""

    def __init__(self, message: str, *, errors: Any = None) -> None:
        super().__init__(message)
        self.errors = errors
        """The underlying validation errors (Pydantic's list of errors, or None)."""


class DecodeError(ValueError):
    """A stored event does not decode into the model of a typed subscription."""

    def __init__(self, message: str, *, event: net.Event) -> None:
        super().__init__(message)
        self.event = event
        """The event that failed to decode."""


class LaggedWarning(RuntimeWarning):
    """A subscriber fell behind retention and events were evicted before it read them."""


class LaggedError(Exception):
    """A subscriber fell behind retention (raised under ``on_lag="raise"``).

    ``skipped`` events were evicted before it read them. The subscription stays usable:
    iterating again continues with the first event after the gap.
    """

    def __init__(self, skipped: int) -> None:
        super().__init__(f"subscriber lagged: {skipped} events were evicted unread")
        self.skipped = skipped
        """The number of events lost in this lag."""
