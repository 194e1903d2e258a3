"""The return-visit list (govhall_sdk.reports.visits): poor evaluations and spot-check draws, read back from the
XLSX and checked against the records; each status from its clock or, for a spot check, from the return visits;
no invented deadline; period and department filters; masking; English; formula-looking visit notes."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from govhall_sdk.reports import tables, visits
from govhall_sdk.reports.data import Period, ReportData

from .test_tables import TZ, read_csv, read_xlsx, text_of

HEADERS = ["工单编号", "事项名称", "帮办代办员", "申请人", "联系电话", "回访原因", "办结时间", "评价", "评价时间",
           "回访期限", "回访状态", "回访时间", "回访情况"]
STATUS_WORDS = {"met": "已回访", "missed": "逾期回访", "green": "待回访", "yellow": "待回访", "red": "逾期未回访"}
RATING_WORDS = {5: "5 非常满意", 4: "4 满意", 3: "3 基本满意", 2: "2 不满意", 1: "1 非常不满意"}
NO_DEADLINE = "不设期限（目录未规定）"


def sheet_of(data: ReportData, tmp_path: Path) -> list[list[Any]]:
    tables.write_xlsx(visits.build(data), tmp_path / "visits.xlsx")
    sheets = read_xlsx(tmp_path / "visits.xlsx")
    assert list(sheets) == ["抽查回访清单"]
    return sheets["抽查回访清单"]


def expected(data: ReportData) -> dict[tuple[str, Any], list[Any]]:
    """Each row the list must have, by (ticket, evaluation instant text), straight from the records: every
    evaluation rated 2 or less of a proxy ticket, and every spot-check draw without one."""
    rows = {}
    for r in data.records:
        if not r.get("proxy"):
            continue
        agent = r["proxy"]["agent"]
        base = [r["id"], r["subject"], f"{agent['name']} ({agent['id']})" if agent else None,
                r["applicant"]["name"], r["applicant"]["phone"]]
        poor = [e for e in r["evaluations"] if 1 <= e["rating"] <= 2]
        for e in poor:
            clock = next(c for c in r["clocks"] if c["name"] == "return_visit" and c["start"] == e["at"])
            visit = next((v for v in sorted(r["return_visits"], key=lambda v: v["at"]) if v["at"] >= e["at"]), None)
            rows[(r["id"], text_of(e["at"]))] = base + [
                "抽查、差评" if r["spot_check"] else "差评", text_of(r["resolved_at"]), RATING_WORDS[e["rating"]],
                text_of(e["at"]), text_of(clock["due_at"]), STATUS_WORDS[clock["status"]],
                text_of(visit["at"]) if visit else None, visit["result"] if visit else None]
        if r["spot_check"] and not poor:
            last = max(r["evaluations"], key=lambda e: e["at"], default=None)
            visit = next((v for v in r["return_visits"] if v["at"] >= r["resolved_at"]), None)
            rows[(r["id"], text_of(last["at"]) if last else None)] = base + [
                "抽查", text_of(r["resolved_at"]), RATING_WORDS[last["rating"]] if last else "未评价",
                text_of(last["at"]) if last else None, NO_DEADLINE, "已回访" if visit else "待回访",
                text_of(visit["at"]) if visit else None, visit["result"] if visit else None]
    return rows


@pytest.fixture(params=["file", "store"])
def any_data(request, demo_data, store_data):
    """The demo tickets' report input from a ticket file and from a state store after two runs."""
    return demo_data if request.param == "file" else store_data


def test_the_xlsx_is_the_records_cell_by_cell(any_data, tmp_path):
    data = any_data()
    sheet = sheet_of(data, tmp_path)
    assert sheet[0] == HEADERS
    got = {(row[0], row[8]): row for row in sheet[1:]}
    assert len(got) == len(sheet) - 1
    assert got == expected(data)
    order = ["逾期未回访", "待回访", "逾期回访", "已回访"]
    assert [order.index(row[10]) for row in sheet[1:]] == sorted(order.index(row[10]) for row in sheet[1:])


