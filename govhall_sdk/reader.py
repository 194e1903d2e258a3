"""Ticket files read as a stream, one ticket at a time: never a crash, never a silent drop.

Two formats (``docs/tickets.md``, "Files"): the wrapped document
``{"tickets": [...]}``, pretty-printed or on one line, and JSON Lines. The
reader only *splits*: it yields each ticket's raw UTF-8 bytes with where it
starts (:class:`RawTicket`), so that decoding and validation
(:func:`parse_raw`) can run in another process with nothing but bytes pickled.

Splitting the wrapped format is a structural scan over bytes (strings,
brackets, the wrapper's keys and commas) with C-speed regular expressions (a
usual ticket's end is found by one, :func:`_whole_value`; any other ticket is
scanned bracket by bracket): memory holds one ticket, a long string is scanned once, and a ticket that
cannot be decoded (too deep, too large, a number of more than 4,300 digits,
invalid UTF-8, bad JSON inside balanced brackets) is an error for that ticket
alone, the next one being found from its brackets. What breaks the structure
(an unterminated string, a bracket that closes nothing, a missing comma, data
after the document, a second ``"tickets"`` key) is a :class:`FileError`
naming the line: the tickets before it were yielded, the rest is not read.
"""
from __future__ import annotations

import functools
import io
import json
import re
from datetime import tzinfo
from typing import IO, Any, Iterator, NamedTuple

import orjson

from .model import Ticket
from .parse import Parsed, TicketError, parse_item, typed_ticket

#: Deepest nesting of a ticket (the ticket object itself is depth 1).
MAX_DEPTH = 200
#: Largest ticket (and so string or number) in bytes; a larger one is reported and skipped.
MAX_TICKET_BYTES = 256 << 20
#: Most digits of an integer (Python's own limit for int <-> str conversion).
MAX_INT_DIGITS = 4300
#: The ``--input-format`` choices.
INPUT_FORMATS = ("auto", "json", "jsonl")

_CHUNK = 1 << 20
_BOM = b"\xef\xbb\xbf"
_WS = b" \t\r\n"
_QUOTE, _COMMA, _COLON = ord('"'), ord(","), ord(":")
_OPEN = {ord("{"): ord("}"), ord("["): ord("]")}
# Everything up to a bracket or a string not finished in the buffer (complete strings are skipped whole).
_SKIP = re.compile(rb'(?:[^"\[\]{}]++|"[^"\\]*+(?:\\.[^"\\]*+)*+")*+', re.S)
_STRING_BODY = re.compile(rb'[^"\\]*+(?:\\.[^"\\]*+)*+', re.S)  # a string's inside, up to its quote
_SCALAR = re.compile(rb'[^ \t\r\n,\]}\[{":]*+')
_BLANK = re.compile(rb"[ \t\r\n]*+")
_LONG_INT = re.compile(rb"(?<![\d.eE+-])-?\d{%d,}" % (MAX_INT_DIGITS + 1))
#: Digits as ``0``, every other byte as a space: a run of 19 digits is then a plain substring search (in C,
#: a tenth of the time of a regular expression over a ticket full of dates).
_DIGITS_AS_ZERO = bytes(48 if 48 <= i <= 57 else 32 for i in range(256))
_LONG_RUN = b"0" * 19
_STRINGS = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"', re.S)
_PAIRS = re.compile(rb"\[\]|\{\}")
_PASSES = 8
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_NOT_BRACKETS_OR_QUOTES = bytes(b for b in range(256) if b not in b'[]{}"')


class FileError(ValueError):
    """The file cannot be read on from ``line`` (1-based); the tickets before it were yielded."""

    def __init__(self, line: int, message: str):
        self.line = line
        super().__init__(f"line {line}: {message}")


class RawTicket(NamedTuple):
    """One ticket as found in the file: its raw bytes, or why they could not be kept.

    ``where`` is ``line 7`` (JSON Lines) or ``tickets[6]`` (the wrapped format),
    ``line`` the line its value starts on, ``error`` the reader's reason when the
    ticket was skipped (too deep, too large: ``data`` is then empty), and
    ``depth_checked`` whether the reader has already checked its nesting.
    """

    where: str
    data: bytes
    line: int
    error: str | None = None
    depth_checked: bool = False


