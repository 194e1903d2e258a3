"""Reading the State Council's holiday notices, the calendar file, `govhall calendar import`.

The notices under tests/data/notices are the published texts of 2007-2026; each
one is compared day by day with the ``holidays`` package's calendar for China.
"""
import json
import re
import sys
from datetime import date, timedelta
from pathlib import Path

import holidays
import pytest

from govhall_sdk.cli import main
from govhall_sdk.config import (
    CalendarYear,
    ConfigError,
    build_config,
    read_calendar_file,
    render_calendar_file,
)
from govhall_sdk.holiday_notice import NoticeError, describe, parse_notice

NOTICES = Path(__file__).parent / "data" / "notices"
TEXTS = {int(p.stem): p.read_text(encoding="utf-8") for p in NOTICES.glob("*.txt") if re.fullmatch(r"\d{4}", p.stem)}
SYNTHETIC_2027 = (NOTICES / "2027-synthetic.txt").read_text(encoding="utf-8")
PARSED = {year: parse_notice(text) for year, text in TEXTS.items()}


def test_every_year_from_2007_to_2026_is_there():
    assert sorted(TEXTS) == list(range(2007, 2027))


@pytest.mark.parametrize("year", sorted(TEXTS))
def test_the_notice_reads(year):
    notice = PARSED[year]
    assert notice.year == year
    assert notice.title == f"国务院办公厅关于{year}年部分节假日安排的通知"
    names = {n for item in notice.items for n in item.names}
    expected = {"元旦", "春节", "劳动节", "国庆节"} | ({"清明节", "端午节", "中秋节"} if year >= 2008 else set())
    assert names == expected
    assert all(d.weekday() >= 5 for d in notice.working_days)
    assert not notice.holidays & notice.working_days
    for item in notice.items:
        assert item.sentence.startswith(("一、", "二、", "三、", "四、", "五、", "六、", "七、"))


# --- the notices against the holidays package, day by day --------------------------------

# The library follows notices that changed a year after its yearly notice; the
# yearly notice alone does not have them. Each is a day the two count
# differently: date -> (the notice's day, the library's day, why).
LATER_NOTICES = {
    date(2015, 9, 3): ("work", "off", "国发明电〔2015〕1号: 抗战胜利70周年纪念日 9月3日放假"),
    date(2015, 9, 4): ("work", "off", "国发明电〔2015〕1号: 9月4日（星期五）调休"),
    date(2015, 9, 6): ("off", "work", "国发明电〔2015〕1号: 9月6日（星期日）上班"),
    date(2019, 4, 28): ("off", "work", "国办发明电〔2019〕3号: 劳动节调整, 4月28日（星期日）上班"),
    date(2019, 5, 2): ("work", "off", "国办发明电〔2019〕3号: 5月1日至4日放假调休"),
    date(2019, 5, 3): ("work", "off", "国办发明电〔2019〕3号: 5月1日至4日放假调休"),
    date(2019, 5, 5): ("off", "work", "国办发明电〔2019〕3号: 5月5日（星期日）上班"),
    date(2020, 1, 31): ("work", "off", "国办发明电〔2020〕1号: 延长春节假期至2月2日"),
    date(2020, 2, 1): ("work", "off", "国办发明电〔2020〕1号: 延长春节假期, 2月1日不再上班"),
}

ALL_OFF = frozenset().union(*(n.holidays for n in PARSED.values()))
ALL_WORK = frozenset().union(*(n.working_days for n in PARSED.values()))


def _notice_day(d):
    """How the notices count ``d`` (the notice of d's year and the next one, which may start in December)."""
    if d in ALL_WORK:
        return "work"
    if d in ALL_OFF:
        return "off"
    return "work" if d.weekday() < 5 else "off"


def _library_day(d, cn):
    """How the library counts ``d``: its items are days off, ``weekend_workdays`` make-up days.

    The library lists the statutory days and the weekdays off, not the weekend
    days inside a holiday's range, which are off anyway.
    """
    if d in cn.weekend_workdays:
        return "work"
    if d in cn:
        return "off"
    return "work" if d.weekday() < 5 else "off"


