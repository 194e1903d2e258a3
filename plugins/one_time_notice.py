"""一次性告知工作制度 (one-time notice): the ``supplement_notice`` and ``deferred_reply`` clocks and their findings.

Interpretations where ``rules.md`` is silent:

- **Supplement notice** (补齐补正告知): a ``notice`` whose ``missing`` list is not
  empty. A notice with ``missing: []`` (or none) is not one.
- **``supplement_notice`` clock**: an ``application`` with ``materials.required``
  gets the clock when, after its first ``submission`` (or at ``created_at`` when
  it has none), some required item is still not submitted. It runs
  ``supplement_notice_working_days`` from that first submission (or
  ``created_at``) and stops at the first of: a supplement notice, an
  acceptance (the ``acceptance`` event or ``accepted_at``), a ``rejection``, or
  a later ``submission`` after which every required item is in (nothing is left
  to tell; it is ``missed`` when that came after the deadline, so a violation
  seen while red does not vanish when the applicant finds the missing items on
  their own). When an acceptance or a rejection came before the clock's start
  there is no clock at all (the duty ended with it); a supplement notice before
  the start does not stop it.
- **``otn.notice_incomplete``**: "not yet submitted at its time" counts the
  submissions at or before the notice's instant. It is checked for any ticket
  kind with ``materials.required`` (without that list nothing can be checked).
- **``otn.repeated_notice``**: one finding for every later supplement notice
  that lists an item no earlier supplement notice listed (even an item that was
  submitted but then found faulty: the applicant is still sent back twice).
- **``otn.written_notice_missing``**: an oral supplement notice counts as "only
  oral" unless some ``written`` supplement notice of the ticket (before or
  after) lists every item it listed (第四条(一): oral notice may accompany the
  written one, not replace it). The warning clears once the written notice is
  recorded.
- **``otn.rejection_basis_missing``**: ``reason`` or ``legal_basis`` missing or
  blank, on every ``rejection``, whatever the kind.
- **``deferred_reply`` clock**: one clock per ``deferral``, running
  ``deferred_reply_working_days`` from it and stopped by the next public
  ``reply`` or any ``notice`` after it that was not written by the applicant
  (an event without an actor counts as staff). Another deferral does not stop
  it. Several deferrals give several ``deferred_reply`` clocks.
- **``otn.answer_incomplete``**: a ``notice`` with ``elements`` (even an empty
  list) on a ``consultation``; one finding per such notice.
- Findings that can occur several times carry ``key`` = the event's
  ``at.isoformat()``.
- **Who answers** (``staff``, ``department``): the staff actor of the notice,
  rejection or deferral at fault and the department they acted for; for
  ``otn.repeated_notice`` the actor of the *first* supplement notice, which
  should have listed everything (the later notice that completes it is the
  right thing to do); for the ``supplement_notice`` clock the 首办责任人 or else
  the assignee; for the ``deferred_reply`` clock the actor of the deferral, who
  promised the reply; the department is the one holding the ticket at the
  deadline (now, for the due-soon warning).
"""
from __future__ import annotations

from govhall_sdk import RuleInfo, RuleResult, actor_department, clause_findings, department_at, hookimpl, staff_id

RULE = "one_time_notice"
S = "一次性告知工作制度"
FR = "首问（办）负责制度"

_T1 = ("第一条 本制度所称“一次性告知”是指，中心相关工作人员对办事群众办事申请或咨询一次性给予告知其所办事项或咨询事宜的"
       "依据、条件、材料、办事程序、办理时限等全部内容或不予办理理由的工作要求。")
_T52_A = ("第五条(二) ……对于申请材料不符合政策规定的,工作人员应当场或在五个工作日内一次性告知办事群众需要补齐补正的全部内容,"
          "在办事过程中应推行容缺容错机制,减少办事群众跑动次数。")
_T52_B = "第五条(二) ……对于不予受理或已受理未予批准的,工作人员应一次性告知不能办理的原因和法律、法规、政策、文件依据。"
_T53 = ("第五条(三) 办事群众所办事项或咨询内容较为复杂,不能当场答复的,工作人员应进行解释说明,留存联系方式,"
        "在了解政策依据后1个工作日内,按“一次性告知”要求给予答复。")
