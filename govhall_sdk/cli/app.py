"""The ``govhall`` parser and entry point: every command's module adds its own sub-parser.

:func:`main` is where the command line's conventions live, for every command
(plugin commands included): warnings as one line, ``--now`` read in the
config's time zone, Ctrl-C and SIGTERM ending any command with
``govhall: interrupted`` and status 130, a closed output pipe ending it quietly
with status 141, a usage error as one line with status 2; never a traceback
for any of these.
"""
from __future__ import annotations

import argparse
import importlib
import os
import re
import signal
import sys
import warnings
from typing import Any, Sequence

from .. import __version__
from ..calendar import UnpublishedYearWarning
from ..host import PluginError, get_plugin_manager
from ..terminal import shown
from .errors import EXIT_BROKEN_PIPE, EXIT_INCOMPLETE, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, UsageError
from .logs import configure_logging
from .options import CONFIG_FILE, ENV_CONFIG, HelpFormatter, add_global_options, command_epilog, resolve_now
from .options import GLOBAL_OPTIONS, SHARED_OPTIONS, collection_paused, share_global_options

DESCRIPTION = "The govhall command line: check, run, report, audit, plugins, rules, explain, calendar, completion."
EPILOG = command_epilog(
    {
        "govhall check examples/tickets.json --now 2025-03-14T16:00+08:00": "evaluate a ticket file",
        "govhall run --config examples/govhall.toml --dry-run": "the main job, writing nothing",
        "govhall explain tl.overdue --lang en": "what a finding code means",
    },
    {EXIT_OK: "the command ran (findings are not errors)",
     EXIT_INCOMPLETE: "govhall run could not read or write everything",
     EXIT_USAGE: "bad usage, a bad config or an unreadable file"},
    notes="--config, --lang, -v, -q and --log-level may be given before or after the command (govhall --config F "
          "rules, govhall rules --config F); a value given after it wins. The config is --config, else "
          f"${ENV_CONFIG}, else ./{CONFIG_FILE} if it exists, else the built-in defaults. Colour: on a terminal "
          "only; NO_COLOR (not empty) turns it off, FORCE_COLOR (not empty) on. govhall completion SHELL prints "
          "a completion script.",
)


class GovhallParser(argparse.ArgumentParser):
    """The parser of every ``govhall`` command: :class:`~govhall_sdk.cli.options.HelpFormatter`
    unless a command asks for another one (sub-parsers are of the same class)."""

    def __init__(self, *args: Any, **kwargs: Any):
        """As :class:`argparse.ArgumentParser`, with ``formatter_class`` defaulting to the help formatter."""
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)


#: The built-in commands in the order of ``govhall --help``: the names one module of this package adds, the
#: module and its function adding them (given the sub-parsers). ``completion`` comes after them, then the
#: plugins' commands.
BUILT_IN_COMMANDS = (
    (("check",), "check", "add_check_command"),
    (("plugins",), "plugins", "add_plugins_command"),
    (("rules", "explain"), "rules", "add_rules_commands"),
    (("calendar",), "calendar", "add_calendar_command"),
    (("run",), "run", "add_run_command"),
    (("report",), "report", "add_report_command"),
    (("audit",), "audit", "add_audit_command"),
)


def _global_option_strings(takes_value: bool) -> tuple[str, ...]:
    """The option strings of the global options (``options.SHARED_OPTIONS``) that take a value, or of those
    that take none (``-q``, ``--quiet``)."""
    found: list[str] = []
    for name in GLOBAL_OPTIONS:
        flags, spec = SHARED_OPTIONS[name]
        if ("action" not in spec) == takes_value:
            found.extend((flags,) if isinstance(flags, str) else flags)
    return tuple(found)