@pytest.mark.parametrize("year", sorted(TEXTS))
def test_every_day_of_the_year_matches_the_holidays_package(year):
    cn = holidays.China(years=year)
    differ = {}
    d = date(year, 1, 1)
    while d.year == year:
        ours, theirs = _notice_day(d), _library_day(d, cn)
        if ours != theirs:
            differ[d] = (ours, theirs)
        d += timedelta(1)
    known = {d: v[:2] for d, v in LATER_NOTICES.items() if d.year == year}
    assert differ == known


@pytest.mark.parametrize("year", sorted(TEXTS))
def test_make_up_days_match_the_holidays_package(year):
    cn = holidays.China(years=year)
    ours = {d for d in ALL_WORK if d.year == year}
    theirs = {d for d in cn.weekend_workdays if d.year == year}
    known_ours = {d for d, (n, _, _) in LATER_NOTICES.items() if d.year == year and n == "work" and d.weekday() >= 5}
    known_theirs = {d for d, (_, l, _) in LATER_NOTICES.items() if d.year == year and l == "work"}
    assert ours - known_ours == theirs - known_theirs


def test_days_of_the_year_before_in_a_notice_match_the_library():
    # The 2007 notice's 元旦 makes 2006-12-30 and 31 working days; 2008's and
    # 2019's start 元旦 in December of the year before.
    for d in (date(2006, 12, 30), date(2006, 12, 31)):
        assert d in PARSED[2007].working_days
        assert d in holidays.China(years=2006).weekend_workdays
    assert date(2007, 12, 29) in PARSED[2008].working_days
    assert {date(2007, 12, 30), date(2007, 12, 31)} <= PARSED[2008].holidays
    assert date(2018, 12, 29) in PARSED[2019].working_days
    assert date(2022, 12, 31) in PARSED[2023].holidays


def test_an_encouragement_grants_no_day_off():
    notice = PARSED[2024]
    assert date(2024, 2, 9) not in notice.holidays
    assert date(2024, 2, 9) not in holidays.China(years=2024)
    assert notice.notes == ("鼓励各单位结合带薪年休假等制度落实，安排职工在除夕（2月9日）休息。",)
    assert any("未计入" in line and "除夕（2月9日）" in line for line in describe(notice))


# --- the forms of the text ---------------------------------------------------------------

HALF_WIDTH = str.maketrans("，：（）；", ",:();")


def reading(notice):
    """What a notice says, without the sentences quoted as written."""
    return (notice.year, notice.holidays, notice.working_days,
            [(i.names, i.days_off, i.working_days) for i in notice.items])


def test_half_width_punctuation_reads_the_same():
    for year in (2009, 2025, 2026):
        assert reading(parse_notice(TEXTS[year].translate(HALF_WIDTH))) == reading(PARSED[year])


def test_traditional_characters_read_the_same():
    trad = str.maketrans("节调劳动国庆与连补办厅关于务历农腊", "節調勞動國慶與連補辦廳關於務曆農臘")
    for year in (2016, 2025):
        assert reading(parse_notice(TEXTS[year].translate(trad))) == reading(PARSED[year])


def test_an_item_broken_over_lines_reads_the_same():
    text = TEXTS[2012].replace("一、元旦：", "一、元旦：\n").replace("共3天。3月31日", "共3天。\n3月31日")
    assert reading(parse_notice(text)) == reading(PARSED[2012])


def test_星期_and_周_are_both_weekdays():
    text = TEXTS[2026].replace("（周", "（星期")
    assert reading(parse_notice(text)) == reading(PARSED[2026])


