"""``govhall check FILE``: evaluate a ticket file and print the results."""
from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Any

from .errors import EXIT_OK, UsageError
from .options import add_options, config_from_args, engine_from_config

FORMATS = {
    "json": "one JSON document: the results as they come, then the errors",
    "table": "one line per ticket, for people",
}


def cmd_check(args: argparse.Namespace) -> int:
    """Evaluate a ticket file and print the results."""
    from .check_stream import run_check

    config = config_from_args(args)
    engine = engine_from_config(config)
    now = args.now or datetime.now(config.timezone)
    try:
        stream = open(args.file, encoding="utf-8") if args.file != "-" else sys.stdin
    except OSError as exc:
        raise UsageError(f"{args.file}: {exc.strerror}") from None
    with stream:
        fatal = run_check(stream, args.file, engine, now, args.format, sys.stdout, jobs=args.jobs)
    if fatal:
        raise UsageError(f"{args.file}: {fatal}")
    return EXIT_OK


def add_check_command(sub: Any) -> None:
    """Register ``govhall check``."""
    check = sub.add_parser("check", help="evaluate a ticket file (JSON or JSON Lines)")
    check.add_argument("file", help="the ticket file, or - for standard input")
    add_options(check, "now", "config", "format", "lang", formats=FORMATS, default_format="json")
    check.add_argument("--jobs", type=int, default=1, help="worker processes (output order is kept)")
    check.set_defaults(func=cmd_check)
