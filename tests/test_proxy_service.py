"""Tests for the proxy_service plugin (帮办代办制度)."""
import hashlib
from datetime import date, datetime

import pytest

import govhall_plugins.calendars as calendars_plugin
import govhall_plugins.proxy_service as ps
from govhall_sdk.config import build_config, default_config
from govhall_sdk.engine import Engine
from govhall_sdk.host import new_plugin_manager
from govhall_sdk.parse import ticket_from_dict

STAFF = {"id": "s1", "name": "李", "role": "staff"}
AGENT = {"id": "ag1", "name": "代办员张", "role": "staff"}
APPLICANT = {"id": "a1", "name": "赵", "phone": "13800000000", "birth_date": "1980-05-01"}


def at(text):
    """'2025-02-07 10:00' -> an ISO instant in Beijing time."""
    return text.replace(" ", "T") + ":00+08:00"


def ev(type_, when, **kw):
    e = {"type": type_, "at": at(when), "actor": STAFF}
    e.update(kw)
    return e


def ticket(**kw):
    raw = {"id": "P-1", "kind": "application", "subject": "营业执照变更", "status": "open",
           "created_at": at("2025-03-03 09:00"), "applicant": APPLICANT}
    raw.update(kw)
    return ticket_from_dict(raw)


REQUEST = ev("proxy_request", "2025-03-03 09:10", mode="help", agent=AGENT)


def proxy(*events, **kw):
    """A proxy ticket with a complete ledger; extra events after the request."""
    return ticket(events=[REQUEST, *events], **kw)


def resolved_proxy(resolved, *events, **kw):
    return proxy(*events, status="resolved", accepted_at=at("2025-01-20 10:00"), resolved_at=at(resolved),
                 created_at=at("2025-01-20 09:00"), **kw)


@pytest.fixture(scope="module")
def pm():
    pm = new_plugin_manager(load_entry_points=False)
    pm.register(ps, name="proxy_service")
    pm.register(calendars_plugin, name="calendars")
    return pm


@pytest.fixture(scope="module")
def engine(pm):
    return Engine(default_config(pm), pm)


def engine_with(pm, **policy):
    defaults = {section: d for section, (_, d) in pm.policies.items()}
    return Engine(build_config({"policy": {"proxy_service": policy}}, defaults), pm)


def run(engine, t, now):
    return engine.evaluate(t, datetime.fromisoformat(at(now)))


def codes(result):
    return sorted(f.code for f in result.findings)


def only(result, code):
    found = [f for f in result.findings if f.code == code]
    assert len(found) == 1, result.findings
    return found[0]


def clock(result, name):
    found = [c for c in result.clocks if c.name == name]
    assert len(found) == 1, result.clocks
    return found[0]


# --- registration -------------------------------------------------------------------------


def test_registers_every_catalog_code_and_policy(pm):
    assert set(pm.rules) == {
        "ps.special_group", "ps.special_group_not_offered", "ps.fee_charged", "ps.handover_missing",
        "ps.ledger_incomplete", "ps.evaluation_missing", "ps.poor_evaluation", "ps.return_visit_overdue",
        "ps.stale", "ps.spot_check",
    }
    defaults = pm.policies["proxy_service"][1]
    assert defaults == {"special_age": 60, "evaluation_working_days": 5, "poor_rating": 2,
                        "return_visit_working_days": 15, "stale_working_days": 3, "spot_check_ratio": 0.1}
    for _, info in pm.rules.values():
        assert info.clause.startswith("帮办代办制度")
        assert info.text and info.action and info.action_en
        assert set(info.thresholds) <= set(defaults)
    assert pm.rules["ps.fee_charged"][1].escalation == 2
    assert pm.rules["ps.evaluation_missing"][1].clock == "evaluation"
    assert pm.rules["ps.return_visit_overdue"][1].clock == "return_visit"


def test_plain_ticket_gives_nothing(engine):
    r = run(engine, ticket(applicant={"name": "赵"}), "2025-03-10 09:00")
    assert r.findings == [] and r.clocks == []


def test_complete_proxy_ticket_gives_nothing(engine):
    assert codes(run(engine, proxy(), "2025-03-04 09:00")) == []


# --- special groups ---------------------------------------------------------------------------