def test_the_demo_list_by_hand(demo_data, tmp_path):
    """Read off examples/tickets.json: two poor reviews (one visited in time, one never) and one spot check."""
    rows = {row[0]: row for row in sheet_of(demo_data(), tmp_path)[1:]}
    assert set(rows) == {"DB-2025-0107", "DB-2025-0109", "DB-2025-0120"}
    assert rows["DB-2025-0109"][5:] == ["差评", "2025-02-07 16:00:00+08:00", "1 非常不满意", "2025-02-10 09:00:00+08:00",
                                        "2025-03-03 23:59:59+08:00", "逾期未回访", None, None]
    assert rows["DB-2025-0107"][10:12] == ["已回访", "2025-03-07 10:00:00+08:00"]
    assert rows["DB-2025-0107"][12] == "群众反映等候时间长，已致歉并改进预约"
    assert rows["DB-2025-0120"][5] == "抽查" and rows["DB-2025-0120"][9:11] == [NO_DEADLINE, "待回访"]


def record(**fields: Any) -> dict[str, Any]:
    """A proxy ticket's record with only what the list reads."""
    base = {"id": "T1", "adapter": "file", "subject": "代办", "resolved_at": "2025-03-03T10:00:00+08:00",
            "proxy": {"mode": "proxy", "requested_at": "2025-03-01T10:00:00+08:00",
                      "agent": {"id": "s-1", "name": "甲", "department": "帮办代办窗口"}},
            "evaluations": [], "return_visits": [], "clocks": [], "spot_check": False,
            "applicant": {"name": "乙", "phone": "139****0000"}}
    return {**base, **fields}


def poor(rating: int, at: str, status: str, due: str = "2025-03-25T23:59:59+08:00") -> tuple[dict, dict]:
    return ({"at": at, "rating": rating},
            {"name": "return_visit", "start": at, "due_at": due, "status": status})


def build(*records: dict[str, Any], period: Period = Period()) -> list[dict[str, Any]]:
    data = ReportData(list(records), [], {}, period, datetime(2025, 4, 1, tzinfo=TZ), TZ)
    return visits.build(data)[0].rows


@pytest.mark.parametrize("clock, status", [("met", "done"), ("missed", "late"), ("green", "pending"),
                                           ("yellow", "pending"), ("paused", "pending"), ("red", "overdue")])
def test_each_status_from_its_clock(clock, status):
    evaluation, visit_clock = poor(1, "2025-03-04T09:00:00+08:00", clock)
    [row] = build(record(evaluations=[evaluation], clocks=[visit_clock]))
    assert row["status"] == status and row["reason"] == "poor_review" and row["rating"] == 1
    assert row["deadline"] == datetime(2025, 3, 25, 23, 59, 59, tzinfo=TZ)


def test_two_poor_reviews_two_rows_and_a_draw_with_one_is_on_its_row():
    first, first_clock = poor(2, "2025-03-04T09:00:00+08:00", "met")
    second, second_clock = poor(1, "2025-03-20T09:00:00+08:00", "green", "2025-04-10T23:59:59+08:00")
    rows = build(record(evaluations=[first, second], clocks=[first_clock, second_clock], spot_check=True,
                        return_visits=[{"at": "2025-03-05T09:00:00+08:00", "result": "已处理"}]))
    assert [(r["rating"], r["status"], r["reason"]) for r in rows] == [
        (1, "pending", "spot_check+poor_review"), (2, "done", "spot_check+poor_review")]
    assert rows[1]["visited_at"] == datetime(2025, 3, 5, 9, tzinfo=TZ) and rows[0]["visited_at"] is None


def test_a_spot_check_has_no_deadline_and_its_status_from_the_visits():
    [pending] = build(record(spot_check=True, return_visits=[{"at": "2025-03-02T09:00:00+08:00", "result": "早"}]))
    assert pending["deadline"] is None and pending["status"] == "pending"  # a visit before resolution is not it
    [done] = build(record(spot_check=True, return_visits=[{"at": "2025-03-06T09:00:00+08:00", "result": "好"}]))
    assert done["deadline"] is None and done["status"] == "done" and done["visit_result"] == "好"
    assert done["rating"] is None
    table = visits.build(ReportData([record(spot_check=True)], [], {}, Period(), datetime(2025, 4, 1, tzinfo=TZ),
                                    TZ, lang="en"))[0]
    assert list(table.cells())[0][9:11] == ["none (the catalog sets none)", "to be visited"]


