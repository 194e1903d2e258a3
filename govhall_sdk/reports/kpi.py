"""The dashboard's figures: pure functions of :class:`~.data.ReportData`. What they read of the records is
gathered in one pass over them (:class:`RecordScan`, made once per ``ReportData``); the history is read
where a figure needs it.

:func:`dashboard_data` is ``govhall report dashboard --format json``, a public
output. Its keys are stable; every instant is ISO 8601 with its offset, every
date ``YYYY-MM-DD`` in the config's time zone:

- ``as_of`` (when the data was evaluated), ``timezone``, ``lang``,
  ``period`` (``from``, ``to``: the ``--from``/``--to`` bounds, ``to``
  exclusive, null when open), ``department`` (the ``--department`` filter or
  null), ``tickets`` (the number of records).
- ``kpis``: five figures; each ratio is ``{"numerator", "denominator",
  "rate"}`` with ``rate`` a number in [0, 1], null when the denominator is 0:

  - ``on_time_completion`` (按时办结率): of the tickets resolved in the period
    (``resolved_at``) whose ``completion`` clock has stopped, those ``met``
    over ``met`` + ``missed``.
  - ``overdue`` (超期件, now): ``tickets`` with a red (running, past its
    deadline) clock, and ``light_red``, the tickets whose light is red.
  - ``due_soon`` (预警件, now): ``tickets`` with a yellow clock and no red
    one (so no ticket is both overdue and due soon), and ``light_yellow``.
  - ``satisfaction`` (满意率): evaluations in the period with a rating of 4
    or more over the evaluations in the period that have a rating.
  - ``poor_review_return_visits`` (差评回访率): evaluations in the period
    rated 2 or less that have a return visit at or after them (at any time
    up to ``as_of``) over all such evaluations.
- ``lights`` (now): the number of tickets by light, ``green``, ``yellow``,
  ``red`` and ``none`` (no running clock).
- ``violations``: finding occurrences of severity ``violation`` whose fact
  happened (``at``) in the period: ``total``, and lists sorted by ``count``
  (most first), then by name, null last: ``by_system`` (``rule``, the plugin; ``system``,
  its 制度 in ``lang``; ``count``), ``by_code`` (``code``, ``rule``,
  ``system``, ``clause``, ``count``), ``by_department`` (``department``, null
  when the finding names none; ``count``), ``by_staff`` (``staff``, the id or
  null; ``name``, ``name (id)`` as :meth:`~.data.ReportData.person` gives it;
  ``count``).
- ``weekly``: one row per ISO week (in ``timezone``) from the period's first
  to its last week, or over the span of the data's instants on an open side:
  ``week`` (``2025-W11``), ``start`` (its Monday), ``created``, ``resolved``
  and ``violations`` (occurrences as above) in that week and the period.
- ``longest_overdue``: at most 20 open tickets (no ``resolved_at``) with a
  red clock, the earliest deadline first: ``id``, ``adapter``, ``subject``
  (phones and ID numbers masked), ``department``, ``assignee`` (``name
  (id)``), ``clock`` (the name of its earliest red clock), ``due_at`` and
  ``calendar_days_overdue`` (calendar days, not working days, from the
  deadline's date to the date of ``as_of``).
"""
from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from itertools import compress
from operator import attrgetter, methodcaller
from typing import Any, Callable, Iterable, Iterator, Mapping

import attrs

from ..report import iso
from .data import Occurrence, ReportData, free_text, instant

#: How many tickets ``longest_overdue`` lists.
LONGEST_OVERDUE = 20
#: The lights of :func:`lights`, in the order people read them.
LIGHTS = ("green", "yellow", "red", "none")
_WEEK = timedelta(days=7)
_JUST_BEFORE = timedelta(microseconds=1)
_AT, _CODE, _STAFF, _DEPARTMENT = attrgetter("at"), attrgetter("code"), attrgetter("staff"), attrgetter("department")
_IN_UTC = methodcaller("astimezone", timezone.utc)


def ratio(numerator: int, denominator: int) -> dict[str, Any]:
    """A ratio with its parts; ``rate`` is None when the denominator is 0."""
    return {"numerator": numerator, "denominator": denominator,
            "rate": numerator / denominator if denominator else None}