# ---------------------------------------------------------------- byte source


class _TextAsBytes(io.RawIOBase):
    """A text stream without a binary buffer (``io.StringIO``) read as UTF-8 bytes."""

    def __init__(self, stream: IO[str]):
        self.stream, self.pending = stream, b""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self.pending) < size:
            text = self.stream.read(_CHUNK if size < 0 else size)
            if not text:
                break
            self.pending += text.encode("utf-8", "surrogatepass")
        data, self.pending = (self.pending, b"") if size < 0 else (self.pending[:size], self.pending[size:])
        return data


class _Replay(io.RawIOBase):
    """The bytes spooled while the format was detected, then the rest of the stream."""

    def __init__(self, spool: IO[bytes], rest: IO[bytes]):
        self.spool, self.rest = spool, rest

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.spool.read(size) if self.spool is not None else b""
        if data:
            return data
        if self.spool is not None:
            self.spool.close()
            self.spool = None
        return self.rest.read(size)


def binary(stream: IO[Any]) -> IO[bytes]:
    """The binary stream beneath ``stream`` (a text file's buffer), or ``stream`` read as UTF-8 bytes."""
    if isinstance(stream, io.TextIOBase):
        buffer = getattr(stream, "buffer", None)
        return buffer if buffer is not None else _TextAsBytes(stream)
    return stream


class _Source:
    """A binary stream in a growing buffer: ``pos`` is the read position, ``line_at(pos)`` its line.

    Bytes before ``mark`` (the ticket being kept) or else before ``pos`` are
    dropped on the next read, so memory holds one ticket and one chunk.
    """

    def __init__(self, stream: IO[bytes], tee: IO[bytes] | None = None):
        self.stream, self.tee = stream, tee
        self.buf = bytearray()
        self.pos = 0
        self.mark: int | None = None
        self.eof = False
        self._line, self._line_pos = 1, 0
        self.offset = 0  # bytes dropped from the front so far
        self.limit: int | None = None
        self.overflow = False

    def fill(self) -> bool:
        """Read one more chunk; False at the end of the stream.

        A kept value (``mark``) that grows past ``limit`` bytes is let go:
        ``overflow`` is set and its bytes are dropped as reading goes on.
        """
        if self.eof:
            return False
        chunk = self.stream.read(_CHUNK)
        if not chunk:
            self.eof = True
            return False
        if self.tee is not None:
            self.tee.write(chunk)
        if self.offset == 0 and not self.buf and chunk.startswith(_BOM):
            chunk = chunk[len(_BOM):]
        if self.mark is not None and self.limit is not None and len(self.buf) - self.mark > self.limit:
            self.mark, self.overflow = None, True
        self._drop()
        self.buf += chunk
        return True

    def _drop(self) -> None:
        keep = self.pos if self.mark is None else self.mark
        if keep < (1 << 16):
            return
        self.line_at(keep)
        del self.buf[:keep]
        self.pos -= keep
        self._line_pos -= keep
        self.offset += keep
        if self.mark is not None:
            self.mark -= keep

    def line_at(self, pos: int) -> int:
        """The line of buffer position ``pos`` (positions are asked in increasing order)."""
        if pos > self._line_pos:
            self._line += self.buf.count(b"\n", self._line_pos, pos)
            self._line_pos = pos
        return self._line

    def peek(self) -> int:
        """The next non-blank byte (skipped up to it), or -1 at the end of the stream."""
        while True:
            self.pos = _BLANK.match(self.buf, self.pos).end()
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.fill():
                return -1

    def error(self, message: str) -> FileError:
        """A :class:`FileError` at the read position."""
        return FileError(self.line_at(self.pos), message)

    def expect(self, byte: int, what: str) -> None:
        """Skip blanks and one ``byte``, or fail with ``malformed JSON: expected WHAT``."""
        found = self.peek()
        if found != byte:
            raise self.error(f"malformed JSON: expected {what} but found {_show(found)}")
        self.pos += 1

    def string_end(self, start: int) -> int:
        """The position after the string opened at ``start`` (read on as needed, each byte scanned once)."""
        line = self.line_at(start)
        pos = start + 1
        while True:
            pos = _STRING_BODY.match(self.buf, pos).end()
            if pos < len(self.buf) and self.buf[pos] == _QUOTE:
                return pos + 1
            # the end of the buffer, or a backslash at its very end: read on from there
            self.pos = pos
            before = self.offset
            if not self.fill():
                raise FileError(line, "malformed JSON: the file ends inside a string")
            pos -= self.offset - before


