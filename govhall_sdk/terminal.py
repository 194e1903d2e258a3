"""Text from tickets made safe for a terminal: no character of it can move the cursor, recolour, hide or reorder output.

Ticket data (ids, subjects, departments, staff names, the values an error
quotes) comes from helpdesks, where any applicant can type, and from ticket
files. Printed raw, a ``\\r`` or an ANSI sequence (``\\x1b[2K``) erases the line
it is on, a backspace eats what came before, and a bidi override (U+202E)
shows the rest of the line backwards: any of them can forge a line of the
``govhall check`` table or of the ``govhall run`` summary. :func:`printable`
replaces each such character by a visible escape; :func:`shown` (scrub, then
escape) is what every human-readable output prints.

**What is escaped** (:data:`ESCAPED` is the character class):

- every C0 control, ``\\n``, ``\\r`` and ``\\t`` included (one ticket, one
  finding, one error stays one line), DEL and every C1 control (U+0080-U+009F);
- every format character (category Cf): the bidi embeddings, overrides,
  isolates and marks (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C),
  zero-width spaces and joiners (U+200B-U+200D, U+2060), U+FEFF, U+00AD, tag
  characters (U+E0000 block), ... (listed as of Unicode 15; a test compares the
  list with the running Python's ``unicodedata``);
- the line and paragraph separators U+2028 and U+2029;
- lone surrogates (U+D800-U+DFFF, which a JSON file can spell as ``\\ud800``:
  printed, they would stop the output with an encoding error);
- the Hangul fillers U+115F, U+1160, U+3164 and U+FFA0, letters that render
  as nothing (the usual way to make an invisible name).

**Notation**: Python's, as ``repr`` writes it, so an id reads the same in an
error that quotes it with ``!r``: ``\\t``, ``\\n``, ``\\r``, else ``\\xNN`` below
U+0100, ``\\uNNNN`` in the BMP and ``\\UNNNNNNNN`` beyond, lower-case hex.

**A backslash in the input is left as it is.** So the text ``\\x1b`` (four
characters typed by someone) and an escaped ESC look the same. That is the
price of not doubling every backslash in Windows paths, regular expressions
and whatever people paste; it is harmless, because the point is only that the
output contains no invisible character and no control, and a terminal does
not interpret backslashes: no input can produce an escape that becomes a
control again. On input without a backslash the escaping is reversible (the
tests decode it back).

**Left alone**: every letter, digit, punctuation mark and symbol, Chinese text
and full-width punctuation included; every space character (U+0020, U+3000
the ideographic space, U+00A0: blank, but they move nothing); combining marks
and variation selectors (scripts and emoji need them); and two uses of format
characters that emoji are made of: a zero-width joiner between two
pictographs (``👨\\u200d👩\\u200d👧`` stays one family) and the tag sequence of a
subdivision flag (England, Scotland, Wales: U+1F3F4, 2 to 6 tag letters or
digits, U+E007F). Private-use and unassigned code points are left too (which
ones are unassigned depends on the Python's Unicode version, and tomorrow's
emoji are among them).

**JSON outputs** (``govhall check``'s default format, ``--json``, ``govhall
local show``) go to terminals as often as to programs. ``json.dumps`` escapes
the C0 controls inside strings already, but with ``ensure_ascii=False`` it
writes DEL, C1 controls, bidi overrides and line separators raw. They are
escaped too, by :func:`printable_json`, as JSON's own ``\\uNNNN`` (a surrogate
pair beyond the BMP): the document parses to exactly the same data, only its
spelling changes, so programs see no difference and people see no tricks. The
raw C0 characters of a JSON text (its newlines and indentation) are the
document's own and are kept.

**Order**: :func:`shown` scrubs (:func:`govhall_sdk.redaction.scrub`: secrets
redacted, then phone and ID numbers masked) before it escapes, since a secret
or a number must be recognised in its original spelling.
"""
from __future__ import annotations

import functools
import re
from typing import Callable

from .redaction import scrub

__all__ = ["ESCAPED", "printable", "printable_json", "printable_lines", "shown", "shown_json"]

