"""The sample third-party plugin in examples/, tested the way a plugin author would."""
import importlib.util
from datetime import datetime
from pathlib import Path

import pytest

PATH = Path(__file__).parent.parent / "examples" / "sample-plugin" / "govhall_bad_review.py"


@pytest.fixture
def bad_review():
    spec = importlib.util.spec_from_file_location("govhall_bad_review", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def review(rating, reply_at=None):
    events = [{"type": "evaluation", "at": "2025-03-10T10:00:00+08:00", "rating": rating}]
    if reply_at:
        events.append({"type": "reply", "at": reply_at, "public": True, "body": "抱歉，我们已整改",
                       "actor": {"id": "s1", "role": "staff"}})
    return events


def test_registered_for_one_test_like_any_plugin(govhall_pm, govhall_register, make_engine, make_ticket, bad_review):
    govhall_register(bad_review, name="bad_review")
    assert govhall_pm.rules["sample.bad_review_unanswered"][0] == "bad_review"
    engine = make_engine({"policy": {"bad_review": {"reply_working_days": 2}}})
    now = datetime.fromisoformat("2025-03-13T09:00:00+08:00")
    late = engine.evaluate(make_ticket(department="医保窗口", events=review(1)), now)
    assert "sample.bad_review_unanswered" in [f.code for f in late.findings]
    assert "govhall_sample_bad_review_unanswered" in late.patch.add_tags
    answered = engine.evaluate(make_ticket(department="医保窗口", events=review(1, "2025-03-12T09:00:00+08:00")), now)
    assert "sample.bad_review_unanswered" not in [f.code for f in answered.findings]
    fine = engine.evaluate(make_ticket(department="医保窗口", events=review(3)), now)
    assert [c for c in fine.clocks if c.name == "bad_review_reply"] == []
