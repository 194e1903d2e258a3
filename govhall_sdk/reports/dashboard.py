"""The dashboard (``govhall report dashboard``): one self-contained HTML file of :func:`.kpi.dashboard_data`.

The file opens in any browser with no network, as on a government intranet: no
script, font, stylesheet or image comes from elsewhere, and it carries no script
at all. The charts are pygal's, drawn here as inline SVG with pygal's own
script removed (its tooltips would need a script from a CDN); every value is
printed on its bar or slice instead, which also prints on paper. The page is
Jinja2 with autoescape: subjects, names and departments are shown as text,
whatever they hold. Chinese by default, English with ``lang`` ``en``.

What grows with the data is capped: the tables show the top rows (the JSON of
:func:`.kpi.dashboard_data` has them all), the bar charts the top
:data:`TOP_BARS`, the trend :data:`TREND_WEEKS` weeks (:func:`trend_weeks`); so the file stays
well under 2 MB for any number of tickets.
"""
from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Callable, Mapping, Sequence
from unicodedata import east_asian_width
from xml.etree import ElementTree

import jinja2
import pygal
from markupsafe import Markup
from pygal.style import Style

from .data import ReportData
from .kpi import LIGHTS, dashboard_data

#: Bars per bar chart (departments, staff): the most violations first.
TOP_BARS = 15
#: Rows of the violations-by-code and by-staff tables.
TOP_ROWS = 30
#: Weeks of the trend chart: the last ones.
TREND_WEEKS = 104
#: The colours of the lights, in :data:`.kpi.LIGHTS` order.
LIGHT_COLORS = {"green": "#2e7d32", "yellow": "#f9a825", "red": "#c62828", "none": "#9e9e9e"}
_FONTS = ('"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", '
          '"WenQuanYi Micro Hei", "Helvetica Neue", Arial, sans-serif')
_WIDTH = 600
_FONT_SIZE = 12
_SERIES = ("created", "resolved", "violations")

#: What people read, by language.
LABELS: Mapping[str, Mapping[str, Any]] = {
    "zh": {
        "title": "政务服务中心督查看板", "colon": "：", "period": "统计期间", "from": "自", "to": "至", "exclusive": "（不含）",
        "open": "不限", "all_time": "全部时间", "department": "部门", "all_departments": "全部部门", "as_of": "数据截至",
        "tickets": "工单总数", "on_time_completion": "按时办结率", "overdue": "超期件", "due_soon": "预警件",
        "satisfaction": "满意率", "poor_review_return_visits": "差评回访率", "light_red": "红灯工单",
        "light_yellow": "黄灯工单", "lights": "当前红黄绿灯", "violations": "违规情况", "total": "违规总数",
        "by_system": "违规（按制度）", "by_code": "违规（按事项代码）", "by_department": "违规（按部门）",
        "by_staff": "违规（按工作人员）", "weekly": "每周趋势",
        "series": {"created": "新建工单", "resolved": "办结工单", "violations": "违规"},
        "count": "次数", "code": "代码", "system": "制度", "clause": "条款", "staff": "工作人员",
        "nobody": "未指定", "longest_overdue": "超期最久的工单", "id": "工单号", "subject": "事项",
        "assignee": "承办人", "clock": "计时", "due_at": "期限", "days_overdue": "超期天数（自然日）",
        "week": "周", "none_yet": "无", "top": "前 {n} 项", "last_weeks": "截至最后有数据的一周，共 {n} 周",
        "lights_names": {"green": "绿灯", "yellow": "黄灯", "red": "红灯", "none": "无计时"},
        "clocks": {"completion": "办结", "first_reply": "首次答复", "supplement_notice": "补正告知",
                   "deferred_reply": "延期答复", "transfer": "转办", "evaluation": "评价", "return_visit": "回访"},
        "notes": ("按时办结率：统计期间内办结且有办结时限的工单中，按时办结的比例。",
                  "超期件、预警件与红黄绿灯为数据截至时的状态；预警件不含已超期的工单。",
                  "满意率：统计期间内评价为 4 分及以上的比例；差评回访率：2 分及以下的评价中已回访的比例。",
                  "超期天数为自然日，自期限之日起算至数据截至之日。"),
    },
    "en": {
        "title": "Service center supervision dashboard", "colon": ": ", "period": "Period", "from": "from", "to": "to",
        "exclusive": " (exclusive)", "open": "open", "all_time": "all time", "department": "Department",
        "all_departments": "all departments", "as_of": "Data as of", "tickets": "Tickets",
        "on_time_completion": "On-time completion", "overdue": "Overdue", "due_soon": "Due soon",
        "satisfaction": "Satisfaction", "poor_review_return_visits": "Poor reviews visited",
        "light_red": "red light", "light_yellow": "yellow light", "lights": "Lights now",
        "violations": "Violations", "total": "Violations in total", "by_system": "Violations by system",
        "by_code": "Violations by code", "by_department": "Violations by department",
        "by_staff": "Violations by staff member", "weekly": "Weekly trend",
        "series": {"created": "Created", "resolved": "Resolved", "violations": "Violations"},
        "count": "Count", "code": "Code", "system": "System", "clause": "Clause",
        "staff": "Staff member", "nobody": "not named", "longest_overdue": "Longest-overdue tickets",
        "id": "Ticket", "subject": "Subject", "assignee": "Assignee", "clock": "Clock", "due_at": "Deadline",
        "days_overdue": "Days overdue (calendar)", "week": "Week", "none_yet": "None",
        "top": "top {n}", "last_weeks": "{n} weeks, up to the last with data",
        "lights_names": {"green": "Green", "yellow": "Yellow", "red": "Red", "none": "No clock"},
        "clocks": {"completion": "completion", "first_reply": "first reply", "supplement_notice": "supplement notice",
                   "deferred_reply": "deferred reply", "transfer": "transfer", "evaluation": "evaluation",
                   "return_visit": "return visit"},
        "notes": ("On-time completion: of the tickets resolved in the period with a completion limit, "
                  "those resolved in time.",
                  "Overdue, due soon and the lights are as of the data's time; due soon leaves out overdue tickets.",
                  "Satisfaction: evaluations of the period rated 4 or more; poor reviews visited: evaluations "
                  "rated 2 or less that had a return visit.",
                  "Days overdue are calendar days, from the deadline's date to the data's date."),
    },
}

