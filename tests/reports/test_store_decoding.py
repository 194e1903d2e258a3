"""The records a report loads from the store (``reports.data.decoded_record``): only the keys of
``StoredRecord``, each value exactly what orjson gives (the same types, the same key order), anything of
another shape decoded whole by orjson; and every report the same as from whole records."""
from __future__ import annotations

import os
import sys
import types
import typing
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from govhall_sdk.cli.report import REPORTS, _json_of
from govhall_sdk.config import default_config
from govhall_sdk.host import get_plugin_manager
from govhall_sdk.reports import data as report_data
from govhall_sdk.reports.data import Period, StoredRecord, catalog_of, decoded_record, from_store
from govhall_sdk.state import StateStore

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
from bench_report import build_store  # noqa: E402


def restricted(value: Any, kind: Any = StoredRecord) -> Any:
    """``value`` with only the keys ``kind`` declares, at every depth (what is not of its shape, as it is)."""
    if typing.is_typeddict(kind):
        if not isinstance(value, dict):
            return value
        hints = typing.get_type_hints(kind)
        return {key: restricted(item, hints[key]) for key, item in value.items() if key in hints}
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is types.UnionType:  # X | None
        return value if value is None else restricted(value, args[0])
    if origin is list and isinstance(value, list):
        return [restricted(item, args[0]) for item in value]
    if origin is dict and isinstance(value, dict):
        return {key: restricted(item, args[1]) for key, item in value.items()}
    return value


def exactly(value: Any) -> bytes:
    """``value`` as JSON: equal for equal values of equal types (``True`` is not ``1``, ``1`` not ``1.0``)
    with their keys in the same order."""
    return orjson.dumps(value)


def test_a_stored_record_keeps_the_keys_the_reports_read(demo_store):
    for whole, fast in zip(demo_store.results(), demo_store.results(decode=decoded_record)):
        assert exactly(fast) == exactly({**restricted(whole), "adapter": whole["adapter"]})
        assert "kind" in whole and "kind" not in fast and "rule" not in (fast["clocks"] or [{}])[0]


@pytest.fixture(scope="module")
def corpus_store(tmp_path_factory):
    """A results store of 500 benchmark corpus tickets, as ``govhall run`` leaves it."""
    path = tmp_path_factory.mktemp("corpus") / "state.sqlite"
    build_store(path, 500)
    store = StateStore(path)
    yield store
    store.close()


def test_every_corpus_record_decodes_to_its_orjson_record_less_the_keys_no_report_reads(corpus_store):
    rows = corpus_store.db.execute("SELECT CAST(record AS BLOB) FROM results").fetchall()
    assert len(rows) == 500
    for (raw,) in rows:
        assert exactly(decoded_record(raw)) == exactly(restricted(orjson.loads(raw)))


@pytest.mark.parametrize("store", ["demo_store", "corpus_store"])
def test_every_report_is_the_same_as_from_whole_records(store, request, monkeypatch):
    state = request.getfixturevalue(store)
    pm = get_plugin_manager()
    tz = default_config(pm).timezone

    def reports() -> dict[str, Any]:
        data = from_store(state, catalog_of(pm.rules), period=Period(), tz=tz, unmasked=True)
        return {kind: _json_of(kind, data) for kind in REPORTS}

    fast = reports()
    monkeypatch.setattr(report_data, "decoded_record", orjson.loads)
    assert reports() == fast


TEXTS = st.one_of(st.none(), st.text(max_size=8), st.sampled_from(["2025-03-03T09:30:00+08:00", "met", "红"]))
#: Any JSON value, as orjson writes and reads it.
JSON = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**64 - 1),
                              st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=6)),
                    lambda inner: st.one_of(st.lists(inner, max_size=3),
                                            st.dictionaries(st.text(max_size=4), inner, max_size=3)),
                    max_leaves=8)


def shaped(kind: Any) -> st.SearchStrategy:
    """Values of the type ``kind`` declares (a TypedDict with any of its keys and others it does not)."""
    if typing.is_typeddict(kind):
        hints = typing.get_type_hints(kind)
        declared = st.fixed_dictionaries({}, optional={key: shaped(hint) for key, hint in hints.items()})
        others = st.dictionaries(st.text(max_size=6).filter(lambda key: key not in hints), JSON, max_size=3)
        return st.tuples(declared, others, st.randoms()).map(_mixed)
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is types.UnionType:
        return st.one_of(st.none(), shaped(args[0]))
    if origin is list:
        return st.lists(shaped(args[0]), max_size=3)
    if origin is dict:
        return st.dictionaries(st.text(max_size=4), shaped(args[1]), max_size=3)
    return {str: TEXTS.filter(lambda text: text is not None), int: st.integers(-2**63, 2**64 - 1),
            bool: st.booleans()}[kind]


def _mixed(parts: tuple[dict, dict, Any]) -> dict:
    """The declared and the other keys in one dict, in a random order."""
    declared, others, random = parts
    items = list(declared.items()) + list(others.items())
    random.shuffle(items)
    return dict(items)


@given(shaped(StoredRecord))
def test_a_record_of_the_declared_shape_is_decoded_to_exactly_its_declared_keys(record):
    raw = orjson.dumps(record)
    assert exactly(decoded_record(raw)) == exactly(restricted(orjson.loads(raw)))


@given(st.dictionaries(st.sampled_from(sorted(typing.get_type_hints(StoredRecord)) + ["kind", "x"]), JSON))
def test_any_record_is_its_declared_keys_or_whole_and_the_same_where_a_report_reads(record):
    raw = orjson.dumps(record)
    whole, fast = orjson.loads(raw), decoded_record(raw)
    assert exactly(fast) in (exactly(restricted(whole)), exactly(whole))
    assert exactly(restricted(fast)) == exactly(restricted(whole))


@pytest.mark.parametrize("record", [
    {"id": 7, "kind": "consult"},                                          # an id that is not text
    {"id": "T1", "evaluations": [{"at": "2025-03-03", "rating": 4.5}]},    # a rating that is not an integer
    {"id": "T1", "clocks": None, "kind": "consult"},                       # no list of clocks
    {"id": "T1", "people": {"s1": ["not", "a", "person"]}},
])
def test_a_record_of_another_shape_is_decoded_whole_by_orjson(record):
    assert exactly(decoded_record(orjson.dumps(record))) == exactly(record)


def test_the_store_gives_whole_records_unless_told_otherwise(demo_store):
    whole = next(iter(demo_store.results()))
    assert {"kind", "channel", "status", "responsible"} <= whole.keys() and whole["adapter"] == "local"
