"""The clock arithmetic of ``tickets.md``: deadlines, pauses, extensions and status.

Every call is a handful of O(log n) calendar look-ups; nothing loops day by day.
"""
from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Iterable

from .calendar import WorkCalendar
from .model import Clock, Event

END_OF_DAY = time(23, 59, 59)
_ONE_DAY = timedelta(days=1)
_JUST_AFTER = timedelta(seconds=1)


def suspension_spans(events: Iterable[Event]) -> list[tuple[datetime, datetime | None]]:
    """Pair ``suspension_start``/``suspension_end`` events into (start, end or None) spans."""
    spans: list[tuple[datetime, datetime | None]] = []
    open_at: datetime | None = None
    for e in events:
        if e.type == "suspension_start" and open_at is None:
            open_at = e.at
        elif e.type == "suspension_end" and open_at is not None:
            spans.append((open_at, e.at))
            open_at = None
    if open_at is not None:
        spans.append((open_at, None))
    return spans


def compute_clock(
    *,
    name: str,
    rule: str,
    start: datetime,
    now: datetime,
    calendar: WorkCalendar,
    tz: tzinfo,
    warn_ratio: float,
    working_days: int | None = None,
    due_at: datetime | None = None,
    stopped_at: datetime | None = None,
    extension_days: int = 0,
    suspensions: Iterable[tuple[datetime, datetime | None]] = (),
) -> Clock:
    """One clock's deadline and status at ``now``.

    Give either ``working_days`` (N working days from ``start``) or an explicit
    ``due_at``. ``extension_days`` (approved extensions) and the working days of
    ``suspensions`` that began before the clock stopped are added to the deadline.
    An open suspension counts through the day of ``now`` and makes the clock ``paused``.
    """
    start_date = start.astimezone(tz).date()
    now_date = now.astimezone(tz).date()
    paused = False
    pause_days = 0
    for s_start, s_end in suspensions:
        if stopped_at is not None and s_start >= stopped_at:
            continue
        first = s_start.astimezone(tz).date() - _ONE_DAY
        if s_end is None:
            paused = stopped_at is None
            last = now_date
        else:
            last = s_end.astimezone(tz).date() - _ONE_DAY
        pause_days += calendar.count_working_days(first, last)
    added = extension_days + pause_days

    if due_at is not None:
        base = due_at.astimezone(tz)
        if added:
            due_date = calendar.add_working_days(base.date(), added)
            deadline = datetime.combine(due_date, END_OF_DAY, tz)
        else:
            due_date, deadline = base.date(), base
        n = calendar.count_working_days(start_date, due_date)
    else:
        n = (working_days or 0) + added
        due_date = calendar.add_working_days(start_date, n)
        deadline = datetime.combine(due_date, END_OF_DAY, tz)

    next_change = None
    if stopped_at is not None:
        status = "met" if stopped_at <= deadline else "missed"
    elif paused:
        status = "paused"
    elif now > deadline:
        status = "red"
    else:
        threshold = math.ceil(warn_ratio * n - 1e-9)
        if calendar.count_working_days(start_date, now_date) >= threshold:
            status = "yellow"
            next_change = deadline + _JUST_AFTER
        else:
            status = "green"
            yellow_date: date = calendar.add_working_days(start_date, threshold)
            next_change = min(datetime.combine(yellow_date, time(0), tz), deadline + _JUST_AFTER)
    return Clock(
        name=name,
        rule=rule,
        start=start,
        working_days=n,
        due_date=due_date,
        due_at=deadline,
        status=status,
        stopped_at=stopped_at,
        next_change=next_change,
    )
