"""docs/rules.md is the output of `govhall rules --format markdown`; docs/tickets.md documents the whole format."""
import difflib
import json
import re
from pathlib import Path

import pytest

from govhall_sdk import parse
from govhall_sdk.catalog import NOBODY, catalog_rows, docstring_markdown, render_markdown, toml_value
from govhall_sdk.cli import main
from govhall_sdk.config import build_config, default_config
from govhall_sdk.host import get_plugin_manager
from govhall_sdk.model import EVENT_CLASSES
from govhall_sdk.rules import RuleInfo

ROOT = Path(__file__).resolve().parents[1]
RULES_MD = ROOT / "docs" / "rules.md"
TICKETS_MD = ROOT / "docs" / "tickets.md"
REGENERATE = "govhall rules --format markdown > docs/rules.md"


def generated(capsys, *extra):
    assert main(["rules", "--format", "markdown", *extra]) == 0
    return capsys.readouterr().out


def section(text, heading):
    """The text under a Markdown heading, up to the next heading of the same or a higher level."""
    level = heading.split(" ")[0]
    start = text.index(f"\n{heading}\n") + len(heading) + 2
    ends = [m.start() for m in re.finditer(rf"\n#{{1,{len(level)}}} ", text[start:])]
    return text[start:start + ends[0]] if ends else text[start:]


def table_rows(text):
    """The cells of each body row of the Markdown tables in ``text``."""
    rows = []
    for line in text.splitlines():
        if line.startswith("|") and not re.fullmatch(r"\|(\s*-+\s*\|)+", line):
            rows.append([c.strip() for c in line.strip("|").split(" | ")])
    return rows[1:] if rows else rows


# ---------------------------------------------------------------- docs/rules.md


def test_rules_md_is_the_output_of_the_command(capsys):
    out = generated(capsys)
    committed = RULES_MD.read_text(encoding="utf-8") if RULES_MD.exists() else ""
    if committed != out:
        diff = "".join(list(difflib.unified_diff(
            committed.splitlines(True), out.splitlines(True), "docs/rules.md (committed)", "govhall rules --format markdown"))[:60])
        pytest.fail(f"docs/rules.md is out of date with the loaded plugins: run `{REGENERATE}` and commit it.\n{diff}")


def test_every_code_of_the_catalog_is_in_rules_md():
    text = RULES_MD.read_text(encoding="utf-8")
    missing = [code for code in get_plugin_manager().rules if f"### `{code}`" not in text]
    assert not missing, f"codes missing from docs/rules.md (run `{REGENERATE}`): {missing}"


def test_rules_md_says_how_it_is_made_and_shows_the_defaults():
    text = RULES_MD.read_text(encoding="utf-8")
    assert REGENERATE in text
    assert "`complaint_working_days = 15`" in text
    assert '`first_reply_channels = ["web", "mail", "letter"]`' in text
    assert "shared/" not in text


def test_markdown_shows_the_values_in_force(tmp_path, capsys):
    config = tmp_path / "govhall.toml"
    config.write_text("[policy.time_limit]\ncomplaint_working_days = 10\n")
    out = generated(capsys, "--config", str(config))
    overdue = section(out, "### `tl.overdue`")
    assert "`complaint_working_days = 10`" in overdue and "限时办结制度 第一条" in overdue


def test_format_choices_and_the_json_alias(capsys):
    assert main(["rules", "--json"]) == 0
    alias = capsys.readouterr().out
    assert main(["rules", "--format", "json"]) == 0
    assert capsys.readouterr().out == alias
    rows = json.loads(alias)
    assert {"code", "plugin", "severity", "clause", "clock", "escalation", "thresholds", "accountable"} <= rows[0].keys()
    assert main(["rules"]) == 0
    text = capsys.readouterr().out
    assert main(["rules", "--format", "text"]) == 0
    assert capsys.readouterr().out == text
    assert len(text.splitlines()) == len(rows)
    assert main(["rules", "--json", "--format", "markdown"]) == 2
    assert "--json" in capsys.readouterr().err


def _registry():
    infos = [
        RuleInfo("demo.late", "demo", "violation", "好差评制度 第三条", text="应当及时整改。",
                 action="请整改。", action_en="Fix it | now.", clock="reply", escalation=2,
                 thresholds=("reply_days", "undeclared"), accountable="the officer who replied"),
        RuleInfo("demo.note", "demo", "info", "好差评制度 第一条"),
        RuleInfo("x.plain", "other", "warning", "Clause 1 | 2"),
    ]
    return {i.code: ("demo_plugin" if i.rule == "demo" else "other_plugin", i) for i in infos}


