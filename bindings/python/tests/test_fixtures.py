"""The shared golden fixtures in tests/cross_lang/: the same files every language loads."""

from __future__ import annotations

import json
from typing import Any

import pytest

import net
from conftest import fixture

CONFIG = fixture("bus/config_cases.json")
FILTERS = fixture("bus/filter_cases.json")
CURSORS = fixture("bus/cursor_cases.json")
EVENTS = fixture("bus/event_cases.json")
ERRORS = fixture("errors.json")


def test_fixture_sizes() -> None:
    assert len(CONFIG["valid"]) >= 10
    assert len(CONFIG["invalid"]) >= 20
    assert len(FILTERS["cases"]) >= 20
    assert len(ERRORS["kinds"]) == 12


@pytest.mark.parametrize("case", CONFIG["valid"], ids=lambda c: c["name"])
def test_valid_config_normalizes(case: dict[str, Any]) -> None:
    assert net.normalize_config(case["input"]) == case["normalized"]
    # The normalized form is itself valid and a fixed point, as JSON text too.
    assert net.normalize_config(json.dumps(case["normalized"])) == case["normalized"]
    if case["normalized"]["adapter"]["type"] == "memory":
        with net.EventBus(case["input"]) as bus:
            assert bus.config == case["normalized"]


@pytest.mark.parametrize("case", CONFIG["invalid"], ids=lambda c: c["name"])
def test_invalid_config_names_the_key(case: dict[str, Any]) -> None:
    arg = case["input_text"] if "input_text" in case else case["input"]
    for build in (net.normalize_config, net.EventBus):
        with pytest.raises(net.NetError) as info:
            build(arg)
        err = info.value
        assert err.kind == case["kind"]
        assert type(err) is net.error_class(case["kind"])
        assert err.key == case["key"]
        assert case["key"] in str(err)


@pytest.fixture(scope="module")
def filter_bus() -> Any:
    bus = net.EventBus()
    bus.ingest(FILTERS["event"])
    bus.flush()
    yield bus
    bus.shutdown()


@pytest.mark.parametrize("case", FILTERS["cases"], ids=lambda c: c["name"])
def test_filter_cases_through_poll(filter_bus: net.EventBus, case: dict[str, Any]) -> None:
    as_dict = filter_bus.poll(10, filter=case["filter"])
    as_text = filter_bus.poll(10, filter=json.dumps(case["filter"]))
    assert (len(as_dict) == 1) == case["match"]
    assert len(as_text) == len(as_dict)


@pytest.mark.parametrize("case", FILTERS["invalid"], ids=lambda c: c["name"])
def test_invalid_filters(filter_bus: net.EventBus, case: dict[str, Any]) -> None:
    cls = net.error_class(case["kind"])
    with pytest.raises(cls):
        filter_bus.poll(10, filter=json.dumps(case["filter"]))
    if isinstance(case["filter"], dict):
        with pytest.raises(cls):
            filter_bus.poll(10, filter=case["filter"])
        with pytest.raises(cls):
            filter_bus.subscribe(case["filter"])


@pytest.mark.parametrize("bad", CURSORS["invalid"])
def test_invalid_cursors(bad: str) -> None:
    with net.EventBus({"num_shards": CURSORS["shards"]}) as bus:
        with pytest.raises(net.InvalidCursorError):
            bus.poll(10, bad)
        with pytest.raises(net.InvalidCursorError):
            bus.subscribe(cursor=bad)


def test_event_cases(bus: net.EventBus) -> None:
    for bad in EVENTS["invalid"]:
        with pytest.raises(net.InvalidJsonError):
            bus.ingest_raw(bad)
        with pytest.raises(net.InvalidJsonError):
            bus.ingest_raw(bad.encode())
    for good in EVENTS["valid"]:
        bus.ingest_raw(good)
    bus.flush()
    stats = bus.stats()
    assert stats["accepted"] == len(EVENTS["valid"])
    assert stats["delivered"] == stats["accepted"]
    # The bytes a producer sent are the bytes a consumer reads.
    assert [e.raw for e in bus.poll(100)] == EVENTS["valid"]


def test_error_kinds_and_classes() -> None:
    pinned = [(k["kind"], k["code"]) for k in ERRORS["kinds"]]
    assert pinned == net.ERROR_KINDS
    assert set(net.ERROR_CLASSES) == {kind for kind, _ in pinned}
    for kind, code in pinned:
        cls = net.error_class(kind)
        assert issubclass(cls, net.NetError)
        assert cls.kind == kind
        assert cls.code == code
        assert cls.__module__ == "net"
        assert getattr(net, cls.__name__) is cls
        err = net._net._error_for_kind(kind, "message")
        assert type(err) is cls
        assert err.kind == kind and err.code == code
        assert (err.key is not None) == (kind == "config")


def test_error_classes_have_pythonic_bases() -> None:
    assert issubclass(net.InvalidArgumentError, ValueError)
    assert issubclass(net.InvalidArgumentError, TypeError)
    assert issubclass(net.InvalidJsonError, ValueError)
    assert issubclass(net.ConfigError, ValueError)
    assert issubclass(net.TimeoutError, TimeoutError)
    assert not issubclass(net.BackpressureError, ValueError)
