"""Read interchange JSON (``tickets.md``) into model objects, one ticket at a time.

``iter_tickets(path)`` streams a ``{"tickets": [...]}`` file or a JSON Lines
file and yields :class:`Parsed` items: a ticket, or the ticket's id with every
problem found, each with its path (``events[3].at: naive timestamp``). One bad
ticket never stops the others.

Errors and warnings (``docs/tickets.md``): what breaks the format (a missing or
mistyped required field, a value outside a closed list such as ``kind``) is an
error and the ticket is not evaluated. What the format allows but is most likely
a mistake is a warning naming the path, and the ticket is evaluated: an unknown
event type (``events[3].type: unknown event type 'suspention_start' (did you mean
'suspension_start'?), ignored by the built-in rules``), an unknown field of the
applicant, the materials or an actor, which is dropped (``applicant.birthdate:
unknown field (did you mean 'birth_date'?), ignored``), an unknown field of the
ticket or an event that is a near miss of a known one (``resolvedAt``; other
unknown fields there are the format's extension point, kept for plugins without a
word), an answer element that is none of the five. ``strict=True`` makes every
warning an error.

Two ways, one result: a ticket's JSON text of the common shape (what is read
with no problem, warning or conversion, as nearly every ticket is) is decoded
and checked in one pass in C by :func:`typed_ticket` (msgspec); any other is
decoded into dicts and read by :func:`ticket_from_dict`, which finds every
problem (``reader.parse_raw`` tries the first, then the second).
"""
from __future__ import annotations

import functools
import json
import operator
import re
from datetime import date, datetime, tzinfo
from typing import Any, Callable, Mapping, NamedTuple

import attrs

from .model import (
    CHANNELS,
    EMPTY,
    EVENT_CLASSES,
    GROUPS,
    KINDS,
    ROLES,
    STATUSES,
    Actor,
    Applicant,
    Event,
    Ticket,
)
from .privacy import mask_text


_fromisoformat = datetime.fromisoformat


class TicketError(ValueError):
    """A ticket that breaks the format; ``problems`` are ``path: reason`` strings."""

    def __init__(self, ticket_id: str | None, problems: list[str]):
        self.ticket_id = ticket_id
        self.problems = problems
        super().__init__("; ".join(problems))


@attrs.frozen
class Parsed:
    """One item of a ticket stream: ``ticket`` or, when it is malformed, ``error``.

    ``where`` locates the item in its file (``line 7`` or ``tickets[6]``).
    ``warnings`` are the ``path: reason`` messages about a ticket that was read
    (an unknown field or event type): it is evaluated, the warnings reported beside it.
    """

    ticket: Ticket | None
    error: TicketError | None = None
    where: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def id(self) -> str | None:
        """The ticket's id when it could be read, else None."""
        return self.ticket.id if self.ticket else self.error.ticket_id


def _shown(value: str) -> str:
    """A value quoted for an error message, phone and ID numbers masked, then cut short, and on one line.

    Masked before the cut: a cut value could end inside a number and leave too little of it to be recognised.
    """
    text = mask_text(value)
    text = text if len(text) <= 40 else text[:40] + "..."
    return repr(text).replace(";", ",")


_BARE = re.compile(r"[A-Za-z0-9_]+")
_SPELLING = re.compile(r"[\s_\-]+")


#: How close an unknown field of a ticket or an event must be to a known one to be taken for a
#: misspelling of it: ``birthdate``/``birth_date`` 0.95, ``resolve_at``/``resolved_at`` 0.95, but
#: ``updated_at``/``created_at`` 0.7, a helpdesk's own field, is not.
NEAR_MISS = 0.75


@functools.lru_cache(maxsize=4096)  # the same extra fields come again and again: compare them once
def _suggest(name: str, known: frozenset[str], cutoff: float = 0.6) -> str:
    """`` (did you mean 'x'?)`` for the known name closest to ``name`` (the same but for case,
    spaces, ``-`` and ``_`` first, then :func:`difflib.get_close_matches`), or ``""``."""
    import difflib  # at first use: only an unknown name needs it

    folded = _SPELLING.sub("", name).lower()
    names = sorted(known)
    same = [k for k in names if _SPELLING.sub("", k).lower() == folded]
    close = same or difflib.get_close_matches(name, names, n=1, cutoff=cutoff)
    return f" (did you mean {close[0]!r}?)" if close else ""