@attrs.frozen
class RecordScan:
    """What the dashboard reads of the records, gathered in one pass over them (:func:`record_scan`).

    :param red: the number of records with a red clock; ``yellow_only``: with a yellow clock and no red one.
    :param completion: the number of resolved records by (``resolved_at``, status of its first ``completion``
        clock), of those that have one.
    :param open_red: the records with a red clock and no ``resolved_at``; ``red_deadlines``: by the ``due_at``
        text of each of their red clocks, the places in ``open_red`` of the records with such a clock.
    :param rated: (record, ``at``, rating) of each evaluation with a rating.
    :param lights: the number of records by their ``light`` (None for none).
    :param created: the number of records by their ``created_at`` text; ``resolved``: by ``resolved_at``.
    """

    red: int
    yellow_only: int
    completion: Counter
    open_red: list[Mapping[str, Any]]
    red_deadlines: dict[str, list[int]]
    rated: list[tuple[Mapping[str, Any], str, int]]
    lights: Counter
    created: Counter
    resolved: Counter


def _scan(data: ReportData) -> RecordScan:
    red_count = yellow_count = 0
    completion, open_red, rated, lights, created, resolved_texts = [], [], [], [], [], []
    red_deadlines: dict[str, list[int]] = defaultdict(list)
    for record in data.records:
        clocks = record.get("clocks", ())
        red = yellow = False
        for clock in clocks:  # a loop, not a set of the statuses: no object made for each record
            status = clock["status"]
            if status == "red":
                red = True
            elif status == "yellow":
                yellow = True
        red_count += red
        yellow_count += yellow and not red
        resolved = record.get("resolved_at")
        if resolved:
            for clock in clocks:
                if clock["name"] == "completion":
                    completion.append((resolved, clock["status"]))
                    break
        elif red and resolved is None:
            for clock in clocks:
                if clock["status"] == "red":
                    red_deadlines[clock["due_at"]].append(len(open_red))
            open_red.append(record)
        for evaluation in record.get("evaluations", ()):
            if evaluation.get("rating") is not None:
                rated.append((record, evaluation["at"], evaluation["rating"]))
        lights.append(record.get("light"))
        created.append(record.get("created_at"))
        resolved_texts.append(resolved)
    return RecordScan(red_count, yellow_count, Counter(completion), open_red, red_deadlines, rated, Counter(lights),
                      Counter(created), Counter(resolved_texts))


def record_scan(data: ReportData) -> RecordScan:
    """The :class:`RecordScan` of ``data``, made once for every figure that reads it."""
    return data.derived("kpi.record_scan", _scan)


def on_time_completion(data: ReportData) -> dict[str, Any]:
    """按时办结率: completion clocks met over met + missed, of the tickets resolved in the period."""
    statuses: Counter = Counter()
    holds = data.period.holds_text  # on the instant as read: in the report's zone it would compare by wall time
    for (resolved, status), count in record_scan(data).completion.items():
        if holds(resolved):
            statuses[status] += count
    return ratio(statuses["met"], statuses["met"] + statuses["missed"])


def overdue_now(data: ReportData) -> dict[str, int]:
    """超期件: the tickets with a red clock, and those whose light is red."""
    scan = record_scan(data)
    return {"tickets": scan.red, "light_red": scan.lights["red"]}


def due_soon(data: ReportData) -> dict[str, int]:
    """预警件: the tickets with a yellow clock and no red one, and those whose light is yellow."""
    scan = record_scan(data)
    return {"tickets": scan.yellow_only, "light_yellow": scan.lights["yellow"]}


#: The rated evaluations of the period as (record, at, rating).
Rated = list[tuple[Mapping[str, Any], datetime, int]]


def rated_evaluations(data: ReportData) -> Rated:
    """(record, at, rating) of every rated evaluation in the period, made once for the two KPIs that read them."""
    return data.derived("kpi.rated_evaluations", _rated)


def _rated(data: ReportData) -> Rated:
    return [(record, at, rating) for record, text, rating in record_scan(data).rated
            if data.period.holds(at := instant(text))]


def satisfaction(data: ReportData) -> dict[str, Any]:
    """满意率: rated evaluations in the period with a rating of 4 or more, over all of them."""
    ratings = [rating for _, _, rating in rated_evaluations(data)]
    return ratio(sum(rating >= 4 for rating in ratings), len(ratings))


def _visited_after(record: Mapping[str, Any], at: datetime) -> bool:
    return any(instant(v["at"]) >= at for v in record.get("return_visits", ()))


def poor_review_return_visits(data: ReportData) -> dict[str, Any]:
    """差评回访率: evaluations in the period rated 2 or less with a return visit at or after them, over all."""
    poor = [(record, at) for record, at, rating in rated_evaluations(data) if rating <= 2]
    return ratio(sum(_visited_after(record, at) for record, at in poor), len(poor))