def test_special_group_by_groups(engine):
    t = ticket(applicant={**APPLICANT, "groups": ["disabled"]})
    r = run(engine, t, "2025-03-04 09:00")
    assert codes(r) == ["ps.special_group", "ps.special_group_not_offered"]
    assert only(r, "ps.special_group").severity == "info"
    assert "残疾人" in only(r, "ps.special_group").message


@pytest.mark.parametrize("birth, special", [
    ("1965-03-10", True),   # 60 on the day of now
    ("1965-03-11", False),  # 59: turns 60 tomorrow
    ("1940-01-01", True),
    ("1990-01-01", False),
])
def test_special_group_by_age(engine, birth, special):
    t = ticket(applicant={**APPLICANT, "birth_date": birth})
    r = run(engine, t, "2025-03-10 09:00")
    assert ("ps.special_group" in codes(r)) is special
    assert ("ps.special_group_not_offered" in codes(r)) is special


def test_age_uses_the_policy_timezone_date():
    # 2025-03-09T20:00Z is already 10 March in Beijing: the birthday has come.
    pm = new_plugin_manager(load_entry_points=False)
    pm.register(ps, name="proxy_service")
    pm.register(calendars_plugin, name="calendars")
    r = Engine(default_config(pm), pm).evaluate(
        ticket(applicant={**APPLICANT, "birth_date": "1965-03-10"}), datetime.fromisoformat("2025-03-09T20:00:00+00:00"))
    assert "ps.special_group" in codes(r)
    assert "60" in only(r, "ps.special_group").message


def test_special_age_policy_override(pm):
    t = ticket(applicant={**APPLICANT, "birth_date": "1965-03-10"})
    assert "ps.special_group" not in codes(run(engine_with(pm, special_age=65), t, "2025-03-10 09:00"))
    older = ticket(applicant={**APPLICANT, "birth_date": "1960-03-10"})
    assert "ps.special_group" in codes(run(engine_with(pm, special_age=65), older, "2025-03-10 09:00"))


@pytest.mark.parametrize("extra", [
    {"events": [ev("proxy_offer", "2025-03-03 09:05", mode="home")]},
    {"events": [REQUEST]},
    {"status": "closed"},
    {"resolved_at": at("2025-03-04 10:00"), "status": "resolved"},
])
def test_special_group_offered_or_closed(engine, extra):
    t = ticket(applicant={**APPLICANT, "groups": ["elderly"]}, **extra)
    r = run(engine, t, "2025-03-05 09:00")
    assert "ps.special_group" in codes(r)
    assert "ps.special_group_not_offered" not in codes(r)


# --- fees -------------------------------------------------------------------------------------


def test_fee_not_required_by_law(engine):
    t = proxy(ev("fee", "2025-03-03 10:00", amount=50, legally_required=False),
              ev("fee", "2025-03-03 11:00", amount=20, legally_required=False))
    r = run(engine, t, "2025-03-04 09:00")
    fees = [f for f in r.findings if f.code == "ps.fee_charged"]
    assert len(fees) == 2 and fees[0].escalation == 2 and fees[0].severity == "violation"
    assert fees[0].key != fees[1].key and len(r.patch.notes) == 2
    assert r.escalation_level == 2
    assert "50" in fees[0].message


@pytest.mark.parametrize("fee, proxied", [
    (ev("fee", "2025-03-03 10:00", amount=50, legally_required=True), True),
    (ev("fee", "2025-03-03 10:00", amount=0, legally_required=False), True),
    (ev("fee", "2025-03-03 10:00", amount=50, legally_required=False), False),
])
def test_fee_near_misses(engine, fee, proxied):
    t = proxy(fee) if proxied else ticket(events=[fee])
    assert "ps.fee_charged" not in codes(run(engine, t, "2025-03-04 09:00"))


# --- handover ---------------------------------------------------------------------------------

PROXY_REQUEST = ev("proxy_request", "2025-03-03 09:10", mode="proxy", agent=AGENT)


def test_proxy_accepted_without_handover(engine):
    t = ticket(status="accepted", events=[PROXY_REQUEST, ev("acceptance", "2025-03-03 15:00", notice_issued=True)])
    r = run(engine, t, "2025-03-04 09:00")
    f = only(r, "ps.handover_missing")
    assert f.severity == "violation" and "2025-03-03 15:00" in f.message


def test_proxy_completed_without_handover(engine):
    t = ticket(kind="complaint", status="resolved", resolved_at=at("2025-03-04 15:00"), events=[PROXY_REQUEST])
    assert "ps.handover_missing" in codes(run(engine, t, "2025-03-05 09:00"))


