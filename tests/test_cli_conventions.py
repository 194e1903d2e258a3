"""The command line behaves as pip, pytest, httpie and llm do, through the real ``govhall`` script.

Help on every option, positional and command (plugin commands included: the
whole parser tree is walked), with examples and exit statuses, no RST markup,
readable at 80 columns; global options anywhere; the config found as
``--config``, ``$GOVHALL_CONFIG``, ``./govhall.toml``, else the built-in
defaults, which write nothing to disk; ``--now`` forms and their errors; number
options validated; ``NO_COLOR`` and ``FORCE_COLOR``; warnings as one line; a
closed pipe, Ctrl-C and SIGTERM ending quietly; shell completion; ``python -m
govhall_sdk``.
"""
from __future__ import annotations

import argparse
import json
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import time
import unicodedata
import warnings
from pathlib import Path

import pytest

from govhall_sdk import hookimpl
from needed import program

ROOT = Path(__file__).parent.parent
GOVHALL = str(Path(sys.executable).with_name("govhall"))
TICKETS = ROOT / "examples" / "tickets.json"
NOW = "2025-03-14T16:00:00+08:00"
MARKUP = re.compile(r"`|:(class|func|meth|mod|attr|data|exc|ref|doc):")


def env(**extra):
    """The environment of a subprocess: no colour or config variables of the caller's, these added."""
    out = {k: v for k, v in os.environ.items()
           if k not in ("NO_COLOR", "FORCE_COLOR", "GOVHALL_CONFIG", "GOVHALL_LOG_LEVEL", "COLUMNS")}
    out.update(extra)
    return out


def govhall(*args, cwd=ROOT, extra_env=None, **kw):
    """Run the venv's ``govhall`` script; its CompletedProcess (text)."""
    return subprocess.run([GOVHALL, *map(str, args)], cwd=cwd, env=env(**(extra_env or {})),
                          capture_output=True, text=True, timeout=120, **kw)


def no_traceback(text):
    assert "Traceback" not in text and "Error:" not in text.replace("govhall: error:", ""), text


# ---------------------------------------------------------------- the parser tree

