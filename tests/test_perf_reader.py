"""The reader's fast nesting check (``reader._outside_strings``: strings dropped in a few C passes when no
string holds a bracket) finds what dropping each string by the regular expression finds, on any bytes."""
from __future__ import annotations

import json
import random

from govhall_sdk.reader import _NOT_BRACKETS, _STRINGS, MAX_DEPTH, _outside_strings, _too_deep

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
