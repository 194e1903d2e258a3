"""The catalog as clarified in tickets.md and rules.md: each clarified rule with a trigger and a near miss."""
import json
from datetime import date, datetime

import pytest

from govhall_sdk import hookimpl
from govhall_sdk.calendar import china_holidays_source
from govhall_sdk.cli import main
from govhall_sdk.patch import written_markers
from govhall_sdk.host import new_plugin_manager
from govhall_sdk.parse import TicketError, ticket_from_dict
from govhall_sdk.testing import build_engine, build_ticket

STAFF = {"id": "s1", "name": "王敏", "rank": 1, "department": "不动产登记窗口", "role": "staff"}
CHIEF = {"id": "s2", "name": "李强", "rank": 3, "department": "不动产登记窗口", "role": "staff"}
LEADER = {"id": "l1", "name": "赵局", "rank": 5, "role": "staff"}
APPLICANT = {"id": "a1", "name": "张三", "role": "applicant"}
GOVHALL = {"id": "govhall", "name": "govhall", "role": "system"}


@pytest.fixture(scope="module")
def engine():
    return build_engine(new_plugin_manager())


def at(text):
    return datetime.fromisoformat(text if "+" in text else text + "+08:00")


def run(engine, now, **fields):
    return engine.evaluate(build_ticket(**fields), at(now))


def codes(result):
    return sorted(f.code for f in result.findings)


def finding(result, code):
    (f,) = [f for f in result.findings if f.code == code]
    return f


def clocks(result, name):
    return [c for c in result.clocks if c.name == name]


# --- supplement_notice: acceptance (event or accepted_at) and rejection stop it ------------------------

APP = dict(kind="application", created_at="2025-03-03T09:00:00+08:00", department="不动产登记窗口",
           materials={"required": ["申请表", "身份证"]})
SUBMIT = {"type": "submission", "at": "2025-03-03T09:10:00+08:00", "items": ["申请表"], "actor": APPLICANT}


def test_accepted_at_alone_stops_the_supplement_notice_clock(engine):
    r = run(engine, "2025-03-20T09:00", **APP, accepted_at="2025-03-04T10:00:00+08:00", events=[SUBMIT])
    (c,) = clocks(r, "supplement_notice")
    assert c.status == "met" and c.stopped_at == at("2025-03-04T10:00")
    assert "otn.notice_overdue" not in codes(r)


def test_near_miss_without_acceptance_the_notice_is_overdue(engine):
    r = run(engine, "2025-03-20T09:00", **APP, events=[SUBMIT])
    assert clocks(r, "supplement_notice")[0].status == "red" and "otn.notice_overdue" in codes(r)


@pytest.mark.parametrize("first", [
    {"type": "acceptance", "at": "2025-03-03T09:05:00+08:00", "actor": STAFF, "notice_issued": True},
    {"type": "rejection", "at": "2025-03-03T09:05:00+08:00", "actor": STAFF, "stage": "before_acceptance",
     "reason": "不符合条件", "legal_basis": "《不动产登记暂行条例》第二十二条", "notice_issued": True},
])
def test_no_supplement_clock_when_accepted_or_rejected_before_the_first_submission(engine, first):
    r = run(engine, "2025-03-20T09:00", **APP, events=[first, SUBMIT])
    assert clocks(r, "supplement_notice") == [] and "otn.notice_overdue" not in codes(r)


def test_accepted_at_before_the_first_submission_means_no_clock(engine):
    r = run(engine, "2025-03-20T09:00", **APP, accepted_at="2025-03-03T09:05:00+08:00", events=[SUBMIT])
    assert clocks(r, "supplement_notice") == []


# --- tl.extension_late --------------------------------------------------------------------------------

ACCEPTED = dict(kind="application", created_at="2025-02-24T10:00:00+08:00", accepted_at="2025-02-24T10:20:00+08:00",
                promised_working_days=5, department="社会保障窗口")  # due 2025-03-03 23:59:59


