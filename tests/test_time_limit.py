"""限时办结制度: the completion clock for every kind, suspensions, extensions and the tl.* codes."""
from datetime import date, datetime

import pytest

from govhall_sdk.testing import build_engine, build_ticket
from govhall_sdk.host import new_plugin_manager
import govhall_plugins.calendars
import govhall_plugins.time_limit


@pytest.fixture(scope="module")
def pm():
    pm = new_plugin_manager(load_entry_points=False)
    pm.register(govhall_plugins.calendars, name="calendars")
    pm.register(govhall_plugins.time_limit, name="time_limit")
    return pm


@pytest.fixture(scope="module")
def engine(pm):
    return build_engine(pm)


def at(text):
    return datetime.fromisoformat(text if "+" in text else text + "+08:00")


def run(engine, now, **fields):
    return engine.evaluate(build_ticket(**fields), at(now))


def codes(result):
    return [f.code for f in result.findings]


def clock(result):
    (c,) = [c for c in result.clocks if c.name == "completion"]
    return c


APP = dict(kind="application", created_at="2025-01-24T09:00:00+08:00", accepted_at="2025-01-24T10:00:00+08:00",
           promised_working_days=5)


def test_application_deadline_counts_the_make_up_sunday(engine):
    r = run(engine, "2025-01-27T09:00", **APP)
    c = clock(r)
    assert c.due_date == date(2025, 2, 7) and c.due_at == at("2025-02-07T23:59:59")
    assert c.working_days == 5 and c.status == "green" and r.light == "green" and codes(r) == []


def test_yellow_from_the_fourth_of_five_working_days(engine):
    # working days after 01-24: 01-26 (make-up), 01-27, 02-05, 02-06, 02-07 -> ceil(0.8*5) = 4 -> 02-06
    assert clock(run(engine, "2025-02-05T18:00", **APP)).status == "green"
    r = run(engine, "2025-02-06T08:00", **APP)
    assert clock(r).status == "yellow" and codes(r) == ["tl.due_soon"] and r.escalation_level == 0


def test_red_just_after_the_deadline_and_a_note(engine):
    assert clock(run(engine, "2025-02-07T23:59:59", **APP)).status == "yellow"
    r = run(engine, "2025-02-08T00:00:00", **APP)
    assert clock(r).status == "red" and codes(r) == ["tl.overdue"]
    assert r.light == "red" and r.escalation_level == 1
    assert r.patch.notes[0].marker == "[govhall:tl.overdue:completion]"
    assert "限时办结制度 第一条" in r.patch.notes[0].body and "2025-02-07" in r.patch.notes[0].body


def test_met_and_missed(engine):
    met = run(engine, "2025-03-01T09:00", resolved_at="2025-02-07T17:00:00+08:00", **APP)
    assert clock(met).status == "met" and met.light is None and codes(met) == []
    missed = run(engine, "2025-03-01T09:00", resolved_at="2025-02-10T09:00:00+08:00", **APP)
    assert clock(missed).status == "missed" and codes(missed) == ["tl.overdue"]


def test_no_clock_before_acceptance(engine):
    r = run(engine, "2025-03-01T09:00", kind="application", created_at="2025-01-24T09:00:00+08:00",
            promised_working_days=5)
    assert r.clocks == [] and r.light is None


def test_complaint_defaults_to_15_working_days_across_national_day(engine):
    r = run(engine, "2024-10-23T12:00", kind="complaint", created_at="2024-09-27T10:00:00+08:00")
    c = clock(r)
    assert c.due_date == date(2024, 10, 23) and c.status == "yellow"
    assert clock(run(engine, "2024-10-24T00:00:01", kind="complaint", created_at="2024-09-27T10:00:00+08:00")).status == "red"


def test_complaint_policy_override(pm):
    engine = build_engine(pm, {"policy": {"time_limit": {"complaint_working_days": 10}}})
    assert clock(run(engine, "2024-10-01T12:00", kind="complaint", created_at="2024-09-27T10:00:00+08:00")).working_days == 10


def test_supervision_explicit_deadline_and_escalation_2(engine):
    r = run(engine, "2025-03-04T09:00", kind="supervision", created_at="2025-02-20T09:00:00+08:00",
            due_at="2025-03-03T17:00:00+08:00")
    assert clock(r).due_at == at("2025-03-03T17:00:00") and codes(r) == ["tl.supervision_overdue"]
    assert r.escalation_level == 2


