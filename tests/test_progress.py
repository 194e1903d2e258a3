"""Progress people can read: retries announced as they happen, progress bars on a terminal only.

- every retry of a helpdesk request is logged at WARNING as it happens
  (``429 from zendesk, waiting 30 s, attempt 2/6``), without the URL;
- ``govhall run`` in a real terminal (a pty) draws a bar with the total, the rate
  and the time left; nothing of it on a pipe, with ``-q`` or with ``TERM=dumb``.
"""
from __future__ import annotations

import fcntl
import io
import json
import logging
import os
import pty
import signal
import re
import struct
import subprocess
import sys
import termios
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from fakes_zendesk import TOKEN, ZendeskDriver
from govhall_sdk.cli.progress import Progress, wanted
from govhall_sdk.rest.retry import HTTPError, failure_kind
from govhall_sdk.testing import build_sync, conformance_tickets

NOW = datetime.fromisoformat("2025-03-03T09:00:00+08:00")


# ---------------------------------------------------------------- retries say so as they happen

def test_each_429_is_announced_with_the_adapter_the_wait_and_the_attempt(govhall_http, govhall_config, govhall_pm,
                                                                          caplog):
    driver = ZendeskDriver(govhall_http)
    driver.seed(conformance_tickets(3))
    driver.fake.throttle("GET", r"incremental", 2, 30)
    config = govhall_config()
    with caplog.at_level(logging.WARNING, logger="govhall"):
        summary = build_sync(config, driver.make_adapter(config), govhall_pm).run(NOW)
    assert summary.ok
    retries = [r for r in caplog.records if "waiting" in r.getMessage()]
    assert [r.getMessage() for r in retries] == ["429 from zendesk, waiting 30 s, attempt 2/6",
                                                 "429 from zendesk, waiting 30 s, attempt 3/6"]
    assert all(r.name == "govhall" and r.levelno == logging.WARNING for r in retries)
    assert not any("http" in r.getMessage() or TOKEN in r.getMessage() for r in caplog.records)


def test_a_5xx_and_a_short_wait_read_as_such(govhall_http, govhall_config, govhall_pm, caplog):
    driver = ZendeskDriver(govhall_http)
    driver.seed(conformance_tickets(1))
    driver.fake.fail("GET", r"incremental", 503, "")
    config = govhall_config()
    with caplog.at_level(logging.WARNING, logger="govhall"):
        assert build_sync(config, driver.make_adapter(config), govhall_pm).run(NOW).ok
    (line,) = [r.getMessage() for r in caplog.records if "waiting" in r.getMessage()]
    assert line.startswith("503 from zendesk, waiting ") and line.endswith(" s, attempt 2/6"), line


@pytest.mark.parametrize("quiet", [False, True], ids=["default", "-q"])
def test_govhall_run_says_each_retry_on_stderr_unless_quiet(tmp_path, quiet):
    """Against the loopback fake Freshdesk of the reliability suite, its list endpoint answering 429 twice."""
    from reliability.fake_helpdesk import Fault
    from reliability.harness import new_fake, run_cli, write_config

    fake = new_fake(retry_after="1")
    try:
        fake.faults.append(Fault("429", endpoint="list", times=2))
        done = run_cli(write_config(tmp_path, fake.url), *(["-q"] if quiet else []))
    finally:
        fake.stop()
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if "waiting" in line]
    if quiet:
        assert lines == []
    else:
        assert lines == ["govhall: warning: 429 from freshdesk, waiting 1 s, attempt 2/6",
                         "govhall: warning: 429 from freshdesk, waiting 1 s, attempt 3/6"]
        assert "http" not in done.stderr


@pytest.mark.parametrize("message, kind", [
    ("GET https://x.example/a: ReadTimeout: read timed out", "timeout"),
    ("GET https://x.example/a: ConnectionError: refused", "connection error"),
    ("GET https://x.example/a: malformed JSON: Expecting value", "a malformed or cut-short answer"),
    ("GET https://x.example/a: SSLError: bad", "network error"),
])
def test_a_failure_without_a_status_is_named_by_its_kind(message, kind):
    assert failure_kind(HTTPError(message)) == kind


