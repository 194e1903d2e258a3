"""The command line's shared options: --config and --lang before or after any command (the one after wins),
help text on every option and positional, no RST markup in --help, the public helpers of plugin commands,
and no import cycle among govhall_sdk.cli.* and govhall_sdk.cli.run."""
import argparse
import ast
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import attrs
import pytest

from govhall_sdk import hookimpl
from govhall_sdk.cli import main

ROOT = Path(__file__).parent.parent
CLI_DIR = ROOT / "govhall_sdk" / "cli"
NOW = "2025-03-14T16:00:00+08:00"

# one argv per command and sub-command, built-in and plugin (local, redmine) alike
COMMANDS = [
    ["check", "tickets.json"],
    ["plugins"],
    ["rules"],
    ["explain", "otn.notice_incomplete"],
    ["calendar", "add", "2025-01-24", "1"],
    ["calendar", "info", "2025-01-26"],
    ["calendar", "import", "notice.txt"],
    ["run"],
    ["local", "list"],
    ["local", "show", "TC-2025-0314"],
    ["redmine", "setup"],
]
IDS = [" ".join(c[:2]) for c in COMMANDS]


def parse(argv):
    from govhall_sdk.cli import build_parser

    return build_parser().parse_args(argv)


# ---------------------------------------------------------------- global options, before or after

@pytest.mark.parametrize("argv", COMMANDS, ids=IDS)
def test_global_options_before_or_after_the_command(argv):
    none = parse(argv)
    assert (none.config, none.lang) == (None, None)
    before = parse(["--config", "a.toml", "--lang", "en", *argv])
    assert (before.config, before.lang) == ("a.toml", "en")
    after = parse([*argv, "--config", "b.toml", "--lang", "zh"])
    assert (after.config, after.lang) == ("b.toml", "zh")


@pytest.mark.parametrize("argv", COMMANDS, ids=IDS)
def test_a_value_after_the_command_wins(argv):
    args = parse(["--config", "a.toml", "--lang", "en", *argv, "--config", "b.toml"])
    assert (args.config, args.lang) == ("b.toml", "en")  # --lang only before: it stands
    args = parse(["--lang", "en", *argv, "--lang", "zh"])
    assert (args.config, args.lang) == (None, "zh")


def test_between_a_command_and_its_sub_command_too():
    args = parse(["--config", "a.toml", "calendar", "--config", "m.toml", "info", "2025-01-26"])
    assert args.config == "m.toml"
    args = parse(["calendar", "--config", "m.toml", "info", "2025-01-26", "--config", "c.toml"])
    assert args.config == "c.toml"
    assert parse(["local", "--config", "m.toml", "show", "X"]).config == "m.toml"


def test_command_options_keep_their_defaults():
    check = parse(["check", "f.json"])
    assert (check.format, check.now, check.jobs) == ("json", None, 1)
    assert parse(["rules"]).format is None and parse(["rules"]).json is False
    assert parse(["plugins"]).json is False
    run = parse(["run"])
    assert (run.json, run.now, run.dry_run) == (False, None, False)
    assert parse(["check", "f.json", "--now", NOW]).now.isoformat() == NOW


def test_a_bad_global_value_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        parse(["--lang", "fr", "rules"])
    assert exc.value.code == 2 and "invalid choice: 'fr'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        parse(["rules", "--lang", "fr"])
    assert exc.value.code == 2


def _out(capsys, argv, code=0):
    assert main(argv) == code
    return capsys.readouterr().out


def test_explain_lang_before_or_after(capsys):
    after = _out(capsys, ["explain", "otn.notice_incomplete", "--lang", "en"])
    assert "What to do" in after
    assert _out(capsys, ["--lang", "en", "explain", "otn.notice_incomplete"]) == after
    zh = _out(capsys, ["explain", "otn.notice_incomplete"])
    assert "应当" in zh
    assert _out(capsys, ["--lang", "en", "explain", "otn.notice_incomplete", "--lang", "zh"]) == zh


def test_explain_takes_the_lang_of_a_config(tmp_path, capsys):
    config = tmp_path / "govhall.toml"
    config.write_text('lang = "en"\n')
    en = _out(capsys, ["explain", "otn.notice_incomplete", "--lang", "en"])
    assert _out(capsys, ["--config", str(config), "explain", "otn.notice_incomplete"]) == en
    assert "应当" in _out(capsys, ["--config", str(config), "explain", "otn.notice_incomplete", "--lang", "zh"])


