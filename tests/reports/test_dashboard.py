"""The dashboard's HTML (govhall_sdk.reports.dashboard): one self-contained file, escaped, in Chinese or
English, with its header, its charts and its tables, and small for 100,000 tickets."""
from __future__ import annotations

import re
from datetime import datetime
from html.parser import HTMLParser

import attrs

from govhall_sdk.reports import kpi
from govhall_sdk.reports.dashboard import TOP_BARS, TREND_WEEKS, render_dashboard, trend_weeks
from govhall_sdk.reports.data import Period
from reports.test_kpi import BIG, TZ, at, clock, data, occurrence, record, synthetic_data

CJK = re.compile(r"[\u4e00-\u9fff]")


class Tags(HTMLParser):
    """Every start tag of a page with its attributes, and the text of its style elements."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.styles: list[str] = []
        self._in_style = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, text):
        if self._in_style:
            self.styles.append(text)

    def named(self, name: str) -> list[dict[str, str | None]]:
        return [attributes for tag, attributes in self.tags if tag == name]


def hostile() -> list[dict]:
    """Records whose subject, department and staff name are markup, and one with a phone in its subject."""
    person = {"s-x": {"name": "<b onmouseover=alert(2)>王</b>", "department": "窗口"}}
    return [
        record("<i>T1</i>", subject="<script>alert(1)</script>", department="<img src=x onerror=alert(3)>",
               light="red", people=person, assignee={"id": "s-x", "name": "王", "department": None},
               clocks=[clock("completion", "red", at(1))]),
        record("T2", subject="请回电 13812345678", light="red", clocks=[clock("completion", "red", at(2))]),
    ]


def hostile_history() -> list:
    return [occurrence("<i>T1</i>", "tl.overdue", at(3), "s-x", "<img src=x onerror=alert(3)>")]


def test_the_page_needs_nothing_from_elsewhere(demo_data):
    html = render_dashboard(demo_data())
    page = Tags(html)
    assert page.named("link") == [] and page.named("script") == [] and page.named("img") == []
    for tag, attributes in page.tags:
        for name in ("src", "href", "xlink:href", "srcset", "action"):
            assert not re.match(r"\s*(https?:)?//", attributes.get(name) or ""), (tag, attributes)
    assert not re.search(r"url\(|@import", "".join(page.styles))
    assert "<script" not in html.lower() and "pygal.js" not in html  # pygal's tooltips script is removed
    assert len(page.named("svg")) == 5


def test_untrusted_text_is_shown_as_text():
    html = render_dashboard(data(hostile(), hostile_history()))
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(3)&gt;" in html  # the table and the chart
    assert "<b onmouseover" not in html and "<i>T1" not in html
    page = Tags(html)
    assert page.named("script") == [] and page.named("img") == [] and page.named("b") == []


def test_phones_in_subjects_are_masked():
    html = render_dashboard(data(hostile(), hostile_history()))
    assert "13812345678" not in html and "138****5678" in html


def test_chinese_by_default_with_the_period_department_and_as_of_in_the_header(demo_data):
    march = Period(datetime(2025, 3, 1, tzinfo=TZ), datetime(2025, 4, 1, tzinfo=TZ))
    html = render_dashboard(demo_data(period=march, department="医保窗口"))
    assert '<html lang="zh-CN">' in html
    for label in ("按时办结率", "超期件", "预警件", "满意率", "差评回访率", "当前红黄绿灯", "违规（按制度）",
                  "违规（按部门）", "违规（按工作人员）", "每周趋势", "超期最久的工单"):
        assert label in html, label
    header = html[html.index("<header>"):html.index("</header>")]
    assert "2025-03-01 00:00+08:00" in header and "2025-04-01 00:00+08:00" in header
    assert "医保窗口" in header and "数据截至：2025-03-14 16:00+08:00" in header


def test_english_with_lang_en_every_label_and_the_dates_with_offsets(demo_data):
    html = render_dashboard(demo_data(lang="en"))
    assert '<html lang="en">' in html
    for label in ("On-time completion", "Overdue", "Due soon", "Satisfaction", "Poor reviews visited",
                  "Lights now", "Violations by system", "Weekly trend", "Longest-overdue tickets",
                  "Days overdue (calendar)", "Time-limited completion", "Period: all time",
                  "Department: all departments", "Data as of: 2025-03-14 16:00+08:00"):
        assert label in html, label
    report = demo_data(lang="en")
    known = {r["subject"] for r in report.records} | {r["department"] for r in report.records}
    known |= {o.department for o in report.history} | {p["name"] for r in report.records
                                                       for p in r["people"].values()}
    known |= {info.clause for info in report.catalog.values()}  # the notice's own citations
    text = re.sub(r"<[^>]+>", "\n", html)
    leftover = [line for line in map(str.strip, text.splitlines())
                if CJK.search(line) and not any(line in k or k in line for k in known if k)]
    assert leftover == []  # all the Chinese left is the data's and the catalog's own


def test_the_tables_hold_what_the_figures_say(demo_data):
    report = demo_data()
    figures = kpi.dashboard_data(report)
    html = render_dashboard(report)
    table = html[html.index('id="table-longest_overdue"'):]
    table = table[:table.index("</table>")]
    assert table.count("<tr>") == len(figures["longest_overdue"]) + 1
    for row in figures["longest_overdue"]:
        assert row["id"] in table and f'<td class="n">{row["calendar_days_overdue"]}</td>' in table
    codes = html[html.index('id="table-by_code"'):]
    assert all(row["code"] in codes for row in figures["violations"]["by_code"])


def test_a_long_period_charts_the_weeks_up_to_the_last_with_data():
    long = Period(datetime(2024, 1, 1, tzinfo=TZ), datetime(2030, 1, 1, tzinfo=TZ))
    late = [record(f"t{day}", created_at=at(day).replace("2025", "2027")) for day in (3, 10, 17)]
    weeks = kpi.dashboard_data(data(late, period=long))["weekly"]
    assert len(weeks) > TREND_WEEKS
    shown = trend_weeks(weeks)
    assert len(shown) == TREND_WEEKS and shown[-1]["week"] == "2027-W11"  # not the empty weeks up to 2030
    early = kpi.dashboard_data(data([record("t", created_at=at(3))], period=long))["weekly"]
    assert trend_weeks(early) == early[:TREND_WEEKS]  # the first weeks, where the data is
    html = render_dashboard(data(late, period=long))
    chart = html[html.index('id="chart-weekly"'):html.index("</figure>", html.index('id="chart-weekly"'))]
    assert chart.count("<circle") == 3 * TREND_WEEKS
    assert str(TREND_WEEKS) in html[html.index('id="section-weekly"'):html.index('id="chart-weekly"')]


def test_nothing_to_show_renders_too():
    html = render_dashboard(data([]))
    assert html.count("<svg") == 0 and html.count('class="empty"') == 8  # 5 charts, 3 tables
    assert "—" in html  # the rates with no denominator


def test_a_large_store_makes_a_small_page():
    big = synthetic_data(BIG)
    for lang in ("zh", "en"):
        html = render_dashboard(attrs.evolve(big, lang=lang))
        assert len(html.encode("utf-8")) < 2 * 1024 * 1024
        assert html.count('<g class="bar">') <= 4 + 2 * TOP_BARS