def _items(year, *items, intro_names="元旦、春节、清明节、劳动节、端午节、中秋节和国庆节"):
    """A notice for ``year`` with these item bodies, numbered in order."""
    numerals = "一二三四五六七八九十"
    lines = [f"国务院办公厅关于{year}年部分节假日安排的通知", ""]
    if intro_names:
        lines.append(f"经国务院批准，现将{year}年{intro_names}放假调休日期的具体安排通知如下。")
    lines += [f"{numerals[i]}、{item}" for i, item in enumerate(items)]
    return "\n".join(lines) + "\n"


# A complete 2026 notice whose items can be swapped one at a time.
ITEMS_2026 = [
    "元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。",
    "春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。2月14日（周六）、2月28日（周六）上班。",
    "清明节：4月4日（周六）至6日（周一）放假，共3天。",
    "劳动节：5月1日（周五）至5日（周二）放假调休，共5天。5月9日（周六）上班。",
    "端午节：6月19日（周五）至21日（周日）放假，共3天。",
    "中秋节：9月25日（周五）至27日（周日）放假，共3天。",
    "国庆节：10月1日（周四）至7日（周三）放假调休，共7天。9月20日（周日）、10月10日（周六）上班。",
]


def _with(index, item, items=ITEMS_2026, year=2026):
    changed = list(items)
    changed[index] = item
    return _items(year, *changed)


def test_the_2026_items_read_like_the_published_notice():
    assert parse_notice(_items(2026, *ITEMS_2026)).holidays == PARSED[2026].holidays


def test_a_range_across_months_and_a_merged_item():
    items = ITEMS_2026[:5] + ["中秋节、国庆节：9月29日（周二）至10月6日（周二）放假调休，共8天。10月10日（周六）上班。"]
    notice = parse_notice(_items(2026, *items))
    item = notice.items[-1]
    assert item.names == ("中秋节", "国庆节") and item.name == "中秋节、国庆节"
    assert item.days_off == tuple(date(2026, 9, 29) + timedelta(k) for k in range(8))
    assert PARSED[2023].items[-1].days_off[0] == date(2023, 9, 29)  # 9月29日至10月6日


@pytest.mark.parametrize("first", [
    "元旦：2017年12月30日至2018年1月1日放假调休，共3天。2017年12月23日（星期六）上班。",
    "元旦：12月30日（星期六）至1月1日（星期一）放假调休，共3天。12月23日（星期六）上班。",
])
def test_a_range_from_december_of_the_year_before(first):
    items = [
        first,
        "春节：2月15日至21日放假调休，共7天。2月11日（星期日）、2月24日（星期六）上班。",
        "清明节：4月5日至7日放假调休，共3天。4月8日（星期日）上班。",
        "劳动节：4月29日至5月1日放假调休，共3天。4月28日（星期六）上班。",
        "端午节：6月18日放假，与周末连休。",
        "中秋节：9月24日放假，与周末连休。",
        "国庆节：10月1日至7日放假调休，共7天。9月29日（星期六）、9月30日（星期日）上班。",
    ]
    notice = parse_notice(_items(2018, *items))
    assert notice.items[0].days_off == (date(2017, 12, 30), date(2017, 12, 31), date(2018, 1, 1))
    assert notice.items[0].working_days == (date(2017, 12, 23),)


def test_a_range_into_the_next_year():
    # A range whose end month is before its start's ends in the next year.
    last = "国庆节：10月1日（周四）至7日（周三）放假调休，共7天。12月31日（周四）至1月2日（周六）放假，共3天。"
    notice = parse_notice(_items(2026, *ITEMS_2026[:-1], last))
    assert {date(2026, 12, 31), date(2027, 1, 1), date(2027, 1, 2)} <= notice.holidays


def test_single_days_several_make_up_days_and_moved_days_off():
    notice = PARSED[2014]
    assert notice.items[2].days_off == (date(2014, 4, 5), date(2014, 4, 7))  # 4月5日放假，4月7日（星期一）补休
    assert notice.items[4].days_off == (date(2014, 6, 2),)  # 6月2日放假，与周末连休
    assert PARSED[2010].items[5].working_days == (date(2010, 9, 19), date(2010, 9, 25))  # 9月19日（星期日）、25日（星期六）
    assert PARSED[2026].items[1].working_days == (date(2026, 2, 14), date(2026, 2, 28))


