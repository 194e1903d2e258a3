"""首问（办）负责制度 (first-inquiry / first-handler responsibility): who answers for a ticket and the ``fr.`` findings.

Two clocks (``tickets.md`` arithmetic, built with ``ctx.clock``):

- ``first_reply``: a ticket that came in through one of ``first_reply_channels``
  gets ``first_reply_working_days`` from ``created_at`` to the first public
  contact by staff (a public ``reply``, a ``notice``, ``deferral``, ``referral``
  or ``rejection``). Yellow gives ``fr.first_reply_due_soon``, red or missed
  ``fr.first_reply_overdue``.
- ``transfer``: ``transfer_working_days`` from ``created_at`` to the first
  ``assignment`` or ``referral``. Red or missed gives ``fr.transfer_overdue``.

How the catalog is read (decisions a reviewer should know):

- *"A ticket that was moved (assignment/referral) or has no department"*: the
  ``transfer`` clock applies when the ticket has at least one ``assignment`` or
  ``referral`` event (it is then stopped by the first one: ``met`` or
  ``missed``), or when ``department`` is empty (it then runs until the first
  move). A ticket that stayed with the department that received it needs no
  transfer and has no ``transfer`` clock.
- *Contact by staff* (what stops ``first_reply``, and what counts as notifying
  the applicant for ``fr.not_notified``): an event whose actor is staff or is
  not recorded; events of the ``applicant`` are never contact. ``system``
  actors (auto-acknowledgements) do not stop ``first_reply`` but do count as
  notifying the applicant. Findings that blame a person (``fr.forbidden_phrase``)
  and the responsibility hook need an actor with role ``staff``.
- *Closing stops both clocks*: a resolved, closed or rejected ticket that never
  had the stopping event stops its clocks at ``resolved_at`` (else the first
  ``completion`` or ``rejection``, else its last event). Its outcome is then
  ``met`` or ``missed`` for good instead of a red light on a closed ticket
  forever; the missing answer itself is ``fr.not_notified``.
- Suspensions and extensions belong to the completion clock (``限时办结制度``);
  they do not move ``first_reply`` or ``transfer``.
- *Department moves* (``fr.shirking``, as ``rules.md`` defines the path): the
  path starts at the first assignment's ``from_department`` when it names one
  (else where the ticket was is unknown until the first move); each
  ``assignment`` whose ``to_department`` differs from the department the ticket
  is in is a move and leaves that department; an assignment to where the ticket
  already is is no move, and the ``from_department`` of later assignments is not
  read (an inconsistent record adds no departure). ``ticket.department`` is
  *not* used as the origin because it is the department *now*. A return is a
  move to a department the ticket had left.
- *Who answers* (``staff``, ``department``): the staff actor of the reply,
  referral or acceptance at fault and the department they acted for; for the
  ``first_reply`` and ``transfer`` clocks the 首问责任人 or else the assignee and
  the department holding the ticket at the deadline; ``fr.shirking`` names the
  department that made the last move (the one the ticket left) and the staff
  actor who recorded that move; ``fr.not_notified`` the staff actor who closed
  the ticket (its first ``completion`` or ``rejection``), else the 首办责任人 or
  the assignee; ``fr.co_department_not_urged`` the lead department and the
  首办责任人 or the assignee; ``fr.lead_department_undetermined`` concerns the
  center and names nobody.
- ``fr.co_department_not_urged`` computes the ``completion`` clock with the
  core's ``completion_clock`` helper (no rule imports another, and the result
  does not depend on plugin call order); it is only computed for joint items
  (``co_departments`` not empty) with no ``urge``.
- ``first_handler``: the earliest handling event (``acceptance``, a ``notice``
  with ``missing`` items, ``rejection``, ``assignment``) of an ``application``
  by a staff actor; equal instants go to the higher rank, then the smaller id.
"""
from __future__ import annotations

import functools
import re
from datetime import timedelta

from govhall_sdk import (
    RuleInfo, RuleResult, actor_department, clause_findings, completion_clock, department_at, hookimpl, staff_id,
)

RULE = "first_responsibility"
S = "首问（办）负责制度"
OTN = "一次性告知工作制度"

