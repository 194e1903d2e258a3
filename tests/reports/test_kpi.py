"""The dashboard's figures (govhall_sdk.reports.kpi): each KPI on small hand-built records, then on the demo
tickets, counted here straight from the records; the period and department filters; zero denominators;
and a large synthetic store (``synthetic_data``, also used by the dashboard's tests; ``python -m
tests.reports.test_kpi 100000`` times the figures and the page by hand, ``benchmarks/bench_report.py`` the whole
command over a real results store)."""
from __future__ import annotations

import functools
import json
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from govhall_sdk.reports import kpi
from govhall_sdk.reports.data import CodeInfo, Occurrence, Period, ReportData, instant

TZ = ZoneInfo("Asia/Shanghai")
AS_OF = datetime(2025, 3, 14, 16, 0, tzinfo=TZ)
CATALOG = {
    "tl.overdue": CodeInfo("tl.overdue", "time_limit", "violation", "限时办结制度 第八条"),
    "fr.shirking": CodeInfo("fr.shirking", "first_responsibility", "violation", "首问（办）负责制度 第六条(三)"),
    "tl.due_soon": CodeInfo("tl.due_soon", "time_limit", "warning", "限时办结制度 第六条"),
}
MARCH = Period(datetime(2025, 3, 1, tzinfo=TZ), datetime(2025, 4, 1, tzinfo=TZ))


def at(day: int, hour: int = 10, month: int = 3) -> str:
    """An instant of 2025 in Shanghai, as records spell it."""
    return datetime(2025, month, day, hour, tzinfo=TZ).isoformat()


def clock(name: str, status: str, due: str | None = None) -> dict[str, Any]:
    return {"name": name, "rule": "time_limit", "status": status, "due_at": due or at(10, 23)}


def record(ticket_id: str, **fields: Any) -> dict[str, Any]:
    """A results record with only what the dashboard reads, plus ``fields``."""
    base = {"id": ticket_id, "adapter": "file", "subject": f"subject {ticket_id}", "department": "窗口A",
            "lead_department": None, "assignee": None, "created_at": at(3), "resolved_at": None, "light": None,
            "clocks": [], "findings": [], "evaluations": [], "return_visits": [], "people": {}}
    return base | fields


def occurrence(ticket_id: str, code: str, when: str, staff: str | None = None, department: str | None = "窗口A"):
    return Occurrence("file", ticket_id, code, staff, department, instant(when), instant(when))


def data(records, history=(), period=Period(), **kwargs: Any) -> ReportData:
    return ReportData(records, list(history), CATALOG, period, AS_OF, TZ, **kwargs)


# -- each KPI on hand-built records -------------------------------------------------------------------------------

def test_on_time_completion_counts_the_completion_clocks_of_tickets_resolved_in_the_period():
    records = [
        record("met", resolved_at=at(5), clocks=[clock("completion", "met"), clock("first_reply", "missed")]),
        record("missed", resolved_at=at(6), clocks=[clock("completion", "missed")]),
        record("february", resolved_at=at(20, month=2), clocks=[clock("completion", "missed")]),
        record("open", clocks=[clock("completion", "red")]),
        record("no completion clock", resolved_at=at(7), clocks=[clock("first_reply", "missed")]),
    ]
    assert kpi.on_time_completion(data(records, period=MARCH)) == {"numerator": 1, "denominator": 2, "rate": 0.5}
    assert kpi.on_time_completion(data(records)) == {"numerator": 1, "denominator": 3, "rate": pytest.approx(1 / 3)}


def test_every_ratio_is_null_when_its_denominator_is_zero():
    figures = kpi.dashboard_data(data([record("nothing")]))
    for name in ("on_time_completion", "satisfaction", "poor_review_return_visits"):
        assert figures["kpis"][name] == {"numerator": 0, "denominator": 0, "rate": None}, name
    assert kpi.dashboard_data(data([]))["weekly"] == []


