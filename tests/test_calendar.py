"""Tests for govhall_sdk.calendar: official arrangements, properties, year guard."""

import warnings
from datetime import date, timedelta

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govhall_sdk.calendar import (
    DaySource,
    UnpublishedYearWarning,
    WorkCalendar,
    china_holidays_source,
    chinesecalendar_source,
    default_calendar,
    statutory_days,
)

DAY = timedelta(days=1)
FIRST, LAST = date(2020, 1, 1), date(2026, 12, 31)


def naive_add_working_days(cal, d, n):
    """Reference: step day by day, counting working days after d."""
    while n:
        d += DAY
        if cal.is_working_day(d):
            n -= 1
    return d


def naive_count_working_days(cal, a, b):
    """Reference: count working days x with a < x <= b, day by day."""
    return sum(cal.is_working_day(a + k * DAY) for k in range(1, (b - a).days + 1))


def days(first, last):
    return [first + k * DAY for k in range((last - first).days + 1)]


@pytest.fixture(scope="module")
def source():
    return china_holidays_source()


@pytest.fixture(scope="module")
def cal(source):
    return WorkCalendar(source)


@pytest.fixture(scope="module")
def unpublished_year(source):
    """The first year after the library's published arrangements."""
    year = max(source.published_years) + 1
    assert year >= 2027
    return year


# --- official arrangements (State Council notices) -------------------------


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        # 2025: Sunday 26 Jan is a make-up working day; 28 Jan - 4 Feb off.
        (date(2025, 1, 24), 5, date(2025, 2, 7)),
        # 2024: 1-7 Oct off; Sunday 29 Sep and Saturday 12 Oct are working days.
        (date(2024, 9, 27), 15, date(2024, 10, 23)),
        # 2020: Sunday 19 Jan works; Spring Festival 24 Jan - 2 Feb including
        # the extension of 国办发明电〔2020〕1号 (Saturday 1 Feb no longer works).
        (date(2020, 1, 18), 1, date(2020, 1, 19)),
        (date(2020, 1, 23), 1, date(2020, 2, 3)),
        # 2023: 29 Sep - 6 Oct off; Saturday 7 and Sunday 8 Oct work.
        (date(2023, 9, 28), 1, date(2023, 10, 7)),
        (date(2023, 9, 28), 3, date(2023, 10, 9)),
        # 2026: 1-3 Jan off, Sunday 4 Jan works.
        (date(2025, 12, 31), 1, date(2026, 1, 4)),
        # 2026: 15-23 Feb off; Saturdays 14 and 28 Feb work.
        (date(2026, 2, 13), 1, date(2026, 2, 14)),
        (date(2026, 2, 13), 2, date(2026, 2, 24)),
        (date(2026, 2, 26), 2, date(2026, 2, 28)),
    ],
)
def test_official_arrangements(cal, start, n, due):
    assert cal.add_working_days(start, n) == due


def test_count_october_2024(cal):
    # 23 weekdays, 5 of them off (1-4, 7 Oct), plus Saturday 12 Oct.
    assert cal.count_working_days(date(2024, 9, 30), date(2024, 10, 31)) == 19


def test_n_zero_returns_start_even_on_a_holiday(cal):
    assert cal.add_working_days(date(2025, 1, 29), 0) == date(2025, 1, 29)


def test_start_on_a_holiday_or_weekend(cal):
    assert cal.add_working_days(date(2025, 1, 29), 1) == date(2025, 2, 5)
    assert cal.add_working_days(date(2025, 3, 1), 1) == date(2025, 3, 3)


def test_2006_new_year_make_up_day(cal):
    # 国办发明电〔2005〕35号: "12月31日(星期六)上班".
    assert cal.is_working_day(date(2005, 12, 31))


# --- properties against day-by-day references --------------------------------

dates = st.dates(min_value=FIRST, max_value=LAST)


@pytest.mark.filterwarnings("ignore::govhall_sdk.calendar.UnpublishedYearWarning")
@settings(max_examples=500, deadline=None)
@given(d=dates, n=st.integers(min_value=0, max_value=60))
def test_add_matches_day_by_day(cal, d, n):
    assert cal.add_working_days(d, n) == naive_add_working_days(cal, d, n)


@settings(max_examples=500, deadline=None)
@given(a=dates, b=dates)
def test_count_matches_day_by_day(cal, a, b):
    expected = naive_count_working_days(cal, a, b) if b > a else 0
    assert cal.count_working_days(a, b) == expected


@pytest.mark.filterwarnings("ignore::govhall_sdk.calendar.UnpublishedYearWarning")
@settings(max_examples=200, deadline=None)
@given(d=dates, n=st.integers(min_value=1, max_value=60))
def test_count_inverts_add(cal, d, n):
    due = cal.add_working_days(d, n)
    assert cal.count_working_days(d, due) == n
    assert cal.is_working_day(due)


# --- cross-checks between the two libraries ----------------------------------


def test_every_day_2020_2026_matches_chinese_calendar(cal):
    span = days(FIRST, LAST)
    assert [d for d in span if cal.is_working_day(d) != chinese_calendar.is_workday(d)] == []


