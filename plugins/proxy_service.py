"""帮办代办制度 (help and proxy service): the ``evaluation`` and ``return_visit`` clocks and their findings.

A **proxy ticket** has a ``proxy_request``. A **special-group applicant** has
``groups`` or is ``special_age`` or older at ``now`` (the birthday counts: the
age is the number of completed years on the date of ``now`` in the policy time
zone; someone born on 29 February turns a year older on 1 March in other years).

Interpretations where ``rules.md`` is silent:

- **Resolved instant**: ``resolved_at``, else the first ``completion`` event.
- **``ps.special_group_not_offered``**: any kind of open ticket (``is_open``);
  a ``proxy_offer`` or ``proxy_request`` at any time satisfies it.
- **``ps.fee_charged``**: every ``fee`` on a proxy ticket (before or after the
  request) with ``legally_required`` false, except a fee whose ``amount`` is 0
  or less (nothing was charged); one finding per fee.
- **``ps.handover_missing``**: for the first ``proxy_request`` with ``mode`` =
  ``proxy``: the milestone is the first acceptance (``accepted_at`` or an
  ``acceptance`` event) or completion (the resolved instant) at or after the
  request, up to ``now``. A ``handover`` at or before the milestone (even one
  recorded before the request) satisfies it. No milestone yet: no finding.
- **``ps.ledger_incomplete``**: one finding naming every missing field. The
  acceptance time (``accepted_at`` or an ``acceptance`` event) is asked only of
  ``application`` tickets, once their status is ``accepted``, ``resolved`` or
  ``closed`` (other kinds have no 受理; their ledger row takes the request's
  time). The completion time is asked once the status is ``resolved`` or
  ``closed`` or ``resolved_at`` is set. The agent is the ``agent`` of any
  ``proxy_request``. Blank strings count as missing.
- **``evaluation`` clock**: a proxy ticket with a resolved instant; stopped by
  the first ``evaluation`` at or after that instant (an earlier one rates the
  service before it ended). ``ps.evaluation_missing`` when red or missed.
- **``ps.poor_evaluation``** and the **``return_visit`` clock**: only on proxy
  tickets (帮办代办制度 四 supervises the proxy service, not every ticket). Every
  evaluation with 1 <= ``rating`` <= ``poor_rating`` gives one finding and one
  ``return_visit`` clock, stopped by the first ``return_visit`` at or after it.
- **``ps.stale``**: an open proxy ticket whose last activity at or before
  ``now`` (or ``created_at``, whichever is later) has local date L, and
  ``count_working_days(L, date(now)) > stale_working_days``: the N working
  days after the day of the last activity have all passed with none, so with
  N = 3 an event on a Monday makes the ticket stale from Friday (the
  ``(N+1)``-th working day after), not on Thursday. Activity is an event by
  staff or the applicant (or with no actor recorded); events of a ``system``
  actor, govhall's own notes and writes among them, are not activity, and
  neither is an internal note carrying a govhall marker. A ``pending`` ticket
  counts as open.
- **Who answers** (``staff``, ``department``): the proxy agent (the ``agent``
  of the first ``proxy_request`` that names one), else the ticket's assignee,
  and the agent's department, else the department holding the ticket (at the
  deadline, for a clock that ran out); ``ps.fee_charged`` names the staff actor
  who charged the fee, else the agent. ``ps.special_group`` and
  ``ps.special_group_not_offered`` name the 首问责任人, else the assignee, and
  the department now.
- **``ps.spot_check``**: a proxy ticket with a resolved instant, drawn when the
  first 8 bytes of ``sha256(f"{id}:{YYYY-MM}")`` (UTF-8; the month of the
  resolved instant in the policy time zone), big-endian, divided by 2**64, are
  below ``spot_check_ratio``.
- Findings that can occur several times carry ``key`` = the event's
  ``at.isoformat()``.
"""
from __future__ import annotations

import hashlib
from datetime import date, datetime, time

from govhall_sdk import RuleInfo, RuleResult, actor_department, clause_findings, department_at, hookimpl, staff_id

RULE = "proxy_service"
S = "帮办代办制度"

_T1_2 = "一、(二)无偿服务 除法律法规明确规定必须由企业和群众缴纳的费用外，一律提供免费帮办代办服务。"
_T2 = ("二、帮办代办内容 企业和群众可向“帮办代办”窗口申请帮办代办服务。帮办是指在接受申请人咨询、协助准备齐全材料后，"
       "帮办人员带领申请人到相关窗口办理业务；代办是指申请人在准备齐全材料并完成材料交接手续后，由代办员全程代替办理，"
       "同时针对老、弱、病、残、孕等特殊群体提供“上门办”“代理办”“协助办”等服务。")
