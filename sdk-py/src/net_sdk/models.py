"""Typed payloads: dataclasses, or Pydantic v2 models when Pydantic is installed.

A ``Codec`` turns a model instance (or a mapping of its fields) into a JSON-like object for
publishing, validating it first, and turns a stored event back into a model instance.

- Pydantic models (``pip install net-mesh-sdk[pydantic]``) use Pydantic's own validation:
  ``model_validate`` / ``model_dump(mode="json")`` to publish, ``model_validate_json`` to read.
- Dataclasses are checked against their type hints: ``None``, ``bool``, ``int``, ``float``
  (an ``int`` is accepted), ``str``, ``list[X]``, ``tuple[X, ...]``, ``dict[str, X]``,
  ``Optional``/``Union``, ``Literal``, ``Any`` and nested dataclasses. Other annotations are
  checked with ``isinstance`` when they are classes and accepted otherwise.

Also here: ``to_jsonable``, the ``default`` hook ``NetNode.emit`` hands to the engine's
serializer so that model instances can be emitted directly.
"""

from __future__ import annotations

import dataclasses
import enum
import typing
from collections.abc import Mapping
from typing import Any, Generic, TypeVar, Union, cast

import net
from net_sdk.errors import DecodeError, ValidationError

T = TypeVar("T")


def _pydantic_base() -> type[Any] | None:
    """``pydantic.BaseModel`` if Pydantic v2 is installed, else None."""
    try:
        import pydantic
    except ImportError:  # pragma: no cover - depends on the environment
        return None
    if not hasattr(pydantic, "TypeAdapter"):  # pragma: no cover - Pydantic v1
        return None
    return cast("type[Any]", pydantic.BaseModel)


def is_pydantic_model(model: object) -> bool:
    """True if ``model`` is a Pydantic v2 model class."""
    base = _pydantic_base()
    return base is not None and isinstance(model, type) and issubclass(model, base)


def to_jsonable(obj: Any) -> Any:
    """Replace a non-JSON object with a JSON-like one (the engine serializer's ``default``).

    Handles Pydantic models, dataclass instances and enums; anything else raises ``TypeError``
    (the engine then reports an ``InvalidArgumentError`` naming where the object was).
    """
    if is_pydantic_model(type(obj)):
        return obj.model_dump(mode="json")
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    if isinstance(obj, enum.Enum):
        return obj.value
    raise TypeError(f"object of type {type(obj).__name__} is not JSON serializable")


class Codec(Generic[T]):
    """Validates and converts payloads of one model; see the module docs."""

    model: type[T]

    def encode(self, value: T | Mapping[str, Any]) -> Any:
        """Validate ``value`` and return a JSON-like object; raises ``ValidationError``."""
        raise NotImplementedError

    def decode_obj(self, obj: Any, event: net.Event) -> T:
        """Build a model instance from a parsed JSON value; raises ``DecodeError``."""
        raise NotImplementedError

    def decode(self, event: net.Event) -> T:
        """Build a model instance from a whole stored event; raises ``DecodeError``."""
        try:
            obj = event.json()
        except ValueError as e:  # pragma: no cover - the engine stores valid JSON only
            raise DecodeError(f"event is not JSON: {e}", event=event) from e
        return self.decode_obj(obj, event)


class PydanticCodec(Codec[T]):
    """Codec of a Pydantic v2 model."""

    def __init__(self, model: type[T]) -> None:
        self.model = model
        self._m = cast("Any", model)

    def encode(self, value: T | Mapping[str, Any]) -> Any:
        """Validate with Pydantic and dump in JSON mode."""
        import pydantic

        try:
            if isinstance(value, self.model):
                # Re-validate: fields may have been assigned after construction.
                inst = self._m.model_validate(cast("Any", value).model_dump(warnings=False))
            elif isinstance(value, Mapping):
                inst = self._m.model_validate(dict(value))
            else:
                raise ValidationError(
                    f"expected {self.model.__name__} or a mapping, got {type(value).__name__}"
                )
            return inst.model_dump(mode="json")
        except pydantic.ValidationError as e:
            raise ValidationError(f"invalid {self.model.__name__}: {e}", errors=e.errors()) from e

    def decode_obj(self, obj: Any, event: net.Event) -> T:
        """Validate a parsed value with Pydantic."""
        import pydantic

        try:
            return cast("T", self._m.model_validate(obj))
        except pydantic.ValidationError as e:
            raise DecodeError(
                f"event is not a valid {self.model.__name__}: {e}", event=event
            ) from e

    def decode(self, event: net.Event) -> T:
        """Validate the raw JSON with Pydantic (parsed by pydantic-core, not json.loads)."""
        import pydantic

        try:
            return cast("T", self._m.model_validate_json(event.raw))
        except pydantic.ValidationError as e:
            raise DecodeError(
                f"event is not a valid {self.model.__name__}: {e}", event=event
            ) from e