@pytest.mark.parametrize("events", [
    [PROXY_REQUEST, ev("handover", "2025-03-03 10:00", items=["身份证"]), ev("acceptance", "2025-03-03 15:00")],
    [PROXY_REQUEST, ev("handover", "2025-03-03 15:00", items=["身份证"]), ev("acceptance", "2025-03-03 15:00")],
    [PROXY_REQUEST],  # not yet accepted or completed: still time
    [REQUEST, ev("acceptance", "2025-03-03 15:00")],  # 帮办 (help), not 代办
    [PROXY_REQUEST, ev("acceptance", "2025-03-05 15:00")],  # acceptance after now
])
def test_handover_near_misses(engine, events):
    t = ticket(status="accepted", events=events)
    assert "ps.handover_missing" not in codes(run(engine, t, "2025-03-04 09:00"))


def test_acceptance_before_the_proxy_request_is_not_the_milestone(engine):
    t = ticket(status="accepted", accepted_at=at("2025-03-03 08:00"), events=[PROXY_REQUEST])
    assert "ps.handover_missing" not in codes(run(engine, t, "2025-03-04 09:00"))


# --- ledger -----------------------------------------------------------------------------------


def test_ledger_lacking_fields(engine):
    t = ticket(subject=None, applicant={"name": "赵"},
               events=[ev("proxy_request", "2025-03-03 09:10", mode="help")])
    r = run(engine, t, "2025-03-04 09:00")
    f = only(r, "ps.ledger_incomplete")
    assert f.severity == "warning"
    for item in ("事项名称", "帮办代办员信息", "申请人电话"):
        assert item in f.message
    listed = f.message.split("。")[0]
    assert "申请人姓名" not in listed and "受理时间" not in listed


def test_ledger_acceptance_and_completion_times_once_due(engine):
    accepted = proxy(status="accepted")
    assert "受理时间" in only(run(engine, accepted, "2025-03-04 09:00"), "ps.ledger_incomplete").message
    closed = proxy(status="closed", accepted_at=at("2025-03-03 10:00"))
    assert "办结时间" in only(run(engine, closed, "2025-03-04 09:00"), "ps.ledger_incomplete").message
    with_events = proxy(ev("acceptance", "2025-03-03 10:00"), ev("completion", "2025-03-04 10:00"), status="closed")
    assert "ps.ledger_incomplete" not in codes(run(engine, with_events, "2025-03-05 09:00"))
    consult = proxy(kind="consultation", status="resolved", resolved_at=at("2025-03-03 11:00"))
    assert "ps.ledger_incomplete" not in codes(run(engine, consult, "2025-03-04 09:00"))


# --- evaluation clock ---------------------------------------------------------------------------


def test_evaluation_clock_crosses_spring_festival(engine):
    r = run(engine, resolved_proxy("2025-01-24 10:00"), "2025-02-05 09:00")
    c = clock(r, "evaluation")
    assert c.due_date == date(2025, 2, 7) and c.due_at.isoformat() == "2025-02-07T23:59:59+08:00"
    assert c.status == "green" and "ps.evaluation_missing" not in codes(r)
    yellow = run(engine, resolved_proxy("2025-01-24 10:00"), "2025-02-07 12:00")
    assert clock(yellow, "evaluation").status == "yellow" and yellow.light == "yellow"
    assert "ps.evaluation_missing" not in codes(yellow)


def test_evaluation_missing_when_red(engine):
    r = run(engine, resolved_proxy("2025-01-24 10:00"), "2025-02-08 00:01")
    assert clock(r, "evaluation").status == "red"
    f = only(r, "ps.evaluation_missing")
    assert f.severity == "warning" and f.clock == "evaluation"
    assert f.due_at.isoformat() == "2025-02-07T23:59:59+08:00" and "2025-02-07 23:59" in f.message


def test_evaluation_in_time_or_late(engine):
    good = resolved_proxy("2025-01-24 10:00", ev("evaluation", "2025-02-07 18:00", rating=5, actor=None))
    r = run(engine, good, "2025-03-01 09:00")
    assert clock(r, "evaluation").status == "met" and "ps.evaluation_missing" not in codes(r)
    late = resolved_proxy("2025-01-24 10:00", ev("evaluation", "2025-02-10 09:00", rating=5, actor=None))
    r = run(engine, late, "2025-03-01 09:00")
    assert clock(r, "evaluation").status == "missed" and "ps.evaluation_missing" in codes(r)