def test_render_markdown_is_a_pure_function_of_registry_and_config():
    config = build_config({"policy": {"demo": {"reply_days": 3}}}, {"demo": {"reply_days": 2, "words": ["a", "b"]}})
    docs = {"demo_plugin": "Demo rules: ``demo.late`` and :class:`~x.Y`.\n\n    - a bullet\n      continued\n"}
    out = render_markdown(_registry(), config, docs)
    assert out == render_markdown(_registry(), config, docs)
    assert out.index("## `demo_plugin` — 好差评制度") < out.index("## `other_plugin`")
    assert "Demo rules: `demo.late` and `x.Y`.\n\n- a bullet\n  continued" in out
    assert 'Policy keys `[policy.demo]`: `reply_days = 3`, `words = ["a", "b"]`.' in out
    late = section(out, "### `demo.late`")
    for line in ("- **Severity:** violation", "- **Clause:** 好差评制度 第三条", "- **Clock:** `reply`",
                 "- **Escalation:** 2 — the center", "- **Who answers for it:** the officer who replied",
                 "- **Policy keys:** `reply_days = 3`, `undeclared` (not declared)",
                 "- **What staff should do:** Fix it | now.", "- **应当:** 请整改。", "> 应当及时整改。"):
        assert line in late, line
    note = section(out, "### `demo.note`")
    assert f"- **Who answers for it:** {NOBODY}" in note and f"- **Clock:** {NOBODY}" in note
    assert "- **Escalation:** none by itself" in note
    assert "| [`x.plain`](#x.plain) | warning | Clause 1 \\| 2 | — | — |" in out
    assert "## `other_plugin`\n" in out  # no system name when no clause names a 制度
    assert out.startswith("# The rule catalog") and out.endswith("\n") and not out.endswith("\n\n")


def test_catalog_rows_and_values():
    config = default_config(get_plugin_manager())
    rows = catalog_rows(get_plugin_manager().rules, config)
    assert [r["code"] for r in rows] == sorted(r["code"] for r in rows)
    assert toml_value(True) == "true" and toml_value(0.8) == "0.8" and toml_value(["不知道"]) == '["不知道"]'
    assert docstring_markdown(None) == ""


# ---------------------------------------------------------------- docs/tickets.md


def _cell_names(cell):
    """Field names of a cell like "`a`, `b`: strings; `c`: `x` or `y`": the names before each ':'."""
    names = set()
    for part in cell.split(";"):
        if ":" in part:
            names |= set(re.findall(r"`([a-z_]+)`", part.split(":", 1)[0]))
    return names


def test_tickets_md_event_types_are_the_model_s():
    rows = table_rows(section(TICKETS_MD.read_text(encoding="utf-8"), "## Event types"))
    documented = [re.fullmatch(r"`([a-z_]+)`", r[0]).group(1) for r in rows]
    assert len(documented) == len(set(documented))
    assert set(documented) == set(EVENT_CLASSES), (
        f"docs/tickets.md event types differ from govhall_sdk.model.EVENT_CLASSES: "
        f"undocumented {sorted(set(EVENT_CLASSES) - set(documented))}, unknown {sorted(set(documented) - set(EVENT_CLASSES))}")


def test_tickets_md_event_fields_are_the_parser_s():
    rows = table_rows(section(TICKETS_MD.read_text(encoding="utf-8"), "## Event types"))
    for row in rows:
        etype = row[0].strip("`")
        assert _cell_names(row[1]) == set(parse._EVENT_FIELDS[etype]), f"fields of {etype}"


def test_tickets_md_ticket_and_actor_fields_are_the_parser_s():
    text = TICKETS_MD.read_text(encoding="utf-8")
    ticket = {r[0].strip("`") for r in table_rows(section(text, "## The ticket").split("The five kinds")[0])}
    assert ticket == set(parse._TICKET_KEYS)
    actor = {r[0].strip("`") for r in table_rows(section(text, "## Actors and roles").split("`role` decides")[0])}
    assert actor == {"id", "name", "rank", "department", "role"}


def test_tickets_md_documents_every_output_key(tmp_path, capsys):
    text = TICKETS_MD.read_text(encoding="utf-8")
    out = section(text, "## `govhall check`")
    for heading, keys in {
        "### A ticket's result": {"id", "light", "escalation_level", "responsible", "clocks", "findings", "patch"},
        "### Clocks": {"name", "rule", "start", "working_days", "due_date", "due_at", "stopped_at", "status", "provisional"},
        "### Findings": {"code", "rule", "severity", "clause", "message", "clock", "staff", "department"},
        "### Patch": {"add_tags", "remove_tags", "fields", "notes", "assign"},
    }.items():
        assert {r[0].strip("`") for r in table_rows(section(out, heading))} == keys, heading
    for status in ("green", "yellow", "red", "paused", "met", "missed"):
        assert f"| `{status}` |" in text
    assert "shared/" not in text
