"""``--from`` and ``--to`` of ``govhall report`` and ``govhall audit``: a period of dates or instants.

A date is a whole day in the config's time zone: ``--from 2025-03-01 --to
2025-03-31`` is March, the 31st included. An instant needs its UTC offset
(``2025-03-14T16:00+08:00``) and ``--to`` is then exclusive. Either side may
be left out (open).
"""
from __future__ import annotations

import argparse
from datetime import date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from .errors import UsageError

if TYPE_CHECKING:
    from ..reports.data import Period

PERIOD_HELP = {
    "from": "the period's first day (YYYY-MM-DD, in the config's time zone) or instant with its offset "
            "(default: open, everything on record)",
    "to": "the period's last day, included (YYYY-MM-DD), or an instant with its offset, excluded "
          "(default: open)",
}


def period_value(text: str) -> date | datetime:
    """The ``argparse`` type of ``--from``/``--to``: a date, or an ISO 8601 instant with its offset."""
    try:
        if "T" not in text and " " not in text.strip():
            return date.fromisoformat(text)
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date (2025-03-01) or an instant with its offset (2025-03-01T08:00+08:00)") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no UTC offset: give a date, or add one (+08:00)")
    return value


def _start(value: date | datetime, tz: tzinfo, day_after: bool) -> datetime:
    if isinstance(value, datetime):
        return value
    day = value + timedelta(days=1) if day_after else value
    return datetime.combine(day, time(0), tz)


def period_from_args(args: argparse.Namespace, tz: tzinfo) -> "Period":
    """The period of ``--from``/``--to`` in time zone ``tz``.

    :raises UsageError: the period ends before it starts.
    """
    from ..reports.data import Period

    start = _start(args.date_from, tz, False) if args.date_from is not None else None
    end = _start(args.date_to, tz, True) if args.date_to is not None else None
    if start is not None and end is not None and end <= start:
        raise UsageError(f"--from {args.date_from} --to {args.date_to}: the period ends before it starts")
    return Period(start, end)


def add_period_options(parser: Any) -> None:
    """Add ``--from`` and ``--to`` (``args.date_from``, ``args.date_to``)."""
    parser.add_argument("--from", dest="date_from", type=period_value, metavar="WHEN", help=PERIOD_HELP["from"])
    parser.add_argument("--to", dest="date_to", type=period_value, metavar="WHEN", help=PERIOD_HELP["to"])