_T3_2 = ("三、(二)台账管理 建立《帮办代办工作登记台账》，详细记录事项名称、受理时间、办结时间、帮办代办员信息及申请人信息等内容。"
         "业务办结后由企业和办事群众对本次帮办代办服务进行评价，并记录归档，作为进一步提升改进帮办代办服务水平的重要参考。")
_T4 = ("四、监督考核 强化帮办代办服务的日常监督考核，建立“不定期抽查”、“随机回访”的监督制度。对存在“冷硬推拖”的工作人员，"
       "中心予以通报批评；对存在“吃拿卡要”“不作为”“慢作为”“乱作为”的工作人员，交由纪检监察部门依法依规严肃查处。")

SPECIAL_GROUP = RuleInfo(
    "ps.special_group", RULE, "info", f"{S} 二",
    text=_T2,
    action="申请人属于老、弱、病、残、孕等特殊群体：可提供“上门办”“代理办”“协助办”等服务。",
    action_en="The applicant belongs to a special group (elderly, weak, sick, disabled, pregnant): home, proxy or assisted service can be offered.",
    thresholds=("special_age",),
    accountable="the first-inquiry officer (首问责任人), else the assignee; the department holding the ticket now",
)
SPECIAL_GROUP_NOT_OFFERED = RuleInfo(
    "ps.special_group_not_offered", RULE, "warning", f"{S} 二",
    text=_T2,
    action="特殊群体申请人尚未获得帮办代办服务：请主动提供“上门办”“代理办”“协助办”等服务并记录。",
    action_en="A special-group applicant has not been offered help: offer home, proxy or assisted service and record the offer.",
    thresholds=("special_age",),
    accountable="the first-inquiry officer (首问责任人), else the assignee; the department holding the ticket now",
)
FEE_CHARGED = RuleInfo(
    "ps.fee_charged", RULE, "violation", f"{S} 一(二)",
    text=_T1_2,
    action="帮办代办服务收取了法律法规未规定的费用：立即退还并报中心。",
    action_en="A fee not required by law was charged for a help/proxy service: refund it and report to the center.",
    escalation=2,
    accountable="the staff member who charged the fee, else the proxy agent; their department",
)
HANDOVER_MISSING = RuleInfo(
    "ps.handover_missing", RULE, "violation", f"{S} 二",
    text=_T2,
    action="代办事项未办理材料交接手续：请补办交接手续，登记交接的材料清单。",
    action_en="A proxy item went ahead without a materials handover: record the handover and the list of materials.",
    accountable="the proxy agent, else the assignee; the agent's department, else the department holding the ticket",
)
LEDGER_INCOMPLETE = RuleInfo(
    "ps.ledger_incomplete", RULE, "warning", f"{S} 三(二)",
    text=_T3_2,
    action="帮办代办台账信息不全：请补录事项名称、受理时间、办结时间、帮办代办员及申请人信息。",
    action_en="The proxy-service ledger is incomplete: fill in the item name, acceptance and completion times, agent and applicant details.",
    accountable="the proxy agent, else the assignee; the agent's department, else the department holding the ticket",
)
EVALUATION_MISSING = RuleInfo(
    "ps.evaluation_missing", RULE, "warning", f"{S} 三(二)",
    text=_T3_2,
    action="帮办代办业务办结后未取得评价：请邀请企业或办事群众评价并记录归档。",
    action_en="No review was collected after the proxy service ended: ask the applicant for a review and file it.",
    clock="evaluation", thresholds=("evaluation_working_days",),
    accountable="the proxy agent, else the assignee; the agent's department, else the department holding the ticket at the deadline",
)
POOR_EVALUATION = RuleInfo(
    "ps.poor_evaluation", RULE, "warning", f"{S} 四",
    text=_T4,
    action="帮办代办服务获差评：请核查服务情况并安排回访。",
    action_en="The proxy service got a poor review: look into it and arrange a return visit.",
    thresholds=("poor_rating",),
    accountable="the proxy agent, else the assignee; the agent's department, else the department holding the ticket",
)
RETURN_VISIT_OVERDUE = RuleInfo(
    "ps.return_visit_overdue", RULE, "violation", f"{S} 四",
    text=_T4,
    action="差评后未按期回访：立即回访申请人，核实问题并整改。",
    action_en="No return visit followed a poor review in time: visit the applicant now, check the complaint and fix it.",
    clock="return_visit", thresholds=("poor_rating", "return_visit_working_days"),
    accountable="the proxy agent, else the assignee; the agent's department, else the department holding the ticket at the deadline",
)
STALE = RuleInfo(
    "ps.stale", RULE, "warning", f"{S} 四",
    text=_T4,
    action="帮办代办事项多日无进展（不作为、慢作为）：请帮办代办员说明进展并尽快推进。",
    action_en="The proxy item has shown no progress for several working days (inaction): the agent should report progress and move it on.",
    thresholds=("stale_working_days",),
    accountable="the proxy agent, else the assignee; the agent's department, else the department holding the ticket",
)
SPOT_CHECK = RuleInfo(
    "ps.spot_check", RULE, "info", f"{S} 四",
    text=_T4,
    action="本件被随机抽中：请进行抽查并回访申请人。",
    action_en="This item was drawn at random: check it and make a return visit to the applicant.",
    thresholds=("spot_check_ratio",),
    accountable="the proxy agent, else the assignee; the agent's department, else the department holding the ticket",
)
CODES = (SPECIAL_GROUP, SPECIAL_GROUP_NOT_OFFERED, FEE_CHARGED, HANDOVER_MISSING, LEDGER_INCOMPLETE,
         EVALUATION_MISSING, POOR_EVALUATION, RETURN_VISIT_OVERDUE, STALE, SPOT_CHECK)

