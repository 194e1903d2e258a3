"""``report.result_json`` writes what ``printable_json(json.dumps(result_dict(result), ensure_ascii=False))``
writes, for results with few findings and with many (written in pieces, repeated findings remembered)."""
from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone

import attrs

from govhall_sdk.engine import Result
from govhall_sdk.model import Finding, Note, Patch
from govhall_sdk.report import result_dict, result_json
from govhall_sdk.terminal import printable_json


class Name(str):
    """A str subclass, which json.dumps writes as a string."""


ODD = ["", "工作人员 s1", "a\u202eb", "x\u200dy", "\U0001f468\u200d\U0001f469", "\x7f", "\u3164", 'q"\\', "\n",
       None, 1, True, 1.0, Name("n"), ["list"], {"k": 1}]


def _expected(result: Result) -> str:
    return printable_json(json.dumps(result_dict(result), ensure_ascii=False))


def _result(rng: random.Random, n: int) -> Result:
    t = datetime(2025, 3, 3, 9, tzinfo=timezone(timedelta(hours=8)))
    pool = [Finding(rng.choice(["fr.forbidden_phrase", "tl.overdue"]), "first_responsibility", "violation",
                    rng.choice(["条款", "c\u202e"]), rng.choice(ODD[:9]), staff=rng.choice(ODD), department=rng.choice(ODD))
            for _ in range(6)]
    findings = [attrs.evolve(rng.choice(pool), key=str(i), due_at=t) for i in range(n)]
    notes = [Note(f.code, f"[govhall:{f.code}:{i}]", rng.choice(ODD[:9]) or "正文") for i, f in enumerate(findings)]
    if n and rng.random() < 0.5:
        notes.append(Note("x", rng.choice(ODD), rng.choice(ODD)))
    patch = Patch(["govhall_sla_red"], [], {"govhall_light": "red", "govhall_escalation_level": 1, "x": [1.5]}, notes,
                  assign=rng.choice([None, "s1"]))
    return Result(rng.choice(["T1", "T\u202e"]), rng.choice([None, "red"]), 1, {"first_inquiry": "s1", "first_handler": None},
                  [], findings, patch)


def test_result_json_is_the_text_of_result_dict():
    rng = random.Random(14)
    for _ in range(200):
        result = _result(rng, rng.choice([0, 3, 63, 64, 200]))
        assert result_json(result) == _expected(result)