def test_evaluation_clock_from_completion_event_and_policy(pm, engine):
    t = proxy(ev("acceptance", "2025-03-03 10:00"), ev("completion", "2025-03-03 16:00"), status="closed")
    assert clock(run(engine, t, "2025-03-04 09:00"), "evaluation").due_date == date(2025, 3, 10)
    r = run(engine_with(pm, evaluation_working_days=2), t, "2025-03-06 09:00")
    assert clock(r, "evaluation").due_date == date(2025, 3, 5) and "ps.evaluation_missing" in codes(r)


def test_no_evaluation_clock_while_unresolved(engine):
    assert run(engine, proxy(), "2025-03-04 09:00").clocks == []


# --- poor evaluations and return visits -------------------------------------------------------------


def poorly_rated(rating, *events):
    return resolved_proxy("2025-02-28 10:00", ev("evaluation", "2025-03-03 10:00", rating=rating, actor=None), *events)


def test_poor_evaluation_rating_2_not_3(engine):
    r = run(engine, poorly_rated(2), "2025-03-04 09:00")
    f = only(r, "ps.poor_evaluation")
    assert f.severity == "warning" and "2" in f.message
    r3 = run(engine, poorly_rated(3), "2025-03-04 09:00")
    assert "ps.poor_evaluation" not in codes(r3)
    assert [c.name for c in r3.clocks] == ["evaluation"]


def test_poor_rating_policy_override(pm):
    assert "ps.poor_evaluation" in codes(run(engine_with(pm, poor_rating=3), poorly_rated(3), "2025-03-04 09:00"))


def test_poor_evaluation_only_on_proxy_tickets(engine):
    t = ticket(events=[ev("evaluation", "2025-03-03 10:00", rating=1, actor=None)])
    r = run(engine, t, "2025-04-30 09:00")
    assert r.findings == [] and r.clocks == []


def test_return_visit_clock(engine):
    r = run(engine, poorly_rated(1), "2025-03-24 09:00")
    c = clock(r, "return_visit")
    assert c.due_date == date(2025, 3, 24) and c.status == "yellow"
    assert "ps.return_visit_overdue" not in codes(r)
    r = run(engine, poorly_rated(1), "2025-03-25 09:00")
    assert clock(r, "return_visit").status == "red"
    f = only(r, "ps.return_visit_overdue")
    assert f.severity == "violation" and f.clock == "return_visit" and "2025-03-24 23:59" in f.message


def test_return_visit_in_time_or_late(engine):
    r = run(engine, poorly_rated(1, ev("return_visit", "2025-03-20 10:00", result="已整改")), "2025-04-10 09:00")
    assert clock(r, "return_visit").status == "met" and "ps.return_visit_overdue" not in codes(r)
    r = run(engine, poorly_rated(1, ev("return_visit", "2025-03-25 10:00", result="已整改")), "2025-04-10 09:00")
    assert clock(r, "return_visit").status == "missed" and "ps.return_visit_overdue" in codes(r)


def test_return_visit_policy_override(pm):
    r = run(engine_with(pm, return_visit_working_days=5), poorly_rated(2), "2025-03-11 09:00")
    assert clock(r, "return_visit").due_date == date(2025, 3, 10)
    assert "ps.return_visit_overdue" in codes(r)


# --- stale ---------------------------------------------------------------------------------------


def test_stale_boundary(engine):
    # Last event Monday 3 March: Tue, Wed, Thu are the 3 working days after it.
    t = proxy(ev("reply", "2025-03-03 17:00", public=True, body="在办"))
    assert "ps.stale" not in codes(run(engine, t, "2025-03-06 18:00"))
    r = run(engine, t, "2025-03-07 09:00")
    f = only(r, "ps.stale")
    assert f.severity == "warning" and "2025-03-03 17:00" in f.message


def test_stale_counts_working_days_only(engine):
    t = proxy(ev("reply", "2025-01-24 17:00", public=True, body="在办"), created_at=at("2025-01-24 09:00"))
    assert "ps.stale" not in codes(run(engine, t, "2025-02-05 18:00"))  # 26 Jan, 27 Jan, 5 Feb
    assert "ps.stale" in codes(run(engine, t, "2025-02-06 09:00"))