class _Problems:
    """Collects ``path: reason`` messages while one ticket is converted: ``items`` (errors) and
    ``warnings``. ``checks`` says whether warnings are looked for at all (not when nobody would
    see them), ``fields`` whether unknown field names are among them."""

    __slots__ = ("items", "default_tz", "warnings", "checks", "fields")

    def __init__(self, default_tz: tzinfo | None, fields: bool = True, checks: bool = True):
        self.items: list[str] = []
        self.warnings: list[str] = []
        self.default_tz = default_tz
        self.checks = checks
        self.fields = fields and checks

    def add(self, path: str, reason: str) -> None:
        self.items.append(f"{path}: {reason}")

    def warn(self, path: str, reason: str) -> None:
        self.warnings.append(f"{path}: {reason}")

    def unknown_fields(self, raw: Mapping, known: frozenset[str], path: str, kept: bool = False) -> None:
        """A warning per key of ``raw`` that is not in ``known``, with the closest known name.

        ``kept``: the object keeps unknown fields for plugins (a ticket, an event: the format
        allows them), so only a near miss of a known name (:data:`NEAR_MISS`) is warned about;
        otherwise (the applicant, the materials, an actor) every unknown field is, being dropped.
        """
        if not self.fields:
            return
        for key in raw:
            if key in known:
                continue
            key = str(key)
            hint = _suggest(key, known, NEAR_MISS if kept else 0.6)
            if kept and not hint:
                continue
            where = f"{path}.{key}" if _BARE.fullmatch(key) else f"{path}[{_shown(key)}]"
            what = "kept, ignored by the built-in rules" if kept else "ignored"
            self.warn(where.lstrip("."), f"unknown field{hint}, {what}")

    def instant(self, value: Any, path: str) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, str):
            self.add(path, "expected an ISO 8601 instant string")
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            self.add(path, f"not an ISO 8601 instant: {_shown(value)}")
            return None
        if parsed.tzinfo is None:
            if self.default_tz is None:
                self.add(path, "naive timestamp")
                return None
            parsed = parsed.replace(tzinfo=self.default_tz)
        return parsed

    def date(self, value: Any, path: str) -> date | None:
        if value is None:
            return None
        try:
            return date.fromisoformat(value)
        except (TypeError, ValueError):
            self.add(path, f"not an ISO 8601 date: {_shown(value)}" if isinstance(value, str) else "expected a date string")
            return None

    def string(self, value: Any, path: str) -> str | None:
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        self.add(path, "expected a string")
        return None

    def boolean(self, value: Any, path: str) -> bool:
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        self.add(path, "expected true or false")
        return False

    def integer(self, value: Any, path: str) -> int | None:
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        self.add(path, "expected an integer")
        return None

    def number(self, value: Any, path: str) -> float | None:
        if value is None:
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        self.add(path, "expected a number")
        return None

    def strings(self, value: Any, path: str) -> tuple[str, ...] | None:
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.add(path, "expected a list of strings")
            return ()
        return tuple(value)

    def choice(self, value: Any, path: str, allowed: tuple[str, ...]) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            self.add(path, f"expected one of {', '.join(allowed)}")
            return None
        if value not in allowed:
            self.add(path, f"{_shown(value)} is not one of {', '.join(allowed)}")
            return None
        return value

    def actor(self, value: Any, path: str) -> Actor | None:
        if value is None:
            return None
        if type(value) is dict:  # the same people act again and again: reuse validated actors
            if not _ACTOR_KEYS.issuperset(value):
                self.unknown_fields(value, _ACTOR_KEYS, path)
            cached = _known_actor(value)
            if cached is not None:
                return cached
            before = len(self.items)
            actor = self._new_actor(value, path)
            if actor is not None and len(self.items) == before and _cacheable(value):  # read without a problem
                if len(_ACTORS) >= _ACTOR_CACHE_SIZE:
                    _ACTORS.clear()
                _ACTORS[tuple(value.items())] = actor
            return actor
        self.add(path, "expected an object")
        return None

    def _new_actor(self, value: dict, path: str) -> Actor | None:
        if not isinstance(value, dict):
            self.add(path, "expected an object")
            return None
        actor_id = self.string(value.get("id"), f"{path}.id")
        if actor_id is None:
            self.add(f"{path}.id", "required")
            return None
        rank = self.integer(value.get("rank"), f"{path}.rank")
        role = self.choice(value.get("role", "staff"), f"{path}.role", ROLES)
        return Actor(
            id=actor_id,
            name=self.string(value.get("name"), f"{path}.name"),
            rank=rank or 0,
            department=self.string(value.get("department"), f"{path}.department"),
            role=role or "staff",
        )


_ACTORS: dict[tuple, Actor] = {}  # the items of an actor object -> its actor
_ACTOR_CACHE_SIZE = 4096
_ACTOR_KEYS = frozenset({"id", "name", "rank", "department", "role"})
_APPLICANT_KEYS = frozenset({"id", "name", "phone", "birth_date", "groups"})
_MATERIALS_KEYS = frozenset({"required"})
_FIELD_TYPES = frozenset({str, type(None)})


def _cacheable(value: dict) -> bool:
    """Whether an actor object read without a problem may be cached under its items: only known fields,
    its id a string, its rank an integer or absent, the rest strings or absent. Items equal to such
    items then hold the same keys and values of the same types but perhaps the rank: ``1``, ``1.0`` and
    ``true`` are equal in Python, and only ``1`` is a rank, so a lookup checks the rank's type
    (:func:`_known_actor`)."""
    rank = value.get("rank")
    return (_ACTOR_KEYS.issuperset(value) and type(value.get("id")) is str and (rank is None or type(rank) is int)
            and _FIELD_TYPES.issuperset((type(value.get("name")), type(value.get("department")),
                                         type(value.get("role")))))


