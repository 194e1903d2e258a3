"""The options every command shares, and the helpers of plugin commands.

The shared options are declared here once: ``--config`` and ``--lang`` are
global (accepted before or after the sub-command; a value given after it
wins), ``--json``, ``--now`` and ``--format`` are added to the sub-commands
they mean something to with :func:`add_options`.

This module imports no command module, nor :mod:`govhall_sdk.cli.run`: the
command modules and ``run`` import it, never the other way round.
Everything public here is importable from :mod:`govhall_sdk.cli`.
"""
from __future__ import annotations

import argparse
from datetime import date, datetime
from typing import Any, Iterator, Mapping

from ..config import Config, ConfigError, default_config, load_config
from ..host import get_plugin_manager
from .errors import EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE, UsageError
from .logs import ENV_LEVEL, LEVELS

__all__ = [
    "EXIT_INCOMPLETE", "EXIT_OK", "EXIT_USAGE", "GLOBAL_OPTIONS", "SHARED_OPTIONS", "UsageError",
    "add_options", "config_from_args", "engine_from_config", "parse_date", "parse_instant",
]


def parse_instant(text: str) -> datetime:
    """An ``argparse`` type: an ISO 8601 instant with a UTC offset."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 instant: {text!r}") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"needs a UTC offset, e.g. {text}+08:00")
    return value


def parse_date(text: str) -> date:
    """An ``argparse`` type: a date, YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


#: The options accepted by every command, before or after its name (and at every level of it).
GLOBAL_OPTIONS = ("config", "lang", "verbose", "quiet", "log_level")

#: name -> (option string, keyword arguments of ``add_argument``); ``format`` is built by :func:`add_options`.
SHARED_OPTIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "config": ("--config", {
        "metavar": "FILE",
        "help": "the govhall.toml to use (default: built-in defaults, local adapter)",
    }),
    "lang": ("--lang", {
        "choices": ("zh", "en"),
        "help": "the language of findings and messages: zh or en (default: the config's lang, else zh)",
    }),
    "verbose": (("-v", "--verbose"), {
        "action": "count",
        "help": "log more: -v what govhall does (INFO), -vv every HTTP request too (DEBUG); secrets and "
                "phone/ID numbers are scrubbed from every line",
    }),
    "quiet": (("-q", "--quiet"), {"action": "store_true", "help": "log errors only"}),
    "log_level": ("--log-level", {
        "choices": LEVELS, "type": str.upper, "metavar": "LEVEL",
        "help": f"the log level, one of {', '.join(LEVELS)} (default: ${ENV_LEVEL}, else WARNING); "
                "wins over -v and -q",
    }),
    "json": ("--json", {"action": "store_true", "help": "print JSON"}),
    "now": ("--now", {
        "type": parse_instant,
        "metavar": "INSTANT",
        "help": "evaluate as of this instant, ISO 8601 with a UTC offset, e.g. 2025-03-14T16:00:00+08:00 "
                "(default: now)",
    }),
}
_NAMES = (*SHARED_OPTIONS, "format")


def _format_option(formats: Mapping[str, str], default: str | None) -> tuple[str, dict[str, Any]]:
    if not formats:
        raise ValueError("add_options: 'format' needs formats={choice: what it prints}")
    if default is not None and default not in formats:
        raise ValueError(f"add_options: default_format {default!r} is not one of the formats")
    parts = [f"{choice}: {text}" + (" (default)" if choice == default else "") for choice, text in formats.items()]
    return "--format", {"choices": tuple(formats), "default": default, "help": "; ".join(parts)}


def add_options(parser: argparse.ArgumentParser, *names: str, formats: Mapping[str, str] | None = None,
                default_format: str | None = None, help: Mapping[str, str] | None = None) -> argparse.ArgumentParser:
    """Add shared options to a sub-command's parser, in the order named; return the parser.

    :param names: any of ``config``, ``lang``, ``json``, ``now``, ``format``.
        ``config`` and ``lang`` are global: given here they default to "not
        given", so a value before the sub-command stands unless the option is
        given again after it. (Every sub-command accepts them even when not
        named here; naming them places them in its help, or changes their help.)
    :param formats: with ``format``: each choice and what it prints, in order.
    :param default_format: the value of ``args.format`` when ``--format`` is not
        given (None: the command decides).
    :param help: a replacement help text per option name.
    :raises ValueError: an unknown name, ``format`` without ``formats``, or help
        for an option not named.
    """
    unknown = [n for n in names if n not in _NAMES]
    if unknown:
        raise ValueError(f"add_options: unknown option {unknown[0]!r}; expected some of {', '.join(_NAMES)}")
    extra = set(help or {}) - set(names)
    if extra:
        raise ValueError(f"add_options: help for an option not added: {sorted(extra)[0]!r}")
    for name in names:
        flag, spec = _format_option(formats or {}, default_format) if name == "format" else SHARED_OPTIONS[name]
        spec = dict(spec)
        if help and name in help:
            spec["help"] = help[name]
        if name in GLOBAL_OPTIONS:
            spec["default"] = argparse.SUPPRESS
        parser.add_argument(*_flags(flag), **spec)
    return parser


def _flags(flag: str | tuple[str, ...]) -> tuple[str, ...]:
    return (flag,) if isinstance(flag, str) else flag


def add_global_options(parser: argparse.ArgumentParser) -> None:
    """The global options on the top-level parser (not given: None)."""
    for name in GLOBAL_OPTIONS:
        flag, spec = SHARED_OPTIONS[name]
        parser.add_argument(*_flags(flag), default=None, **spec)


def _sub_parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):  # aliases share a parser
                yield child
                yield from _sub_parsers(child)


def share_global_options(parser: argparse.ArgumentParser) -> None:
    """Make every sub-command under ``parser`` (at every level, plugin commands
    included) accept the global options, and defer to the value given before it.

    A sub-command's own ``--config`` or ``--lang`` that defaults to None is
    made to default to "not given"; one that is missing is added. A shared
    option declared without help gets the shared help text.
    """
    for child in _sub_parsers(parser):
        for name in GLOBAL_OPTIONS:
            flags, spec = _flags(SHARED_OPTIONS[name][0]), SHARED_OPTIONS[name][1]
            action = child._option_string_actions.get(flags[-1])
            if action is None:
                child.add_argument(*(f for f in flags if f not in child._option_string_actions),
                                   **{**spec, "default": argparse.SUPPRESS})
            elif action.default is None:
                action.default = argparse.SUPPRESS
        for flag, spec in SHARED_OPTIONS.values():
            action = child._option_string_actions.get(_flags(flag)[-1])
            if action is not None and action.help is None:
                action.help = spec["help"]


def config_from_args(args: argparse.Namespace) -> Config:
    """The config of a command: ``--config`` (else the built-in defaults), in ``--lang`` if given.

    :raises UsageError: the config cannot be read or is not valid.
    """
    pm = get_plugin_manager()
    try:
        config = load_config(args.config, pm) if getattr(args, "config", None) else default_config(pm)
        if getattr(args, "lang", None):
            config = config.with_lang(args.lang)
    except ConfigError as exc:
        raise UsageError(f"config: {exc}") from None
    return config


def engine_from_config(config: Config) -> Any:
    """The :class:`~govhall_sdk.engine.Engine` of ``config``.

    :raises UsageError: the engine refuses the config (e.g. an unknown calendar).
    """
    from ..engine import Engine

    try:
        return Engine(config)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
