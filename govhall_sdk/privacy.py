"""Masking of applicants' personal data in logs, notes, the audit log and reports.

:func:`mask_text` masks mainland mobile numbers, landline numbers with an area
code and resident ID numbers (18 and 15 digits) however they are spelled:

- **digits** of any script (``\\d``: ASCII and full-width ``０``-``９`` alike),
  the ID's check letter as ``X``, ``x``, ``Ｘ`` or ``ｘ``;
- **groupings**: the digits in any groups, split by up to three
  separators (every kind of space, invisible format characters, every
  kind of hyphen and dash, dots, middle dots, slashes and brackets, and the
  escapes ``\\n``, ``\\r``, ``\\t`` of a JSON text or a ``repr``):
  ``138 0013-8000``, ``1380 0138 000``, ``610202 19800101 123X``,
  ``(029)8888-1234``, ``（029）88881234``;
- **country code** ``86``, ``0086`` or ``+86`` (glued or apart) before a mobile
  or a landline: ``8613800138000``, ``(+86)13800138000``, ``+86 29 8888 1234``.

How it works: a linear regex finds *runs*, digit groups joined by at most three
separators (a run of fewer than 11 digits is skipped at once, and text without
one is returned as it is). Every window of consecutive groups of a run, 11 to
18 digits long, is checked against the shapes of :func:`_recognise`: a number
must begin and end on a group boundary, so it is never a piece of a longer
number glued to it (an order number, a timestamp). Each digit masked becomes
one ``*``, whatever its width; separators and the unmasked digits keep their
characters. What is kept: a mobile's first 3 and last 4 digits
(``138****5678``, ``+86 138 **** 8000``); an 18-character ID's first 6 and last 4
(``610202********123X``), a 15-digit ID's first 6 and last 3; a landline's
country code, area code and the last 4 digits of its local number
(``029-****1234``).

Masking leaves fresh group boundaries at the edges of what it masked; windows
that begin or end there are checked again until none matches, so masking an
already masked text changes nothing (``mask_text(mask_text(t)) == mask_text(t)``).
Each re-check is local and masks at least one more digit, so the whole stays
linear in the length of the text.

Not masked: 8-digit numbers without an area code, dates and times
(``2025-03-14``, ``2025.03.14 14:00``), amounts, ticket ids, and 18- or
15-digit numbers whose birth-date digits are not a date (order numbers).
"""
from __future__ import annotations

import re
import unicodedata

__all__ = ["mask_text", "mask_unique", "none_masked"]

# What may stand between the digit groups of one number, besides every Unicode space (``\s``): a regex class body.
_SEPARATORS = (
    "\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"  # invisible format characters
    "\\-\u2010-\u2015\u2212\u2e3a\u2e3b\ufe58\ufe63\uff0d\u30fc"              # hyphens, dashes, minus
    ".\uff0e\u00b7\u2027\u30fb\uff65"                                         # dots and middle dots
    "/\uff0f()\uff08\uff09"                                                   # slashes, brackets
)
_SEP = f"[\\s{_SEPARATORS}]"
_CHECK_LETTERS = "XxＸｘ"
# A run: digit groups joined by 1-3 separators, and an ID's check letter right after its last digit.
_RUN = re.compile(rf"\d++(?:{_SEP}{{1,3}}+\d++)*+[{_CHECK_LETTERS}]?")
_PIECE = re.compile(rf"\d+|[{_CHECK_LETTERS}]")  # a group's digits, or the check letter
# The fast path. _SPAN, a digit and 10 digits or separators, is a cheap scan that any number to mask
# matches at or before its start; from there _ELEVEN, 11 digits (the shortest number masked) with at most
# 3 separators between any two, finds where the first run worth reading begins, or that there is none (a
# timestamp such as 2025-03-03 09:00 has 10 digits). A run holds 11 digits when it matches _ELEVEN at its start.
_SPAN = re.compile(f"\\d[\\d\\s{_SEPARATORS}]{{10}}")
_ELEVEN = re.compile(rf"\d(?:{_SEP}{{0,3}}+\d){{10}}")
_MIN_DIGITS, _MAX_DIGITS = 11, 18
# An escape of a JSON text or a repr(): a \uXXXX or \xXX code, or a backslash and one character (\n, \", \\).
_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|x([0-9a-fA-F]{2})|(.))", re.S)
_CONTROLS = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}

_MOBILE = re.compile(r"(?:0086|86)?1[3-9]\d{9}")
_DATE_TAIL = r"(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"  # MMDD
_ID18 = re.compile(rf"[1-9]\d{{5}}(?:18|19|20)\d\d{_DATE_TAIL}\d{{3}}[\dX]")
_ID15 = re.compile(rf"[1-9]\d{{5}}\d\d{_DATE_TAIL}\d{{3}}")
# Country code, trunk 0, area code (010, 02X: 8-digit local numbers; 0[3-9]XX: 7 or 8), local number.
_LANDLINE = re.compile(r"(0086|86)?(0)?(?:(10|2\d)\d{8}|([3-9]\d\d)\d{7,8})")


