"""The clock arithmetic of ``tickets.md``: deadlines, pauses, extensions and status.

Every call is a handful of O(log n) calendar look-ups; nothing loops day by day.
"""
from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, Iterable

from .calendar import WorkCalendar
from .model import Clock, Event, Ticket

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
    extensions: Iterable[tuple[datetime, int]] = (),
    suspensions: Iterable[tuple[datetime, datetime | None]] = (),
    now_date: date | None = None,
) -> Clock:
    """One clock's deadline and status at ``now``.

    Give either ``working_days`` (N working days from ``start``) or an explicit
    ``due_at``. ``extensions`` are the approved extensions as ``(at, working
    days)`` in time order: one counts when its ``at`` is not after the deadline
    in force just before it (the original one plus the extensions counted so far
    and the suspensions that began before it); the others are listed in the
    clock's ``late_extensions`` and add nothing. ``extension_days`` are added
    unconditionally. The working days of ``suspensions`` that began before the
    clock stopped are added to the deadline; a suspension counts only
    its working days after the day of ``start`` (one before the clock started
    adds nothing). An open suspension
    counts through the day of ``now`` and makes the clock ``paused``. The clock
    is ``provisional`` when its span reaches into a year with no published
    holiday arrangement. ``now_date`` is the date of ``now`` in ``tz`` when the caller knows it.
    """
    start_date = start.astimezone(tz).date()
    if now_date is None:
        now_date = now.astimezone(tz).date()
    paused = False
    pauses: list[tuple[datetime, int]] = []
    for s_start, s_end in suspensions:
        if stopped_at is not None and s_start >= stopped_at:
            continue
        first = max(s_start.astimezone(tz).date() - _ONE_DAY, start_date)
        if s_end is None:
            paused = stopped_at is None
            last = now_date
        else:
            last = s_end.astimezone(tz).date() - _ONE_DAY
        pauses.append((s_start, calendar.count_working_days(first, last)))

    def due(added: int) -> tuple[date, datetime]:
        """The due date and instant with ``added`` working days."""
        if due_at is not None:
            base = due_at.astimezone(tz)
            if not added:
                return base.date(), base
            day = calendar.add_working_days(base.date(), added)
        else:
            day = calendar.add_working_days(start_date, (working_days or 0) + added)
        return day, datetime.combine(day, END_OF_DAY, tz)

    counted = extension_days
    late: list[datetime] = []
    for at, days in extensions:
        in_force = due(counted + sum(d for s_at, d in pauses if s_at < at))[1]
        if at <= in_force:
            counted += days
        else:
            late.append(at)
    added = counted + sum(d for _, d in pauses) if pauses else counted
    due_date, deadline = due(added)
    n = calendar.count_working_days(start_date, due_date) if due_at is not None else (working_days or 0) + added

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
    return Clock(  # positional, in Clock's field order: name, rule, start, working_days, due_date, due_at,
        # status, stopped_at, next_change, provisional, late_extensions
        name, rule, start, n, due_date, deadline, status, stopped_at, next_change,
        calendar.provisional(start_date, due_date), tuple(late) if late else (),
    )


#: The limit of 限时办结制度 第七条 for complaints without a deadline, unless ``[policy.time_limit]`` says otherwise.
COMPLAINT_WORKING_DAYS = 15


def completion_clock(ticket: Ticket, ctx: Any) -> Clock | None:
    """The ``completion`` clock of ``rules.md`` (限时办结制度), or None when the ticket's kind has none yet.

    - ``application``: from ``accepted_at`` (or the first ``acceptance``), its
      ``promised_working_days`` or else ``due_at``; no clock before acceptance.
    - ``complaint``: ``due_at`` when given, else ``complaint_working_days``
      (``[policy.time_limit]``, 15) from ``created_at``.
    - ``supervision`` and ``assignment``: ``due_at`` from ``created_at``.

    Stopped by ``resolved_at``, the first ``completion`` or ``rejection``;
    approved extensions in time and suspensions move it. Any rule may ask for it
    (``fr.co_department_not_urged`` does), so no rule imports another.
    """
    kind = ticket.kind
    limit: dict[str, Any] = {}
    if kind == "application":
        start = ticket.accepted_at or next((e.at for e in ticket.events if e.type == "acceptance"), None)
        if start is None:
            return None
        if ticket.promised_working_days is not None:
            limit["working_days"] = ticket.promised_working_days
        elif ticket.due_at is not None:
            limit["due_at"] = ticket.due_at
        else:
            return None
    elif kind == "complaint":
        start = ticket.created_at
        if ticket.due_at is not None:
            limit["due_at"] = ticket.due_at
        else:
            policy = ctx.policy("time_limit")
            limit["working_days"] = policy.get("complaint_working_days", COMPLAINT_WORKING_DAYS)
    elif kind in ("supervision", "assignment") and ticket.due_at is not None:
        start = ticket.created_at
        limit["due_at"] = ticket.due_at
    else:
        return None
    stops = [ticket.resolved_at] if ticket.resolved_at is not None else []
    if "completion" in ticket.event_types or "rejection" in ticket.event_types:
        stops.extend(e.at for e in ticket.events if e.type in ("completion", "rejection"))
    return ctx.clock("completion", "time_limit", start, stopped_at=min(stops, default=None), **limit,
                     **ctx.completion_adjustments(ticket))