FORBIDDEN_PHRASES = (
    "不知道", "不清楚", "不归我管", "我不管", "问别人去", "少罗嗦", "下班了", "明天再来",
    "我不是说过了吗", "你怎么还问", "自己看清楚", "你去投诉", "急什么", "没看我正忙着", "你看不懂",
)
POLICY_DEFAULTS = {
    "first_inquiry_window_minutes": 5,
    "first_reply_working_days": 1,
    "first_reply_channels": ["web", "mail", "letter"],
    "transfer_working_days": 1,
    "shirking_moves": 3,
    "forbidden_phrases": list(FORBIDDEN_PHRASES),
}
#: The values each numeric key accepts, both bounds included: a window of up to a day (0: only
#: simultaneous contacts), limits of 1 to 365 working days, and 2 to 100 moves (one move is a transfer,
#: not shirking; two are the least that can come back, A->B->A).
POLICY_RANGES = {
    "first_inquiry_window_minutes": (0, 1440),
    "first_reply_working_days": (1, 365),
    "transfer_working_days": (1, 365),
    "shirking_moves": (2, 100),
}

_T6_1 = "未及时与服务对象联系或在规定时限内应解决而未解决问题的；"
_OTN_3 = "“一次性告知”适用中心所有政务服务事项情景，包括接听答复电话咨询、解答咨询、网站留言咨询等。"

FIRST_REPLY_DUE_SOON = RuleInfo(
    "fr.first_reply_due_soon", RULE, "warning", f"{S} 第六条(一); {OTN} 第三条",
    text=f"{S}第六条(一)：{_T6_1}{OTN}第三条：{_OTN_3}",
    action="首次答复期限临近：请首问责任人尽快与服务对象联系并答复。",
    action_en="The first-reply deadline is near: the first-inquiry officer should contact and answer the applicant now.",
    clock="first_reply", thresholds=("first_reply_working_days", "first_reply_channels"),
    accountable="the first-inquiry officer (首问责任人), else the assignee; the department holding the ticket now",
)
FIRST_REPLY_OVERDUE = RuleInfo(
    "fr.first_reply_overdue", RULE, "violation", f"{S} 第六条(一); {OTN} 第三条",
    text=f"{S}第六条(一)：{_T6_1}{OTN}第三条：{_OTN_3}",
    action="已超过首次答复期限：立即答复服务对象，并向部门负责人说明原因。",
    action_en="The first-reply deadline has passed: answer the applicant now and explain the delay to the department head.",
    clock="first_reply", thresholds=("first_reply_working_days", "first_reply_channels"),
    accountable="the first-inquiry officer (首问责任人), else the assignee; the department holding the ticket at the deadline",
)
TRANSFER_OVERDUE = RuleInfo(
    "fr.transfer_overdue", RULE, "violation", f"{S} 第六条(二)",
    text="未及时将服务对象申办的事项移交给承办窗口或承办工作人员的；",
    action="请立即将事项移交（交办或转办）承办窗口或承办工作人员，并说明延误原因。",
    action_en="Hand the item over to the responsible window or officer now and explain the delay.",
    clock="transfer", thresholds=("transfer_working_days",),
    accountable="the first-inquiry officer (首问责任人), else the assignee; the department holding the ticket at the deadline",
)
REFERRAL_INCOMPLETE = RuleInfo(
    "fr.referral_incomplete", RULE, "violation", f"{S} 第三条(四)(五); {OTN} 第五条(四)",
    text="对属于本办事窗口部门职责，但不属于本人岗位职责范围内的事项，应当告知服务对象负责承办业务的工作人员姓名、"
    "具体工作地点及办公电话等（第三条(四)）；对不属于本办事窗口部门职责范围的事项，应当尽可能告知服务对象负责承办的"
    "业务办事窗口，并尽己所知给予指引和帮助（第三条(五)）。办事群众办理或咨询事项不属于工作人员职责范围的,"
    "应按照“首问负责”要求,明确告知其具体办理部门,主动协助联系（一次性告知工作制度 第五条(四)）。",
    action="转介时应告知具体承办部门；指明承办人员的，同时告知其工作地点和办公电话。",
    action_en="A referral must name the responsible department; when it names an officer, also give their office location and phone.",
    accountable="the staff member who made the referral; their department",
)
SHIRKING = RuleInfo(
    "fr.shirking", RULE, "violation", f"{S} 第六条(三)",
    text="对服务对象提出申请推脱责任的；",
    action="事项在部门间反复移交：请部门负责人确定承办部门，停止推诿。",
    action_en="The item is being passed between departments: the department head should fix who handles it.",
    thresholds=("shirking_moves",),
    accountable="the staff member who recorded the last move; the department that made the last move (the one the ticket left)",
)
NOT_NOTIFIED = RuleInfo(
    "fr.not_notified", RULE, "violation", f"{S} 第六条(四)",
    text="应当告知服务对象有关事项而没有告知的；",
    action="请将办理结果（或不予办理的理由）告知服务对象，并留存记录。",
    action_en="Tell the applicant the outcome (or why the item was refused) and keep a record of it.",
    accountable="the staff member who closed the ticket, else the first handler (首办责任人) or the assignee; the department holding the ticket now",
)
FORBIDDEN_PHRASE = RuleInfo(
    "fr.forbidden_phrase", RULE, "violation", f"{S} 第六条(五)",
    text="对服务对象态度冷漠、恶劣或使用禁忌用语,造成不良影响的。",
    action="答复中使用了禁忌用语：请部门负责人核查并进行谈话教育，必要时向服务对象致歉。",
    action_en="A reply used a forbidden phrase: the department head should review it, counsel the officer and apologise if needed.",
    thresholds=("forbidden_phrases",),
    accountable="the staff member who wrote the reply; their department",
)
ACCEPTANCE_NOTICE_MISSING = RuleInfo(
    "fr.acceptance_notice_missing", RULE, "warning", f"{S} 第三条(二)",
    text="对符合规定条件不能当场办理，但有办结时限规定的事项，应当开具受理通知书，在规定的时限内办结；",
    action="请向申请人开具受理通知书，写明办结时限。",
    action_en="Issue the acceptance notice (受理通知书) to the applicant, stating the completion deadline.",
    accountable="the staff member who recorded the acceptance; their department",
)
LEAD_DEPARTMENT_UNDETERMINED = RuleInfo(
    "fr.lead_department_undetermined", RULE, "warning", f"{S} 第五条",
    text="两个以上办事窗口部门共同办理的事项，主办办事窗口部门或者牵头办理办事窗口部门是事项的首办责任办事窗口部门；"
    "不能确定首办办事窗口部门的，由共同办理的办事窗口部门协商确定首办责任办事窗口部门；确实难以确定首办办事窗口部门"
    "或者对确定首办办事窗口部门有争议的，报由政务服务中心解决。",
    action="联办事项须确定牵头（首办责任）部门；协商不成的报政务服务中心确定，并登记备案。",
    action_en="A joint item needs a lead (first-handling) department; if the departments cannot agree, the center decides. Record it.",
    escalation=2,
    accountable="nobody: the center itself decides the lead department",
)
CO_DEPARTMENT_NOT_URGED = RuleInfo(
    "fr.co_department_not_urged", RULE, "violation", f"{S} 第四条(二)",
    text="本办事窗口部门是首办责任办事窗口部门的，应当按规定或者承诺时限完成自身的职责，同时应当告知和督促相关办事窗口部门"
    "按时办理。……因其他办事窗口部门原因影响到首办责任办事窗口部门不能按时办理的，首办责任办事窗口部门应当自行证明"
    "履行了告知和督促的责任。",
    action="联办事项已超期且无督促记录：牵头部门应立即督促协办部门并登记督促情况。",
    action_en="The joint item is late and nobody urged the co-departments: the lead department should urge them now and record it.",
    clock="completion",
    accountable="the first handler (首办责任人), else the assignee; the lead department",
)
CODES = (FIRST_REPLY_DUE_SOON, FIRST_REPLY_OVERDUE, TRANSFER_OVERDUE, REFERRAL_INCOMPLETE, SHIRKING,
         NOT_NOTIFIED, FORBIDDEN_PHRASE, ACCEPTANCE_NOTICE_MISSING, LEAD_DEPARTMENT_UNDETERMINED,
         CO_DEPARTMENT_NOT_URGED)