def mask_text(text: str) -> str:
    """``text`` with every phone and ID number masked, in whatever spelling (see the module's docstring).

    ``13812345678`` becomes ``138****5678``, ``61020219800101123X`` becomes
    ``610202********123X``, ``029-88881234`` becomes ``029-****1234``. In a JSON
    text or a ``repr``, escaped digits and separators (``\\uff11``, ``\\u00a0``,
    ``\\xa0``, ``\\n``) are read as the characters they stand for; an escaped
    digit that is masked becomes one ``*``.
    """
    if not text:
        return text
    done = _MEMO.get(text)
    if done is None:
        done = _mask_escaped(text) if "\\" in text else _mask_plain(text)
        if len(text) <= _MEMO_LONGEST:
            if len(_MEMO) >= _MEMO_SIZE:
                _MEMO.clear()
            _MEMO[text] = done
    return done


def mask_unique(text: str) -> str:
    """:func:`mask_text` of a text that will not come again (a note's marker): not remembered."""
    if not text:
        return text
    return _mask_escaped(text) if "\\" in text else _mask_plain(text)


def none_masked(texts: list[str]) -> bool:
    """Whether :func:`mask_text` leaves every one of ``texts`` as it is, decided without masking each
    (a ticket's note markers, which repeat one shape: the same letters, separators and digit positions).

    A text is masked only where it holds a stretch worth reading (11 digits, at most 3 separators between
    two), and whether it does depends only on which of its characters are digits: ASCII texts without a
    backslash are checked once per shape (every digit read as ``0``), the others one by one. True means no
    text holds such a stretch; False, that one may be masked.
    """
    plain: list[str] = []
    others: list[str] = []
    for text in texts:
        (plain if text.isascii() and "\\" not in text else others).append(text)
    if any(mask_unique(text) != text for text in others):
        return False
    # NUL is neither a digit nor a separator: no stretch spans it, so splitting at it (within a text too) is safe
    shapes = set("\0".join(plain).encode("ascii").translate(_ZEROS).split(b"\0"))
    return not any(_first_stretch(shape.decode("ascii")) for shape in shapes)


#: Every ASCII digit as ``0`` (see :func:`none_masked`).
_ZEROS = bytes.maketrans(b"123456789", b"000000000")


#: Texts masked lately and their masking (findings repeat the same messages, and masking is a pure function).
_MEMO: dict[str, str] = {}
_MEMO_SIZE = 4096
_MEMO_LONGEST = 1024


def _mask_plain(text: str) -> str:
    """:func:`mask_text` of a text read as it is."""
    hidden = _hidden(text)
    if not hidden:
        return text
    chars = list(text)
    for k in hidden:
        chars[k] = "*"
    return "".join(chars)


def _first_stretch(text: str) -> re.Match[str] | None:
    """The first 11 digits of ``text`` with at most 3 separators between two (where masking may begin), or None."""
    first = _SPAN.search(text)
    return first and _ELEVEN.search(text, first.start())


def _hidden(text: str) -> list[int]:
    """The positions in ``text`` of the digits to mask."""
    first = _first_stretch(text)
    if first is None:
        return []
    hidden: list[int] = []
    for run in _RUN.finditer(text, first.start()):
        if run.end() - run.start() >= _MIN_DIGITS and _ELEVEN.match(text, run.start(), run.end()):
            hidden.extend(run.start() + k for k in _masked_in(run.group()))
    return hidden


def _mask_escaped(text: str) -> str:
    """:func:`mask_text` of a text with backslash escapes: masked as if they were the characters they stand for."""
    view: list[str] = []
    starts: list[int] = []  # where each character of the view begins in text
    last = 0
    for escape in _ESCAPE.finditer(text):
        code = escape.group(1) or escape.group(2)
        char = chr(int(code, 16)) if code else _CONTROLS.get(escape.group(3), escape.group(3))
        view.append(text[last:escape.start()])
        starts.extend(range(last, escape.start()))
        view.append(char)
        starts.append(escape.start())
        last = escape.end()
    if not starts:
        return _mask_plain(text)
    view.append(text[last:])
    starts.extend(range(last, len(text)))
    starts.append(len(text))
    hidden = _hidden("".join(view))
    if not hidden:
        return text
    out, last = [], 0
    for k in sorted(hidden):
        out.append(text[last:starts[k]])
        out.append("*")
        last = starts[k + 1]
    out.append(text[last:])
    return "".join(out)


def _masked_in(run: str) -> list[int]:
    """The offsets in ``run`` (a match of ``_RUN``) of the digits to mask."""
    if not run[:-1].isdecimal():
        return _Run(run).masked()
    # one group (the usual spelling): it is a number or not; no part of it can be one
    digits = _ascii(run)
    hits = list(_recognise(digits, []))
    if digits[-1] == "X":
        hits.extend(_recognise(digits[:-1], []))
    return hits


