"""The normalized ticket model of ``tickets.md``: attrs classes, nothing else.

Every helpdesk adapter maps its own JSON to these classes and every rule plugin
reads only them. Instances are frozen; collections are tuples so that a ticket
can be shared safely between plugins.
"""
from __future__ import annotations

import operator
from datetime import date, datetime
from types import MappingProxyType
from typing import Any, Callable, Mapping

import attrs

KINDS = ("consultation", "application", "complaint", "supervision", "assignment")
CHANNELS = ("counter", "phone", "web", "mail", "letter", "hotline")
STATUSES = ("new", "open", "pending", "accepted", "resolved", "closed", "rejected")
CLOSED_STATUSES = frozenset({"resolved", "closed", "rejected"})
GROUPS = ("elderly", "disabled", "pregnant", "sick", "weak")
ROLES = ("staff", "applicant", "system")
SEVERITIES = ("info", "warning", "violation")
CLOCK_STATUSES = ("green", "yellow", "red", "paused", "met", "missed")
EMPTY: Mapping[str, Any] = MappingProxyType({})


@attrs.frozen
class Actor:
    """A person or system that acted on a ticket; ``rank`` is higher for more senior staff."""

    id: str
    name: str | None = None
    rank: int = 0
    department: str | None = None
    role: str = "staff"


@attrs.frozen
class Applicant:
    """The person the ticket serves (办事群众). Phone and ID are personal data: mask before logging."""

    id: str | None = None
    name: str | None = None
    phone: str | None = None
    birth_date: date | None = None
    groups: tuple[str, ...] = ()


def _event_class(cls: type) -> type:
    """``attrs.frozen`` for :class:`Event` and its subclasses, less the methods they share: ``__eq__``,
    ``__hash__`` and ``__repr__`` are :class:`Event`'s, over each class's fields, and ``__init__`` is
    given by :func:`_event_inits`. Generating them per class is most of what importing the model cost."""
    return attrs.frozen(init=False, repr=False, eq=False)(cls)


@_event_class
class Event:
    """One entry of a ticket's timeline.

    Known types get a subclass below with typed fields; an unknown type stays a
    plain ``Event``. Fields the format does not name are kept in ``extra``.
    """

    type: str
    at: datetime
    actor: Actor | None = None
    extra: Mapping[str, Any] = EMPTY

    @property
    def by_staff(self) -> bool:
        """True when a staff member (not the applicant or a system) acted."""
        return self.actor is not None and self.actor.role == "staff"

    def __eq__(self, other: object) -> bool:
        """Equal to an event of the same class with equal fields (as attrs compares)."""
        if other.__class__ is not self.__class__:
            return NotImplemented
        return _field_values(self) == _field_values(other)

    def __hash__(self) -> int:
        return hash((self.__class__.__name__, _field_values(self)))

    def __repr__(self) -> str:
        """``Reply(type='reply', at=..., ...)``, as attrs writes it."""
        fields = ", ".join(f"{a.name}={getattr(self, a.name)!r}" for a in attrs.fields(self.__class__))
        return f"{self.__class__.__qualname__.rsplit('>.', 1)[-1]}({fields})"


@_event_class
class Submission(Event):
    """The applicant handed in materials."""

    items: tuple[str, ...] = ()


@_event_class
class Reply(Event):
    """A message; ``public`` means the applicant sees it (an internal note otherwise)."""

    public: bool = True
    body: str = ""


@_event_class
class Notice(Event):
    """A 一次性告知: a supplement notice (``missing``) or an answer to a consultation (``elements``)."""

    form: str | None = None
    missing: tuple[str, ...] | None = None
    elements: tuple[str, ...] | None = None


@_event_class
class Deferral(Event):
    """The question cannot be answered on the spot; ``contact`` was kept."""

    contact: str | None = None


@_event_class
class Referral(Event):
    """The applicant was pointed elsewhere."""

    to_department: str | None = None
    to_staff: str | None = None
    location: str | None = None
    phone: str | None = None


