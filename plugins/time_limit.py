"""限时办结制度 (time-limited completion): the ``completion`` clock and its findings.

Interpretations where ``rules.md`` is silent:

- **Extensions in time**: an approved ``extension`` counts when its ``at`` is
  not after the deadline in force just before it: the original deadline plus
  the extensions counted before it and the working days of the suspensions that
  began before it (a pause moves the deadline as much as an extension does). A
  late one adds nothing and gives ``tl.extension_late``; an unapproved one adds
  nothing and gives ``tl.extension_unapproved``. Extensions and suspensions
  after ``now`` are not seen.
- **Who answers** (``staff``, ``department``): for a clock code, the 首办责任人
  (``first_handler``) or else the ticket's ``assignee``, and the department that
  held the ticket at the deadline (now, for ``tl.due_soon``); for an event's
  code, the staff actor of that event and the department they acted for.
  ``tl.extension_late`` names the staff actor who recorded the extension, else
  the 首办责任人. ``tl.deadline_missing`` and ``tl.result_not_reported`` name the
  assignee and the department now.
"""
from __future__ import annotations

from govhall_sdk import (
    RuleInfo, RuleResult, actor_department, clause_findings, completion_clock, department_at, hookimpl, staff_id,
)

RULE = "time_limit"
S = "限时办结制度"

DUE_SOON = RuleInfo(
    "tl.due_soon", RULE, "warning", f"{S} 第一条",
    text="对资料齐全、符合受理条件的登记件，要在各类登记出具的受理单上承诺的时限内办结，不得无故拖延、积压。",
    action="办结时限临近，请优先办理，确需延期的报分管领导批准。",
    action_en="The completion deadline is near: handle the item first; an extension needs a leader's approval.",
    clock="completion", thresholds=("complaint_working_days",),
    accountable="the first handler (首办责任人), else the assignee; the department holding the ticket now",
)
OVERDUE = RuleInfo(
    "tl.overdue", RULE, "violation", f"{S} 第一条, 第六条, 第七条, 第八条",
    text="对资料齐全、符合受理条件的登记件，要在承诺的时限内办结，不得无故拖延、积压（第一条）；"
    "举报、申诉、求助事项没有明确时限的，在备案登记后15个工作日内办结（第七条）；"
    "未在承诺的办结时限内办理的，按局有关规定作出处理（第八条）。",
    action="已超过办结时限：立即办结并说明超时原因，报部门负责人。",
    action_en="The completion deadline has passed: finish now, explain the delay and report to the department head.",
    clock="completion", thresholds=("complaint_working_days",),
    accountable="the first handler (首办责任人), else the assignee; the department holding the ticket at the deadline",
)
SUPERVISION_OVERDUE = RuleInfo(
    "tl.supervision_overdue", RULE, "violation", f"{S} 第五条",
    text="对上级部门交办的督办案件不得推诿、拖延，并在督办时限内保质保量办结。",
    action="督办案件已超期：立即办结并向中心报告。",
    action_en="A supervision case is past its deadline: finish it now and report to the center.",
    clock="completion", escalation=2,
    accountable="the first handler (首办责任人), else the assignee; the department holding the ticket at the deadline",
)
DEADLINE_MISSING = RuleInfo(
    "tl.deadline_missing", RULE, "warning", f"{S} 第五条",
    text="对上级部门交办的督办案件……在督办时限内保质保量办结。",
    action="督办案件未登记督办时限：请补录督办时限。",
    action_en="The supervision case has no deadline on record: enter the deadline set by the supervising body.",
    accountable="the assignee; the department holding the ticket now",
)
REJECTION_NOTICE_MISSING = RuleInfo(
    "tl.rejection_notice_missing", RULE, "violation", f"{S} 第三条",
    text="对申请办理事项不符合受理条件的情况，应告知申请人原因，并按规定出具不予受理通知书。",
    action="请向申请人出具不予受理通知书，写明原因。",
    action_en="Issue the notice of non-acceptance (不予受理通知书) to the applicant, stating the reason.",
    accountable="the staff member who recorded the rejection; their department",
)
NON_REGISTRATION_NOTICE_MISSING = RuleInfo(
    "tl.non_registration_notice_missing", RULE, "violation", f"{S} 第四条",
    text="对受理后的登记件查出有限制或不符合相关规定应不予登记的，在规定时限内及时通知申请人，一次性告知不予登记原因，并出具不予登记通知书。",
    action="请向申请人出具不予登记通知书，一次性告知不予登记原因。",
    action_en="Issue the notice of non-registration (不予登记通知书) and tell the applicant every reason at once.",
    accountable="the staff member who recorded the rejection; their department",
)
EXTENSION_UNAPPROVED = RuleInfo(
    "tl.extension_unapproved", RULE, "violation", f"{S} 第七条",
    text="情况复杂的，经分管领导批准，可适当延长。",
    action="延期须经分管领导批准：补办审批，未批准的延期不计入时限。",
    action_en="An extension needs the approval of the leader in charge; an unapproved one does not extend the deadline.",
    accountable="the staff member who recorded the extension; their department",
)
EXTENSION_LATE = RuleInfo(
    "tl.extension_late", RULE, "violation", f"{S} 第七条",
    text="情况复杂的，经分管领导批准，可适当延长。（延期应在办结时限届满前批准；时限届满后补批的延期不计入时限。）",
    action="延期在办结时限届满后才批准，不计入办结时限：按超期处理，今后须在时限届满前报批。",
    action_en="The extension was approved after the deadline had passed and does not count: treat the item as late; "
    "ask for approval before the deadline next time.",
    clock="completion",
    accountable="the staff member who recorded the extension, else the first handler (首办责任人); "
    "the department holding the ticket at the deadline",
)
RESULT_NOT_REPORTED = RuleInfo(
    "tl.result_not_reported", RULE, "warning", f"{S} 第六条",
    text="对于交办、批办、转办的事项……应尽力推进、尽早完成，并将办理结果及时向有关部门报告。",
    action="请将办理结果报告交办（督办）部门。",
    action_en="Report the result to the body that assigned or supervises the item.",
    accountable="the assignee; the department holding the ticket now",
)
CODES = (DUE_SOON, OVERDUE, SUPERVISION_OVERDUE, DEADLINE_MISSING, REJECTION_NOTICE_MISSING,
         NON_REGISTRATION_NOTICE_MISSING, EXTENSION_UNAPPROVED, EXTENSION_LATE, RESULT_NOT_REPORTED)
