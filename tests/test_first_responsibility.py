"""Tests for the first_responsibility plugin (首问（办）负责制度): every code, its near miss, responsibility."""
from datetime import datetime

import pytest

import govhall_plugins.calendars as calendars_plugin
import govhall_plugins.first_responsibility as fr
import govhall_plugins.time_limit as time_limit_plugin
from govhall_sdk.config import build_config, default_config
from govhall_sdk.engine import Engine
from govhall_sdk.host import new_plugin_manager
from govhall_sdk.parse import ticket_from_dict

# March 2025 has no holidays: Mon 3, Tue 4, Wed 5, Thu 6, Fri 7.
MON = "2025-03-03T10:00:00+08:00"
TUE = "2025-03-04T09:00:00+08:00"
WED = "2025-03-05T09:00:00+08:00"


def at(s):
    return datetime.fromisoformat(s)


@pytest.fixture(scope="module")
def pm():
    pm = new_plugin_manager(load_entry_points=False)
    pm.register(fr, name="first_responsibility")
    pm.register(time_limit_plugin, name="time_limit")
    pm.register(calendars_plugin, name="calendars")
    return pm


@pytest.fixture(scope="module")
def engine(pm):
    return Engine(default_config(pm), pm)


@pytest.fixture(scope="module")
def engine_en(pm):
    return Engine(default_config(pm).with_lang("en"), pm)


def ticket(events=(), **kw):
    raw = {"id": "T-1", "kind": "consultation", "created_at": MON, "department": "A", "events": list(events)}
    raw.update(kw)
    return ticket_from_dict(raw)


def staff(sid, rank=1, **kw):
    return {"id": sid, "rank": rank, "role": "staff", **kw}


def ev(etype, when, actor=None, **kw):
    e = {"type": etype, "at": when, **kw}
    if actor is not None:
        e["actor"] = actor
    return e


def fr_findings(result, code=None):
    return [f for f in result.findings if f.rule == "first_responsibility" and (code is None or f.code == code)]


def codes(result):
    return {f.code for f in fr_findings(result)}


def clock(result, name):
    found = [c for c in result.clocks if c.name == name]
    return found[0] if found else None


# ------------------------------------------------------------------ registration


def test_registers_every_catalog_code_and_policy(pm):
    rules = {code: info for code, (plugin, info) in pm.rules.items() if plugin == "first_responsibility"}
    assert set(rules) == {
        "fr.first_reply_due_soon", "fr.first_reply_overdue", "fr.transfer_overdue", "fr.referral_incomplete",
        "fr.shirking", "fr.not_notified", "fr.forbidden_phrase", "fr.acceptance_notice_missing",
        "fr.lead_department_undetermined", "fr.co_department_not_urged",
    }
    policy = pm.policies["first_responsibility"][1]
    assert policy == {
        "first_inquiry_window_minutes": 5, "first_reply_working_days": 1,
        "first_reply_channels": ["web", "mail", "letter"], "transfer_working_days": 1, "shirking_moves": 3,
        "forbidden_phrases": ["不知道", "不清楚", "不归我管", "我不管", "问别人去", "少罗嗦", "下班了", "明天再来",
                              "我不是说过了吗", "你怎么还问", "自己看清楚", "你去投诉", "急什么", "没看我正忙着", "你看不懂"],
    }
    for info in rules.values():
        assert set(info.thresholds) <= set(policy)
        assert info.clause.startswith("首问（办）负责制度")
        assert info.text and info.action and info.action_en
    assert rules["fr.lead_department_undetermined"].escalation == 2
    assert rules["fr.lead_department_undetermined"].severity == "warning"
    assert rules["fr.first_reply_due_soon"].severity == "warning"
    assert rules["fr.acceptance_notice_missing"].severity == "warning"


# ------------------------------------------------------------------ first_reply


def test_first_reply_due_soon_on_the_due_day(engine):
    r = engine.evaluate(ticket(channel="web"), at(TUE))
    c = clock(r, "first_reply")
    assert c.status == "yellow" and c.due_at == at("2025-03-04T23:59:59+08:00")
    [f] = fr_findings(r, "fr.first_reply_due_soon")
    assert f.due_at == c.due_at and f.clock == "first_reply"
    assert "2025-03-04 23:59" in f.message and "网站留言" in f.message
    assert "fr.first_reply_overdue" not in codes(r)