_T55 = "第五条(五) “一次性告知”的信息应准确,全面,清晰、合规。"

NOTICE_DUE_SOON = RuleInfo(
    "otn.notice_due_soon", RULE, "warning", f"{S} 第五条(二)",
    text=_T52_A,
    action="补正告知期限临近：请尽快以书面形式一次性告知申请人需要补齐补正的全部材料。",
    action_en="The supplement-notice deadline is near: tell the applicant in writing, at once, every item to add or correct.",
    clock="supplement_notice", thresholds=("supplement_notice_working_days",),
    accountable="the first handler (首办责任人), else the assignee; the department holding the ticket now",
)
NOTICE_OVERDUE = RuleInfo(
    "otn.notice_overdue", RULE, "violation", f"{S} 第五条(二)",
    text=_T52_A,
    action="已超过五个工作日未一次性告知补正内容：立即书面告知申请人需要补齐补正的全部材料，并说明延误原因。",
    action_en="The applicant was not told within the time limit what to add or correct: send the complete written notice now and explain the delay.",
    clock="supplement_notice", thresholds=("supplement_notice_working_days",),
    accountable="the first handler (首办责任人), else the assignee; the department holding the ticket at the deadline",
)
NOTICE_INCOMPLETE = RuleInfo(
    "otn.notice_incomplete", RULE, "violation", f"{S} 第一条, 第五条(二), 第五条(五)",
    text=f"{_T1}\n{_T52_A}\n{_T55}",
    action="首次补正告知未列全所缺材料：请核对申请材料清单，一次性补全告知，避免申请人多次跑动。",
    action_en="The first supplement notice left out missing items: check the list of required materials and tell the applicant everything at once.",
    accountable="the staff member who gave the first supplement notice; their department",
)
REPEATED_NOTICE = RuleInfo(
    "otn.repeated_notice", RULE, "violation", f"{S} 第一条, 第五条(二)",
    text=f"{_T1}\n{_T52_A}",
    action="申请人被二次告知新的补正内容：请说明首次告知遗漏的原因，今后须一次性告知全部内容。",
    action_en="The applicant was sent back a second time for items not named before: explain why the first notice missed them; tell everything at once.",
    accountable="the staff member who gave the first supplement notice, which should have listed everything; their department",
)
WRITTEN_NOTICE_MISSING = RuleInfo(
    "otn.written_notice_missing", RULE, "warning", f"{S} 第四条(二); {FR} 第三条(三)",
    text="第四条(二) 书面告知，主要指向办事群众发放《政务服务事项一次性告知通知书》进行告知。"
    "（第四条(一)：对于根据相关政策规定应采用书面告知的情形，可同步采用口头告知进行辅助，但不得用口头告知取代书面告知。）\n"
    f"{FR} 第三条(三) ……一次性告知应当尽可能采取书面形式，载明需补办的手续、材料及办理程序等。",
    action="补正告知仅为口头告知：请补发《政务服务事项一次性告知通知书》，载明需补办的材料及办理程序。",
    action_en="The supplement notice was only oral: issue the written one-time notice listing the items and the procedure.",
    accountable="the staff member who gave the oral notice; their department",
)
REJECTION_BASIS_MISSING = RuleInfo(
    "otn.rejection_basis_missing", RULE, "violation", f"{S} 第五条(二)",
    text=_T52_B,
    action="不予受理（未予批准）未载明原因或依据：请一次性告知申请人不能办理的原因和法律、法规、政策、文件依据。",
    action_en="The refusal lacks its reason or legal basis: tell the applicant at once why it cannot be handled and under which law, rule or policy.",
    accountable="the staff member who recorded the rejection; their department",
)
DEFERRED_REPLY_OVERDUE = RuleInfo(
    "otn.deferred_reply_overdue", RULE, "violation", f"{S} 第五条(三)",
    text=_T53,
    action="未当场答复的事项已超过答复时限：立即按一次性告知要求答复办事群众。",
    action_en="A question that could not be answered on the spot is past its reply deadline: reply now, completely.",
    clock="deferred_reply", thresholds=("deferred_reply_working_days",),
    accountable="the staff member who deferred the reply; the department holding the ticket at the deadline",
)
DEFERRAL_CONTACT_MISSING = RuleInfo(
    "otn.deferral_contact_missing", RULE, "warning", f"{S} 第五条(三)",
    text=_T53,
    action="未当场答复时未留存联系方式：请补录办事群众的联系方式，以便按时答复。",
    action_en="No contact was kept when the reply was deferred: record the person's contact so the reply can reach them.",
    accountable="the staff member who deferred the reply; their department",
)
ANSWER_INCOMPLETE = RuleInfo(
    "otn.answer_incomplete", RULE, "warning", f"{S} 第一条, 第五条(五)",
    text=f"{_T1}\n{_T55}",
    action="咨询答复未涵盖依据、条件、材料、办事程序、办理时限全部内容：请补充告知缺少的内容。",
    action_en="The answer to the consultation did not cover basis, conditions, materials, procedure and time limit: tell the missing parts.",
    accountable="the staff member who gave the answer; their department",
)
CODES = (NOTICE_DUE_SOON, NOTICE_OVERDUE, NOTICE_INCOMPLETE, REPEATED_NOTICE, WRITTEN_NOTICE_MISSING,
         REJECTION_BASIS_MISSING, DEFERRED_REPLY_OVERDUE, DEFERRAL_CONTACT_MISSING, ANSWER_INCOMPLETE)

