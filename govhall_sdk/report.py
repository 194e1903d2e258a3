"""Render evaluation results: the ``govhall check`` JSON contract and the table for people."""
from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from typing import IO, Any, Callable, Mapping

import orjson

from .engine import Result
from .model import Clock, Finding, Note, Patch
from .terminal import printable_json, shown


def iso(value: datetime | None) -> str | None:
    """An instant in ISO 8601 with its offset (None stays None)."""
    return value.isoformat() if value is not None else None


def clock_dict(clock: Clock, instant: Callable[[datetime | None], Any] = iso) -> dict[str, Any]:
    """A clock as in ``tickets.md``; ``instant`` gives the value of each instant (default: its ISO 8601 text)."""
    return {
        "name": clock.name,
        "rule": clock.rule,
        "start": instant(clock.start),
        "working_days": clock.working_days,
        "due_date": clock.due_date.isoformat(),
        "due_at": instant(clock.due_at),
        "stopped_at": instant(clock.stopped_at),
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


def result_dict(result: Result, instant: Callable[[datetime | None], Any] = iso) -> dict[str, Any]:
    """One item of ``tickets`` in the ``govhall check`` output (``instant``: as in :func:`clock_dict`)."""
    return {
        "id": result.ticket_id,
        "light": result.light,
        "escalation_level": result.escalation_level,
        "responsible": dict(result.responsible),
        "clocks": [clock_dict(c, instant) for c in result.clocks],
        "findings": [finding_dict(f) for f in result.findings],
        "patch": patch_dict(result.patch),
    }


def result_json(result: Result) -> str:
    """:func:`result_dict` as ``govhall check`` prints it: one line of JSON, :func:`~govhall_sdk.terminal.printable_json`.

    Written by orjson (about ten times faster than ``json.dumps``; a long ticket's result has a finding per
    reply), the clocks' instants too (:func:`_for_orjson`: a fifth of the time of ``isoformat``); a value
    orjson does not take (an integer past 64 bits, a key that is not a string, a lone surrogate) falls back to
    ``json.dumps``. Both write the same data, but for a float that is not a number, which orjson writes as
    null (JSON has no ``NaN``).
    """
    try:
        text = orjson.dumps(result_dict(result, _for_orjson)).decode()
    except TypeError:  # orjson.JSONEncodeError
        text = json.dumps(result_dict(result), ensure_ascii=False)
    return printable_json(text)


_MINUTE = timedelta(minutes=1)


def _for_orjson(value: datetime | None) -> datetime | str | None:
    """An instant as :func:`result_json` gives it to orjson: the instant itself, whose text orjson writes as
    ``isoformat()`` does (date, time, microseconds when there are any, offset), unless its UTC offset has
    seconds, which orjson rounds to minutes: then the text of ``isoformat()``."""
    if value is None:
        return None
    offset = value.utcoffset()
    return value if offset is not None and not offset % _MINUTE else value.isoformat()


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

