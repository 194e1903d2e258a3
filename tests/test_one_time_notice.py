"""Tests for the one_time_notice plugin (一次性告知工作制度)."""
from datetime import date, datetime

import pytest

import govhall_plugins.calendars as calendars_plugin
import govhall_plugins.one_time_notice as otn
from govhall_sdk.config import build_config, default_config
from govhall_sdk.engine import Engine
from govhall_sdk.patch import note_marker
from govhall_sdk.host import new_plugin_manager
from govhall_sdk.parse import ticket_from_dict

# 2025-01-24 is a Friday before the Spring Festival: 26 Jan (Sunday) is a make-up
# working day, 28 Jan - 4 Feb are holidays, so its 5 working days end on 7 Feb.
T0 = "2025-01-24T10:00:00+08:00"
STAFF = {"id": "s1", "name": "王", "role": "staff"}
APPLICANT = {"id": "a1", "role": "applicant"}


def at(text):
    """'2025-02-07 10:00' -> an ISO instant in Beijing time."""
    return text.replace(" ", "T") + ":00+08:00"


def ticket(**kw):
    raw = {"id": "T-1", "kind": "application", "created_at": T0, "status": "open"}
    raw.update(kw)
    return ticket_from_dict(raw)


def ev(type_, when, **kw):
    e = {"type": type_, "at": at(when), "actor": STAFF}
    e.update(kw)
    return e


@pytest.fixture(scope="module")
def pm():
    pm = new_plugin_manager(load_entry_points=False)
    pm.register(otn, name="one_time_notice")
    pm.register(calendars_plugin, name="calendars")
    return pm


@pytest.fixture(scope="module")
def engine(pm):
    return Engine(default_config(pm), pm)


def policy_defaults(pm):
    return {section: defaults for section, (_, defaults) in pm.policies.items()}


def run(engine, t, now):
    return engine.evaluate(t, datetime.fromisoformat(at(now)))


def codes(result):
    return [f.code for f in result.findings]


def clock(result, name):
    found = [c for c in result.clocks if c.name == name]
    assert len(found) == 1, result.clocks
    return found[0]


def incomplete_app(*events, required=("A", "B")):
    """An application whose first submission (at T0) lacks B."""
    return ticket(materials={"required": list(required)},
                  events=[ev("submission", "2025-01-24 10:00", items=["A"], actor=APPLICANT), *events])


# --- registration ------------------------------------------------------------------


def test_registers_every_catalog_code_and_policy(pm):
    assert set(pm.rules) == {
        "otn.notice_due_soon", "otn.notice_overdue", "otn.notice_incomplete", "otn.repeated_notice",
        "otn.written_notice_missing", "otn.rejection_basis_missing", "otn.deferred_reply_overdue",
        "otn.deferral_contact_missing", "otn.answer_incomplete",
    }
    defaults = pm.policies["one_time_notice"][1]
    assert defaults == {"supplement_notice_working_days": 5, "deferred_reply_working_days": 1}
    for code, (_, info) in pm.rules.items():
        assert info.clause.startswith("一次性告知工作制度")
        assert info.text and info.action and info.action_en
        assert set(info.thresholds) <= set(defaults)
    assert pm.rules["otn.notice_overdue"][1].clock == "supplement_notice"
    assert pm.rules["otn.deferred_reply_overdue"][1].clock == "deferred_reply"


# --- supplement_notice clock ----------------------------------------------------------


def test_supplement_clock_due_date_crosses_spring_festival(engine):
    r = run(engine, incomplete_app(), "2025-02-05 09:00")
    c = clock(r, "supplement_notice")
    assert c.due_date == date(2025, 2, 7)
    assert c.due_at.isoformat() == "2025-02-07T23:59:59+08:00"
    assert c.working_days == 5
    assert c.status == "green"
    assert r.findings == []
    assert r.light == "green"