def extension(when, days=10, approved=LEADER, actor=STAFF):
    return {"type": "extension", "at": when, "working_days": days, "approved_by": approved, "actor": actor}


def test_an_extension_approved_after_the_deadline_adds_nothing_and_is_a_violation(engine):
    r = run(engine, "2025-03-06T09:00", **ACCEPTED, events=[extension("2025-03-04T09:00:00+08:00")])
    (c,) = clocks(r, "completion")
    assert c.due_date == date(2025, 3, 3) and c.status == "red"
    late = finding(r, "tl.extension_late")
    assert late.severity == "violation" and late.staff == "s1" and late.department == "社会保障窗口"
    assert "tl.overdue" in codes(r) and "tl.extension_unapproved" not in codes(r)


def test_near_miss_an_extension_at_the_last_second_counts(engine):
    r = run(engine, "2025-03-06T09:00", **ACCEPTED, events=[extension("2025-03-03T23:59:59+08:00")])
    (c,) = clocks(r, "completion")
    assert c.due_date == date(2025, 3, 17) and c.status == "green" and c.working_days == 15
    assert codes(r) == []


def test_the_deadline_in_force_includes_earlier_counted_extensions(engine):
    events = [extension("2025-02-28T09:00:00+08:00", days=2), extension("2025-03-05T09:00:00+08:00", days=3)]
    r = run(engine, "2025-03-06T09:00", **ACCEPTED, events=events)
    (c,) = clocks(r, "completion")  # 03-03 + 2 = 03-05 in force; the second came in time on 03-05
    assert c.due_date == date(2025, 3, 10) and "tl.extension_late" not in codes(r)
    events[1] = extension("2025-03-06T08:00:00+08:00", days=3)
    r = run(engine, "2025-03-06T09:00", **ACCEPTED, events=events)
    assert clocks(r, "completion")[0].due_date == date(2025, 3, 5)
    assert codes(r).count("tl.extension_late") == 1


def test_an_unapproved_extension_is_not_late_but_unapproved(engine):
    r = run(engine, "2025-03-06T09:00", **ACCEPTED, events=[extension("2025-03-04T09:00:00+08:00", approved=None)])
    assert "tl.extension_unapproved" in codes(r) and "tl.extension_late" not in codes(r)


def test_extension_on_an_explicit_due_at_moves_the_due_date_when_in_time(engine):
    ticket = dict(kind="supervision", created_at="2025-03-03T09:00:00+08:00", due_at="2025-03-07T18:00:00+08:00",
                  department="督查科")
    r = run(engine, "2025-03-10T09:00", **ticket, events=[extension("2025-03-07T10:00:00+08:00", days=2)])
    (c,) = clocks(r, "completion")
    assert c.due_date == date(2025, 3, 11) and c.due_at == at("2025-03-11T23:59:59") and c.status == "yellow"
    r = run(engine, "2025-03-10T09:00", **ticket, events=[extension("2025-03-07T18:00:01+08:00", days=2)])
    assert clocks(r, "completion")[0].due_at == at("2025-03-07T18:00") and "tl.extension_late" in codes(r)


@pytest.mark.parametrize("days", [0, -3, 2.5, "3", True, None])
def test_extension_working_days_must_be_a_positive_integer(days):
    raw = {"id": "X-1", "kind": "application", "created_at": "2025-02-24T10:00:00+08:00",
           "events": [{"type": "submission", "at": "2025-02-24T10:00:00+08:00", "items": []},
                      {"type": "extension", "at": "2025-02-25T10:00:00+08:00", "approved_by": LEADER,
                       **({} if days is None else {"working_days": days})}]}
    with pytest.raises(TicketError) as caught:
        ticket_from_dict(raw)
    assert caught.value.ticket_id == "X-1"
    assert any(p.startswith("events[1].working_days:") for p in caught.value.problems)


# --- suspensions: only from the clock's start; a second start and a stray end are ignored --------------