def _known_actor(value: dict) -> Actor | None:
    """The actor of an actor object that was read before without a problem (the same items), else None."""
    try:
        actor = _ACTORS.get(tuple(value.items()))
    except TypeError:  # a list or an object among the values: not a cached actor
        return None
    if actor is not None:
        rank = value.get("rank")
        if rank is not None and type(rank) is not int:
            return None
    return actor


def _opt_strings(p: _Problems, v: Any, path: str) -> tuple[str, ...] | None:
    return p.strings(v, path)


def _req_strings(p: _Problems, v: Any, path: str) -> tuple[str, ...]:
    return p.strings(v, path) or ()


def _public(p: _Problems, v: Any, path: str) -> bool:
    return True if v is None else p.boolean(v, path)


def _body(p: _Problems, v: Any, path: str) -> str:
    return p.string(v, path) or ""


def _working_days(p: _Problems, v: Any, path: str) -> int:
    """An extension's ``working_days``: a positive integer, else a problem (never a shorter deadline)."""
    days = p.integer(v, path)
    if days is None:
        if v is None:
            p.add(path, "required: a positive integer")
        return 0
    if days < 1:
        p.add(path, f"expected a positive integer, got {days}")
        return 0
    return days


#: The elements of an answer (``notice.elements``), also by their Chinese names.
ELEMENT_NAMES = {
    "basis": "basis", "conditions": "conditions", "materials": "materials", "procedure": "procedure",
    "time_limit": "time_limit",
    "依据": "basis", "政策依据": "basis", "法律依据": "basis", "设定依据": "basis", "办理依据": "basis",
    "条件": "conditions", "办理条件": "conditions", "受理条件": "conditions", "申请条件": "conditions",
    "材料": "materials", "申请材料": "materials", "所需材料": "materials", "申报材料": "materials",
    "程序": "procedure", "流程": "procedure", "办事程序": "procedure", "办理程序": "procedure", "办理流程": "procedure",
    "办事流程": "procedure",
    "时限": "time_limit", "办理时限": "time_limit", "办结时限": "time_limit", "期限": "time_limit",
    "办理期限": "time_limit", "承诺时限": "time_limit", "法定时限": "time_limit",
}
_ELEMENTS = ("basis", "conditions", "materials", "procedure", "time_limit")
_ELEMENT_WORDS = frozenset(ELEMENT_NAMES)


def _element(name: str) -> str | None:
    """The element ``name`` stands for (``依据``, ``Basis``, ``time limit``), or None."""
    name = name.strip()
    return ELEMENT_NAMES.get(name) or ELEMENT_NAMES.get(_SPELLING.sub("_", name).lower())


def _elements(p: _Problems, v: Any, path: str) -> tuple[str, ...] | None:
    """``notice.elements``, Chinese names read as the English ones; an unknown name is kept (a
    plugin may read it) and warned about: it counts as none of the five elements."""
    items = p.strings(v, path)
    if not items:
        return items
    out = []
    for i, x in enumerate(items):
        found = _element(x)
        if found is None and p.checks:
            p.warn(f"{path}[{i}]", f"unknown element {_shown(x)}{_suggest(x.strip(), _ELEMENT_WORDS)}, counted as "
                                   f"none of {', '.join(_ELEMENTS)}")
        out.append(found or x)
    return tuple(out)


class _Choice:
    """The converter of a field whose value is one of ``allowed`` (or absent)."""

    __slots__ = ("allowed",)

    def __init__(self, *allowed: str):
        self.allowed = allowed

    def __call__(self, p: _Problems, v: Any, path: str) -> str | None:
        return p.choice(v, path, self.allowed)


def _rating(p: _Problems, v: Any, path: str) -> int:
    rating = p.integer(v, path)
    if rating is not None and not 1 <= rating <= 5:
        p.add(path, "expected an integer from 1 to 5")
    return rating or 0


# Per event type: field -> converter(problems, value, path). Absent means the field is not typed.
_EVENT_FIELDS: dict[str, dict[str, Callable[[_Problems, Any, str], Any]]] = {
    "submission": {"items": _req_strings},
    "reply": {"public": _public, "body": _body},
    "notice": {
        "form": _Choice("oral", "written", "public"),
        "missing": _opt_strings,
        "elements": _elements,
    },
    "deferral": {"contact": _Problems.string},
    "referral": {
        "to_department": _Problems.string,
        "to_staff": _Problems.string,
        "location": _Problems.string,
        "phone": _Problems.string,
    },
    "assignment": {"from_department": _Problems.string, "to_department": _Problems.string},
    "acceptance": {"notice_issued": _Problems.boolean},
    "rejection": {
        "stage": _Choice("before_acceptance", "after_acceptance"),
        "reason": _Problems.string,
        "legal_basis": _Problems.string,
        "notice_issued": _Problems.boolean,
    },
    "extension": {
        "working_days": _working_days,
        "approved_by": _Problems.actor,
    },
    "suspension_start": {"reason": _Problems.string},
    "suspension_end": {"reason": _Problems.string},
    "urge": {"to_department": _Problems.string},
    "result_report": {},
    "proxy_request": {"mode": _Choice("help", "proxy", "home", "assisted"), "agent": _Problems.actor},
    "proxy_offer": {"mode": _Choice("help", "proxy", "home", "assisted")},
    "handover": {"items": _req_strings},
    "fee": {"amount": _Problems.number, "legally_required": _Problems.boolean},
    "evaluation": {"rating": _rating},
    "return_visit": {"result": _Problems.string},
    "completion": {},
}
# Converter -> the value types it would return as they are, taken without calling it.
_FAST: dict[Any, tuple[type, ...]] = {
    _Problems.string: (str, type(None)),
    _Problems.boolean: (bool,),
    _public: (bool,),
    _body: (str,),
}
_EVENT_TYPES = frozenset(_EVENT_FIELDS)
_EVENT_COMMON = frozenset({"type", "at", "actor"})
_EVENT_KNOWN = {etype: frozenset(_EVENT_COMMON | spec.keys()) for etype, spec in _EVENT_FIELDS.items()}
_TICKET_KEYS = frozenset(
    {
        "id", "kind", "channel", "subject", "status", "created_at", "accepted_at",
        "resolved_at", "promised_working_days", "due_at", "department", "assignee",
        "co_departments", "lead_department", "applicant", "materials", "tags",
        "fields", "events",
    }
)


