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

from govhall_sdk import RuleInfo, RuleResult, actor_department, completion_clock, hookimpl, staff_id

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
    """``complaint_working_days``: the limit of 第七条 for complaints without a deadline."""
    register(RULE, {"complaint_working_days": 15})


@hookimpl
def govhall_evaluate_ticket(ticket, ctx):
    """The ``completion`` clock and every 限时办结 finding of one ticket."""
    findings = []
    clock = completion_clock(ticket, ctx)
    if clock is not None:
        due = ctx.fmt(clock.due_at)
        kind_zh = KIND_ZH.get(ticket.kind, "事项")
        if clock.late:
            info = SUPERVISION_OVERDUE if ticket.kind == "supervision" else OVERDUE
            findings.append(info.finding(
                ctx, f"{kind_zh}未在办结时限 {due} 前办结。", f"The {ticket.kind} was not completed by its deadline {due}.",
                due_at=clock.due_at, duty="first_handler", department=ticket.department_at(clock.due_at)))
        elif clock.status == "yellow":
            findings.append(DUE_SOON.finding(
                ctx, f"{kind_zh}办结时限 {due} 临近（已用 80% 以上工作日）。",
                f"The {ticket.kind} is due {due}; most of its working days are used.", due_at=clock.due_at,
                duty="first_handler", department=ticket.department))
    if ticket.kind == "supervision" and ticket.due_at is None:
        findings.append(DEADLINE_MISSING.finding(ctx, "督办件未登记督办时限。", "The supervision case has no deadline.",
                                                 duty="assignee", department=ticket.department))
    types = ticket.event_types
    if "rejection" in types or "extension" in types:
        findings.extend(_rejection_and_extension_findings(ticket, ctx, clock))
    if ticket.kind in ("assignment", "supervision") and not ticket.is_open:
        if "result_report" not in types and (ticket.resolved_at or ticket.status != "rejected"):
            findings.append(RESULT_NOT_REPORTED.finding(
                ctx, "事项已办结，但未向交办（督办）部门报告办理结果。",
                "Resolved, but the result was not reported to the assigning body.",
                duty="assignee", department=ticket.department))
    return RuleResult([clock] if clock else [], findings)


def _rejection_and_extension_findings(ticket, ctx, clock):
    """The notice codes of 第三条/第四条 for each rejection, and 第七条 for each unapproved or late extension."""
    findings = []
    accepted = ticket.accepted_at or next((e.at for e in ticket.events if e.type == "acceptance"), None)
    late = frozenset(clock.late_extensions) if clock is not None else frozenset()
    for e in ticket.events:
        if e.type == "rejection" and not e.notice_issued:
            stage = e.stage or ("after_acceptance" if accepted is not None and accepted <= e.at else "before_acceptance")
            who = {"staff": staff_id(e.actor), "department": actor_department(ticket, e.actor, e.at), "key": e.at.isoformat()}
            if stage == "before_acceptance":
                findings.append(REJECTION_NOTICE_MISSING.finding(
                    ctx, "不予受理但未出具不予受理通知书。", "Not accepted, but no notice of non-acceptance was issued.", **who))
            else:
                findings.append(NON_REGISTRATION_NOTICE_MISSING.finding(
                    ctx, "受理后不予登记但未出具不予登记通知书。", "Refused after acceptance, but no notice of non-registration was issued.",
                    **who))
        elif e.type == "extension":
            who = {"staff": staff_id(e.actor), "department": actor_department(ticket, e.actor, e.at), "key": e.at.isoformat()}
            if e.approved_by is None:
                findings.append(EXTENSION_UNAPPROVED.finding(
                    ctx, f"延期 {e.working_days} 个工作日未经分管领导批准，不计入办结时限。",
                    f"An extension of {e.working_days} working days has no leader's approval and does not count.", **who))
            elif e.at in late:
                when = ctx.fmt(e.at)
                findings.append(EXTENSION_LATE.finding(
                    ctx, f"延期 {e.working_days} 个工作日于 {when} 才批准，已在办结时限届满之后，不计入办结时限。",
                    f"An extension of {e.working_days} working days was approved at {when}, after the deadline in force; "
                    "it does not count.",
                    staff=who["staff"], duty="first_handler", key=who["key"],
                    department=ticket.department_at(e.at)))
    return findings