# The C0 controls apart: JSON texts keep theirs (json.dumps escapes those inside strings).
_C0 = r"\x00-\x1f"
_OTHERS = (
    r"\x7f-\x9f\xad"                                      # DEL, C1, soft hyphen
    r"\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2"  # Arabic and Syriac format characters, ALM
    r"\u115f\u1160\u180e\u200b\u200c\u200e\u200f"        # Hangul fillers, Mongolian separator, ZWSP, ZWNJ, LRM, RLM
    r"\u2028-\u202e\u2060-\u2064\u2066-\u206f"            # separators, bidi embeddings and overrides, isolates
    r"\u3164\ud800-\udfff\ufeff\uffa0\ufff9-\ufffb"       # Hangul filler, surrogates, BOM, interlinear annotation
    r"\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
)
#: The characters escaped outside the two emoji sequences (a ``re`` character class).
ESCAPED = f"[{_C0}{_OTHERS}\\u200d\\U000e0020-\\U000e007f]"

_PICTOGRAPH = r"[\u2600-\u27bf\u2b00-\u2bff\ufe0f\U0001f000-\U0001faff]"  # also VS16 and skin tones, as before a ZWJ
_KEEP = (rf"(?P<keep>\U0001f3f4[\U000e0030-\U000e0039\U000e0061-\U000e007a]{{2,6}}\U000e007f"
         rf"|(?<={_PICTOGRAPH})\u200d(?={_PICTOGRAPH}))")
_JSON_ESCAPED = rf"[{_OTHERS}\u200d\U000e0020-\U000e007f]"
_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


@functools.cache
def _patterns(escaped: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(found, replaced) for the character class ``escaped``: a bare character class is scanned several times
    faster than the alternation. Compiled at first use, as most text has nothing to escape."""
    return re.compile(escaped), re.compile(rf"{_KEEP}|{escaped}")


@functools.lru_cache(maxsize=None)
def _escape(char: str) -> str:
    """``char`` as Python writes it in a string literal."""
    code = ord(char)
    if char in _SHORT:
        return _SHORT[char]
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


@functools.lru_cache(maxsize=None)
def _escape_json(char: str) -> str:
    """``char`` as JSON writes it in a string: ``\\uNNNN``, a surrogate pair beyond the BMP."""
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xd800 + (code >> 10):04x}\\u{0xdc00 + (code & 0x3ff):04x}"


def _no_filler(text: str) -> bool:
    """No Hangul filler in ``text``: they are letters, so ``str.isprintable()`` passes them."""
    return "\u3164" not in text and "\uffa0" not in text and "\u115f" not in text and "\u1160" not in text


def _replace(escaped: str, escape: Callable[[str], str], text: str) -> str:
    """``text`` with each character of the class ``escaped`` replaced by ``escape`` of it, the emoji sequences
    kept."""
    if text.isprintable() and (text.isascii() or _no_filler(text)):  # the usual case: nothing to escape
        return text
    found, replaced = _patterns(escaped)
    if found.search(text) is None:
        return text
    return replaced.sub(lambda m: m.group() if m.group("keep") else escape(m.group()), text)


def printable(text: object) -> str:
    """``text`` (``str()`` of anything else) with every control, format and invisible character escaped.

    ``printable("T-1\\r\\x1b[2KOK\\u202e")`` is ``'T-1\\\\r\\\\x1b[2KOK\\\\u202e'``; Chinese text,
    emoji and spaces are unchanged, and a backslash stays a backslash (see the module's text).
    """
    return _replace(ESCAPED, _escape, text if isinstance(text, str) else str(text))


def printable_lines(text: object) -> str:
    """:func:`printable` line by line: the ``\\n`` between lines are kept (a document, a clause's text)."""
    text = text if isinstance(text, str) else str(text)
    return "\n".join(printable(line) for line in text.split("\n"))


def printable_json(text: str) -> str:
    """A JSON text with what ``json.dumps(..., ensure_ascii=False)`` leaves raw escaped as ``\\uNNNN``.

    It parses to the same data. The C0 controls are kept: inside strings
    ``json.dumps`` has escaped them already, outside they are the document's
    newlines and indentation.
    """
    return _replace(_JSON_ESCAPED, _escape_json, text)


def shown(text: object) -> str:
    """``text`` for a person: :func:`~govhall_sdk.redaction.scrub` (secrets, phones, ID numbers), then :func:`printable`."""
    return printable(scrub(text if isinstance(text, str) else str(text)))


def shown_json(text: str) -> str:
    """A JSON text for a person: scrubbed, then :func:`printable_json`."""
    return printable_json(scrub(text))
