"""``govhall run``: the main job, for cron, systemd timers and CronJobs.

On a terminal it draws progress bars (:mod:`.progress`): seeding the demo
helpdesk, the changed tickets (with their total when the adapter can count
them), the tickets due by time. Ctrl-C or SIGTERM ends it with ``govhall run:
interrupted after N tickets; the next run resumes`` and exit status 130: the
cursor and the schedules are stored per page in one transaction, so the next
run reads again from the first page not fully written and writes nothing twice.
"""
from __future__ import annotations

import argparse
import json
import signal
import sqlite3
import sys
import threading
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Iterator

from ..terminal import printable, printable_json, shown, shown_json
from .errors import EXIT_INCOMPLETE, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from .progress import Progress, wanted

#: The label of each stage's bar (short: an 80-column terminal keeps the count, the rate and the time left).
STAGES = {"changed": "govhall run: pulling", "due": "govhall run: due by time"}


class _RunProgress:
    """The bars of one run, and how many tickets it has done (counted even when nothing is drawn)."""

    def __init__(self, bars: Progress):
        self.bars, self.bar, self.done = bars, None, 0

    def stage(self, what: str, total: int | None) -> None:
        if self.bar is not None:
            self.bar.close()
        self.bar = self.bars(STAGES.get(what, f"govhall run: {what}"), total) if total != 0 else None

    def tick(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """While the run lasts, SIGTERM ends it as Ctrl-C does (KeyboardInterrupt); the previous handler is
    restored after. Only the main thread can install one: elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def print_summary(summary: Any, out: Any) -> None:
    """The human-readable summary of a run; every line :func:`~govhall_sdk.terminal.shown` (ticket data escaped)."""
    def say(line: str) -> None:
        print(shown(line), file=out)

    s = summary
    mode = " (dry run: nothing written)" if s.dry_run else ""
    say(f"govhall run: adapter {s.adapter}, now {s.now.isoformat()}{mode}")
    if s.full_reason:
        say(f"  reading every ticket: {s.full_reason}")
    say(f"  pulled {s.pulled}, due by time {s.due}, evaluated {s.evaluated}, "
        f"written {s.written} (notes {s.notes}, escalations {s.escalations}) in {s.seconds:.2f} s")
    if s.provisional:
        say(f"  warning: {s.provisional} clocks are provisional: their deadlines reach into a year whose holiday "
            "arrangement is not published (statutory holidays only); import the State Council notice with "
            "`govhall calendar import NOTICE`")
    if s.lights:
        say("  lights: " + ", ".join(f"{k} {v}" for k, v in sorted(s.lights.items())))
    if s.findings:
        say("  findings by code:")
        for code, n in sorted(s.findings.items()):
            say(f"    {printable(code):<36} {n}")
    if s.on_record:
        say(f"  on record (every ticket evaluated so far, not only this run's): {s.on_record} tickets; lights now: "
            + ", ".join(f"{k} {v}" for k, v in sorted(s.lights_on_record.items()))
            + f"; findings now: {sum(s.findings_on_record.values())} (govhall report: the supervisors' reports)")
    if s.dry_run:
        from ..report import patch_dict

        for tid, patch in s.patches:
            say(f"  patch {tid}: {printable_json(json.dumps(patch_dict(patch), ensure_ascii=False))}")
    if s.gone:
        say(f"  no longer on the helpdesk (deleted or merged), dropped from the schedule: {len(s.gone)} ("
            + ", ".join(sorted(s.gone)[:10]) + (", ..." if len(s.gone) > 10 else "") + ")")
    for tid, reason in sorted(s.not_taken.items()):
        say(f"  NOT TAKEN {tid}: {reason}")
    for tid, reason in sorted(s.failed.items()):
        say(f"  NOT WRITTEN {tid}: {reason}")
    for tid, reason in sorted(s.errors.items()):
        say(f"  ERROR {tid}: {reason}")


def cmd_run(args: argparse.Namespace) -> int:
    """Pull, evaluate and write back; exit 1 when something could not be read or written, 130 when interrupted."""
    progress = _RunProgress(Progress(wanted(args)))
    try:
        with _sigterm_interrupts():
            return _run(args, progress)
    except KeyboardInterrupt:
        print(f"govhall run: interrupted after {progress.done} tickets; the next run resumes", file=sys.stderr)
        return EXIT_INTERRUPTED


def _run(args: argparse.Namespace, progress: _RunProgress) -> int:
    from ..config import ConfigError
    from ..state import StateError, StateStore
    from ..sync import Sync, make_adapter
    from .options import UsageError
    from .options import config_from_args as _config, engine_from_config as _engine

    config = _config(args)
    if args.strict:
        config = config.with_strict()
    engine = _engine(config)
    failures = engine.pm.load_failures
    if failures and not args.dry_run:
        name, error = sorted(failures.items())[0]
        raise UsageError(f"plugin {name!r} failed to load ({error}): govhall run writes nothing without it, "
                         f"since its tags and notes would be taken for cleared; fix it, or leave it out on purpose "
                         f"with GOVHALL_DISABLE_PLUGINS={name}")
    if args.adapter:
        named = config.adapters.get(args.adapter)
        if named is None:
            raise UsageError(f"--adapter {args.adapter}: no [adapters.{args.adapter}] section in the config")
        config = config.with_adapter(named)
    try:
        state = StateStore(config.state_path)
    except StateError as exc:
        raise UsageError(str(exc)) from None
    try:
        state.lock(args.wait)  # one run at a time, taken before the adapter seeds or pulls anything
        adapter = make_adapter(config, engine.pm)
    except (StateError, ConfigError) as exc:
        state.close()
        raise UsageError(f"config: {exc}" if isinstance(exc, ConfigError) else str(exc)) from None
    now = args.now or datetime.now(config.timezone)
    if hasattr(adapter, "progress"):  # an adapter that shows long work of its own (the local one's seeding)
        adapter.progress = progress.bars
    try:
        with progress.bars:
            summary = Sync(engine, adapter, state).run(now, dry_run=args.dry_run, limit=args.limit,
                                                       since=args.since, progress=progress.tick, full=args.full,
                                                       stage=progress.stage)
    except sqlite3.Error as exc:  # the state store or the local helpdesk failed mid-run: its transaction rolled back
        from ..state import state_error

        raise UsageError(str(state_error(config.state_path, exc))) from None
    finally:
        adapter.close()
        state.close()
    if args.json:
        print(shown_json(json.dumps(summary.as_dict(), ensure_ascii=False, indent=2)))
    else:
        print_summary(summary, sys.stdout)
    return EXIT_OK if summary.ok else EXIT_INCOMPLETE


def add_run_command(sub: Any) -> None:
    """Register ``govhall run``."""
    from .options import add_options, command_epilog, non_negative_float, positive_int

    epilog = command_epilog(
        {"govhall run --config govhall.toml --dry-run --limit 20": "see what 20 tickets would get, write nothing",
         "govhall run --config govhall.toml": "the job of a cron entry or a systemd timer"},
        {EXIT_OK: "every ticket was read and every change written",
         EXIT_INCOMPLETE: "something was not read or written (named; the next run tries again)",
         EXIT_USAGE: "bad usage or config, a plugin not loaded, the state store in use",
         EXIT_INTERRUPTED: "interrupted (Ctrl-C or SIGTERM): the next run resumes"})
    run = sub.add_parser(
        "run", help="pull tickets, evaluate them and write back what changed",
        description="Pull the tickets changed since the last run and those due by time, evaluate them and "
                    "write back what changed (tags, fields, internal notes, escalations). Resumable: a run "
                    "stopped anywhere is taken up by the next one, and nothing is written twice. On a terminal "
                    "it shows progress bars (not with -q, on a pipe or with TERM=dumb).",
        epilog=epilog)
    add_options(run, "config", help={"config": "a govhall.toml (default: $GOVHALL_CONFIG, else ./govhall.toml); govhall run needs one"})
    run.add_argument("--dry-run", action="store_true", help="print the patches, write nothing")
    add_options(run, "json", help={"json": "print the summary as JSON"})
    run.add_argument("--since", metavar="CURSOR",
                     help="start from this adapter cursor instead of the stored one (the local adapter's is a "
                          "version number, e.g. 0 for the beginning)")
    run.add_argument("--limit", type=positive_int, metavar="N",
                     help="process at most N tickets (a whole number of at least 1), e.g. --limit 20; the next "
                          "run goes on from there")
    run.add_argument("--adapter", metavar="NAME", help="use the [adapters.NAME] section of the config")
    add_options(run, "now", "lang")
    run.add_argument("--full", action="store_true",
                     help="read and evaluate every ticket, as when the rules change (govhall's own last writes too)")
    run.add_argument("--strict", action="store_true",
                     help="make every ticket warning (an unknown event type, an unknown answer element) an error: "
                          "the ticket is not evaluated or written (default: the config's strict)")
    run.add_argument("--wait", type=non_negative_float, metavar="SECONDS",
                     help="when another run holds the state store, wait up to SECONDS for it (default: exit 2 at once)")
    run.set_defaults(func=cmd_run)