GROUPS_ZH = {"elderly": "老年人", "disabled": "残疾人", "pregnant": "孕妇", "sick": "患病", "weak": "体弱"}
_LEDGER = (
    ("subject", "事项名称", "item name"),
    ("accepted", "受理时间", "acceptance time"),
    ("completed", "办结时间", "completion time"),
    ("agent", "帮办代办员信息", "agent"),
    ("name", "申请人姓名", "applicant name"),
    ("phone", "申请人电话", "applicant phone"),
)
_DONE = frozenset({"resolved", "closed"})
_ACCEPTED = frozenset({"accepted", "resolved", "closed"})
_TWO64 = float(2 ** 64)
GOVHALL_MARKER = "[govhall:"


@hookimpl
def govhall_register_rules(register):
    """The ten codes of 帮办代办制度."""
    for info in CODES:
        register(info)


@hookimpl
def govhall_register_policies(register):
    """The thresholds of 帮办代办制度 (see the module docstring), each with the values it accepts:
    an age of 1 to 150 years, limits of 1 to 365 working days, a poor rating of 1 to 4 (5 would make
    every review poor) and a spot-check ratio from 0 (none drawn) to 1 (all)."""
    register(RULE, {
        "special_age": 60,
        "evaluation_working_days": 5,
        "poor_rating": 2,
        "return_visit_working_days": 15,
        "stale_working_days": 3,
        "spot_check_ratio": 0.1,
    }, ranges={
        "special_age": (1, 150),
        "evaluation_working_days": (1, 365),
        "poor_rating": (1, 4),
        "return_visit_working_days": (1, 365),
        "stale_working_days": (1, 365),
        "spot_check_ratio": (0, 1),
    })