@_event_class
class Assignment(Event):
    """The ticket moved between departments or windows."""

    from_department: str | None = None
    to_department: str | None = None


@_event_class
class Acceptance(Event):
    """受理, with or without a 受理通知书."""

    notice_issued: bool = False


@_event_class
class Rejection(Event):
    """不予受理 / 不予登记 / 未予批准."""

    stage: str | None = None
    reason: str | None = None
    legal_basis: str | None = None
    notice_issued: bool = False


@_event_class
class Extension(Event):
    """延期: ``working_days`` count only when ``approved_by`` is set."""

    working_days: int = 0
    approved_by: Actor | None = None


@_event_class
class SuspensionStart(Event):
    """The clocks pause (hearing, expert review, waiting on the applicant)."""

    reason: str | None = None


@_event_class
class SuspensionEnd(Event):
    """The clocks resume."""

    reason: str | None = None


@_event_class
class Urge(Event):
    """The lead department urged a co-department (督促)."""

    to_department: str | None = None


@_event_class
class ResultReport(Event):
    """The result was reported to whoever assigned the item."""


@_event_class
class ProxyRequest(Event):
    """A help/proxy service (帮办代办) was requested."""

    mode: str | None = None
    agent: Actor | None = None


@_event_class
class ProxyOffer(Event):
    """Proxy service was offered to the applicant."""

    mode: str | None = None


@_event_class
class Handover(Event):
    """Materials handed over to the proxy agent (代办 交接)."""

    items: tuple[str, ...] = ()


@_event_class
class Fee(Event):
    """A fee was charged."""

    amount: float | None = None
    legally_required: bool = False


@_event_class
class Evaluation(Event):
    """The applicant's review: 5 = 非常满意 ... 1 = 非常不满意."""

    rating: int = 0


@_event_class
class ReturnVisit(Event):
    """A return visit (回访)."""

    result: str | None = None


@_event_class
class Completion(Event):
    """办结."""


EVENT_CLASSES: Mapping[str, type[Event]] = MappingProxyType(
    {
        "submission": Submission,
        "reply": Reply,
        "notice": Notice,
        "deferral": Deferral,
        "referral": Referral,
        "assignment": Assignment,
        "acceptance": Acceptance,
        "rejection": Rejection,
        "extension": Extension,
        "suspension_start": SuspensionStart,
        "suspension_end": SuspensionEnd,
        "urge": Urge,
        "result_report": ResultReport,
        "proxy_request": ProxyRequest,
        "proxy_offer": ProxyOffer,
        "handover": Handover,
        "fee": Fee,
        "evaluation": Evaluation,
        "return_visit": ReturnVisit,
        "completion": Completion,
    }
)
_FIELD_VALUES: dict[type, Callable[[Event], tuple]] = {}  # event class -> its field values, in order


def _field_values(event: Event) -> tuple:
    """The values of an event's fields, in order (a plugin's subclass of an event class too)."""
    get = _FIELD_VALUES.get(event.__class__)
    if get is None:
        get = _FIELD_VALUES[event.__class__] = operator.attrgetter(*(a.name for a in attrs.fields(event.__class__)))
    return get(event)


