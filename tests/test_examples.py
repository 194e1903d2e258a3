"""The demo set in examples/: every finding code fires, clean tickets stay clean, the config shows every policy key."""
import json
import os
import re
import tomllib
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from govhall_sdk.cli import main
from govhall_sdk.config import load_config
from govhall_sdk.host import get_plugin_manager

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
TICKETS = EXAMPLES / "tickets.json"
CONFIG = EXAMPLES / "govhall.toml"
SPEC_RULES_MD = ROOT.parent / "shared" / "spec" / "rules.md"  # in CI a copy of shared/ lies beside the clone
DOCS_RULES_MD = ROOT / "docs" / "rules.md"  # the committed catalog (`govhall rules --format markdown`)
NOW = "2025-03-14T16:00:00+08:00"
PREFIXES = ("otn.", "tl.", "fr.", "ps.")
RULE_PLUGINS = ("one_time_notice", "time_limit", "first_responsibility", "proxy_service")
KINDS = {"consultation", "application", "complaint", "supervision", "assignment"}
CHANNELS = {"counter", "phone", "web", "mail", "letter", "hotline"}


def run_check(capsys, *extra):
    code = main(["check", str(TICKETS), "--now", NOW, "--config", str(CONFIG), "--format", "json", *extra])
    out = capsys.readouterr().out
    assert code == 0
    return json.loads(out)


@pytest.fixture(scope="module")
def raw_tickets():
    return json.loads(TICKETS.read_text(encoding="utf-8"))["tickets"]


@pytest.fixture
def result(capsys):
    return run_check(capsys)


def found_codes(result):
    return Counter(f["code"] for t in result["tickets"] for f in t["findings"])


def test_runs_without_errors(result, raw_tickets):
    assert result["errors"] == []
    assert result["now"] == NOW
    assert [t["id"] for t in result["tickets"]] == [t["id"] for t in raw_tickets]


def test_every_code_of_the_registry_fires(result):
    registered = {code for code in get_plugin_manager().rules if code.startswith(PREFIXES)}
    assert len(registered) >= 37
    missing = sorted(registered - set(found_codes(result)))
    assert not missing, f"codes never triggered by examples/tickets.json: {missing}"


def in_ci():
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def rules_md():
    """The catalog that names the codes: the spec beside the clone, else (outside CI) docs/rules.md."""
    if SPEC_RULES_MD.exists():
        return SPEC_RULES_MD
    if in_ci():
        pytest.fail(f"CI is set but the spec {SPEC_RULES_MD} is missing: CI must put a copy of shared/ "
                    f"beside the clone (this test must not pass without it)")
    return DOCS_RULES_MD


def test_every_code_of_rules_md_fires(result):
    source = rules_md()
    named = set(re.findall(r"`((?:otn|tl|fr|ps)\.[a-z_]+)`", source.read_text(encoding="utf-8")))
    assert len(named) >= 37, f"{source} names only {len(named)} codes"
    missing = sorted(named - set(found_codes(result)))
    assert not missing, f"codes of {source} never triggered by examples/tickets.json: {missing}"


@pytest.mark.parametrize("ci", ["", "true", "1"])
def test_where_the_codes_come_from(monkeypatch, tmp_path, ci):
    """The spec when it is beside the clone; without it, a failure in CI and docs/rules.md elsewhere."""
    monkeypatch.setenv("CI", ci)
    assert rules_md() in (SPEC_RULES_MD, DOCS_RULES_MD)
    monkeypatch.setitem(globals(), "SPEC_RULES_MD", tmp_path / "absent.md")
    if ci:
        with pytest.raises(pytest.fail.Exception, match="CI is set"):
            rules_md()
    else:
        assert rules_md() == DOCS_RULES_MD


def test_clean_tickets(result):
    clean = [t["id"] for t in result["tickets"] if not t["findings"]]
    assert len(clean) >= 8, clean
    for t in result["tickets"]:
        if not t["findings"]:
            assert t["escalation_level"] == 0 and t["light"] in (None, "green")