def _show(byte: int) -> str:
    return "the end of the file" if byte < 0 else repr(chr(byte)) if 32 <= byte < 127 else f"byte 0x{byte:02x}"


# ---------------------------------------------------------------- scanning values


class _Value:
    """Scans one JSON value at the source's position, keeping its bytes (up to ``limit``) or not."""

    def __init__(self, src: _Source, keep: bool = False, limit: int | None = None, check_depth: bool = False,
                 stop_at_newline: bool = False):
        self.src, self.keep, self.limit = src, keep, limit
        self.check_depth, self.stop_at_newline = check_depth, stop_at_newline
        self.error: str | None = None

    def scan(self) -> tuple[int, int] | None:
        """Consume the value; return its ``(start, end)`` in the buffer (None when it ran past a newline).

        ``start`` is meaningful only when the value was kept whole (no ``error``).
        """
        src = self.src
        if src.peek() < 0:
            raise src.error("malformed JSON: expected a value but found the end of the file")
        start = src.offset + src.pos
        src.mark, src.limit, src.overflow = (src.pos, self.limit, False) if self.keep else (None, None, False)
        try:
            first = src.buf[src.pos]
            if first in _OPEN:
                end = self._container()
            elif first == _QUOTE:
                end = src.string_end(src.pos)
            else:
                end = self._scalar()
        finally:
            src.mark, src.limit = None, None
        if src.overflow and self.error is None:
            self.error = f"the ticket is larger than {self.limit >> 20} MiB"
        if end is None:
            return None
        src.pos = end
        return start - src.offset, end

    def _scalar(self) -> int:
        src = self.src
        while True:
            end = _SCALAR.match(src.buf, src.pos).end()
            if end < len(src.buf) or not src.fill():
                break
        if end == src.pos:
            raise src.error("malformed JSON: expected a value but found "
                            + _show(src.buf[end] if end < len(src.buf) else -1))
        return end

    def _container(self) -> int | None:
        src = self.src
        stack = bytearray()
        pos = src.pos
        while True:
            new = _SKIP.match(src.buf, pos).end()
            if self.stop_at_newline and src.buf.find(b"\n", pos, new) >= 0:
                return None
            pos = new
            if pos == len(src.buf):
                src.pos = pos
                if not src.fill():
                    raise src.error("malformed JSON: the file ends inside a value")
                pos = src.pos
                continue
            byte = src.buf[pos]
            if byte == _QUOTE:
                pos = src.string_end(pos)
            elif byte in _OPEN:
                stack.append(_OPEN[byte])
                if self.check_depth and len(stack) > MAX_DEPTH and self.error is None:
                    self.error = f"line {src.line_at(pos)}: nested deeper than {MAX_DEPTH}"
                pos += 1
            elif not stack or stack[-1] != byte:
                src.pos = pos
                raise src.error(f"malformed JSON: {chr(byte)!r} closes nothing open")
            else:
                stack.pop()
                pos += 1
                if not stack:
                    return pos


# ---------------------------------------------------------------- the wrapped format


def _key(src: _Source) -> str:
    """The object key at the position, decoded (invalid UTF-8 replaced)."""
    if src.peek() != _QUOTE:
        raise src.error(f"malformed JSON: expected a key (a string) but found {_show(src.peek())}")
    start = src.pos
    end = src.string_end(start)
    src.pos = end
    try:
        return json.loads(src.buf[start:end].decode("utf-8", "replace"))
    except ValueError:
        return "\ufffd"