def test_overdue_and_due_soon_are_now_and_never_the_same_ticket():
    records = [
        record("red and yellow", light="red", clocks=[clock("completion", "red"), clock("first_reply", "yellow")]),
        record("yellow", light="yellow", clocks=[clock("completion", "yellow")]),
        record("red light by a finding", light="red", clocks=[clock("completion", "green")]),
        record("resolved, its visit late", resolved_at=at(1), clocks=[clock("return_visit", "red")]),
        record("met", clocks=[clock("completion", "met")]),
    ]
    figures = data(records, period=Period(datetime(2030, 1, 1, tzinfo=TZ)))  # the period does not matter
    assert kpi.overdue_now(figures) == {"tickets": 2, "light_red": 2}
    assert kpi.due_soon(figures) == {"tickets": 1, "light_yellow": 1}
    assert kpi.lights(figures) == {"green": 0, "yellow": 1, "red": 2, "none": 2}


def test_satisfaction_counts_the_rated_evaluations_of_the_period():
    records = [
        record("a", evaluations=[{"at": at(2), "rating": 5}, {"at": at(3), "rating": 4}]),
        record("b", evaluations=[{"at": at(4), "rating": 3}, {"at": at(5), "rating": None}]),
        record("c", evaluations=[{"at": at(28, month=2), "rating": 1}]),
    ]
    assert kpi.satisfaction(data(records, period=MARCH)) == {"numerator": 2, "denominator": 3,
                                                             "rate": pytest.approx(2 / 3)}
    assert kpi.satisfaction(data(records))["denominator"] == 4


def test_a_poor_review_counts_as_visited_by_a_return_visit_at_or_after_it():
    records = [
        record("visited later", evaluations=[{"at": at(5), "rating": 2}], return_visits=[{"at": at(20, month=4)}]),
        record("visited before only", evaluations=[{"at": at(5), "rating": 1}], return_visits=[{"at": at(4)}]),
        record("not visited", evaluations=[{"at": at(6), "rating": 1}]),
        record("not poor", evaluations=[{"at": at(6), "rating": 3}], return_visits=[{"at": at(7)}]),
        record("poor in February", evaluations=[{"at": at(6, month=2), "rating": 1}], return_visits=[{"at": at(7)}]),
    ]
    assert kpi.poor_review_return_visits(data(records, period=MARCH)) == {
        "numerator": 1, "denominator": 3, "rate": pytest.approx(1 / 3)}


def test_violations_are_the_violation_occurrences_of_the_period_by_system_code_department_and_staff():
    records = [record("t1", people={"s-li": {"name": "李娜", "department": "窗口A"}}), record("t2")]
    history = [
        occurrence("t1", "tl.overdue", at(3), "s-li"),
        occurrence("t1", "fr.shirking", at(4), "s-li", "窗口B"),
        occurrence("t2", "tl.overdue", at(5), "s-li"),  # t2 does not know s-li's name; t1 does
        occurrence("t2", "tl.overdue", at(6), None, None),
        occurrence("t2", "tl.due_soon", at(6), "s-li"),  # a warning
        occurrence("t2", "fr.shirking", at(20, month=2), "s-wu"),  # before the period
        occurrence("t2", "xx.unknown", at(7), "s-wu"),  # no plugin defines it: a warning
    ]
    found = kpi.violations_by(data(records, history, MARCH))
    assert found["total"] == 4
    assert found["by_system"] == [{"rule": "time_limit", "system": "限时办结制度", "count": 3},
                                  {"rule": "first_responsibility", "system": "首问（办）负责制度", "count": 1}]
    assert found["by_code"] == [
        {"code": "tl.overdue", "rule": "time_limit", "system": "限时办结制度", "clause": "限时办结制度 第八条", "count": 3},
        {"code": "fr.shirking", "rule": "first_responsibility", "system": "首问（办）负责制度",
         "clause": "首问（办）负责制度 第六条(三)", "count": 1}]
    assert found["by_department"] == [{"department": "窗口A", "count": 2}, {"department": "窗口B", "count": 1},
                                      {"department": None, "count": 1}]
    assert found["by_staff"] == [{"staff": "s-li", "name": "李娜 (s-li)", "count": 3},
                                 {"staff": None, "name": None, "count": 1}]


