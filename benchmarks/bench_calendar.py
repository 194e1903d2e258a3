"""Deadlines per second: WorkCalendar vs the holidays library vs a day-by-day loop.

Run: python benchmarks/bench_calendar.py

100,000 seeded random (start, N) pairs, starts uniform over 2020-01-01..2026-12-31
(weekends and holidays included), N in 1..30. The holidays library is timed on a
subset and its rate extrapolated; all three answer "the N-th working day strictly
after start".
"""

import random
import sys
import time
import warnings
from datetime import date, timedelta
from pathlib import Path

import holidays

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from govhall_sdk.calendar import (  # noqa: E402
    UnpublishedYearWarning,
    WorkCalendar,
    china_holidays_source,
)

SEED = 20250124
PAIRS = 100_000
LIBRARY_PAIRS = 5_000
FIRST, LAST = date(2020, 1, 1), date(2026, 12, 31)
DAY = timedelta(days=1)


def make_pairs(count):
    rng = random.Random(SEED)
    lo, hi = FIRST.toordinal(), LAST.toordinal()
    return [(date.fromordinal(rng.randint(lo, hi)), rng.randint(1, 30)) for _ in range(count)]


def day_by_day(is_working_day, d, n):
    """Reference: step one day at a time, counting working days after d."""
    while n:
        d += DAY
        if is_working_day(d):
            n -= 1
    return d


def best_of(runs, fn):
    """(best seconds, result) of fn() over several runs."""
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main():
    warnings.simplefilter("ignore", UnpublishedYearWarning)  # late-2026 starts reach 2027
    pairs = make_pairs(PAIRS)
    subset = pairs[:LIBRARY_PAIRS]

    start = time.perf_counter()
    cal = WorkCalendar(china_holidays_source())
    build = time.perf_counter() - start
    library = holidays.China(years=range(FIRST.year, LAST.year + 2))

    # Same semantics: strictly after start, start itself never counted.
    assert library.get_nth_working_day(date(2025, 1, 24), 5) == date(2025, 2, 7)
    assert cal.add_working_days(date(2025, 1, 24), 5) == date(2025, 2, 7)

    add = cal.add_working_days
    ours_s, ours = best_of(5, lambda: [add(d, n) for d, n in pairs])
    nth = library.get_nth_working_day
    lib_s, lib = best_of(1, lambda: [nth(d, n) for d, n in subset])
    is_wd = cal.is_working_day
    loop_s, loop = best_of(1, lambda: [day_by_day(is_wd, d, n) for d, n in pairs])

    rows = [
        ("WorkCalendar.add_working_days", PAIRS, ours_s),
        ("holidays.China.get_nth_working_day", LIBRARY_PAIRS, lib_s),
        ("day-by-day loop (WorkCalendar.is_working_day)", PAIRS, loop_s),
    ]
    lib_rate = LIBRARY_PAIRS / lib_s
    print(f"Python {sys.version.split()[0]}, one core; seed {SEED}; starts {FIRST}..{LAST}, N 1..30")
    print(f"WorkCalendar(china_holidays_source()) built in {build * 1000:.1f} ms\n")
    print(f"{'method':<48} {'pairs':>8} {'seconds':>9} {'deadlines/s':>13} {'vs library':>11}")
    for name, count, seconds in rows:
        rate = count / seconds
        print(f"{name:<48} {count:>8,} {seconds:>9.4f} {rate:>13,.0f} {rate / lib_rate:>10.1f}x")
    print(
        f"\nThe library was timed on the first {LIBRARY_PAIRS:,} pairs; its rate is "
        f"extrapolated (100,000 pairs would take ~{PAIRS / lib_rate:.1f} s)."
    )

    assert loop == ours, "add_working_days disagrees with the day-by-day loop"
    print(f"add_working_days == day-by-day loop on all {PAIRS:,} pairs")
    differ = [(d, n, ours_, lib_) for (d, n), ours_, lib_ in zip(subset, ours, lib) if ours_ != lib_]
    published = cal.published_years
    in_published = [row for row in differ if max(row[2], row[3]).year in published]
    print(
        f"add_working_days == library on {LIBRARY_PAIRS - len(differ):,} of "
        f"{LIBRARY_PAIRS:,} pairs; {len(differ)} differ, {len(in_published)} of them "
        f"within published years"
    )
    if differ:
        print(
            "  the others reach an unpublished year, where WorkCalendar counts weekends "
            "only and the library uses its estimated holidays, e.g.:"
        )
        for d, n, ours_, lib_ in differ[:3]:
            print(f"  {d} + {n}: ours {ours_}, library {lib_}")


if __name__ == "__main__":
    main()
