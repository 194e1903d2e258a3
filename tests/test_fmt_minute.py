"""``Context.fmt`` remembers the last minute it showed; what it shows is the instant's minute in the policy zone
all the same, across offset changes (DST, a zone's first standard time, offsets with seconds)."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import attrs
import pytest

from govhall_sdk.config import default_config
from govhall_sdk.engine import Context
from govhall_sdk.host import get_plugin_manager

NEAR = [datetime(1900, 12, 31, 15, 50, tzinfo=timezone.utc), datetime(1972, 1, 7, 0, 0, tzinfo=timezone.utc),
        datetime(2025, 3, 9, 6, 55, tzinfo=timezone.utc), datetime(2025, 11, 2, 5, 55, tzinfo=timezone.utc),
        datetime(2025, 4, 5, 14, 55, tzinfo=timezone.utc), datetime(2025, 3, 30, 0, 55, tzinfo=timezone.utc),
        datetime(999, 5, 5, tzinfo=timezone.utc)]


def _plain(instant: datetime, tz) -> str:
    local = instant.astimezone(tz)
    return local.isoformat(" ", "minutes")[:16] if local.year >= 1000 else local.strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York", "Africa/Monrovia", "Australia/Lord_Howe"])
def test_fmt_shows_each_instant_s_own_minute(zone):
    tz = ZoneInfo(zone)
    ctx = Context(datetime(2025, 3, 14, tzinfo=tz), attrs.evolve(default_config(get_plugin_manager()), timezone=tz), None)
    rng = random.Random(zone)
    for base in NEAR:
        for tzi in (timezone.utc, timezone(timedelta(hours=8)), tz, timezone(timedelta(hours=-5, seconds=17))):
            t = base.astimezone(tzi)
            for _ in range(400):
                t += timedelta(seconds=rng.choice([0, 1, 13, 29, 59, 60, 61]), microseconds=rng.choice([0, 1, 999999]))
                assert ctx.fmt(t) == _plain(t, tz), (zone, t)