CONTACT_TYPES = frozenset({"reply", "notice", "deferral", "referral", "rejection"})
HANDLING_TYPES = frozenset({"acceptance", "notice", "rejection", "assignment"})
_NOT_STAFF = frozenset({"applicant", "system"})
CHANNEL_ZH = {"web": "网站留言", "mail": "邮件", "letter": "来信", "counter": "窗口", "phone": "电话", "hotline": "热线"}
CLOSED_ZH = {"resolved": "办结", "closed": "关闭", "rejected": "不予办理"}


@hookimpl
def govhall_register_rules(register):
    """The ten codes of 首问（办）负责制度."""
    for info in CODES:
        register(info)


@hookimpl
def govhall_register_policies(register):
    """The window of 第一条, the first-reply and transfer limits, the move limit and the forbidden phrases."""
    register(RULE, {k: (list(v) if isinstance(v, list) else v) for k, v in POLICY_DEFAULTS.items()},
             ranges=POLICY_RANGES)


class _Settings:
    """The policy of one configuration, turned once into what the rules use."""

    __slots__ = ("window", "reply_days", "channels", "transfer_days", "moves", "phrases", "find_phrases")

    def __init__(self, policy):
        merged = {**POLICY_DEFAULTS, **policy}
        self.window = timedelta(minutes=merged["first_inquiry_window_minutes"])
        self.reply_days = merged["first_reply_working_days"]
        self.channels = frozenset(merged["first_reply_channels"])
        self.transfer_days = merged["transfer_working_days"]
        self.moves = merged["shirking_moves"]
        self.phrases = phrase_pattern(tuple(merged["forbidden_phrases"]))
        self.find_phrases = self.phrases.findall if self.phrases is not None else _no_phrases


