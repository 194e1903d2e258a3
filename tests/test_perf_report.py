"""``report.result_json`` writes one line of JSON that parses to ``result_dict(result)`` and is printable as it
is, for results with few findings and with many, odd strings and values orjson does not take."""
from __future__ import annotations

import json
import random
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import attrs
from hypothesis import given
from hypothesis import strategies as st

from govhall_sdk.engine import Result
from govhall_sdk.model import Clock, Finding, Note, Patch
from govhall_sdk.report import result_dict, result_json
from govhall_sdk.terminal import printable_json


class Name(str):
    """A str subclass, which is written as a string."""


ODD = ["", "工作人员 s1", "a\u202eb", "x\u200dy", "\U0001f468\u200d\U0001f469", "\x7f", "\u3164", 'q"\\', "\n",
       "\x85\u2028", None, 1, True, 1.0, Name("n"), ["list"], {"k": 1}]
#: Values orjson refuses, written by json.dumps instead: an integer past 64 bits, a lone surrogate, a key not a string.
REFUSED = [10 ** 30, "\udc80", {1: "x"}]


def _result(rng: random.Random, n: int, extra: object) -> Result:
    t = datetime(2025, 3, 3, 9, tzinfo=timezone(timedelta(hours=8)))
    pool = [Finding(rng.choice(["fr.forbidden_phrase", "tl.overdue"]), "first_responsibility", "violation",
                    rng.choice(["条款", "c\u202e"]), rng.choice(ODD[:10]), staff=rng.choice(ODD), department=rng.choice(ODD))
            for _ in range(6)]
    findings = [attrs.evolve(rng.choice(pool), key=str(i), due_at=t) for i in range(n)]
    notes = [Note(f.code, f"[govhall:{f.code}:{i}]", rng.choice(ODD[:10]) or "正文") for i, f in enumerate(findings)]
    patch = Patch(["govhall_sla_red"], [], {"govhall_light": "red", "govhall_escalation_level": 1, "x": extra}, notes,
                  assign=rng.choice([None, "s1"]))
    return Result(rng.choice(["T1", "T\u202e"]), rng.choice([None, "red"]), 1, {"first_inquiry": "s1", "first_handler": None},
                  [], findings, patch)


def test_result_json_is_one_printable_line_of_result_dict():
    rng = random.Random(14)
    for _ in range(200):
        result = _result(rng, rng.choice([0, 3, 64, 200]), rng.choice([[1.5], *ODD, *REFUSED]))
        text = result_json(result)
        assert "\n" not in text
        assert printable_json(text) == text  # nothing left for a terminal to act on
        assert json.loads(text) == json.loads(json.dumps(result_dict(result), ensure_ascii=False))


def test_a_float_that_is_no_number_is_written_as_null():
    result = _result(random.Random(1), 1, float("nan"))
    assert json.loads(result_json(result))["patch"]["fields"]["x"] is None


#: Fixed offsets (with seconds and microseconds too, which orjson would round) and zones of several eras.
ZONES = st.one_of(
    st.timedeltas(min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)).map(timezone),
    st.sampled_from([ZoneInfo("Asia/Shanghai"), ZoneInfo("Africa/Monrovia"), ZoneInfo("America/St_Johns"),
                     ZoneInfo("Europe/Amsterdam"), timezone.utc]))
INSTANTS = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=ZONES)


@given(st.lists(st.tuples(INSTANTS, INSTANTS, st.none() | INSTANTS), max_size=3))
def test_the_clocks_instants_are_written_as_isoformat_writes_them(instants):
    clocks = [Clock("completion", "time_limit", start, 15, date(2025, 3, 3), due, "green", stopped)
              for start, due, stopped in instants]
    result = Result("T1", "green", 0, {"first_inquiry": None}, clocks, [], Patch())
    written = json.loads(result_json(result))["clocks"]
    assert [(c["start"], c["due_at"], c["stopped_at"]) for c in written] == \
        [(s.isoformat(), d.isoformat(), t and t.isoformat()) for s, d, t in instants]
