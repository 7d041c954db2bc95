"""The hand-written stub `net/_net.pyi` describes exactly what the native module exports."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import net
from net import _net

STUB = Path(net.__file__).with_name("_net.pyi")


def stub_names() -> dict[str, set[str]]:
    tree = ast.parse(STUB.read_text(encoding="utf-8"))
    names: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            members = {
                n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
            } | {
                n.target.id
                for n in node.body
                if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
            }
            names[node.name] = members
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names[node.name] = set()
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] = set()
    return names


def test_every_export_is_in_the_stub() -> None:
    described = stub_names()
    exported = {n for n in dir(_net) if not n.startswith("__") or n == "__version__"}
    missing = exported - set(described)
    assert not missing, f"not in _net.pyi: {sorted(missing)}"


def test_every_stub_name_exists() -> None:
    aliases = {
        "JsonValue",
        "ConfigInput",
        "FilterInput",
        "RawInput",
        "KeyInput",
        "Ordering",
        "Start",
    }
    for name, members in stub_names().items():
        if name in aliases:
            continue
        assert hasattr(_net, name), name
        obj = getattr(_net, name)
        if inspect.isclass(obj):
            for member in members:
                assert hasattr(obj, member), f"{name}.{member}"


def test_public_methods_are_described() -> None:
    described = stub_names()
    for cls in (_net.EventBus, _net.Subscription, _net.Event, _net.BatchResult, _net.PollResult):
        public = {n for n in dir(cls) if not n.startswith("_")}
        assert public <= described[cls.__name__], (cls.__name__, public - described[cls.__name__])


def test_package_reexports_everything_public() -> None:
    for name in net.__all__:
        assert hasattr(net, name), name
    assert net.TimeoutError is _net.TimeoutError
    assert net.error_class("timeout") is net.TimeoutError