def _iter_wrapped(src: _Source) -> Iterator[RawTicket]:
    """The tickets of a ``{"tickets": [...]}`` document (other top-level keys are skipped)."""
    src.expect(ord("{"), "the document's '{'")
    found = False
    while src.peek() != ord("}"):
        key = _key(src)
        src.expect(_COLON, "':'")
        if key == "tickets":
            if found:
                raise src.error('malformed JSON: a second "tickets" key')
            found = True
            yield from _iter_list(src)
        else:
            _Value(src).scan()
        if src.peek() == _COMMA:
            src.pos += 1
            if src.peek() == ord("}"):
                raise src.error("malformed JSON: expected a key after ',' but found '}'")
        elif src.peek() != ord("}"):
            raise src.error(f"malformed JSON: expected ',' or '}}' but found {_show(src.peek())}")
    if not found:
        raise src.error('no "tickets" list in the file')
    src.pos += 1
    if src.peek() >= 0:
        raise src.error("data after the tickets document (a second document or garbage)")


def _iter_list(src: _Source) -> Iterator[RawTicket]:
    if src.peek() != ord("["):
        raise src.error(f'"tickets" must be a list, found {_show(src.peek())}')
    src.pos += 1
    index = 0
    while src.peek() != ord("]"):
        if index:
            src.expect(_COMMA, "',' or ']'")
        yield _ticket(src, f"tickets[{index}]")
        index += 1
    src.pos += 1


def _ticket(src: _Source, where: str) -> RawTicket:
    src.peek()
    line = src.line_at(src.pos)
    whole = _whole_value(src)
    if whole is not None:
        return RawTicket(where, whole, line, None, True)
    value = _Value(src, keep=True, limit=MAX_TICKET_BYTES, check_depth=True)
    start, end = value.scan()
    if value.error is not None:
        reason = value.error if value.error.startswith("line ") else f"line {line}: {value.error}"
        return RawTicket(where, b"", line, reason, True)
    return RawTicket(where, bytes(src.buf[start:end]), line, None, True)


def _whole_value(src: _Source) -> bytes | None:
    """The bytes of the object or list at the read position, the position moved past it, when the value lies
    whole in the buffer, at most :data:`WHOLE_DEPTH` deep, each bracket closed by its own kind (the usual
    ticket); else None, the position unmoved, and the bracket-by-bracket scan (:class:`_Value`) reads it.

    One regular expression (:func:`_whole_pattern`, in C) finds the end where the scan would step bracket by
    bracket in Python; both skip strings and the bytes between brackets alike. It does not tell ``[`` from
    ``{``, so the brackets outside strings are then paired by kind: innermost pairs dropped, each pass one
    level, until none is left.
    """
    found = _whole_pattern().match(src.buf, src.pos)
    if found is None:
        return None
    data = found.group()
    if len(data) > MAX_TICKET_BYTES:
        return None
    brackets = _outside_strings(data)
    while brackets:
        brackets, dropped = _PAIRS.subn(b"", brackets)
        if not dropped:  # a bracket closed by the other kind: the scan names it
            return None
    src.pos = found.end()
    return data


#: The deepest ticket :func:`_whole_value` reads (a ticket, its events, an event, its actor are four).
WHOLE_DEPTH = 12


@functools.cache
def _whole_pattern() -> re.Pattern[bytes]:
    """An object or list nesting at most :data:`WHOLE_DEPTH` deep, its brackets not told apart by kind;
    possessive throughout, so that it fails (a deeper value, one cut off by the buffer's end) in time linear
    in its length. Compiled at first use (2 ms): only the wrapped format needs it."""
    atoms = rb'[^"\[\]{}]++|"[^"\\]*+(?:\\.[^"\\]*+)*+"'
    inner = rb"(?:" + atoms + rb")*+"
    for _ in range(WHOLE_DEPTH - 1):
        inner = rb"(?:" + atoms + rb"|[\[{]" + inner + rb"[\]}])*+"
    return re.compile(rb"[\[{]" + inner + rb"[\]}]", re.S)