def test_the_period_holds_the_evaluation_or_the_resolution(demo_data):
    period = Period(datetime(2025, 3, 1, tzinfo=TZ), datetime(2025, 3, 8, tzinfo=TZ))
    data = demo_data(period=period)
    ids = {row["ticket_id"] for row in visits.build(data)[0].rows}
    # 0107: rated 2 on 03-05 (in); 0109: rated 1 on 02-10 (out); 0120: a draw resolved on 03-10 (out)
    assert ids == {"DB-2025-0107"}
    later = demo_data(period=Period(datetime(2025, 3, 8, tzinfo=TZ), None))
    assert {row["ticket_id"] for row in visits.build(later)[0].rows} == {"DB-2025-0120"}


def test_the_department_filter(demo_data):
    data = demo_data(department="公积金窗口")
    assert {row["ticket_id"] for row in visits.build(data)[0].rows} == {"DB-2025-0107"}


def test_phones_masked_unless_unmasked(demo_data, tmp_path):
    masked = sheet_of(demo_data(), tmp_path)
    assert {row[4] for row in masked[1:]} == {"136****9012", "133****7405", "135****8820"}
    unmasked = demo_data(unmasked=True)
    rows = sheet_of(unmasked, tmp_path)[1:]
    assert {row[4] for row in rows} == {unmasked.contacts[("file", row[0])] for row in rows}


def test_csv_and_json(demo_data, tmp_path):
    built = visits.build(demo_data())
    [path] = tables.write_csv(built, tmp_path / "visits.csv")
    assert read_csv(path) == [["" if v is None else str(v) for v in row] for row in sheet_of(demo_data(), tmp_path)]
    document = tables.json_document(built)
    assert list(document["visits"][0]) == ["ticket_id", "subject", "agent", "applicant", "applicant_phone", "reason",
                                           "resolved_at", "rating", "evaluated_at", "deadline", "status",
                                           "visited_at", "visit_result"]
    spot = next(row for row in document["visits"] if row["ticket_id"] == "DB-2025-0120")
    assert spot["deadline"] is None and spot["reason"] == "spot_check" and spot["status"] == "pending"


def test_english_headers(demo_data, tmp_path):
    tables.write_xlsx(visits.build(demo_data(lang="en")), tmp_path / "en.xlsx")
    sheet = read_xlsx(tmp_path / "en.xlsx")["Spot checks and return visits"]
    assert sheet[0] == ["Ticket", "Item", "Agent", "Applicant", "Phone", "Reason", "Completed at", "Evaluation",
                        "Evaluated at", "Visit due by", "Status", "Visited at", "Result"]
    assert sheet[1][5] == "poor review" and sheet[1][10] == "overdue, not visited"


def test_a_visit_note_that_looks_like_a_formula_stays_text(tmp_path):
    evil = "@SUM(1+1)*cmd|' /C calc'!A0"
    evaluation, clock = poor(1, "2025-03-04T09:00:00+08:00", "met")
    data = ReportData([record(evaluations=[evaluation], clocks=[clock],
                              return_visits=[{"at": "2025-03-05T09:00:00+08:00", "result": evil}])],
                      [], {}, Period(), datetime(2025, 4, 1, tzinfo=TZ), TZ)
    built = visits.build(data)
    [path] = tables.write_csv(built, tmp_path / "evil.csv")
    assert read_csv(path)[1][-1] == "'" + evil
    tables.write_xlsx(built, tmp_path / "evil.xlsx")
    assert read_xlsx(tmp_path / "evil.xlsx")["抽查回访清单"][1][-1] == evil


def test_phone_numbers_in_ticket_text_are_masked_even_unmasked(demo_data):
    """--unmasked unmasks the applicant's phone column, not a number written into a subject or a visit's note."""
    evaluation, clock = poor(1, "2025-03-04T09:00:00+08:00", "met")
    raw = record(subject="代办 请回电 13912345678", evaluations=[evaluation], clocks=[clock],
                 return_visits=[{"at": "2025-03-05T09:00:00+08:00", "result": "已联系 139 1234 5678"}])
    for contacts in (None, {("file", "T1"): "13900000000"}):
        data = ReportData([raw], [], {}, Period(), datetime(2025, 4, 1, tzinfo=TZ), TZ, contacts=contacts)
        [row] = visits.build(data)[0].rows
        assert row["subject"] == "代办 请回电 139****5678" and row["visit_result"] == "已联系 139 **** 5678"
        assert row["applicant_phone"] == ("13900000000" if contacts else "139****0000")
