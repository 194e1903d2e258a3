"""The wrapped format's fast way to a ticket's end (``reader._whole_value``: one regular expression, then the
brackets paired by kind) gives the bytes and the position the bracket-by-bracket scan (``reader._Value``) gives,
or leaves the value to that scan with the position unmoved."""
import io
import json

from hypothesis import given
from hypothesis import strategies as st

from govhall_sdk import reader

PIECES = [b"{", b"}", b"[", b"]", b'"', b"\\", b'\\"', b"\\\\", b"a", b" ", b"\n", b",", b":", b'"x[y"', b'"}"',
          b"1", "中".encode(), b"\xff"]


def _sources(data):
    """Two sources over ``data``, its first chunk read."""
    fast, slow = reader._Source(io.BytesIO(data)), reader._Source(io.BytesIO(data))
    fast.fill()
    slow.fill()
    return fast, slow


def _scanned(src):
    value = reader._Value(src, keep=True, limit=reader.MAX_TICKET_BYTES, check_depth=True)
    start, end = value.scan()
    return value.error, bytes(src.buf[start:end]), src.pos


@given(st.lists(st.sampled_from(PIECES), max_size=80).map(b"".join))
def test_the_fast_way_agrees_with_the_scan_or_leaves_the_value_to_it(text):
    fast, slow = _sources(b"{" + text)
    got = reader._whole_value(fast)
    if got is None:
        assert fast.pos == 0
        return
    assert _scanned(slow) == (None, got, fast.pos)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='ab[]{}"\\\n中'),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(alphabet='k[}"', max_size=3), inner, max_size=4),
    max_leaves=30)


def _depth(value):
    if isinstance(value, (list, dict)):
        items = value.values() if isinstance(value, dict) else value
        return 1 + max(map(_depth, items), default=0)
    return 0


@given(st.dictionaries(st.text(max_size=3), json_values, max_size=4), st.sampled_from([None, 2]))
def test_a_ticket_no_deeper_than_the_limit_takes_the_fast_way(ticket, indent):
    data = json.dumps(ticket, ensure_ascii=False, indent=indent).encode() + b",\n{}"
    fast, slow = _sources(data)
    got = reader._whole_value(fast)
    if _depth(ticket) > reader.WHOLE_DEPTH:
        assert got is None and fast.pos == 0
    else:
        assert got is not None and json.loads(got) == ticket
        assert _scanned(slow) == (None, got, fast.pos)


def test_a_ticket_deeper_than_the_fast_way_takes_is_read_as_before():
    deep = {"id": "T-1", "fields": {"x": [[[[[[[[[[[[[["d"]]]]]]]]]]]]]]}}
    data = json.dumps({"tickets": [deep, {"id": "T-2"}]}).encode()
    raws = list(reader.iter_raw(io.BytesIO(data), "t.json"))
    assert [json.loads(r.data) for r in raws] == [deep, {"id": "T-2"}]
    assert [r.where for r in raws] == ["tickets[0]", "tickets[1]"]


def test_a_value_cut_off_by_the_buffer_s_end_is_left_to_the_scan():
    ticket = json.dumps({"id": "T-1", "body": "x" * 100}).encode()
    src = reader._Source(io.BytesIO(ticket[:50]))
    src.fill()
    assert reader._whole_value(src) is None and src.pos == 0