_ENV = jinja2.Environment(loader=jinja2.PackageLoader("govhall_sdk.reports", "templates"), autoescape=True,
                          trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)


def _style(colors: Sequence[str] = ("#1565c0", "#2e7d32", "#c62828")) -> Style:
    return Style(font_family=_FONTS, background="white", plot_background="white", colors=tuple(colors),
                 label_font_size=_FONT_SIZE, major_label_font_size=_FONT_SIZE, value_font_size=_FONT_SIZE,
                 legend_font_size=13, value_label_font_size=_FONT_SIZE, opacity=".85")


def _drop_scripts(element: ElementTree.Element) -> None:
    """Remove pygal's script and comments (a CDN's address, a timestamp) from the SVG tree."""
    for child in list(element):
        if child.tag == "script" or child.tag is ElementTree.Comment:
            element.remove(child)
        else:
            _drop_scripts(child)


def svg_of(chart: Any, key: str, title: str) -> Markup:
    """A pygal chart as inline SVG, with no script, a stable id (``chart-<key>``) and ``title`` as its title."""
    root = chart.render_tree()
    _drop_scripts(root)
    for node in root.iter("title"):
        node.text = title
        break
    return Markup(ElementTree.tostring(root, encoding="unicode").replace(chart.uuid, key))


def _wide_room(labels: Sequence[str]) -> int:
    """The room pygal misses for the longest label: it measures every character at 0.6 em, CJK ones are 1 em."""
    return round(max((0.4 * _FONT_SIZE * sum(east_asian_width(c) in "WF" for c in label) for label in labels),
                     default=0))


def _count_axis(maximum: int) -> list[int]:
    """Whole-number ticks from 0 to at least ``maximum``, at most about ten of them."""
    step = max(1, math.ceil(maximum / 10))
    return list(range(0, maximum + step, step))


def _bars(key: str, title: str, rows: Sequence[tuple[str, int]], series: str) -> Markup | None:
    """A horizontal bar chart of (label, count), the first row on top; None when there are no rows."""
    if not rows:
        return None
    labels = [label for label, _ in rows]
    chart = pygal.HorizontalBar(style=_style(), width=_WIDTH, height=60 + 34 * len(rows), show_legend=False,
                                print_values=True, truncate_label=-1, js=[], margin_left=12 + _wide_room(labels),
                                y_labels=_count_axis(max(count for _, count in rows)))
    chart.x_labels = labels[::-1]
    chart.add(series, [count for _, count in reversed(rows)])
    return svg_of(chart, key, title)