def test_notice_due_soon_on_yellow(engine):
    r = run(engine, incomplete_app(), "2025-02-06 09:00")  # 4th of 5 working days
    assert clock(r, "supplement_notice").status == "yellow"
    assert codes(r) == ["otn.notice_due_soon"]
    f = r.findings[0]
    assert f.clock == "supplement_notice" and f.due_at.isoformat() == "2025-02-07T23:59:59+08:00"
    assert "2025-02-07 23:59" in f.message and "B" in f.message


def test_notice_overdue_when_red_not_the_day_before(engine):
    day_of = run(engine, incomplete_app(), "2025-02-07 23:59")
    assert codes(day_of) == ["otn.notice_due_soon"]
    r = run(engine, incomplete_app(), "2025-02-08 00:01")
    assert clock(r, "supplement_notice").status == "red"
    assert codes(r) == ["otn.notice_overdue"]
    assert r.findings[0].severity == "violation"
    assert "2025-02-07 23:59" in r.findings[0].message
    assert r.light == "red" and r.escalation_level == 1


def test_notice_on_the_last_day_meets_the_clock(engine):
    t = incomplete_app(ev("notice", "2025-02-07 17:00", form="written", missing=["B"]))
    r = run(engine, t, "2025-02-20 09:00")
    c = clock(r, "supplement_notice")
    assert c.status == "met" and c.stopped_at.isoformat() == at("2025-02-07 17:00")
    assert r.findings == [] and r.light is None


def test_late_notice_misses_the_clock(engine):
    t = incomplete_app(ev("notice", "2025-02-10 09:00", form="written", missing=["B"]))
    r = run(engine, t, "2025-02-20 09:00")
    assert clock(r, "supplement_notice").status == "missed"
    assert codes(r) == ["otn.notice_overdue"]


def test_notice_after_now_does_not_stop_the_clock_yet(engine):
    t = incomplete_app(ev("notice", "2025-02-10 09:00", form="written", missing=["B"]))
    r = run(engine, t, "2025-02-08 09:00")
    assert clock(r, "supplement_notice").status == "red"


@pytest.mark.parametrize("stop", [
    ev("acceptance", "2025-01-27 10:00", notice_issued=True),
    ev("rejection", "2025-01-27 10:00", reason="不符合条件", legal_basis="某条例第三条", notice_issued=True),
    ev("submission", "2025-01-27 10:00", items=["B"], actor=APPLICANT),  # the applicant completed the materials
])
def test_acceptance_rejection_or_completing_submission_stop_the_clock(engine, stop):
    r = run(engine, incomplete_app(stop), "2025-02-20 09:00")
    assert clock(r, "supplement_notice").status == "met"
    assert r.findings == []


def test_a_notice_without_missing_items_does_not_stop_the_clock(engine):
    t = incomplete_app(ev("notice", "2025-01-27 10:00", form="written", missing=[]))
    r = run(engine, t, "2025-02-20 09:00")
    assert clock(r, "supplement_notice").status == "red"


def test_no_clock_when_first_submission_is_complete(engine):
    t = ticket(materials={"required": ["A", "B"]},
               events=[ev("submission", "2025-01-24 10:00", items=["A", "B"], actor=APPLICANT)])
    r = run(engine, t, "2025-02-20 09:00")
    assert r.clocks == [] and r.findings == []


def test_no_clock_for_other_kinds_or_without_required_materials(engine):
    sub = [ev("submission", "2025-01-24 10:00", items=["A"], actor=APPLICANT)]
    assert run(engine, ticket(kind="complaint", materials={"required": ["A", "B"]}, events=sub), "2025-02-20 09:00").clocks == []
    assert run(engine, ticket(events=sub), "2025-02-20 09:00").clocks == []


