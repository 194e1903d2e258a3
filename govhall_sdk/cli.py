"""The ``govhall`` command line: check, run, plugins, rules, explain, calendar.

Exit status: 0 when the command ran (findings are not errors), 1 when a run
could not write everything, 2 on bad usage, a bad config or an unreadable file.
"""
from __future__ import annotations

import argparse
import gc
import json
import sys
import warnings
from datetime import date, datetime
from typing import Sequence

from . import __version__
from .calendar import UnpublishedYearWarning
from .config import Config, ConfigError, default_config, load_config
from .host import PluginError, get_plugin_manager

EXIT_OK, EXIT_INCOMPLETE, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad usage, config or input file: printed as one line, exit status 2."""


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 instant: {text!r}") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"needs a UTC offset, e.g. {text}+08:00")
    return value


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _config(args: argparse.Namespace) -> Config:
    pm = get_plugin_manager()
    try:
        config = load_config(args.config, pm) if getattr(args, "config", None) else default_config(pm)
        if getattr(args, "lang", None):
            config = config.with_lang(args.lang)
    except ConfigError as exc:
        raise UsageError(f"config: {exc}") from None
    return config


def _engine(config: Config):
    from .engine import Engine

    try:
        return Engine(config)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def cmd_check(args: argparse.Namespace) -> int:
    """Evaluate a ticket file and print the results."""
    from .check import run_check

    config = _config(args)
    engine = _engine(config)
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


def cmd_plugins(args: argparse.Namespace) -> int:
    """List the loaded plugins, their distributions, versions and hooks."""
    pm = get_plugin_manager()
    infos = pm.plugin_infos()
    if args.json:
        rows = [
            {"name": i.name, "distribution": i.distribution, "version": i.version, "hooks": list(i.hooks)}
            for i in infos
        ]
        failed = [{"name": n, "error": e} for n, e in sorted(pm.load_failures.items())]
        print(json.dumps({"plugins": rows, "failed": failed}, ensure_ascii=False, indent=2))
        return EXIT_OK
    for i in infos:
        origin = f"{i.distribution} {i.version}" if i.distribution else "(registered in process)"
        print(f"{i.name}  [{origin}]")
        for hook in i.hooks:
            print(f"    {hook}")
    for name, error in sorted(pm.load_failures.items()):
        print(f"{name}  [FAILED TO LOAD: {error}]")
    return EXIT_OK


def cmd_rules(args: argparse.Namespace) -> int:
    """List every finding code of the loaded plugins: text (one line each), JSON or the Markdown catalog."""
    from .catalog import catalog_rows, render_markdown

    fmt = args.format or ("json" if args.json else "text")
    if args.json and fmt != "json":
        raise UsageError(f"--json is --format json; it cannot be combined with --format {fmt}")
    pm = get_plugin_manager()
    config = _config(args)
    if fmt == "markdown":
        names = {plugin for plugin, _ in pm.rules.values()}
        docs = {name: getattr(pm.get_plugin(name), "__doc__", None) for name in names}
        sys.stdout.write(render_markdown(pm.rules, config, docs))
        return EXIT_OK
    rows = catalog_rows(pm.rules, config)
    if fmt == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return EXIT_OK
    for r in rows:
        esc = f" escalation {r['escalation']}" if r["escalation"] else ""
        limits = " ".join(f"{k}={v}" for k, v in r["thresholds"].items())
        print(f"{r['code']:<36} {r['severity']:<9} {r['clause']}{esc}  {limits}".rstrip())
    return EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    """Print a code's clause text and what the staff should do."""
    pm = get_plugin_manager()
    if args.code not in pm.rules:
        raise UsageError(f"unknown code {args.code!r}; `govhall rules` lists them")
    plugin, info = pm.rules[args.code]
    en = (args.lang or "zh") == "en"
    print(f"{info.code}  ({info.severity}, {plugin})")
    print(f"{'Clause' if en else '条款'}: {info.clause}")
    if info.text:
        print(info.text)
    action = info.action_en if en else info.action
    if action:
        print(f"{'What to do' if en else '应当'}: {action}")
    return EXIT_OK