def _no_phrases(text):
    """The forbidden phrases found when there are none to find."""
    return ()


_SETTINGS: dict[int, tuple[object, _Settings]] = {}
_LAST: tuple[object, _Settings | None] = (None, None)  # the last configuration asked for: nearly always the one


def _settings(ctx) -> _Settings:
    """The settings of the context's configuration, computed once per configuration object."""
    global _LAST
    config = ctx.config
    last = _LAST
    if last[0] is config:
        return last[1]
    hit = _SETTINGS.get(id(config))
    if hit is None or hit[0] is not config:
        if len(_SETTINGS) > 32:
            _SETTINGS.clear()
        hit = _SETTINGS[id(config)] = (config, _Settings(ctx.policy(RULE)))
    _LAST = hit
    return hit[1]


@functools.lru_cache(maxsize=16)
def phrase_pattern(phrases: tuple[str, ...]) -> re.Pattern | None:
    """One regex matching any of the phrases (longest first), or None for an empty list."""
    words = sorted({p for p in phrases if p}, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, words))) if words else None


def _who(actor) -> str:
    if actor is None:
        return "?"
    return f"{actor.name}（{actor.id}）" if actor.name else actor.id


def _who_en(actor) -> str:
    if actor is None:
        return "?"
    return f"{actor.name} ({actor.id})" if actor.name else actor.id


class _View:
    """One ticket as the clauses read it, from one pass over its events (``_scan`` and the ``_on_*`` steps).

    ``marked`` holds the events with a code of their own and ``words`` what each used,
    in event order: staff public replies that used forbidden phrases (``words``,
    as found), referrals and acceptances (``words`` None). ``route`` is the path
    between departments once there is an assignment. ``closed_at`` is the instant
    a closed ticket stopped its clocks. ``clocks`` are left by the clauses that
    compute them.
    """

    __slots__ = (
        "ticket", "ctx", "st", "clocks", "marked", "words", "first_contact", "first_move", "first_completion",
        "first_rejection", "closer", "notified", "urged", "route", "closed_at", "last_phrase",
    )

    def __init__(self, ticket, ctx):
        self.ticket = ticket
        self.ctx = ctx
        st = self.st = _settings(ctx)
        self.clocks = []
        self.marked = []
        self.words = []               # beside marked: the phrases each used (a tuple), or None
        self.first_contact = None     # first public contact not by the applicant or a system (stops first_reply)
        self.first_move = None        # first assignment or referral (stops transfer)
        self.first_completion = None
        self.first_rejection = None
        self.closer = None            # the first completion or rejection event
        self.notified = False
        self.urged = False
        self.route = None
        self.last_phrase = None       # (actor, minute shown, phrases found, message) of the last forbidden phrase
        events = ticket.events
        _scan(self, events, st.find_phrases)
        self.closed_at = None
        if not ticket.is_open:
            self.closed_at = (ticket.resolved_at or self.first_completion or self.first_rejection
                              or (events[-1].at if events else ticket.created_at))


class _Route:
    """The path of a ticket between departments, from its assignments (see the module docstring)."""

    __slots__ = ("here", "left", "path", "moves", "returned_to", "last_move")

    def __init__(self, origin):
        self.here = origin            # the department the ticket is in, as far as the assignments tell
        self.left = set()
        self.path = [origin] if origin is not None else []
        self.moves = 0
        self.returned_to = None
        self.last_move = None         # (the assignment, the department it left)


def _scan(v, events, find_phrases):
    """The one pass over the events: replies (the most common) inline, other types by their step."""
    steps = _STEPS
    for e in events:
        t = e.type
        if t == "reply":
            actor = e.actor
            role = actor.role if actor is not None else None
            if not e.public or role == "applicant":
                continue
            v.notified = True
            if v.first_contact is None and role != "system":
                v.first_contact = e.at
            if role == "staff" and e.body:
                words = find_phrases(e.body)
                if words:
                    v.marked.append(e)
                    v.words.append(tuple(words))  # a tuple of strings leaves the collector's watch
        elif t in CONTACT_TYPES:
            _on_contact(v, e, t)
        else:
            step = steps.get(t)
            if step is not None:
                step(v, e)