def test_chinesecalendar_source_matches_its_package():
    cc = WorkCalendar(chinesecalendar_source())
    first, last = min(cc.source.published_years), max(cc.source.published_years)
    span = days(date(first, 1, 1), date(last, 12, 31))
    assert [d for d in span if cc.is_working_day(d) != chinese_calendar.is_workday(d)] == []


def test_sources_agree_2004_2026_but_for_2005_12_31(cal):
    # chinesecalendar 1.11 misses the make-up Saturday 2005-12-31 of the 2006
    # New Year arrangement (国办发明电〔2005〕35号); holidays has it.
    cc = WorkCalendar(chinesecalendar_source())
    span = days(date(2004, 1, 1), date(2026, 12, 31))
    disagree = {d for d in span if cal.is_working_day(d) != cc.is_working_day(d)}
    assert disagree <= {date(2005, 12, 31)}


# --- unpublished years --------------------------------------------------------


def test_unpublished_year_warns_once_and_counts_weekends_and_statutory_days(source, unpublished_year):
    cal = WorkCalendar(source)
    y = unpublished_year
    year_days = days(date(y, 1, 1), date(y, 12, 31))
    statutory = set(statutory_days([y]))
    assert 12 <= len(statutory) <= 13  # 元旦 1, 春节 4, 清明 1, 劳动节 2, 端午 1, 中秋 1, 国庆 3 (中秋 may fall in 国庆)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cal.is_working_day(date(y, 3, 1))
        cal.add_working_days(date(y, 3, 1), 3)
        assert [cal.is_working_day(d) for d in year_days] == [
            d.weekday() < 5 and d not in statutory for d in year_days]
        working = sum(d.weekday() < 5 and d not in statutory for d in year_days)
        assert cal.count_working_days(date(y - 1, 12, 31), date(y, 12, 31)) == working
    assert [w.category for w in caught] == [UnpublishedYearWarning]
    assert str(y) in str(caught[0].message)


# The 2027 arrangement is not published (as of this writing): the law's days only.
STATUTORY_2027 = {
    date(2027, 1, 1): "元旦",
    date(2027, 2, 5): "除夕", date(2027, 2, 6): "春节 初一", date(2027, 2, 7): "初二", date(2027, 2, 8): "初三",
    date(2027, 4, 5): "清明", date(2027, 5, 1): "劳动节", date(2027, 5, 2): "劳动节", date(2027, 6, 9): "端午",
    date(2027, 9, 15): "中秋", date(2027, 10, 1): "国庆", date(2027, 10, 2): "国庆", date(2027, 10, 3): "国庆",
}


@pytest.fixture(scope="module")
def cal_2026():
    """The library's arrangement with every year after 2026 unpublished, whatever the library's version knows."""
    return WorkCalendar(china_holidays_source(last_published=2026))


def test_2027_statutory_days_are_off_and_nothing_else(cal_2026):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnpublishedYearWarning)
        for d in days(date(2027, 1, 1), date(2027, 12, 31)):
            assert cal_2026.is_working_day(d) == (d.weekday() < 5 and d not in STATUTORY_2027), d
        # the library's guesses are not taken: 2027-02-09/10 (observed Spring Festival), 2027-05-03/04, 2027-10-04/05
        for guessed in (date(2027, 2, 9), date(2027, 2, 10), date(2027, 5, 3), date(2027, 5, 4),
                        date(2027, 10, 4), date(2027, 10, 5)):
            assert cal_2026.is_working_day(guessed)
        assert cal_2026.info(date(2027, 1, 1))["reason"].startswith("holiday")
        assert cal_2026.info(date(2027, 1, 1))["published"] is False


def test_15_working_days_from_2026_12_18_is_2027_01_11_provisional():
    cal_2026 = WorkCalendar(china_holidays_source(last_published=2026))
    with pytest.warns(UnpublishedYearWarning):
        assert cal_2026.add_working_days(date(2026, 12, 18), 15) == date(2027, 1, 11)
    assert cal_2026.provisional(date(2026, 12, 18), date(2027, 1, 11))
    assert not cal_2026.provisional(date(2026, 1, 5), date(2026, 12, 31))
    assert cal_2026.provisional(date(2027, 3, 1), date(2027, 3, 5))


def test_a_published_notice_year_is_not_provisional():
    cal = WorkCalendar(china_holidays_source(last_published=2026), extra_published_years=[2027])
    assert not cal.provisional(date(2026, 12, 18), date(2027, 1, 11))
    assert cal.provisional(date(2027, 12, 18), date(2028, 1, 11))


def test_published_span_does_not_warn(source):
    cal = WorkCalendar(source)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cal.add_working_days(date(2024, 12, 20), 30)
        cal.count_working_days(FIRST, LAST)


