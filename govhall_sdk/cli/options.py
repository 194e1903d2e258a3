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
import gc
import math
import os
import re
import sys
import unicodedata
from datetime import date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from contextlib import contextmanager
from typing import Any, Iterator, Mapping

from ..config import Config, ConfigError, default_config, load_config
from ..host import get_plugin_manager
from .errors import EXIT_INCOMPLETE, EXIT_INTERRUPTED, EXIT_MEANINGS, EXIT_OK, EXIT_USAGE, UsageError
from .logs import ENV_LEVEL, LEVELS

__all__ = [
    "CONFIG_FILE", "ENV_CONFIG", "EXIT_INCOMPLETE", "EXIT_OK", "EXIT_USAGE", "GLOBAL_OPTIONS", "SHARED_OPTIONS",
    "HelpFormatter", "UsageError", "WallTime", "add_options", "collection_paused", "command_epilog", "config_from_args",
    "config_path", "engine_from_config",
    "non_negative_float", "non_negative_int", "open_input", "open_state", "parse_date", "parse_instant",
    "parse_now", "positive_int", "resolve_now",
]

#: The environment variable naming the config file when ``--config`` is not given.
ENV_CONFIG = "GOVHALL_CONFIG"
#: The config file used when it exists in the working directory (and neither ``--config`` nor
#: ``$GOVHALL_CONFIG`` names one).
CONFIG_FILE = "govhall.toml"

_EXAMPLE_INSTANT = "2025-03-14T16:00+08:00"
_FORMS = (f"an instant with its UTC offset ({_EXAMPLE_INSTANT}), a local time (2025-03-14T16:00) "
          "or a date (2025-03-14, its start)")
# A date with an offset is the start of that day there; datetime.fromisoformat would take the sign for
# the date-time separator (2025-03-14+08:00 as 08:00 without an offset).
_DATE_WITH_OFFSET = re.compile(r"(\d{4}-\d{2}-\d{2})([+-]\d{2}(?::?\d{2})?|Z)")
_OTHER_SEPARATOR = re.compile(r"\d{4}-\d{2}-\d{2}[^Tt ]")
# An instant must stay a valid datetime in UTC and in every time zone (offsets up to a day).
_FIRST, _LAST = datetime(1, 1, 2, tzinfo=timezone.utc), datetime(9999, 12, 30, tzinfo=timezone.utc)


def _in_range(value: datetime, text: str) -> datetime:
    try:
        utc = value.astimezone(timezone.utc)
    except OverflowError:
        utc = None
    if utc is None or not _FIRST <= utc <= _LAST:
        raise argparse.ArgumentTypeError(
            f"out of range: {text!r} is no instant between 0001-01-02 and 9999-12-30 in UTC; "
            f"give one such as {_EXAMPLE_INSTANT}")
    return value


def _fromisoformat(text: str) -> datetime:
    """``text`` as ISO 8601; a date with an offset (2025-03-14+08:00) is the start of that day there."""
    value = text.strip()
    m = _DATE_WITH_OFFSET.fullmatch(value)
    if m:
        value = f"{m.group(1)}T00:00{m.group(2)}"
    try:
        if _OTHER_SEPARATOR.match(value):
            raise ValueError(value)
        return datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 instant: {text!r}; expected {_FORMS}, "
                                         f"e.g. {_EXAMPLE_INSTANT}") from None


def parse_instant(text: str) -> datetime:
    """An ``argparse`` type: an ISO 8601 instant with a UTC offset, e.g. ``2025-03-14T16:00+08:00``.

    :raises argparse.ArgumentTypeError: not ISO 8601, no offset (the message
        suggests a correct value), or out of range (an instant that is no
        valid datetime in UTC, e.g. ``9999-12-31T23:59:59-12:00``).
    """
    value = _fromisoformat(text)
    if value.tzinfo is None:
        example = value.replace(tzinfo=timezone(timedelta(hours=8))).isoformat(timespec="minutes")
        raise argparse.ArgumentTypeError(f"needs a UTC offset, e.g. {example}")
    return _in_range(value, text)


class WallTime:
    """A ``--now`` given without an offset: a local time, or a date (its start, 00:00), to be
    read in the config's time zone by :meth:`at` once the config is known."""

    def __init__(self, naive: datetime, text: str):
        """``naive``: the wall-clock time; ``text``: as given, for messages."""
        self.naive, self.text = naive, text

    def at(self, tz: tzinfo) -> datetime:
        """The instant this wall-clock time is in ``tz``.

        :raises UsageError: the instant is out of range there.
        """
        try:
            return _in_range(self.naive.replace(tzinfo=tz), self.text)
        except argparse.ArgumentTypeError as exc:
            raise UsageError(f"--now: {exc}") from None

    def __repr__(self) -> str:
        """``WallTime('2025-03-14T16:00')``."""
        return f"WallTime({self.text!r})"