#: Per event type: its class, its known field names and, per typed field in the class's field order,
#: (name, converter, the value types taken as they are, or None). Positional construction relies on
#: that order (checked here once).
_PLANS: dict[str, tuple[type, frozenset[str], tuple[tuple[str, Any, tuple[type, ...] | None], ...]]] = {}
for _etype, _spec in _EVENT_FIELDS.items():
    _cls = EVENT_CLASSES[_etype]
    if [f.name for f in attrs.fields(_cls)] != ["type", "at", "actor", "extra", *_spec]:
        raise AssertionError(f"{_cls.__name__}: fields not in the order of _EVENT_FIELDS[{_etype!r}]")
    _PLANS[_etype] = (_cls, _EVENT_KNOWN[_etype],
                      tuple((name, conv, _FAST.get(conv)) for name, conv in _spec.items()))
del _etype, _spec, _cls


def _common_shape_converter(etype: str) -> Callable[[_Problems, dict, int], Event | None]:
    """The converter of an event of type ``etype`` in the common shape, compiled from its plan.

    It returns None, having added no problem, unless the event's ``at`` is an instant with its
    offset, its actor is absent or one read before (:func:`_known_actor`) and it has no unknown
    field; then it converts the typed fields in order as :func:`_checked_event` does (a value of
    the common type taken as it is) and returns the event. So an event is either built here with
    the same problems, or left whole to :func:`_checked_event`.
    """
    cls, known, fields = _PLANS[etype]
    namespace: dict[str, Any] = {"_cls": cls, "_known": known, "_EMPTY": EMPTY, "_etype": etype,
                                 "_fromisoformat": _fromisoformat, "_known_actor": _known_actor}
    lines = ["def convert(p, raw, i):",
             "    at = raw.get('at')",
             "    if type(at) is not str:",
             "        return None",
             "    try:",
             "        at = _fromisoformat(at)",
             "    except ValueError:",
             "        return None",
             "    if at.tzinfo is None:",
             "        return None",
             "    actor = raw.get('actor')",
             "    if actor is not None:",
             "        if type(actor) is not dict:",
             "            return None",
             "        actor = _known_actor(actor)",
             "        if actor is None:",
             "            return None",
             "    if not _known.issuperset(raw):",
             "        return None"]
    for n, (name, conv, fast) in enumerate(fields):
        namespace[f"_conv{n}"], namespace[f"_fast{n}"] = conv, fast
        lines.append(f"    v{n} = raw.get({name!r})")
        call = f"v{n} = _conv{n}(p, v{n}, f'events[{{i}}].{name}')"
        lines.append(f"    if type(v{n}) not in _fast{n}:\n        {call}" if fast else f"    {call}")
    values = "".join(f", v{n}" for n in range(len(fields)))
    lines.append(f"    return _cls(_etype, at, actor, _EMPTY{values})")
    exec(compile("\n".join(lines) + "\n", f"<{__name__} {etype} events>", "exec"), namespace)
    return namespace["convert"]


class _CommonShape(dict):
    """Event type -> :func:`_common_shape_converter`, compiled at first use of the type (a check of
    one ticket compiles two or three); a type without a plan gets None and is not kept."""

    def __missing__(self, etype: str) -> Callable[[_Problems, dict, int], Event | None] | None:
        if etype not in _PLANS:
            return None
        convert = self[etype] = _common_shape_converter(etype)
        return convert


_COMMON_SHAPE = _CommonShape()


def _event(p: _Problems, raw: Any, i: int) -> Event | None:
    """Event ``i`` of a ticket: by its type's common-shape converter when it applies, else checked."""
    if type(raw) is dict:
        etype = raw.get("type")
        if type(etype) is str:
            convert = _COMMON_SHAPE[etype]
            if convert is not None:
                event = convert(p, raw, i)
                if event is not None:
                    return event
    return _checked_event(p, raw, i)