ELEMENTS = ("basis", "conditions", "materials", "procedure", "time_limit")
ELEMENTS_ZH = {"basis": "依据", "conditions": "条件", "materials": "材料", "procedure": "办事程序", "time_limit": "办理时限"}
ELEMENTS_EN = {"basis": "basis", "conditions": "conditions", "materials": "materials", "procedure": "procedure",
               "time_limit": "time limit"}
_ANSWERS = frozenset({"reply", "notice"})


@hookimpl
def govhall_register_rules(register):
    """The nine codes of 一次性告知工作制度."""
    for info in CODES:
        register(info)


@hookimpl
def govhall_register_policies(register):
    """``supplement_notice_working_days`` (第五条(二), 5) and ``deferred_reply_working_days`` (第五条(三), 1),
    each 1 to 365 working days."""
    register(RULE, {"supplement_notice_working_days": 5, "deferred_reply_working_days": 1},
             ranges={"supplement_notice_working_days": (1, 365), "deferred_reply_working_days": (1, 365)})


def _by(ticket, event):
    """``staff`` and ``department`` of the event at fault."""
    return {"staff": staff_id(event.actor), "department": actor_department(ticket, event.actor, event.at)}


def _blank(value):
    return value is None or not value.strip()


def _zh(items):
    return "、".join(items)


def _en(items):
    return ", ".join(items)


class _View:
    """One ticket as the clauses read it, from one pass over its events (the ``_on_*`` steps).

    ``marked`` holds ``(clause, event, new)`` for the events with a code of their
    own, in event order: the first supplement notice (``_notice_incomplete``),
    later ones (``_repeated_notice``; ``new``: the items no earlier one named), a
    consultation's answers with ``elements``, deferrals and rejections.
    ``unsubmitted`` are the required items not submitted at the first supplement
    notice. ``clocks`` and ``policy`` are left by the clauses that compute them.
    """

    __slots__ = (
        "ticket", "ctx", "clocks", "policy", "required", "req_set", "is_app", "consultation",
        "submitted", "first_sub_at", "start_complete", "complete_at", "stop_times", "closings", "listed",
        "first_notice", "unsubmitted", "oral", "written", "deferrals", "open_deferrals", "marked",
    )

    def __init__(self, ticket, ctx):
        self.ticket = ticket
        self.ctx = ctx
        self.clocks = []
        self.policy = None
        required = self.required = ticket.required_materials
        self.req_set = frozenset(required)
        self.is_app = ticket.kind == "application" and bool(required)
        self.consultation = ticket.kind == "consultation"
        self.submitted = set()
        self.first_sub_at = None      # the first submission's instant
        self.start_complete = False   # the first submission already held every required item
        self.complete_at = None       # the later submission that completed the required items
        self.stop_times = []          # supplement notices, acceptances, rejections, in order
        self.closings = [ticket.accepted_at] if ticket.accepted_at is not None else []  # acceptances, rejections
        self.listed = set()           # items named by the supplement notices so far
        self.first_notice = None      # the first supplement notice
        self.unsubmitted = ()
        self.oral = []                # oral supplement notices
        self.written = set()          # items named by written supplement notices
        self.deferrals = []           # [deferral event, stopping instant or None]
        self.open_deferrals = 0
        self.marked = []
        steps = _STEPS
        for e in ticket.events:
            t = e.type
            if t == "reply":  # the most common event: inline, it only ends open deferrals
                if self.open_deferrals and e.public and (e.actor is None or e.actor.role != "applicant"):
                    _answered(self, e)
                continue
            step = steps.get(t)
            if step is not None:
                step(self, e)