def test_a_staff_member_is_named_by_the_first_ticket_that_knows_the_name_however_late_it_comes():
    """The names are read from the history until each is known: one known only to a later ticket is found,
    and the first ticket that knows it names it (two tickets name s-he differently)."""
    people = {"t3": {"s-he": {"name": "何静"}}, "t4": {"s-he": {"name": "何佳"}, "s-li": {"name": "李娜"}}}
    records = [record(t, people=people.get(t, {})) for t in ("t1", "t2", "t3", "t4")]
    history = [occurrence("t1", "tl.overdue", at(3), None, None),
               occurrence("t1", "tl.overdue", at(3), "s-he"), occurrence("t2", "tl.overdue", at(3), "s-li"),
               occurrence("t3", "tl.due_soon", at(4), "s-he"), occurrence("t4", "tl.overdue", at(5), "s-he"),
               occurrence("t4", "tl.due_soon", at(5), "s-li")]
    by_staff = kpi.violations_by(data(records, history, MARCH))["by_staff"]
    assert by_staff == [{"staff": "s-he", "name": "何静 (s-he)", "count": 2},
                        {"staff": "s-li", "name": "李娜 (s-li)", "count": 1}, {"staff": None, "name": None, "count": 1}]


def test_the_systems_are_named_in_the_report_language():
    history = [occurrence("t1", "tl.overdue", at(3))]
    [row] = kpi.violations_by(data([record("t1")], history, lang="en"))["by_system"]
    assert row == {"rule": "time_limit", "system": "Time-limited completion", "count": 1}
    assert kpi.dashboard_data(data([record("t1")], history, lang="en"))["lang"] == "en"


def test_the_weekly_trend_covers_every_iso_week_of_the_period_in_the_report_time_zone():
    sunday_night_utc = datetime(2025, 3, 9, 16, 30, tzinfo=timezone.utc).isoformat()  # Monday 00:30 in Shanghai
    records = [record("a", created_at=sunday_night_utc, resolved_at=at(12)), record("b", created_at=at(9)),
               record("c", created_at=at(20, month=2))]
    history = [occurrence("a", "tl.overdue", at(31)), occurrence("a", "tl.due_soon", at(11))]
    weeks = kpi.weekly_trend(data(records, history, MARCH))
    assert [w["week"] for w in weeks] == ["2025-W09", "2025-W10", "2025-W11", "2025-W12", "2025-W13", "2025-W14"]
    assert weeks[0]["start"] == "2025-02-24"  # March 1st is a Saturday
    by_week = {w["week"]: (w["created"], w["resolved"], w["violations"]) for w in weeks}
    assert by_week["2025-W10"] == (1, 0, 0)  # b, on Sunday the 9th
    assert by_week["2025-W11"] == (1, 1, 0)  # a, created on Monday the 10th in Shanghai
    assert by_week["2025-W14"] == (0, 0, 1)
    assert sum(created for created, _, _ in by_week.values()) == 2  # c is before the period


def test_the_weekly_trend_counts_every_record_of_a_shared_instant_however_it_is_written():
    utc = datetime(2025, 3, 3, 2, tzinfo=timezone.utc).isoformat()  # at(3), 10:00 in Shanghai
    records = [record("a"), record("b"), record("c", created_at=utc, resolved_at=utc), record("d", resolved_at=at(3))]
    history = [occurrence(t, "tl.overdue", at(4)) for t in "ab"]
    [week] = kpi.weekly_trend(data(records, history))
    assert (week["week"], week["created"], week["resolved"], week["violations"]) == ("2025-W10", 4, 2, 2)


def test_an_open_period_trends_over_the_span_of_the_data():
    records = [record("a", created_at=at(20, month=1)), record("b", created_at=at(3), resolved_at=at(12))]
    weeks = kpi.weekly_trend(data(records))
    assert (weeks[0]["week"], weeks[-1]["week"], len(weeks)) == ("2025-W04", "2025-W11", 8)
    half_open = kpi.weekly_trend(data(records, period=Period(end=datetime(2025, 3, 24, tzinfo=TZ))))
    assert (half_open[0]["week"], half_open[-1]["week"]) == ("2025-W04", "2025-W12")  # the 24th is not in it