# ---------------------------------------------------------------- JSON Lines


def _iter_lines(src: _Source) -> Iterator[RawTicket]:
    """Every non-blank line, each a ticket; a line over :data:`MAX_TICKET_BYTES` is reported and skipped."""
    number = 0
    too_large = f"the line is larger than {MAX_TICKET_BYTES >> 20} MiB"
    while True:
        found, data, skipped = _next_line(src)
        if not found:
            return
        number += 1
        if skipped:
            yield RawTicket(f"line {number}", b"", number, f"line {number}: {too_large}")
        elif not _BLANK.fullmatch(data):
            yield RawTicket(f"line {number}", data, number)


def _next_line(src: _Source) -> tuple[bool, bytes, bool]:
    """``(found, the line with its newline, skipped)``: ``skipped`` when it was too large to keep."""
    start = search = src.pos
    skipped = False
    while True:
        nl = src.buf.find(b"\n", search)
        if nl >= 0:
            src.pos = nl + 1
            return True, b"" if skipped else bytes(src.buf[start:nl + 1]), skipped
        if len(src.buf) - start > MAX_TICKET_BYTES:
            skipped = True
        if skipped:
            start = len(src.buf)
        searched = len(src.buf) - start
        src.pos = start
        before = src.offset
        if not src.fill():
            src.pos = len(src.buf)
            found = skipped or start < len(src.buf)
            return found, b"" if skipped else bytes(src.buf[start:]), skipped
        start -= src.offset - before
        search = start + searched


# ---------------------------------------------------------------- detection


def _format_of(name: str) -> str:
    return "jsonl" if name.endswith((".jsonl", ".ndjson")) else "auto"


def _probe(src: _Source, named_json: bool = False) -> str:
    """The format, from the first value: see :func:`iter_raw`. Consumes the source."""
    if src.peek() != ord("{"):
        return "jsonl"
    line = src.line_at(src.pos)
    src.pos += 1
    members: list[tuple[str, bool]] = []
    try:
        if _newline_before(src, line):
            return "json"
        while src.peek() != ord("}") or members:
            if not _probe_member(src, line, members, named_json):
                return "json"
            if src.peek() != _COMMA:
                break
            src.pos += 1
    except FileError:  # a broken first line: a broken wrapper when it began {"tickets": [
        pass
    if members == [("tickets", True)] or named_json and ("tickets", True) in members:
        return "json"
    return "jsonl"


def _probe_member(src: _Source, line: int, members: list[tuple[str, bool]], named_json: bool = False) -> bool:
    """Read the next ``key: value`` of the first object into ``members`` as ``(key, the value is a list)``.

    False when the object goes on past its first line, and in a file named ``.json`` when the member is a
    ``tickets`` list: either way the file is the wrapped document, and the value is not read (a one-line
    wrapper is the whole file).
    """
    key = _key(src)
    if _newline_before(src, line):
        return False
    src.expect(_COLON, "':'")
    if _newline_before(src, line):
        return False
    members.append((key, src.peek() == ord("[")))
    if named_json and members[-1] == ("tickets", True):
        return False
    return _Value(src, stop_at_newline=True).scan() is not None and not _newline_before(src, line)


def _newline_before(src: _Source, line: int) -> bool:
    src.peek()
    return src.line_at(src.pos) != line


def _detected(stream: IO[bytes], named_json: bool) -> tuple[str, IO[bytes]]:
    """Detect the format by :func:`_probe`, then give a stream that starts again from the beginning."""
    if stream.seekable():
        start = stream.tell()
        fmt = _probe(_Source(stream), named_json)
        stream.seek(start)
        return fmt, stream
    import tempfile  # only a piped input is spooled: a check of a file does not pay its import
    spool = tempfile.SpooledTemporaryFile(max_size=4 << 20)
    fmt = _probe(_Source(stream, tee=spool), named_json)
    spool.seek(0)
    return fmt, _Replay(spool, stream)