def test_不调休_and_与周末连休():
    assert PARSED[2025].items[0].days_off == (date(2025, 1, 1),)
    assert PARSED[2025].items[0].working_days == ()
    with pytest.raises(NoticeError, match="不调休，却又有调休上班日"):
        parse_notice(_with(0, "元旦：1月1日（周四）放假1天，不调休。1月4日（周日）上班。"))
    with pytest.raises(NoticeError, match="并不挨着周末"):
        parse_notice(_with(0, "元旦：1月1日（周四）放假，与周末连休。"))


def test_the_year_comes_from_the_title_or_the_introduction():
    body = "\n".join(f"{n}、{i}" for n, i in zip("一二三四五六七", ITEMS_2026))
    assert parse_notice("国务院办公厅关于2026年\n部分节假日安排的通知\n" + body).year == 2026
    assert parse_notice("经国务院批准，现将2026年元旦、春节、清明节、劳动节、端午节、中秋节和国庆节放假调休日期的具体安排通知如下。\n" + body).year == 2026
    assert parse_notice(body, year=2026).year == 2026
    with pytest.raises(NoticeError, match="找不到通知的年份"):
        parse_notice(body)
    with pytest.raises(NoticeError, match="不止一个年份"):
        parse_notice("国务院办公厅关于2026年部分节假日安排的通知\n经国务院批准，现将2025年元旦放假调休日期的具体安排通知如下。\n" + body)
    with pytest.raises(NoticeError, match="通知写的是2026年，不是2025年"):
        parse_notice(TEXTS[2026], year=2025)


# --- refusals ---------------------------------------------------------------------------


def test_a_sentence_that_cannot_be_read_is_quoted():
    text = TEXTS[2026].replace("2月14日（周六）、2月28日（周六）上班。", "2月14日（周六）、2月28日（周六）照常上班吧。")
    with pytest.raises(NoticeError) as err:
        parse_notice(text)
    assert "读不懂这一句" in str(err.value)
    assert "“2月14日（周六）、2月28日（周六）照常上班吧。”" in str(err.value)


def test_a_weekday_mismatch_is_refused():
    text = TEXTS[2026].replace("1月1日（周四）", "1月1日（周五）")
    with pytest.raises(NoticeError) as err:
        parse_notice(text)
    message = str(err.value)
    assert "2026-01-01 是星期四，通知写的是星期五" in message
    assert "一、元旦：1月1日（周五）至3日（周六）放假调休，共3天。" in message
    with pytest.raises(NoticeError, match="2010-06-13 是星期日，通知写的是星期六"):
        parse_notice(TEXTS[2010].replace("13日（星期日）", "13日（星期六）"))


def test_two_weekdays_in_one_parenthesis_are_refused():
    with pytest.raises(NoticeError, match="写了两个星期"):
        parse_notice(TEXTS[2026].replace("1月4日（周日）", "1月4日（周日、周一）"))


@pytest.mark.parametrize("change, message", [
    (("共9天", "共8天"), "写的是共8天，日期算出来是9天"),
    (("1月4日（周日）上班", "1月5日（周一）上班"), "调休上班的 2026-01-05 是星期一，不是周末"),
    (("七、国庆节：", "七、国际节："), "不认识的节日“国际节”"),
    (("5月9日（周六）上班", "5月2日（周六）上班"), "2026-05-02 既是放假日又是调休上班日"),
    (("至23日（农历正月初七、周一）", "至13日（周五）"), "日期范围倒过来了"),
    (("4月4日（周六）至6日（周一）", "2月30日至6日"), "没有这一天：2026年2月30日"),
])
def test_inconsistent_notices_are_refused(change, message):
    text = TEXTS[2026].replace(*change)
    assert text != TEXTS[2026]
    with pytest.raises(NoticeError, match=re.escape(message)):
        parse_notice(text)