def lights(data: ReportData) -> dict[str, int]:
    """The number of tickets by light now: ``green``, ``yellow``, ``red`` and ``none``."""
    counts: Counter = Counter()
    for value, count in record_scan(data).lights.items():
        counts[value or "none"] += count
    return {light: counts[light] for light in LIGHTS}


def _ranked(counts: Counter, row: Any) -> list[dict[str, Any]]:
    """``row(key, count)`` of each counted key, the most first, then by key (None last)."""
    return [row(key, count) for key, count in sorted(counts.items(),
                                                     key=lambda kv: (-kv[1], kv[0] is None, str(kv[0])))]


def _staff_names(data: ReportData, staff: Iterable[str | None]) -> dict[str | None, str | None]:
    """``name (id)`` of each staff id, from the first of the history's tickets whose record knows the name
    (the history is read until every name is known)."""
    unnamed = set(staff) - {None}  # no one named has no name to find
    names: dict[str | None, str | None] = {}
    for o in data.history:
        if o.staff in unnamed:
            names[o.staff] = name = data.person(data.record(o.adapter, o.ticket_id), o.staff)
            if name != o.staff:
                unnamed.discard(o.staff)
                if not unnamed:
                    break
    return names


def violations_by(data: ReportData) -> dict[str, Any]:
    """The violations of the period: ``total`` and the counts by system, code, department and staff."""
    found = data.violations()
    codes = Counter(map(_CODE, found))
    systems: Counter = Counter()
    for code, count in codes.items():
        systems[data.info(code).rule] += count
    staff = Counter(map(_STAFF, found))
    names = _staff_names(data, staff)
    system_of = {data.info(code).rule: data.info(code).system(data.lang) for code in codes}
    return {
        "total": len(found),
        "by_system": _ranked(systems, lambda rule, n: {"rule": rule, "system": system_of[rule], "count": n}),
        "by_code": _ranked(codes, lambda code, n: {
            "code": code, "rule": data.info(code).rule, "system": data.info(code).system(data.lang),
            "clause": data.info(code).clause, "count": n}),
        "by_department": _ranked(Counter(map(_DEPARTMENT, found)),
                                 lambda dept, n: {"department": dept, "count": n}),
        "by_staff": _ranked(staff, lambda who, n: {"staff": who, "name": names.get(who), "count": n}),
    }


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


#: The instants of one series of the trend: each distinct one as read, the same in the report's time zone, and the
#: number of its items.
Counted = Iterable[tuple[datetime, datetime, int]]


def _by_day(ats: Counted) -> tuple[Counter, datetime | None, datetime | None]:
    """The number of items by date in the report's time zone, and the first and last instant (of those as
    read: two instants of the report's zone would compare by their wall time, which repeats when the clocks
    go back)."""
    by_day: Counter = Counter()
    instants = []
    for at, local, count in ats:
        by_day[local.date()] += count
        instants.append(at)
    return by_day, min(instants, default=None), max(instants, default=None)


def _weeks(by_day: Counter) -> Counter:
    """Counts by date as counts by the Monday of their week."""
    weeks: Counter = Counter()
    for day, count in by_day.items():
        weeks[_monday(day)] += count
    return weeks


def _span(data: ReportData, ends: list[tuple[datetime | None, datetime | None]]) -> tuple[date, date] | None:
    """The Mondays of the first and last weeks of the trend, from each series' first and last instants (None
    when there is nothing to show)."""
    firsts = [first for first, _ in ends if first is not None]
    lasts = [last for _, last in ends if last is not None]
    first = data.period.start or min(firsts, default=None)
    last = data.period.end - _JUST_BEFORE if data.period.end else max(lasts, default=None)
    if first is None or last is None or last < first:
        return None
    return _monday(first.astimezone(data.tz).date()), _monday(last.astimezone(data.tz).date())


def _in_zone(data: ReportData, instants: Iterable[datetime]) -> Iterator[datetime]:
    """The instants in the report's time zone, converted in C."""
    return map(methodcaller("astimezone", data.tz), instants)


def _in_period(data: ReportData, texts: Counter) -> Counted:
    """The instants of the records' ``texts`` (the number of records by text) that are in the period (no text
    left out), each with the number of records that have it; each distinct text is read once."""
    given = [text for text in texts if text]  # the others are no instant (data.instant)
    ats = list(map(datetime.fromisoformat, given))
    if not data.period.unbounded:
        held = list(map(data.period.holds, ats))
        ats, given = list(compress(ats, held)), list(compress(given, held))
    return zip(ats, _in_zone(data, ats), map(texts.__getitem__, given))