def suspension(kind, when):
    return {"type": kind, "at": when, "actor": STAFF, "reason": "专家评审"}


def test_a_suspension_before_the_clock_started_adds_nothing(engine):
    events = [suspension("suspension_start", "2025-02-20T09:00:00+08:00"),
              suspension("suspension_end", "2025-02-27T09:00:00+08:00")]
    r = run(engine, "2025-02-28T09:00", **ACCEPTED, events=events)
    # the working days 02-25 and 02-26 of the span lie after the clock's start: they count, 02-20..02-24 do not
    assert clocks(r, "completion")[0].due_date == date(2025, 3, 5)
    events = [suspension("suspension_start", "2025-02-17T09:00:00+08:00"),
              suspension("suspension_end", "2025-02-21T09:00:00+08:00")]
    assert clocks(run(engine, "2025-02-28T09:00", **ACCEPTED, events=events), "completion")[0].due_date == date(2025, 3, 3)


def test_a_suspension_that_ends_after_now_is_still_open(engine):
    events = [suspension("suspension_start", "2025-02-26T09:00:00+08:00"),
              suspension("suspension_end", "2025-03-04T09:00:00+08:00")]
    (c,) = clocks(run(engine, "2025-02-27T09:00", **ACCEPTED, events=events), "completion")
    assert c.status == "paused" and c.due_date == date(2025, 3, 5)  # 02-26 and 02-27 so far


def test_a_second_start_while_one_is_open_and_an_end_with_none_open_are_ignored(engine):
    events = [suspension("suspension_end", "2025-02-25T09:00:00+08:00"),  # none open: ignored
              suspension("suspension_start", "2025-02-26T09:00:00+08:00"),
              suspension("suspension_start", "2025-02-27T09:00:00+08:00"),  # one open: ignored
              suspension("suspension_end", "2025-02-28T09:00:00+08:00"),
              suspension("suspension_end", "2025-03-03T09:00:00+08:00")]  # none open: ignored
    (c,) = clocks(run(engine, "2025-03-04T09:00", **ACCEPTED, events=events), "completion")
    assert c.due_date == date(2025, 3, 5)  # 02-26 and 02-27 paused: two working days added


# --- fr.shirking: the path as rules.md defines it --------------------------------------------------------

def moves(*pairs):
    return [{"type": "assignment", "at": f"2025-03-03T1{i}:00:00+08:00", "from_department": a, "to_department": b,
             "actor": {**STAFF, "id": f"s{i}"}} for i, (a, b) in enumerate(pairs)]


SHIRK = dict(kind="complaint", channel="phone", created_at="2025-03-03T09:00:00+08:00", department="C")


def test_a_return_to_a_department_left_is_shirking_and_names_the_last_mover(engine):
    r = run(engine, "2025-03-04T09:00", **SHIRK, events=moves(("A", "B"), ("B", "A")))
    f = finding(r, "fr.shirking")
    assert f.department == "B" and f.staff == "s1" and "A→B→A" in f.message


def test_an_inconsistent_from_department_adds_no_departure(govhall_pm):
    engine = build_engine(govhall_pm, {"policy": {"first_responsibility": {"shirking_moves": 4}}})
    # ?→B, then a record claiming C→D and E→C: the ticket is in B, then D, then C; it never left C
    r = engine.evaluate(build_ticket(**SHIRK, events=moves((None, "B"), ("C", "D"), ("E", "C"))), at("2025-03-04T09:00"))
    assert "fr.shirking" not in codes(r)
    r = engine.evaluate(build_ticket(**SHIRK, events=moves((None, "B"), ("C", "D"), ("E", "B"))), at("2025-03-04T09:00"))
    assert finding(r, "fr.shirking").department == "D"  # B was left: B→D→B


def test_an_assignment_to_where_the_ticket_is_is_no_move(engine):
    r = run(engine, "2025-03-04T09:00", **SHIRK, events=moves(("A", "B"), ("B", "B"), ("A", "C")))
    assert "fr.shirking" not in codes(r)  # A→B→C: two moves
    r = run(engine, "2025-03-04T09:00", **SHIRK, events=moves(("A", "B"), ("B", "C"), ("C", "D")))
    assert finding(r, "fr.shirking").department == "C"  # three moves: C made the last one