def test_a_missing_item_is_refused():
    dropped = TEXTS[2026].replace("七、国庆节：10月1日（周四）至7日（周三）放假调休，共7天。9月20日（周日）、10月10日（周六）上班。\n", "")
    with pytest.raises(NoticeError, match="缺少这些节日的条目：国庆节"):
        parse_notice(dropped)
    gap = TEXTS[2026].replace("五、端午节：6月19日（周五）至21日（周日）放假，共3天。\n", "")
    with pytest.raises(NoticeError, match="条目编号不连续"):
        parse_notice(gap)
    with pytest.raises(NoticeError, match="没有找到"):
        parse_notice("国务院办公厅关于2026年部分节假日安排的通知\n")


def test_a_fixed_day_must_be_in_its_item():
    with pytest.raises(NoticeError, match="劳动节的放假日期不含 2026-05-01"):
        parse_notice(_with(3, "劳动节：5月2日（周六）至5日（周二）放假调休，共4天。5月9日（周六）上班。"))


def test_an_explanation_that_contradicts_the_days_is_refused():
    text = TEXTS[2008].replace("12月29日（星期六）公休日调至12月31日（星期一）", "12月29日（星期六）公休日调至1月2日（星期三）")
    with pytest.raises(NoticeError) as err:
        parse_notice(text)
    assert "2008-01-02 不在这一项的放假日期里" in str(err.value)
    assert "调至1月2日（星期三）" in str(err.value)


def test_a_notice_of_another_kind_is_refused():
    extension = (
        "国务院办公厅关于延长2020年春节假期的通知\n"
        "一、延长2020年春节假期至2月2日（农历正月初九，星期日），2月3日（星期一）起正常上班。\n"
    )
    with pytest.raises(NoticeError, match="不认识的节日"):
        parse_notice(extension)


# --- the calendar file -------------------------------------------------------------------


def _config(tmp_path, calendar_toml=None, config_toml='[calendar]\nfile = "holidays-cn.toml"\n'):
    if calendar_toml is not None:
        (tmp_path / "holidays-cn.toml").write_text(calendar_toml, encoding="utf-8")
    import tomllib

    return build_config(tomllib.loads(config_toml), {}, tmp_path)


def test_the_calendar_file_publishes_its_years(tmp_path):
    notice = parse_notice(SYNTHETIC_2027)
    entry = CalendarYear(tuple(sorted(notice.holidays)), tuple(sorted(notice.working_days)), notice.title)
    config = _config(tmp_path, render_calendar_file({2027: entry}))
    assert config.published_years == (2027,)
    assert config.calendar_file == tmp_path / "holidays-cn.toml"
    assert set(config.extra_holidays) == notice.holidays
    assert set(config.extra_working_days) == notice.working_days


def test_a_missing_calendar_file_is_no_years(tmp_path):
    config = _config(tmp_path)
    assert config.published_years == () and config.extra_holidays == ()


def test_the_configs_own_dates_win_over_the_file(tmp_path):
    calendar = '[years.2027]\nholidays = [2027-01-01, 2027-02-05]\nworking_days = [2027-01-31]\n'
    config = _config(tmp_path, calendar, '[calendar]\nfile = "holidays-cn.toml"\nworking_days = [2027-02-05]\nholidays = [2027-01-31]\n')
    assert config.extra_holidays == (date(2027, 1, 1), date(2027, 1, 31))
    assert config.extra_working_days == (date(2027, 2, 5),)


