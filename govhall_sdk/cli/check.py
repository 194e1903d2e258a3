"""``govhall check FILE``: evaluate a ticket file and print the results."""
from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Any

from ..reader import INPUT_FORMATS
from .errors import EXIT_OK, EXIT_USAGE, UsageError
from .options import add_options, command_epilog, config_from_args, engine_from_config, open_input, positive_int

FORMATS = {
    "json": "one JSON document: the results as they come, then the errors",
    "table": "one line per ticket, for people",
}
INPUT_FORMAT_HELP = (
    "json: one {\"tickets\": [...]} document; jsonl: JSON Lines, one ticket per line; "
    "auto (default): .jsonl/.ndjson by the extension, otherwise the first value decides "
    "(docs/tickets.md, Files)")


def cmd_check(args: argparse.Namespace) -> int:
    """Evaluate a ticket file and print the results."""
    from .check_stream import run_check

    config = config_from_args(args)
    if args.strict:
        config = config.with_strict()
    engine = engine_from_config(config)
    now = args.now or datetime.now(config.timezone)
    stream, name = open_input(args.file)
    with stream:
        fatal = run_check(stream, name, engine, now, args.format, sys.stdout,
                          jobs=args.jobs, input_format=args.input_format)
    if fatal:
        raise UsageError(f"{args.file}: {fatal}")
    return EXIT_OK


def add_check_command(sub: Any) -> None:
    """Register ``govhall check``."""
    check = sub.add_parser(
        "check", help="evaluate a ticket file (JSON or JSON Lines)",
        description="Evaluate every ticket of FILE and print each result as it comes, then the errors: "
                    "a ticket that cannot be read or validated is one error entry naming its line, "
                    "and the others are still evaluated. When the file cannot be read to its end, the tickets "
                    "before the problem are still printed, the problem is the last error, and the exit status is 2.",
        epilog=command_epilog(
            {"govhall check tickets.json --now 2025-03-14T16:00:00+08:00": "evaluate a file as of a given instant",
             "govhall check - --input-format jsonl --format table --jobs 2 < tickets.jsonl":
                 "JSON Lines from standard input, a table, two worker processes"},
            {EXIT_OK: "the file was read to its end (findings and bad tickets are not errors)",
             EXIT_USAGE: "bad usage or config, or a file that cannot be read to its end"}))
    check.add_argument("file", metavar="FILE", help="the ticket file, or - for standard input")
    add_options(check, "now", "config", "format", "lang", formats=FORMATS, default_format="json")
    check.add_argument("--input-format", choices=INPUT_FORMATS, default="auto", help=INPUT_FORMAT_HELP)
    check.add_argument("--strict", action="store_true",
                       help="make every ticket warning (an unknown event type, a misspelt field) an error: the "
                            "ticket is not evaluated (default: the config's strict, else warn on stderr)")
    check.add_argument("--jobs", type=positive_int, default=1, metavar="N",
                       help="worker processes, at least 1 (default 1); the output keeps the file's order")
    check.set_defaults(func=cmd_check)
