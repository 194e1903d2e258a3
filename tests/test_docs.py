"""Every hook is documented in hookspecs.py and in the README; `govhall rules` and `explain` work."""
import inspect
import re
from pathlib import Path

import pytest

from govhall_sdk import hookspecs
from govhall_sdk.cli import main

ROOT = Path(__file__).parent.parent
HOOKS = [name for name, f in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("govhall_")]


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented(hook):
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    assert len(doc.splitlines()) >= 3, f"{hook} needs a docstring saying its arguments, return and how results combine"
    for param in inspect.signature(getattr(hookspecs, hook)).parameters:
        assert f":param {param}:" in doc or param in ("ticket", "ctx", "result"), f"{hook}: :param {param}: missing"
    assert f"`{hook}(" in (ROOT / "README.md").read_text(encoding="utf-8"), f"{hook} missing from README's hook table"


def test_rules_lists_every_code_with_thresholds(capsys):
    assert main(["rules", "--json"]) == 0
    import json

    rows = {r["code"]: r for r in json.loads(capsys.readouterr().out)}
    assert len([c for c in rows if re.match(r"(otn|tl|fr|ps)\.", c)]) == 37
    assert rows["tl.overdue"]["thresholds"] == {"complaint_working_days": 15}
    assert rows["tl.supervision_overdue"]["escalation"] == 2
    assert rows["fr.forbidden_phrase"]["severity"] == "violation"


def test_rules_shows_the_thresholds_in_force(tmp_path, capsys):
    config = tmp_path / "govhall.toml"
    config.write_text("[policy.time_limit]\ncomplaint_working_days = 10\n")
    assert main(["rules", "--config", str(config)]) == 0
    line = next(l for l in capsys.readouterr().out.splitlines() if l.startswith("tl.overdue"))
    assert "complaint_working_days=10" in line and "限时办结制度" in line


def test_explain(capsys):
    assert main(["explain", "otn.notice_incomplete"]) == 0
    out = capsys.readouterr().out
    assert "一次性告知工作制度" in out and "应当" in out
    assert main(["explain", "otn.notice_incomplete", "--lang", "en"]) == 0
    assert "What to do" in capsys.readouterr().out
    assert main(["explain", "no.such_code"]) == 2
    assert "unknown code" in capsys.readouterr().err