def _on_contact(v, e, t):
    """A contact other than a reply: who was notified, the first contact by staff, the referrals to check."""
    if t == "notice":
        v.notified = True
    elif t == "rejection":
        _on_rejection(v, e)
    elif t == "referral":
        _on_referral(v, e)
    actor = e.actor
    if v.first_contact is None and (actor is None or actor.role not in _NOT_STAFF):
        v.first_contact = e.at


def _on_rejection(v, e):
    """A rejection: the first one may close the ticket; with its notice it notifies the applicant."""
    if v.first_rejection is None:
        v.first_rejection = e.at
        v.closer = v.closer or e
    if e.notice_issued:
        v.notified = True


def _on_referral(v, e):
    """A referral: it may be the first move, and it is checked for what it told."""
    if v.first_move is None:
        v.first_move = e.at
    v.marked.append(e)
    v.words.append(None)


def _on_assignment(v, e):
    """An assignment: the first move, and the path between departments (see the module docstring)."""
    if v.first_move is None:
        v.first_move = e.at
    route = v.route
    if route is None:
        route = v.route = _Route(e.from_department or None)
    to = e.to_department
    here = route.here
    if not to or to == here:
        return
    if here is not None:
        route.left.add(here)
    route.moves += 1
    route.last_move = (e, here)
    if route.returned_to is None and to in route.left:
        route.returned_to = to
    route.path.append(to)
    route.here = to


def _on_urge(v, e):
    """An urge of the co-departments."""
    v.urged = True


def _on_completion(v, e):
    """A completion: the first one may close the ticket."""
    if v.first_completion is None:
        v.first_completion = e.at
        v.closer = v.closer or e


def _on_acceptance(v, e):
    """An acceptance: checked for its acceptance notice."""
    v.marked.append(e)
    v.words.append(None)


_STEPS = {"assignment": _on_assignment, "acceptance": _on_acceptance, "urge": _on_urge, "completion": _on_completion}


@functools.lru_cache(maxsize=256)
def _quoted(found):
    """The distinct phrases of a reply, quoted, in Chinese and in English (replies repeat the same phrases)."""
    words = list(dict.fromkeys(found))
    return "、".join(f"“{w}”" for w in words), ", ".join(f"“{w}”" for w in words)


@functools.lru_cache(maxsize=1024)
def _phrase_message(lang, actor, when, found):
    """The message of ``fr.forbidden_phrase`` in ``lang`` (the same officer, minute and phrases come again)."""
    zh_words, en_words = _quoted(found)
    if lang == "en":
        return (f"Officer {_who_en(actor)} used the forbidden phrase {en_words} in a public reply at {when}. "
                "The first-responsibility rules forbid cold or rude answers and forbidden phrases.")
    return (f"工作人员 {_who(actor)} 于 {when} 的公开答复使用了禁忌用语{zh_words}。"
            "首问（办）负责制度禁止对服务对象态度冷漠、恶劣或使用禁忌用语。")


def _forbidden_phrase(v, e, found):
    """``fr.forbidden_phrase``: a staff public reply using forbidden phrases (``found`` by the pass).

    The message of the reply before is kept on the view: a long ticket's replies come again from the same
    officer, minute and phrases.
    """
    ctx, actor = v.ctx, e.actor
    when = ctx.fmt(e.at)
    last = v.last_phrase
    if last is not None and last[0] is actor and last[1] == when and last[2] == found:
        message = last[3]
    else:
        message = _phrase_message(ctx.lang, actor, when, found)
        v.last_phrase = (actor, when, found, message)
    return FORBIDDEN_PHRASE.finding(
        ctx, message, message,
        key=ctx.iso(e.at), staff=actor.id, department=actor_department(v.ticket, actor, e.at))


def _acceptance_notice_missing(v, e, words):
    """``fr.acceptance_notice_missing``: an acceptance without its acceptance notice."""
    if e.notice_issued:
        return None
    ctx = v.ctx
    when = ctx.fmt(e.at)
    return ACCEPTANCE_NOTICE_MISSING.finding(
        ctx,
        f"{when} 受理时未开具受理通知书。首问（办）负责制度要求对不能当场办理的事项开具受理通知书，并在规定时限内办结。",
        f"The item was accepted at {when} without an acceptance notice (受理通知书). The rules require one, "
        "stating the deadline, for any item not completed on the spot.",
        key=e.at.isoformat(), staff=staff_id(e.actor), department=actor_department(v.ticket, e.actor, e.at))


