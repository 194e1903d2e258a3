"""``govhall plugins``: the loaded plugins, their distributions, versions and hooks."""
from __future__ import annotations

import argparse
import json
from typing import Any

from ..host import get_plugin_manager
from ..terminal import shown, shown_json
from .errors import EXIT_OK
from .options import add_options, command_epilog


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
        print(shown_json(json.dumps({"plugins": rows, "failed": failed}, ensure_ascii=False, indent=2)))
        return EXIT_OK
    for i in infos:  # names, versions and errors are a plugin's own text: shown, like ticket data
        origin = f"{i.distribution} {i.version}" if i.distribution else "(registered in process)"
        print(shown(f"{i.name}  [{origin}]"))
        for hook in i.hooks:
            print(shown(f"    {hook}"))
    for name, error in sorted(pm.load_failures.items()):
        print(shown(f"{name}  [FAILED TO LOAD: {error}]"))
    return EXIT_OK


def add_plugins_command(sub: Any) -> None:
    """Register ``govhall plugins``."""
    plugins = sub.add_parser(
        "plugins", help="list the loaded plugins",
        description="List the loaded plugins (rules, calendars, adapters, commands): each one's distribution, "
                    "version and hooks, then the plugins that failed to load and why.",
        epilog=command_epilog({"govhall plugins": "one plugin a line, its hooks below it",
                               "govhall plugins --json": "the same as JSON, for programs"}, (EXIT_OK,)))
    add_options(plugins, "json", help={"json": "print the plugins and the load failures as JSON"})
    plugins.set_defaults(func=cmd_plugins)
