"""Evaluation: ticket + now + config -> clocks, findings, responsibility, light and patch.

Pure: no HTTP, no state, no CLI. Every hook is called through the plugin
manager's facade (:mod:`govhall_sdk.host`), which isolates each rule plugin: one
that fails on a ticket gives an error for that ticket while the others' results
are kept.
"""
from __future__ import annotations

import bisect
import functools
import hashlib
import json
import operator
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs

from . import __version__
from .calendar import DaySource, WorkCalendar
from .clocks import compute_clock, suspension_spans
from .config import Config
from .host import GovhallPluginManager, get_plugin_manager
from .model import Clock, Finding, Patch, RuleResult, Ticket
from .patch import LIGHT_ORDER, build_patch

LIGHTS = (None, "green", "yellow", "red")
RESPONSIBLE_KEYS = ("first_inquiry", "first_handler")


@attrs.frozen
class Result:
    """The evaluation of one ticket (the ``tickets[]`` items of ``govhall check``)."""

    ticket_id: str
    light: str | None
    escalation_level: int
    responsible: dict[str, str | None]
    clocks: list[Clock]
    findings: list[Finding]
    patch: Patch
    errors: list[str] = attrs.Factory(list)
    rules_next_change: datetime | None = None

    @property
    def next_change(self) -> datetime | None:
        """The next instant at which this result can change by time alone (its clocks, and what the rules said)."""
        clock = min((c.next_change for c in self.clocks if c.next_change), default=None)
        if self.rules_next_change is None:
            return clock
        return self.rules_next_change if clock is None else min(clock, self.rules_next_change)


class Context:
    """What a rule plugin sees besides the ticket: ``now``, config, calendar, helpers."""

    __slots__ = ("now", "config", "calendar", "tz", "lang", "now_date", "_shown", "_minute", "_iso")

    def __init__(self, now: datetime, config: Config, calendar: WorkCalendar):
        if now.tzinfo is None:
            raise ValueError("now must carry a UTC offset")
        self.now = now
        self.config = config
        self.calendar = calendar
        self.tz = config.timezone
        self.lang = config.lang
        self.now_date = now.astimezone(self.tz).date()
        self._shown: dict[datetime, str] = {}
        self._minute: tuple | None = None
        self._iso: tuple | None = None

    def policy(self, section: str) -> Any:
        """The ``[policy.<section>]`` values, defaults merged in."""
        return self.config.policy(section)

    def local_date(self, instant: datetime):
        """The date of an instant in the policy time zone."""
        return instant.astimezone(self.tz).date()

    def clock(self, name: str, rule: str, start: datetime, **kwargs: Any) -> Clock:
        """A clock per ``tickets.md`` at ``now`` (see :func:`govhall_sdk.clocks.compute_clock`)."""
        stopped = kwargs.get("stopped_at")
        if stopped is not None and stopped > self.now:
            kwargs["stopped_at"] = None
        return compute_clock(
            name=name, rule=rule, start=start, now=self.now, calendar=self.calendar,
            tz=self.tz, warn_ratio=self.config.warn_ratio, now_date=self.now_date, **kwargs,
        )

    def completion_adjustments(self, ticket: Ticket) -> dict[str, Any]:
        """A ticket's approved extensions and suspension spans up to ``now``, as clock keyword arguments.

        Extensions are ``(at, working_days)`` of those with ``approved_by``;
        :func:`govhall_sdk.clocks.compute_clock` decides which came in time.
        Events after ``now`` are left out (a replay of history does not see them).
        """
        types = ticket.event_types
        now = self.now
        extensions = []
        if "extension" in types:
            extensions = [(e.at, e.working_days) for e in ticket.events
                          if e.type == "extension" and e.approved_by is not None and e.at <= now]
        spans = []
        if "suspension_start" in types:
            spans = [(s, None if end is None or end > now else end)
                     for s, end in suspension_spans(e for e in ticket.events if e.at <= now)]
        return {"extensions": extensions, "suspensions": spans}

    def fmt(self, instant: datetime) -> str:
        """An instant as people read it in notes and messages: ``2025-02-07 23:59`` in the policy zone."""
        last = self._minute
        if (last is not None and instant.minute == last[1] and instant.hour == last[2] and instant.day == last[3]
                and instant.month == last[4] and instant.year == last[5] and last[0] == instant.tzinfo):
            return last[6]  # the minute of the last instant shown, in the same offset
        shown = self._shown.get(instant)
        if shown is not None:
            return shown
        if len(self._shown) > 4096:  # deadlines repeat across tickets; keep the cache small
            self._shown.clear()
        local = instant.astimezone(self.tz)
        # isoformat is the faster spelling of strftime("%Y-%m-%d %H:%M"), which does not pad years before 1000
        shown = local.isoformat(" ", "minutes")[:16] if local.year >= 1000 else local.strftime("%Y-%m-%d %H:%M")
        self._shown[instant] = shown
        self._minute = _same_minute(instant, local, self.tz, shown)
        return shown

    def iso(self, instant: datetime) -> str:
        """``instant.isoformat()`` (a finding's key), the text of the last instant's minute reused.

        For an instant of a fixed offset (``datetime.timezone``), the text is the date, the hour and the
        minute, the seconds (and microseconds, when there are any), then the offset: instants of the same
        minute and offset differ only in their seconds (the events of a long ticket).
        """
        last = self._iso
        if (last is not None and instant.minute == last[1] and instant.hour == last[2] and instant.day == last[3]
                and instant.month == last[4] and instant.year == last[5] and last[0] == instant.tzinfo):
            micro = instant.microsecond
            if micro:
                return f"{last[6]}{instant.second:02d}.{micro:06d}{last[7]}"
            return f"{last[6]}{instant.second:02d}{last[7]}"
        text = instant.isoformat()
        tzinfo = instant.tzinfo
        if type(tzinfo) is timezone:
            end = 26 if instant.microsecond else 19  # YYYY-MM-DDTHH:MM:SS[.ffffff], then the offset
            self._iso = (tzinfo, instant.minute, instant.hour, instant.day, instant.month, instant.year,
                         text[:17], text[end:])
        return text