def _on_submission(v, e):
    """A submission: the items in, the clock's start and the submission that completes the items."""
    submitted = v.submitted
    submitted.update(e.items)
    if not v.is_app:
        return
    if v.first_sub_at is None:
        v.first_sub_at = e.at
        v.start_complete = v.req_set <= submitted
    elif v.complete_at is None and not v.start_complete and v.req_set <= submitted:
        v.complete_at = e.at


def _on_notice(v, e):
    """A notice: a supplement notice, a consultation's answer, and the end of open deferrals."""
    if e.missing:
        _on_supplement(v, e)
    if v.consultation and e.elements is not None:
        v.marked.append((_answer_incomplete, e, None))
    if v.open_deferrals and (e.actor is None or e.actor.role != "applicant"):
        _answered(v, e)


def _on_supplement(v, e):
    """A supplement notice: it stops the clock; what it names, first or new, oral or written."""
    missing = e.missing
    v.stop_times.append(e.at)
    if v.first_notice is None:
        v.first_notice = e
        v.unsubmitted = [r for r in v.required if r not in v.submitted]
        v.marked.append((_notice_incomplete, e, None))
    else:
        listed = v.listed
        v.marked.append((_repeated_notice, e, [m for m in missing if m not in listed]))
    v.listed.update(missing)
    if e.form == "oral":
        v.oral.append(e)
    elif e.form == "written":
        v.written.update(missing)


def _answered(v, e):
    """The open deferrals stop at this answer (a notice, or a public reply, not by the applicant)."""
    for d in v.deferrals[-v.open_deferrals:]:
        d[1] = e.at
    v.open_deferrals = 0


def _on_deferral(v, e):
    """A deferral: one more open ``deferred_reply`` clock."""
    v.deferrals.append([e, None])
    v.open_deferrals += 1
    v.marked.append((_deferral_contact_missing, e, None))


def _on_closing(v, e):
    """An acceptance or a rejection: it stops the supplement-notice clock, or precludes it."""
    v.stop_times.append(e.at)
    v.closings.append(e.at)
    if e.type == "rejection":
        v.marked.append((_rejection_basis_missing, e, None))


_STEPS = {"submission": _on_submission, "notice": _on_notice, "deferral": _on_deferral,
          "acceptance": _on_closing, "rejection": _on_closing}
_OWN = frozenset({"notice", "deferral", "rejection"})  # without them and the clock, nothing to find


def _notice_incomplete(v, e, new):
    """``otn.notice_incomplete``: the first supplement notice leaves out items not yet submitted."""
    missing = e.missing
    left_out = [r for r in v.unsubmitted if r not in missing]
    if not left_out:
        return None
    return NOTICE_INCOMPLETE.finding(
        v.ctx,
        f"首次补正告知未列出尚未提交的材料：{_zh(left_out)}。应一次性告知需要补齐补正的全部内容。",
        f"The first supplement notice left out items not yet submitted: {_en(left_out)}. "
        "Every item to add or correct must be told at once.",
        key=e.at.isoformat(), **_by(v.ticket, e))


