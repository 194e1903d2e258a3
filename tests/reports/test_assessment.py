"""The assessment (govhall_sdk.reports.assessment): violations by staff member, department, system and clause,
counted here straight from the history and the catalog and read back from the XLSX; the no-one-named rows;
the overdue items with their directly responsible person; period and department filters; English headers."""
from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from govhall_sdk.reports import assessment, tables
from govhall_sdk.reports.data import Occurrence, Period, ReportData

from .test_tables import TZ, read_csv, read_xlsx, text_of

SYSTEM_HEADERS = ["一次性告知制度", "限时办结制度", "首问（办）负责制度", "帮办代办制度"]
RULES = ["one_time_notice", "time_limit", "first_responsibility", "proxy_service"]
SHEETS = ["人员违规汇总", "部门违规汇总", "违规明细（按制度、条款）", "超期件直接责任人"]


def violations(data: ReportData) -> list[Occurrence]:
    """The occurrences the assessment must count: violations in the catalog, ``at`` in the period."""
    period = data.period
    return [o for o in data.history if data.catalog.get(o.code) and data.catalog[o.code].severity == "violation"
            and (period.start is None or o.at >= period.start) and (period.end is None or o.at < period.end)]


def names(data: ReportData) -> dict[tuple[str, str], str]:
    """Each staff member as their ticket names them, ``name (id)``, by (ticket, staff id), from the records."""
    return {(r["id"], staff): f"{p['name']} ({staff})" for r in data.records
            for staff, p in (r.get("people") or {}).items()}


def who(o: Occurrence, people: dict[tuple[str, str], str]) -> tuple[Any, Any]:
    """(staff id, ``name (id)`` or 未指明责任人) of an occurrence."""
    return (o.staff, people[(o.ticket_id, o.staff)]) if o.staff else (None, "未指明责任人")


def workbook(data: ReportData, tmp_path: Path) -> dict[str, list[list[Any]]]:
    tables.write_xlsx(assessment.build(data), tmp_path / "assessment.xlsx")
    return read_xlsx(tmp_path / "assessment.xlsx")


@pytest.fixture(params=["file", "store"])
def any_data(request, demo_data, store_data):
    """The demo tickets' report input from a ticket file and from a state store after two runs."""
    return demo_data if request.param == "file" else store_data


def test_by_staff_member_and_system_cell_by_cell(any_data, tmp_path):
    data = any_data()
    sheets = workbook(data, tmp_path)
    assert list(sheets) == SHEETS
    sheet = sheets["人员违规汇总"]
    assert sheet[0] == ["工号", "直接责任人", "所属部门"] + SYSTEM_HEADERS + ["合计"]
    counted = violations(data)
    people = names(data)
    by = Counter((who(o, people), data.catalog[o.code].rule) for o in counted)
    totals = Counter(who(o, people) for o in counted)
    body, total = sheet[1:-1], sheet[-1]
    assert body[-1][:2] == [None, "未指明责任人"]  # no one named: last
    assert [tuple(row[:2]) for row in body] == list({tuple(row[:2]): 0 for row in body})  # each once
    assert {tuple(row[:2]) for row in body} == set(totals)
    for row in body:
        assert row[3:] == [by[(tuple(row[:2]), rule)] for rule in RULES] + [totals[tuple(row[:2])]]
    assert [row[7] for row in body] == sorted((row[7] for row in body[:-1]), reverse=True) + [body[-1][7]]
    assert total == ["合计", None, None] + [sum(by[(w, rule)] for w in totals) for rule in RULES] + [len(counted)]


def test_by_department_cell_by_cell_and_no_one_named_is_counted(any_data, tmp_path):
    data = any_data()
    sheet = workbook(data, tmp_path)["部门违规汇总"]
    assert sheet[0] == ["部门"] + SYSTEM_HEADERS + ["合计"]
    counted = violations(data)
    by = Counter((o.department, data.catalog[o.code].rule) for o in counted)
    totals = Counter(o.department for o in counted)
    rows = {row[0]: row[1:] for row in sheet[1:-1]}
    assert set(rows) == {d or "未指明部门" for d in totals}
    for department, count in totals.items():
        assert rows[department or "未指明部门"] == [by[(department, rule)] for rule in RULES] + [count]
    assert sheet[-1][0] == "合计" and sheet[-1][-1] == len(counted)


