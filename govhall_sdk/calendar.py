"""Working-day arithmetic for mainland China's State Council holiday arrangement.

A **working day** is a day that is not a statutory holiday and is either a
weekday or an official make-up working day (调休上班). ``N working days from
d`` is the N-th working day strictly after ``d`` (行政许可法 第八十二条: the
day of ``d`` is not counted).

A year whose arrangement is not published is not guessed: its days off are the
weekends plus the statutory holidays the law itself fixes (《全国年节及纪念日放假
办法》: 元旦, 春节 除夕 and 初一 to 初三, 清明, 劳动节 two days, 端午, 中秋, 国庆
three days), with no swaps and no bridging days, which only the year's notice
gives. The first computation that touches such a year emits
:class:`UnpublishedYearWarning`, and :meth:`WorkCalendar.provisional` tells a
clock that its span reaches into one. Local adjustments from configuration
(``extra_holidays``, ``extra_working_days``) and imported notices
(``extra_published_years``) publish the year they fall in.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import warnings
from collections.abc import Iterable, Mapping
from datetime import date
from types import MappingProxyType

import attrs

__all__ = [
    "INDEX_YEARS_AHEAD",
    "DaySource",
    "UnpublishedYearWarning",
    "WorkCalendar",
    "china_holidays_source",
    "chinesecalendar_source",
    "default_calendar",
    "statutory_days",
]

_fromordinal = date.fromordinal
#: How many years after the published ones a :class:`WorkCalendar` indexes at construction (a deadline of a
#: ticket received in the last published year falls in the years after it).
INDEX_YEARS_AHEAD = 10


def _library():
    """The ``holidays`` package, imported when a source is first built (it is slow to import)."""
    import holidays

    return holidays


class UnpublishedYearWarning(UserWarning):
    """A computation used a year with no published arrangement (weekends only)."""


def _frozen_mapping(value: Mapping[date, str]) -> Mapping[date, str]:
    return MappingProxyType(dict(value))


@attrs.frozen
class DaySource:
    """Where a calendar's days come from.

    :param holidays: statutory holidays (days off), including days off moved
        from a weekend (调休放假).
    :param makeup_days: make-up working days (调休上班): weekend days that are
        working days.
    :param published_years: the years whose arrangement is published. Every
        date in ``holidays`` and ``makeup_days`` must fall in one of them.
    :param holiday_names: optional display names of holidays, by date.
    :param statutory_days: the statutory holidays of the years *not* in
        ``published_years``: the days off the law fixes in every year, without
        the swaps and bridging days that only a year's notice gives.

    :raises ValueError: a date is both a holiday and a make-up day, falls in a
        year not listed in ``published_years``, or a statutory day falls in a
        published year.
    """

    holidays: frozenset[date] = attrs.field(converter=frozenset)
    makeup_days: frozenset[date] = attrs.field(converter=frozenset)
    published_years: frozenset[int] = attrs.field(converter=frozenset)
    holiday_names: Mapping[date, str] = attrs.field(
        factory=dict, converter=_frozen_mapping, hash=False
    )
    statutory_days: frozenset[date] = attrs.field(default=frozenset(), converter=frozenset)

    def __attrs_post_init__(self) -> None:
        both = self.holidays & self.makeup_days
        if both:
            raise ValueError(f"dates both holiday and make-up day: {_show(both)}")
        stray = {d for d in self.holidays | self.makeup_days if d.year not in self.published_years}
        if stray:
            raise ValueError(f"dates outside the published years: {_show(stray)}")
        inside = {d for d in self.statutory_days if d.year in self.published_years}
        if inside:
            raise ValueError(f"statutory days in published years: {_show(inside)}")


def _show(dates: Iterable[date]) -> str:
    return ", ".join(d.isoformat() for d in sorted(dates))


def statutory_days(years: Iterable[int], *, language: str = "en_US") -> dict[date, str]:
    """The statutory holidays of ``years`` with their names, from the ``holidays`` library.

    Only the days the law fixes (the library's holidays without its ``observed``
    days, which are its guesses at a year's swaps), so nothing of a year's
    notice is guessed. Years outside the library's range give nothing.
    """
    holidays = _library()
    lo, hi = holidays.China.start_year, holidays.China.end_year
    wanted = [y for y in years if lo <= y <= hi]
    if not wanted:
        return {}
    return dict(holidays.China(years=wanted, observed=False, language=language).items())


def china_holidays_source(*, language: str = "en_US", last_published: int | None = None) -> DaySource:
    """Mainland China's arrangement as shipped by the ``holidays`` library.

    A year counts as published when the library lists at least one make-up
    working day in it (and, with ``last_published``, it is not later than that
    year); for the other years only the statutory days are taken (the library
    estimates the rest: swaps, bridging days, observed days). ``language``
    selects the holiday names (``"en_US"``, ``"zh_CN"``, ...).
    """
    holidays = _library()
    years = range(holidays.China.start_year, holidays.China.end_year + 1)
    cn = holidays.China(years=years, language=language)
    published = frozenset(
        d.year for d in cn.weekend_workdays if last_published is None or d.year <= last_published
    )
    makeup_days = frozenset(d for d in cn.weekend_workdays if d.year in published)
    names = {d: name for d, name in cn.items() if d.year in published}
    statutory = statutory_days((y for y in years if y not in published), language=language)
    return DaySource(
        holidays=names.keys(),
        makeup_days=makeup_days,
        published_years=published,
        holiday_names={**statutory, **names},
        statutory_days=statutory.keys(),
    )


def chinesecalendar_source() -> DaySource:
    """Mainland China's arrangement as shipped by the ``chinesecalendar`` package.

    Every year the package supports counts as published; the statutory days of
    the years after it come from the ``holidays`` library.
    """
    import chinese_calendar

    first, last = min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year
    statutory = statutory_days(range(last + 1, _library().China.end_year + 1))
    return DaySource(
        holidays=chinese_calendar.holidays.keys(),
        makeup_days=chinese_calendar.workdays.keys(),
        published_years=range(first, last + 1),
        holiday_names={**statutory, **chinese_calendar.holidays},
        statutory_days=statutory.keys(),
    )


class WorkCalendar:
    """Working days for mainland China (or any :class:`DaySource`).

    The days of ``first_year`` .. ``last_year`` are indexed: the sorted
    ordinals of the working days, and for every day the number of working days
    up to it. :meth:`add_working_days` and :meth:`count_working_days` answer in
    O(1) by indexing those two lists, with no loop over days. Construction
    indexes the years nearly every computation falls in, the published ones and
    :data:`INDEX_YEARS_AHEAD` after them; the first computation reaching outside
    them indexes every year (indexing all 161 years at once was most of the cost
    of a calendar, paid at every start of ``govhall``).

    :param source: holidays, make-up working days and published years.
    :param extra_holidays: local days off from configuration; they override the
        source and publish their year.
    :param extra_working_days: local working days from configuration; they
        override the source and publish their year.
    :param extra_published_years: further years to treat as published (the
        years of an imported State Council notice).
    :param first_year: first year the calendar answers for.
    :param last_year: last year the calendar answers for.
    :raises ValueError: an extra date is both a holiday and a working day or
        falls outside ``first_year`` .. ``last_year``.

    Dates outside ``first_year`` .. ``last_year`` raise :class:`ValueError`.
    """

    __slots__ = (
        "source",
        "extra_holidays",
        "extra_working_days",
        "extra_published_years",
        "first_year",
        "last_year",
        "published_years",
        "_holidays",
        "_makeup_days",
        "_lo",
        "_hi",
        "_flags",
        "_index",
        "_safe_lo",
        "_safe_hi",
        "_warned",
    )

    def __init__(
        self,
        source: DaySource,
        *,
        extra_holidays: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
        extra_published_years: Iterable[int] = (),
        first_year: int = 1990,
        last_year: int = 2150,
    ) -> None:
        if first_year > last_year:
            raise ValueError(f"first_year {first_year} is after last_year {last_year}")
        extra_holidays = frozenset(extra_holidays)
        extra_working_days = frozenset(extra_working_days)
        both = extra_holidays & extra_working_days
        if both:
            raise ValueError(f"dates both extra holiday and extra working day: {_show(both)}")
        outside = {
            d for d in extra_holidays | extra_working_days if not first_year <= d.year <= last_year
        }
        if outside:
            raise ValueError(
                f"extra dates outside the calendar's years {first_year}-{last_year}: "
                f"{_show(outside)}"
            )
        self.source = source
        self.extra_holidays = extra_holidays
        self.extra_working_days = extra_working_days
        self.first_year = first_year
        self.last_year = last_year
        self.extra_published_years = frozenset(extra_published_years)
        self.published_years = source.published_years | self.extra_published_years | {
            d.year for d in extra_holidays | extra_working_days
        }
        self._holidays = ((source.holidays | source.statutory_days) - extra_working_days) | extra_holidays
        self._makeup_days = (source.makeup_days - extra_holidays) | extra_working_days
        self._warned: set[int] = set()

        lo = self._lo = date(first_year, 1, 1).toordinal()
        hi = self._hi = date(last_year, 12, 31).toordinal()
        size = hi - lo + 1
        # Ordinal 1 (0001-01-01) is a Monday, so the weekday of ordinal o is (o - 1) % 7.
        week = bytes((lo - 1 + k) % 7 < 5 for k in range(7))
        flags = bytearray(week * (size // 7 + 1))[:size]
        for day in self._holidays:
            if lo <= (o := day.toordinal()) <= hi:
                flags[o - lo] = 0
        for day in self._makeup_days:
            if lo <= (o := day.toordinal()) <= hi:
                flags[o - lo] = 1
        self._flags = bytes(flags)
        self._safe_lo, self._safe_hi = self._published_span()
        if self._safe_lo <= self._safe_hi:
            ahead = min(_fromordinal(self._safe_hi).year + INDEX_YEARS_AHEAD, last_year)
            self._index = self._indexed(self._safe_lo, date(ahead, 12, 31).toordinal())
        else:
            self._index = self._indexed(lo, hi)

    def _indexed(self, first: int, last: int) -> tuple[int, int, list[int], list[int]]:
        """The index of the ordinals ``first`` .. ``last``: ``(first, last, upto, ords)``, where ``upto[o - first]``
        is the number of working days from ``first`` up to and including ``o``, so the n-th working day strictly
        after ``o`` is ``ords[upto[o - first] + n - 1]``. One tuple, so that a reader never sees half of one."""
        flags = self._flags[first - self._lo : last - self._lo + 1]
        return first, last, list(itertools.accumulate(flags)), list(itertools.compress(range(first, last + 1), flags))

    def _index_everything(self) -> tuple[int, int, list[int], list[int]]:
        """The index of every year of the calendar (built the first time it is needed)."""
        if self._index[0] != self._lo or self._index[1] != self._hi:
            self._index = self._indexed(self._lo, self._hi)
        return self._index

    def _published_span(self) -> tuple[int, int]:
        """Ordinal bounds of the longest run of consecutive published years (the
        latest on a tie).

        Computations inside it skip the unpublished-year check; with no
        published year the span is empty, ``(hi + 1, lo - 1)``, so every
        computation checks.
        """
        length = last = run = 0
        for year in range(self.first_year, self.last_year + 1):
            run = run + 1 if year in self.published_years else 0
            if run and run >= length:
                length, last = run, year
        if not length:
            return self._hi + 1, self._lo - 1
        return date(last - length + 1, 1, 1).toordinal(), date(last, 12, 31).toordinal()

    def _check(self, d: date) -> int:
        """Return ``d``'s ordinal, or raise ValueError when it is out of range."""
        o = d.toordinal()
        if not self._lo <= o <= self._hi:
            raise ValueError(self._out_of_range(d))
        return o

    def _out_of_range(self, d: date) -> str:
        return (
            f"{d.isoformat()} is outside the working-day calendar's years "
            f"{self.first_year}-{self.last_year}"
        )

    def _touch(self, lo: int, hi: int) -> None:
        """Warn once per unpublished year among the years of ordinals lo..hi."""
        for year in range(_fromordinal(lo).year, _fromordinal(hi).year + 1):
            if year not in self.published_years and year not in self._warned:
                self._warned.add(year)
                warnings.warn(
                    f"no published holiday arrangement for {year}: counting weekends and the "
                    f"statutory holidays only (no swaps or bridging days); deadlines in {year} "
                    f"are provisional until the State Council notice is imported "
                    f"(govhall calendar import NOTICE)",
                    UnpublishedYearWarning,
                    stacklevel=3,
                )

    def provisional(self, a: date, b: date) -> bool:
        """Whether a span from ``a`` to ``b`` reaches into a year with no published arrangement."""
        if self._safe_lo <= a.toordinal() and b.toordinal() <= self._safe_hi:
            return False
        return any(y not in self.published_years for y in range(a.year, b.year + 1))

    def fingerprint(self) -> str:
        """A digest of every day's working/off flag and the published years (changes with any data)."""
        digest = hashlib.sha256(self._flags)
        digest.update(",".join(map(str, sorted(self.published_years))).encode())
        return digest.hexdigest()

    def is_working_day(self, d: date) -> bool:
        """Whether ``d`` is a working day."""
        o = self._check(d)
        if not self._safe_lo <= o <= self._safe_hi:
            self._touch(o, o)
        return self._flags[o - self._lo] == 1

    def add_working_days(self, d: date, n: int) -> date:
        """The ``n``-th working day strictly after ``d``; ``d`` itself when ``n == 0``.

        ``d`` may be any day, a weekend or holiday included.

        :raises ValueError: ``n`` is negative, or ``d`` or the result is outside
            the calendar's years.
        """
        o = d.toordinal()
        first, last, upto, ords = self._index
        if not first <= o <= last:
            if not self._lo <= o <= self._hi:
                raise ValueError(self._out_of_range(d))
            first, last, upto, ords = self._index_everything()
        if n < 1:
            if n == 0:
                return d
            raise ValueError(f"n must be >= 0, got {n}")
        i = upto[o - first] + n - 1
        if i >= len(ords):
            if last < self._hi:  # past the years indexed so far
                self._index_everything()
                return self.add_working_days(d, n)
            raise ValueError(
                f"{n} working days after {d.isoformat()} is past the calendar's last year "
                f"{self.last_year}"
            )
        r = ords[i]
        if o < self._safe_lo or r > self._safe_hi:
            self._touch(o, r)
        return _fromordinal(r)

    def count_working_days(self, a: date, b: date) -> int:
        """The number of working days ``x`` with ``a < x <= b``; 0 when ``b <= a``.

        :raises ValueError: ``a`` or ``b`` is outside the calendar's years.
        """
        oa = self._check(a)
        ob = self._check(b)
        if ob <= oa:
            return 0
        if oa < self._safe_lo or ob > self._safe_hi:
            self._touch(oa, ob)
        first, last, upto, _ = self._index
        if oa < first or ob > last:
            first, last, upto, _ = self._index_everything()
        return upto[ob - first] - upto[oa - first]

    def info(self, d: date) -> dict:
        """Explain ``d``: its ISO date, whether it is a working day, why, and
        whether its year's arrangement is published.

        ``reason`` is ``"make-up working day"``, ``"holiday: <name>"`` (the
        source's name of a source holiday), ``"holiday"`` (a holiday with no
        known name), ``"weekend"`` or ``"weekday"``.
        """
        working = self.is_working_day(d)
        if working:
            reason = "make-up working day" if d in self._makeup_days else "weekday"
        elif d in self._holidays:
            name = None if d in self.extra_holidays else self.source.holiday_names.get(d)
            reason = f"holiday: {name}" if name else "holiday"
        else:
            reason = "weekend"
        return {
            "date": d.isoformat(),
            "working_day": working,
            "reason": reason,
            "published": d.year in self.published_years,
        }

    def with_adjustments(
        self, extra_holidays: Iterable[date] = (), extra_working_days: Iterable[date] = ()
    ) -> WorkCalendar:
        """A new calendar with these adjustments on top of this one's.

        A date given here overrides this calendar's adjustment of the same date.
        """
        extra_holidays = frozenset(extra_holidays)
        extra_working_days = frozenset(extra_working_days)
        return WorkCalendar(
            self.source,
            extra_holidays=(self.extra_holidays - extra_working_days) | extra_holidays,
            extra_working_days=(self.extra_working_days - extra_holidays) | extra_working_days,
            extra_published_years=self.extra_published_years,
            first_year=self.first_year,
            last_year=self.last_year,
        )


@functools.lru_cache(maxsize=None)
def default_calendar() -> WorkCalendar:
    """The shared calendar of mainland China's arrangement (``holidays`` library), built once."""
    return WorkCalendar(china_holidays_source())