def _checked_event(p: _Problems, raw: Any, i: int) -> Event | None:
    """Event ``i`` of a ticket, every problem found; its path (``events[i]``) is only spelled out for one."""
    if type(raw) is not dict:
        p.add(f"events[{i}]", "expected an object")
        return None
    etype = raw.get("type")
    if not isinstance(etype, str):
        p.add(f"events[{i}].type", "required")
        return None
    at_raw = raw.get("at")
    at = None
    if type(at_raw) is str:  # fast path: a well-formed instant with an offset
        try:
            at = _fromisoformat(at_raw)
        except ValueError:
            pass
        if at is not None and at.tzinfo is None:
            at = None
    if at is None:
        before = len(p.items)
        at = p.instant(at_raw, f"events[{i}].at")
        if at is None and len(p.items) == before:
            p.add(f"events[{i}].at", "required")
    actor_raw = raw.get("actor")
    actor = None
    if actor_raw is not None:
        if type(actor_raw) is dict:
            actor = _known_actor(actor_raw)
        if actor is None:
            actor = p.actor(actor_raw, f"events[{i}].actor")
    plan = _PLANS.get(etype)
    if plan is None:  # unknown type: kept, ignored by the built-in rules
        if p.checks:
            p.warn(f"events[{i}].type", f"unknown event type {_shown(etype)}{_suggest(etype, _EVENT_TYPES)}, "
                                        "ignored by the built-in rules")
        extra = {k: v for k, v in raw.items() if k not in _EVENT_COMMON}
        return Event(type=etype, at=at, actor=actor, extra=extra) if at else None
    cls, known, fields = plan
    values = []
    for name, conv, fast in fields:
        value = raw.get(name)
        if fast is None or type(value) not in fast:  # else the common case, taken as it is
            value = conv(p, value, f"events[{i}].{name}")
        values.append(value)
    if at is None:
        return None
    if not known.issuperset(raw):
        p.unknown_fields(raw, known, f"events[{i}]", kept=True)
        extra = {k: v for k, v in raw.items() if k not in known}
        return cls(etype, at, actor, extra, *values)
    return cls(etype, at, actor, EMPTY, *values)


def ticket_from_dict(raw: Any, default_tz: tzinfo | None = None, *, strict: bool = False,
                     warnings: list[str] | None = None, unknown_fields: bool = True) -> Ticket:
    """Convert one interchange ticket; raise :class:`TicketError` listing every problem.

    :param default_tz: the zone of naive timestamps (the helpdesk's), or None to refuse them.
    :param strict: make every warning an error (``strict = true`` in govhall.toml, ``--strict``).
    :param warnings: a list the warnings are appended to (``path: reason``; see the module
        docstring); without it, and without ``strict``, they are dropped.
    :param unknown_fields: False leaves unknown field names alone, neither warned about nor, with
        ``strict``, errors: for tickets an adapter built, which may carry fields of its own (a
        helpdesk's ``updated_at``, a note's text); unknown event types and elements are still checked.
    """
    if not isinstance(raw, dict):
        raise TicketError(None, ["ticket: expected an object"])
    p = _Problems(default_tz, unknown_fields, checks=strict or warnings is not None)
    # Each value of the common shape is taken as it is; any other goes through its _Problems method,
    # in the order of the fields, so that the problems are the same and in the same order.
    get = raw.get
    ticket_id = get("id")
    if type(ticket_id) is not str:
        ticket_id = p.string(ticket_id, "id")
    if not ticket_id:
        p.add("id", "required")
    kind = get("kind")
    if kind is None:
        p.add("kind", "required")
    elif type(kind) is not str or kind not in _KIND_SET:
        kind = p.choice(kind, "kind", KINDS)
    created_raw = get("created_at")
    created_at = _instant(p, created_raw, "created_at")
    if created_raw is None:
        p.add("created_at", "required")
    applicant_raw = get("applicant") or {}
    applicant = _NO_APPLICANT
    if not isinstance(applicant_raw, dict):
        p.add("applicant", "expected an object")
    elif applicant_raw:
        applicant = _applicant(p, applicant_raw)
    materials = get("materials") or {}
    required: tuple[str, ...] = ()
    if not isinstance(materials, dict):
        p.add("materials", "expected an object")
    else:
        if not _MATERIALS_KEYS.issuperset(materials):
            p.unknown_fields(materials, _MATERIALS_KEYS, "materials")
        required = p.strings(materials.get("required"), "materials.required") or ()
    fields = get("fields") or {}
    if not isinstance(fields, dict):
        p.add("fields", "expected an object")
        fields = {}
    events_raw = get("events") or []
    events: list[Event] = []
    if not isinstance(events_raw, list):
        p.add("events", "expected a list")
    else:
        for i, e in enumerate(events_raw):
            event = _event(p, e, i)
            if event is not None:
                events.append(event)
    promised = get("promised_working_days")
    if promised is not None and type(promised) is not int:
        promised = p.integer(promised, "promised_working_days")
    if promised is not None and promised < 0:
        p.add("promised_working_days", "must not be negative")
    channel = get("channel")
    if channel is not None and (type(channel) is not str or channel not in _CHANNEL_SET):
        channel = p.choice(channel, "channel", CHANNELS)
    subject = get("subject")
    if type(subject) not in _FIELD_TYPES:
        subject = p.string(subject, "subject")
    status = get("status")
    if status is not None and (type(status) is not str or status not in _STATUS_SET):
        status = p.choice(status, "status", STATUSES)
    accepted_at = _instant(p, get("accepted_at"), "accepted_at")
    resolved_at = _instant(p, get("resolved_at"), "resolved_at")
    due_at = _instant(p, get("due_at"), "due_at")
    department = get("department")
    if type(department) not in _FIELD_TYPES:
        department = p.string(department, "department")
    assignee = p.actor(get("assignee"), "assignee")
    co_departments = _strings(p, get("co_departments"), "co_departments")
    lead_department = get("lead_department")
    if type(lead_department) not in _FIELD_TYPES:
        lead_department = p.string(lead_department, "lead_department")
    tags = _strings(p, get("tags"), "tags")
    if _TICKET_KEYS.issuperset(raw):
        extra = EMPTY
    else:
        extra = {k: v for k, v in raw.items() if k not in _TICKET_KEYS}
        p.unknown_fields(raw, _TICKET_KEYS, "", kept=True)
    if strict:
        p.items.extend(p.warnings)
    if p.items:
        raise TicketError(ticket_id, p.items)
    if warnings is not None:
        warnings.extend(p.warnings)
    if len(events) > 1:
        events.sort(key=_AT)
    return Ticket(ticket_id, kind, created_at, channel, subject, status, accepted_at, resolved_at, promised, due_at,
                  department, assignee, co_departments, lead_department, applicant, required, tags, fields,
                  tuple(events), extra)