def _parsers(parser, path=("govhall",)):
    """Every parser of the tree, with its command path."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _parsers(child, (*path, name))


@pytest.fixture(scope="module")
def tree():
    from govhall_sdk.cli import build_parser

    return list(_parsers(build_parser()))


def _where(path, action):
    return f"{' '.join(path)}: {'/'.join(action.option_strings) or action.metavar or action.dest}"


def test_the_tree_includes_the_plugin_commands(tree):
    paths = {" ".join(p) for p, _ in tree}
    assert {"govhall local show", "govhall local list", "govhall redmine setup", "govhall completion",
            "govhall calendar import"} <= paths


def test_every_option_and_positional_has_help_without_markup(tree):
    """Strict for every command, whoever wrote it: the failures name the command and the option."""
    problems = []
    for path, parser in tree:
        for action in parser._actions:
            if not action.help or action.help == argparse.SUPPRESS or not action.help.strip():
                problems.append(f"{_where(path, action)}: no help")
            elif MARKUP.search(action.help):
                problems.append(f"{_where(path, action)}: RST markup in {action.help!r}")
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    if not choice.help:
                        problems.append(f"{' '.join(path)} {choice.dest}: no help line")
        for name, text in (("description", parser.description), ("epilog", parser.epilog)):
            if text and MARKUP.search(text):
                problems.append(f"{' '.join(path)}: RST markup in the {name}")
    assert not problems, "\n".join(problems)


def test_every_command_has_examples_and_exit_statuses(tree):
    problems = []
    for path, parser in tree:
        text = parser.format_help()
        if not re.search(r"^examples?:$", text, re.M | re.I):
            problems.append(f"{' '.join(path)}: no examples")
        if not re.search(r"^exit (status|codes?):$", text, re.M | re.I):
            problems.append(f"{' '.join(path)}: no exit statuses")
        elif not re.search(r"^\s+130\s", text, re.M):
            problems.append(f"{' '.join(path)}: the exit statuses leave out 130 (interrupted)")
    assert not problems, "\n".join(problems)


def _columns(line):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def test_help_fits_80_columns(tree, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    problems = []
    for path, parser in tree:
        for line in parser.format_help().splitlines():
            if _columns(line) > 80:
                problems.append(f"{' '.join(path)}: {line}")
    assert not problems, "\n".join(problems)


def test_help_through_the_script():
    out = govhall("--help", extra_env={"COLUMNS": "80"})
    assert out.returncode == 0 and out.stderr == ""
    assert "examples:" in out.stdout and "exit status:" in out.stdout and "GOVHALL_CONFIG" in out.stdout
    assert "`" not in out.stdout
    out = govhall("local", "show", "--help")
    assert out.returncode == 0 and "--config FILE" in out.stdout and "--log-level" in out.stdout


# ---------------------------------------------------------------- exit statuses, python -m

def test_exit_statuses():
    assert govhall("rules").returncode == 0
    bad = govhall("explain", "no.such_code")
    assert bad.returncode == 2 and bad.stderr.startswith("govhall: error: unknown code")
    assert bad.stderr.count("\n") == 1 and "`" not in bad.stderr
    unknown = govhall("rules", "--no-such-option")
    assert unknown.returncode == 2 and "unrecognized arguments" in unknown.stderr
    no_traceback(unknown.stderr)


def test_python_dash_m_govhall_sdk():
    out = subprocess.run([sys.executable, "-m", "govhall_sdk", "--version"], capture_output=True, text=True,
                         cwd=ROOT, env=env())
    assert out.returncode == 0 and out.stdout.startswith("govhall ")
    out = subprocess.run([sys.executable, "-m", "govhall_sdk", "calendar", "add", "2025-01-24", "5"],
                         capture_output=True, text=True, cwd=ROOT, env=env())
    assert (out.returncode, out.stdout) == (0, "2025-02-07\n")


# ---------------------------------------------------------------- numbers

def test_number_types():
    from govhall_sdk.cli import non_negative_float, non_negative_int, positive_int

    assert positive_int("3") == 3 and non_negative_int("0") == 0 and non_negative_float("1.5") == 1.5
    for bad in ("0", "-1", "x", "1.5", ""):
        with pytest.raises(argparse.ArgumentTypeError, match="at least 1"):
            positive_int(bad)
    for bad in ("-1", "x", "2.0"):
        with pytest.raises(argparse.ArgumentTypeError, match="at least 0"):
            non_negative_int(bad)
    for bad in ("-0.5", "nan", "inf", "x"):
        with pytest.raises(argparse.ArgumentTypeError, match="at least 0"):
            non_negative_float(bad)


def test_a_negative_count_is_a_usage_error():
    out = govhall("calendar", "add", "2025-01-24", "-1")
    assert out.returncode == 2 and "expected a whole number of at least 0, got '-1'" in out.stderr
    no_traceback(out.stderr)


# ---------------------------------------------------------------- the config, and nothing written by default

@pytest.fixture
def bare(tmp_path):
    """An empty working directory."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    return cwd


def test_the_built_in_defaults_write_nothing(bare):
    for argv in (["rules"], ["plugins"], ["explain", "tl.overdue"], ["calendar", "info", "2025-01-26"],
                 ["check", TICKETS, "--now", NOW]):
        out = govhall(*argv, cwd=bare)
        assert out.returncode == 0, (argv, out.stderr)
    run = govhall("run", "--dry-run", cwd=bare)
    assert run.returncode == 2
    assert run.stderr.startswith("govhall: error: govhall run needs a config file")
    assert "--config FILE" in run.stderr and "GOVHALL_CONFIG" in run.stderr and "./govhall.toml" in run.stderr
    assert list(bare.iterdir()) == []  # no ./.govhall/, nothing at all


def _en_config(path, tz="Asia/Shanghai"):
    path.write_text(f'lang = "en"\ntimezone = "{tz}"\n', encoding="utf-8")
    return path


