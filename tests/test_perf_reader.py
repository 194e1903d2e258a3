"""The reader's fast paths against the plain ones: the nesting check (``reader._outside_strings``: strings
dropped in a few C passes when no string holds a bracket) finds what dropping each string by the regular
expression finds, on any bytes; ``reader.decode`` (orjson first) gives what the json module gives."""
from __future__ import annotations

import json
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govhall_sdk.reader import _NOT_BRACKETS, _STRINGS, MAX_DEPTH, RawTicket, _outside_strings, _too_deep, decode

PIECES = [b'"', b'"', b'"', b"[", b"]", b"{", b"}", b"\\", b'\\"', b"a", b":", b",", b" ", b"\n", b'""', b"[]", b"{}"]


def _plain(data: bytes) -> bytes:
    return _STRINGS.sub(b"", data).translate(None, _NOT_BRACKETS)


def test_brackets_outside_strings_as_the_regular_expression_finds_them():
    rng = random.Random(14)
    for _ in range(20000):
        data = b"".join(rng.choice(PIECES) for _ in range(rng.randrange(0, 30)))
        assert _outside_strings(data) == _plain(data), data


def test_the_nesting_check_of_real_tickets_and_of_deep_ones():
    rng = random.Random(7)
    for depth in (MAX_DEPTH - 2, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1):
        for label in ("x", "a[b", "{", '\\"[', ""):
            value: object = label
            for _ in range(depth - 1):
                value = [value] if rng.random() < 0.5 else {"k": value, "s": label}
            data = json.dumps({"id": "T", "v": value, "events": [{"body": label}] * 300}).encode()
            assert _too_deep(data) == (depth > MAX_DEPTH), (depth, label)


def test_a_one_line_wrapper_named_json_is_told_from_its_first_chunk():
    import io

    from govhall_sdk.reader import _CHUNK, _probe, _Source

    ticket = json.dumps({"id": "T", "kind": "consultation", "events": [{"type": "reply", "body": "x" * 100}]})
    data = ('{"tickets": [' + ", ".join([ticket] * 40000) + "]}").encode()
    assert len(data) > 3 * _CHUNK
    for named_json, fmt, whole in ((True, "json", False), (False, "json", True)):
        stream = io.BytesIO(data)
        assert _probe(_Source(stream), named_json) == fmt
        assert (stream.tell() == len(data)) is whole  # any other name: the whole line decides


# ---------------------------------------------------------------- decode: orjson first, the json module's way after

@pytest.mark.parametrize("text", [
    '{"id": "T", "n": 1}', '{"a": 1, "a": 2}', '{"x": -0.0, "y": 1.5e-320, "z": 0.1}', '[NaN, Infinity, -Infinity]',
    '[1e400]', '"\\ud800"', '{"big": 1234567890123456789012}', '{"edge": 9223372036854775807}',
    '{"neg": -9223372036854775809}', '{"phone": "13812345678", "id": 610202198001011234}', '"\\u4e2d\\u6587"',
])
def test_decode_gives_what_the_json_module_gives(text):
    raw = RawTicket("line 1", text.encode("utf-8"), 1)
    got, expected = decode(raw), json.loads(text)
    assert repr(got) == repr(expected) and type(got) is type(expected)


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
                    max_leaves=20))
def test_decode_of_any_json_value_is_the_json_module_s(value):
    text = json.dumps(value, ensure_ascii=False)
    assert repr(decode(RawTicket("line 1", text.encode("utf-8"), 1))) == repr(json.loads(text))


@pytest.mark.parametrize("text, message", [
    ('{"a": }', "line 1: malformed JSON"), (b'{"a": "\xff"}', "line 1: invalid UTF-8"),
    ('{"a":\n\n [1,}', "line 3: malformed JSON"),
])
def test_decode_errors_name_the_line_as_before(text, message):
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    with pytest.raises(ValueError, match=message):
        decode(RawTicket("line 1", data, 1))


def test_a_long_shallow_ticket_is_read_by_orjson_and_a_deep_one_is_an_error(monkeypatch):
    """More brackets than MAX_DEPTH: the nesting is checked first, then orjson reads a shallow ticket (the json
    module is not asked); one nested deeper than MAX_DEPTH is an error naming its line, with or without orjson."""
    from govhall_sdk import reader

    long = {"id": "T", "events": [{"type": "reply", "at": "2025-03-03T09:00:00+08:00", "body": [k]}
                                  for k in range(MAX_DEPTH)]}
    text = json.dumps(long, ensure_ascii=False).encode("utf-8")

    def refused(*args, **kwargs):
        raise AssertionError("the json module was asked")

    with monkeypatch.context() as m:
        m.setattr(reader.json, "loads", refused)
        assert decode(RawTicket("line 4", text, 4)) == long
    deep = b'{"id": "T", "x": ' + b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1) + b"}"
    with pytest.raises(ValueError, match=f"line 4: nested deeper than {MAX_DEPTH}"):
        decode(RawTicket("line 4", deep, 4))
