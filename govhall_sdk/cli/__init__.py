"""The ``govhall`` command line: check, run, plugins, rules, explain, calendar.

Exit status: 0 when the command ran (findings are not errors), 1 when a run
could not write everything, 2 on bad usage, a bad config or an unreadable file.

One module per command (:mod:`.check`, :mod:`.plugins`, :mod:`.rules`,
:mod:`.calendar`; ``govhall run`` is :mod:`govhall_sdk.cli.run`), the shared
options and helpers in :mod:`.options`, the exit statuses in :mod:`.errors`, the
parser and :func:`main` in :mod:`.app`. Plugin commands (the
``govhall_add_commands`` hook) use the helpers exported here::

    from govhall_sdk.cli import EXIT_OK, UsageError, add_options, config_from_args

    def _cmd(args):
        config = config_from_args(args)   # --config / --lang, errors as UsageError
        ...
        return EXIT_OK

    @hookimpl
    def govhall_add_commands(subparsers):
        p = subparsers.add_parser("mine", help="...")
        add_options(p, "config", "json")
        p.set_defaults(func=_cmd)
"""
from __future__ import annotations

from .app import build_parser, main
from .errors import EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE, UsageError
from .options import GLOBAL_OPTIONS, add_options, config_from_args, engine_from_config, parse_date, parse_instant

__all__ = [
    "EXIT_INCOMPLETE", "EXIT_OK", "EXIT_USAGE", "GLOBAL_OPTIONS", "UsageError",
    "add_options", "build_parser", "config_from_args", "engine_from_config", "main", "parse_date", "parse_instant",
]
