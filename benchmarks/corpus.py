"""A realistic synthetic ticket corpus for the benchmarks (seeded, streamed).

Kinds, channels and timelines follow the demo set: consultations answered or
deferred, applications with submissions, supplement notices and acceptance,
complaints and supervision cases with deadlines, assignments moving between
departments, and proxy-service tickets — about 10 events per ticket.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

TZ = timezone(timedelta(hours=8))
START = datetime(2025, 1, 2, 9, 0, tzinfo=TZ)
DEPARTMENTS = ["市场监管窗口", "不动产登记窗口", "人社窗口", "医保窗口", "公积金窗口", "公安户政窗口", "帮办代办窗口"]
MATERIALS = ["身份证", "申请表", "营业执照", "房产证", "户口簿", "授权委托书", "照片"]
KINDS = ["consultation"] * 3 + ["application"] * 4 + ["complaint"] * 2 + ["supervision", "assignment"]
CHANNELS = ["counter", "phone", "web", "mail", "letter", "hotline"]
REPLIES = ["您好，已收到您的诉求。", "材料已审核，请补充申请表。", "已转交相关窗口办理。", "已电话联系申请人说明办理进度。"]
RUDE = "不清楚，你去问别人去"


def _iso(t: datetime) -> str:
    return t.isoformat()


def _staff(rng: random.Random, dept: str) -> dict[str, Any]:
    n = rng.randrange(40)
    return {"id": f"s{n}", "name": f"工作人员{n}", "rank": 1 + n % 5, "department": dept, "role": "staff"}


def make_ticket(i: int, rng: random.Random) -> dict[str, Any]:
    """One synthetic ticket in the interchange format."""
    kind = rng.choice(KINDS)
    dept = rng.choice(DEPARTMENTS)
    created = START + timedelta(days=rng.randrange(70), minutes=rng.randrange(480))
    t = created
    events: list[dict[str, Any]] = []

    def step(hours: float = 6.0) -> str:
        nonlocal t
        t = t + timedelta(minutes=rng.randrange(5, int(hours * 60)))
        return _iso(t)

    staff = _staff(rng, dept)
    ticket: dict[str, Any] = {
        "id": f"B-{i:07d}", "kind": kind, "channel": rng.choice(CHANNELS), "subject": f"事项{i % 97}",
        "status": "open", "created_at": _iso(created), "department": dept,
        "applicant": {"name": "申请人", "phone": f"139{i % 100000000:08d}", "birth_date": f"{1960 + i % 45}-05-01",
                      "groups": ["elderly"] if i % 13 == 0 else []},
        "tags": [], "fields": {},
    }
    if kind == "application":
        required = rng.sample(MATERIALS, 3)
        ticket["materials"] = {"required": required}
        events.append({"type": "submission", "at": step(1), "items": required[:2], "actor": {"id": "a1", "role": "applicant"}})
        events.append({"type": "notice", "at": step(), "form": "written", "missing": required[2:], "actor": staff})
        events.append({"type": "submission", "at": step(48), "items": required[2:], "actor": {"id": "a1", "role": "applicant"}})
        events.append({"type": "acceptance", "at": step(), "notice_issued": True, "actor": staff})
        ticket["accepted_at"] = t.isoformat()
        ticket["promised_working_days"] = rng.choice([5, 10, 15, 20])
    elif kind == "consultation":
        events.append({"type": "deferral", "at": step(1), "contact": "电话", "actor": staff})
        elements = ["basis", "conditions", "materials", "procedure", "time_limit"]
        events.append({"type": "notice", "at": step(20), "elements": elements[:4] if rng.random() < 0.1 else elements,
                       "actor": staff})
    else:
        if kind != "assignment" or rng.random() < 0.5:
            ticket["due_at"] = _iso(created + timedelta(days=rng.choice([7, 14, 21])))
        a, b = rng.sample(DEPARTMENTS, 2)
        events.append({"type": "assignment", "at": step(10), "from_department": a, "to_department": b, "actor": staff})
    while len(events) < 8:
        body = RUDE if rng.random() < 0.004 else rng.choice(REPLIES)  # about 2 tickets in 100, as in the demo set
        events.append({"type": "reply", "at": step(), "public": rng.random() < 0.8, "body": body,
                       "actor": staff if rng.random() < 0.8 else {"id": "a1", "role": "applicant"}})
    if i % 7 == 0:
        events.append({"type": "proxy_request", "at": step(), "mode": "proxy", "agent": _staff(rng, "帮办代办窗口")})
        events.append({"type": "handover", "at": step(), "items": ["身份证"], "actor": staff})
    if rng.random() < 0.5:
        ticket["resolved_at"] = step(60)
        ticket["status"] = "resolved"
        events.append({"type": "completion", "at": ticket["resolved_at"], "actor": staff})
        if i % 7 == 0:
            events.append({"type": "evaluation", "at": step(30), "rating": rng.randint(1, 5)})
    ticket["events"] = events
    return ticket


def corpus(n: int, seed: int = 20250314) -> Iterator[dict[str, Any]]:
    """``n`` tickets, generated one at a time."""
    rng = random.Random(seed)
    for i in range(n):
        yield make_ticket(i, rng)


NOW = datetime(2025, 3, 14, 16, 0, tzinfo=TZ)
