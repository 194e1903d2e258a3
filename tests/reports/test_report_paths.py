"""The reports' one-loop and candidate paths (kpi, assessment, visits, ledger) against the plain per-record
paths they stand for, written here as the modules' docstrings state them: over hypothesis records and
histories whose instants are written in several offsets and repeat (ties), in time zones whose clocks go back
at midnight, with and without a period (of dates, of instants) and ``--department``."""
from __future__ import annotations

import heapq
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

from govhall_sdk.reports import assessment, kpi, ledger, visits
from govhall_sdk.reports.data import CodeInfo, Occurrence, Period, ReportData, free_text, instant, local

#: Sao Paulo's clocks went back from midnight to 23:00 on 2018-02-18: its wall times out of their order.
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
ZONES = [SAO_PAULO, ZoneInfo("Asia/Shanghai"), timezone.utc]
FALL_BACK = datetime(2018, 2, 18, 2, 0, tzinfo=timezone.utc)  # 00:00 in Sao Paulo, the clocks back to 23:00
OFFSETS = [timezone(timedelta(hours=h, minutes=m)) for h, m in ((-2, 0), (-3, 0), (8, 0), (0, 0), (5, 45))]
CATALOG = {
    "tl.overdue": CodeInfo("tl.overdue", "time_limit", "violation", "限时办结制度 第八条"),
    "fr.shirking": CodeInfo("fr.shirking", "first_responsibility", "violation", "首问（办）负责制度 第六条(三)"),
    "tl.due_soon": CodeInfo("tl.due_soon", "time_limit", "warning", "限时办结制度 第六条"),
}
CODES = [*CATALOG, "xx.unknown"]
CLOCKS = ["completion", "first_reply", "return_visit"]
STATUSES = ["green", "yellow", "red", "met", "missed", "paused"]
DEPARTMENTS = ["窗口A", "窗口B", None]
STAFF = ["s1", "s2", None]

#: Instants a few hours apart around Sao Paulo's fall-back, each written in one of several offsets: they tie.
moments = st.builds(lambda minutes, offset: (FALL_BACK + timedelta(minutes=30 * minutes)).astimezone(offset),
                    st.integers(-6, 6), st.sampled_from(OFFSETS))
texts = st.one_of(moments.map(datetime.isoformat), st.sampled_from([None, ""]))
clock = st.fixed_dictionaries({"name": st.sampled_from(CLOCKS), "start": moments.map(datetime.isoformat),
                               "due_at": moments.map(datetime.isoformat), "status": st.sampled_from(STATUSES)})
finding = st.fixed_dictionaries({
    "code": st.sampled_from(CODES), "clock": st.sampled_from([*CLOCKS, None]), "due_at": texts,
    "staff": st.sampled_from(STAFF), "department": st.sampled_from(DEPARTMENTS)})
proxy = st.one_of(st.none(), st.fixed_dictionaries({
    "mode": st.sampled_from(["help", "proxy"]), "requested_at": moments.map(datetime.isoformat),
    "agent": st.one_of(st.none(), st.fixed_dictionaries({"id": st.sampled_from(["a1", "a2"]),
                                                         "name": st.sampled_from([None, "张三"])}))}))
evaluation = st.fixed_dictionaries({"at": moments.map(datetime.isoformat), "rating": st.sampled_from([None, 1, 2, 4, 5])})
record = st.fixed_dictionaries({
    "id": st.sampled_from([f"T{i}" for i in range(6)]), "adapter": st.sampled_from(["a", "b"]),
    "subject": st.sampled_from(["事项", "请回电 13812345678"]), "department": st.sampled_from(DEPARTMENTS),
    "lead_department": st.sampled_from(DEPARTMENTS), "created_at": texts, "accepted_at": texts,
    "resolved_at": texts, "light": st.sampled_from([None, "red", "yellow", "green"]),
    "clocks": st.lists(clock, max_size=4), "findings": st.lists(finding, max_size=3), "proxy": proxy,
    "evaluations": st.lists(evaluation, max_size=2),
    "return_visits": st.lists(st.fixed_dictionaries({"at": moments.map(datetime.isoformat)}), max_size=2),
    "spot_check": st.booleans(), "people": st.just({"s1": {"name": "李娜", "department": "窗口A"}, "s2": {}}),
    "applicant": st.just({"name": "申请人", "phone": "139****1234"})})
bounds = st.one_of(st.none(), moments)


