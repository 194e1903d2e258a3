"""What every supervisor's report reads: the records, the finding history, the catalog, the period.

:class:`ReportData` is built either from the state store of ``govhall run``
(:func:`from_store`: each ticket's latest record and the history of every
finding) or from a ticket file evaluated in memory (:func:`from_evaluations`,
``govhall report FILE --now T``: the findings of that one evaluation are the
history). The reports (:mod:`.dashboard`, :mod:`.ledger`, :mod:`.assessment`,
:mod:`.visits`) are pure functions of it; what they derive from it and share
(the records by ticket, the records' instants in the report's time zone, the
dashboard's pass over the records) is made once, on first use
(:meth:`ReportData.derived`), and lives as long as the ``ReportData``.

The records of the store are decoded with only the keys some report reads
(:class:`StoredRecord`, :func:`decoded_record`): what no report reads is
skipped unread, neither allocated nor freed. Instants in records are ISO 8601
text; :func:`instant` reads them. The history's instants are aware datetimes. ``--department`` keeps the records of
tickets whose department, lead department or any finding's department is that
one, and the history rows of those tickets.
"""
from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from functools import lru_cache
from itertools import compress
from operator import attrgetter, itemgetter, methodcaller
from typing import Any, Callable, Iterable, Mapping, NamedTuple, Sequence, TypedDict

import attrs
import msgspec
import orjson

from ..privacy import mask_text
from ..results import contact_of, finding_at, record_of

#: The four systems of the notice, by the plugin (rule) name that enforces each, in Chinese and English.
SYSTEMS: Mapping[str, tuple[str, str]] = {
    "one_time_notice": ("一次性告知制度", "One-time notification"),
    "time_limit": ("限时办结制度", "Time-limited completion"),
    "first_responsibility": ("首问（办）负责制度", "First-inquiry responsibility"),
    "proxy_service": ("帮办代办制度", "Help and proxy service"),
}


_CODE = attrgetter("code")


def instant(text: str | None) -> datetime | None:
    """An ISO 8601 instant of a record (None stays None)."""
    return datetime.fromisoformat(text) if text else None


def local(text: str | None, tz: tzinfo) -> datetime | None:
    """A record's ISO instant in the config's time zone (None stays None)."""
    at = instant(text)
    return at.astimezone(tz) if at is not None else None


def free_text(text: str | None) -> str | None:
    """Ticket text (a subject, a visit's result) as a report shows it: any phone or ID number in it masked,
    with or without ``--unmasked`` (which unmasks only the applicant's phone column)."""
    return mask_text(text) if text else text


def _from_key(text: str | None) -> datetime | None:
    """An instant stored as a UTC key of the state store."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc) if text else None


# What the reports read of a stored record (govhall_sdk.results), key by key, each with the type the
# record's writer gives it. Every key is optional (``total=False``): a key a record lacks stays missing.
class StoredAssignee(TypedDict, total=False):
    """A record's ``assignee`` (their name and department are the record's ``people``)."""

    id: str


class StoredAgent(TypedDict, total=False):
    """A proxy request's ``agent``."""

    id: str
    name: str | None
    department: str | None


class StoredClock(TypedDict, total=False):
    """A clock of a record (its rule, working days, date, stop and provisional flag are left out)."""

    name: str
    start: str | None
    due_at: str | None
    status: str


class StoredFinding(TypedDict, total=False):
    """A finding of a record (its rule, severity and clause are left out: the catalog has them). Its ``key``
    and ``at`` are kept, though the reports read the history's, so that a finding reads as stored."""

    code: str
    key: str | None
    clock: str | None
    due_at: str | None
    staff: str | None
    department: str | None
    at: str


class StoredProxy(TypedDict, total=False):
    """A record's ``proxy`` request."""

    mode: str | None
    requested_at: str
    agent: StoredAgent | None


class StoredEvaluation(TypedDict, total=False):
    """An applicant's evaluation."""

    at: str
    rating: int | None


class StoredVisit(TypedDict, total=False):
    """A return visit."""

    at: str
    result: str | None


class StoredPerson(TypedDict, total=False):
    """A staff member the record names."""

    name: str | None
    department: str | None


class StoredApplicant(TypedDict, total=False):
    """The record's applicant (their groups are left out)."""

    name: str | None
    phone: str | None


class StoredRecord(TypedDict, total=False):
    """The keys of a stored record that some report reads (its kind, channel, status, ``due_at``, escalation
    level and ``responsible`` are left out)."""

    id: str
    subject: str | None
    department: str | None
    lead_department: str | None
    assignee: StoredAssignee | None
    created_at: str
    accepted_at: str | None
    resolved_at: str | None
    evaluated_at: str
    light: str | None
    clocks: list[StoredClock]
    findings: list[StoredFinding]
    proxy: StoredProxy | None
    evaluations: list[StoredEvaluation]
    return_visits: list[StoredVisit]
    spot_check: bool
    people: dict[str, StoredPerson]
    applicant: StoredApplicant