def _referral_incomplete(v, e, words):
    """``fr.referral_incomplete``: a referral lacking the department, or the officer's location and phone."""
    missing_zh, missing_en = [], []
    if not e.to_department:
        missing_zh.append("承办部门")
        missing_en.append("the responsible department")
    if e.to_staff:
        if not e.location:
            missing_zh.append(f"承办人员 {e.to_staff} 的工作地点")
            missing_en.append(f"the office location of {e.to_staff}")
        if not e.phone:
            missing_zh.append(f"承办人员 {e.to_staff} 的办公电话")
            missing_en.append(f"the office phone of {e.to_staff}")
    if not missing_zh:
        return None
    ctx = v.ctx
    when = ctx.fmt(e.at)
    return REFERRAL_INCOMPLETE.finding(
        ctx,
        f"{when} 的转介未告知服务对象{'、'.join(missing_zh)}。首问（办）负责制度要求明确告知具体承办部门，"
        "以及承办人员的姓名、工作地点和办公电话。",
        f"The referral at {when} did not give the applicant {' or '.join(missing_en)}. The rules require naming "
        "the responsible department and, for an officer, their name, office location and phone.",
        key=e.at.isoformat(), staff=staff_id(e.actor), department=actor_department(v.ticket, e.actor, e.at))


EVENT_CLAUSES = {"reply": _forbidden_phrase, "referral": _referral_incomplete, "acceptance": _acceptance_notice_missing}


def _event_codes(v):
    """The codes of single replies, referrals and acceptances, in event order."""
    found = []
    for e, words in zip(v.marked, v.words):
        finding = EVENT_CLAUSES[e.type](v, e, words)
        if finding is not None:
            found.append(finding)
    return found


def _held(ticket, due_at):
    """The duty holder of a first-inquiry clock that ran out, and the department holding the ticket then."""
    return {"duty": "first_inquiry", "department": department_at(ticket, due_at)}


def _first_reply_finding(ticket, ctx, clock, first_contact):
    """``fr.first_reply_overdue`` (red or missed) or ``fr.first_reply_due_soon`` (yellow) of a ``first_reply`` clock."""
    due = ctx.fmt(clock.due_at)
    created = ctx.fmt(ticket.created_at)
    ch_zh = CHANNEL_ZH.get(ticket.channel, ticket.channel)
    asks_zh = "首问（办）负责制度要求首问责任人及时与服务对象联系并答复。"
    asks_en = "The first-inquiry officer must contact and answer the applicant in time."
    if clock.status == "red":
        return FIRST_REPLY_OVERDUE.finding(
            ctx, f"{ch_zh}件 {created} 登记，首次答复期限 {due} 已过，至今未答复服务对象。{asks_zh}",
            f"The {ticket.channel} ticket registered {created} was due a first reply by {due} and has none yet. {asks_en}",
            due_at=clock.due_at, **_held(ticket, clock.due_at))
    if clock.status == "missed":
        if first_contact is not None and clock.stopped_at == first_contact:
            zh = f"{ch_zh}件 {created} 登记，首次答复期限 {due}，实际于 {ctx.fmt(first_contact)} 才首次答复。"
            en = f"The {ticket.channel} ticket registered {created} was due a first reply by {due}; the first reply came at {ctx.fmt(first_contact)}."
        else:
            zh = f"{ch_zh}件 {created} 登记，首次答复期限 {due}，至 {ctx.fmt(clock.stopped_at)} 结束时仍未答复服务对象。"
            en = f"The {ticket.channel} ticket registered {created} was due a first reply by {due} and was closed at {ctx.fmt(clock.stopped_at)} without one."
        return FIRST_REPLY_OVERDUE.finding(ctx, zh + asks_zh, en + " " + asks_en, due_at=clock.due_at,
                                           **_held(ticket, clock.due_at))
    if clock.status == "yellow":
        return FIRST_REPLY_DUE_SOON.finding(
            ctx, f"{ch_zh}件 {created} 登记，首次答复期限 {due} 临近，尚未答复服务对象。{asks_zh}",
            f"The {ticket.channel} ticket registered {created} is due a first reply by {due} and has none yet. {asks_en}",
            due_at=clock.due_at, duty="first_inquiry", department=ticket.department)
    return None