def test_the_demo_counts_by_hand(demo_data, tmp_path):
    """Figures read off examples/tickets.json: 24 violations, 5 of them naming nobody."""
    sheets = workbook(demo_data(), tmp_path)
    staff = {row[1]: row for row in sheets["人员违规汇总"][1:-1]}
    assert staff["未指明责任人"] == [None, "未指明责任人", None, 1, 3, 1, 0, 5]
    assert staff["赵丽 (s-zhao)"] == ["s-zhao", "赵丽 (s-zhao)", "帮办代办窗口", 0, 0, 0, 2, 2]
    # one id, two names on two windows' tickets: two people, neither answering for the other
    assert staff["何静 (s-he)"] == ["s-he", "何静 (s-he)", "社会保障窗口", 0, 2, 0, 0, 2]
    assert staff["何佳 (s-he)"] == ["s-he", "何佳 (s-he)", "税务窗口", 0, 0, 1, 0, 1]
    assert sheets["人员违规汇总"][-1][-1] == 24


def test_by_system_and_clause(demo_data, tmp_path):
    data = demo_data()
    sheet = workbook(data, tmp_path)["违规明细（按制度、条款）"]
    assert sheet[0] == ["部门", "工号", "直接责任人", "制度", "代码", "条款", "次数"]
    people = names(data)
    expected = Counter((o.department or "未指明部门", who(o, people), o.code) for o in violations(data))
    got = {}
    for department, staff, person, system, code, clause, count in sheet[1:-1]:
        info = data.catalog[code]
        assert system == SYSTEM_HEADERS[RULES.index(info.rule)] and clause == info.clause
        got[(department, (staff, person), code)] = count
    assert got == dict(expected)
    assert sheet[-1] == ["合计", None, None, None, None, None, sum(expected.values())]


def overdue_expected(data: ReportData) -> list[tuple[Any, ...]]:
    """(ticket, code, deadline text, staff, person, department) of each clock violation whose deadline is in the
    period, straight from the records."""
    people = names(data)
    period = data.period
    found = []
    for r in data.records:
        for f in r["findings"]:
            due = datetime.fromisoformat(f["due_at"]) if f["due_at"] else None
            if f["clock"] and due and data.catalog[f["code"]].severity == "violation" \
                    and (period.start is None or due >= period.start) and (period.end is None or due < period.end):
                found.append((r["id"], f["code"], text_of(f["due_at"]), f["staff"],
                              people[(r["id"], f["staff"])] if f["staff"] else "未指明责任人", f["department"]))
    return sorted(found, key=lambda x: (x[2], x[0], x[1]))


def test_overdue_items_name_their_directly_responsible_person(any_data, tmp_path):
    data = any_data()
    sheet = workbook(data, tmp_path)["超期件直接责任人"]
    assert sheet[0] == ["工单编号", "事项名称", "代码", "制度", "条款", "时限", "期限", "状态", "工号", "直接责任人",
                        "责任部门"]
    got = [(row[0], row[2], row[6], row[8], row[9], row[10]) for row in sheet[1:]]
    assert got == overdue_expected(data)
    codes = {row[2] for row in sheet[1:]}
    assert {"tl.overdue", "tl.supervision_overdue", "ps.return_visit_overdue"} <= codes
    subjects = {r["id"]: r["subject"] for r in data.records}
    assert all(row[1] == subjects[row[0]] for row in sheet[1:])
    assert all(row[7] in ("超期未完成", "超期后完成") for row in sheet[1:])


def test_the_demo_overdue_items_by_hand(demo_data, tmp_path):
    rows = {(row[0], row[2]): row for row in workbook(demo_data(), tmp_path)["超期件直接责任人"][1:]}
    assert rows[("TC-2025-0342", "tl.overdue")][5:] == ["办结", "2025-03-03 23:59:59+08:00", "超期未完成", "s-he",
                                                       "何静 (s-he)", "社会保障窗口"]
    assert rows[("TC-2025-0324", "tl.supervision_overdue")][8:] == [None, "未指明责任人", "自然资源和规划窗口"]
    assert rows[("TC-2025-0333", "fr.transfer_overdue")][7] == "超期后完成"
    assert ("TC-2025-0342", "tl.extension_late") not in rows  # an event's violation, not a clock that ran out