@pytest.mark.parametrize("calendar, key", [
    ("[years.2027]\nholidays = [2027-02-30]\n", "not valid TOML"),
    ("[years.2027]\nholidays = ['x']\n", "years.2027.holidays[0]: expected a date (YYYY-MM-DD), got 'x'"),
    ("[years.2027]\nholidays = [2028-03-01]\n", "years.2027.holidays[0]: 2028-03-01 is not in 2027"),
    ("[years.2027]\nholidays = [2027-01-01]\nworking = []\n", "years.2027.working: unknown key"),
    ("[years.2027]\nworking_days = [2027-01-31]\n", "years.2027.holidays: missing"),
    ("[years.next]\nholidays = [2027-01-01]\n", "years.next: expected a year"),
    ("[years.2027]\nholidays = [2027-01-01]\nworking_days = [2027-01-01]\n", "years.2027.working_days: 2027-01-01 is also in years.2027.holidays"),
    ("[years.2027]\nholidays = [2027-01-01T00:00:00]\n", "years.2027.holidays[0]: expected a date"),
    ("[years.2027]\nholidays = [2027-01-01]\nsource = 1\n", "years.2027.source: expected a string"),
    ("years = 1\n", "years: expected a table"),
    ("[other]\n", "other: unknown key"),
])
def test_a_malformed_calendar_file_names_the_file_and_the_key(tmp_path, calendar, key):
    with pytest.raises(ConfigError) as err:
        _config(tmp_path, calendar)
    message = str(err.value)
    assert message.startswith(f"calendar.file: {tmp_path / 'holidays-cn.toml'}: ")
    assert key in message


def test_the_calendar_file_reads_back_as_written(tmp_path):
    years = {
        y: CalendarYear(tuple(sorted(n.holidays)), tuple(sorted(n.working_days)), n.title)
        for y, n in PARSED.items()
    }
    path = tmp_path / "cal.toml"
    path.write_text(render_calendar_file(years), encoding="utf-8")
    assert read_calendar_file(path) == years


def test_calendar_file_must_be_a_string():
    with pytest.raises(ConfigError, match="calendar.file: expected a string"):
        build_config({"calendar": {"file": 3}}, {})


# --- govhall calendar import ----------------------------------------------------------------

TICKET_2027 = {
    "id": "T-27", "kind": "application", "created_at": "2027-02-01T09:00:00+08:00",
    "accepted_at": "2027-02-01T10:00:00+08:00", "promised_working_days": 10,
}


@pytest.fixture
def project(tmp_path):
    (tmp_path / "govhall.toml").write_text('lang = "zh"\n', encoding="utf-8")
    (tmp_path / "notice-2027.txt").write_text(SYNTHETIC_2027, encoding="utf-8")
    (tmp_path / "tickets.json").write_text(json.dumps({"tickets": [TICKET_2027]}), encoding="utf-8")
    return tmp_path