def _lights_chart(counts: Mapping[str, int], t: Mapping[str, Any]) -> Markup | None:
    shown = [light for light in LIGHTS if counts[light]]
    if not shown:
        return None
    chart = pygal.Pie(style=_style([LIGHT_COLORS[light] for light in shown]), width=_WIDTH, height=340,
                      inner_radius=0.45, print_values=True, js=[], legend_at_bottom=True)
    for light in shown:
        chart.add(t["lights_names"][light], counts[light])
    return svg_of(chart, "lights", t["lights"])


def _trend_chart(weeks: Sequence[Mapping[str, Any]], t: Mapping[str, Any]) -> Markup | None:
    if not weeks:
        return None
    chart = pygal.Line(style=_style(), width=2 * _WIDTH, height=380, js=[], legend_at_bottom=True,
                       legend_at_bottom_columns=3, y_labels=_count_axis(max(max(w[s] for s in _SERIES) for w in weeks)),
                       x_label_rotation=45, show_minor_x_labels=len(weeks) <= 26, x_labels_major_every=4,
                       truncate_label=-1, dots_size=3)
    chart.x_labels = [week["week"] for week in weeks]
    for series in _SERIES:
        chart.add(t["series"][series], [week[series] for week in weeks])
    return svg_of(chart, "weekly", t["weekly"])


def trend_weeks(weeks: Sequence[Mapping[str, Any]]) -> Sequence[Mapping[str, Any]]:
    """The weeks the trend chart shows: all of them, or the :data:`TREND_WEEKS` up to the last one with data
    (a period reaching into the future does not show empty weeks only)."""
    if len(weeks) <= TREND_WEEKS:
        return weeks
    last = max((i for i, week in enumerate(weeks) if any(week[s] for s in _SERIES)), default=len(weeks) - 1)
    end = max(last + 1, TREND_WEEKS)
    return weeks[end - TREND_WEEKS:end]


def charts(figures: Mapping[str, Any], t: Mapping[str, Any]) -> dict[str, Markup | None]:
    """The dashboard's SVG charts by name (None for a chart with nothing to draw)."""
    found = figures["violations"]
    return {
        "lights": _lights_chart(figures["lights"], t),
        "by_system": _bars("by_system", t["by_system"], [(r["system"], r["count"]) for r in found["by_system"]],
                           t["count"]),
        "by_department": _bars("by_department", t["by_department"],
                               [(r["department"] or t["nobody"], r["count"]) for r in found["by_department"]
                                [:TOP_BARS]], t["count"]),
        "by_staff": _bars("by_staff", t["by_staff"], [(r["name"] or t["nobody"], r["count"])
                                                       for r in found["by_staff"][:TOP_BARS]], t["count"]),
        "weekly": _trend_chart(trend_weeks(figures["weekly"]), t),
    }


def _instant_formatter(data: ReportData, t: Mapping[str, Any]) -> Callable[[str | None], str]:
    """ISO text to ``YYYY-MM-DD HH:MM+08:00`` in the report's time zone (None: the "open" label)."""
    def show(text: str | None) -> str:
        if not text:
            return t["open"]
        return datetime.fromisoformat(text).astimezone(data.tz).isoformat(sep=" ", timespec="minutes")
    return show


def _percent(kpi: Mapping[str, Any]) -> str:
    return "—" if kpi["rate"] is None else f"{100 * kpi['rate']:.1f}%"


def render_dashboard(data: ReportData) -> str:
    """The dashboard of ``data`` as one self-contained HTML page, in ``data.lang`` (``zh`` unless ``en``)."""
    figures = dashboard_data(data)
    t = LABELS["en" if data.lang == "en" else "zh"]
    return _ENV.get_template("dashboard.html.j2").render(
        d=figures, t=t, charts=charts(figures, t), when=_instant_formatter(data, t), percent=_percent,
        lang="en" if data.lang == "en" else "zh-CN", top_rows=TOP_ROWS, top_bars=TOP_BARS,
        trend_weeks=TREND_WEEKS)