def test_rules_config_before_or_after(tmp_path, capsys):
    config = tmp_path / "govhall.toml"
    config.write_text("[policy.time_limit]\ncomplaint_working_days = 10\n")
    after = _out(capsys, ["rules", "--json", "--config", str(config)])
    assert {r["code"]: r for r in json.loads(after)}["tl.overdue"]["thresholds"] == {"complaint_working_days": 10}
    assert _out(capsys, ["--config", str(config), "rules", "--json"]) == after
    assert _out(capsys, ["rules", "--json"]) != after


def test_check_lang_and_config_before_or_after(capsys):
    argv = ["check", "examples/tickets.json", "--now", NOW]
    after = _out(capsys, [*argv, "--config", "examples/govhall.toml", "--lang", "en"])
    assert _out(capsys, ["--config", "examples/govhall.toml", "--lang", "en", *argv]) == after
    assert _out(capsys, ["--lang", "zh", *argv, "--lang", "en", "--config", "examples/govhall.toml"]) == after
    assert _out(capsys, [*argv, "--config", "examples/govhall.toml"]) != after


def test_calendar_config_before_or_after(tmp_path, capsys):
    config = tmp_path / "govhall.toml"
    config.write_text('[calendar]\nholidays = ["2025-01-27"]\n')
    plain = json.loads(_out(capsys, ["calendar", "info", "2025-01-27"]))
    assert plain["working_day"] is True
    for argv in (["--config", str(config), "calendar", "info", "2025-01-27"],
                 ["calendar", "--config", str(config), "info", "2025-01-27"],
                 ["calendar", "info", "2025-01-27", "--config", str(config)]):
        assert json.loads(_out(capsys, argv))["working_day"] is False, argv


def test_a_bad_config_before_the_command_is_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("lang = 3\n")
    assert main(["--config", str(bad), "rules"]) == 2
    assert capsys.readouterr().err.startswith("govhall: error: config: ")


# ---------------------------------------------------------------- help text

def _parsers(parser, path=("govhall",)):
    """Every parser of the tree, with its command path."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _parsers(child, (*path, name))


def _tree():
    from govhall_sdk.cli import build_parser

    return list(_parsers(build_parser()))


def test_the_tree_has_every_command():
    paths = {" ".join(p) for p, _ in _tree()}
    for argv in COMMANDS:
        assert " ".join(["govhall", *[a for a in argv if a in ("add", "info", "import", "list", "show", "setup")
                                      or a == argv[0]]]) in paths


def test_every_option_and_positional_has_help():
    missing = []
    for path, parser in _tree():
        for action in parser._actions:
            if not action.help or action.help == argparse.SUPPRESS:
                missing.append(f"{' '.join(path)}: {'/'.join(action.option_strings) or action.dest}")
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    if not choice.help:
                        missing.append(f"{' '.join(path)} {choice.dest}: no help line")
    assert not missing, missing


def test_help_has_no_rst_backticks():
    for path, parser in _tree():
        text = parser.format_help()
        assert "`" not in text, f"{' '.join(path)} --help: {text}"


def test_help_names_the_global_options_everywhere():
    for path, parser in _tree():
        text = parser.format_help()
        assert "--config" in text and "--lang" in text, " ".join(path)


def test_help_from_the_script():
    out = subprocess.run([sys.executable, "-m", "govhall_sdk.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "`" not in out.stdout and "--config FILE" in out.stdout and "after it wins" in out.stdout
    out = subprocess.run([sys.executable, "-m", "govhall_sdk.cli", "calendar", "import", "--help"],
                         capture_output=True, text=True)
    assert out.returncode == 0 and "`" not in out.stdout and "--yes" in out.stdout


# ---------------------------------------------------------------- the public helpers

def test_public_helpers_import_from_govhall_sdk_cli():
    import govhall_sdk.cli as cli
    from govhall_sdk.cli import (EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE, UsageError, add_options, build_parser,
                                 config_from_args, engine_from_config, main, parse_date, parse_instant)

    assert (EXIT_OK, EXIT_INCOMPLETE, EXIT_USAGE) == (0, 1, 2)
    assert issubclass(UsageError, Exception)
    for name in ("EXIT_OK", "EXIT_INCOMPLETE", "EXIT_USAGE", "UsageError", "add_options", "config_from_args",
                 "engine_from_config", "main", "build_parser"):
        assert name in cli.__all__, name
    assert all(callable(f) for f in (add_options, build_parser, config_from_args, engine_from_config, main,
                                     parse_date, parse_instant))


def test_the_console_script_target_resolves():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts["govhall"] == "govhall_sdk.cli:main"
    import govhall_sdk.cli
    from govhall_sdk.cli.app import main as app_main

    assert govhall_sdk.cli.main is app_main


def test_every_sub_package_is_in_the_wheel():
    """setuptools' packages list is explicit: a sub-package missing from it is missing from the wheel."""
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"]
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "govhall_sdk").rglob("__init__.py")}
    assert found <= set(packages) and "govhall_sdk.cli" in found and "govhall_sdk.rest" in found