def test_clock_starts_at_created_at_without_submission(engine):
    t = ticket(created_at="2025-03-03T09:00:00+08:00", materials={"required": ["A"]})
    r = run(engine, t, "2025-03-04 09:00")
    c = clock(r, "supplement_notice")
    assert c.start.isoformat() == "2025-03-03T09:00:00+08:00"
    assert c.due_date == date(2025, 3, 10)


def test_a_stop_before_the_first_submission_does_not_count(engine):
    t = ticket(created_at="2025-01-20T09:00:00+08:00", materials={"required": ["A", "B"]}, events=[
        ev("notice", "2025-01-20 09:30", form="written", missing=["A", "B"]),
        ev("submission", "2025-01-24 10:00", items=["A"], actor=APPLICANT),
    ])
    r = run(engine, t, "2025-02-10 09:00")
    c = clock(r, "supplement_notice")
    assert c.start.isoformat() == T0 and c.status == "red"


def test_policy_override_shortens_the_supplement_clock(pm):
    config = build_config({"policy": {"one_time_notice": {"supplement_notice_working_days": 3}}}, policy_defaults(pm))
    r = Engine(config, pm).evaluate(incomplete_app(), datetime.fromisoformat(at("2025-02-06 09:00")))
    c = clock(r, "supplement_notice")
    assert c.due_date == date(2025, 2, 5) and c.status == "red"
    assert codes(r) == ["otn.notice_overdue"]


# --- notice content ------------------------------------------------------------------------


def test_first_notice_must_list_every_item_not_yet_submitted(engine):
    t = incomplete_app(ev("notice", "2025-01-27 10:00", form="written", missing=["B"]), required=("A", "B", "C"))
    r = run(engine, t, "2025-01-27 12:00")
    assert codes(r) == ["otn.notice_incomplete"]
    assert "C" in r.findings[0].message and "B" not in r.findings[0].message.split("：")[1].split("。")[0]


def test_first_notice_listing_every_item_is_complete(engine):
    t = incomplete_app(ev("notice", "2025-01-27 10:00", form="written", missing=["B", "C"]), required=("A", "B", "C"))
    assert codes(run(engine, t, "2025-01-27 12:00")) == []


def test_items_submitted_before_the_notice_need_not_be_listed(engine):
    t = incomplete_app(
        ev("submission", "2025-01-26 10:00", items=["C"], actor=APPLICANT),
        ev("notice", "2025-01-27 10:00", form="written", missing=["B"]), required=("A", "B", "C"))
    assert codes(run(engine, t, "2025-01-27 12:00")) == []


def test_repeated_notice_with_a_new_item(engine):
    t = incomplete_app(
        ev("notice", "2025-01-27 10:00", form="written", missing=["B"]),
        ev("notice", "2025-02-05 10:00", form="written", missing=["B", "D"]),
        ev("notice", "2025-02-06 10:00", form="written", missing=["E"]),
    )
    r = run(engine, t, "2025-02-06 12:00")
    found = [f for f in r.findings if f.code == "otn.repeated_notice"]
    assert len(found) == 2
    assert "D" in found[0].message and "E" in found[1].message
    assert found[0].key == at("2025-02-05 10:00") and found[1].key == at("2025-02-06 10:00")
    notes = [n for n in r.patch.notes if n.code == "otn.repeated_notice"]
    assert len({n.marker for n in notes}) == 2


def test_a_reminder_of_the_same_items_is_not_a_repeated_notice(engine):
    t = incomplete_app(
        ev("notice", "2025-01-27 10:00", form="written", missing=["B"]),
        ev("notice", "2025-02-05 10:00", form="written", missing=["B"]),
    )
    assert codes(run(engine, t, "2025-02-06 12:00")) == []


def test_oral_only_supplement_notice(engine):
    t = incomplete_app(ev("notice", "2025-01-27 10:00", form="oral", missing=["B"]))
    r = run(engine, t, "2025-01-27 12:00")
    assert codes(r) == ["otn.written_notice_missing"]
    assert r.findings[0].severity == "warning" and r.findings[0].key == at("2025-01-27 10:00")


