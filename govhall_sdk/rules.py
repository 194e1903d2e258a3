"""What a rule plugin declares about each finding code it can emit."""
from __future__ import annotations

from datetime import datetime
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
        return Finding(
            code=self.code, rule=self.rule, severity=self.severity, clause=self.clause,
            message=mask_text(en if ctx.lang == "en" else zh), clock=clock or self.clock,
            due_at=due_at, escalation=self.escalation, key=key, staff=staff, department=department,
            duty=duty,
        )


def staff_id(actor: Any) -> str | None:
    """The id of an actor who is staff, else None (applicants and systems answer for nothing)."""
    return actor.id if actor is not None and actor.role == "staff" else None


def actor_department(ticket: Any, actor: Any, instant: datetime) -> str | None:
    """The department an actor acted for: the actor's own, else the ticket's at that instant."""
    if actor is not None and actor.department:
        return actor.department
    return ticket.department_at(instant)