@st.composite
def report_data(draw: Any) -> ReportData:
    """Records, their history, a period, a zone and maybe a department, as ``ReportData``."""
    records = draw(st.lists(record, max_size=25))
    tickets = [(r["adapter"], r["id"]) for r in records] or [("a", "T0")]
    history = [Occurrence(*draw(st.sampled_from(tickets)), draw(st.sampled_from(CODES)), draw(st.sampled_from(STAFF)),
                          draw(st.sampled_from(DEPARTMENTS)), at, at)
               for at in draw(st.lists(moments, max_size=25))]
    start, end = draw(bounds), draw(bounds)
    return ReportData(records, history, CATALOG, Period(start, end), FALL_BACK, draw(st.sampled_from(ZONES)),
                      department=draw(st.sampled_from([None, "窗口A"])))


# -- the plain paths ------------------------------------------------------------------------------------------------

def plain_counts(data: ReportData) -> dict[str, Any]:
    """overdue, due soon and on-time completion, record by record."""
    statuses = [{c["status"] for c in r.get("clocks", ())} for r in data.records]
    completion = [next((c["status"] for c in r["clocks"] if c["name"] == "completion"), None)
                  for r in data.records if r.get("resolved_at") and data.period.holds_text(r["resolved_at"])]
    return {"red": sum("red" in s for s in statuses), "yellow_only": sum("yellow" in s and "red" not in s for s in statuses),
            "completion": kpi.ratio(completion.count("met"), completion.count("met") + completion.count("missed"))}


def plain_series(data: ReportData, texts: list[str | None]) -> tuple[Counter, Any, Any]:
    """A trend series record by record: by local date, the first and the last instant."""
    ats = [at for at in map(instant, texts) if at is not None and data.period.holds(at)]
    return Counter(at.astimezone(data.tz).date() for at in ats), min(ats, default=None), max(ats, default=None)


def plain_weekly(data: ReportData) -> list[dict[str, Any]]:
    found = data.violations()
    days = {"created": plain_series(data, [r.get("created_at") for r in data.records]),
            "resolved": plain_series(data, [r.get("resolved_at") for r in data.records]),
            "violations": (Counter(o.at.astimezone(data.tz).date() for o in found),
                           min((o.at for o in found), default=None), max((o.at for o in found), default=None))}
    span = kpi._span(data, [(first, last) for _, first, last in days.values()])
    if span is None:
        return []
    counts = {name: kpi._weeks(by_day) for name, (by_day, _, _) in days.items()}
    weeks, monday = [], span[0]
    while monday <= span[1]:
        year, week, _ = monday.isocalendar()
        weeks.append({"week": f"{year}-W{week:02d}", "start": monday.isoformat(),
                      **{name: counted[monday] for name, counted in counts.items()}})
        monday += timedelta(days=7)
    return weeks


def plain_longest(data: ReportData, limit: int) -> list[tuple[Any, str, str]]:
    """(deadline, clock, ticket) of the ``limit`` open red tickets with the earliest deadlines, of every one."""
    open_red = [r for r in data.records if r.get("resolved_at") is None
                and any(c["status"] == "red" for c in r.get("clocks", ()))]
    overdue = [(kpi._earliest_red(r), r) for r in open_red]
    return [(due.isoformat(), name, r["id"], r["adapter"])
            for (due, name), r in heapq.nsmallest(limit, overdue, key=lambda pair: (pair[0][0], pair[1]["id"]))]


def plain_overdue_rows(data: ReportData) -> list[dict[str, Any]]:
    rows = []
    for r in data.records:
        status = {(c["name"], c["due_at"]): c["status"] for c in r.get("clocks") or ()}
        for f in r.get("findings") or ():
            if f.get("clock") and f.get("due_at") and data.info(f["code"]).severity == "violation" \
                    and data.period.holds_text(f["due_at"]) \
                    and (data.department is None or f.get("department") == data.department):
                info = data.info(f["code"])
                rows.append({"ticket_id": r["id"], "subject": free_text(r.get("subject")),
                             "code": f["code"], "system": info.rule, "clause": info.clause, "clock": f["clock"],
                             "deadline": local(f["due_at"], data.tz),
                             "clock_status": status.get((f["clock"], f["due_at"])), "staff_id": f.get("staff"),
                             "person": data.person(r, f.get("staff")), "department": f.get("department")})
    return rows


def plain_clauses(data: ReportData) -> tuple[Counter, dict]:
    clauses: Counter = Counter()
    own: dict = {}
    for o in data.history:
        if data.info(o.code).severity == "violation" and data.period.holds(o.at) \
                and (data.department is None or o.department == data.department):
            r = data.record(o.adapter, o.ticket_id)
            who = (o.staff, data.person(r, o.staff))
            own.setdefault(who, ((r.get("people") or {}).get(o.staff) or {}).get("department"))
            clauses[(o.department, who, o.code)] += 1
    return clauses, own