#: The global options that take a value (as written in full), and those that take none: all a command line
#: may hold before its command for :func:`invoked_command` to name the command.
_VALUED_OPTIONS, _FLAG_OPTIONS = _global_option_strings(True), _global_option_strings(False)
_VALUED_PREFIXES = tuple(f"{option}=" for option in _VALUED_OPTIONS)
_VERBOSITY = re.compile("-v+")  # -vv, -vvv, ...
_BUILT_IN_NAMES = frozenset(name for names, _, _ in BUILT_IN_COMMANDS for name in names)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser of every command, plugin commands included.

    With ``command``, the name of a built-in command other than ``completion``
    (:func:`invoked_command`), only that command's sub-parser is built and the
    plugins' commands are not asked for: the line of that command parses,
    helps and fails exactly as with the whole parser, at a fraction of the cost.
    """
    parser = GovhallParser(prog="govhall", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"govhall {__version__}",
                        help="print the version and exit")
    add_global_options(parser)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                help="the command (govhall COMMAND --help: its options)")
    for names, module, adder in BUILT_IN_COMMANDS:
        if command is None or command in names:
            getattr(importlib.import_module(f".{module}", __package__), adder)(sub)
    if "run" in sub.choices:  # it keeps state: never in ./.govhall by default
        sub.choices["run"].set_defaults(config_required="govhall run")
    if command is None:
        from .completion import add_completion_command

        add_completion_command(sub, parser)
    try:
        pm = get_plugin_manager()
        if command is None:
            pm.add_commands(sub)
    except PluginError as exc:  # strict mode: report it when a command runs, keep --help working
        parser.set_defaults(plugin_error=exc)
    share_global_options(parser)
    return parser


def invoked_command(argv: Sequence[str]) -> str | None:
    """The built-in command ``argv`` runs when that is plain to see, else None (the whole parser is needed).

    Plain is: before the first word that is not an option, only the global
    options spelt in full (``--config F``, ``--config=F``, ``-v``, ``-vv``,
    ``-q``, ...), and that word the name of a built-in command other than
    ``completion`` (which writes its script from every command). Anything
    else (``--help``, ``--version``, an abbreviated or unknown option, ``--``,
    a plugin's command, a mistyped one) is for the whole parser, whose help
    and messages list every command.
    """
    words = iter(argv)
    for word in words:
        if word in _VALUED_OPTIONS:
            next(words, None)  # its value
        elif not (word in _FLAG_OPTIONS or word.startswith(_VALUED_PREFIXES) or _VERBOSITY.fullmatch(word)):
            return word if word in _BUILT_IN_NAMES else None
    return None


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as one line for people, ``govhall: warning: ...``, without a source line."""
    try:
        print(_format_warning(message, category, filename, lineno), file=file or sys.stderr)
    except OSError:  # stderr closed: nowhere to warn
        pass


def _format_warning(message, category, filename, lineno, line=None) -> str:
    """One line, ``govhall: warning: ...`` (what ``logging.captureWarnings`` logs too), no source line."""
    return f"govhall: warning: {shown(message)}"


_MAIN_PID: int | None = None


def _on_signal(signum: int, frame: Any) -> None:
    """SIGINT and SIGTERM in the command: KeyboardInterrupt, reported by :func:`main`. In a process
    forked from it (``check --jobs``) the signal ends that worker quietly: the parent reports."""
    if os.getpid() != _MAIN_PID:
        os._exit(128 + signum)
    raise KeyboardInterrupt


def _install_signal_handlers() -> dict[int, Any]:
    """SIGINT and SIGTERM to :func:`_on_signal`; the previous handlers (none when not in the main thread)."""
    global _MAIN_PID
    _MAIN_PID = os.getpid()
    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            previous[signum] = signal.signal(signum, _on_signal)
        except (ValueError, OSError):  # not the main thread: the caller handles signals
            pass
    return previous


def _stdout_to_devnull() -> None:
    """After a broken pipe: what is still buffered goes nowhere, so the exit says nothing more."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no file descriptor (a test's captured stdout)
        pass


def _say(text: str) -> None:
    try:
        print(text, file=sys.stderr)
    except OSError:
        pass


def _parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the line; a command whose parser sets ``intermixed`` (the name of its ``nargs="*"``
    positional) also takes those positionals after its options (``govhall report ledger FILE --now T
    assessment``), which argparse alone refuses."""
    args, extra = parser.parse_known_args(argv)
    target = getattr(args, "intermixed", None)
    if extra and (target is None or any(t.startswith("-") and t != "-" for t in extra)):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if extra:
        getattr(args, target).extend(extra)
    return args


def _run(argv: Sequence[str] | None) -> int:
    with collection_paused():  # what start-up makes lives as long as the process
        parser = build_parser(invoked_command(sys.argv[1:] if argv is None else argv))
        args = _parse(parser, argv)
    try:
        configure_logging(args)
        if getattr(args, "plugin_error", None):
            raise args.plugin_error
        resolve_now(args)
        code = args.func(args)
        sys.stdout.flush()  # a closed pipe is found here, not when the interpreter exits
        return code
    except (UsageError, PluginError) as exc:
        _say(f"govhall: error: {shown(exc)}")
        return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``govhall`` script: parse ``argv`` (default: ``sys.argv[1:]``), run the
    command, return its exit status (:mod:`govhall_sdk.cli.errors`).

    Bad usage found by the parser raises :class:`SystemExit` (2) after its
    message, as argparse does; everything else returns the status: 2 with
    ``govhall: error: ...``, 130 with ``govhall: interrupted`` on Ctrl-C or
    SIGTERM, 141 when the output pipe was closed (nothing more is written).
    """
    warnings.showwarning = _show_warning
    warnings.formatwarning = _format_warning
    warnings.simplefilter("once", UnpublishedYearWarning)
    previous = _install_signal_handlers()
    try:
        return _run(argv)
    except KeyboardInterrupt:
        _say("govhall: interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _stdout_to_devnull()
        return EXIT_BROKEN_PIPE
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
