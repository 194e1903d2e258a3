"""The ``govhall`` parser and entry point: every command's module adds its own sub-parser."""
from __future__ import annotations

import argparse
import gc
import sys
import warnings
from typing import Sequence

from .. import __version__
from ..calendar import UnpublishedYearWarning
from ..host import PluginError, get_plugin_manager
from ..terminal import shown
from .calendar import add_calendar_command
from .check import add_check_command
from .errors import EXIT_USAGE, UsageError
from .logs import configure_logging
from .options import add_global_options, share_global_options
from .plugins import add_plugins_command
from .rules import add_rules_commands

DESCRIPTION = "The govhall command line: check, run, plugins, rules, explain, calendar."
EPILOG = (
    "--config, --lang, -v, -q and --log-level may be given before or after the command (govhall --config F rules, "
    "govhall rules --config F); a value given after it wins. "
    "Exit status: 0 when the command ran (findings are not errors), 1 when a run could not write everything, "
    "2 on bad usage, a bad config or an unreadable file."
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command, plugin commands included."""
    from .run import add_run_command

    parser = argparse.ArgumentParser(prog="govhall", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"govhall {__version__}")
    add_global_options(parser)
    sub = parser.add_subparsers(dest="command", required=True, help="the command (govhall COMMAND --help: its options)")
    add_check_command(sub)
    add_plugins_command(sub)
    add_rules_commands(sub)
    add_calendar_command(sub)
    add_run_command(sub)
    try:
        get_plugin_manager().add_commands(sub)
    except PluginError as exc:  # strict mode: report it when a command runs, keep --help working
        parser.set_defaults(plugin_error=exc)
    share_global_options(parser)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as one line for people, ``govhall: warning: ...``, without a source line."""
    print(f"govhall: warning: {shown(message)}", file=file or sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``govhall`` script."""
    warnings.showwarning = _show_warning
    warnings.simplefilter("once", UnpublishedYearWarning)
    parser = build_parser()
    args = parser.parse_args(argv)
    gc.freeze()  # plugins, config and calendar live as long as the process: keep them out of every collection
    try:
        configure_logging(args)
        if getattr(args, "plugin_error", None):
            raise args.plugin_error
        return args.func(args)
    except (UsageError, PluginError) as exc:
        print(f"govhall: error: {shown(exc)}", file=sys.stderr)
        return EXIT_USAGE