def test_first_reply_green_on_the_day_before_the_deadline(engine):
    r = engine.evaluate(ticket(channel="web"), at("2025-03-03T18:00:00+08:00"))
    assert clock(r, "first_reply").status == "green"
    assert not codes(r) & {"fr.first_reply_due_soon", "fr.first_reply_overdue"}


def test_first_reply_overdue_when_red(engine):
    r = engine.evaluate(ticket(channel="mail"), at(WED))
    assert clock(r, "first_reply").status == "red"
    [f] = fr_findings(r, "fr.first_reply_overdue")
    assert f.severity == "violation" and f.due_at == at("2025-03-04T23:59:59+08:00")
    assert "2025-03-04 23:59" in f.message
    assert r.light == "red" and r.escalation_level >= 1


def test_first_reply_overdue_when_missed(engine):
    t = ticket([ev("reply", "2025-03-05T08:00:00+08:00", staff("s1"), body="您好")], channel="letter")
    r = engine.evaluate(t, at("2025-03-06T09:00:00+08:00"))
    assert clock(r, "first_reply").status == "missed"
    [f] = fr_findings(r, "fr.first_reply_overdue")
    assert "2025-03-05 08:00" in f.message


def test_first_reply_met_by_staff_reply_before_deadline(engine):
    t = ticket([ev("reply", "2025-03-04T20:00:00+08:00", staff("s1"), body="您好")], channel="web")
    r = engine.evaluate(t, at(WED))
    assert clock(r, "first_reply").status == "met"
    assert not codes(r) & {"fr.first_reply_due_soon", "fr.first_reply_overdue"}


def test_first_reply_not_stopped_by_applicant_system_or_internal_reply(engine):
    t = ticket([
        ev("reply", "2025-03-03T11:00:00+08:00", {"id": "a1", "role": "applicant"}, body="还没人回"),
        ev("reply", "2025-03-03T11:01:00+08:00", {"id": "bot", "role": "system"}, body="已收到"),
        ev("reply", "2025-03-03T11:02:00+08:00", staff("s1"), public=False, body="内部备注"),
    ], channel="web")
    r = engine.evaluate(t, at(WED))
    assert clock(r, "first_reply").status == "red"
    assert "fr.first_reply_overdue" in codes(r)


def test_first_reply_only_for_configured_channels(engine):
    r = engine.evaluate(ticket(channel="counter"), at(WED))
    assert clock(r, "first_reply") is None
    assert "fr.first_reply_overdue" not in codes(r)


# ------------------------------------------------------------------ transfer


def test_transfer_overdue_without_department(engine):
    r = engine.evaluate(ticket(department=None), at(WED))
    assert clock(r, "transfer").status == "red"
    [f] = fr_findings(r, "fr.transfer_overdue")
    assert f.due_at == at("2025-03-04T23:59:59+08:00") and "2025-03-04 23:59" in f.message


def test_transfer_overdue_when_first_move_was_late(engine):
    t = ticket([ev("assignment", "2025-03-05T10:00:00+08:00", from_department="A", to_department="B")], department="B")
    r = engine.evaluate(t, at("2025-03-06T09:00:00+08:00"))
    assert clock(r, "transfer").status == "missed"
    assert "fr.transfer_overdue" in codes(r)


def test_transfer_met_when_moved_the_next_working_day(engine):
    t = ticket([ev("referral", "2025-03-04T17:00:00+08:00", staff("s1"), to_department="B")], department=None)
    r = engine.evaluate(t, at(WED))
    assert clock(r, "transfer").status == "met"
    assert "fr.transfer_overdue" not in codes(r)


def test_no_transfer_clock_for_a_ticket_kept_by_its_department(engine):
    r = engine.evaluate(ticket(), at(WED))
    assert clock(r, "transfer") is None
    assert "fr.transfer_overdue" not in codes(r)


def test_transfer_without_department_is_green_on_the_first_day(engine):
    r = engine.evaluate(ticket(department=None), at("2025-03-03T18:00:00+08:00"))
    assert clock(r, "transfer").status == "green"
    assert "fr.transfer_overdue" not in codes(r)


# ------------------------------------------------------------------ referral_incomplete


def test_referral_to_staff_without_phone(engine):
    t = ticket([ev("referral", "2025-03-03T10:05:00+08:00", staff("s1"), to_department="B", to_staff="王五",
                   location="3号窗口")])
    [f] = fr_findings(engine.evaluate(t, at(TUE)), "fr.referral_incomplete")
    assert "王五 的办公电话" in f.message and "王五 的工作地点" not in f.message
    assert f.key == at("2025-03-03T10:05:00+08:00").isoformat()