def test_govhall_config_and_the_working_directory_config(bare, tmp_path):
    config = _en_config(tmp_path / "en.toml", "Europe/Berlin")
    out = govhall("explain", "otn.notice_incomplete", cwd=bare, extra_env={"GOVHALL_CONFIG": str(config)})
    assert out.returncode == 0 and "What to do" in out.stdout
    assert "应当" in govhall("explain", "otn.notice_incomplete", cwd=bare).stdout
    check = govhall("check", TICKETS, "--now", "2025-03-14", cwd=bare, extra_env={"GOVHALL_CONFIG": str(config)})
    assert json.loads(check.stdout)["now"] == "2025-03-14T00:00:00+01:00"  # the config's time zone
    # --config wins over the environment
    zh = tmp_path / "zh.toml"
    zh.write_text('lang = "zh"\n')
    out = govhall("explain", "otn.notice_incomplete", "--config", zh, cwd=bare,
                  extra_env={"GOVHALL_CONFIG": str(config)})
    assert "应当" in out.stdout
    # an empty GOVHALL_CONFIG is not set; ./govhall.toml is used when it exists
    _en_config(bare / "govhall.toml")
    out = govhall("explain", "otn.notice_incomplete", cwd=bare, extra_env={"GOVHALL_CONFIG": ""})
    assert "What to do" in out.stdout
    missing = govhall("rules", cwd=bare, extra_env={"GOVHALL_CONFIG": str(tmp_path / "none.toml")})
    assert missing.returncode == 2 and missing.stderr.startswith("govhall: error: config ($GOVHALL_CONFIG): ")


def test_govhall_run_with_the_config_of_the_environment(tmp_path):
    shutil.copytree(ROOT / "examples", tmp_path / "examples", ignore=shutil.ignore_patterns(".govhall"))
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    out = govhall("run", "--dry-run", "--json", "--now", NOW, cwd=cwd,
                  extra_env={"GOVHALL_CONFIG": str(tmp_path / "examples" / "govhall.toml")})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["pulled"] == 52
    assert list(cwd.iterdir()) == []  # the state is beside the config


def test_config_from_args_in_process(tmp_path, monkeypatch):
    from govhall_sdk.cli import UsageError, config_from_args, config_path

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GOVHALL_CONFIG", raising=False)
    assert config_path(argparse.Namespace()) == (None, "")
    with pytest.raises(UsageError, match="^mine needs a config file"):
        config_from_args(argparse.Namespace(), required="mine")
    with pytest.raises(UsageError, match="^this command needs a config file"):
        config_from_args(argparse.Namespace(config_required=True))
    _en_config(tmp_path / "govhall.toml")
    assert config_path(argparse.Namespace())[1] == "./govhall.toml"
    assert config_from_args(argparse.Namespace(), required=True).lang == "en"
    monkeypatch.setenv("GOVHALL_CONFIG", "/elsewhere.toml")
    assert config_path(argparse.Namespace()) == (Path("/elsewhere.toml"), "$GOVHALL_CONFIG")
    assert config_path(argparse.Namespace(config="a.toml")) == (Path("a.toml"), "--config")


# ---------------------------------------------------------------- global options anywhere

def test_global_options_anywhere_on_a_plugin_command(tmp_path):
    config = tmp_path / "govhall.toml"
    config.write_text('[adapter]\ntype = "local"\npath = "helpdesk.sqlite"\nseed = "%s"\n' % TICKETS.as_posix())
    outs = [govhall(*argv) for argv in (
        ["--config", config, "-q", "local", "list"],
        ["local", "--config", config, "list", "-q"],
        ["local", "list", "--log-level", "ERROR", "--config", config],
        ["--config", "/no/such.toml", "local", "list", "--config", config, "--lang", "en"],
    )]
    for out in outs:
        assert out.returncode == 0, out.stderr
    assert len({o.stdout for o in outs}) == 1


# ---------------------------------------------------------------- --now

@pytest.mark.parametrize("given, now", [
    (NOW, NOW),
    ("2025-03-14T08:00:00Z", "2025-03-14T08:00:00+00:00"),
    ("2025-03-14T16:00", "2025-03-14T16:00:00+08:00"),  # a local time: the config's time zone
    ("2025-03-14", "2025-03-14T00:00:00+08:00"),        # a date: its start
    ("2025-03-14+05:00", "2025-03-14T00:00:00+05:00"),  # a date with an offset: its start there
])
def test_now_forms(given, now):
    out = govhall("check", TICKETS, "--now", given)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["now"] == now


def _suggested(stderr):
    return re.search(r"e\.g\. (\S+)|such as (\S+)", stderr).group(1, 2)


