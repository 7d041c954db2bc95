"""Typed channels over the bus.

A channel is a named stream of one model's payloads on the node's bus. Publishing validates
the payload against the model first (``ValidationError`` if it does not fit; nothing is
emitted) and emits the envelope ``{"channel": NAME, "payload": PAYLOAD}`` with the channel name
as partition key, so a channel's events share one shard and keep their order. Subscribing
opens an engine subscription filtered in the engine on ``channel == NAME`` (and-ed with the
subscriber's own filter, whose paths address the envelope: ``payload.celsius``) and decodes
``payload`` into the model.

The envelope is the SDKs' convention (the TypeScript SDK uses the same one) until the engine's
channel layer exists; it is plain JSON, so any language can read and write it. Its exact bytes
and the error kinds of invalid names and payloads are pinned by
``tests/cross_lang/bus/channel_cases.json``, which both SDKs' test suites load.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Generic, Optional, TypeVar, Union

import net
from net_sdk.models import Codec, codec_for
from net_sdk.subscription import OnLag, TypedSubscription

if TYPE_CHECKING:
    from net_sdk.node import NetNode

T = TypeVar("T")

#: Envelope keys.
CHANNEL_KEY = "channel"
PAYLOAD_KEY = "payload"


def _data(event: net.Event) -> Any:
    obj = event.json()
    return obj.get(PAYLOAD_KEY) if isinstance(obj, dict) else None


class Channel(Generic[T]):
    """A typed channel; get one with ``NetNode.channel(name, model)``."""

    def __init__(self, node: NetNode, name: str, model: type[T]) -> None:
        if not isinstance(name, str) or not name:
            raise net.InvalidArgumentError(f"channel name must be a non-empty str, got {name!r}")
        self._node = node
        self.name = name
        """The channel name."""
        self.model = model
        """The payload model (a dataclass or a Pydantic v2 model class)."""
        self._codec: Codec[T] = codec_for(model)

    def envelope(self, value: Union[T, Mapping[str, Any]]) -> dict[str, Any]:
        """The event ``publish`` would emit for ``value`` (validated)."""
        return {CHANNEL_KEY: self.name, PAYLOAD_KEY: self._codec.encode(value)}

    def publish(self, value: Union[T, Mapping[str, Any]]) -> net.Receipt:
        """Validate ``value`` (an instance or a mapping of fields) and emit it."""
        return self._node.emit(self.envelope(value), key=self.name)

    def publish_batch(self, values: Iterable[Union[T, Mapping[str, Any]]]) -> list[net.Receipt]:
        """Validate every value, then emit them in order; returns their receipts.

        Validation happens before anything is emitted: one invalid value raises
        ``ValidationError`` and nothing of the batch reaches the bus. The events are emitted
        one by one with the channel name as key (the engine's batch ingest takes no key), so
        they keep their order with the channel's other events; an engine error (for example
        backpressure) stops at the event that failed and is raised.
        """
        envelopes = [self.envelope(v) for v in values]
        emit = self._node.emit
        return [emit(e, key=self.name) for e in envelopes]

    def subscribe(
        self,
        filter: Optional[Mapping[str, Any]] = None,
        *,
        start: Optional[str] = None,
        cursor: Optional[str] = None,
        batch: Optional[int] = None,
        on_lag: Optional[OnLag] = None,
    ) -> TypedSubscription[T]:
        """Subscribe to this channel's payloads, decoded into the model.

        ``filter`` (a dict in the filter language, paths addressing the envelope) narrows the
        subscription further, inside the engine.
        """
        on_channel: dict[str, Any] = {"path": CHANNEL_KEY, "eq": self.name}
        combined = on_channel if filter is None else {"and": [on_channel, dict(filter)]}
        sub = self._node.subscribe(
            combined,
            start=start,
            cursor=cursor,
            batch=batch,
            on_lag=on_lag,
        )
        return TypedSubscription(sub, self._codec, _data)

    def __repr__(self) -> str:
        return f"Channel({self.name!r}, {self.model.__name__})"
