"""``govhall calendar``: working-day arithmetic (``add DATE N``, ``info DATE``) and
``import NOTICE``, a State Council holiday notice into the calendar file."""
from __future__ import annotations

import argparse
import json
from typing import Any

from ..config import ConfigError
from ..terminal import printable_json
from .errors import EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE, UsageError
from .options import add_options, command_epilog, config_from_args, config_path, engine_from_config, non_negative_int
from .options import parse_date


def cmd_calendar(args: argparse.Namespace) -> int:
    """Working-day arithmetic for people: ``add DATE N`` and ``info DATE``; ``import NOTICE``
    reads a State Council holiday notice into the calendar file."""
    if args.calendar_command == "import":
        return _calendar_import(args)
    engine = engine_from_config(config_from_args(args))
    cal = engine.calendar
    try:
        if args.calendar_command == "add":
            print(cal.add_working_days(args.date, args.n).isoformat())
        else:
            print(printable_json(json.dumps(cal.info(args.date), ensure_ascii=False)))  # names from calendar files
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return EXIT_OK


def _calendar_import(args: argparse.Namespace) -> int:
    """``calendar import NOTICE``: see :func:`govhall_sdk.holiday_notice.import_notice`."""
    from ..holiday_notice import ImportRefused, NoticeError, import_notice

    config = config_from_args(args)
    path, _ = config_path(args)
    try:
        return import_notice(
            args.notice,
            config=config if path is not None else None,
            config_path=path,
            file=args.file,
            yes=args.yes,
            source=engine_from_config(config).calendar.source,
        )
    except NoticeError as exc:
        raise UsageError(f"{args.notice}: {exc}") from None
    except (ImportRefused, ConfigError) as exc:
        raise UsageError(str(exc)) from None


def add_calendar_command(sub: Any) -> None:
    """Register ``govhall calendar add|info|import``."""
    calendar = sub.add_parser(
        "calendar", help="working-day arithmetic; import a State Council holiday notice",
        description="Working days as the config's calendar counts them (the State Council arrangement, "
                    "weekends, make-up working days and the config's own corrections).",
        epilog=command_epilog({
            "govhall calendar add 2025-01-24 5": "the 5th working day after 2025-01-24",
            "govhall calendar info 2025-01-26": "is 2025-01-26 a working day, and why",
            "govhall calendar import notice.txt --config govhall.toml": "read a holiday notice",
        }))
    add_options(calendar, "config")
    csub = calendar.add_subparsers(dest="calendar_command", required=True, metavar="ACTION", help="what to do")
    add = csub.add_parser(
        "add", help="the N-th working day after DATE",
        description="Print the N-th working day after DATE (YYYY-MM-DD), counted in the config's calendar.",
        epilog=command_epilog({"govhall calendar add 2025-01-24 5": "2025-02-07: the Spring Festival is skipped",
                               "govhall calendar add 2025-01-26 0": "2025-01-26 itself"},
                              {EXIT_OK: "the day was printed",
                               EXIT_USAGE: "bad usage, a bad config, or a day outside the calendar's years"}))
    add.add_argument("date", type=parse_date, help="the day to count from, YYYY-MM-DD (any day, a holiday included)")
    add.add_argument("n", type=non_negative_int, help="how many working days to add, 0 or more (0: DATE itself)")
    info = csub.add_parser(
        "info", help="is DATE a working day, and why",
        description="Print, as JSON, whether DATE is a working day in the config's calendar, and why "
                    "(weekend, holiday, make-up working day, a correction of the config).",
        epilog=command_epilog({"govhall calendar info 2025-01-26": "a Sunday that is a make-up working day"},
                              {EXIT_OK: "the day was explained",
                               EXIT_USAGE: "bad usage, a bad config, or a day outside the calendar's years"}))
    info.add_argument("date", type=parse_date, help="the day to explain, YYYY-MM-DD")
    imp = csub.add_parser(
        "import", help="read a State Council holiday notice into the calendar file",
        description="Read a State Council holiday notice (国务院办公厅关于20XX年部分节假日安排的通知), "
                    "print the days off and make-up working days it read, and, once confirmed, write that "
                    "year into the calendar file.",
        epilog=command_epilog({
            "govhall calendar import notice.txt --config govhall.toml": "show, ask, then write",
            "govhall calendar import - --yes --file holidays-cn.toml < notice.txt": "no questions",
        }, {EXIT_OK: "written (or already there)",
            EXIT_INCOMPLETE: "not confirmed, or the config key could not be added",
            EXIT_USAGE: "bad usage, an unreadable notice, a malformed calendar file"}))
    imp.add_argument("notice", help="the notice as UTF-8 text, or - for standard input")
    imp.add_argument("--yes", action="store_true", help="write without asking (needed when not on a terminal)")
    imp.add_argument("--file", metavar="FILE",
                     help="the calendar file (default: the config's [calendar] file, else holidays-cn.toml beside it)")
    for p in (add, info, imp):
        add_options(p, "config")
        p.set_defaults(func=cmd_calendar)