def _repeated_notice(v, e, new):
    """``otn.repeated_notice``: a later supplement notice names items no earlier one named."""
    if not new:
        return None
    return REPEATED_NOTICE.finding(
        v.ctx,
        f"再次补正告知列出了此前未告知的材料：{_zh(new)}，申请人被要求二次补正。应一次性告知全部内容。",
        f"A later supplement notice named items no earlier notice named: {_en(new)}; "
        "the applicant is sent back twice. Everything must be told at once.",
        key=e.at.isoformat(), **_by(v.ticket, v.first_notice))


def _answer_incomplete(v, e, new):
    """``otn.answer_incomplete``: a consultation's answer lacks some of the five elements."""
    lacking = [x for x in ELEMENTS if x not in e.elements]
    if not lacking:
        return None
    return ANSWER_INCOMPLETE.finding(
        v.ctx,
        f"咨询答复缺少：{_zh([ELEMENTS_ZH[x] for x in lacking])}。应一次性告知依据、条件、材料、办事程序、办理时限等全部内容。",
        f"The answer to the consultation lacks: {_en([ELEMENTS_EN[x] for x in lacking])}. "
        "Basis, conditions, materials, procedure and time limit must all be told at once.",
        key=e.at.isoformat(), **_by(v.ticket, e))


def _deferral_contact_missing(v, e, new):
    """``otn.deferral_contact_missing``: a deferral without the person's contact."""
    if not _blank(e.contact):
        return None
    return DEFERRAL_CONTACT_MISSING.finding(
        v.ctx, "未能当场答复，但未留存办事群众的联系方式。应留存联系方式，并在1个工作日内答复。",
        "The reply was deferred but no contact was kept; the clause asks for the contact and a reply within 1 working day.",
        key=e.at.isoformat(), **_by(v.ticket, e))


def _rejection_basis_missing(v, e, new):
    """``otn.rejection_basis_missing``: a rejection without its reason or legal basis."""
    if not (_blank(e.reason) or _blank(e.legal_basis)):
        return None
    lacks_zh = _zh([n for n, x in (("原因", e.reason), ("依据", e.legal_basis)) if _blank(x)])
    lacks_en = " and ".join(n for n, x in (("reason", e.reason), ("legal basis", e.legal_basis)) if _blank(x))
    return REJECTION_BASIS_MISSING.finding(
        v.ctx, f"不予办理未载明{lacks_zh}。应一次性告知不能办理的原因和法律、法规、政策、文件依据。",
        f"A refusal gives no {lacks_en}; the applicant must be told why and under which law, rule or policy.",
        key=e.at.isoformat(), **_by(v.ticket, e))


def _event_codes(v):
    """The codes of single notices, deferrals and rejections, in event order."""
    found = []
    for clause, e, new in v.marked:
        finding = clause(v, e, new)
        if finding is not None:
            found.append(finding)
    return found


def _supplement_notice(v):
    """The ``supplement_notice`` clock: ``otn.notice_overdue`` when late, ``otn.notice_due_soon`` when yellow."""
    ticket, ctx = v.ticket, v.ctx
    start = v.first_sub_at or ticket.created_at
    if not v.is_app or v.start_complete or any(c < start for c in v.closings):
        return ()
    policy = v.policy = ctx.policy(RULE)
    clock = ctx.clock("supplement_notice", RULE, start,
                      working_days=policy["supplement_notice_working_days"], stopped_at=_supplement_stop(v, start))
    v.clocks.append(clock)
    if clock.late:
        return (_notice_overdue(v, clock),)
    if clock.status == "yellow":
        return (_notice_due_soon(v, clock),)
    return ()


def _supplement_stop(v, start):
    """Where the ``supplement_notice`` clock stops: the first notice, acceptance or rejection from ``start``,
    or the submission that completed the items when that came first."""
    ticket = v.ticket
    stop_times = v.stop_times
    if ticket.accepted_at is not None:
        stop_times.append(ticket.accepted_at)
        stop_times.sort()
    stop = next((s for s in stop_times if s >= start), None)
    complete_at = v.complete_at
    if complete_at is not None and (stop is None or complete_at < stop):
        stop = complete_at
    return stop


def _outstanding(v):
    """What the supplement-notice messages say is still missing, in Chinese and English."""
    outstanding = [r for r in v.required if r not in v.submitted]
    if not outstanding:
        return "", ""
    return f"（尚缺：{_zh(outstanding)}）", f" (still missing: {_en(outstanding)})"