def test_stale_near_misses(engine):
    closed = proxy(status="closed", resolved_at=at("2025-03-03 12:00"), accepted_at=at("2025-03-03 10:00"))
    assert "ps.stale" not in codes(run(engine, closed, "2025-03-20 09:00"))
    recent = proxy(ev("reply", "2025-03-18 10:00", public=True, body="在办"))
    assert "ps.stale" not in codes(run(engine, recent, "2025-03-20 09:00"))
    not_proxy = ticket()
    assert "ps.stale" not in codes(run(engine, not_proxy, "2025-03-20 09:00"))


def test_stale_ignores_events_after_now_and_follows_policy(pm, engine):
    t = proxy(ev("reply", "2025-03-10 10:00", public=True, body="在办"))
    assert "ps.stale" in codes(run(engine, t, "2025-03-07 09:00"))  # as of Friday, the Monday 10th reply is future
    assert "ps.stale" not in codes(run(engine_with(pm, stale_working_days=4), t, "2025-03-07 09:00"))


# --- spot check ----------------------------------------------------------------------------------


def draw(ticket_id, month):
    h = hashlib.sha256(f"{ticket_id}:{month}".encode("utf-8")).digest()
    return int.from_bytes(h[:8], byteorder="big") / 2 ** 64


def test_spot_check_draw_matches_the_spec(engine):
    drawn = [f"P-{i}" for i in range(200) if draw(f"P-{i}", "2025-03") < 0.1]
    missed = [f"P-{i}" for i in range(200) if draw(f"P-{i}", "2025-03") >= 0.1]
    assert drawn and missed
    for tid in drawn[:3] + missed[:3]:
        t = proxy(id=tid, status="resolved", accepted_at=at("2025-03-03 10:00"), resolved_at=at("2025-03-04 10:00"))
        r = run(engine, t, "2025-03-05 09:00")
        assert ("ps.spot_check" in codes(r)) is (tid in drawn)
    assert ps.spot_check_draw("P-1", "2025-03") == draw("P-1", "2025-03")


def test_spot_check_month_in_policy_timezone(engine):
    # 2025-02-28T20:00Z is 1 March in Beijing: the month is 2025-03.
    tid = next(f"P-{i}" for i in range(500) if draw(f"P-{i}", "2025-03") < 0.1 <= draw(f"P-{i}", "2025-02"))
    t = proxy(id=tid, status="resolved", accepted_at=at("2025-02-20 10:00"), resolved_at="2025-02-28T20:00:00+00:00")
    r = run(engine, t, "2025-03-03 09:00")
    assert "2025-03" in only(r, "ps.spot_check").message


def test_spot_check_ratio_policy(pm):
    t = proxy(status="resolved", accepted_at=at("2025-03-03 10:00"), resolved_at=at("2025-03-04 10:00"))
    assert "ps.spot_check" in codes(run(engine_with(pm, spot_check_ratio=1.0), t, "2025-03-05 09:00"))
    assert "ps.spot_check" not in codes(run(engine_with(pm, spot_check_ratio=0.0), t, "2025-03-05 09:00"))
    assert "ps.spot_check" not in codes(run(engine_with(pm, spot_check_ratio=1.0), proxy(), "2025-03-05 09:00"))


# --- language ------------------------------------------------------------------------------------


def test_english_messages(pm):
    engine = Engine(default_config(pm).with_lang("en"), pm)
    r = engine.evaluate(poorly_rated(1), datetime.fromisoformat(at("2025-03-25 09:00")))
    f = only(r, "ps.return_visit_overdue")
    assert f.message == "After a poor review (1 of 5) a return visit was due by 2025-03-24 23:59; none yet."
    assert only(r, "ps.poor_evaluation").message.startswith("The proxy service was rated 1 of 5")
    t = ticket(applicant={**APPLICANT, "birth_date": "1950-01-01", "groups": ["elderly"]})
    r = engine.evaluate(t, datetime.fromisoformat(at("2025-03-25 09:00")))
    assert only(r, "ps.special_group").message == (
        "The applicant is in a special group (elderly, aged 75); home, proxy or assisted service applies.")


def test_chinese_note_names_clause_and_deadline(engine):
    r = run(engine, poorly_rated(1), "2025-03-25 09:00")
    [note] = r.patch.notes
    assert "帮办代办制度 四" in note.body and "2025-03-24 23:59" in note.body
