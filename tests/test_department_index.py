"""``rules.department_at`` (an index, bisected in UTC when offsets are fixed) answers as ``Ticket.department_at``."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from govhall_sdk import rules
from govhall_sdk.parse import ticket_from_dict

OFFSETS = [timezone(timedelta(hours=h, minutes=m)) for h, m in ((8, 0), (0, 0), (-5, 0), (5, 30))]


def test_department_at_agrees_with_the_model_across_offsets():
    rng = random.Random(14)
    t0 = datetime(2025, 3, 1, 9, tzinfo=timezone.utc)
    for _ in range(150):
        at, events = t0, []
        for _ in range(rng.randrange(1, 12)):
            at += timedelta(seconds=rng.choice([0, 1, 30, 3600]))
            events.append({"type": "assignment", "at": at.astimezone(rng.choice(OFFSETS)).isoformat(),
                           "from_department": rng.choice("ABC"), "to_department": rng.choice("ABC")})
        ticket = ticket_from_dict({"id": "T", "kind": "complaint", "created_at": t0.isoformat(),
                                   "department": rng.choice(["D", None]), "events": events})
        for _ in range(40):
            zone = rng.choice(OFFSETS + [ZoneInfo("America/New_York")])
            instant = (t0 + timedelta(seconds=rng.randrange(-10, 40000))).astimezone(zone)
            assert rules.department_at(ticket, instant) == ticket.department_at(instant)
