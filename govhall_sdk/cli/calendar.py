"""``govhall calendar``: working-day arithmetic (``add DATE N``, ``info DATE``) and
``import NOTICE``, a State Council holiday notice into the calendar file."""
from __future__ import annotations

import argparse
import json
from typing import Any

from ..config import ConfigError
from ..terminal import printable_json
from .errors import EXIT_OK, UsageError
from .options import add_options, config_from_args, engine_from_config, parse_date


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
    try:
        return import_notice(
            args.notice,
            config=config if args.config else None,
            config_path=args.config,
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
    calendar = sub.add_parser("calendar", help="working-day arithmetic; import a State Council holiday notice")
    add_options(calendar, "config")
    csub = calendar.add_subparsers(dest="calendar_command", required=True, help="what to do")
    add = csub.add_parser("add", help="the N-th working day after DATE")
    add.add_argument("date", type=parse_date, help="the day to count from, YYYY-MM-DD (any day, a holiday included)")
    add.add_argument("n", type=int, help="how many working days to add (0: DATE itself)")
    info = csub.add_parser("info", help="is DATE a working day, and why")
    info.add_argument("date", type=parse_date, help="the day to explain, YYYY-MM-DD")
    imp = csub.add_parser(
        "import", help="read a State Council holiday notice (国务院办公厅关于20XX年部分节假日安排的通知) into the calendar file"
    )
    imp.add_argument("notice", help="the notice as UTF-8 text, or - for standard input")
    imp.add_argument("--yes", action="store_true", help="write without asking (needed when not on a terminal)")
    imp.add_argument("--file", help="the calendar file (default: the config's [calendar] file, else holidays-cn.toml beside it)")
    for p in (add, info, imp):
        add_options(p, "config")
        p.set_defaults(func=cmd_calendar)