def test_config_from_args():
    from govhall_sdk.cli import UsageError, config_from_args

    assert config_from_args(argparse.Namespace(config=None, lang=None)).lang == "zh"
    assert config_from_args(argparse.Namespace(config=None, lang="en")).lang == "en"
    assert config_from_args(argparse.Namespace()).lang == "zh"  # a namespace without the options
    with pytest.raises(UsageError, match="^config: "):
        config_from_args(argparse.Namespace(config="/no/such/govhall.toml", lang=None))


def test_engine_from_config_turns_a_refusal_into_a_usage_error():
    from govhall_sdk.cli import UsageError, config_from_args, engine_from_config

    config = config_from_args(argparse.Namespace(config=None, lang=None))
    assert engine_from_config(config).config is config
    with pytest.raises(UsageError, match="unknown calendar"):
        engine_from_config(attrs.evolve(config, calendar="no-such-calendar"))


def test_parse_instant_and_date():
    from govhall_sdk.cli import parse_date, parse_instant

    assert parse_instant(NOW).utcoffset().total_seconds() == 8 * 3600
    with pytest.raises(argparse.ArgumentTypeError, match="UTC offset"):
        parse_instant("2025-03-14T16:00:00")
    with pytest.raises(argparse.ArgumentTypeError, match="ISO 8601"):
        parse_instant("tomorrow")
    assert parse_date("2025-01-24").isoformat() == "2025-01-24"
    with pytest.raises(argparse.ArgumentTypeError, match="YYYY-MM-DD"):
        parse_date("24.01.2025")


def test_add_options():
    from govhall_sdk.cli import add_options

    p = add_options(argparse.ArgumentParser(), "config", "lang", "json", "now", "format",
                    formats={"text": "for people", "json": "for programs"}, default_format="text",
                    help={"json": "the same as --format json"})
    args = p.parse_args([])
    assert not hasattr(args, "config") and not hasattr(args, "lang")  # global: "not given" defers to the top level
    assert (args.json, args.now, args.format) == (False, None, "text")
    assert p.parse_args(["--config", "f.toml", "--lang", "en"]).config == "f.toml"
    text = p.format_help()
    assert "text: for people (default); json: for programs" in " ".join(text.split())
    assert "the same as --format json" in text
    with pytest.raises(ValueError, match="unknown option"):
        add_options(argparse.ArgumentParser(), "colour")
    with pytest.raises(ValueError, match="formats"):
        add_options(argparse.ArgumentParser(), "format")
    with pytest.raises(ValueError, match="default_format"):
        add_options(argparse.ArgumentParser(), "format", formats={"json": "x"}, default_format="table")
    with pytest.raises(ValueError, match="not added"):
        add_options(argparse.ArgumentParser(), "json", help={"now": "x"})


class _MinePlugin:
    """A plugin command as a third party writes it: one with the helper, one declaring --config itself."""

    @hookimpl
    def govhall_add_commands(self, subparsers):
        from govhall_sdk.cli import EXIT_OK, add_options, config_from_args

        def cmd(args):
            print(json.dumps({"lang": config_from_args(args).lang, "json": args.json}))
            return EXIT_OK

        mine = subparsers.add_parser("mine", help="a plugin command")
        add_options(mine, "json")  # --config and --lang come with it anyway
        mine.set_defaults(func=cmd)
        old = subparsers.add_parser("old", help="a plugin command declaring --config itself")
        old.add_argument("--config", help="a govhall.toml")
        old.set_defaults(func=cmd, json=False)


@pytest.fixture
def mine_plugin():
    from govhall_sdk.host import get_plugin_manager

    plugin = _MinePlugin()
    pm = get_plugin_manager()
    pm.register(plugin, name="test_cli_options_mine")
    yield plugin
    pm.unregister(plugin)


def test_a_plugin_command_gets_the_global_options(mine_plugin, tmp_path, capsys):
    config = tmp_path / "govhall.toml"
    config.write_text('lang = "en"\n')
    assert json.loads(_out(capsys, ["--lang", "en", "mine", "--json"])) == {"lang": "en", "json": True}
    assert json.loads(_out(capsys, ["mine", "--lang", "en"])) == {"lang": "en", "json": False}
    assert json.loads(_out(capsys, ["--config", str(config), "old"]))["lang"] == "en"  # its own --config defers
    assert json.loads(_out(capsys, ["--config", "/no/such.toml", "old", "--config", str(config)]))["lang"] == "en"