_decode_stored = msgspec.json.Decoder(StoredRecord).decode


def decoded_record(raw: bytes) -> dict[str, Any]:
    """A stored record's JSON with only the keys of :class:`StoredRecord` (plain dicts, lists and values, as
    orjson gives them), decoded in C with the rest skipped unread. A record that does not have that shape (a
    value of another type, or anything msgspec refuses) is decoded whole by orjson, as it was written."""
    try:
        return _decode_stored(raw)
    except msgspec.MsgspecError:
        return orjson.loads(raw)


@attrs.frozen
class Period:
    """The report's period: ``start`` <= instant < ``end``; an open side (None) holds everything."""

    start: datetime | None = None
    end: datetime | None = None

    def holds(self, at: datetime | None) -> bool:
        """True when ``at`` is within the period (None never is, unless the period is open on both sides)."""
        if at is None:
            return self.start is None and self.end is None
        return (self.start is None or at >= self.start) and (self.end is None or at < self.end)

    @property
    def unbounded(self) -> bool:
        """True when the period is open on both sides: it holds every instant (a report over all time reads
        no instant to know that)."""
        return self.start is None and self.end is None

    def holds_text(self, text: str | None) -> bool:
        """:meth:`holds` of a record's ISO instant (a missing one, None or ``""``, is None)."""
        if self.unbounded:
            return True
        return self.holds(instant(text))


@attrs.frozen
class CodeInfo:
    """What a report says about a finding code: its system, severity and clause."""

    code: str
    rule: str
    severity: str
    clause: str

    def system(self, lang: str) -> str:
        """The system (制度) the code belongs to, in ``lang`` (a third-party rule: its plugin's name)."""
        names = SYSTEMS.get(self.rule)
        if names is None:
            return self.rule
        return names[1] if lang == "en" else names[0]


def catalog_of(rules: Mapping[str, tuple[str, Any]]) -> dict[str, CodeInfo]:
    """The codes of a plugin manager's rule registry (``pm.rules``)."""
    return {code: CodeInfo(code, info.rule, info.severity, info.clause) for code, (_, info) in rules.items()}


class Occurrence(NamedTuple):
    """One finding of one ticket over time: ``at`` when its fact happened, ``appeared_at`` the first
    evaluation that showed it, ``cleared_at`` the first that no longer did (None while it holds).

    A named tuple (immutable, compared by value): a report loads one per finding a ticket ever had, and a
    tuple is made in a third of the time of a frozen attrs class."""

    adapter: str
    ticket_id: str
    code: str
    staff: str | None
    department: str | None
    at: datetime
    appeared_at: datetime
    cleared_at: datetime | None = None


@attrs.frozen
class ReportData:
    """The input of every report.

    :param records: the latest record of each ticket (:mod:`govhall_sdk.results`), each with its ``adapter``.
    :param history: every finding occurrence of those tickets.
    :param catalog: the finding codes the loaded plugins define.
    :param period: the ``--from``/``--to`` period.
    :param as_of: when the data was evaluated (the latest ``evaluated_at``, or the ``--now`` of a file).
    :param tz: the config's time zone, for dates and weeks.
    :param lang: ``zh`` (default) or ``en``, for what people read.
    :param contacts: unmasked phones of proxy tickets' applicants by (adapter, ticket id), only with
        ``--unmasked``; None otherwise, and every phone shown is the masked one.
    :param department: the ``--department`` filter, if any.
    """

    records: Sequence[dict[str, Any]]
    history: Sequence[Occurrence]
    catalog: Mapping[str, CodeInfo]
    period: Period
    as_of: datetime
    tz: tzinfo
    lang: str = "zh"
    contacts: Mapping[tuple[str, str], str] | None = None
    department: str | None = None
    #: What the reports derive from the data and share (:meth:`derived`), made when first asked.
    _memo: dict[str, Any] = attrs.field(factory=dict, init=False, eq=False, repr=False)
    #: The instants :meth:`local` gave, by text.
    _local: dict[str, datetime] = attrs.field(factory=dict, init=False, eq=False, repr=False)

    def derived(self, name: str, make: Callable[["ReportData"], Any]) -> Any:
        """What the reports derive from the data and share: ``make(self)``, made on the first call for
        ``name``."""
        if name not in self._memo:
            self._memo[name] = make(self)
        return self._memo[name]

    def record(self, adapter: str, ticket_id: str) -> Mapping[str, Any]:
        """The record of a ticket of the history (empty when there is none), from an index of the records by
        (adapter, ticket id) made on the first call and shared by every report."""
        index = self.derived("records", _by_ticket)
        return index.get((adapter, ticket_id)) or {}

    def local(self, text: str | None) -> datetime | None:
        """A record's ISO instant in the report's time zone (:func:`local`), each text converted once for
        every report (deadlines, for one, repeat across tickets)."""
        at = self._local.get(text)
        if at is None and text:
            at = self._local[text] = local(text, self.tz)
        return at

    def violations(self) -> list[Occurrence]:
        """The history's occurrences of severity ``violation`` whose ``at`` is in the period, in history
        order (made once, shared by the dashboard and the assessment)."""
        return self.derived("violations", _violations)

    def info(self, code: str) -> CodeInfo:
        """The catalog entry of a code (a code no loaded plugin defines: a warning of unknown system)."""
        return self.catalog.get(code) or CodeInfo(code, code.split(".", 1)[0], "warning", "")

    def phone(self, record: Mapping[str, Any]) -> str | None:
        """The applicant's phone as the report may show it: unmasked only with ``--unmasked``."""
        if self.contacts is not None:
            raw = self.contacts.get((record.get("adapter", ""), record["id"]))
            if raw:
                return raw
        return (record.get("applicant") or {}).get("phone")

    def person(self, record: Mapping[str, Any], staff: str | None) -> str | None:
        """A staff member as people read it: ``name (id)``, or the id when the record knows no name."""
        if staff is None:
            return None
        known = (record.get("people") or {}).get(staff) or {}
        return f"{known['name']} ({staff})" if known.get("name") else staff


