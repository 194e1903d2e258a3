"""The results record: what supervisors' reports read about one evaluated ticket.

Every evaluation of ``govhall run`` stores one record per ticket in the state
store (:meth:`~govhall_sdk.state.StateStore.store_results`), replacing the
ticket's previous one, and ``govhall report FILE`` builds the same records from
a ticket file. A record is JSON-ready data, with every instant in ISO 8601 with
its offset:

- the ticket: ``id``, ``kind``, ``subject`` (phone and ID numbers in it masked), ``channel``, ``status``,
  ``department``, ``lead_department``, ``assignee`` (id and name),
  ``created_at``, ``accepted_at``, ``resolved_at``, ``due_at``;
- the evaluation: ``evaluated_at`` (the ``now`` of the evaluation), ``light``,
  ``escalation_level``, ``responsible``, ``clocks`` and ``findings`` as in
  ``govhall check`` (each finding with ``staff`` and ``department``, its
  ``key`` and its ``at``: see :func:`finding_at`; without its message, which
  ``govhall explain CODE`` gives in either language);
- 帮办代办 (the ledger's columns): ``proxy`` (``mode``, ``requested_at``, the
  ``agent`` with id, name and department, ``handover_at``), ``evaluations``
  (``at``, ``rating``), ``return_visits`` (``at``, ``result``) and
  ``spot_check`` (drawn for a spot check, from ``ps.spot_check``);
- ``people``: the name and department of each staff member the record names (in
  findings, ``responsible`` or ``assignee``), by actor id, from the ticket's events;
- ``applicant``: ``name``, ``groups`` and, for a proxy ticket (the only ones
  whose reports show it), ``phone`` masked (``mask_text``); the ID number and
  the birth date are never stored. The unmasked phone of a proxy
  ticket (the ledger's 申请人信息, needed to call the applicant back) is kept
  apart, in :func:`contact_of`, for ``govhall report ledger --unmasked``.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from .engine import Result
from .model import Actor, Finding, Ticket
from .privacy import mask_text
from .report import clock_dict, finding_dict, iso

#: The finding code that marks a resolved proxy ticket drawn for a spot check and return visit.
SPOT_CHECK = "ps.spot_check"


def _actor(actor: Actor | None) -> dict[str, Any] | None:
    if actor is None:
        return None
    return {"id": actor.id, "name": actor.name, "department": actor.department}


def finding_at(finding: Finding, evaluated_at: datetime) -> datetime:
    """When a finding's fact happened, for periods and trends.

    A clock's finding happened at the clock's deadline (``due_at``) when that is
    already past, else at the evaluation (a warning such as ``tl.due_soon`` holds
    now); an event's finding at its event, whose instant the rules give as the
    finding's ``key``; any other finding at the evaluation.
    """
    if finding.due_at is not None and finding.due_at <= evaluated_at:
        return finding.due_at
    if finding.key and finding.due_at is None:
        try:
            at = datetime.fromisoformat(finding.key)
        except ValueError:
            return evaluated_at
        if at.tzinfo is not None and at <= evaluated_at:
            return at
    return evaluated_at


def _finding(finding: Finding, evaluated_at: datetime) -> dict[str, Any]:
    """A finding as ``govhall check`` prints it, without its message, with its ``key``, ``due_at`` and ``at``."""
    out = finding_dict(finding)
    del out["message"]
    out.update(key=finding.key, due_at=iso(finding.due_at), at=finding_at(finding, evaluated_at).isoformat())
    return out


def _proxy(ticket: Ticket) -> dict[str, Any] | None:
    requests = ticket.events_of("proxy_request")
    if not requests:
        return None
    first = requests[0]
    agent = next((r.agent for r in requests if getattr(r, "agent", None) is not None), None)
    handovers = ticket.events_of("handover")
    return {"mode": getattr(first, "mode", None), "requested_at": first.at.isoformat(), "agent": _actor(agent),
            "handover_at": iso(handovers[0].at) if handovers else None}


def _masked(text: str | None) -> str | None:
    return mask_text(text) if text else text


def _people(ticket: Ticket, result: Result) -> dict[str, dict[str, Any]]:
    """The name and department of each staff id the result names, from the ticket's actors (one pass)."""
    wanted = {f.staff for f in result.findings} | set(result.responsible.values())
    if ticket.assignee is not None:
        wanted.add(ticket.assignee.id)
    wanted.discard(None)
    people: dict[str, dict[str, Any]] = {}
    actors = [ticket.assignee] + [e.actor for e in ticket.events] + [getattr(e, "agent", None) for e in ticket.events
                                                                    if e.type == "proxy_request"]
    for actor in actors:
        if actor is None or actor.id not in wanted:
            continue
        if actor.id not in people or (actor.name and not people[actor.id]["name"]):
            people[actor.id] = {"name": actor.name, "department": actor.department}
    return people


def record_of(ticket: Ticket, result: Result, evaluated_at: datetime) -> dict[str, Any]:
    """The results record of one evaluated ticket (see the module docstring for its keys)."""
    applicant = ticket.applicant
    proxy = _proxy(ticket)
    return {
        "id": ticket.id, "kind": ticket.kind, "subject": _masked(ticket.subject),
        "channel": ticket.channel,
        "status": ticket.status, "department": ticket.department, "lead_department": ticket.lead_department,
        "assignee": _actor(ticket.assignee),
        "created_at": ticket.created_at.isoformat(), "accepted_at": iso(ticket.accepted_at),
        "resolved_at": iso(ticket.resolved_at), "due_at": iso(ticket.due_at),
        "evaluated_at": evaluated_at.isoformat(), "light": result.light,
        "escalation_level": result.escalation_level, "responsible": dict(result.responsible),
        "clocks": [clock_dict(c) for c in result.clocks],
        "findings": [_finding(f, evaluated_at) for f in result.findings],
        "proxy": proxy,
        "evaluations": [{"at": e.at.isoformat(), "rating": getattr(e, "rating", None)}
                        for e in ticket.events_of("evaluation")],
        "return_visits": [{"at": e.at.isoformat(), "result": _masked(getattr(e, "result", None))}
                          for e in ticket.events_of("return_visit")],
        "spot_check": any(f.code == SPOT_CHECK for f in result.findings),
        "people": _people(ticket, result),
        "applicant": {"name": applicant.name, "phone": _masked(applicant.phone) if proxy else None,
                      "groups": list(applicant.groups)},
    }


def contact_of(ticket: Ticket) -> str | None:
    """The applicant's unmasked phone, kept only for a proxy ticket (the ledger's 申请人信息), else None."""
    if "proxy_request" not in ticket.event_types:
        return None
    return ticket.applicant.phone or None


def finding_identity(finding: dict[str, Any]) -> str:
    """What tells one finding of a ticket from another across evaluations: its code and key."""
    return f"{finding['code']}\x1f{finding.get('key') or ''}"