def test_each_unpublished_year_touched_warns(source, unpublished_year):
    y = unpublished_year
    with pytest.warns(UnpublishedYearWarning) as caught:
        WorkCalendar(source).count_working_days(date(y - 1, 6, 1), date(y + 1, 6, 1))
    messages = [str(w.message) for w in caught]
    assert len(messages) == 2
    assert f"for {y}:" in messages[0]
    assert f"for {y + 1}:" in messages[1]
    with pytest.warns(UnpublishedYearWarning):  # a new calendar warns again
        WorkCalendar(source).is_working_day(date(y, 1, 4))


def test_source_with_nothing_published_is_weekends_only():
    cal = WorkCalendar(DaySource(holidays=[], makeup_days=[], published_years=[]))
    with pytest.warns(UnpublishedYearWarning) as caught:
        assert cal.add_working_days(date(2025, 1, 24), 5) == date(2025, 1, 31)
        assert cal.count_working_days(date(2024, 12, 31), date(2025, 12, 31)) == 261
    messages = [str(w.message) for w in caught]  # the years in the order first touched
    assert len(messages) == 2
    assert "for 2025:" in messages[0]
    assert "for 2024:" in messages[1]


def test_adjustments_publish_the_year(source, unpublished_year):
    y = unpublished_year
    off = date(y, 3, 8)
    while off.weekday() != 0:  # a Monday with no statutory holiday near it
        off += DAY
    saturday = off + 5 * DAY
    base = WorkCalendar(source)
    for cal in (
        base.with_adjustments(extra_holidays=[off], extra_working_days=[saturday]),
        WorkCalendar(source, extra_holidays=[off], extra_working_days=[saturday]),
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert not cal.is_working_day(off)
            assert cal.is_working_day(saturday)
            assert cal.add_working_days(off - 3 * DAY, 1) == off + DAY
            assert cal.count_working_days(off - DAY, saturday) == 5
            assert cal.info(off) == {
                "date": off.isoformat(),
                "working_day": False,
                "reason": "holiday",
                "published": True,
            }
            assert cal.info(saturday)["reason"] == "make-up working day"
    with pytest.warns(UnpublishedYearWarning):
        assert base.is_working_day(off)  # the original calendar is unchanged


def test_later_adjustment_overrides_earlier(cal):
    d = date(2025, 3, 4)
    twice = cal.with_adjustments(extra_working_days=[d]).with_adjustments(extra_holidays=[d])
    assert not twice.is_working_day(d)
    holiday = date(2025, 1, 29)
    assert cal.with_adjustments(extra_working_days=[holiday]).is_working_day(holiday)


# --- info ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("d", "working", "reason"),
    [
        (date(2025, 1, 26), True, "make-up working day"),
        (date(2025, 1, 29), False, "holiday: Chinese New Year (Spring Festival)"),
        (date(2025, 3, 1), False, "weekend"),
        (date(2025, 3, 3), True, "weekday"),
    ],
)
def test_info(cal, d, working, reason):
    expected = {"date": d.isoformat(), "working_day": working, "reason": reason, "published": True}
    assert cal.info(d) == expected


def test_info_names_in_chinese():
    cal = WorkCalendar(china_holidays_source(language="zh_CN"))
    assert cal.info(date(2025, 1, 29))["reason"] == "holiday: 春节"


# --- errors and construction ----------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda cal: cal.is_working_day(date(1989, 12, 31)),
        lambda cal: cal.info(date(2151, 1, 1)),
        lambda cal: cal.add_working_days(date(2151, 1, 1), 0),
        lambda cal: cal.add_working_days(date(2150, 12, 31), 1),
        lambda cal: cal.count_working_days(date(1989, 12, 31), date(2020, 1, 1)),
        lambda cal: cal.count_working_days(date(2020, 1, 1), date(2151, 1, 1)),
    ],
)
def test_out_of_range_raises(cal, call):
    with pytest.raises(ValueError, match="outside the working-day calendar|past the calendar"):
        call(cal)


def test_negative_n_raises(cal):
    with pytest.raises(ValueError, match="n must be >= 0"):
        cal.add_working_days(date(2025, 1, 1), -1)


def test_bad_adjustments_raise(source):
    d = date(2025, 3, 3)
    with pytest.raises(ValueError, match="both extra holiday and extra working day"):
        WorkCalendar(source, extra_holidays=[d], extra_working_days=[d])
    with pytest.raises(ValueError, match="outside the calendar's years"):
        WorkCalendar(source, extra_holidays=[date(1980, 3, 3)])


def test_day_source_validates():
    with pytest.raises(ValueError, match="both holiday and make-up day"):
        DaySource(
            holidays=[date(2025, 3, 1)], makeup_days=[date(2025, 3, 1)], published_years=[2025]
        )
    with pytest.raises(ValueError, match="outside the published years"):
        DaySource(holidays=[date(2025, 3, 3)], makeup_days=[], published_years=[2024])


def test_sources_report_published_years(source):
    assert set(range(2004, 2027)) <= source.published_years
    assert chinesecalendar_source().published_years == frozenset(range(2004, 2027))


def test_default_calendar_is_cached():
    assert default_calendar() is default_calendar()
    assert default_calendar().is_working_day(date(2025, 1, 26))