_KIND_SET, _CHANNEL_SET, _STATUS_SET, _GROUP_SET = frozenset(KINDS), frozenset(CHANNELS), frozenset(STATUSES), \
    frozenset(GROUPS)
_NO_APPLICANT = Applicant()


def _instant(p: _Problems, value: Any, path: str) -> datetime | None:
    """:meth:`_Problems.instant`, an ISO 8601 string with its offset read without a call."""
    if type(value) is str:
        try:
            parsed = _fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    return p.instant(value, path)


def _strings(p: _Problems, value: Any, path: str) -> tuple[str, ...]:
    """:meth:`_Problems.strings`, ``()`` for none (an empty list taken without a call)."""
    if type(value) is list and not value:
        return ()
    return p.strings(value, path) or ()


def _applicant(p: _Problems, raw: dict) -> Applicant:
    """The ticket's ``applicant`` object (not empty)."""
    if not _APPLICANT_KEYS.issuperset(raw):
        p.unknown_fields(raw, _APPLICANT_KEYS, "applicant")
    groups = _strings(p, raw.get("groups"), "applicant.groups")
    for i, g in enumerate(groups):
        if g not in _GROUP_SET:
            p.add(f"applicant.groups[{i}]", f"{_shown(g)} is not one of {', '.join(GROUPS)}")
    get = raw.get
    applicant_id, name, phone = get("id"), get("name"), get("phone")
    if type(applicant_id) not in _FIELD_TYPES:
        applicant_id = p.string(applicant_id, "applicant.id")
    if type(name) not in _FIELD_TYPES:
        name = p.string(name, "applicant.name")
    if type(phone) not in _FIELD_TYPES:
        phone = p.string(phone, "applicant.phone")
    return Applicant(applicant_id, name, phone, p.date(get("birth_date"), "applicant.birth_date"), groups)


_AT = operator.attrgetter("at")  # an event's instant, the key events are sorted by


def parse_item(where: str, raw: Any, default_tz: tzinfo | None = None, ticket_id: str | None = None, *,
               strict: bool = False, unknown_fields: bool = True) -> Parsed:
    """One raw ticket (a dict or a JSON text) as a :class:`Parsed`: the ticket with its warnings, or its error.

    ``ticket_id`` is the id the error names when the raw ticket gives none (an
    adapter knows the helpdesk's id even when the ticket cannot be read).
    ``strict`` and ``unknown_fields`` are :func:`ticket_from_dict`'s (an adapter,
    which adds fields of its own, passes ``unknown_fields=False``).
    """
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            return Parsed(None, TicketError(ticket_id, [f"{where}: malformed JSON: {exc.msg}"]), where)
    found: list[str] = []
    try:
        ticket = ticket_from_dict(raw, default_tz, strict=strict, warnings=found, unknown_fields=unknown_fields)
        return Parsed(ticket, None, where, tuple(found))
    except TicketError as exc:
        if exc.ticket_id is None and isinstance(raw, Mapping):
            exc.ticket_id = raw.get("id") if isinstance(raw.get("id"), str) else None
        exc.ticket_id = exc.ticket_id or ticket_id
        return Parsed(None, exc, where)


# ---------------------------------------------------------------- the common shape, decoded typed


