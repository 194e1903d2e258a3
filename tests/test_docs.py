"""Every hook is documented in hookspecs.py and in the README; `govhall rules` and `explain` work;
the examples of docs/tickets.md are real input and output of `govhall check`."""
import inspect
import json
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
    rows = {r["code"]: r for r in json.loads(capsys.readouterr().out)}
    assert len([c for c in rows if re.match(r"(otn|tl|fr|ps)\.", c)]) == 38  # 9 + 9 + 10 + 10
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


# ---------------------------------------------------------------- docs/tickets.md examples

TICKETS_MD = ROOT / "docs" / "tickets.md"
_EXAMPLE = re.compile(r"<!-- (example|output): (\S+)((?: \S+)*) -->\n```json\n(.*?)\n```", re.S)


def _blocks(kind):
    text = TICKETS_MD.read_text(encoding="utf-8")
    return [(name, args.split(), body) for k, name, args, body in _EXAMPLE.findall(text) if k == kind]


EXAMPLES = _blocks("example")
OUTPUTS = _blocks("output")


def _check(tmp_path, capsys, name, args):
    body = next(b for n, _, b in EXAMPLES if n == name)
    path = tmp_path / name
    path.write_text(body + "\n", encoding="utf-8")
    code = main(["check", str(path), *args])
    captured = capsys.readouterr()
    assert code == 0, f"govhall check {name} {' '.join(args)} exited {code}: {captured.err}"
    return body, json.loads(captured.out)


def test_tickets_md_has_the_examples_it_promises():
    names = [n for n, _, _ in EXAMPLES]
    assert len(names) == len(set(names)) and len(names) >= 4, names
    bodies = "\n".join(b for _, _, b in EXAMPLES)
    for needle in ('"kind": "application"', '"kind": "complaint"', '"type": "proxy_request"',
                   '"type": "extension"', '"type": "suspension_start"', '"assignee"'):
        assert needle in bodies, f"docs/tickets.md examples lack {needle}"
    assert any(n.endswith(".jsonl") for n in names), "a JSON Lines example"
    assert OUTPUTS, "docs/tickets.md shows the output of one example"


@pytest.mark.parametrize("name,args", [(n, a) for n, a, _ in EXAMPLES], ids=[n for n, _, _ in EXAMPLES])
def test_tickets_md_example_parses_with_no_errors(tmp_path, capsys, name, args):
    assert args[:1] == ["--now"], f"the example {name} must say its --now"
    body, out = _check(tmp_path, capsys, name, args)
    assert out["errors"] == [], f"docs/tickets.md example {name}: {out['errors']}"
    if name.endswith(".jsonl"):
        given = [json.loads(line)["id"] for line in body.splitlines() if line.strip()]
    else:
        given = [t["id"] for t in json.loads(body)["tickets"]]
    assert [t["id"] for t in out["tickets"]] == given
    for t in out["tickets"]:
        for f in t["findings"]:
            assert {"staff", "department"} <= f.keys()
        for c in t["clocks"]:
            assert "provisional" in c


@pytest.mark.parametrize("name,args", [(n, a) for n, a, _ in OUTPUTS], ids=[n for n, _, _ in OUTPUTS])
def test_tickets_md_output_is_what_check_prints(tmp_path, capsys, name, args):
    shown = next(b for n, a, b in OUTPUTS if n == name and a == args)
    _, out = _check(tmp_path, capsys, name, args)
    assert out == json.loads(shown), (
        f"the output shown in docs/tickets.md for {name} is out of date: paste the output of "
        f"`govhall check {name} {' '.join(args)}` (the example saved as {name}), pretty-printed")