def _slot_inits(classes: list[type]) -> None:
    """Give each attrs class its ``__init__``: the same parameters as attrs', compiled at once, setting each slot
    through its descriptor, which is faster than attrs' ``object.__setattr__`` (events and tickets are the
    objects a check makes most of). A field that is not a parameter is set from its factory, which takes
    ``self`` (:attr:`Ticket.event_types`), after the others."""
    namespace: dict[str, Any] = {}
    source = []
    for cls in classes:
        params, body, after = [], [], []
        for a in attrs.fields(cls):
            setter = f"_set_{cls.__name__}_{a.name}"
            namespace[setter] = getattr(cls, a.name).__set__
            if not a.init:
                namespace[f"_make_{cls.__name__}_{a.name}"] = a.default.factory
                after.append(f"\n    {setter}(self, _make_{cls.__name__}_{a.name}(self))")
                continue
            if a.default is attrs.NOTHING:
                params.append(a.name)
            else:
                namespace[f"_{cls.__name__}_{a.name}"] = a.default
                params.append(f"{a.name}=_{cls.__name__}_{a.name}")
            body.append(f"\n    {setter}(self, {a.name})")
        source.append(f"def {cls.__name__}__init__(self, {', '.join(params)}):{''.join(body + after)}\n")
    exec(compile("".join(source), f"<{__name__} inits>", "exec"), namespace)
    for cls in classes:
        init = namespace[f"{cls.__name__}__init__"]
        init.__qualname__, init.__module__ = f"{cls.__qualname__}.__init__", __name__
        init.__doc__ = f"A :class:`{cls.__name__}`; every field by name or in order, as attrs defines."
        cls.__init__ = init


def _event_inits(classes: list[type[Event]]) -> None:
    """Give each event class its ``__init__`` (:func:`_slot_inits`) and its :data:`_FIELD_VALUES`."""
    _slot_inits(classes)
    for cls in classes:
        _FIELD_VALUES[cls] = operator.attrgetter(*(a.name for a in attrs.fields(cls)))


_event_inits([Event, *EVENT_CLASSES.values()])


@attrs.frozen
class Ticket:
    """A normalized ticket (``tickets.md``); ``events`` are in time order."""

    id: str
    kind: str
    created_at: datetime
    channel: str | None = None
    subject: str | None = None
    status: str | None = None
    accepted_at: datetime | None = None
    resolved_at: datetime | None = None
    promised_working_days: int | None = None
    due_at: datetime | None = None
    department: str | None = None
    assignee: Actor | None = None
    co_departments: tuple[str, ...] = ()
    lead_department: str | None = None
    applicant: Applicant = Applicant()
    required_materials: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    fields: Mapping[str, Any] = EMPTY
    events: tuple[Event, ...] = ()
    extra: Mapping[str, Any] = EMPTY
    event_types: frozenset[str] = attrs.field(
        init=False, default=attrs.Factory(lambda self: frozenset(map(_TYPE, self.events)), takes_self=True))
    """The types of the ticket's events, for O(1) "has it any ..." tests."""

    @property
    def is_open(self) -> bool:
        """True unless the ticket is resolved, closed or rejected."""
        return self.resolved_at is None and self.status not in CLOSED_STATUSES

    def events_of(self, *types: str) -> list[Event]:
        """The events of the given types, in time order."""
        return [e for e in self.events if e.type in types]

    def department_at(self, instant: datetime) -> str | None:
        """The department that held the ticket at ``instant``, as its assignments tell.

        Before the first assignment it is that assignment's ``from_department``
        (None when it names none); after the last one, ``department`` (the
        department now) or else the last ``to_department``. A ticket with no
        assignment is in ``department`` all along.
        """
        if "assignment" not in self.event_types:
            return self.department
        here: str | None = None
        first = True
        for e in self.events:
            if e.type != "assignment":
                continue
            if first:
                here, first = e.from_department, False
            if e.at > instant:
                return here
            here = e.to_department or here
        return self.department or here


_TYPE = operator.attrgetter("type")
_slot_inits([Actor, Applicant, Ticket])