KIND_ZH = {"application": "申请件", "complaint": "投诉举报件", "supervision": "督办件", "assignment": "交办件"}


@hookimpl
def govhall_register_rules(register):
    """The nine codes of 限时办结制度."""
    for info in CODES:
        register(info)


@hookimpl
def govhall_register_policies(register):
    """``complaint_working_days``: the limit of 第七条 for complaints without a deadline (1 to 365 working days)."""
    register(RULE, {"complaint_working_days": 15}, ranges={"complaint_working_days": (1, 365)})


class _View:
    """One ticket as the clauses read it, from one pass over its events.

    ``marked`` are the rejections and extensions (the events with a code of their
    own), in event order; ``accepted`` is ``accepted_at`` or the first
    ``acceptance``. The pass runs only when the ticket has such an event.
    ``clocks`` and ``clock`` are left by the ``completion`` clause for the ones after it.
    """

    __slots__ = ("ticket", "ctx", "clocks", "clock", "accepted", "marked")

    def __init__(self, ticket, ctx):
        self.ticket = ticket
        self.ctx = ctx
        self.clocks = []
        self.clock = None
        self.accepted = ticket.accepted_at
        self.marked = ()
        types = ticket.event_types
        if "rejection" in types or "extension" in types:
            first_acceptance = None
            marked = []
            for e in ticket.events:
                t = e.type
                if t in _MARKED:
                    marked.append(e)
                elif t == "acceptance" and first_acceptance is None:
                    first_acceptance = e.at
            self.marked = marked
            self.accepted = ticket.accepted_at or first_acceptance


_MARKED = frozenset({"rejection", "extension"})


def _by(v, e):
    """``staff``, ``department`` and ``key`` of the event at fault."""
    return {"staff": staff_id(e.actor), "department": actor_department(v.ticket, e.actor, e.at), "key": e.at.isoformat()}