def _notice_overdue(v, clock):
    """``otn.notice_overdue`` of a late ``supplement_notice`` clock."""
    ticket, ctx = v.ticket, v.ctx
    due = ctx.fmt(clock.due_at)
    what_zh, what_en = _outstanding(v)
    when_zh = "至今未" if clock.status == "red" else "未在期限内"
    when_en = "has not yet" if clock.status == "red" else "did not in time"
    return NOTICE_OVERDUE.finding(
        ctx,
        f"申请材料不齐全{what_zh}，应于 {due} 前一次性告知需要补齐补正的全部内容，{when_zh}告知。",
        f"The application's materials are incomplete{what_en}; the supplement notice was due by {due} "
        f"and the center {when_en} tell the applicant everything to add or correct.",
        due_at=clock.due_at, duty="first_handler", department=department_at(ticket, clock.due_at))


def _notice_due_soon(v, clock):
    """``otn.notice_due_soon`` of a yellow ``supplement_notice`` clock."""
    ctx = v.ctx
    due = ctx.fmt(clock.due_at)
    what_zh, what_en = _outstanding(v)
    return NOTICE_DUE_SOON.finding(
        ctx,
        f"申请材料不齐全{what_zh}，补正告知期限 {due} 临近，请一次性告知需要补齐补正的全部内容。",
        f"The application's materials are incomplete{what_en}; the supplement notice is due by {due}: "
        "tell the applicant everything to add or correct, at once.",
        due_at=clock.due_at, duty="first_handler", department=v.ticket.department)


def _written_notice_missing(v):
    """``otn.written_notice_missing``: an oral supplement notice no written one covers."""
    written = v.written
    found = []
    for e in v.oral:
        if not written.issuperset(e.missing):
            found.append(WRITTEN_NOTICE_MISSING.finding(
                v.ctx, f"补正告知（{_zh(e.missing)}）仅为口头告知，未发放书面《一次性告知通知书》；口头告知不得取代书面告知。",
                f"The supplement notice ({_en(e.missing)}) was only oral; no written one-time notice was issued, "
                "and an oral notice may not replace the written one.",
                key=e.at.isoformat(), **_by(v.ticket, e)))
    return found


def _deferred_reply(v):
    """The ``deferred_reply`` clocks, one per deferral: ``otn.deferred_reply_overdue`` when late."""
    if not v.deferrals:
        return ()
    ticket, ctx = v.ticket, v.ctx
    days = (v.policy or ctx.policy(RULE))["deferred_reply_working_days"]
    found = []
    for d, stop in v.deferrals:
        clock = ctx.clock("deferred_reply", RULE, d.at, working_days=days, stopped_at=stop)
        v.clocks.append(clock)
        if clock.late:
            due = ctx.fmt(clock.due_at)
            found.append(DEFERRED_REPLY_OVERDUE.finding(
                ctx,
                f"未能当场答复的事项应于 {due} 前按一次性告知要求答复，"
                f"{'至今未答复' if clock.status == 'red' else '答复超过期限'}。",
                f"A deferred question was to be answered completely by {due}; "
                f"{'no reply yet' if clock.status == 'red' else 'the reply came late'}.",
                due_at=clock.due_at, key=d.at.isoformat(), staff=staff_id(d.actor), duty="first_inquiry",
                department=department_at(ticket, clock.due_at)))
    return found


CLAUSES = (_event_codes, _supplement_notice, _written_notice_missing, _deferred_reply)


@hookimpl
def govhall_evaluate_ticket(ticket, ctx):
    """The ``supplement_notice`` and ``deferred_reply`` clocks and every 一次性告知 finding of one ticket."""
    if ticket.event_types.isdisjoint(_OWN) and not (ticket.kind == "application" and ticket.required_materials):
        return None  # no notice, deferral or rejection, and no supplement_notice clock
    v = _View(ticket, ctx)
    findings = clause_findings(CLAUSES, v)
    if not v.clocks and not findings:
        return None
    return RuleResult(v.clocks, findings)
