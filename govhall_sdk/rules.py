"""What a rule plugin declares about each finding code it can emit."""
from __future__ import annotations

import bisect
from datetime import datetime, timezone
from typing import Any

import attrs

from .model import SEVERITIES, Finding
from .privacy import mask_text


@attrs.frozen
class RuleInfo:
    """One row of the rule catalog (``rules.md``).

    :param code: the finding code, ``<prefix>.<name>``.
    :param rule: the plugin (system) that emits it.
    :param severity: ``info``, ``warning`` or ``violation``.
    :param clause: the clause it enforces, e.g. ``限时办结制度 第一条``.
    :param text: the clause's wording, for ``govhall explain``.
    :param action: what the staff should do, in Chinese.
    :param action_en: the same in English.
    :param clock: the clock whose status drives it, if any.
    :param escalation: 2 when the catalog sends it to the center, else 0.
    :param thresholds: the ``[policy.<rule>]`` keys that tune it.
    :param accountable: who answers for a finding of this code (its ``staff``
        and ``department``), in English, for the catalog's documentation.
    """

    code: str
    rule: str
    severity: str = attrs.field(validator=attrs.validators.in_(SEVERITIES))
    clause: str = ""
    text: str = ""
    action: str = ""
    action_en: str = ""
    clock: str | None = None
    escalation: int = 0
    thresholds: tuple[str, ...] = ()
    accountable: str = ""

    def finding(self, ctx: Any, zh: str, en: str, *, clock: str | None = None,
                due_at: datetime | None = None, key: str = "",
                staff: str | None = None, department: str | None = None,
                duty: str | None = None) -> Finding:
        """A :class:`Finding` of this code, its message in the context's language.

        ``staff`` and ``department`` name who answers for it (see ``accountable``);
        ``duty`` (``first_inquiry``, ``first_handler``, ``assignee``) lets the
        engine name the staff member when ``staff`` is None.
        """
        return Finding(  # positional: Finding's field order (it runs once per finding)
            self.code, self.rule, self.severity, self.clause, mask_text(en if ctx.lang == "en" else zh),
            clock or self.clock, due_at, self.escalation, key, staff, department, duty,
        )


def clause_findings(clauses: Any, view: Any) -> list[Any]:
    """The findings of a plugin's clauses over its per-ticket view, in clause order: each clause is a
    function of the view returning its findings (or nothing)."""
    return [finding for clause in clauses for finding in clause(view) or ()]


def staff_id(actor: Any) -> str | None:
    """The id of an actor who is staff, else None (applicants and systems answer for nothing)."""
    return actor.id if actor is not None and actor.role == "staff" else None


def actor_department(ticket: Any, actor: Any, instant: datetime) -> str | None:
    """The department an actor acted for: the actor's own, else the ticket's at that instant."""
    if actor is not None and actor.department:
        return actor.department
    return department_at(ticket, instant)


#: The last ticket :func:`department_at` indexed, and its index (rules ask it many times per ticket).
_route: tuple[Any, Any] = (None, None)


def department_at(ticket: Any, instant: datetime) -> str | None:
    """``ticket.department_at(instant)`` (:meth:`govhall_sdk.model.Ticket.department_at`), from an index.

    The ticket's assignments are indexed once (the instants, and the department
    holding the ticket before each), so that a rule asking for every event of a
    long ticket stays linear in its events. A ticket whose assignments are not
    in time order is asked directly.
    """
    global _route
    if "assignment" not in ticket.event_types:
        return ticket.department
    cached, index = _route
    if cached is not ticket:
        index = _department_index(ticket)
        _route = (ticket, index)
    if index is None:
        return ticket.department_at(instant)
    instants, before, last, utc = index
    i = -1
    if utc is not None and type(instant.tzinfo) is timezone:
        try:
            i = bisect.bisect_right(utc, instant.astimezone(timezone.utc))
        except OverflowError:  # an instant at the very edge of the datetime range
            pass
    if i < 0:
        i = bisect.bisect_right(instants, instant)
    return before[i] if i < len(instants) else ticket.department or last


def _department_index(ticket: Any) -> tuple[list[datetime], list[str | None], str | None, list[datetime] | None] | None:
    """The instants of a ticket's assignments, the department before each and after the last, and the instants
    in UTC when every one has a fixed offset (else None); None when unordered.

    Between instants of fixed offsets (``datetime.timezone``, what an ISO 8601 offset reads as) the order is
    that of their UTC instants, and UTC instants compare without an offset computed per comparison.
    """
    instants: list[datetime] = []
    before: list[str | None] = []
    here: str | None = None
    for e in ticket.events:
        if e.type != "assignment":
            continue
        if not instants:
            here = e.from_department
        elif e.at < instants[-1]:
            return None
        instants.append(e.at)
        before.append(here)
        here = e.to_department or here
    utc = None
    if all(type(at.tzinfo) is timezone for at in instants):
        try:
            utc = [at.astimezone(timezone.utc) for at in instants]
        except OverflowError:  # an instant at the very edge of the datetime range
            utc = None
    return instants, before, here, utc