def _completion(v):
    """The ``completion`` clock: ``tl.overdue`` or ``tl.supervision_overdue`` when late, ``tl.due_soon`` when yellow."""
    ticket, ctx = v.ticket, v.ctx
    clock = v.clock = completion_clock(ticket, ctx)
    if clock is None:
        return ()
    v.clocks.append(clock)
    if clock.late:
        info = SUPERVISION_OVERDUE if ticket.kind == "supervision" else OVERDUE
        due = ctx.fmt(clock.due_at)
        return (info.finding(
            ctx, f"{KIND_ZH.get(ticket.kind, '事项')}未在办结时限 {due} 前办结。",
            f"The {ticket.kind} was not completed by its deadline {due}.",
            due_at=clock.due_at, duty="first_handler", department=department_at(ticket, clock.due_at)),)
    if clock.status == "yellow":
        due = ctx.fmt(clock.due_at)
        return (DUE_SOON.finding(
            ctx, f"{KIND_ZH.get(ticket.kind, '事项')}办结时限 {due} 临近（已用 80% 以上工作日）。",
            f"The {ticket.kind} is due {due}; most of its working days are used.", due_at=clock.due_at,
            duty="first_handler", department=ticket.department),)
    return ()


def _deadline_missing(v):
    """``tl.deadline_missing``: a supervision case without ``due_at``."""
    ticket = v.ticket
    if ticket.kind != "supervision" or ticket.due_at is not None:
        return ()
    return (DEADLINE_MISSING.finding(v.ctx, "督办件未登记督办时限。", "The supervision case has no deadline.",
                                     duty="assignee", department=ticket.department),)


def _rejection_notice(v, e):
    """``tl.rejection_notice_missing`` or ``tl.non_registration_notice_missing`` for one rejection without its notice."""
    if e.notice_issued:
        return None
    accepted = v.accepted
    stage = e.stage or ("after_acceptance" if accepted is not None and accepted <= e.at else "before_acceptance")
    if stage == "before_acceptance":
        return REJECTION_NOTICE_MISSING.finding(
            v.ctx, "不予受理但未出具不予受理通知书。", "Not accepted, but no notice of non-acceptance was issued.", **_by(v, e))
    return NON_REGISTRATION_NOTICE_MISSING.finding(
        v.ctx, "受理后不予登记但未出具不予登记通知书。", "Refused after acceptance, but no notice of non-registration was issued.",
        **_by(v, e))


def _extension_unapproved(v, e):
    """``tl.extension_unapproved`` for one extension without ``approved_by``."""
    if e.approved_by is not None:
        return None
    return EXTENSION_UNAPPROVED.finding(
        v.ctx, f"延期 {e.working_days} 个工作日未经分管领导批准，不计入办结时限。",
        f"An extension of {e.working_days} working days has no leader's approval and does not count.", **_by(v, e))


def _extension_late(v, e):
    """``tl.extension_late`` for one approved extension the ``completion`` clock found late."""
    if e.approved_by is None or v.clock is None or e.at not in v.clock.late_extensions:
        return None
    ctx = v.ctx
    when = ctx.fmt(e.at)
    return EXTENSION_LATE.finding(
        ctx, f"延期 {e.working_days} 个工作日于 {when} 才批准，已在办结时限届满之后，不计入办结时限。",
        f"An extension of {e.working_days} working days was approved at {when}, after the deadline in force; "
        "it does not count.",
        staff=staff_id(e.actor), duty="first_handler", key=e.at.isoformat(), department=department_at(v.ticket, e.at))


EVENT_CLAUSES = {
    "rejection": (_rejection_notice,),
    "extension": (_extension_unapproved, _extension_late),
}


def _event_codes(v):
    """The codes of single events (第三条/第四条 notices, 第七条 extensions), in event order."""
    found = []
    for e in v.marked:
        for clause in EVENT_CLAUSES[e.type]:
            finding = clause(v, e)
            if finding is not None:
                found.append(finding)
    return found


def _result_not_reported(v):
    """``tl.result_not_reported``: a closed assignment or supervision case with no ``result_report``."""
    ticket = v.ticket
    if ticket.kind not in ("assignment", "supervision") or ticket.is_open or "result_report" in ticket.event_types:
        return ()
    if not (ticket.resolved_at or ticket.status != "rejected"):
        return ()
    return (RESULT_NOT_REPORTED.finding(
        v.ctx, "事项已办结，但未向交办（督办）部门报告办理结果。",
        "Resolved, but the result was not reported to the assigning body.",
        duty="assignee", department=ticket.department),)


CLAUSES = (_completion, _deadline_missing, _event_codes, _result_not_reported)


@hookimpl
def govhall_evaluate_ticket(ticket, ctx):
    """The ``completion`` clock and every 限时办结 finding of one ticket."""
    v = _View(ticket, ctx)
    findings = clause_findings(CLAUSES, v)
    return RuleResult(v.clocks, findings)