def test_oral_notice_backed_by_a_written_one_is_fine(engine):
    t = incomplete_app(
        ev("notice", "2025-01-27 10:00", form="oral", missing=["B"]),
        ev("notice", "2025-01-27 10:05", form="written", missing=["B"]),
    )
    assert codes(run(engine, t, "2025-01-27 12:00")) == []
    written_only = incomplete_app(ev("notice", "2025-01-27 10:00", form="written", missing=["B"]))
    assert codes(run(engine, written_only, "2025-01-27 12:00")) == []


# --- rejections -------------------------------------------------------------------------------


def test_rejection_without_legal_basis(engine):
    t = ticket(events=[
        ev("rejection", "2025-03-03 10:00", stage="before_acceptance", reason="不符合条件", notice_issued=True),
        ev("rejection", "2025-03-04 10:00", stage="after_acceptance", legal_basis="某条例", notice_issued=True),
    ])
    r = run(engine, t, "2025-03-05 10:00")
    assert codes(r) == ["otn.rejection_basis_missing"] * 2
    assert "依据" in r.findings[0].message and "原因" in r.findings[1].message
    assert len({note_marker(f) for f in r.findings}) == 2
    assert len(r.patch.notes) == 2


def test_rejection_with_reason_and_basis(engine):
    t = ticket(events=[ev("rejection", "2025-03-03 10:00", reason="不符合条件", legal_basis="某条例第三条")])
    assert codes(run(engine, t, "2025-03-05 10:00")) == []
    blank = ticket(events=[ev("rejection", "2025-03-03 10:00", reason="不符合条件", legal_basis="  ")])
    assert codes(run(engine, blank, "2025-03-05 10:00")) == ["otn.rejection_basis_missing"]


# --- deferrals -------------------------------------------------------------------------------


def consultation(*events):
    return ticket(kind="consultation", created_at="2025-03-03T09:00:00+08:00", events=list(events))


DEFER = ev("deferral", "2025-03-03 10:00", contact="138****0000")  # a Monday: due Tuesday 23:59:59


def test_deferred_reply_clock_and_overdue(engine):
    r = run(engine, consultation(DEFER), "2025-03-04 18:00")
    c = clock(r, "deferred_reply")
    assert c.due_date == date(2025, 3, 4) and c.status == "yellow"
    assert codes(r) == []  # no due-soon code for this clock
    r = run(engine, consultation(DEFER), "2025-03-05 08:00")
    assert clock(r, "deferred_reply").status == "red"
    assert codes(r) == ["otn.deferred_reply_overdue"]
    f = r.findings[0]
    assert f.clock == "deferred_reply" and "2025-03-04 23:59" in f.message
    assert f.due_at.isoformat() == "2025-03-04T23:59:59+08:00"


def test_deferred_reply_clock_crosses_a_holiday(engine):
    d = ev("deferral", "2025-09-30 10:00", contact="x")  # National Day 1-8 Oct, 11 Oct is a make-up day
    r = run(engine, consultation(d), "2025-10-09 09:00")
    assert clock(r, "deferred_reply").due_date == date(2025, 10, 9)
    assert codes(r) == []


@pytest.mark.parametrize("answer", [
    ev("reply", "2025-03-04 16:00", public=True, body="答复如下……"),
    ev("notice", "2025-03-04 16:00", form="written", elements=["basis", "conditions", "materials", "procedure", "time_limit"]),
])
def test_public_reply_or_notice_meets_the_deferred_reply(engine, answer):
    r = run(engine, consultation(DEFER, answer), "2025-03-10 09:00")
    assert clock(r, "deferred_reply").status == "met"
    assert codes(r) == []