# --- ps.stale: govhall's own notes and writes are not activity ------------------------------------------

PROXY = dict(kind="application", status="open", created_at="2025-03-03T09:00:00+08:00", subject="代办",
             department="帮办代办窗口", applicant={"name": "张三", "phone": "13800138000"},
             assignee=STAFF)
REQUEST = {"type": "proxy_request", "at": "2025-03-03T09:10:00+08:00", "mode": "help",
           "agent": {"id": "agent-1", "department": "帮办代办窗口", "role": "staff"}, "actor": STAFF}


def own_note(when):
    return {"type": "reply", "at": when, "public": False, "actor": GOVHALL,
            "body": "【政务服务规则提醒】… [govhall:ps.stale]"}


def test_govhall_notes_do_not_hide_inaction(engine):
    r = run(engine, "2025-03-10T09:00", **PROXY, events=[REQUEST, own_note("2025-03-07T16:00:00+08:00")])
    f = finding(r, "ps.stale")
    assert f.staff == "agent-1" and f.department == "帮办代办窗口"


def test_near_miss_a_staff_note_is_activity(engine):
    note = {"type": "reply", "at": "2025-03-07T16:00:00+08:00", "public": False, "actor": STAFF, "body": "已联系申请人"}
    assert "ps.stale" not in codes(run(engine, "2025-03-10T09:00", **PROXY, events=[REQUEST, note]))


# --- idempotency markers: only internal notes not written by the applicant -------------------------------

OVERDUE = dict(kind="complaint", channel="phone", created_at="2025-01-06T09:00:00+08:00", department="综合窗口")
MARK = "[govhall:tl.overdue:completion]"


def test_an_applicant_pasting_a_marker_does_not_suppress_the_note(engine):
    pasted = {"type": "reply", "at": "2025-01-07T09:00:00+08:00", "public": True, "actor": APPLICANT,
              "body": f"请不要再发提醒 {MARK}"}
    r = run(engine, "2025-03-03T09:00", **OVERDUE, events=[pasted])
    assert MARK in [n.marker for n in r.patch.notes]
    private_by_applicant = {**pasted, "public": False}
    assert MARK in [n.marker for n in run(engine, "2025-03-03T09:00", **OVERDUE, events=[private_by_applicant]).patch.notes]


def test_near_miss_govhall_internal_note_suppresses_it(engine):
    own = {"type": "reply", "at": "2025-02-20T09:00:00+08:00", "public": False, "actor": GOVHALL,
           "body": f"【政务服务规则提醒】超期 {MARK}"}
    r = run(engine, "2025-03-03T09:00", **OVERDUE, events=[own])
    assert MARK not in [n.marker for n in r.patch.notes]
    assert written_markers(build_ticket(**OVERDUE, events=[own])) == {MARK}


# --- who answers for a finding ----------------------------------------------------------------------------

def test_overdue_application_names_the_first_handler_and_the_department_at_the_deadline(engine):
    events = [{"type": "acceptance", "at": "2025-02-24T10:20:00+08:00", "actor": CHIEF, "notice_issued": True},
              {"type": "assignment", "at": "2025-03-05T10:00:00+08:00", "from_department": "社会保障窗口",
               "to_department": "医保窗口", "actor": CHIEF}]
    r = run(engine, "2025-03-10T09:00", **{**ACCEPTED, "department": "医保窗口"}, assignee=STAFF, events=events)
    f = finding(r, "tl.overdue")
    assert f.staff == "s2" and f.department == "社会保障窗口"  # due 03-03, moved on 03-05