def _transfer_finding(ticket, ctx, clock, first_move):
    """``fr.transfer_overdue`` of a late ``transfer`` clock."""
    due = ctx.fmt(clock.due_at)
    asks_zh = "首问（办）负责制度要求及时将事项移交承办窗口或承办工作人员。"
    asks_en = "The rules require handing the item over to the responsible window or officer in time."
    if clock.status == "red":
        created = ctx.fmt(ticket.created_at)
        if ticket.department:
            zh = f"事项 {created} 登记，应于 {due} 前移交（交办或转介）承办部门，至今未移交。"
            en = f"The item registered {created} was due to be handed over by {due}; it has not been."
        else:
            zh = f"事项 {created} 登记，未确定承办部门，应于 {due} 前移交（交办或转介），至今未移交。"
            en = f"The item registered {created} has no department and was due to be handed over by {due}; it has not been."
    elif first_move is not None and clock.stopped_at == first_move:
        zh = f"事项应于 {due} 前移交承办部门，实际于 {ctx.fmt(first_move)} 才首次移交。"
        en = f"The item was due to be handed over by {due}; the first hand-over came at {ctx.fmt(first_move)}."
    else:
        zh = f"事项应于 {due} 前移交承办部门，至 {ctx.fmt(clock.stopped_at)} 结束时仍未移交。"
        en = f"The item was due to be handed over by {due} and was closed at {ctx.fmt(clock.stopped_at)} without one."
    return TRANSFER_OVERDUE.finding(ctx, zh + asks_zh, en + " " + asks_en, due_at=clock.due_at,
                                    **_held(ticket, clock.due_at))


_FIRST_REPLY_FINDS = frozenset({"red", "missed", "yellow"})


def _first_reply(v):
    """The ``first_reply`` clock: ``fr.first_reply_overdue`` when late, ``fr.first_reply_due_soon`` when yellow."""
    ticket, ctx = v.ticket, v.ctx
    if ticket.channel not in v.st.channels:
        return ()
    clock = ctx.clock("first_reply", RULE, ticket.created_at, working_days=v.st.reply_days,
                      stopped_at=v.first_contact or v.closed_at)
    v.clocks.append(clock)
    if clock.status not in _FIRST_REPLY_FINDS:
        return ()
    finding = _first_reply_finding(ticket, ctx, clock, v.first_contact)
    return (finding,) if finding is not None else ()


def _transfer(v):
    """The ``transfer`` clock of a moved ticket or one without a department: ``fr.transfer_overdue`` when late."""
    ticket, ctx = v.ticket, v.ctx
    if v.first_move is None and ticket.department:
        return ()
    clock = ctx.clock("transfer", RULE, ticket.created_at, working_days=v.st.transfer_days,
                      stopped_at=v.first_move or v.closed_at)
    v.clocks.append(clock)
    if not clock.late:
        return ()
    return (_transfer_finding(ticket, ctx, clock, v.first_move),)


def _shirking(v):
    """``fr.shirking``: ``shirking_moves`` moves between departments, or a return to one the ticket had left."""
    path = v.route
    if path is None:
        return ()
    moves, limit, returned_to = path.moves, v.st.moves, path.returned_to
    if moves < limit and returned_to is None:
        return ()
    route = "→".join(path.path)
    move, origin = path.last_move
    if returned_to is not None:
        zh = f"事项在部门间移交 {moves} 次（{route}），又被移回已移出的部门“{returned_to}”。"
        en = f"The item moved between departments {moves} times ({route}) and came back to {returned_to}, which had passed it on."
    else:
        zh = f"事项在部门间移交 {moves} 次（{route}），达到 {limit} 次的推诿认定标准。"
        en = f"The item moved between departments {moves} times ({route}), at or above the limit of {limit}."
    return (SHIRKING.finding(
        v.ctx, zh + "首问（办）负责制度禁止对服务对象的申请推脱责任。",
        en + " The rules forbid passing the applicant's request on to avoid responsibility.",
        staff=staff_id(move.actor), department=origin or (move.actor.department if move.actor else None)),)


def _not_notified(v):
    """``fr.not_notified``: a closed ticket with no reply, notice or notice of refusal to the applicant."""
    ticket = v.ticket
    if v.notified or ticket.is_open:
        return ()
    state = ticket.status if ticket.status in CLOSED_ZH else "resolved"
    when = v.ctx.fmt(v.closed_at)
    closer = v.closer
    return (NOT_NOTIFIED.finding(
        v.ctx,
        f"事项已{CLOSED_ZH[state]}（{when}），但没有向服务对象答复、告知或出具不予受理（登记）通知书的记录。"
        "首问（办）负责制度要求将有关事项告知服务对象。",
        f"The ticket was {state} ({when}) with no public reply, notice or notice of refusal to the applicant. "
        "The rules require the applicant to be told.",
        staff=staff_id(closer.actor) if closer is not None else None, duty="first_handler",
        department=ticket.department,
    ),)