_MINUTE = timedelta(minutes=1)
_TICK = timedelta(microseconds=1)


def _same_minute(instant: datetime, local: datetime, tz: Any, shown: str) -> tuple | None:
    """What tells the instants shown as ``shown`` from a look at their fields: ``(offset, minute, hour, day,
    month, year, shown)``, or None.

    ``instant`` is in ``local``'s minute of ``tz``. When its offset is fixed (``datetime.timezone``), that
    minute begins on a whole minute of that offset, and the zone's offset is the same at both ends of it
    (zones do not change their offset twice within a minute), every instant of that offset whose wall time
    is in the same minute shows ``shown``: their fields and offset tell it, without converting them.
    """
    tzinfo = instant.tzinfo
    if type(tzinfo) is not timezone:
        return None
    try:
        start = instant.astimezone(timezone.utc) - timedelta(seconds=local.second, microseconds=local.microsecond)
        offset = local.utcoffset()
        if start.astimezone(tz).utcoffset() != offset or (start + _MINUTE - _TICK).astimezone(tz).utcoffset() != offset:
            return None
        start = start.astimezone(tzinfo)
    except OverflowError:  # a minute at the very edge of the datetime range
        return None
    if start.second or start.microsecond:  # an offset with seconds on either side: the minutes do not align
        return None
    return tzinfo, start.minute, start.hour, start.day, start.month, start.year, shown


def build_calendar(config: Config, pm: GovhallPluginManager) -> WorkCalendar:
    """The calendar the config names, with its local adjustments."""
    calendars = pm.calendars
    if config.calendar not in calendars:
        known = ", ".join(sorted(calendars)) or "none"
        raise ValueError(f"calendar.name: unknown calendar {config.calendar!r} (registered: {known})")
    source: DaySource = _source(calendars[config.calendar].obj)
    return WorkCalendar(source, extra_holidays=config.extra_holidays, extra_working_days=config.extra_working_days, extra_published_years=config.published_years)


@functools.lru_cache(maxsize=8)
def _source(factory: Any) -> DaySource:
    return factory()


def _assign_duties(findings: list[Finding], responsible: dict[str, str | None], ticket: Ticket) -> list[Finding]:
    """Name the staff member of each finding that names a duty instead of a person.

    The role's holder from the responsibility hooks, else the ticket's
    ``assignee`` when staff; the department, when the rule named none, is the
    ticket's department now.
    """
    if all(f.duty is None or f.staff is not None for f in findings):
        return findings
    assignee = ticket.assignee
    fallback = assignee.id if assignee is not None and assignee.role == "staff" else None
    out = []
    for f in findings:
        if f.duty is not None and f.staff is None:
            staff = responsible.get(f.duty) or fallback
            f = f.answered_by(staff, f.department or ticket.department)
        out.append(f)
    return out