# ---------------------------------------------------------------- public API


def iter_raw(stream: IO[Any], name: str = "", fmt: str = "auto") -> Iterator[RawTicket]:
    """Yield a :class:`RawTicket` for every ticket of ``stream`` (binary or text), streamed.

    ``fmt`` is ``json`` (the wrapped document), ``jsonl`` or ``auto``: a
    ``.jsonl``/``.ndjson`` name is JSON Lines; otherwise the first value decides.
    A first value that is not an object, or a one-line object other than
    ``{"tickets": [...]}`` alone, is a JSON Lines ticket; an object going on past
    its first line, or a one-line object whose only key is ``tickets`` holding
    a list, is the wrapped document. A key a ticket may also have decides
    nothing, except in a file named ``.json``: there a one-line object with a
    ``tickets`` list among other keys is the wrapped document too (a ``.json``
    file holding one ticket, or JSON Lines, still reads as JSON Lines). Raises :class:`FileError` (a ``ValueError``) where the file cannot
    be read on, after yielding the tickets before it.
    """
    if fmt not in INPUT_FORMATS:
        raise ValueError(f"unknown input format {fmt!r}")
    stream = binary(stream)
    fmt = _format_of(name) if fmt == "auto" else fmt
    if fmt == "auto":
        fmt, stream = _detected(stream, name.endswith(".json"))
    src = _Source(stream)
    return _iter_lines(src) if fmt == "jsonl" else _iter_wrapped(src)