def _violations(data: ReportData) -> list[Occurrence]:
    codes = {code for code in set(map(_CODE, data.history)) if data.info(code).severity == "violation"}
    found = list(compress(data.history, map(codes.__contains__, map(_CODE, data.history))))
    return found if data.period.unbounded else [o for o in found if data.period.holds(o.at)]


def _by_ticket(data: ReportData) -> dict[tuple[str, str], Mapping[str, Any]]:
    """The records by (adapter, ticket id), the key made in C."""
    keys = zip(map(methodcaller("get", "adapter", ""), data.records), map(itemgetter("id"), data.records))
    return dict(zip(keys, data.records))


def _in_department(record: Mapping[str, Any], department: str) -> bool:
    return (record.get("department") == department or record.get("lead_department") == department
            or any(f.get("department") == department for f in record.get("findings", ())))


def _filtered(records: Iterable[dict[str, Any]], history: Iterable[Occurrence],
              department: str | None) -> tuple[list[dict[str, Any]], list[Occurrence]]:
    records = list(records)
    if department is None:
        return records, list(history)
    records = [r for r in records if _in_department(r, department)]
    kept = {(r.get("adapter", ""), r["id"]) for r in records}
    return records, [o for o in history if (o.adapter, o.ticket_id) in kept]


def from_store(state: Any, catalog: Mapping[str, CodeInfo], *, period: Period, tz: tzinfo, lang: str = "zh",
               department: str | None = None, unmasked: bool = False, adapter: str | None = None,
               history: bool = True) -> ReportData:
    """The report input from the state store of ``govhall run`` (of one adapter, or of all); with
    ``history=False``, without the finding history (an empty one), for reports that do not read it.

    The history's instants repeat (``appeared_at`` is a run's, a clock's deadline is often another's), so
    each text is read once; ``as_of`` is the latest of the records' distinct ``evaluated_at``, in the order
    they come, as :func:`max` over all of them would pick it."""
    at, key = lru_cache(maxsize=None)(instant), lru_cache(maxsize=None)(_from_key)
    occurrences = (Occurrence(adapter_name, ticket_id, code, staff, department_of, at(fact) or key(appeared),
                              key(appeared), key(cleared))
                   for adapter_name, ticket_id, code, staff, department_of, fact, appeared, cleared
                   in (state.finding_history_rows(adapter) if history else ()))
    records, kept = _filtered(state.results(adapter, decoded_record), occurrences, department)
    as_of = max(map(instant, dict.fromkeys(map(itemgetter("evaluated_at"), records))), default=datetime.now(tz))
    return ReportData(records, kept, catalog, period, as_of, tz, lang,
                      state.contacts(adapter) if unmasked else None, department)


def from_evaluations(evaluated: Iterable[tuple[Any, Any]], now: datetime, catalog: Mapping[str, CodeInfo], *,
                     period: Period, tz: tzinfo, lang: str = "zh", department: str | None = None,
                     unmasked: bool = False, adapter: str = "file") -> ReportData:
    """The report input from (ticket, result) pairs evaluated at ``now`` (``govhall report FILE``)."""
    records, history, contacts = [], [], {}
    for ticket, result in evaluated:
        record = record_of(ticket, result, now)
        record["adapter"] = adapter
        records.append(record)
        history.extend(Occurrence(adapter, ticket.id, f.code, f.staff, f.department, finding_at(f, now), now)
                       for f in result.findings)
        phone = contact_of(ticket)
        if phone:
            contacts[(adapter, ticket.id)] = phone
    records, kept = _filtered(records, history, department)
    return ReportData(records, kept, catalog, period, now, tz, lang, contacts if unmasked else None, department)