def run(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def _clock(capsys, project):
    code, out, _ = run(capsys, "check", project / "tickets.json", "--now", "2027-02-03T09:00:00+08:00",
                       "--config", project / "govhall.toml")
    assert code == 0
    (ticket,) = json.loads(out)["tickets"]
    (clock,) = [c for c in ticket["clocks"] if c["working_days"] == 10]
    return clock


def test_import_round_trip(project, capsys):
    config = project / "govhall.toml"
    before = _clock(capsys, project)
    assert before["provisional"] is True
    code, out, _ = run(capsys, "calendar", "info", "2027-02-09", "--config", config)
    assert code == 0 and json.loads(out)["working_day"] is True and json.loads(out)["published"] is False

    code, out, err = run(capsys, "calendar", "import", project / "notice-2027.txt", "--config", config, "--yes")
    assert code == 0, err
    assert "春节：放假 2月5日（周五）至2月12日（周五），共8天；调休上班 1月31日（周日）、2月20日（周六）" in out
    assert "已写入" in out
    assert config.read_text(encoding="utf-8") == 'lang = "zh"\n\n[calendar]\nfile = "holidays-cn.toml"\n'
    assert (project / "holidays-cn.toml").exists()

    for day, working in (("2027-02-09", False), ("2027-02-20", True), ("2027-01-31", True), ("2027-06-09", False)):
        code, out, _ = run(capsys, "calendar", "info", day, "--config", config)
        info = json.loads(out)
        assert code == 0 and info["working_day"] is working and info["published"] is True
        assert info.get("provisional", False) is False
    after = _clock(capsys, project)
    assert after["provisional"] is False
    assert after["due_date"] != before["due_date"]
    # 10 working days after 2027-02-01: 2-4, (5-12 off), 15-19, 20 (the make-up Saturday), 22.
    assert after["due_date"] == "2027-02-22"


def test_import_without_yes_off_a_terminal_is_refused(project, capsys):
    code, _, err = run(capsys, "calendar", "import", project / "notice-2027.txt", "--config", project / "govhall.toml")
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("govhall: error: not written") and "--yes" in err
    assert not (project / "holidays-cn.toml").exists()
    assert (project / "govhall.toml").read_text(encoding="utf-8") == 'lang = "zh"\n'


class _Terminal:
    def __init__(self, answer):
        self.answer = answer

    def isatty(self):
        return True

    def readline(self):
        return self.answer

    def read(self):  # pragma: no cover - the notice is a file here
        raise AssertionError


@pytest.mark.parametrize("answer, code, written", [("y\n", 0, True), ("\n", 1, False), ("n\n", 1, False)])
def test_import_asks_on_a_terminal(project, capsys, monkeypatch, answer, code, written):
    monkeypatch.setattr(sys, "stdin", _Terminal(answer))
    got, out, _ = run(capsys, "calendar", "import", project / "notice-2027.txt", "--config", project / "govhall.toml")
    assert got == code
    assert f"写入 {project / 'holidays-cn.toml'}并在 {project / 'govhall.toml'} 末尾加上 [calendar] file = \"holidays-cn.toml\"？[y/N]" in out
    assert (project / "holidays-cn.toml").exists() is written


def test_import_from_standard_input(project, capsys, monkeypatch):
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO(SYNTHETIC_2027))
    code, _, err = run(capsys, "calendar", "import", "-", "--file", project / "cal.toml", "--yes")
    assert code == 0, err
    assert read_calendar_file(project / "cal.toml")[2027].source == "国务院办公厅关于2027年部分节假日安排的通知"


def test_import_keeps_other_years_and_says_when_nothing_changes(project, capsys):
    config = project / "govhall.toml"
    (project / "notice-2026.txt").write_text(TEXTS[2026], encoding="utf-8")
    assert run(capsys, "calendar", "import", project / "notice-2027.txt", "--config", config, "--yes")[0] == 0
    assert run(capsys, "calendar", "import", project / "notice-2026.txt", "--config", config, "--yes")[0] == 0
    assert sorted(read_calendar_file(project / "holidays-cn.toml")) == [2026, 2027]
    assert config.read_text(encoding="utf-8").count("[calendar]") == 1
    code, out, _ = run(capsys, "calendar", "import", project / "notice-2027.txt", "--config", config)
    assert code == 0 and "没有改动" in out


def test_import_into_a_config_with_a_calendar_table_tells_the_line_to_add(project, capsys):
    config = project / "govhall.toml"
    config.write_text('[calendar]\nholidays = [2027-03-08]\n', encoding="utf-8")
    code, _, err = run(capsys, "calendar", "import", project / "notice-2027.txt", "--config", config, "--yes")
    assert code == 1
    assert 'add this line to it to use' in err and 'file = "holidays-cn.toml"' in err
    assert config.read_text(encoding="utf-8") == '[calendar]\nholidays = [2027-03-08]\n'
    assert 2027 in read_calendar_file(project / "holidays-cn.toml")


def test_import_uses_the_file_the_config_names(project, capsys):
    config = project / "govhall.toml"
    config.write_text('[calendar]\nfile = "cal/cn.toml"\n', encoding="utf-8")
    (project / "cal").mkdir()
    assert run(capsys, "calendar", "import", project / "notice-2027.txt", "--config", config, "--yes")[0] == 0
    assert 2027 in read_calendar_file(project / "cal" / "cn.toml")
    code, _, err = run(capsys, "calendar", "import", project / "notice-2027.txt", "--config", config, "--yes",
                       "--file", project / "other.toml")
    assert code == 2 and "is not the calendar file" in err


