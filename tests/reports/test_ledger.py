"""The 帮办代办 ledger (govhall_sdk.reports.ledger): the XLSX read back cell by cell against the records (of a
ticket file and of a state store), the CSV read back, the notice's column names, the period and department
filters, masking (no unmasked phone in any output of any report unless --unmasked) and English headers."""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from govhall_sdk.reports import assessment, ledger, tables, visits
from govhall_sdk.reports.data import Period, ReportData

from .test_tables import TZ, read_csv, read_xlsx, text_of

NOTICE_COLUMNS = ["事项名称", "受理时间", "办结时间", "帮办代办员信息", "申请人信息"]
MODE_WORDS = {"help": "帮办", "proxy": "代办", "home": "上门办", "assisted": "协助办"}
RATING_WORDS = {5: "5 非常满意", 4: "4 满意", 3: "3 基本满意", 2: "2 不满意", 1: "1 非常不满意"}


def expected_row(record: dict[str, Any], data: ReportData) -> list[Any]:
    """A ledger row as the XLSX must show it, straight from the record."""
    proxy = record["proxy"]
    agent = proxy["agent"]
    evaluations = sorted(record["evaluations"], key=lambda e: datetime.fromisoformat(e["at"]))
    last = evaluations[-1] if evaluations else None
    phone = (data.contacts or {}).get((record["adapter"], record["id"])) or record["applicant"]["phone"]
    return [record["id"], record["subject"], MODE_WORDS[proxy["mode"]], text_of(proxy["requested_at"]),
            text_of(record["accepted_at"]), text_of(record["resolved_at"]),
            f"{agent['name']} ({agent['id']})" if agent else None, agent["department"] if agent else None,
            record["applicant"]["name"], phone, RATING_WORDS[last["rating"]] if last else "未评价",
            text_of(last["at"]) if last else None]


def write_ledger(data: ReportData, tmp_path: Path) -> list[list[Any]]:
    """The ledger's only sheet, read back."""
    tables.write_xlsx(ledger.build(data), tmp_path / "ledger.xlsx")
    sheets = read_xlsx(tmp_path / "ledger.xlsx")
    assert list(sheets) == ["帮办代办工作登记台账"]
    return sheets["帮办代办工作登记台账"]


@pytest.fixture(params=["file", "store"])
def any_data(request, demo_data, store_data):
    """The demo tickets' report input from a ticket file and from a state store after two runs."""
    return demo_data if request.param == "file" else store_data


def test_the_xlsx_is_the_records_cell_by_cell(any_data, tmp_path):
    data = any_data()
    sheet = write_ledger(data, tmp_path)
    assert sheet[0] == ["工单编号", "事项名称", "服务方式", "申请时间", "受理时间", "办结时间", "帮办代办员信息",
                        "帮办代办员部门", "申请人信息", "申请人电话", "评价", "评价时间"]
    proxies = sorted((r for r in data.records if r.get("proxy")),
                     key=lambda r: (datetime.fromisoformat(r["proxy"]["requested_at"]), r["id"]))
    assert len(proxies) == 10
    assert sheet[1:] == [expected_row(r, data) for r in proxies]


def test_the_notice_columns_are_there_as_the_notice_names_them(demo_data):
    [table] = ledger.build(demo_data())
    headers = table.headers()
    assert all(headers.count(name) == 1 for name in NOTICE_COLUMNS)
    assert [h for h in headers if h in NOTICE_COLUMNS] == NOTICE_COLUMNS


def test_the_demo_ledger_reads_as_expected(demo_data, tmp_path):
    """A few cells written out by hand from examples/tickets.json."""
    rows = {row[0]: row for row in write_ledger(demo_data(), tmp_path)[1:]}
    assert rows["DB-2025-0103"][1:7] == ["营业执照设立登记（代办）", "代办", "2025-03-03 09:05:00+08:00",
                                         "2025-03-03 10:00:00+08:00", "2025-03-04 16:00:00+08:00", "赵丽 (s-zhao)"]
    assert rows["DB-2025-0103"][8:] == ["高志远", "139****1234", "3 基本满意", "2025-03-05 09:00:00+08:00"]
    assert rows["DB-2025-0105"][6:8] == [None, None]  # no agent named: the ledger shows the gap
    assert rows["DB-2025-0110"][4:6] == [None, None] and rows["DB-2025-0110"][10] == "未评价"


def test_the_csv_reads_back_as_the_xlsx(demo_data, tmp_path):
    data = demo_data()
    built = ledger.build(data)
    [path] = tables.write_csv(built, tmp_path / "ledger.csv")
    sheet = write_ledger(data, tmp_path)
    assert read_csv(path) == [["" if v is None else str(v) for v in row] for row in sheet]
    assert "帮办代办员信息" in path.read_text(encoding="utf-8-sig")


def test_json_keys_and_values(demo_data, tmp_path):
    data = demo_data()
    [path] = tables.write_json(ledger.build(data), tmp_path / "ledger.json")
    rows = {row["ticket_id"]: row for row in json.loads(path.read_text(encoding="utf-8"))["ledger"]}
    record = next(r for r in data.records if r["id"] == "DB-2025-0107")
    assert rows["DB-2025-0107"] == {
        "ticket_id": "DB-2025-0107", "subject": record["subject"], "mode": "help",
        "requested_at": "2025-03-03T10:05:00+08:00", "accepted_at": "2025-03-03T10:40:00+08:00",
        "resolved_at": "2025-03-04T15:00:00+08:00", "agent": "徐芳 (s-xu)", "agent_department": "帮办代办窗口",
        "applicant": "宋宇航", "applicant_phone": "136****9012", "rating": 2,
        "evaluated_at": "2025-03-05T09:00:00+08:00"}
    assert rows["DB-2025-0110"]["rating"] is None