def plain_visit_rows(data: ReportData) -> list[dict[str, Any]]:
    rows = []
    for r in data.records:
        if "return_visit" in [c["name"] for c in r.get("clocks") or ()]:
            rows.extend(visits.poor_review_rows(r, data))
        elif r.get("spot_check") and (row := visits.spot_check_row(r, data)) is not None:
            rows.append(row)
    return rows


def plain_on_ledger(r: Mapping[str, Any], data: ReportData) -> bool:
    if not r.get("proxy"):
        return False
    accepted = instant(r.get("accepted_at"))
    return data.period.holds(instant(r["proxy"]["requested_at"])) or (accepted is not None and data.period.holds(accepted))


def same_instants(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with their instants as text with the offset (equal datetimes may differ in their zone's fold)."""
    return [{k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()} for row in rows]


# -- each path against its plain one --------------------------------------------------------------------------------

@settings(deadline=None, max_examples=300)
@given(report_data())
def test_the_dashboard_counts_are_those_of_each_record(data):
    scan = kpi.record_scan(data)
    plain = plain_counts(data)
    assert (scan.red, scan.yellow_only, kpi.on_time_completion(data)) == (
        plain["red"], plain["yellow_only"], plain["completion"])


@settings(deadline=None, max_examples=300)
@given(report_data())
@example(ReportData([{"id": "T1", "created_at": "2018-02-17T23:10:00-03:00"},  # Sao Paulo's second 23:10,
                     {"id": "T2", "created_at": "2018-02-17T23:50:00-02:00"}],  # 20 minutes after its first 23:50
                    [], CATALOG, Period(), FALL_BACK, SAO_PAULO))
def test_the_weekly_trend_is_that_of_each_instant_in_the_zone(data):
    assert kpi.weekly_trend(data) == plain_weekly(data)


def test_the_first_and_last_instants_are_those_as_read_not_by_the_wall_time_of_the_zone():
    """Sao Paulo's 23:10 of the second pass (-03:00) is later than its 23:50 of the first (-02:00)."""
    first_pass, second_pass = map(datetime.fromisoformat, ("2018-02-17T23:50:00-02:00", "2018-02-17T23:10:00-03:00"))
    series = [(at, at.astimezone(SAO_PAULO), n) for at, n in ((second_pass, 1), (first_pass, 2))]
    assert series[0][1] < series[1][1]  # by wall time the second pass comes first
    by_day, first, last = kpi._by_day(series)
    assert (first, last) == (first_pass, second_pass) and by_day == {date(2018, 2, 17): 3}
    assert kpi._by_day([]) == ({}, None, None)


#: Open tickets, most with red clocks whose deadlines tie (the same instant in several offsets).
open_records = st.lists(record.map(lambda r: r | {"resolved_at": None}), min_size=1, max_size=30)
red_clock = clock.map(lambda c: c | {"status": "red"})


@settings(deadline=None, max_examples=300)
@given(report_data(), st.lists(st.tuples(open_records, st.lists(red_clock, min_size=1, max_size=3)), max_size=1),
       st.integers(0, 6))
def test_the_longest_overdue_are_the_earliest_of_every_open_red_ticket(data, open_red, limit):
    if open_red:
        [(records, clocks)] = open_red
        data = ReportData([r | {"clocks": r["clocks"] + clocks[:1 + i % len(clocks)]} for i, r in enumerate(records)],
                          [], CATALOG, data.period, data.as_of, data.tz)
    rows = kpi.longest_overdue(data, limit)
    assert [(r["due_at"], r["clock"], r["id"], r["adapter"]) for r in rows] == plain_longest(data, limit)


@settings(deadline=None, max_examples=300)
@given(report_data())
def test_the_assessment_counts_and_overdue_items_are_those_of_each_finding(data):
    tally = assessment._Tally(data)
    clauses, own = plain_clauses(data)
    assert list(tally.clauses.items()) == list(clauses.items())
    assert tally.own == own
    assert same_instants(assessment.overdue_rows(data)) == same_instants(plain_overdue_rows(data))


@settings(deadline=None, max_examples=300)
@given(report_data())
def test_the_visit_rows_are_those_of_each_record(data):
    assert same_instants(visits.visit_rows(data.records, data)) == same_instants(plain_visit_rows(data))


@settings(deadline=None, max_examples=300)
@given(report_data())
def test_the_ledger_holds_the_proxy_tickets_of_the_period(data):
    assert [ledger.on_ledger(r, data) for r in data.records] == [plain_on_ledger(r, data) for r in data.records]