def age_on(birth, day):
    """Completed years from ``birth`` to ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def spot_check_draw(ticket_id, month):
    """The spot-check number in [0, 1) of a ticket resolved in ``month`` (``YYYY-MM``)."""
    digest = hashlib.sha256(f"{ticket_id}:{month}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _TWO64


def is_activity(event):
    """Whether an event shows someone acting on the ticket (``ps.stale``).

    Events by staff or the applicant, or with no actor recorded, are; a
    ``system`` actor's events (govhall's own notes and writes, automatic
    messages) are not, nor is an internal note carrying a govhall marker.
    """
    actor = event.actor
    if actor is not None and actor.role == "system":
        return False
    return not (event.type == "reply" and not event.public and GOVHALL_MARKER in event.body)


def _blank(value):
    return value is None or not value.strip()


class _View:
    """One ticket as the clauses read it; for a proxy ticket, from one pass over its events (``_scan``).

    ``special`` describes a special-group applicant (Chinese, English), else None.
    ``agent`` is the ``agent`` of the first ``proxy_request`` naming one; ``fees``
    the fees that count; ``resolved`` the resolved instant. ``clocks`` and
    ``next_change`` are left by the clauses that compute them.
    """

    __slots__ = (
        "ticket", "ctx", "policy", "clocks", "proxied", "special", "proxy_request", "agent", "fees",
        "handovers", "accepts", "completion", "evaluations", "visits", "resolved", "next_change",
    )

    def __init__(self, ticket, ctx, proxied):
        self.ticket = ticket
        self.ctx = ctx
        policy = self.policy = ctx.policy(RULE)
        applicant = ticket.applicant
        birth = applicant.birth_date
        age = age_on(birth, ctx.now_date) if birth is not None else None
        special_age = policy["special_age"]
        self.next_change = _turns_special(birth, age, special_age, ctx)
        self.special = _special(applicant.groups, age, special_age)
        self.proxied = proxied
        if proxied:
            self._scan(ticket, ctx)

    def _scan(self, ticket, ctx):
        """The one pass over the events of a proxy ticket."""
        self.clocks = []
        self.proxy_request = None
        self.agent = None
        self.fees = []
        handovers, evaluations, visits = self.handovers, self.evaluations, self.visits = [], [], []
        accepts = self.accepts = [ticket.accepted_at] if ticket.accepted_at is not None else []
        completion = None
        for e in ticket.events:
            t = e.type
            if t in _STEPS:  # proxy_request, fee
                _STEPS[t](self, e)
            elif t == "handover":
                handovers.append(e.at)
            elif t == "acceptance":
                accepts.append(e.at)
            elif t == "completion":
                completion = completion or e.at
            elif t == "evaluation":
                evaluations.append(e)
            elif t == "return_visit":
                visits.append(e.at)
        self.completion = completion
        self.resolved = ticket.resolved_at or completion


def _turns_special(birth, age, special_age, ctx):
    """The start of the day the applicant (``age`` now) reaches ``special_age``, when that is still to come."""
    if birth is None or age >= special_age:
        return None
    year = birth.year + special_age
    try:
        day = date(year, birth.month, birth.day)
    except ValueError:  # born on 29 February: a year older on 1 March
        day = date(year, 3, 1)
    return datetime.combine(day, time(0), ctx.tz)


def _special(groups, age, special_age):
    """Who the special-group applicant is (Chinese, English), or None when they are not one."""
    aged = age is not None and age >= special_age
    if not (groups or aged):
        return None
    who_zh = "、".join(GROUPS_ZH.get(g, g) for g in groups)
    who_en = ", ".join(groups)
    if aged:
        who_zh = f"{who_zh}、{age} 岁" if who_zh else f"{age} 岁老年人"
        who_en = f"{who_en}, aged {age}" if who_en else f"aged {age}"
    return who_zh, who_en


def _on_request(v, e):
    """A ``proxy_request``: the first one in ``proxy`` mode, and the first agent named."""
    if v.proxy_request is None and e.mode == "proxy":
        v.proxy_request = e
    if v.agent is None and e.agent is not None:
        v.agent = e.agent


def _on_fee(v, e):
    """A ``fee`` that counts: not legally required, and not of an amount of 0 or less."""
    if not e.legally_required and (e.amount is None or e.amount > 0):
        v.fees.append(e)


_STEPS = {"proxy_request": _on_request, "fee": _on_fee}


def _by_agent(v, at=None):
    """``staff``/``department`` of the agent (the assignee when none), at ``at`` or now."""
    agent = v.agent
    dept = agent.department if agent is not None and agent.department else (
        department_at(v.ticket, at) if at is not None else v.ticket.department)
    return {"staff": staff_id(agent), "duty": "assignee", "department": dept}


def _special_group(v):
    """``ps.special_group``: the applicant is in a special group."""
    if v.special is None:
        return ()
    who_zh, who_en = v.special
    return (SPECIAL_GROUP.finding(
        v.ctx, f"申请人属于特殊群体（{who_zh}），可提供“上门办”“代理办”“协助办”等服务。",
        f"The applicant is in a special group ({who_en}); home, proxy or assisted service applies.",
        duty="first_inquiry", department=v.ticket.department),)


def _special_group_not_offered(v):
    """``ps.special_group_not_offered``: an open ticket of a special-group applicant with no offer or request."""
    ticket = v.ticket
    if v.special is None or not ticket.is_open or v.proxied or "proxy_offer" in ticket.event_types:
        return ()
    who_zh, who_en = v.special
    return (SPECIAL_GROUP_NOT_OFFERED.finding(
        v.ctx, f"特殊群体申请人（{who_zh}）的事项尚未提供或登记帮办代办服务。应针对特殊群体提供“上门办”“代理办”“协助办”等服务。",
        f"The open ticket of a special-group applicant ({who_en}) shows no offer or request of help/proxy service; "
        "the clause asks for home, proxy or assisted service for such groups.",
        duty="first_inquiry", department=ticket.department),)


def _fee_charged(v):
    """``ps.fee_charged``: one per fee not required by law."""
    found = []
    agent = v.agent
    for fee in v.fees:
        amount = "" if fee.amount is None else f" {fee.amount:g}"
        found.append(FEE_CHARGED.finding(
            v.ctx, f"帮办代办事项收取了法律法规未规定的费用{amount}元。除法定费用外，帮办代办服务一律免费。",
            f"A fee{amount} not required by law was charged on a proxy item; apart from statutory fees the service is free.",
            key=fee.at.isoformat(), staff=staff_id(fee.actor) or staff_id(agent),
            department=actor_department(v.ticket, fee.actor if staff_id(fee.actor) else agent, fee.at)))
    return found


def _handover_missing(v):
    """``ps.handover_missing``: a proxy request accepted or completed with no handover before."""
    request = v.proxy_request
    if request is None:
        return ()
    r_at = request.at
    milestone = min((a for a in v.accepts if a >= r_at), default=None)
    resolved = v.resolved
    if resolved is not None and resolved >= r_at and (milestone is None or resolved < milestone):
        milestone = resolved
    if milestone is None or milestone > v.ctx.now or any(h <= milestone for h in v.handovers):
        return ()
    when = v.ctx.fmt(milestone)
    return (HANDOVER_MISSING.finding(
        v.ctx, f"代办事项在 {when} 受理或办结前未办理材料交接手续。代办须在申请人完成材料交接后由代办员全程代办。",
        f"The proxy item was accepted or completed at {when} with no materials handover before it; "
        "the clause asks for a handover before the agent acts.",
        key=r_at.isoformat(), **_by_agent(v)),)


def _ledger_incomplete(v):
    """``ps.ledger_incomplete``: one finding naming every missing field of the ledger."""
    ticket = v.ticket
    applicant = ticket.applicant
    status = ticket.status
    done = status in _DONE or ticket.resolved_at is not None
    lacking = []
    if _blank(ticket.subject):
        lacking.append(_LEDGER[0])
    if ticket.kind == "application" and (status in _ACCEPTED or done) and not v.accepts:
        lacking.append(_LEDGER[1])
    if done and v.resolved is None:
        lacking.append(_LEDGER[2])
    if v.agent is None:
        lacking.append(_LEDGER[3])
    if _blank(applicant.name):
        lacking.append(_LEDGER[4])
    if _blank(applicant.phone):
        lacking.append(_LEDGER[5])
    if not lacking:
        return ()
    return (LEDGER_INCOMPLETE.finding(
        v.ctx, f"帮办代办台账缺少：{'、'.join(x[1] for x in lacking)}。台账应详细记录事项名称、受理时间、办结时间、帮办代办员信息及申请人信息。",
        f"The proxy-service ledger lacks: {', '.join(x[2] for x in lacking)}; the clause asks for the item name, "
        "acceptance and completion times, the agent and the applicant.", **_by_agent(v)),)


def _evaluation(v):
    """The ``evaluation`` clock from the resolved instant: ``ps.evaluation_missing`` when late."""
    resolved = v.resolved
    if resolved is None:
        return ()
    ctx = v.ctx
    stop = next((e.at for e in v.evaluations if e.at >= resolved), None)
    clock = ctx.clock("evaluation", RULE, resolved, working_days=v.policy["evaluation_working_days"], stopped_at=stop)
    v.clocks.append(clock)
    if not clock.late:
        return ()
    due = ctx.fmt(clock.due_at)
    late_zh, late_en = ("至今未评价", "none yet") if clock.status == "red" else ("评价超过期限", "it came late")
    return (EVALUATION_MISSING.finding(
        ctx, f"帮办代办业务办结后应于 {due} 前由企业或办事群众评价并记录归档，{late_zh}。",
        f"After the proxy service ended, the applicant's review was due by {due}; {late_en}.",
        due_at=clock.due_at, **_by_agent(v, clock.due_at)),)


def _spot_check(v):
    """``ps.spot_check``: a resolved proxy ticket drawn at random for its month."""
    resolved = v.resolved
    if resolved is None:
        return ()
    ctx = v.ctx
    month = resolved.astimezone(ctx.tz).strftime("%Y-%m")
    if spot_check_draw(v.ticket.id, month) >= v.policy["spot_check_ratio"]:
        return ()
    return (SPOT_CHECK.finding(
        ctx, f"本件（{month} 办结）被随机抽中，请抽查并回访申请人。",
        f"This item (resolved {month}) was drawn for a spot check and a return visit.", **_by_agent(v)),)


def _poor_evaluations(v):
    """``ps.poor_evaluation`` and the ``return_visit`` clock (``ps.return_visit_overdue`` when late), per poor evaluation."""
    ctx = v.ctx
    poor = v.policy["poor_rating"]
    found = []
    for ev in v.evaluations:
        if 1 <= ev.rating <= poor:
            found.append(POOR_EVALUATION.finding(
                ctx, f"帮办代办服务评价为 {ev.rating} 分（满分 5 分），请核查并回访。",
                f"The proxy service was rated {ev.rating} of 5; look into it and visit the applicant.",
                key=ev.at.isoformat(), **_by_agent(v)))
            overdue = _return_visit(v, ev)
            if overdue is not None:
                found.append(overdue)
    return found


def _return_visit(v, ev):
    """The ``return_visit`` clock of one poor evaluation, and its ``ps.return_visit_overdue`` when late."""
    ctx = v.ctx
    stop = next((x for x in v.visits if x >= ev.at), None)
    clock = ctx.clock("return_visit", RULE, ev.at, working_days=v.policy["return_visit_working_days"], stopped_at=stop)
    v.clocks.append(clock)
    if not clock.late:
        return None
    due = ctx.fmt(clock.due_at)
    late_zh, late_en = ("至今未回访", "none yet") if clock.status == "red" else ("回访超过期限", "it came late")
    return RETURN_VISIT_OVERDUE.finding(
        ctx, f"帮办代办服务获差评（{ev.rating} 分）后应于 {due} 前回访申请人，{late_zh}。",
        f"After a poor review ({ev.rating} of 5) a return visit was due by {due}; {late_en}.",
        due_at=clock.due_at, key=ev.at.isoformat(), **_by_agent(v, clock.due_at))


def _stale(v):
    """``ps.stale``: an open proxy ticket with no activity for more than ``stale_working_days``."""
    ticket, ctx = v.ticket, v.ctx
    if not ticket.is_open:
        return ()
    n = v.policy["stale_working_days"]
    last_at = ticket.created_at
    now = ctx.now
    for e in reversed(ticket.events):  # from the end: the last activity at or before now, usually the last event
        if e.at <= now and is_activity(e):
            if e.at > last_at:
                last_at = e.at
            break
    last_date = last_at.astimezone(ctx.tz).date()
    idle = ctx.calendar.count_working_days(last_date, ctx.now_date)
    if idle <= n:  # it turns stale on the (n+1)-th working day after the last activity, if nothing happens
        stale_at = datetime.combine(ctx.calendar.add_working_days(last_date, n + 1), time(0), ctx.tz)
        v.next_change = stale_at if v.next_change is None else min(v.next_change, stale_at)
        return ()
    last = ctx.fmt(last_at)
    return (STALE.finding(
        ctx, f"帮办代办事项自 {last} 起已 {idle} 个工作日无任何进展（超过 {n} 个工作日），存在不作为、慢作为风险。",
        f"The proxy item has had no event since {last}: {idle} working days (more than {n}); "
        "the clause sanctions inaction and slow action.", **_by_agent(v),
    ),)


GROUP_CLAUSES = (_special_group, _special_group_not_offered)
CLAUSES = GROUP_CLAUSES + (_fee_charged, _handover_missing, _ledger_incomplete, _evaluation, _spot_check,
                           _poor_evaluations, _stale)


@hookimpl
def govhall_evaluate_ticket(ticket, ctx):
    """The ``evaluation`` and ``return_visit`` clocks and every 帮办代办 finding of one ticket."""
    applicant = ticket.applicant
    proxied = "proxy_request" in ticket.event_types
    if not (proxied or applicant.groups or applicant.birth_date is not None):
        return None  # the common case: nothing for this plugin
    v = _View(ticket, ctx, proxied)
    if not proxied and v.special is None:  # no clause applies; there may be an age still to reach
        return RuleResult((), [], v.next_change) if v.next_change else None
    findings = clause_findings(CLAUSES if proxied else GROUP_CLAUSES, v)
    if not proxied:
        return RuleResult((), findings, v.next_change) if findings or v.next_change else None
    return RuleResult(v.clocks, findings, v.next_change)