@pytest.mark.parametrize("given, hint", [
    ("tomorrow", "2025-03-14T16:00+08:00"),
    ("2025-03-14x16:00", "2025-03-14T16:00+08:00"),
    ("9999-12-31T23:59:59-12:00", "2025-03-14T16:00+08:00"),
    ("0001-01-01T00:00+08:00", "2025-03-14T16:00+08:00"),
])
def test_a_bad_now_is_a_usage_error_with_a_correct_hint(given, hint):
    from govhall_sdk.cli import parse_now

    out = govhall("check", TICKETS, "--now", given)
    assert out.returncode == 2, out.stderr
    no_traceback(out.stderr)
    assert "+08:00+08:00" not in out.stderr
    assert hint in _suggested(out.stderr) and given in out.stderr
    assert isinstance(parse_now(hint), type(parse_now(NOW)))  # the hint is itself a good value


def test_a_local_now_out_of_range_in_the_config_time_zone():
    out = govhall("check", TICKETS, "--now", "9999-12-31T23:00")  # 15:00 UTC on the last day: no room for offsets
    assert out.returncode == 2 and out.stderr.startswith("govhall: error: --now: out of range")
    no_traceback(out.stderr)


def test_parse_now_and_instant():
    from govhall_sdk.cli import parse_instant, parse_now
    from govhall_sdk.cli.options import WallTime

    assert parse_now(NOW).isoformat() == NOW
    wall = parse_now("2025-03-14")
    assert isinstance(wall, WallTime) and wall.naive.isoformat() == "2025-03-14T00:00:00"
    with pytest.raises(argparse.ArgumentTypeError, match=r"UTC offset, e\.g\. 2025-03-14T16:00\+08:00$"):
        parse_instant("2025-03-14T16:00")
    with pytest.raises(argparse.ArgumentTypeError, match=r"e\.g\. 2025-03-14T00:00\+08:00$"):
        parse_instant("2025-03-14")
    assert parse_instant("2025-03-14-05:00").isoformat() == "2025-03-14T00:00:00-05:00"  # not 05:00 local
    assert parse_instant("2025-03-14Z").isoformat() == "2025-03-14T00:00:00+00:00"
    with pytest.raises(argparse.ArgumentTypeError, match="out of range"):
        parse_instant("0001-01-01T00:30+01:00")


# ---------------------------------------------------------------- colour

