"""Evaluation: ticket + now + config -> clocks, findings, responsibility, light and patch.

Pure: no HTTP, no state, no CLI. Every hook is called through the plugin
manager's facade (:mod:`govhall_sdk.host`), which isolates each rule plugin: one
that fails on a ticket gives an error for that ticket while the others' results
are kept.
"""
from __future__ import annotations

import functools
import re
from datetime import datetime
from typing import Any

import attrs

from .calendar import DaySource, WorkCalendar
from .clocks import compute_clock, suspension_spans
from .config import Config
from .host import GovhallPluginManager, get_plugin_manager
from .model import Clock, Finding, Note, Patch, RuleResult, Ticket
from .privacy import mask_text

LIGHT_ORDER = {"green": 1, "yellow": 2, "red": 3}
LIGHTS = (None, "green", "yellow", "red")
RESPONSIBLE_KEYS = ("first_inquiry", "first_handler")
TAG_PREFIX = "govhall_"


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

    @property
    def next_change(self) -> datetime | None:
        """The next instant at which this result can change by time alone."""
        return min((c.next_change for c in self.clocks if c.next_change), default=None)


class Context:
    """What a rule plugin sees besides the ticket: ``now``, config, calendar, helpers."""

    __slots__ = ("now", "config", "calendar", "tz", "lang", "now_date", "_shown")

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
            tz=self.tz, warn_ratio=self.config.warn_ratio, **kwargs,
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
        shown = self._shown.get(instant)
        if shown is None:
            if len(self._shown) > 4096:  # deadlines repeat across tickets; keep the cache small
                self._shown.clear()
            shown = self._shown[instant] = instant.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")
        return shown


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


def _rule_of(out: RuleResult) -> str:
    """The rule a plugin's result belongs to, for a call order that does not depend on registration."""
    first = out.findings[0] if out.findings else out.clocks[0] if out.clocks else None
    return first.rule if first is not None else ""


def note_marker(finding: Finding) -> str:
    """The marker that identifies a finding's note on the helpdesk."""
    tail = ":".join(p for p in (finding.clock, finding.key) if p)
    return f"[govhall:{finding.code}:{tail}]" if tail else f"[govhall:{finding.code}]"


@functools.lru_cache(maxsize=1024)
def finding_tag(code: str) -> str:
    """The helpdesk tag of a finding code: ``govhall_`` + code with '.' as '_'."""
    return TAG_PREFIX + code.replace(".", "_")


def _note_body(finding: Finding, ctx: Context, marker: str, provisional: bool) -> str:
    due = ctx.fmt(finding.due_at) if finding.due_at else None
    if due and due in finding.message:
        due = None  # the message already names the deadline
    if ctx.lang == "en":
        deadline = f"; due {due}" if due else ""
        caveat = (" The deadline is provisional: a year it spans has no published holiday arrangement yet."
                  if provisional else "")
        return f"[govhall] {finding.message} (clause: {finding.clause}{deadline}){caveat} {marker}"
    deadline = f"；期限：{due}" if due else ""
    caveat = "该期限为暂定期限：所跨年份的节假日安排尚未公布。" if provisional else ""
    return f"【政务服务规则提醒】{finding.message}（依据：{finding.clause}{deadline}）{caveat}{marker}"


def _same(current: Any, desired: Any) -> bool:
    if current is None or current == "" or desired is None or desired == "":
        return (current is None or current == "") and (desired is None or desired == "")
    return current == desired or str(current) == str(desired)


_MARKER = re.compile(r"\[govhall:[^\[\]\s]+\]")


def written_markers(ticket: Ticket) -> frozenset[str]:
    """The idempotency markers that count as already written on a ticket.

    Only markers in internal notes (``reply`` with ``public`` false) that the
    applicant did not write count: an applicant who pastes a marker into a
    message suppresses nothing. One pass over the events; the markers are
    found with one regular expression, so the check is linear in the text.
    """
    if "reply" not in ticket.event_types:
        return frozenset()
    found: set[str] = set()
    for e in ticket.events:
        if e.type == "reply" and not e.public and "[govhall:" in e.body:
            actor = e.actor
            if actor is None or actor.role != "applicant":
                found.update(_MARKER.findall(e.body))
    return frozenset(found)


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
        for out in outs:
            clocks.extend(out.clocks)
            findings.extend(out.findings)
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
        patch = self._patch(ticket, ctx, light, level, responsible, clocks, findings)
        result = Result(ticket.id, light, level, responsible, clocks, findings, patch, errors)
        if self._adjusters:
            errors.extend(pm.adjust_patch(ticket, result, patch, ctx))
        return result

    def _patch(self, ticket: Ticket, ctx: Context, light: str | None, level: int,
               responsible: dict[str, str | None], clocks: list[Clock], findings: list[Finding]) -> Patch:
        desired = {finding_tag(f.code) for f in findings}
        if light:
            desired.add(f"{TAG_PREFIX}sla_{light}")
        current = {t for t in ticket.tags if t.startswith(TAG_PREFIX)}
        due = min((c.due_at for c in clocks if c.status in LIGHT_ORDER), default=None)
        wanted_fields = {
            "govhall_light": light,
            "govhall_due_at": due.isoformat() if due else None,
            "govhall_first_inquiry": responsible.get("first_inquiry"),
            "govhall_first_handler": responsible.get("first_handler"),
            "govhall_escalation_level": level,
        }
        fields = {k: v for k, v in wanted_fields.items() if not _same(ticket.fields.get(k), v)}
        notes: list[Note] = []
        violations = [f for f in findings if f.severity == "violation"]
        if violations:
            written = written_markers(ticket)
            provisional = {(c.name, c.due_at) for c in clocks if c.provisional}
            seen: set[str] = set()
            for f in violations:
                marker = note_marker(f)
                if marker in seen or marker in written:
                    continue
                seen.add(marker)
                caveat = bool(provisional) and (f.clock, f.due_at) in provisional
                notes.append(Note(f.code, marker, mask_text(_note_body(f, ctx, marker, caveat))))
        return Patch(sorted(desired - current), sorted(current - desired), fields, notes)


@functools.lru_cache(maxsize=4)
def _engine(config: Config) -> Engine:
    return Engine(config)


def evaluate(ticket: Ticket, now: datetime, config: Config) -> Result:
    """Evaluate one ticket with the process-wide plugins (an :class:`Engine` is cached per config)."""
    return _engine(config).evaluate(ticket, now)
