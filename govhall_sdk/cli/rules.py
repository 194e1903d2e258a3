"""``govhall rules`` (every finding code) and ``govhall explain CODE`` (one of them)."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..host import get_plugin_manager
from ..terminal import printable, printable_json, printable_lines
from .errors import EXIT_OK, EXIT_USAGE, UsageError
from .options import add_options, command_epilog, config_from_args

FORMATS = {
    "text": "one line per code (default)",
    "json": "a JSON list",
    "markdown": "the catalog page docs/rules.md",
}


def cmd_rules(args: argparse.Namespace) -> int:
    """List every finding code of the loaded plugins: text (one line each), JSON or the Markdown catalog."""
    from ..catalog import catalog_rows, render_markdown

    fmt = args.format or ("json" if args.json else "text")
    if args.json and fmt != "json":
        raise UsageError(f"--json is --format json; it cannot be combined with --format {fmt}")
    pm = get_plugin_manager()
    config = config_from_args(args)
    if fmt == "markdown":
        names = {plugin for plugin, _ in pm.rules.values()}
        docs = {name: getattr(pm.get_plugin(name), "__doc__", None) for name in names}
        sys.stdout.write(printable_lines(render_markdown(pm.rules, config, docs)))
        return EXIT_OK
    rows = catalog_rows(pm.rules, config)
    if fmt == "json":
        print(printable_json(json.dumps(rows, ensure_ascii=False, indent=2, default=str)))
        return EXIT_OK
    for r in rows:  # a plugin's catalog text: its controls escaped (it is no ticket data: nothing to scrub)
        esc = f" escalation {r['escalation']}" if r["escalation"] else ""
        limits = " ".join(f"{k}={v}" for k, v in r["thresholds"].items())
        print(printable(f"{r['code']:<36} {r['severity']:<9} {r['clause']}{esc}  {limits}".rstrip()))
    return EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    """Print a code's clause text and what the staff should do."""
    pm = get_plugin_manager()
    if args.code not in pm.rules:
        raise UsageError(f"unknown code {args.code!r}; govhall rules lists them")
    plugin, info = pm.rules[args.code]
    lang = getattr(args, "lang", None) or config_from_args(args).lang
    en = lang == "en"
    # a plugin's catalog text: its controls escaped, its line breaks kept
    print(printable(f"{info.code}  ({info.severity}, {plugin})"))
    print(printable_lines(f"{'Clause' if en else '条款'}: {info.clause}"))
    if info.text:
        print(printable_lines(info.text))
    action = info.action_en if en else info.action
    if action:
        print(printable_lines(f"{'What to do' if en else '应当'}: {action}"))
    return EXIT_OK


def add_rules_commands(sub: Any) -> None:
    """Register ``govhall rules`` and ``govhall explain``."""
    rules = sub.add_parser(
        "rules", help="list every finding code",
        description="List every finding code of the loaded rule plugins: its severity, clause, escalation and "
                    "thresholds (the config's policy values).",
        epilog=command_epilog({"govhall rules": "one code a line",
                               "govhall rules --json --config govhall.toml": "with this config's thresholds, as JSON",
                               "govhall rules --format markdown > docs/rules.md": "the catalog page"}))
    add_options(rules, "config", "format", "json", "lang", formats=FORMATS,
                help={"json": "the same as --format json"})
    rules.set_defaults(func=cmd_rules)

    explain = sub.add_parser(
        "explain", help="explain a finding code",
        description="Print a finding code's clause, its text and what the staff should do.",
        epilog=command_epilog({"govhall explain otn.notice_incomplete": "in Chinese (the default)",
                               "govhall explain tl.overdue --lang en": "in English"},
                              {EXIT_OK: "the code was explained", EXIT_USAGE: "an unknown code, or a bad config"}))
    explain.add_argument("code", help="a finding code, e.g. otn.notice_incomplete (govhall rules lists them)")
    add_options(explain, "lang", "config")
    explain.set_defaults(func=cmd_explain)