def test_late_reply_misses_and_internal_or_applicant_replies_do_not_count(engine):
    t = consultation(
        DEFER,
        ev("reply", "2025-03-04 11:00", public=False, body="内部：待查"),
        ev("reply", "2025-03-04 12:00", public=True, body="还没好吗", actor=APPLICANT),
        ev("reply", "2025-03-05 09:00", public=True, body="答复如下……"),
    )
    r = run(engine, t, "2025-03-10 09:00")
    c = clock(r, "deferred_reply")
    assert c.status == "missed" and c.stopped_at.isoformat() == at("2025-03-05 09:00")
    assert codes(r) == ["otn.deferred_reply_overdue"]


def test_each_deferral_has_its_own_clock(engine):
    t = consultation(
        DEFER,
        ev("reply", "2025-03-04 11:00", public=True, body="答复"),
        ev("deferral", "2025-03-06 10:00", contact="x"),
    )
    r = run(engine, t, "2025-03-10 09:00")
    statuses = [c.status for c in r.clocks if c.name == "deferred_reply"]
    assert statuses == ["met", "red"]
    [f] = r.findings
    assert f.code == "otn.deferred_reply_overdue" and f.key == at("2025-03-06 10:00")


def test_deferral_without_contact(engine):
    t = consultation(ev("deferral", "2025-03-03 10:00"), ev("reply", "2025-03-03 15:00", public=True, body="答复"))
    r = run(engine, t, "2025-03-04 09:00")
    assert codes(r) == ["otn.deferral_contact_missing"]
    assert run(engine, consultation(DEFER, ev("reply", "2025-03-03 15:00", public=True, body="答复")),
               "2025-03-04 09:00").findings == []


def test_deferred_reply_policy_override(pm):
    config = build_config({"policy": {"one_time_notice": {"deferred_reply_working_days": 2}}}, policy_defaults(pm))
    r = Engine(config, pm).evaluate(consultation(DEFER), datetime.fromisoformat(at("2025-03-05 08:00")))
    assert clock(r, "deferred_reply").due_date == date(2025, 3, 5)
    assert codes(r) == []


# --- answers to consultations --------------------------------------------------------------------


def test_answer_lacking_an_element(engine):
    t = consultation(ev("notice", "2025-03-03 10:00", form="oral", elements=["basis", "conditions", "materials", "procedure"]))
    r = run(engine, t, "2025-03-03 12:00")
    assert codes(r) == ["otn.answer_incomplete"]
    assert "办理时限" in r.findings[0].message


def test_complete_answer_and_non_consultations(engine):
    full = ["basis", "conditions", "materials", "procedure", "time_limit"]
    assert codes(run(engine, consultation(ev("notice", "2025-03-03 10:00", elements=full)), "2025-03-03 12:00")) == []
    app = ticket(events=[ev("notice", "2025-03-03 10:00", elements=["basis"])])
    assert codes(run(engine, app, "2025-03-03 12:00")) == []


# --- language ------------------------------------------------------------------------------------


def test_english_messages(pm):
    engine = Engine(default_config(pm).with_lang("en"), pm)
    r = engine.evaluate(incomplete_app(), datetime.fromisoformat(at("2025-02-10 09:00")))
    [f] = r.findings
    assert f.code == "otn.notice_overdue"
    assert f.message.startswith("The application's materials are incomplete (still missing: B)")
    assert "due by 2025-02-07 23:59" in f.message
    assert r.patch.notes[0].body.startswith("[govhall]")


def test_chinese_note_names_clause_and_deadline(engine):
    r = run(engine, incomplete_app(), "2025-02-10 09:00")
    [note] = r.patch.notes
    assert "一次性告知工作制度 第五条(二)" in note.body and "2025-02-07 23:59" in note.body
    assert note.marker == "[govhall:otn.notice_overdue:supplement_notice]"


def test_ticket_without_anything_relevant_returns_nothing():
    class Ctx:  # the plugin must not touch the context for an irrelevant ticket
        pass

    assert otn.govhall_evaluate_ticket(ticket(kind="complaint"), Ctx()) is None