def test_referral_without_department(engine):
    t = ticket([ev("referral", "2025-03-03T10:05:00+08:00", staff("s1"))])
    [f] = fr_findings(engine.evaluate(t, at(TUE)), "fr.referral_incomplete")
    assert "承办部门" in f.message


def test_referral_complete_with_location_and_phone(engine):
    t = ticket([
        ev("referral", "2025-03-03T10:05:00+08:00", staff("s1"), to_department="B", to_staff="王五",
           location="3号窗口", phone="0919-1234567"),
        ev("referral", "2025-03-03T10:06:00+08:00", staff("s1"), to_department="C"),
    ])
    assert "fr.referral_incomplete" not in codes(engine.evaluate(t, at(TUE)))


# ------------------------------------------------------------------ shirking


def moves(*pairs):
    return [ev("assignment", f"2025-03-03T1{i}:00:00+08:00", from_department=a, to_department=b)
            for i, (a, b) in enumerate(pairs)]


def test_shirking_three_moves(engine):
    t = ticket(moves(("A", "B"), ("B", "C"), ("C", "D")), department="D")
    [f] = fr_findings(engine.evaluate(t, at(TUE)), "fr.shirking")
    assert "3" in f.message and "A→B→C→D" in f.message


def test_two_moves_are_not_shirking(engine):
    t = ticket(moves(("A", "B"), ("B", "C")), department="C")
    assert "fr.shirking" not in codes(engine.evaluate(t, at(TUE)))


def test_shirking_back_to_a_department_it_had_left(engine):
    t = ticket(moves(("A", "B"), ("B", "A")), department="A")
    [f] = fr_findings(engine.evaluate(t, at(TUE)), "fr.shirking")
    assert "A→B→A" in f.message and "“A”" in f.message


def test_unknown_origin_is_not_taken_from_the_current_department(engine):
    # department is where the ticket is now (C), not where it started: ?→B→C is no return.
    t = ticket(moves((None, "B"), ("B", "C")), department="C")
    assert "fr.shirking" not in codes(engine.evaluate(t, at(TUE)))


def test_moves_within_one_department_do_not_count(engine):
    t = ticket(moves(("A", "A"), ("A", "B"), ("B", "B"), ("B", "C")), department="C")
    assert "fr.shirking" not in codes(engine.evaluate(t, at(TUE)))


def test_policy_override_of_shirking_moves(pm):
    defaults = {section: d for section, (_, d) in pm.policies.items()}
    config = build_config({"policy": {"first_responsibility": {"shirking_moves": 2}}}, defaults)
    t = ticket(moves(("A", "B"), ("B", "C")), department="C")
    assert "fr.shirking" in codes(Engine(config, pm).evaluate(t, at(TUE)))


# ------------------------------------------------------------------ not_notified


def test_not_notified_when_resolved_silently(engine):
    t = ticket([ev("reply", "2025-03-03T11:00:00+08:00", staff("s1"), public=False, body="内部")],
               status="resolved", resolved_at="2025-03-04T10:00:00+08:00")
    [f] = fr_findings(engine.evaluate(t, at(WED)), "fr.not_notified")
    assert "2025-03-04 10:00" in f.message and "办结" in f.message


def test_not_notified_when_rejected_without_notice(engine):
    t = ticket([ev("rejection", "2025-03-03T11:00:00+08:00", staff("s1"), notice_issued=False)],
               kind="application", status="rejected")
    assert "fr.not_notified" in codes(engine.evaluate(t, at(WED)))


@pytest.mark.parametrize("event", [
    ev("reply", "2025-03-03T11:00:00+08:00", staff("s1"), body="已办结"),
    ev("notice", "2025-03-03T11:00:00+08:00", staff("s1"), form="written"),
    ev("rejection", "2025-03-03T11:00:00+08:00", staff("s1"), notice_issued=True, reason="r", legal_basis="b"),
])
def test_notified_by_reply_notice_or_noticed_rejection(engine, event):
    t = ticket([event], status="closed", resolved_at="2025-03-04T10:00:00+08:00")
    assert "fr.not_notified" not in codes(engine.evaluate(t, at(WED)))


def test_open_ticket_is_not_yet_unnotified(engine):
    assert "fr.not_notified" not in codes(engine.evaluate(ticket(status="open"), at(WED)))


def test_closing_stops_the_first_reply_clock(engine):
    t = ticket(channel="web", status="resolved", resolved_at="2025-03-03T15:00:00+08:00")
    r = engine.evaluate(t, at("2025-03-10T09:00:00+08:00"))
    assert clock(r, "first_reply").status == "met" and r.light is None
    assert codes(r) == {"fr.not_notified"}