def test_the_longest_overdue_are_open_tickets_by_their_earliest_red_deadline():
    records = [record(f"t{i:02d}", subject=f"请回电13812345678 第{i}件", light="red",
                      assignee={"id": "s-li", "name": "李娜", "department": "窗口A"},
                      people={"s-li": {"name": "李娜", "department": "窗口A"}},
                      clocks=[clock("completion", "red", at(1 + i % 10, 23)), clock("first_reply", "red", at(12))])
               for i in range(25)]
    records.append(record("resolved", resolved_at=at(1), clocks=[clock("return_visit", "red", at(1))]))
    records.append(record("no red", clocks=[clock("completion", "yellow", at(1))]))
    rows = kpi.longest_overdue(data(records))
    assert len(rows) == kpi.LONGEST_OVERDUE == 20
    assert [r["due_at"] for r in rows] == sorted(r["due_at"] for r in rows)
    assert {r["id"] for r in rows} <= {f"t{i:02d}" for i in range(25)}
    first = rows[0]
    assert first == {"id": "t00", "adapter": "file", "subject": "请回电138****5678 第0件", "department": "窗口A",
                     "assignee": "李娜 (s-li)", "clock": "completion", "due_at": "2025-03-01T23:00:00+08:00",
                     "calendar_days_overdue": 13}
    twelfth = [r for r in rows if r["clock"] == "first_reply"]
    assert all(r["calendar_days_overdue"] == 2 for r in twelfth)  # a deadline of the 12th, as of the 14th


# -- the demo tickets ---------------------------------------------------------------------------------------------

def test_the_demo_figures_match_a_plain_count_of_its_records(demo_data):
    report = demo_data()
    figures = kpi.dashboard_data(report)
    records = report.records
    assert figures["tickets"] == len(records) == 52
    statuses = [[c["status"] for c in r["clocks"] if c["name"] == "completion"] for r in records if r["resolved_at"]]
    met = sum(s == ["met"] for s in statuses)
    assert figures["kpis"]["on_time_completion"] == kpi.ratio(met, met + sum(s == ["missed"] for s in statuses))
    red = [r for r in records if any(c["status"] == "red" for c in r["clocks"])]
    assert figures["kpis"]["overdue"]["tickets"] == len(red) > 0
    ratings = [e["rating"] for r in records for e in r["evaluations"] if e["rating"] is not None]
    assert figures["kpis"]["satisfaction"] == kpi.ratio(sum(x >= 4 for x in ratings), len(ratings))
    assert figures["lights"] == {light: sum((r["light"] or "none") == light for r in records)
                                 for light in kpi.LIGHTS}
    violations = [o for o in report.history if report.catalog[o.code].severity == "violation"]
    assert figures["violations"]["total"] == len(violations) > 0
    assert sum(w["violations"] for w in figures["weekly"]) == len(violations)
    assert sum(w["created"] for w in figures["weekly"]) == len(records)
    assert sum(row["count"] for row in figures["violations"]["by_staff"]) == len(violations)
    open_red = {r["id"] for r in red if r["resolved_at"] is None}
    assert {row["id"] for row in figures["longest_overdue"]} == open_red
    json.dumps(figures)  # JSON-ready


def test_the_keys_of_the_json_are_those_the_module_documents(demo_data):
    figures = kpi.dashboard_data(demo_data())
    assert set(figures) == {"as_of", "timezone", "lang", "period", "department", "tickets", "kpis", "lights",
                            "violations", "weekly", "longest_overdue"}
    for key in list(figures) + list(figures["kpis"]) + list(figures["violations"]):
        assert f"``{key}``" in kpi.__doc__, key
    assert set(figures["weekly"][0]) == {"week", "start", "created", "resolved", "violations"}


def test_the_demo_period_filter(demo_data):
    week = Period(datetime(2025, 3, 10, tzinfo=TZ), datetime(2025, 3, 17, tzinfo=TZ))
    report = demo_data(period=week)
    figures = kpi.dashboard_data(report)
    assert [w["week"] for w in figures["weekly"]] == ["2025-W11"]
    assert figures["period"] == {"from": "2025-03-10T00:00:00+08:00", "to": "2025-03-17T00:00:00+08:00"}
    in_week = [o for o in report.history if report.catalog[o.code].severity == "violation" and week.holds(o.at)]
    assert figures["violations"]["total"] == figures["weekly"][0]["violations"] == len(in_week)
    resolved = [r for r in report.records if r["resolved_at"] and week.holds(instant(r["resolved_at"]))]
    assert figures["weekly"][0]["resolved"] == len(resolved)
    assert figures["lights"] == kpi.dashboard_data(demo_data())["lights"]  # now, whatever the period