# ---------------------------------------------------------------- no import cycle

MODULES = sorted(["govhall_sdk.cli.run", "govhall_sdk.cli",
                  *(f"govhall_sdk.cli.{p.stem}" for p in CLI_DIR.glob("*.py") if p.stem not in ("__init__", "__main__"))])


def _source(module):
    parts = module.split(".")
    path = ROOT.joinpath(*parts)
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def _imports(module):
    """The modules of MODULES that ``module`` imports, anywhere in it (function bodies included)."""
    path = _source(module)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            base = base[:len(base) - node.level + 1] if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            names = [target, *(f"{target}.{a.name}" for a in node.names)]
        else:
            continue
        found.update(n for n in names if n in MODULES and n != module)
    return found


def test_the_import_graph_has_no_cycle():
    graph = {m: _imports(m) for m in MODULES}
    assert "govhall_sdk.cli.options" in graph["govhall_sdk.cli.run"]
    assert not graph["govhall_sdk.cli.options"] - {"govhall_sdk.cli.errors", "govhall_sdk.cli.logs"}
    assert not graph["govhall_sdk.cli.logs"] - {"govhall_sdk.cli.errors"}
    assert not graph["govhall_sdk.cli.errors"]
    done, stack = set(), []

    def visit(m):
        if m in stack:
            raise AssertionError("import cycle: " + " -> ".join([*stack[stack.index(m):], m]))
        if m in done:
            return
        stack.append(m)
        for n in sorted(graph[m]):
            visit(n)
        stack.pop()
        done.add(m)

    for m in MODULES:
        visit(m)


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_first_in_a_fresh_process(module):
    code = (f"import importlib, argparse; m = importlib.import_module({module!r}); "
            "import govhall_sdk.cli.run as rc; rc.add_run_command(argparse.ArgumentParser().add_subparsers()); "
            "from govhall_sdk.cli import build_parser; build_parser()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr


def test_python_dash_m():
    out = subprocess.run([sys.executable, "-m", "govhall_sdk.cli", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("govhall ")
    out = subprocess.run([sys.executable, "-m", "govhall_sdk.cli", "explain", "no.such_code"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and out.stderr.splitlines()[-1].startswith("govhall: error: unknown code")


# ---------------------------------------------------------------- the parser of one built-in command

#: Lines of built-in commands that the parser of that command alone reads: its options, its help, its mistakes.
ONE_COMMAND_LINES = [
    ["check", "t.json", "--now", NOW, "--format", "table", "--lang", "en", "--jobs", "2", "--strict"],
    ["--config", "a.toml", "-vv", "check", "-", "--input-format", "jsonl", "--config", "b.toml"],
    ["--config=a.toml", "-q", "--log-level", "info", "rules", "--format", "json"],
    ["--lang", "en", "explain", "tl.overdue"],
    ["calendar", "add", "2025-03-14", "3"],
    ["--verbose", "calendar", "info", "2025-03-14", "--lang=en"],
    ["run", "--dry-run", "--limit", "5", "--now", "2025-03-14"],
    ["report", "ledger", "t.json", "--now", NOW, "assessment"],
    ["audit", "--failed", "--format", "json"],
    ["--quiet", "plugins", "--json"],
    ["check"], ["check", "t.json", "--jobs", "0"], ["check", "t.json", "--nope"], ["check", "t.json", "extra"],
    ["check", "t.json", "--now", "2025-03-14+08:00+08:00"], ["check", "t.json", "--conf", "a.toml"],
    ["--lang", "xx", "check", "t.json"], ["--config"], ["--config", "--lang", "check"], ["--lang", "check", "run"],
    ["rules", "--format", "yaml"], ["calendar"], ["calendar", "add", "x", "1"], ["run", "--limit", "-1"],
    *([*c, "--help"] for c in (["check"], ["rules"], ["explain"], ["calendar"], ["calendar", "import"], ["run"],
                               ["report"], ["audit"], ["plugins"])),
]


def _parsed(parser, argv, capsys):
    """What the parser makes of ``argv``: the namespace (each value's repr), or the exit status and what it
    printed."""
    from govhall_sdk.cli.app import _parse

    try:
        return {name: repr(value) for name, value in vars(_parse(parser, argv)).items()}
    except SystemExit as exc:
        out = capsys.readouterr()
        return exc.code, out.out, out.err


@pytest.mark.parametrize("argv", ONE_COMMAND_LINES, ids=" ".join)
def test_the_parser_of_the_invoked_command_reads_a_line_as_the_whole_parser_does(argv, capsys):
    from govhall_sdk.cli.app import build_parser, invoked_command

    command = invoked_command(argv)
    one = build_parser(command)
    assert _parsed(one, argv, capsys) == _parsed(build_parser(), argv, capsys)
    if command is not None:  # the line is read without the other commands
        (sub,) = [a for a in one._actions if isinstance(a, argparse._SubParsersAction)]
        assert set(sub.choices) <= {"rules", "explain"} or list(sub.choices) == [command]


@pytest.mark.parametrize("argv, command", [
    (["check", "t.json"], "check"), (["--config", "a.toml", "-vvv", "--lang=en", "rules"], "rules"),
    (["--log-level", "debug", "-q", "explain", "x"], "explain"), (["--config", "check", "run"], "run"),
    (["--help", "check"], None), (["--version"], None), (["--conf", "a.toml", "check"], None),
    (["-vq", "check"], None), (["--", "check"], None), (["completion", "bash"], None), (["local", "list"], None),
    (["chekc", "t.json"], None), ([], None), (["--config"], None),
])
def test_the_invoked_command(argv, command):
    """Named only when nothing before it can mean anything but the global options; the rest (help, plugin
    commands, completion, anything unusual) goes to the whole parser."""
    from govhall_sdk.cli.app import invoked_command

    assert invoked_command(argv) == command


def test_a_built_in_command_does_not_ask_the_plugins_for_their_commands(mine_plugin, capsys):
    from govhall_sdk.host import get_plugin_manager

    calls = []
    pm = get_plugin_manager()
    original = pm.add_commands
    pm.add_commands = lambda sub: (calls.append(sorted(sub.choices)), original(sub))
    try:
        assert main(["rules", "--format", "json"]) == 0 and json.loads(capsys.readouterr().out)
        assert not calls
        assert json.loads(_out(capsys, ["mine", "--json"])) == {"lang": "zh", "json": True}
        assert calls and "mine" not in calls[0] and "check" in calls[0]
    finally:
        del pm.add_commands


def test_collection_paused_freezes_what_it_made_and_restores_the_collector():
    import gc

    from govhall_sdk.cli import collection_paused

    assert gc.isenabled()
    before = gc.get_freeze_count()
    with collection_paused():
        assert not gc.isenabled()
        made = [[] for _ in range(1000)]
    assert gc.isenabled() and gc.get_freeze_count() >= before + len(made)
    gc.disable()
    try:
        with collection_paused():
            pass
        assert not gc.isenabled()  # the caller's pause stands
    finally:
        gc.enable()


class _CollectorPlugin:
    @hookimpl
    def govhall_add_commands(self, subparsers):
        import gc

        subparsers.add_parser("collector", help="says whether it runs with the collector on").set_defaults(
            func=lambda args: print(gc.isenabled()) or 0)


def test_a_command_runs_with_the_collector_on(capsys):
    """main pauses the collector while it starts up, not while the command runs."""
    from govhall_sdk.host import get_plugin_manager

    plugin = _CollectorPlugin()
    get_plugin_manager().register(plugin, name="test_cli_options_collector")
    try:
        assert _out(capsys, ["collector"]) == "True\n"
    finally:
        get_plugin_manager().unregister(plugin)


def test_a_plugin_failing_in_strict_mode_fails_a_built_in_command_and_keeps_every_help(tmp_path):
    (tmp_path / "broken_rule.py").write_text("raise ImportError('missing dependency foo')\n")
    info = tmp_path / "broken_rule-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken_rule\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[govhall]\nbroken = broken_rule\n")
    env = {**os.environ, "GOVHALL_STRICT_PLUGINS": "1", "GOVHALL_CACHE_DIR": str(tmp_path / "cache"),
           "PYTHONPATH": str(tmp_path)}

    def govhall(*argv):
        return subprocess.run([sys.executable, "-m", "govhall_sdk.cli", *argv], capture_output=True, text=True,
                              env=env, cwd=tmp_path, timeout=120)

    top = govhall("--help")
    assert top.returncode == 0 and "completion" in top.stdout and "check" in top.stdout
    assert govhall("check", "--help").returncode == 0 and govhall("completion", "--help").returncode == 0
    for argv in (["check", "t.json", "--now", NOW], ["rules"]):
        out = govhall(*argv)
        assert out.returncode == 2 and "plugin 'broken' failed to load" in out.stderr, argv