def _found_in_zone(data: ReportData, found: list[Occurrence]) -> Counted:
    """The distinct instants of the violations found, each with its number."""
    counts = Counter(map(_AT, found))
    return zip(counts, _in_zone(data, counts), counts.values())


def weekly_trend(data: ReportData) -> list[dict[str, Any]]:
    """Tickets created, resolved and violations found per ISO week, over the period or the data's span."""
    scan = record_scan(data)
    series = {"created": _in_period(data, scan.created), "resolved": _in_period(data, scan.resolved),
              "violations": _found_in_zone(data, data.violations())}
    days = {name: _by_day(ats) for name, ats in series.items()}
    span = _span(data, [(first, last) for _, first, last in days.values()])
    if span is None:
        return []
    counts = {name: _weeks(by_day) for name, (by_day, _, _) in days.items()}
    weeks, monday = [], span[0]
    while monday <= span[1]:
        year, week, _ = monday.isocalendar()
        weeks.append({"week": f"{year}-W{week:02d}", "start": monday.isoformat(),
                      **{name: counted[monday] for name, counted in counts.items()}})
        monday += _WEEK
    return weeks


def _earliest_red(record: Mapping[str, Any], read: Callable[[str], datetime | None] = instant
                  ) -> tuple[datetime, str] | None:
    """(due_at, name) of the record's red clock with the earliest deadline, if any (``read`` reads the
    deadlines' text)."""
    red = [(read(c["due_at"]), c["name"]) for c in record.get("clocks", ()) if c["status"] == "red"]
    return min(red) if red else None


def _may_be_longest_overdue(scan: RecordScan, limit: int, deadline: Callable[[str], datetime | None]
                            ) -> list[Mapping[str, Any]]:
    """The open red records, in order, that can be among the ``limit`` earliest deadlines: those with a red
    clock due at or before the first deadline by which ``limit`` of them have one (the others have ``limit``
    records ahead of them); every one when fewer have one."""
    places: set[int] = set()
    last = None
    # sorted in UTC: instants of two zones would each be asked their offset at every comparison
    for text in sorted(scan.red_deadlines, key=lambda text: _IN_UTC(deadline(text))):
        at = deadline(text)
        if len(places) >= limit and at != last:
            break
        places.update(scan.red_deadlines[text])
        last = at
    return [scan.open_red[place] for place in sorted(places)]


def longest_overdue(data: ReportData, limit: int = LONGEST_OVERDUE) -> list[dict[str, Any]]:
    """The open tickets with a red clock, the earliest deadline first (at most ``limit``)."""
    deadline = lru_cache(maxsize=None)(instant)  # deadlines are the ends of a few hundred days
    candidates = _may_be_longest_overdue(record_scan(data), limit, deadline)
    overdue = ((red, record) for record in candidates if (red := _earliest_red(record, deadline)) is not None)
    today = data.as_of.astimezone(data.tz).date()
    rows = []
    for (due_at, clock), record in heapq.nsmallest(limit, overdue, key=lambda pair: (pair[0][0], pair[1]["id"])):
        assignee = (record.get("assignee") or {}).get("id")
        rows.append({
            "id": record["id"], "adapter": record.get("adapter", ""), "subject": free_text(record.get("subject")) or "",
            "department": record.get("department"), "assignee": data.person(record, assignee), "clock": clock,
            "due_at": due_at.isoformat(),
            "calendar_days_overdue": (today - due_at.astimezone(data.tz).date()).days,
        })
    return rows


def dashboard_data(data: ReportData) -> dict[str, Any]:
    """The dashboard's figures as JSON-ready data (the keys are in the module docstring)."""
    return {
        "as_of": data.as_of.isoformat(), "timezone": str(data.tz), "lang": data.lang,
        "period": {"from": iso(data.period.start), "to": iso(data.period.end)},
        "department": data.department, "tickets": len(data.records),
        "kpis": {
            "on_time_completion": on_time_completion(data), "overdue": overdue_now(data),
            "due_soon": due_soon(data), "satisfaction": satisfaction(data),
            "poor_review_return_visits": poor_review_return_visits(data),
        },
        "lights": lights(data),
        "violations": violations_by(data),
        "weekly": weekly_trend(data),
        "longest_overdue": longest_overdue(data),
    }