def decode(raw: RawTicket) -> Any:
    """The JSON value of a raw ticket; raises ``ValueError`` naming the line when it cannot be decoded.

    orjson decodes a ticket in about half the time of the json module. The nesting is checked first, when the
    ticket has more brackets than :data:`MAX_DEPTH` (a long ticket's events), so orjson reads long tickets too.
    What orjson refuses (NaN, an infinite number, a lone surrogate, invalid UTF-8) goes the json module's way,
    which accepts what the json module accepts and names the line of what it cannot take; so does a ticket
    holding a run of 19 digits or more, which orjson would read as a float where the json module keeps an
    integer, and one nested too deep, which is an error.
    """
    if raw.error is not None:
        raise ValueError(raw.error)
    data = raw.data
    too_deep = not raw.depth_checked and data.count(b"[") + data.count(b"{") > MAX_DEPTH and _too_deep(data)
    if not too_deep and _LONG_RUN not in data.translate(_DIGITS_AS_ZERO):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # the json module's way below: the same acceptance and the error naming the line
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.line + data.count(b"\n", 0, exc.start)
        raise ValueError(f"line {line}: invalid UTF-8 (byte 0x{data[exc.start:exc.start + 1].hex()})") from None
    if too_deep:
        raise ValueError(f"line {raw.line}: nested deeper than {MAX_DEPTH}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"line {raw.line + exc.lineno - 1}: malformed JSON: {exc.msg}") from None
    except RecursionError:
        raise ValueError(f"line {raw.line}: nested deeper than {MAX_DEPTH}") from None
    except ValueError:  # an integer of more than 4,300 digits
        m = _LONG_INT.search(data)
        line = raw.line + (data.count(b"\n", 0, m.start()) if m else 0)
        raise ValueError(f"line {line}: an integer of more than {MAX_INT_DIGITS} digits") from None


def _too_deep(data: bytes) -> bool:
    """True when ``data`` nests deeper than :data:`MAX_DEPTH` (brackets inside strings do not count).

    Linear: a few passes drop the innermost pairs (each pass one level, in C), then
    what is left, if anything, is walked once.
    """
    if data.count(b"[") + data.count(b"{") <= MAX_DEPTH:
        return False
    brackets = _outside_strings(data)
    for _ in range(_PASSES):
        brackets, n = _PAIRS.subn(b"", brackets)
        if not n:
            return False
    depth = _PASSES  # the levels the passes took away
    for byte in brackets:
        depth += 1 if byte in _OPEN else -1
        if depth > MAX_DEPTH:
            return True
    return False


def _outside_strings(data: bytes) -> bytes:
    """The brackets of ``data`` outside its strings, in order.

    Without a backslash, strings run from a quote to the next. Kept to its brackets and quotes, a text
    whose strings hold no bracket is then brackets and empty strings ``""``: dropping every ``""`` (from
    left to right, the first quote pairs with the second, and so on) leaves the brackets outside strings,
    and no quote. A quote left over (a bracket in a string, a string not closed) or a backslash: the
    strings are dropped one by one.
    """
    if b"\\" not in data:
        brackets = data.translate(None, _NOT_BRACKETS_OR_QUOTES).replace(b'""', b"")
        if b'"' not in brackets:
            return brackets
    return _STRINGS.sub(b"", data).translate(None, _NOT_BRACKETS)


#: After this many tickets in a row that were not of the common shape (a file whose tickets all carry
#: extension fields, say), :func:`parse_raw` tries the typed way only on every :data:`TYPED_RETRY`-th ticket
#: until one is: a try in vain costs a quarter of the general way's time. Either way reads the same.
TYPED_MISSES = 8
TYPED_RETRY = 64
_misses = 0  # the tickets in a row that parse_raw did not read the typed way


def _typed(raw: RawTicket, default_tz: tzinfo | None) -> Parsed | None:
    """The ticket of ``raw`` read the typed way, or None when it is not of the common shape (or not tried)."""
    global _misses
    if _misses < TYPED_MISSES or _misses % TYPED_RETRY == 0:
        ticket = typed_ticket(raw.data, default_tz)
        if ticket is not None and (raw.depth_checked or not _may_nest(ticket) or not _too_deep(raw.data)):
            _misses = 0
            return Parsed(ticket, None, raw.where)
    _misses += 1
    return None


def _may_nest(ticket: Ticket) -> bool:
    """Whether a ticket of the common shape may nest deeper than :data:`MAX_DEPTH`: only a value of its
    ``fields`` can, the rest of that shape being four deep (the ticket, its events, an event, its actor)."""
    return bool(ticket.fields) and any(type(v) is dict or type(v) is list for v in ticket.fields.values())


def parse_raw(raw: RawTicket, default_tz: tzinfo | None = None, *, strict: bool = False,
              typed: bool = True) -> Parsed:
    """One raw ticket decoded and validated: a :class:`~govhall_sdk.parse.Parsed` ticket (with its
    warnings; errors under ``strict``), or its error.

    A ticket of the common shape is decoded and checked in one pass (:func:`~govhall_sdk.parse.typed_ticket`,
    in half the time); any other is decoded (:func:`decode`), then every problem found. ``typed`` False
    reads it the second way only, to the same result: for the first tickets of a file, so that a short file
    does not wait for the first way's set-up (importing msgspec and building its decoders).
    """
    found = _typed(raw, default_tz) if typed and raw.error is None else None
    if found is not None:
        return found
    try:
        value = decode(raw)
    except ValueError as exc:
        return Parsed(None, TicketError(None, [str(exc)]), raw.where)
    return parse_item(raw.where, value, default_tz, strict=strict)


def iter_tickets(stream: IO[Any], name: str = "", default_tz: tzinfo | None = None,
                 fmt: str = "auto", *, strict: bool = False) -> Iterator[Parsed]:
    """Yield a :class:`~govhall_sdk.parse.Parsed` for every ticket of the stream, good or bad.

    Raises :class:`FileError` where the file cannot be read on (:func:`iter_raw`).
    """
    for raw in iter_raw(stream, name, fmt):
        yield parse_raw(raw, default_tz, strict=strict)


def iter_values(stream: IO[Any], name: str = "", fmt: str = "auto") -> Iterator[Any]:
    """The decoded JSON value of every ticket (what a seed file holds); ``ValueError`` at the first that is not."""
    for raw in iter_raw(stream, name, fmt):
        yield decode(raw)
