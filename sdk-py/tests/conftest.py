"""Shared fixtures of the SDK's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from net_sdk import NetNode


@pytest.fixture
def node() -> Iterator[NetNode]:
    """A default node, shut down after the test."""
    n = NetNode()
    yield n
    n.shutdown()