def test_overdue_complaint_names_the_assignee(engine):
    r = run(engine, "2025-03-03T09:00", **OVERDUE, assignee=STAFF)
    f = finding(r, "tl.overdue")
    assert f.staff == "s1" and f.department == "综合窗口"
    assert finding(run(engine, "2025-03-03T09:00", **OVERDUE), "tl.overdue").staff is None  # nobody to name


def test_an_applicant_assignee_is_never_named(engine):
    r = run(engine, "2025-03-03T09:00", **OVERDUE, assignee=APPLICANT)
    assert finding(r, "tl.overdue").staff is None


def test_forbidden_phrase_names_the_replier_and_lead_undetermined_names_nobody(engine):
    reply = {"type": "reply", "at": "2025-03-03T09:30:00+08:00", "public": True, "actor": CHIEF, "body": "不归我管"}
    r = run(engine, "2025-03-03T10:00", kind="consultation", channel="counter", created_at="2025-03-03T09:00:00+08:00",
            department="综合窗口", co_departments=["税务窗口"], events=[reply])
    f = finding(r, "fr.forbidden_phrase")
    assert (f.staff, f.department) == ("s2", "不动产登记窗口")
    lead = finding(r, "fr.lead_department_undetermined")
    assert (lead.staff, lead.department) == (None, None)


def test_every_finding_of_the_demo_set_names_a_department_unless_the_catalog_names_nobody(capsys):
    assert main(["check", "examples/tickets.json", "--now", "2025-03-14T16:00:00+08:00"]) == 0
    data = json.loads(capsys.readouterr().out)
    for ticket in data["tickets"]:
        for f in ticket["findings"]:
            assert {"staff", "department"} <= set(f)
            if f["code"] == "fr.lead_department_undetermined":
                assert f["staff"] is None and f["department"] is None
            else:
                assert f["department"], (ticket["id"], f["code"])


# --- Chinese element names ----------------------------------------------------------------------------------

def test_chinese_element_names_answer_completely(engine):
    notice = {"type": "notice", "at": "2025-03-03T09:30:00+08:00", "form": "oral", "actor": STAFF,
              "elements": ["依据", "条件", "材料", "程序", "时限"]}
    r = run(engine, "2025-03-03T10:00", kind="consultation", channel="counter", created_at="2025-03-03T09:00:00+08:00",
            department="综合窗口", events=[notice])
    assert "otn.answer_incomplete" not in codes(r)
    notice["elements"] = ["依据", "条件", "材料", "程序"]
    r = run(engine, "2025-03-03T10:00", kind="consultation", channel="counter", created_at="2025-03-03T09:00:00+08:00",
            department="综合窗口", events=[notice])
    assert finding(r, "otn.answer_incomplete").staff == "s1"


# --- provisional clocks: a year with no published arrangement ---------------------------------------------

class Cn2026:
    """A calendar on which every year after 2026 is unpublished, whatever the library's version knows."""

    @hookimpl
    def govhall_register_calendars(self, register):
        register("cn-2026", lambda: china_holidays_source(last_published=2026))


def test_a_clock_into_2027_is_provisional_and_its_note_says_so(govhall_pm):
    govhall_pm.register(Cn2026(), name="cn-2026")
    engine = build_engine(govhall_pm, {"calendar": {"name": "cn-2026"}})
    complaint = dict(kind="complaint", channel="phone", created_at="2026-12-18T10:00:00+08:00", department="综合窗口")
    with pytest.warns(UserWarning, match="2027"):
        r = engine.evaluate(build_ticket(**complaint), at("2027-01-12T09:00"))
    (c,) = clocks(r, "completion")
    assert c.due_date == date(2027, 1, 11) and c.provisional and c.status == "red"
    (note,) = [n for n in r.patch.notes if n.code == "tl.overdue"]
    assert "暂定" in note.body
    earlier = dict(complaint, created_at="2026-11-02T10:00:00+08:00")
    r = engine.evaluate(build_ticket(**earlier), at("2026-12-01T09:00"))
    assert not clocks(r, "completion")[0].provisional
    assert all("暂定" not in n.body for n in r.patch.notes)