def _lead_department_undetermined(v):
    """``fr.lead_department_undetermined``: a joint item without a lead department."""
    ticket = v.ticket
    if not ticket.co_departments or ticket.lead_department:
        return ()
    co_zh = "、".join(ticket.co_departments)
    co_en = ", ".join(ticket.co_departments)
    return (LEAD_DEPARTMENT_UNDETERMINED.finding(
        v.ctx,
        f"联办事项（协办部门：{co_zh}）未确定牵头（首办责任）部门。首问（办）负责制度要求由共同办理的部门协商确定，"
        "难以确定或有争议的报政务服务中心解决。",
        f"The joint item (co-departments: {co_en}) has no lead department. The departments must agree on one; "
        "if they cannot, the center decides."),)  # the center's own decision: names nobody


def _co_department_not_urged(v):
    """``fr.co_department_not_urged``: a late joint item (the core's ``completion`` clock) with no ``urge``."""
    ticket, ctx = v.ticket, v.ctx
    if not ticket.co_departments or v.urged:
        return ()
    completion = completion_clock(ticket, ctx)
    if completion is None or not completion.late:
        return ()
    co_zh = "、".join(ticket.co_departments)
    co_en = ", ".join(ticket.co_departments)
    due = ctx.fmt(completion.due_at)
    lead = ticket.lead_department or ticket.department or "牵头部门"
    lead_en = ticket.lead_department or ticket.department or "the lead department"
    return (CO_DEPARTMENT_NOT_URGED.finding(
        ctx,
        f"联办事项的办结期限 {due} 已过，{lead} 没有督促协办部门（{co_zh}）的记录。首问（办）负责制度要求首办责任部门"
        "告知并督促协办部门按时办理，并自行证明已履行督促责任。",
        f"The joint item was due {due} and is late, and {lead_en} has no record of urging the co-departments "
        f"({co_en}). The lead department must urge them to act in time and be able to prove it did.",
        clock="completion", due_at=completion.due_at, duty="first_handler",
        department=ticket.lead_department or department_at(ticket, completion.due_at)),)


CLAUSES = (_event_codes, _first_reply, _transfer, _shirking, _not_notified, _lead_department_undetermined,
           _co_department_not_urged)


@hookimpl
def govhall_evaluate_ticket(ticket, ctx):
    """The ``first_reply`` and ``transfer`` clocks and every 首问（办）负责 finding of one ticket."""
    v = _View(ticket, ctx)
    findings = clause_findings(CLAUSES, v)
    return RuleResult(v.clocks, findings)


@hookimpl
def govhall_responsibility(ticket, ctx):
    """首问责任人 and (for applications) 首办责任人, per 第一条.

    ``first_inquiry``: among the staff public contacts within the window of the
    earliest one, the highest rank; equal rank, the earliest; then the smallest id.
    ``first_handler``: the staff actor of the earliest handling event of an
    ``application``; equal instants, the higher rank, then the smallest id.
    Relies on ``ticket.events`` being in time order (the model's contract).
    """
    window = _settings(ctx).window
    application = ticket.kind == "application"
    best = None           # (-rank, at, id) of the best first contact so far
    limit = None          # the end of the window after the earliest staff contact
    handler = None        # (at, -rank, id) of the first handling event so far
    for e in ticket.events:  # in time order: stop once neither answer can change
        at = e.at
        if limit is not None and at > limit and _handler_settled(application, handler, at):
            break
        actor = e.actor
        if actor is None or actor.role != "staff":
            continue
        t = e.type
        if t in CONTACT_TYPES and (t != "reply" or e.public):
            if limit is None:
                limit = at + window
            if at <= limit:
                best = _least(best, (-actor.rank, at, actor.id))
        if application:
            handler = _first_handling(handler, e, t, actor)
    return {"first_inquiry": _actor_id(best), "first_handler": _actor_id(handler)}


def _handler_settled(application, handler, at):
    """Whether the first handler can no longer change at ``at`` (there is none to find but for applications)."""
    return not application or (handler is not None and at > handler[0])


def _least(key, other):
    """The smaller of two sort keys, ``key`` being None when there is none yet."""
    return other if key is None or other < key else key


def _first_handling(handler, e, t, actor):
    """The key of the first handling event so far, with this staff event considered."""
    if t in HANDLING_TYPES and (t != "notice" or e.missing):
        return _least(handler, (e.at, -actor.rank, actor.id))
    return handler


def _actor_id(key):
    """The actor id at the end of a sort key, or None."""
    return key[2] if key else None