def test_the_period_filter(demo_data, tmp_path):
    period = Period(datetime(2025, 3, 1, tzinfo=TZ), datetime(2025, 3, 8, tzinfo=TZ))
    data = demo_data(period=period)
    counted = violations(data)
    assert 0 < len(counted) < len(violations(demo_data()))
    sheets = workbook(data, tmp_path)
    assert sheets["人员违规汇总"][-1][-1] == sheets["部门违规汇总"][-1][-1] == len(counted)
    overdue = [(row[0], row[2], row[6], row[8], row[9], row[10]) for row in sheets["超期件直接责任人"][1:]]
    assert overdue == overdue_expected(data) and overdue


def test_the_department_filter_counts_what_that_department_answers_for(demo_data, tmp_path):
    data = demo_data(department="帮办代办窗口")
    counted = [o for o in violations(data) if o.department == "帮办代办窗口"]
    sheets = workbook(data, tmp_path)
    assert [row[0] for row in sheets["部门违规汇总"][1:-1]] == ["帮办代办窗口"]
    assert sheets["部门违规汇总"][-1][-1] == len(counted) == 3
    assert {row[0] for row in sheets["人员违规汇总"][1:-1]} == {o.staff for o in counted} == {"s-zhao", "s-xu"}
    assert {row[10] for row in sheets["超期件直接责任人"][1:]} == {"帮办代办窗口"}


def test_csv_one_file_per_table(demo_data, tmp_path):
    built = assessment.build(demo_data())
    paths = tables.write_csv(built, tmp_path / "assessment.csv")
    assert [p.name for p in paths] == ["assessment-staff.csv", "assessment-departments.csv",
                                       "assessment-clauses.csv", "assessment-overdue.csv"]
    sheets = workbook(demo_data(), tmp_path)
    for path, sheet in zip(paths, SHEETS):
        assert read_csv(path) == [["" if v is None else str(v) for v in row] for row in sheets[sheet]]


def test_json_keys(demo_data):
    document = tables.json_document(assessment.build(demo_data()))
    assert list(document) == ["staff", "departments", "clauses", "overdue"]
    nobody = document["staff"][-1]
    assert nobody == {"staff_id": None, "person": None, "department": None, "one_time_notice": 1, "time_limit": 3,
                      "first_responsibility": 1, "proxy_service": 0, "total": 5}
    assert document["overdue"][0]["deadline"] == "2025-03-03T23:59:59+08:00"
    assert {row["system"] for row in document["clauses"]} == set(RULES)


def test_english(demo_data, tmp_path):
    sheets = workbook(demo_data(lang="en"), tmp_path)
    assert list(sheets) == ["Violations by staff member", "Violations by department",
                            "Violations by system and clause", "Overdue items and who answers"]
    staff = sheets["Violations by staff member"]
    assert staff[0] == ["Staff id", "Responsible person", "Department", "One-time notification",
                        "Time-limited completion", "First-inquiry responsibility", "Help and proxy service", "Total"]
    assert staff[-2][1] == "no one named" and staff[-1][0] == "Total"
    assert sheets["Overdue items and who answers"][1][5] == "return visit"


def test_a_third_party_system_gets_its_column():
    from govhall_sdk.reports.data import CodeInfo
    catalog = {"tl.overdue": CodeInfo("tl.overdue", "time_limit", "violation", "限时办结制度 第八条"),
               "x.late": CodeInfo("x.late", "extra_rule", "violation", "本地制度 第一条")}
    at = datetime(2025, 3, 3, tzinfo=TZ)
    history = [Occurrence("file", "T1", "x.late", "s-1", "窗口", at, at),
               Occurrence("file", "T1", "tl.overdue", None, None, at, at)]
    data = ReportData([{"id": "T1", "adapter": "file", "people": {}, "findings": []}], history, catalog, Period(),
                      at, TZ)
    staff, departments, clauses, overdue = assessment.build(data)
    assert [c.key for c in staff.columns][3:] == ["time_limit", "extra_rule", "total"]
    assert staff.rows == [{"staff_id": "s-1", "person": "s-1", "department": None, "time_limit": 0, "extra_rule": 1,
                           "total": 1},
                          {"staff_id": None, "person": None, "department": None, "time_limit": 1, "extra_rule": 0,
                           "total": 1}]
    assert [row["department"] for row in departments.rows] == ["窗口", None]
    assert next(c for c in clauses.columns if c.key == "system").text("extra_rule", "zh") == "extra_rule"
    assert overdue.rows == []