def parse_now(text: str) -> datetime | WallTime:
    """The ``argparse`` type of ``--now``: an ISO 8601 instant with an offset (a datetime), or a
    local time or a date without one (a :class:`WallTime`, read in the config's time zone by
    :func:`resolve_now`; a date is its start, 00:00).

    :raises argparse.ArgumentTypeError: not one of these (the message suggests a correct value),
        or out of range.
    """
    value = _fromisoformat(text)
    if value.tzinfo is not None:
        return _in_range(value, text)
    return WallTime(value, text)


def resolve_now(args: argparse.Namespace) -> None:
    """Turn a :class:`WallTime` ``args.now`` into an instant in the config's time zone, in place.

    :func:`~govhall_sdk.cli.main` calls it before every command, so a command
    sees ``args.now`` as None or an aware datetime.

    :raises UsageError: the config cannot be read, or the instant is out of range.
    """
    now = getattr(args, "now", None)
    if isinstance(now, WallTime):
        args.now = now.at(config_from_args(args).timezone)


def parse_date(text: str) -> date:
    """An ``argparse`` type: a date, YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _number(text: str, kind: type, least: float, what: str) -> Any:
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or (kind is float and not math.isfinite(value)) or value < least:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """An ``argparse`` type: a whole number of at least 1 (``--limit``, ``--jobs``)."""
    return _number(text, int, 1, "a whole number of at least 1")


def non_negative_int(text: str) -> int:
    """An ``argparse`` type: a whole number of at least 0."""
    return _number(text, int, 0, "a whole number of at least 0")


def non_negative_float(text: str) -> float:
    """An ``argparse`` type: a finite number of at least 0, e.g. seconds (``--wait``)."""
    return _number(text, float, 0, "a number of at least 0")


def _columns(text: str) -> int:
    """How many terminal columns ``text`` takes: a CJK character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _wrap_wide(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` columns, counting a CJK character as two and breaking
    between two of them where needed (Chinese has no spaces)."""
    chunks: list[tuple[bool, str]] = []  # (a space before it, the text)
    for word in text.split():
        first = True
        for run in re.findall(r"[\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]|"
                              r"[^\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]+",
                              word):
            chunks.append((first, run))
            first = False
    lines, line = [], ""
    for space, chunk in chunks:
        joined = f"{line} {chunk}" if line and space else line + chunk
        if line and _columns(joined) > width:
            lines.append(line)
            line = chunk
        else:
            line = joined
    return [*lines, line] if line else lines


class HelpFormatter(argparse.HelpFormatter):
    """Help for people at any width: a paragraph of the description or epilog is wrapped, unless one of
    its lines is indented (examples, lists), which is kept as written; text with Chinese in it is
    wrapped by the columns it takes on a terminal."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        out = []
        for para in text.strip("\n").split("\n\n"):
            lines = para.splitlines()
            if any(line[:1].isspace() for line in lines):
                out.append("\n".join(indent + line for line in lines))
            elif _columns(para) != len(para):
                out.append("\n".join(indent + line for line in _wrap_wide(para, width - len(indent))))
            else:
                out.append(super()._fill_text(para, width, indent))
        return "\n\n".join(out)

    def _split_lines(self, text: str, width: int) -> list[str]:
        if _columns(text) != len(text):
            return _wrap_wide(text, width)
        return super()._split_lines(text, width)


def command_epilog(examples: Mapping[str, str] | list[str],
                   exits: tuple[int, ...] | Mapping[int, str] = (EXIT_OK, EXIT_USAGE), notes: str = "") -> str:
    """The end of a command's ``--help``: its examples, then what each exit status means.

    :param examples: command lines (``govhall ...``), or ``{command line: what it does}``.
    :param exits: the statuses the command uses besides the interrupt (130, always listed), or
        ``{status: what it means for this command}``.
    :param notes: a paragraph before the examples.

    Use it with :class:`HelpFormatter` (every parser of ``govhall`` has it),
    which keeps these indented lines as written.
    """
    items = examples.items() if isinstance(examples, Mapping) else ((e, "") for e in examples)
    lines = ["examples:"]
    for line, what in items:
        lines += [f"  # {what}"] if what else []
        lines.append(f"  {line}")
    meanings = {**EXIT_MEANINGS, **(exits if isinstance(exits, Mapping) else {})}
    statuses = [*dict.fromkeys((*exits, EXIT_INTERRUPTED))]
    lines += ["", "exit status:"] + [f"  {code:<3}  {meanings[code]}" for code in statuses]
    return (f"{notes}\n\n" if notes else "") + "\n".join(lines)


#: The options accepted by every command, before or after its name (and at every level of it).
GLOBAL_OPTIONS = ("config", "lang", "verbose", "quiet", "log_level")

#: name -> (option string, keyword arguments of ``add_argument``); ``format`` is built by :func:`add_options`.
SHARED_OPTIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "config": ("--config", {
        "metavar": "FILE",
        "help": f"the govhall.toml to use (default: ${ENV_CONFIG}, else ./{CONFIG_FILE} if it exists, "
                "else the built-in defaults, which name no place to keep state: govhall run needs a file)",
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
        "type": parse_now,
        "metavar": "WHEN",
        "help": "evaluate as of this moment (default: now): an ISO 8601 instant with its UTC offset "
                "(2025-03-14T16:00+08:00), or a local time (2025-03-14T16:00) or a date (2025-03-14: "
                "its start, 00:00) in the config's time zone",
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


def config_path(args: argparse.Namespace) -> tuple[Path | None, str]:
    """The config file of a command and where its name came from.

    ``--config``, else ``$GOVHALL_CONFIG`` (when set and not empty), else
    ``./govhall.toml`` when it exists; ``(None, "")`` when none applies (the
    built-in defaults). The second item is ``"--config"``, ``"$GOVHALL_CONFIG"``
    or ``"./govhall.toml"``, for messages.
    """
    given = getattr(args, "config", None)
    if given:
        return Path(given), "--config"
    env = os.environ.get(ENV_CONFIG, "")
    if env.strip():
        return Path(env), f"${ENV_CONFIG}"
    if Path(CONFIG_FILE).is_file():
        return Path(CONFIG_FILE), f"./{CONFIG_FILE}"
    return None, ""


def config_from_args(args: argparse.Namespace, required: str | bool = False) -> Config:
    """The config of a command (:func:`config_path`: ``--config``, ``$GOVHALL_CONFIG``,
    ``./govhall.toml``, else the built-in defaults), in ``--lang`` if given.

    The built-in defaults name no place on disk a command may write to: a
    command that keeps state (``govhall run``) passes ``required`` (its name,
    or True), or its parser sets the default ``config_required``, and gets a
    usage error saying how to give a config instead.

    :raises UsageError: no config file although one is required, or the config
        cannot be read or is not valid.
    """
    pm = get_plugin_manager()
    path, source = config_path(args)
    required = required or getattr(args, "config_required", False)
    if path is None and required:
        who = required if isinstance(required, str) else "this command"
        raise UsageError(
            f"{who} needs a config file, since it keeps state where the config says: give --config FILE, "
            f"set ${ENV_CONFIG}, or create ./{CONFIG_FILE} (examples/govhall.toml is a commented one to start "
            "from; an empty file is a valid config, its state in .govhall/ beside it)")
    try:
        config = load_config(path, pm) if path is not None else default_config(pm)
        if getattr(args, "lang", None):
            config = config.with_lang(args.lang)
    except ConfigError as exc:
        where = f" ({source})" if source not in ("", "--config") else ""
        raise UsageError(f"config{where}: {exc}") from None
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


@contextmanager
def collection_paused() -> Iterator[None]:
    """The garbage collector paused, and what was made meanwhile frozen out of its later passes.

    For what lives as long as the process and holds no garbage: the plugins
    loaded and the parser (:func:`~govhall_sdk.cli.main` pauses it for the
    start-up), the records a report loads. Their many objects trigger collection
    after collection that find nothing.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def open_input(path: str) -> tuple[Any, str]:
    """A ticket file given on the command line, opened for reading bytes, and the name its errors use
    (``-``: standard input, named ``""``).

    :raises UsageError: the file cannot be opened.
    """
    if path == "-":
        return sys.stdin.buffer, ""
    try:
        return open(path, "rb"), path
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror}") from None


def open_state(config: Config) -> Any:
    """The state store of ``config`` for reading (``govhall report``, ``govhall audit``); none is created.

    :raises UsageError: there is none yet, or it cannot be used.
    """
    from ..state import StateError, StateStore

    path = Path(config.state_path)
    if not path.is_file():
        raise UsageError(f"no state store at {path}: nothing is on record yet; run govhall run first "
                         "(or give govhall report a ticket file)")
    try:
        return StateStore(path)
    except StateError as exc:
        raise UsageError(str(exc)) from None
