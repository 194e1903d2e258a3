"""The report input (govhall_sdk.reports.data): the period's tests on records' text, and what ReportData
derives once for every report (the records by ticket, instants in the report's zone)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govhall_sdk.reports.data import Period, ReportData, instant, local

from .test_tables import TZ

START = datetime(2025, 3, 1, tzinfo=TZ)
PERIODS = [Period(), Period(START), Period(None, START), Period(START, START + timedelta(days=7))]
INSTANTS = st.datetimes(datetime(2025, 1, 1), datetime(2025, 6, 1),
                        timezones=st.sampled_from([TZ, timezone.utc, timezone(timedelta(hours=-5))]))


@given(st.sampled_from(PERIODS), st.one_of(st.none(), st.just(""), INSTANTS.map(datetime.isoformat)))
def test_holds_text_is_holds_of_the_instant(period, text):
    assert period.holds_text(text) == period.holds(instant(text))


def test_only_a_period_open_on_both_sides_is_unbounded():
    assert [p.unbounded for p in PERIODS] == [True, False, False, False]


def report(records: list[dict]) -> ReportData:
    return ReportData(records, [], {}, Period(), START, TZ)


def test_a_record_is_found_by_adapter_and_ticket_and_an_unknown_one_is_empty():
    records = [{"adapter": "local", "id": "T1"}, {"adapter": "redmine", "id": "T1"}, {"id": "T2"}]
    data = report(records)
    assert data.record("redmine", "T1") is records[1] and data.record("", "T2") is records[2]
    assert data.record("local", "T2") == {}


@given(st.lists(st.one_of(st.none(), INSTANTS.map(datetime.isoformat)), max_size=6))
def test_local_is_the_instant_in_the_report_zone_and_one_object_per_text(texts):
    data = report([])
    shown = [data.local(text) for text in texts]
    for text, at in zip(texts, shown):
        assert at == local(text, TZ) and (at is None or at.isoformat() == local(text, TZ).isoformat())
        assert at is data.local(text)


@pytest.mark.parametrize("text", [None, ""])
def test_no_instant_is_none(text):
    assert report([]).local(text) is None