def test_size_kinds_channels(raw_tickets):
    assert len(raw_tickets) >= 40
    assert len({t["id"] for t in raw_tickets}) == len(raw_tickets)
    assert {t["kind"] for t in raw_tickets} == KINDS
    assert {t["channel"] for t in raw_tickets} == CHANNELS


def test_lights_green_yellow_red(result):
    lights = Counter(t["light"] for t in result["tickets"])
    assert lights["green"] and lights["yellow"] and lights["red"], lights


def test_escalation_levels(result):
    levels = {t["escalation_level"] for t in result["tickets"]}
    assert levels == {0, 1, 2}


def test_data_is_consistent(raw_tickets):
    """Every ticket tells its story in note_zh; instants carry +08:00; events follow registration."""
    for t in raw_tickets:
        assert t.get("note_zh"), t["id"]
        created = datetime.fromisoformat(t["created_at"])
        instants = [t["created_at"], t.get("accepted_at"), t.get("resolved_at"), t.get("due_at")]
        instants += [e["at"] for e in t["events"]]
        for value in filter(None, instants):
            assert value.endswith("+08:00"), (t["id"], value)
        ats = [datetime.fromisoformat(e["at"]) for e in t["events"]]
        assert ats == sorted(ats), t["id"]
        assert all(at >= created for at in ats), t["id"]
        assert datetime.fromisoformat(NOW) >= max(ats, default=created), t["id"]
        for e in t["events"]:
            if "actor" in e:
                assert e["actor"]["role"] in ("staff", "applicant", "system"), (t["id"], e)
        phone = (t.get("applicant") or {}).get("phone")
        if phone:
            assert re.fullmatch(r"1\d{10}", phone), (t["id"], phone)


def test_only_one_ticket_carries_govhall_state(raw_tickets, result):
    """Tags and fields start without govhall_ values, except one stale green light the patch removes."""
    stale = [t for t in raw_tickets if any(tag.startswith("govhall_") for tag in t["tags"])]
    assert [t["tags"] for t in stale] == [["急件", "govhall_sla_green"]]
    out = next(t for t in result["tickets"] if t["id"] == stale[0]["id"])
    assert out["patch"]["remove_tags"] == ["govhall_sla_green"]
    assert out["light"] != "green"
    for t in raw_tickets:
        if t is not stale[0]:
            assert not t["fields"], t["id"]


def test_config_loads_and_shows_every_policy_default():
    pm = get_plugin_manager()
    config = load_config(CONFIG, pm)
    assert config.lang == "zh" and str(config.timezone) == "Asia/Shanghai" and config.calendar == "cn"
    assert config.adapter["type"] == "local" and config.adapter["path"] == ".govhall/helpdesk.sqlite"
    assert (EXAMPLES / config.adapter["seed"]).resolve() == TICKETS
    assert config.state_path == CONFIG.resolve().parent / ".govhall/state.sqlite"
    assert len(config.escalation_departments) >= 3
    assert set(config.escalation_write) == {"field", "note", "assign"}

    raw = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
    written = raw["policy"]
    assert written["warn_ratio"] == 0.8
    defaults = {section: d for section, (plugin, d) in pm.policies.items() if plugin in RULE_PLUGINS}
    assert set(defaults) == set(RULE_PLUGINS)
    for section, keys in defaults.items():
        assert written.get(section) == keys, f"[policy.{section}] must list every key with its catalog default"


def test_english_output(capsys):
    zh = run_check(capsys)
    en = run_check(capsys, "--lang", "en")
    assert en["errors"] == []
    assert found_codes(en) == found_codes(zh)
    assert [t["light"] for t in en["tickets"]] == [t["light"] for t in zh["tickets"]]
    notes = [n["body"] for t in en["tickets"] for n in t["patch"]["notes"]]
    assert notes and all(body.startswith("[govhall]") for body in notes)
    overdue = next(f for t in en["tickets"] for f in t["findings"] if f["code"] == "tl.overdue")
    assert "deadline" in overdue["message"]


def test_table_format(capsys):
    code = main(["check", str(TICKETS), "--now", NOW, "--config", str(CONFIG), "--format", "table"])
    out = capsys.readouterr().out
    assert code == 0
    assert "ERROR" not in out
    assert "tl.supervision_overdue" in out and len(out.splitlines()) >= 41