def _ascii(piece: str) -> str:
    """``piece`` (digits of any script, a check letter) in ASCII digits and ``X``."""
    if piece.isascii():
        return piece.replace("x", "X")
    return "".join("X" if ch in _CHECK_LETTERS else str(unicodedata.decimal(ch)) for ch in piece)


class _Run:
    """One run of digit groups: its digits (ASCII, ``X`` for a check letter), where each group begins, and
    which digits are masked so far."""

    __slots__ = ("digits", "offsets", "new_group", "hidden")

    def __init__(self, run: str):
        self.digits: list[str] = []
        self.offsets: list[int] = []  # each digit's index in the run
        self.new_group: list[bool] = []  # the digit begins a group (it comes after a separator)
        end = -1
        for piece in _PIECE.finditer(run):
            text = _ascii(piece.group())
            self.digits.extend(text)
            self.offsets.extend(range(piece.start(), piece.end()))
            self.new_group.append(piece.start() != end)
            self.new_group.extend([False] * (len(text) - 1))
            end = piece.end()
        self.hidden = [False] * len(self.digits)

    def masked(self) -> list[int]:
        """The run's offsets of the digits to mask: every window that matches, again until none does."""
        n = len(self.digits)
        if n < _MIN_DIGITS:
            return []
        starts = [i for i in range(n) if self.new_group[i]]
        while starts:
            fresh = {k for i in starts if self._starts(i) for k in self._hits_from(i) if not self.hidden[k]}
            for k in fresh:
                self.hidden[k] = True
            starts = self._again(fresh)
        return [self.offsets[k] for k in range(n) if self.hidden[k]]

    def _again(self, fresh: set[int]) -> list[int]:
        """Where a number may now begin that could not before: after the digits just masked, and up to
        18 digits before them (a number may now end there)."""
        again: set[int] = set()
        n = len(self.digits)
        for k in fresh:
            if k + 1 < n and not self.hidden[k + 1]:
                again.add(k + 1)
            if k > 0 and not self.hidden[k - 1]:
                again.update(range(max(0, k - _MAX_DIGITS), k))
        return sorted(again)

    def _starts(self, i: int) -> bool:
        """Whether a number may begin at digit ``i``: it is readable, first of its group or after a masked one."""
        return not self.hidden[i] and (self.new_group[i] or self.hidden[i - 1])

    def _ends(self, j: int) -> bool:
        """Whether a number may end at digit ``j``: the next digit begins a group, is masked or a check letter."""
        nxt = j + 1
        return nxt == len(self.digits) or self.new_group[nxt] or self.hidden[nxt] or self.digits[nxt] == "X"

    def _hits_from(self, i: int) -> list[int]:
        """Indexes of the digits to mask in every number that begins at digit ``i``."""
        hits: list[int] = []
        cuts: list[int] = []  # window offsets where a group begins
        for j in range(i, min(i + _MAX_DIGITS, len(self.digits))):
            if self.hidden[j]:
                break
            if j > i and self.new_group[j]:
                cuts.append(j - i)
            if j - i + 1 >= _MIN_DIGITS and self._ends(j):
                hits.extend(i + k for k in _recognise("".join(self.digits[i:j + 1]), cuts))
        return hits


def _recognise(digits: str, cuts: list[int]) -> range:
    """The offsets to mask in ``digits`` (a window of a run, groups beginning at ``cuts``) if it is a number."""
    n = len(digits)
    if _MOBILE.fullmatch(digits):
        return range(n - 8, n - 4)
    if cuts and cuts[0] < 3:  # an ID number does not begin with a group of 1 or 2 digits; dates do (-MM-DD)
        pass
    elif n == 18 and _ID18.fullmatch(digits):
        return range(6, 14)
    elif n == 15 and _ID15.fullmatch(digits):
        return range(6, 12)
    return _landline(digits, cuts)


def _landline(digits: str, cuts: list[int]) -> range:
    """The local number but its last 4 digits if ``digits`` is a landline number with its area code.

    The country code and the area code (with its trunk ``0``) are each written in one piece: ``029 8888 1234``
    and ``+86 29 88881234`` are numbers, ``03 14 2025 03 20`` (two dates) is not.
    """
    found = _LANDLINE.fullmatch(digits) if "X" not in digits else None
    if found is None:
        return range(0)
    country, trunk = found.group(1), found.group(2)
    area = found.start(3) if found.group(3) else found.start(4)
    local = area + len(found.group(3) or found.group(4))
    if country is None and trunk is None:
        return range(0)
    head = area - 1 if country is None else area  # with no country code the trunk 0 belongs to the area code
    if country is not None and any(0 < c < len(country) for c in cuts):
        return range(0)
    if any(head < c < local for c in cuts):
        return range(0)
    return range(local, len(digits) - 4)
