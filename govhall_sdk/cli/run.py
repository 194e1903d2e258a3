"""``govhall run``: the main job, for cron, systemd timers and CronJobs."""
from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from datetime import datetime
from typing import Any

from ..state import state_error
from ..terminal import printable, printable_json, shown, shown_json


def _progress(stream: Any) -> Any:
    """A one-line progress counter on a terminal; nothing otherwise."""
    if not (hasattr(stream, "isatty") and stream.isatty()):
        return None
    done = [0]

    def tick(n: int) -> None:
        done[0] += n
        stream.write(f"\rgovhall run: {done[0]} tickets processed")
        stream.flush()

    return tick


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
    if s.dry_run:
        from ..report import patch_dict

        for tid, patch in s.patches:
            say(f"  patch {tid}: {printable_json(json.dumps(patch_dict(patch), ensure_ascii=False))}")
    for tid, reason in sorted(s.failed.items()):
        say(f"  NOT WRITTEN {tid}: {reason}")
    for tid, reason in sorted(s.errors.items()):
        say(f"  ERROR {tid}: {reason}")


def cmd_run(args: argparse.Namespace) -> int:
    """Pull, evaluate and write back; exit 1 when something could not be read or written."""
    from ..config import ConfigError
    from ..state import StateError, StateStore
    from ..sync import Sync, make_adapter
    from .options import EXIT_INCOMPLETE, EXIT_OK, UsageError
    from .options import config_from_args as _config, engine_from_config as _engine

    config = _config(args)
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
    tick = None if args.json else _progress(sys.stderr)
    try:
        summary = Sync(engine, adapter, state).run(now, dry_run=args.dry_run, limit=args.limit,
                                                   since=args.since, progress=tick, full=args.full)
    except sqlite3.Error as exc:  # the state store or the local helpdesk failed mid-run: its transaction rolled back
        raise UsageError(str(state_error(config.state_path, exc))) from None
    finally:
        adapter.close()
        state.close()
    if tick:
        sys.stderr.write("\n")
    if args.json:
        print(shown_json(json.dumps(summary.as_dict(), ensure_ascii=False, indent=2)))
    else:
        print_summary(summary, sys.stdout)
    return EXIT_OK if summary.ok else EXIT_INCOMPLETE


def add_run_command(sub: Any) -> None:
    """Register ``govhall run``."""
    from .options import add_options

    run = sub.add_parser("run", help="pull tickets, evaluate them and write back what changed")
    add_options(run, "config", help={"config": "a govhall.toml (default: built-in defaults, local adapter)"})
    run.add_argument("--dry-run", action="store_true", help="print the patches, write nothing")
    add_options(run, "json", help={"json": "print the summary as JSON"})
    run.add_argument("--since", help="start from this adapter cursor instead of the stored one")
    run.add_argument("--limit", type=int, help="process at most this many tickets")
    run.add_argument("--adapter", help="use the [adapters.NAME] section of the config")
    add_options(run, "now", "lang")
    run.add_argument("--full", action="store_true",
                     help="read and evaluate every ticket, as when the rules change (govhall's own last writes too)")
    run.add_argument("--wait", type=float, metavar="SECONDS",
                     help="when another run holds the state store, wait up to SECONDS for it (default: exit 2 at once)")
    run.set_defaults(func=cmd_run)