# ------------------------------------------------------------------ forbidden_phrase


def test_forbidden_phrase_one_finding_per_reply(engine):
    t = ticket([
        ev("reply", "2025-03-03T10:01:00+08:00", staff("s1", name="张三"), body="这个我不知道，问别人去"),
        ev("reply", "2025-03-03T10:02:00+08:00", staff("s1"), body="下班了，明天再来"),
        ev("reply", "2025-03-03T10:03:00+08:00", staff("s1"), body="请携带身份证到3号窗口办理"),
    ])
    found = fr_findings(engine.evaluate(t, at(TUE)), "fr.forbidden_phrase")
    assert len(found) == 2
    assert len({f.key for f in found}) == 2
    assert "“不知道”" in found[0].message and "“问别人去”" in found[0].message and "张三" in found[0].message
    assert "“下班了”" in found[1].message and "“明天再来”" in found[1].message


def test_forbidden_phrase_ignores_applicant_and_internal_replies(engine):
    t = ticket([
        ev("reply", "2025-03-03T10:01:00+08:00", {"id": "a1", "role": "applicant"}, body="你们怎么都说不知道"),
        ev("reply", "2025-03-03T10:02:00+08:00", staff("s1"), public=False, body="这人急什么"),
        ev("reply", "2025-03-03T10:03:00+08:00", staff("s1"), body="您好，已为您查询，明日可取件"),
    ])
    assert "fr.forbidden_phrase" not in codes(engine.evaluate(t, at(TUE)))


def test_phrase_pattern_is_compiled_once_per_list():
    assert fr.phrase_pattern(("甲", "乙")) is fr.phrase_pattern(("甲", "乙"))
    assert fr.phrase_pattern(()) is None
    assert fr.phrase_pattern(("我不", "我不管")).findall("我不管") == ["我不管"]


# ------------------------------------------------------------------ acceptance_notice_missing


def test_acceptance_without_notice(engine):
    t = ticket([ev("acceptance", "2025-03-03T10:05:00+08:00", staff("s1"))], kind="application")
    [f] = fr_findings(engine.evaluate(t, at(TUE)), "fr.acceptance_notice_missing")
    assert f.severity == "warning" and "受理通知书" in f.message


def test_acceptance_with_notice(engine):
    t = ticket([ev("acceptance", "2025-03-03T10:05:00+08:00", staff("s1"), notice_issued=True)], kind="application")
    assert "fr.acceptance_notice_missing" not in codes(engine.evaluate(t, at(TUE)))


# ------------------------------------------------------------------ joint items


def test_lead_department_undetermined_escalates_to_the_center(engine):
    r = engine.evaluate(ticket(co_departments=["B", "C"]), at(TUE))
    [f] = fr_findings(r, "fr.lead_department_undetermined")
    assert f.escalation == 2 and "B、C" in f.message
    assert r.escalation_level == 2


def test_lead_department_determined(engine):
    r = engine.evaluate(ticket(co_departments=["B", "C"], lead_department="A"), at(TUE))
    assert "fr.lead_department_undetermined" not in codes(r)


def joint(events=(), **kw):
    return ticket([ev("acceptance", MON, staff("s1"), notice_issued=True), *events], kind="application",
                  accepted_at=MON, promised_working_days=1, co_departments=["B"], lead_department="A", **kw)


def test_co_department_not_urged_when_completion_is_late(engine):
    r = engine.evaluate(joint(), at(WED))
    assert clock(r, "completion").status == "red"
    [f] = fr_findings(r, "fr.co_department_not_urged")
    assert f.clock == "completion" and f.due_at == at("2025-03-04T23:59:59+08:00")
    assert "2025-03-04 23:59" in f.message and "B" in f.message


def test_co_department_urged(engine):
    r = engine.evaluate(joint([ev("urge", "2025-03-04T10:00:00+08:00", staff("s1"), to_department="B")]), at(WED))
    assert "fr.co_department_not_urged" not in codes(r)


def test_co_department_not_urged_needs_a_late_completion(engine):
    r = engine.evaluate(joint(), at(TUE))
    assert clock(r, "completion").status == "yellow"
    assert "fr.co_department_not_urged" not in codes(r)


def test_not_urged_needs_co_departments(engine):
    t = ticket([], kind="application", accepted_at=MON, promised_working_days=1)
    assert "fr.co_department_not_urged" not in codes(engine.evaluate(t, at(WED)))