def typed_ticket(data: bytes, default_tz: tzinfo | None = None) -> Ticket | None:
    """The ticket of the JSON text ``data`` when it is of the common shape, decoded and checked in one pass
    in C (msgspec, against the structs of :func:`_typed_types`); None when it is not, and nothing was said.

    The common shape is what :func:`ticket_from_dict` takes with no problem, no warning and no conversion:
    no unknown field or event type, every known field of the type that is kept as it is (a number for a
    string field, a ``null`` where its absence means something else, are not), every instant with its
    offset or ``default_tz`` to give it one, every answer element one of the known names. Such a ticket
    is the one ``json.loads`` then :func:`ticket_from_dict` would give, with no warning; any other is left
    whole to them, which find every problem. msgspec reads the same values as the json module (integers
    of any length, floats rounded the same) and refuses what only the json module takes (NaN, lone
    surrogates), a second ``type`` key, and an integer beyond 64 bits in a typed field.
    """
    typed = _typed_types()
    builders = typed.builders
    try:
        shape = typed.ticket.decode(data)
    except (_msgspec().DecodeError, RecursionError):  # DecodeError: its ValidationError too
        return None
    try:
        events = [builders[type(e)](e, default_tz) for e in shape.events]
        applicant = shape.applicant
        if applicant is not None:
            birth = applicant.birth_date
            applicant = Applicant(applicant.id, applicant.name, applicant.phone,
                                  None if birth is None else date.fromisoformat(birth), applicant.groups)
        ticket = (shape.id, shape.kind, _typed_instant(shape.created_at, default_tz), shape.channel,
                  shape.subject, shape.status, _typed_optional_instant(shape.accepted_at, default_tz),
                  _typed_optional_instant(shape.resolved_at, default_tz), shape.promised_working_days,
                  _typed_optional_instant(shape.due_at, default_tz), shape.department, _typed_actor(shape.assignee),
                  shape.co_departments, shape.lead_department, applicant or _NO_APPLICANT,
                  () if shape.materials is None else shape.materials.required, shape.tags, shape.fields)
    except ValueError:  # an instant or a date ISO 8601 does not read, an unknown element: not the common shape
        return None
    if len(events) > 1:
        events.sort(key=_AT)
    return Ticket(*ticket, tuple(events), EMPTY)


def _msgspec() -> Any:
    import msgspec  # at first use: a command that reads no ticket file does not pay its import

    return msgspec


class _NotCommon(ValueError):
    """A value :func:`ticket_from_dict` would warn about or refuse: the ticket is not of the common shape."""


def _typed_instant(value: str, default_tz: tzinfo | None) -> datetime:
    """An instant of the common shape (:meth:`_Problems.instant` without a problem); ValueError otherwise."""
    parsed = _fromisoformat(value)
    return parsed if parsed.tzinfo is not None else _in_default_zone(parsed, default_tz)


def _in_default_zone(naive: datetime, default_tz: tzinfo | None) -> datetime:
    """A naive instant in the helpdesk's zone, as :meth:`_Problems.instant` reads it; without one, not the common shape."""
    if default_tz is None:
        raise _NotCommon("naive timestamp")
    return naive.replace(tzinfo=default_tz)


def _typed_optional_instant(value: str | None, default_tz: tzinfo | None) -> datetime | None:
    return None if value is None else _typed_instant(value, default_tz)


_TYPED_ACTORS: dict[bytes, Actor] = {}  # the JSON text of an actor -> its actor


def _typed_actor(text: Any) -> Actor | None:
    """The :class:`Actor` of an actor's JSON text (a ``msgspec.Raw``, not decoded) or None, the same text
    decoded once: the same people act again and again."""
    if text is None:
        return None
    key = bytes(text)
    return _TYPED_ACTORS.get(key) or _new_typed_actor(key)


def _new_typed_actor(key: bytes) -> Actor | None:
    """The actor of JSON text ``key`` (or None for ``null``), decoded and kept; ValueError if not of the common shape."""
    try:
        shape = _typed_types().actor.decode(key)
    except (_msgspec().DecodeError, RecursionError):
        raise _NotCommon("not an actor of the common shape") from None
    if shape is None:
        return None
    if len(_TYPED_ACTORS) >= _ACTOR_CACHE_SIZE:
        _TYPED_ACTORS.clear()
    actor = _TYPED_ACTORS[key] = Actor(shape.id, shape.name, shape.rank or 0, shape.department, shape.role)
    return actor