_AT = operator.attrgetter("at")


def _first_instant_after(ticket: Ticket, now: datetime) -> datetime | None:
    """The first recorded instant after ``now`` (an event, acceptance or resolution dated later):
    the result changes when it comes, with nobody touching the ticket (a replay with ``--now``)."""
    events = ticket.events
    found = None
    if events and events[-1].at > now:
        found = events[bisect.bisect_right(events, now, key=_AT)].at
    for instant in (ticket.accepted_at, ticket.resolved_at):
        if instant is not None and instant > now and (found is None or instant < found):
            found = instant
    return found


def _rule_of(out: RuleResult) -> str:
    """The rule a plugin's result belongs to, for a call order that does not depend on registration."""
    first = out.findings[0] if out.findings else out.clocks[0] if out.clocks else None
    return first.rule if first is not None else ""


class Engine:
    """Evaluates tickets with the loaded plugins under one configuration.

    Build it once per run: it resolves the calendar and the hook implementations
    up front so that evaluating a ticket does no set-up work.
    """

    def __init__(self, config: Config, pm: GovhallPluginManager | None = None):
        self.pm = pm or get_plugin_manager()
        self.config = config
        self.calendar = build_calendar(config, self.pm)
        self._adjusters = self.pm.has_patch_adjusters()

    def fingerprint(self) -> str:
        """A digest of everything that decides results besides the tickets and ``now``.

        The language, time zone, warn ratio and every policy value; the escalation
        targets and how escalations are written; the calendar's every day; each
        loaded plugin's name, distribution, version and hooks, and the govhall
        version. ``govhall run`` re-reads every ticket when it changes.
        """
        c = self.config
        parts = {
            "govhall": __version__, "lang": c.lang, "timezone": str(c.timezone), "warn_ratio": c.warn_ratio,
            "policies": c.policies, "calendar": self.calendar.fingerprint(),
            "escalation": [attrs.asdict(c.escalation_default),
                           {k: attrs.asdict(v) for k, v in sorted(c.escalation_departments.items())},
                           dict(c.escalation_write)],
            "plugins": [attrs.astuple(i) for i in self.pm.plugin_infos()],
        }
        text = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def context(self, now: datetime) -> Context:
        """A context for evaluating at ``now``."""
        return Context(now, self.config, self.calendar)

    def evaluate(self, ticket: Ticket, now: datetime | Context) -> Result:
        """Evaluate one ticket as of ``now`` (an instant or a prepared :class:`Context`)."""
        ctx = now if isinstance(now, Context) else self.context(now)
        pm = self.pm
        outs, errors = pm.evaluate_ticket(ticket, ctx)
        clocks: list[Clock] = []
        findings: list[Finding] = []
        if len(outs) > 1:  # plugins answer in registration order; the output is in rule order
            outs.sort(key=_rule_of)
        later = None
        for out in outs:
            clocks.extend(out.clocks)
            findings.extend(out.findings)
            if out.next_change is not None and (later is None or out.next_change < later):
                later = out.next_change
        named, failed = pm.responsibility(ticket, ctx)
        responsible: dict[str, str | None] = dict.fromkeys(RESPONSIBLE_KEYS)
        responsible.update(named)
        errors.extend(failed)

        if findings:
            findings = _assign_duties(findings, responsible, ticket)
        rank = 0
        for c in clocks:
            rank = max(rank, LIGHT_ORDER.get(c.status, 0))
        light = LIGHTS[rank]
        level = 0
        violation = False
        for f in findings:
            level = max(level, f.escalation)
            violation = violation or f.severity == "violation"
        if level < 1 and (violation or light == "red"):
            level = 1
        patch = build_patch(ticket, ctx, light, level, responsible, clocks, findings)
        future = _first_instant_after(ticket, ctx.now)
        if future is not None and (later is None or future < later):
            later = future
        result = Result(ticket.id, light, level, responsible, clocks, findings, patch, errors, later)
        if self._adjusters:
            errors.extend(pm.adjust_patch(ticket, result, patch, ctx))
        return result


@functools.lru_cache(maxsize=4)
def _engine(config: Config) -> Engine:
    return Engine(config)


def evaluate(ticket: Ticket, now: datetime, config: Config) -> Result:
    """Evaluate one ticket with the process-wide plugins (an :class:`Engine` is cached per config)."""
    return _engine(config).evaluate(ticket, now)