# ------------------------------------------------------------------ responsibility


def responsible(engine, events, kind="consultation"):
    return engine.evaluate(ticket(events, kind=kind), at(TUE)).responsible


def test_single_responder(engine):
    r = responsible(engine, [ev("reply", "2025-03-03T10:01:00+08:00", staff("s1"), body="您好")])
    assert r == {"first_inquiry": "s1", "first_handler": None}


def test_highest_rank_within_the_window(engine):
    r = responsible(engine, [
        ev("reply", "2025-03-03T10:01:00+08:00", staff("s1", rank=1), body="您好"),
        ev("deferral", "2025-03-03T10:03:00+08:00", staff("s3", rank=3), contact="139"),
        ev("notice", "2025-03-03T10:06:00+08:00", staff("s2", rank=2), form="written"),
    ])
    assert r["first_inquiry"] == "s3"


def test_rank_tie_goes_to_the_earliest(engine):
    r = responsible(engine, [
        ev("reply", "2025-03-03T10:01:00+08:00", staff("s9", rank=2), body="您好"),
        ev("reply", "2025-03-03T10:02:00+08:00", staff("s1", rank=2), body="您好"),
    ])
    assert r["first_inquiry"] == "s9"


def test_same_time_same_rank_goes_to_the_smallest_id(engine):
    r = responsible(engine, [
        ev("reply", "2025-03-03T10:01:00+08:00", staff("s2", rank=2), body="您好"),
        ev("reply", "2025-03-03T10:01:00+08:00", staff("s1", rank=2), body="您好"),
    ])
    assert r["first_inquiry"] == "s1"


def test_senior_reply_after_the_window_does_not_count(engine):
    r = responsible(engine, [
        ev("reply", "2025-03-03T10:00:00+08:00", staff("s1", rank=1), body="您好"),
        ev("reply", "2025-03-03T10:05:00+08:00", staff("s2", rank=2), body="您好"),
        ev("reply", "2025-03-03T10:06:00+08:00", staff("boss", rank=9), body="您好"),
    ])
    assert r["first_inquiry"] == "s2"


def test_applicant_system_and_internal_replies_are_ignored(engine):
    r = responsible(engine, [
        ev("reply", "2025-03-03T10:00:00+08:00", {"id": "a1", "role": "applicant", "rank": 9}, body="请问"),
        ev("reply", "2025-03-03T10:00:30+08:00", {"id": "bot", "role": "system", "rank": 9}, body="已收到"),
        ev("reply", "2025-03-03T10:01:00+08:00", staff("boss", rank=9), public=False, body="内部"),
        ev("reply", "2025-03-03T10:20:00+08:00", staff("s1", rank=1), body="您好"),
    ])
    assert r["first_inquiry"] == "s1"


def test_first_handler_for_an_application(engine):
    r = responsible(engine, [
        ev("notice", "2025-03-03T10:01:00+08:00", staff("s1"), form="written", elements=["materials"]),
        ev("assignment", "2025-03-03T10:02:00+08:00", {"id": "router", "role": "system"}, to_department="A"),
        ev("notice", "2025-03-03T10:03:00+08:00", staff("s2"), form="written", missing=["身份证"]),
        ev("acceptance", "2025-03-03T11:00:00+08:00", staff("s3"), notice_issued=True),
    ], kind="application")
    assert r == {"first_inquiry": "s1", "first_handler": "s2"}


def test_no_first_handler_for_a_consultation(engine):
    r = responsible(engine, [ev("acceptance", "2025-03-03T10:01:00+08:00", staff("s1"), notice_issued=True)])
    assert r["first_handler"] is None


def test_no_staff_no_responsible(engine):
    assert responsible(engine, []) == {"first_inquiry": None, "first_handler": None}


# ------------------------------------------------------------------ language


def test_english_messages(engine_en):
    r = engine_en.evaluate(ticket(channel="web", department=None, co_departments=["B"]), at(WED))
    msgs = {f.code: f.message for f in fr_findings(r)}
    assert set(msgs) == {"fr.first_reply_overdue", "fr.transfer_overdue", "fr.lead_department_undetermined"}
    assert "first reply by 2025-03-04 23:59" in msgs["fr.first_reply_overdue"]
    assert "2025-03-04 23:59" in msgs["fr.transfer_overdue"]
    for m in msgs.values():
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in m), m
    assert any("[govhall]" in n.body for n in r.patch.notes)