def _typed_elements(names: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """``notice.elements`` as :func:`_elements` reads them; ValueError for an unknown one (a warning there)."""
    if not names:
        return names
    found = tuple(map(_element, names))
    if None in found:
        raise _NotCommon("unknown element")
    return found


def _typed_field(convert: Any, default: Any) -> tuple[Any, Any]:
    """(the msgspec type, the default) of a typed event field read by ``convert`` with attrs ``default``.

    The default is the model's, which is what the converter makes of an absent value, but for
    ``working_days``, which is required. A ``null`` is refused where the converter makes of it what it
    makes of an absent value that is not None.
    """
    from typing import Annotated, Literal

    msgspec = _msgspec()
    if isinstance(convert, _Choice):
        return Literal[convert.allowed] | None, default
    if convert is _working_days:
        return Annotated[int, msgspec.Meta(ge=1)], msgspec.NODEFAULT  # required
    if convert is _rating:
        return Annotated[int, msgspec.Meta(ge=1, le=5)], default
    if convert is _Problems.actor:
        return msgspec.Raw, default  # decoded by _typed_actor, once per distinct text
    return {_Problems.string: str | None, _Problems.boolean: bool, _Problems.number: int | float | None,
            _public: bool, _body: str, _req_strings: tuple[str, ...], _opt_strings: tuple[str, ...] | None,
            _elements: tuple[str, ...] | None}[convert], default


_TYPED_OPTIONS = {"forbid_unknown_fields": True, "gc": False}  # decoded trees hold no cycle: GC need not track them


def _typed_event_type(etype: str) -> tuple[type, str]:
    """The struct of an event of type ``etype`` in the common shape, and the source of ``build_ETYPE(e, tz)``,
    the builder of its event (:func:`_typed_builders`).

    The struct's fields are the event class's in order (``at``, ``actor``, then its typed fields), so the
    builder passes them on positionally; ``extra`` is empty (no unknown field).
    """
    cls, _known, fields = _PLANS[etype]
    defaults = {a.name: a.default for a in attrs.fields(cls)}
    struct_fields: list[tuple] = [("at", str), ("actor", _msgspec().Raw, None)]
    values = ""
    for name, convert, _fast in fields:
        kind, default = _typed_field(convert, defaults[name])
        struct_fields.append((name, kind) if default is _msgspec().NODEFAULT else (name, kind, default))
        values += (f", _actor(e.{name})" if convert is _Problems.actor
                   else f", _elements(e.{name})" if convert is _elements else f", e.{name}")
    struct = _msgspec().defstruct(f"Typed{cls.__name__}", struct_fields, tag_field="type", tag=etype,
                                  kw_only=True, **_TYPED_OPTIONS)
    source = (f"def build_{etype}(e, tz):\n"
              f"    return _classes[{etype!r}]({etype!r}, _instant(e.at, tz), _actor(e.actor), _EMPTY{values})\n")
    return struct, source


def _typed_builders(sources: dict[str, str]) -> dict[str, Callable[[Any, tzinfo | None], Event]]:
    """Per event type, its builder compiled from ``sources`` (:func:`_typed_event_type`), all at once."""
    namespace = {"_classes": EVENT_CLASSES, "_EMPTY": EMPTY, "_instant": _typed_instant, "_actor": _typed_actor,
                 "_elements": _typed_elements}
    exec(compile("".join(sources.values()), f"<{__name__} typed events>", "exec"), namespace)
    return {etype: namespace[f"build_{etype}"] for etype in sources}


class _Typed(NamedTuple):
    """The msgspec decoders of the common shape (:func:`_typed_types`)."""

    ticket: Any  # of a ticket
    builders: dict[type, Callable[[Any, tzinfo | None], Event]]  # per event struct, the builder of its event
    actor: Any  # of an actor or null


@functools.cache
def _typed_types() -> _Typed:
    """The msgspec decoders of the common shape, built at first use (msgspec imported then)."""
    from typing import Annotated, Any as AnyValue, Literal, Union

    msgspec = _msgspec()
    actor = msgspec.defstruct("TypedActor", [
        ("id", str), ("name", str | None, None), ("rank", int | None, None), ("department", str | None, None),
        ("role", Literal[ROLES], "staff")], **_TYPED_OPTIONS)
    events = {etype: _typed_event_type(etype) for etype in _PLANS}
    builders = _typed_builders({etype: source for etype, (_struct, source) in events.items()})
    applicant = msgspec.defstruct("TypedApplicant", [
        ("id", str | None, None), ("name", str | None, None), ("phone", str | None, None),
        ("birth_date", str | None, None), ("groups", tuple[Literal[GROUPS], ...], ())], **_TYPED_OPTIONS)
    materials = msgspec.defstruct("TypedMaterials", [("required", tuple[str, ...], ())], **_TYPED_OPTIONS)
    optional_string = (str | None, None)
    ticket = msgspec.defstruct("TypedTicket", [
        ("id", Annotated[str, msgspec.Meta(min_length=1)]), ("kind", Literal[KINDS]), ("created_at", str),
        ("channel", Literal[CHANNELS] | None, None), ("subject", *optional_string),
        ("status", Literal[STATUSES] | None, None), ("accepted_at", *optional_string),
        ("resolved_at", *optional_string), ("promised_working_days", Annotated[int, msgspec.Meta(ge=0)] | None, None),
        ("due_at", *optional_string), ("department", *optional_string),
        ("assignee", msgspec.Raw, None), ("co_departments", tuple[str, ...], ()),
        ("lead_department", *optional_string), ("applicant", applicant | None, None),
        ("materials", materials | None, None), ("tags", tuple[str, ...], ()), ("fields", dict[str, AnyValue], {}),
        ("events", list[Union[tuple(struct for struct, _source in events.values())]], [])], **_TYPED_OPTIONS)
    return _Typed(msgspec.json.Decoder(ticket), {struct: builders[etype] for etype, (struct, _source) in events.items()},
                  msgspec.json.Decoder(actor | None))


# ---------------------------------------------------------------- moved


def __getattr__(name: str) -> Any:
    """``iter_raw`` and ``iter_tickets`` now live in :mod:`govhall_sdk.reader`; the old names still work."""
    if name in ("iter_raw", "iter_tickets"):
        import importlib  # at first use: the reader imports this module

        return getattr(importlib.import_module("govhall_sdk.reader"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