def cmd_calendar(args: argparse.Namespace) -> int:
    """Working-day arithmetic for people: ``add DATE N`` and ``info DATE``; ``import NOTICE``
    reads a State Council holiday notice into the calendar file."""
    if args.calendar_command == "import":
        return _calendar_import(args)
    engine = _engine(_config(args))
    cal = engine.calendar
    try:
        if args.calendar_command == "add":
            print(cal.add_working_days(args.date, args.n).isoformat())
        else:
            print(json.dumps(cal.info(args.date), ensure_ascii=False))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return EXIT_OK


def _calendar_import(args: argparse.Namespace) -> int:
    """``calendar import NOTICE``: see :func:`govhall_sdk.holiday_notice.import_notice`."""
    from .holiday_notice import ImportRefused, NoticeError, import_notice

    config = _config(args)
    try:
        return import_notice(
            args.notice,
            config=config if args.config else None,
            config_path=args.config,
            file=args.file,
            yes=args.yes,
            source=_engine(config).calendar.source,
        )
    except NoticeError as exc:
        raise UsageError(f"{args.notice}: {exc}") from None
    except (ImportRefused, ConfigError) as exc:
        raise UsageError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command (each module adds its own)."""
    parser = argparse.ArgumentParser(prog="govhall", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"govhall {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check", help="evaluate a ticket file (JSON or JSON Lines)")
    check.add_argument("file", help="the ticket file, or - for standard input")
    check.add_argument("--now", type=_instant, help="evaluate as of this instant (default: now)")
    check.add_argument("--config", help="a govhall.toml")
    check.add_argument("--format", choices=("json", "table"), default="json")
    check.add_argument("--lang", choices=("zh", "en"))
    check.add_argument("--jobs", type=int, default=1, help="worker processes (output order is kept)")
    check.set_defaults(func=cmd_check)

    plugins = sub.add_parser("plugins", help="list the loaded plugins")
    plugins.add_argument("--json", action="store_true")
    plugins.set_defaults(func=cmd_plugins)

    rules = sub.add_parser("rules", help="list every finding code")
    rules.add_argument("--config")
    rules.add_argument("--format", choices=("text", "json", "markdown"),
                       help="text (default): one line per code; json; markdown: the catalog page docs/rules.md")
    rules.add_argument("--json", action="store_true", help="the same as --format json")
    rules.set_defaults(func=cmd_rules)

    explain = sub.add_parser("explain", help="explain a finding code")
    explain.add_argument("code")
    explain.add_argument("--lang", choices=("zh", "en"))
    explain.set_defaults(func=cmd_explain)

    calendar = sub.add_parser("calendar", help="working-day arithmetic; import a State Council holiday notice")
    calendar.add_argument("--config")
    csub = calendar.add_subparsers(dest="calendar_command", required=True)
    add = csub.add_parser("add", help="the N-th working day after DATE")
    add.add_argument("date", type=_date)
    add.add_argument("n", type=int)
    info = csub.add_parser("info", help="is DATE a working day, and why")
    info.add_argument("date", type=_date)
    imp = csub.add_parser(
        "import", help="read a State Council holiday notice (国务院办公厅关于20XX年部分节假日安排的通知) into the calendar file"
    )
    imp.add_argument("notice", help="the notice as UTF-8 text, or - for standard input")
    imp.add_argument("--yes", action="store_true", help="write without asking (needed when not on a terminal)")
    imp.add_argument("--file", help="the calendar file (default: the config's [calendar] file, else holidays-cn.toml beside it)")
    for p in (add, info, imp):
        p.add_argument("--config", default=argparse.SUPPRESS, help="a govhall.toml")
        p.set_defaults(func=cmd_calendar)
    from .run_command import add_run_command

    add_run_command(sub)
    try:
        get_plugin_manager().add_commands(sub)
    except PluginError as exc:  # strict mode: report it when a command runs, keep --help working
        parser.set_defaults(plugin_error=exc)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as one line for people, ``govhall: warning: ...``, without a source line."""
    print(f"govhall: warning: {message}", file=file or sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``govhall`` script."""
    warnings.showwarning = _show_warning
    warnings.simplefilter("once", UnpublishedYearWarning)
    parser = build_parser()
    args = parser.parse_args(argv)
    gc.freeze()  # plugins, config and calendar live as long as the process: keep them out of every collection
    try:
        if getattr(args, "plugin_error", None):
            raise args.plugin_error
        return args.func(args)
    except (UsageError, PluginError) as exc:
        print(f"govhall: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
