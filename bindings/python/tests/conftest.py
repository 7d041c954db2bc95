"""Shared helpers of the binding's tests: fixture paths and a bus that is always shut down."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import net

#: tests/cross_lang at the repository root: the golden fixtures every language loads.
CROSS_LANG = Path(__file__).resolve().parents[3] / "tests" / "cross_lang"


def fixture(name: str) -> Any:
    """Load a golden fixture by its path under tests/cross_lang."""
    return json.loads((CROSS_LANG / name).read_text(encoding="utf-8"))


@pytest.fixture
def bus() -> Iterator[net.EventBus]:
    """A default bus, shut down after the test."""
    b = net.EventBus()
    yield b
    b.shutdown()