def test_the_demo_department_filter(demo_data):
    everything = kpi.dashboard_data(demo_data())
    figures = kpi.dashboard_data(demo_data(department="医保窗口"))
    assert figures["department"] == "医保窗口"
    assert 0 < figures["tickets"] < everything["tickets"]
    assert sum(figures["lights"].values()) == figures["tickets"]
    records = demo_data().records
    mine = [r for r in records if "医保窗口" in {r["department"], r["lead_department"]}
            | {f["department"] for f in r["findings"]}]
    assert figures["tickets"] == len(mine)
    assert figures["violations"]["total"] < everything["violations"]["total"]


def test_the_store_after_two_runs(store_data):
    report = store_data()
    figures = kpi.dashboard_data(report)
    assert figures["as_of"] == "2025-03-21T16:00:00+08:00"
    assert figures["tickets"] == 52
    violations = [o for o in report.history if report.info(o.code).severity == "violation"]
    assert figures["violations"]["total"] == len(violations)  # cleared ones included: they happened
    assert figures["weekly"][-1]["week"] >= "2025-W11"


# -- a large store (its time: python benchmarks/bench_report.py) -------------------------------------------------

#: Tickets of the large synthetic store: more departments, staff and weeks than any chart or table shows.
BIG = 5_000


@functools.lru_cache(maxsize=1)
def synthetic_data(n: int, seed: int = 15) -> ReportData:
    """``n`` random records shaped as the results store keeps them, with a few findings each, over a year
    (made once per test session: ``attrs.evolve`` it for another language or period)."""
    rng = random.Random(seed)
    departments = [f"第{i}窗口" for i in range(40)]
    staff = [f"s-{i}" for i in range(400)]
    codes = list(CATALOG)
    start = datetime(2024, 3, 14, 9, tzinfo=timezone(timedelta(hours=8)))  # fixed: as fast as records are read
    records, history = [], []
    for i in range(n):
        created = start + timedelta(minutes=rng.randrange(365 * 24 * 60))
        resolved = created + timedelta(days=rng.randrange(30)) if rng.random() < 0.7 else None
        who = rng.choice(staff)
        status = rng.choice(("met", "missed")) if resolved else rng.choice(("green", "yellow", "red", "paused"))
        due = (created + timedelta(days=10)).isoformat()
        records.append(record(
            f"T{i:06d}", subject=f"事项 {i} <b>", department=rng.choice(departments), created_at=created.isoformat(),
            resolved_at=resolved.isoformat() if resolved else None, light=status if status in kpi.LIGHTS else None,
            assignee={"id": who, "name": f"员工{who}", "department": None}, people={who: {"name": f"员工{who}"}},
            clocks=[{"name": "completion", "rule": "time_limit", "status": status, "due_at": due}],
            evaluations=[{"at": resolved.isoformat(), "rating": rng.randint(1, 5)}] if resolved else [],
            return_visits=[{"at": (resolved + timedelta(days=2)).isoformat()}] if resolved and rng.random() < .5 else []))
        for _ in range(rng.randrange(3)):
            history.append(Occurrence("file", f"T{i:06d}", rng.choice(codes), who, rng.choice(departments),
                                      created + timedelta(days=3), created))
    return ReportData(records, history, CATALOG, Period(), start + timedelta(days=366), TZ)


def test_a_large_store_keeps_every_figure_whole_and_the_lists_capped():
    big_data = synthetic_data(BIG)
    figures = kpi.dashboard_data(big_data)
    assert figures["tickets"] == BIG
    assert len(figures["longest_overdue"]) == kpi.LONGEST_OVERDUE
    assert 52 <= len(figures["weekly"]) <= 58
    assert sum(row["count"] for row in figures["violations"]["by_department"]) == figures["violations"]["total"]


if __name__ == "__main__":  # python -m tests.reports.test_kpi [N]: time the figures and the HTML of N tickets
    from govhall_sdk.reports.dashboard import render_dashboard
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    big = synthetic_data(count)
    for name, report in (("dashboard_data", kpi.dashboard_data), ("render_dashboard", render_dashboard)):
        cpu, wall = time.process_time(), time.perf_counter()
        out = report(big)
        print(f"{name} of {count} tickets, {len(big.history)} occurrences: {time.process_time() - cpu:.2f} s CPU, "
              f"{time.perf_counter() - wall:.2f} s wall")
    print(f"HTML {len(out.encode()) / 1024:.0f} KiB")