def test_import_needs_a_config_or_a_file(project, capsys):
    code, _, err = run(capsys, "calendar", "import", project / "notice-2027.txt", "--yes")
    assert code == 2 and "needs --config" in err


def test_an_unreadable_notice_is_one_line_and_exit_2(project, capsys):
    bad = project / "bad.txt"
    bad.write_text(SYNTHETIC_2027.replace("1月1日（周五）", "1月1日（周六）"), encoding="utf-8")
    code, out, err = run(capsys, "calendar", "import", bad, "--config", project / "govhall.toml", "--yes")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"govhall: error: {bad}: ")
    assert "2027-01-01 是星期五，通知写的是星期六" in err and "Traceback" not in err
    (project / "gbk.txt").write_bytes(SYNTHETIC_2027.encode("gb18030"))
    code, _, err = run(capsys, "calendar", "import", project / "gbk.txt", "--file", project / "c.toml", "--yes")
    assert code == 2 and "not UTF-8" in err
    code, _, err = run(capsys, "calendar", "import", project / "nope.txt", "--file", project / "c.toml", "--yes")
    assert code == 2 and "No such file" in err


def test_a_malformed_calendar_file_is_a_config_error(project, capsys):
    config = project / "govhall.toml"
    config.write_text('[calendar]\nfile = "holidays-cn.toml"\n', encoding="utf-8")
    (project / "holidays-cn.toml").write_text("[years.2027]\nholidays = [2027-13-01]\n", encoding="utf-8")
    for args in (("calendar", "info", "2027-01-04", "--config", config),
                 ("calendar", "import", project / "notice-2027.txt", "--config", config, "--yes")):
        code, _, err = run(capsys, *args)
        assert code == 2 and err.count("\n") == 1
        assert f"calendar.file: {project / 'holidays-cn.toml'}" in err
    (project / "holidays-cn.toml").write_text("[years.2027]\nholidays = ['2027-13-01']\n", encoding="utf-8")
    code, _, err = run(capsys, "calendar", "info", "2027-01-04", "--config", config)
    assert code == 2 and "years.2027.holidays[0]: expected a date" in err


def test_a_year_the_builtin_calendar_has_is_imported_only_when_they_agree(project, capsys):
    config = project / "govhall.toml"
    for year in (2020, 2019):
        (project / f"n{year}.txt").write_text(TEXTS[year], encoding="utf-8")
        code, _, err = run(capsys, "calendar", "import", project / f"n{year}.txt", "--config", config, "--yes")
        assert code == 2 and "already in the built-in calendar" in err and "not imported" in err
    assert "2020-01-31, 2020-02-01" in run(capsys, "calendar", "import", project / "n2020.txt", "--config", config, "--yes")[2]
    (project / "n2025.txt").write_text(TEXTS[2025], encoding="utf-8")
    assert run(capsys, "calendar", "import", project / "n2025.txt", "--config", config, "--yes")[0] == 0


# --- docs/calendar.md ----------------------------------------------------------------------

CALENDAR_MD = (Path(__file__).parent.parent / "docs" / "calendar.md").read_text(encoding="utf-8")


def test_the_docs_import_example_is_what_the_command_prints():
    block = CALENDAR_MD.split("$ govhall calendar import notice-2027.txt --config govhall.toml\n", 1)[1]
    shown = block.split("\n写入 ", 1)[0].splitlines()
    assert shown == describe(parse_notice(SYNTHETIC_2027))


def test_the_docs_calendar_examples_run(project, capsys):
    examples = re.findall(r"^\$ govhall (calendar (?:info|add) [^\n]*)\n([^\n$]+)$", CALENDAR_MD, re.M)
    assert len(examples) >= 3
    for command, expected in examples:
        args = command.split()
        if args[2].startswith("2027"):
            run(capsys, "calendar", "import", project / "notice-2027.txt", "--config", project / "govhall.toml", "--yes")
        code, out, _ = run(capsys, *[str(project / "govhall.toml") if a == "govhall.toml" else a for a in args])
        assert code == 0 and out.strip() == expected, command