@attrs.frozen
class Clock:
    """A working-day clock of ``tickets.md``: its deadline and its status at ``now``.

    ``next_change`` is the instant at which the status will change by time alone
    (the start of yellow, or the moment after ``due_at``); None once stopped or paused.
    ``provisional`` is True when the span from ``start`` to ``due_date`` reaches
    into a year whose holiday arrangement is not published (statutory days only).
    ``late_extensions`` are the instants of approved extensions that came after
    the deadline in force and so added nothing.
    """

    name: str
    rule: str
    start: datetime
    working_days: int
    due_date: date
    due_at: datetime
    status: str
    stopped_at: datetime | None = None
    next_change: datetime | None = None
    provisional: bool = False
    late_extensions: tuple[datetime, ...] = ()

    @property
    def running(self) -> bool:
        """True while the clock is neither stopped nor paused."""
        return self.status in ("green", "yellow", "red")

    @property
    def late(self) -> bool:
        """True when the deadline has passed (red or missed)."""
        return self.status in ("red", "missed")


@attrs.frozen
class Finding:
    """One rule outcome for one ticket.

    ``key`` tells apart several findings of the same code on one ticket (for
    example two replies with a forbidden phrase); ``escalation`` is the level the
    finding itself demands (2 for the codes the catalog marks). ``staff`` (an
    actor id) and ``department`` name who answers for the finding under its
    clause, or None where the catalog names nobody. ``duty`` names the role that
    held the duty when no event's actor is at fault (``first_inquiry``,
    ``first_handler`` or ``assignee``): the engine then sets ``staff`` from the
    ticket's responsibility, else its ``assignee``.
    """

    code: str
    rule: str
    severity: str
    clause: str
    message: str
    clock: str | None = None
    due_at: datetime | None = None
    escalation: int = 0
    key: str = ""
    staff: str | None = None
    department: str | None = None
    duty: str | None = None

    def answered_by(self, staff: str | None, department: str | None) -> "Finding":
        """A copy naming who answers for it (cheaper than ``attrs.evolve`` on the hot path)."""
        return Finding(self.code, self.rule, self.severity, self.clause, self.message, self.clock, self.due_at,
                       self.escalation, self.key, staff, department, self.duty)


@attrs.frozen
class RuleResult:
    """What one rule plugin's ``govhall_evaluate_ticket`` returns for one ticket.

    ``next_change`` is the next instant at which the plugin's findings can change
    by time alone other than through its clocks (whose ``next_change`` counts
    anyway): a ticket turning stale, an applicant turning 60. ``govhall run``
    evaluates the ticket again then.
    """

    clocks: tuple[Clock, ...] | list[Clock] = ()
    findings: tuple[Finding, ...] | list[Finding] = ()
    next_change: datetime | None = None


@attrs.frozen
class Note:
    """An internal note to write back; ``marker`` makes writing it idempotent."""

    code: str
    marker: str
    body: str


_slot_inits([Clock, Finding, RuleResult, Note])  # what the rules make for every ticket


@attrs.define
class Patch:
    """What writing back changes on the helpdesk: nothing when every part is empty."""

    add_tags: list[str] = attrs.Factory(list)
    remove_tags: list[str] = attrs.Factory(list)
    fields: dict[str, Any] = attrs.Factory(dict)
    notes: list[Note] = attrs.Factory(list)
    assign: str | None = None

    @property
    def empty(self) -> bool:
        """True when writing this patch would change nothing."""
        return not (self.add_tags or self.remove_tags or self.fields or self.notes or self.assign)

    def combined_note(self, written: frozenset[str] | set[str] = frozenset()) -> str:
        """The patch's notes as the one note a helpdesk gets per ticket per run: their texts, each with its marker
        (found again next run), a blank line apart; those whose marker is in ``written`` left out. Empty when
        none is left."""
        return "\n\n".join(n.body for n in self.notes if n.marker not in written)

    def merge(self, other: "Patch") -> None:
        """Add another patch's changes to this one (its fields and assignee win)."""
        self.add_tags.extend(t for t in other.add_tags if t not in self.add_tags)
        self.remove_tags.extend(t for t in other.remove_tags if t not in self.remove_tags)
        self.fields.update(other.fields)
        known = {n.marker for n in self.notes}
        self.notes.extend(n for n in other.notes if n.marker not in known)
        self.assign = other.assign or self.assign