class _MismatchError(Exception):
    """A value does not match a type hint (internal to the dataclass checker)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")


def _type_label(tp: Any) -> str:
    return getattr(tp, "__name__", None) or repr(tp)


class DataclassCodec(Codec[T]):
    """Codec of a dataclass, checked against its type hints."""

    def __init__(self, model: type[T]) -> None:
        if not (dataclasses.is_dataclass(model) and isinstance(model, type)):
            raise net.InvalidArgumentError(f"{model!r} is not a dataclass")
        self.model = model
        self._hints: dict[type[Any], dict[str, Any]] = {}

    def _fields(self, cls: type[Any]) -> dict[str, Any]:
        hints = self._hints.get(cls)
        if hints is None:
            all_hints = typing.get_type_hints(cls)
            hints = {f.name: all_hints.get(f.name, Any) for f in dataclasses.fields(cls)}
            self._hints[cls] = hints
        return hints

    def _check(self, value: Any, tp: Any, path: str, build: bool) -> Any:
        """Check ``value`` against ``tp``; with ``build`` convert mappings to dataclasses."""
        if tp is Any or tp is object:
            return value
        if tp is None or tp is type(None):
            if value is not None:
                raise _MismatchError(path, f"expected None, got {type(value).__name__}")
            return None
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin is Union or (origin is not None and origin.__class__.__name__ == "UnionType"):
            for arg in args:
                try:
                    return self._check(value, arg, path, build)
                except _MismatchError:
                    continue
            raise _MismatchError(path, f"{type(value).__name__} matches none of {tp}")
        if origin is typing.Literal:
            if value not in args:
                raise _MismatchError(path, f"{value!r} is not one of {args}")
            return value
        if origin in (list, tuple) and isinstance(value, (list, tuple)):
            if origin is tuple and args and args[-1] is not Ellipsis:
                if len(args) != len(value):
                    raise _MismatchError(path, f"expected {len(args)} items, got {len(value)}")
                items = [
                    self._check(v, a, f"{path}.{i}", build)
                    for i, (v, a) in enumerate(zip(value, args))
                ]
            else:
                item = args[0] if args else Any
                items = [self._check(v, item, f"{path}.{i}", build) for i, v in enumerate(value)]
            return tuple(items) if origin is tuple and build else items if build else value
        if origin is dict and isinstance(value, dict):
            vt = args[1] if len(args) == 2 else Any
            out = {}
            for k, v in value.items():
                if not isinstance(k, str):
                    raise _MismatchError(path, f"keys must be str, got {type(k).__name__}")
                out[k] = self._check(v, vt, f"{path}.{k}", build)
            return out if build else value
        if origin is not None:
            raise _MismatchError(path, f"expected {tp}, got {type(value).__name__}")
        if dataclasses.is_dataclass(tp) and isinstance(tp, type):
            return self._dataclass(value, tp, path, build)
        if tp is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise _MismatchError(path, f"expected float, got {type(value).__name__}")
            return value
        if tp is int and isinstance(value, bool):
            raise _MismatchError(path, "expected int, got bool")
        if isinstance(tp, type):
            if build and issubclass(tp, enum.Enum):
                try:
                    return tp(value)
                except ValueError as e:
                    raise _MismatchError(path, str(e)) from e
            if not isinstance(value, tp):
                raise _MismatchError(
                    path, f"expected {_type_label(tp)}, got {type(value).__name__}"
                )
        return value

    def _dataclass(self, value: Any, cls: type[Any], path: str, build: bool) -> Any:
        fields = self._fields(cls)
        if isinstance(value, cls):
            for name, tp in fields.items():
                self._check(getattr(value, name), tp, f"{path}.{name}", False)
            return value
        if not isinstance(value, Mapping):
            raise _MismatchError(
                path, f"expected {cls.__name__} or a mapping, got {type(value).__name__}"
            )
        unknown = [k for k in value if k not in fields]
        if unknown:
            raise _MismatchError(path, f"unknown field(s) {unknown} for {cls.__name__}")
        kwargs = {k: self._check(v, fields[k], f"{path}.{k}", build) for k, v in value.items()}
        try:
            return cls(**kwargs)
        except TypeError as e:  # a required field is missing
            raise _MismatchError(path, str(e)) from e

    def encode(self, value: T | Mapping[str, Any]) -> Any:
        """Check the instance (or build one from a mapping) and return its fields as a dict."""
        try:
            inst = self._dataclass(value, self.model, "<root>", True)
        except _MismatchError as e:
            raise ValidationError(f"invalid {self.model.__name__}: {e}") from None
        return to_jsonable(inst)

    def decode_obj(self, obj: Any, event: net.Event) -> T:
        """Build the dataclass (and nested ones) from a parsed value, checking every field."""
        try:
            return cast("T", self._dataclass(obj, self.model, "<root>", True))
        except _MismatchError as e:
            raise DecodeError(
                f"event is not a valid {self.model.__name__}: {e}", event=event
            ) from None


def codec_for(model: type[T]) -> Codec[T]:
    """The codec of ``model``: a Pydantic v2 model class or a dataclass."""
    if is_pydantic_model(model):
        return PydanticCodec(model)
    if dataclasses.is_dataclass(model) and isinstance(model, type):
        return DataclassCodec(model)
    raise net.InvalidArgumentError(
        f"model must be a dataclass or a Pydantic v2 model class, got {model!r}"
    )