def test_supervision_without_deadline(engine):
    r = run(engine, "2025-03-04T09:00", kind="supervision", created_at="2025-02-20T09:00:00+08:00")
    assert r.clocks == [] and codes(r) == ["tl.deadline_missing"]


def test_assignment_without_deadline_has_no_clock(engine):
    assert run(engine, "2025-03-04T09:00", kind="assignment", created_at="2025-02-20T09:00:00+08:00").clocks == []


def test_approved_extension_adds_days_unapproved_does_not(engine):
    approved = [{"type": "extension", "at": "2025-02-05T10:00:00+08:00", "working_days": 3,
                 "approved_by": {"id": "lead1", "rank": 5}}]
    r = run(engine, "2025-02-08T09:00", events=approved, **APP)
    assert clock(r).due_date == date(2025, 2, 11) and clock(r).working_days == 8  # 02-08 is a make-up Saturday and codes(r) == []
    unapproved = [{**approved[0], "approved_by": None}]
    r = run(engine, "2025-02-08T09:00", events=unapproved, **APP)
    assert clock(r).due_date == date(2025, 2, 7)
    assert codes(r) == ["tl.overdue", "tl.extension_unapproved"]


def test_suspension_pauses_and_adds_its_working_days(engine):
    closed = [
        {"type": "suspension_start", "at": "2025-02-05T10:00:00+08:00", "reason": "专家评审"},
        {"type": "suspension_end", "at": "2025-02-07T10:00:00+08:00"},
    ]
    r = run(engine, "2025-02-10T09:00", events=closed, **APP)
    assert clock(r).due_date == date(2025, 2, 10)  # 02-05, 02-06 added; 02-08 is a make-up Saturday
    open_ = closed[:1]
    r = run(engine, "2025-02-10T09:00", events=open_, **APP)
    assert clock(r).status == "paused" and r.light is None and codes(r) == []


def test_rejection_notices(engine):
    before = [{"type": "rejection", "at": "2025-01-24T11:00:00+08:00", "stage": "before_acceptance",
               "reason": "不符合条件", "legal_basis": "某条例", "notice_issued": False}]
    r = run(engine, "2025-01-25T09:00", kind="application", created_at="2025-01-24T09:00:00+08:00", events=before)
    assert codes(r) == ["tl.rejection_notice_missing"]
    ok = [{**before[0], "notice_issued": True}]
    assert codes(run(engine, "2025-01-25T09:00", kind="application", created_at="2025-01-24T09:00:00+08:00", events=ok)) == []
    after = [{**before[0], "stage": "after_acceptance", "at": "2025-01-27T11:00:00+08:00"}]
    r = run(engine, "2025-01-28T09:00", events=after, **APP)
    assert codes(r) == ["tl.non_registration_notice_missing"] and clock(r).status == "met"


def test_result_report_for_resolved_assignments(engine):
    base = dict(kind="assignment", created_at="2025-02-20T09:00:00+08:00", status="resolved",
                resolved_at="2025-02-21T09:00:00+08:00")
    assert codes(run(engine, "2025-02-24T09:00", **base)) == ["tl.result_not_reported"]
    reported = [{"type": "result_report", "at": "2025-02-21T10:00:00+08:00"}]
    assert codes(run(engine, "2025-02-24T09:00", events=reported, **base)) == []
    assert codes(run(engine, "2025-02-24T09:00", kind="assignment", created_at="2025-02-20T09:00:00+08:00")) == []


def test_english_messages(pm):
    engine = build_engine(pm, {"lang": "en"})
    r = run(engine, "2025-02-08T00:00:00", **APP)
    assert r.findings[0].message.startswith("The application was not completed by its deadline 2025-02-07")
    assert r.patch.notes[0].body.startswith("[govhall]")


def test_module_level_evaluate_with_the_installed_plugins():
    from govhall_sdk.config import default_config
    from govhall_sdk.engine import evaluate
    from govhall_sdk.host import get_plugin_manager

    result = evaluate(build_ticket(department="人社窗口", **APP), at("2025-02-08T00:00:00"), default_config(get_plugin_manager()))
    assert "tl.overdue" in [f.code for f in result.findings] and result.light == "red"