def test_the_period_holds_the_request_or_the_acceptance(demo_data):
    period = Period(datetime(2025, 3, 10, 9, 10, tzinfo=TZ), datetime(2025, 3, 12, 9, 30, tzinfo=TZ))
    data = demo_data(period=period)
    [table] = ledger.build(data)

    def inside(text):
        return text is not None and period.start <= datetime.fromisoformat(text) < period.end
    expected = {r["id"] for r in data.records if r.get("proxy")
                and (inside(r["proxy"]["requested_at"]) or inside(r["accepted_at"]))}
    # DB-2025-0102 was requested at 09:05, before the period, and accepted at 09:30, in it
    assert {row["ticket_id"] for row in table.rows} == expected == {"DB-2025-0102", "DB-2025-0104"}


def test_an_accepted_late_request_is_on_the_month_of_its_acceptance():
    record = {"id": "T1", "adapter": "file", "subject": "代办", "accepted_at": "2025-03-02T10:00:00+08:00",
              "resolved_at": None, "proxy": {"mode": "proxy", "requested_at": "2025-02-27T10:00:00+08:00",
                                             "agent": None}, "evaluations": [], "applicant": {"name": "甲"}}
    march = Period(datetime(2025, 3, 1, tzinfo=TZ), datetime(2025, 4, 1, tzinfo=TZ))
    april = Period(datetime(2025, 4, 1, tzinfo=TZ), datetime(2025, 5, 1, tzinfo=TZ))
    for period, rows in ((march, 1), (april, 0)):
        data = ReportData([record], [], {}, period, datetime(2025, 4, 1, tzinfo=TZ), TZ)
        assert len(ledger.build(data)[0].rows) == rows


def test_the_department_filter(demo_data):
    data = demo_data(department="市场监管窗口")
    [table] = ledger.build(data)
    ids = {row["ticket_id"] for row in table.rows}
    assert ids == {"DB-2025-0101", "DB-2025-0103", "DB-2025-0105", "DB-2025-0106", "DB-2025-0120"}


def _everything(data: ReportData, folder: Path) -> str:
    """Every output of every report, as one text: the CSV files, the JSON and every XLSX cell."""
    texts = []
    for report in (ledger, assessment, visits):
        built = report.build(data)
        name = report.__name__.rsplit(".", 1)[1]
        paths = tables.write_csv(built, folder / f"{name}.csv") + tables.write_json(built, folder / f"{name}.json")
        texts += [p.read_text(encoding="utf-8-sig") for p in paths]
        tables.write_xlsx(built, folder / f"{name}.xlsx")
        texts += [str(cell) for rows in read_xlsx(folder / f"{name}.xlsx").values() for row in rows for cell in row]
    return "\n".join(texts)


def test_no_unmasked_phone_anywhere_unless_unmasked(any_data, tmp_path):
    raw = set(any_data(unmasked=True).contacts.values())
    assert len(raw) == 10
    masked = _everything(any_data(), tmp_path)
    assert [p for p in raw if p in masked] == []
    assert "139****8847" in masked
    (tmp_path / "unmasked").mkdir()
    unmasked = _everything(any_data(unmasked=True), tmp_path / "unmasked")
    assert all(p in unmasked for p in raw)


def test_with_unmasked_the_ledger_shows_the_real_phone(any_data, tmp_path):
    data = any_data(unmasked=True)
    sheet = write_ledger(data, tmp_path)
    phones = {row[0]: row[9] for row in sheet[1:]}
    assert phones["DB-2025-0101"] == "13992958847"
    assert phones == {r["id"]: data.contacts[(r["adapter"], r["id"])] for r in data.records if r.get("proxy")}


def test_english_headers_and_words(demo_data, tmp_path):
    [table] = ledger.build(demo_data(lang="en"))
    tables.write_xlsx([table], tmp_path / "en.xlsx")
    sheet = read_xlsx(tmp_path / "en.xlsx")["Help and proxy service ledger"]
    assert sheet[0] == ["Ticket", "Item", "Service mode", "Requested at", "Accepted at", "Completed at", "Agent",
                        "Agent's department", "Applicant", "Applicant's phone", "Evaluation", "Evaluated at"]
    rows = {row[0]: row for row in sheet[1:]}
    assert rows["DB-2025-0109"][2] == "Proxy" and rows["DB-2025-0109"][10] == "1 very dissatisfied"
    assert rows["DB-2025-0110"][10] == "not evaluated"


def test_ticket_text_that_looks_like_a_formula_stays_text(demo_data, tmp_path):
    data = demo_data()
    evil = "=HYPERLINK(\"http://evil.example\",\"申请\")"
    records = [{**r, "subject": evil} if r["id"] == "DB-2025-0101" else r for r in data.records]
    built = ledger.build(ReportData(records, data.history, data.catalog, data.period, data.as_of, data.tz))
    [path] = tables.write_csv(built, tmp_path / "evil.csv")
    assert ["DB-2025-0101", "'" + evil] == read_csv(path)[3][:2]
    tables.write_xlsx(built, tmp_path / "evil.xlsx")  # read_xlsx asserts that no cell is a formula
    assert read_xlsx(tmp_path / "evil.xlsx")["帮办代办工作登记台账"][3][:2] == ["DB-2025-0101", evil]