# ---------------------------------------------------------------- progress bars on a terminal only

GOVHALL = str(Path(sys.executable).with_name("govhall"))
RUN_NOW = "2025-03-03T09:00:00+08:00"


def demo(folder: Path, tickets: int) -> Path:
    """A config whose local helpdesk is seeded on first use from ``tickets`` overdue complaints (JSON Lines)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "seed.jsonl").write_text("".join(json.dumps(t, ensure_ascii=False) + "\n"
                                               for t in conformance_tickets(tickets)), encoding="utf-8")
    config = folder / "govhall.toml"
    config.write_text('[adapter]\ntype = "local"\npath = ".govhall/helpdesk.sqlite"\nseed = "seed.jsonl"\n'
                      '[state]\npath = ".govhall/state.sqlite"\n', encoding="utf-8")
    return config


def env(**extra: str) -> dict[str, str]:
    return {**os.environ, "TERM": "xterm", "PYTHONUNBUFFERED": "1", **extra}


class Terminal:
    """``govhall ARGS`` with stderr on a pty of 100 columns (stdout on a pipe); what it drew is ``screen``."""

    def __init__(self, *args: str, extra_env: dict[str, str] | None = None):
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        self.proc = subprocess.Popen([GOVHALL, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=slave, env=env(**(extra_env or {})))
        os.close(slave)
        self.master, self.chunks, self.lock = master, [], threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:  # EIO: the other side is closed
                return
            if not data:
                return
            with self.lock:
                self.chunks.append(data)

    @property
    def screen(self) -> str:
        with self.lock:
            return b"".join(self.chunks).decode("utf-8", "replace")

    def wait_for(self, pattern: str, timeout: float = 60) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.screen)
            if found:
                return found
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        pytest.fail(f"never drawn: {pattern!r}; the terminal showed {self.screen[-2000:]!r}")

    def finish(self, timeout: float = 120) -> tuple[int, str, str]:
        out, _ = self.proc.communicate(timeout=timeout)
        self.reader.join(10)
        os.close(self.master)
        return self.proc.returncode, out.decode("utf-8"), self.screen


BAR = re.compile(r"(\d+)/(\d+) \[\d\d:\d\d<(\d\d:\d\d), ([\d.]+) tickets/s\]")


def test_a_run_on_a_terminal_shows_total_rate_and_time_left(tmp_path):
    config = demo(tmp_path, 3000)
    code, out, screen = Terminal("run", "--config", str(config), "--now", RUN_NOW).finish()
    assert code == 0, screen
    assert "seeding demo helpdesk" in screen and re.search(r"/\d+(\.\d+)?[kM]?B? \[", screen), screen
    bars = [m for m in BAR.finditer(screen) if "govhall run: pulling" in screen[max(0, m.start() - 200):m.start()]]
    assert bars, screen
    assert {m.group(2) for m in bars} == {"3000"}  # the total, as the local adapter counts it
    assert any(float(m.group(4)) > 0 for m in bars)  # the rate, and the time left in group 3
    assert "Traceback" not in screen and "pulled 3000" in out
    assert screen.rstrip().endswith("\r") or "\r" in screen  # drawn in place, then cleared (leave=False)


@pytest.mark.parametrize("how", ["-q", "TERM=dumb", "--log-level=ERROR"])
def test_no_bar_with_q_or_a_dumb_terminal(tmp_path, how):
    config = demo(tmp_path, 300)
    args = ["run", "--config", str(config), "--now", RUN_NOW]
    extra = {}
    if how == "TERM=dumb":
        extra["TERM"] = "dumb"
    else:
        args.append(how)
    code, out, screen = Terminal(*args, extra_env=extra).finish()
    assert code == 0, screen
    assert "tickets/s" not in screen and "seeding" not in screen and "\r" not in screen.replace("\r\n", ""), screen
    assert "pulled 300" in out


def test_no_bar_on_a_pipe(tmp_path):
    config = demo(tmp_path, 300)
    done = subprocess.run([GOVHALL, "run", "--config", str(config), "--now", RUN_NOW], capture_output=True,
                          text=True, env=env(), timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and "pulled 300" in done.stdout


def test_bars_count_without_drawing_off_a_terminal():
    bars = Progress(show=False)
    with bars:
        bar = bars("x", 10)
        bar.update(4)
    assert bar.n == 4 and bars.bars == []
    assert not wanted(None, io.StringIO())


def test_a_log_line_clears_the_bar_and_it_is_drawn_again_below(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty = Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    with Progress(show=True, stream=tty) as bars:
        bar = bars("work", 10)
        bar.update(5)
        print("govhall: warning: 429 from zendesk, waiting 30 s, attempt 2/6", file=sys.stderr)
        bar.update(5)
    assert sys.stderr is tty
    text = tty.getvalue()
    before, after = text.split("govhall: warning: 429 from zendesk, waiting 30 s, attempt 2/6\n")
    assert "work:" in before and "work:  50%" in after  # drawn again below the line


# ---------------------------------------------------------------- Ctrl-C and SIGTERM in govhall run

def helpdesk_of(config: Path) -> dict[str, dict]:
    from govhall_adapters.local import LocalHelpdesk

    helpdesk = LocalHelpdesk(config.parent / ".govhall" / "helpdesk.sqlite")
    try:
        return {t["id"]: t for t in helpdesk.all()}
    finally:
        helpdesk.close()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The helpdesk after one uninterrupted run over 5,000 tickets."""
    config = demo(tmp_path_factory.mktemp("reference"), 5000)
    done = subprocess.run([GOVHALL, "run", "--config", str(config), "--now", RUN_NOW], capture_output=True,
                          text=True, env=env(), timeout=300)
    assert done.returncode == 0, done.stderr
    return helpdesk_of(config)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_run_says_so_and_the_next_one_resumes(tmp_path, reference, sig):
    config = demo(tmp_path, 5000)
    term = Terminal("run", "--config", str(config), "--now", RUN_NOW)
    term.wait_for(r"govhall run: pulling:.*?\b([1-9]\d{2,3})/5000")  # some pages written, most not
    term.proc.send_signal(sig)
    code, out, screen = term.finish()
    assert code == 130, screen
    message = re.search(r"govhall run: interrupted after (\d+) tickets; the next run resumes\r?\n", screen)
    assert message, screen
    assert 0 < int(message.group(1)) < 5000
    assert "Traceback" not in screen and "KeyboardInterrupt" not in screen
    assert out == ""  # no summary of a run cut short
    done = subprocess.run([GOVHALL, "run", "--config", str(config), "--now", RUN_NOW], capture_output=True,
                          text=True, env=env(), timeout=300)
    assert done.returncode == 0, done.stderr
    after = helpdesk_of(config)
    assert after == reference  # the same tags, fields and notes, none twice
    again = subprocess.run([GOVHALL, "run", "--config", str(config), "--now", RUN_NOW, "--json"],
                           capture_output=True, text=True, env=env(), timeout=300)
    assert again.returncode == 0 and json.loads(again.stdout)["written"] == 0


def test_sigterm_is_handled_only_during_the_run(tmp_path):
    """cmd_run restores the SIGTERM handler it found."""
    from govhall_sdk.cli.run import _sigterm_interrupts

    before = signal.getsignal(signal.SIGTERM)
    with _sigterm_interrupts():
        assert signal.getsignal(signal.SIGTERM) is not before
    assert signal.getsignal(signal.SIGTERM) is before


@pytest.mark.parametrize("value", ["-1", "0", "x", "1.5"])
def test_limit_is_a_whole_number_of_at_least_one(value, capsys):
    from govhall_sdk.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["run", "--limit", value])
    assert exc.value.code == 2
    assert "--limit" in capsys.readouterr().err


def test_run_help_has_an_example_and_the_exit_statuses(capsys):
    from govhall_sdk.cli import main

    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = capsys.readouterr().out
    assert "govhall run --config govhall.toml --dry-run --limit 20" in text
    for code in ("0 ", "1 ", "2 ", "130 "):
        assert f"  {code}" in text, text
