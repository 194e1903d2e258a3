"""The plugin host: entry points, isolation of broken plugins, env switches, `govhall plugins`."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

from govhall_sdk import hookimpl
from govhall_sdk.host import PluginError, PluginLoadWarning, new_plugin_manager
from govhall_sdk.rules import RuleInfo

BUILT_INS = {"time_limit", "one_time_notice", "first_responsibility", "proxy_service", "calendars"}


@pytest.fixture
def third_party(tmp_path, monkeypatch):
    """Install two fake distributions on sys.path: one good plugin, one that fails to import."""
    (tmp_path / "good_rule.py").write_text(textwrap.dedent("""
        from govhall_sdk import hookimpl
        from govhall_sdk.rules import RuleInfo
        @hookimpl
        def govhall_register_rules(register):
            register(RuleInfo("x.custom", "good", "info", "本地制度 第一条"))
    """))
    (tmp_path / "broken_rule.py").write_text("raise ImportError('missing dependency foo')\n")
    for dist, module in (("good_rule", "good_rule"), ("broken_rule", "broken_rule")):
        info = tmp_path / f"{dist}-1.2.3.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
        (info / "entry_points.txt").write_text(f"[govhall]\n{dist.replace('_rule', '')} = {module}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_built_ins_load_through_entry_points():
    pm = new_plugin_manager()
    names = {i.name for i in pm.plugin_infos()}
    assert BUILT_INS <= names
    info = {i.name: i for i in pm.plugin_infos()}["time_limit"]
    assert info.distribution == "govhall-sdk" and info.version
    assert "govhall_evaluate_ticket" in info.hooks


def test_broken_plugin_warns_and_is_skipped(third_party):
    with pytest.warns(PluginLoadWarning, match="broken.*missing dependency foo"):
        pm = new_plugin_manager()
    assert pm.has_plugin("good") and not pm.has_plugin("broken")
    assert "x.custom" in pm.rules
    assert "missing dependency foo" in pm.load_failures["broken"]


def test_strict_mode_makes_a_broken_plugin_fatal(third_party, monkeypatch):
    monkeypatch.setenv("GOVHALL_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match="'broken' failed to load"):
        new_plugin_manager()


def test_disable_switch_skips_named_plugins(third_party, monkeypatch):
    monkeypatch.setenv("GOVHALL_DISABLE_PLUGINS", "broken, proxy_service")
    pm = new_plugin_manager()
    assert not pm.has_plugin("broken") and not pm.has_plugin("proxy_service")
    assert pm.has_plugin("time_limit") and not pm.load_failures


def test_duplicate_code_names_both_plugins():
    pm = new_plugin_manager()

    class Clash:
        @hookimpl
        def govhall_register_rules(self, register):
            register(RuleInfo("tl.overdue", "clash", "info", "x"))

    pm.register(Clash(), name="clash")
    with pytest.raises(PluginError, match="'tl.overdue' is registered by both"):
        pm.rules


def test_registries_refresh_when_a_plugin_is_registered():
    pm = new_plugin_manager()
    assert "x.one" not in pm.rules

    class One:
        @hookimpl
        def govhall_register_rules(self, register):
            register(RuleInfo("x.one", "one", "warning", "c"))

    plugin = One()
    pm.register(plugin, name="one")
    assert pm.rules["x.one"][0] == "one"
    pm.unregister(plugin)
    assert "x.one" not in pm.rules


def _govhall(*args, env_extra=None, pythonpath=None):
    env = {**os.environ, **(env_extra or {})}
    if pythonpath:
        env["PYTHONPATH"] = f"{pythonpath}{os.pathsep}{env.get('PYTHONPATH', '')}"
    return subprocess.run([sys.executable, "-m", "govhall_sdk.cli", *args], capture_output=True, text=True, env=env)


def test_plugins_command_lists_distribution_version_hooks_and_failures(third_party):
    out = _govhall("plugins", "--json", pythonpath=third_party)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    by_name = {p["name"]: p for p in data["plugins"]}
    assert BUILT_INS <= set(by_name)
    assert by_name["good"]["distribution"] == "good_rule" and by_name["good"]["version"] == "1.2.3"
    assert by_name["good"]["hooks"] == ["govhall_register_rules"]
    assert data["failed"][0]["name"] == "broken"
    text = _govhall("plugins", pythonpath=third_party)
    assert "time_limit  [govhall-sdk" in text.stdout and "broken  [FAILED TO LOAD" in text.stdout


def test_a_broken_plugin_does_not_break_help(third_party):
    out = _govhall("--help", pythonpath=third_party)
    assert out.returncode == 0 and "check" in out.stdout


def test_strict_plugins_fails_a_command_with_exit_2(third_party):
    out = _govhall("plugins", env_extra={"GOVHALL_STRICT_PLUGINS": "1"}, pythonpath=third_party)
    assert out.returncode == 2 and "'broken' failed to load" in out.stderr