def _on_a_terminal(*args, extra_env=None):
    """Run govhall with its stdout on a pseudo-terminal; what it wrote there."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([GOVHALL, *map(str, args)], cwd=ROOT, env=env(**(extra_env or {})),
                            stdout=slave, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the other side closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(60) == 0, proc.stderr.read()
    proc.stderr.close()
    return b"".join(chunks).decode("utf-8", "replace")


TABLE = ["check", TICKETS, "--now", NOW, "--format", "table"]


@pytest.mark.parametrize("extra, coloured", [
    ({}, True),
    ({"NO_COLOR": "1"}, False),
    ({"NO_COLOR": ""}, True),             # empty: as if not set
    ({"TERM": "dumb"}, False),
    ({"NO_COLOR": "1", "FORCE_COLOR": "1"}, False),
])
def test_colour_on_a_terminal(extra, coloured):
    assert ("\033[" in _on_a_terminal(*TABLE, extra_env={"TERM": "xterm", **extra})) is coloured


@pytest.mark.parametrize("extra, coloured", [
    ({}, False),
    ({"FORCE_COLOR": "1"}, True),
    ({"FORCE_COLOR": ""}, False),         # empty: as if not set
    ({"FORCE_COLOR": "1", "NO_COLOR": "yes"}, False),
])
def test_colour_on_a_pipe(extra, coloured):
    out = govhall(*TABLE, extra_env=extra)
    assert out.returncode == 0
    assert ("\033[" in out.stdout) is coloured


def test_use_colour():
    from govhall_sdk.report import use_colour

    class Tty:
        def isatty(self):
            return True

    assert use_colour(Tty(), {}) and not use_colour(Tty(), {"NO_COLOR": "x"})
    assert use_colour(Tty(), {"NO_COLOR": ""}) and not use_colour(Tty(), {"TERM": "dumb"})
    assert use_colour(object(), {"FORCE_COLOR": "0"})  # any value that is not empty
    assert not use_colour(object(), {"FORCE_COLOR": ""})


# ---------------------------------------------------------------- warnings

def test_warnings_are_one_line():
    out = govhall("check", TICKETS, "--now", "2100-06-01T10:00+08:00", "--format", "table")
    assert out.returncode == 0
    lines = [l for l in out.stderr.splitlines() if l]
    assert lines and all(l.startswith("govhall: warning: ") for l in lines), out.stderr
    assert "warnings.warn" not in out.stderr and "Warning:" not in out.stderr and ".py:" not in out.stderr


class _WarningPlugin:
    @hookimpl
    def govhall_add_commands(self, subparsers):
        def cmd(args):
            warnings.warn("something to know\nsecond line", UserWarning)
            import logging

            logging.captureWarnings(True)
            try:
                warnings.warn("through logging", DeprecationWarning)
            finally:
                logging.captureWarnings(False)
            return 0

        p = subparsers.add_parser("warner", help="warns")
        p.set_defaults(func=cmd)


def test_a_plugin_warning_is_one_line(capsys):
    from govhall_sdk.cli import main
    from govhall_sdk.host import get_plugin_manager

    plugin = _WarningPlugin()
    pm = get_plugin_manager()
    pm.register(plugin, name="test_cli_conventions_warner")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            assert main(["warner"]) == 0
    finally:
        pm.unregister(plugin)
    err = capsys.readouterr().err
    assert err.splitlines()[0] == r"govhall: warning: something to know\nsecond line"
    assert "through logging" in err and "warnings.warn" not in err and ".py:" not in err


# ---------------------------------------------------------------- a closed pipe

def test_a_pipe_closed_before_the_output():
    proc = subprocess.Popen([GOVHALL, "rules"], cwd=ROOT, env=env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()  # as `govhall rules | true`
    err = proc.stderr.read().decode()
    assert proc.wait(60) == 141 and err == ""


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    """20,000 tickets as JSON Lines (the examples, renamed)."""
    tickets = json.loads(TICKETS.read_text(encoding="utf-8"))["tickets"]
    path = tmp_path_factory.mktemp("big") / "big.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for i in range(20_000):
            fh.write(json.dumps({**tickets[i % len(tickets)], "id": f"T-{i}"}, ensure_ascii=False) + "\n")
    return path


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_head_of_a_big_check(big_file, fmt):
    proc = subprocess.Popen([GOVHALL, "check", big_file, "--now", NOW, "--format", fmt], cwd=ROOT, env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline()  # as `govhall check big.jsonl | head -1`
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(60) == 141 and err == ""


# ---------------------------------------------------------------- Ctrl-C and SIGTERM

@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_command_ends_quietly(signum):
    """``govhall check -`` waits for more tickets on its standard input: interrupted while it runs."""
    proc = subprocess.Popen([GOVHALL, "check", "-", "--now", NOW], cwd=ROOT, env=env(PYTHONUNBUFFERED="1"),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ticket = json.loads(TICKETS.read_text(encoding="utf-8"))["tickets"][0]
    proc.stdin.write((json.dumps(ticket, ensure_ascii=False) + "\n").encode())
    proc.stdin.flush()
    assert proc.stdout.read(1) == b"{"  # the command runs: its output has begun
    time.sleep(0.2)
    proc.send_signal(signum)
    err = proc.stderr.read().decode()
    assert proc.wait(60) == 130
    assert err == "govhall: interrupted\n"
    proc.stdin.close()
    proc.stdout.close()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_on_a_big_check(big_file, jobs):
    """Ctrl-C on a terminal signals the whole process group, the workers of ``--jobs`` too."""
    proc = subprocess.Popen([GOVHALL, "check", big_file, "--now", NOW, "--jobs", jobs], cwd=ROOT, env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    assert proc.stdout.read(1) == b"{"  # it runs (and, its output unread, soon waits on the full pipe)
    time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGINT)
    err = proc.stderr.read().decode()
    assert proc.wait(60) == 130 and err == "govhall: interrupted\n"
    proc.stdout.close()


def test_an_interrupt_in_process_returns_130(capsys):
    from govhall_sdk.cli import main
    from govhall_sdk.host import get_plugin_manager

    class Interrupted:
        @hookimpl
        def govhall_add_commands(self, subparsers):
            def cmd(args):
                raise KeyboardInterrupt

            subparsers.add_parser("sleeper", help="interrupted").set_defaults(func=cmd)

    plugin = Interrupted()
    pm = get_plugin_manager()
    pm.register(plugin, name="test_cli_conventions_sleeper")
    before = signal.getsignal(signal.SIGTERM)
    try:
        assert main(["sleeper"]) == 130
    finally:
        pm.unregister(plugin)
    assert capsys.readouterr().err == "govhall: interrupted\n"
    assert signal.getsignal(signal.SIGTERM) is before  # main puts the handlers back


# ---------------------------------------------------------------- completion

def _bash_complete(script, line):
    """The candidates bash offers for ``line`` (its last word the one being completed)."""
    code = (f'{script}\nread -ra COMP_WORDS <<< "$LINE"; [[ $LINE == *" " ]] && COMP_WORDS+=("");'
            ' COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _govhall; printf "%s\\n" "${COMPREPLY[@]}"')
    out = subprocess.run(["bash", "-c", code], capture_output=True, text=True, env={**env(), "LINE": line},
                         timeout=60)
    assert out.returncode == 0, out.stderr
    return sorted(out.stdout.split())


@pytest.fixture(scope="module")
def scripts():
    return {shell: govhall("completion", shell) for shell in ("bash", "zsh", "fish")}


def test_completion_scripts(scripts):
    for shell, out in scripts.items():
        assert out.returncode == 0 and out.stderr == "", shell
        assert "local" in out.stdout and "--log-level" in out.stdout and "calendar" in out.stdout
    bad = govhall("completion", "powershell")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def test_bash_completion(scripts):
    program("bash")
    script = scripts["bash"].stdout
    assert {"check", "run", "calendar", "local", "redmine", "completion"} <= set(_bash_complete(script, "govhall "))
    assert _bash_complete(script, "govhall cal") == ["calendar"]
    assert _bash_complete(script, "govhall --config x.toml calendar ") == ["add", "import", "info"]
    assert _bash_complete(script, "govhall check f.json --format ") == ["json", "table"]
    assert {"list", "show"} <= set(_bash_complete(script, "govhall local "))
    assert _bash_complete(script, "govhall rules --l") == ["--lang", "--log-level"]
    assert _bash_complete(script, "govhall completion ") == ["bash", "fish", "zsh"]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_script_syntax(scripts, shell, tmp_path):
    program(shell)
    path = tmp_path / f"govhall.{shell}"
    path.write_text(scripts[shell].stdout)
    out = subprocess.run([shell, "-n", str(path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def test_fish_completion(scripts, tmp_path):
    program("fish")
    path = tmp_path / "govhall.fish"
    path.write_text(scripts["fish"].stdout)

    def complete(line):
        out = subprocess.run(["fish", "-c", f"source {path}; complete -C {line!r}"], capture_output=True,
                             text=True, timeout=60)
        assert out.returncode == 0 and out.stderr == "", out.stderr
        return sorted(row.split("\t")[0] for row in out.stdout.splitlines())

    assert complete("govhall cal") == ["calendar"]
    assert complete("govhall calendar ") == ["add", "import", "info"]
    assert complete("govhall check x.json --format ") == ["json", "table"]
    assert {"list", "show"} <= set(complete("govhall --config a.toml local "))


# ---------------------------------------------------------------- the help helpers of plugin commands

def test_command_epilog_and_the_help_formatter(monkeypatch):
    from govhall_sdk.cli import HelpFormatter, command_epilog

    text = command_epilog({"govhall mine --json": "as JSON"}, {0: "done", 1: "partly done"}, notes="About it.")
    assert text == ("About it.\n\nexamples:\n  # as JSON\n  govhall mine --json\n\n"
                    "exit status:\n  0    done\n  1    partly done\n  130  interrupted (Ctrl-C or SIGTERM)")
    monkeypatch.setenv("COLUMNS", "40")
    p = argparse.ArgumentParser(prog="mine", formatter_class=HelpFormatter, epilog=text,
                                description="word " * 20 + "\n\n" + "办理时限" * 20)
    p.add_argument("--x", help="一次性告知" * 10)
    help_text = p.format_help()
    assert "  govhall mine --json\n" in help_text and "  0    done\n" in help_text  # kept as written
    assert all(_columns(line) <= 40 for line in help_text.splitlines()), help_text
    assert "".join(help_text.split()).count("办理时限") == 20  # wrapped, nothing lost


def test_the_now_help_names_every_form(tree):
    parsers = dict((" ".join(path), parser) for path, parser in tree)
    for command in ("govhall check", "govhall run"):
        text = " ".join(parsers[command].format_help().split())
        assert "2025-03-14T16:00+08:00" in text and "a local time (2025-03-14T16:00)" in text, command
        assert "in the config's time zone" in text and "+08:00+08:00" not in text
