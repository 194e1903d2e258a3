"""The ``govhall`` command line: check, run, plugins, rules, explain, calendar.

Exit status: 0 when the command ran (findings are not errors), 1 when a run
could not write everything, 2 on bad usage, a bad config or an unreadable file,
130 when interrupted (Ctrl-C, SIGTERM), 141 when the output pipe was closed
(``govhall rules | head -1``).

The config of every command is ``--config``, else ``$GOVHALL_CONFIG``, else
``./govhall.toml`` if it exists, else the built-in defaults (with which nothing
is written: ``govhall run`` refuses them). ``govhall completion bash|zsh|fish``
prints a completion script; ``python -m govhall_sdk`` is ``govhall``.

One module per command (:mod:`.check`, :mod:`.plugins`, :mod:`.rules`,
:mod:`.calendar`, :mod:`.completion`; ``govhall run`` is :mod:`govhall_sdk.cli.run`), the shared
options and helpers in :mod:`.options`, the exit statuses in :mod:`.errors`, the
parser and :func:`main` in :mod:`.app`. Plugin commands (the
``govhall_add_commands`` hook) use the helpers exported here::

    from govhall_sdk.cli import EXIT_OK, UsageError, add_options, command_epilog, config_from_args, positive_int

    def _cmd(args):
        config = config_from_args(args)   # --config / --lang, errors as UsageError
        ...
        return EXIT_OK

    @hookimpl
    def govhall_add_commands(subparsers):
        p = subparsers.add_parser("mine", help="...",
                                  epilog=command_epilog({"govhall mine --json": "what it prints"}))
        add_options(p, "config", "json")
        p.add_argument("--limit", type=positive_int, help="at most this many")
        p.set_defaults(func=_cmd)
"""
from __future__ import annotations

from .app import build_parser, main
from .errors import EXIT_BROKEN_PIPE, EXIT_INCOMPLETE, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, UsageError
from .options import (GLOBAL_OPTIONS, HelpFormatter, add_options, collection_paused, command_epilog, config_from_args,
                      config_path, engine_from_config, non_negative_float, non_negative_int, parse_date, parse_instant,
                      parse_now, positive_int)

__all__ = [
    "EXIT_BROKEN_PIPE", "EXIT_INCOMPLETE", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "GLOBAL_OPTIONS",
    "HelpFormatter", "UsageError", "add_options", "build_parser", "collection_paused", "command_epilog",
    "config_from_args", "config_path", "engine_from_config", "main", "non_negative_float", "non_negative_int",
    "parse_date", "parse_instant", "parse_now", "positive_int",
]
