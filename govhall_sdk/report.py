"""Render evaluation results: the ``govhall check`` JSON contract and the table for people."""
from __future__ import annotations

import json
import os
from datetime import datetime
from json.encoder import encode_basestring
from typing import IO, Any, Mapping

from .engine import Result
from .model import Clock, Finding, Note, Patch
from .terminal import printable_json, shown


def iso(value: datetime | None) -> str | None:
    """An instant in ISO 8601 with its offset (None stays None)."""
    return value.isoformat() if value is not None else None


def clock_dict(clock: Clock) -> dict[str, Any]:
    """A clock as in ``tickets.md``."""
    return {
        "name": clock.name,
        "rule": clock.rule,
        "start": iso(clock.start),
        "working_days": clock.working_days,
        "due_date": clock.due_date.isoformat(),
        "due_at": iso(clock.due_at),
        "stopped_at": iso(clock.stopped_at),
        "status": clock.status,
        "provisional": clock.provisional,
    }


def finding_dict(finding: Finding) -> dict[str, Any]:
    """A finding as in ``tickets.md``."""
    return {
        "code": finding.code,
        "rule": finding.rule,
        "severity": finding.severity,
        "clause": finding.clause,
        "message": finding.message,
        "clock": finding.clock,
        "staff": finding.staff,
        "department": finding.department,
    }


def note_dict(note: Note) -> dict[str, Any]:
    """An internal note of a patch."""
    return {"code": note.code, "marker": note.marker, "body": note.body}


def patch_dict(patch: Patch) -> dict[str, Any]:
    """A patch as in ``tickets.md``."""
    out = {
        "add_tags": list(patch.add_tags),
        "remove_tags": list(patch.remove_tags),
        "fields": dict(patch.fields),
        "notes": [note_dict(n) for n in patch.notes],
    }
    if patch.assign is not None:
        out["assign"] = patch.assign
    return out


def result_dict(result: Result) -> dict[str, Any]:
    """One item of ``tickets`` in the ``govhall check`` output."""
    return {
        "id": result.ticket_id,
        "light": result.light,
        "escalation_level": result.escalation_level,
        "responsible": dict(result.responsible),
        "clocks": [clock_dict(c) for c in result.clocks],
        "findings": [finding_dict(f) for f in result.findings],
        "patch": patch_dict(result.patch),
    }


def result_json(result: Result) -> str:
    """:func:`result_dict` as ``govhall check`` prints it: ``printable_json(json.dumps(result_dict(result),
    ensure_ascii=False))``, the same text.

    A result with many findings (a long ticket's) is written in pieces: the findings and the notes item by
    item, their strings by the encoder ``json.dumps`` uses, each finding's text remembered for the findings
    that repeat it (the same reply in the same minute); the rest by ``json.dumps``. ``json.dumps`` writes a
    list or an object as its items' texts joined by ``", "`` (``": "`` after a key), and what
    :func:`~govhall_sdk.terminal.printable_json` escapes lies inside strings and looks no further than their
    quotes, so the pieces make the same text.
    """
    data = result_dict(result)
    if len(result.findings) < _MANY:
        return printable_json(json.dumps(data, ensure_ascii=False))
    return _pieces(data)


_MANY = 64


def _pieces(data: dict[str, Any]) -> str:
    """A result's (or its patch's) dict as :func:`result_json` writes it."""
    parts = []
    for key, value in data.items():
        if key == "patch":
            text = _pieces(value)
        elif key == "findings":
            text = printable_json("[" + ", ".join(map(_finding, value)) + "]")
        elif key == "notes":
            text = printable_json("[" + ", ".join(map(_item, value)) + "]")
        else:
            text = printable_json(json.dumps(value, ensure_ascii=False))
        parts.append(f"{encode_basestring(key)}: {text}")
    return "{" + ", ".join(parts) + "}"


def _item(item: dict[str, Any]) -> str:
    """``json.dumps(item, ensure_ascii=False)`` of a dict of string keys (a finding's, a note's)."""
    try:
        return "{" + ", ".join([f"{encode_basestring(k)}: {'null' if v is None else encode_basestring(v)}"
                                for k, v in item.items()]) + "}"
    except TypeError:  # a value neither a string nor None
        return json.dumps(item, ensure_ascii=False)


def _finding(item: dict[str, Any]) -> str:
    """:func:`_item` of a finding's dict, remembered when its values are strings and None (``1``, ``1.0``
    and ``True`` would be one key)."""
    values = tuple(item.values())
    try:
        text = _FINDINGS.get(values)
    except TypeError:  # a value that cannot be a key
        return json.dumps(item, ensure_ascii=False)
    if text is None:
        text = _item(item)
        if len(text) <= 4096 and all(v is None or isinstance(v, str) for v in values):
            if len(_FINDINGS) >= 4096:
                _FINDINGS.clear()
            _FINDINGS[values] = text
    return text


#: Finding texts written lately (see :func:`_finding`): a long ticket's findings repeat.
_FINDINGS: dict[tuple, str] = {}


_COLOURS = {"green": "\033[32m", "yellow": "\033[33m", "red": "\033[31m"}
_RESET = "\033[0m"


def use_colour(stream: IO[str], environ: Mapping[str, str] | None = None) -> bool:
    """Whether to colour what is written to ``stream``, as the conventions say.

    ``NO_COLOR`` set to a value that is not empty turns colour off
    (no-color.org); else ``FORCE_COLOR`` set to a value that is not empty turns
    it on, on a pipe too (force-color.org); else colour is used on a terminal
    whose ``TERM`` is not ``dumb``. An empty value is as if the variable were
    not set. ``environ`` defaults to :data:`os.environ`.
    """
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR", ""):
        return False
    if env.get("FORCE_COLOR", ""):
        return True
    try:
        tty = bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False
    return tty and env.get("TERM", "") != "dumb"


def table_line(result: Result, colour: bool, tz: Any) -> str:
    """One line per ticket: id, light, earliest due date, escalation and finding codes.

    A provisional deadline (its span reaches a year with no published holiday
    arrangement) is marked ``~`` after the date, as in ``2027-01-11 23:59~``.
    The id and the codes (a plugin's) are :func:`~govhall_sdk.terminal.shown`:
    no control character of theirs reaches the terminal.
    """
    light = result.light or "-"
    light_text = f"{shown(light):<6}"
    if colour and light in _COLOURS:
        light_text = f"{_COLOURS[light]}{light_text}{_RESET}"
    running = [c for c in result.clocks if c.status in _COLOURS]
    earliest = min(running, key=lambda c: c.due_at, default=None)
    due_text = "-"
    if earliest is not None:
        due_text = earliest.due_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") + ("~" if earliest.provisional else "")
    codes = shown(", ".join(f.code for f in result.findings) or "-")
    return f"{shown(result.ticket_id):<14} {light_text} {due_text:<19} E{result.escalation_level}   {codes}"


def table_header() -> str:
    """The header line of the table format."""
    return f"{'ID':<14} {'LIGHT':<6} {'DUE (~ provisional)':<19} ESC {'FINDINGS'}"

