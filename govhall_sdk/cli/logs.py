"""How much the command line logs, and that every log line is scrubbed of secrets and personal data.

The level is, first found: ``--log-level``, ``-q`` (errors only), ``-v``
(INFO; ``-vv`` DEBUG, which includes the HTTP library's request lines), the
``GOVHALL_LOG_LEVEL`` environment variable, else WARNING. Lines go to stderr as
``govhall: warning: ...``. Every handler of the root logger, the one installed
here and any a caller installed before, gets a
:class:`~govhall_sdk.redaction.RedactingFilter`, so a DEBUG line of urllib3
naming a URL with a token, or a warning quoting a phone number, is scrubbed
before it is written anywhere.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys

from ..redaction import RedactingFilter, scrub
from ..terminal import printable, printable_lines
from .errors import UsageError

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
ENV_LEVEL = "GOVHALL_LOG_LEVEL"


class _StderrHandler(logging.StreamHandler):
    """A handler writing to whatever ``sys.stderr`` is when a record comes (tests swap it)."""

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


class _Format(logging.Formatter):
    """``govhall: warning: message`` on one line (controls escaped), the logger's name when it is not
    govhall's (urllib3 at DEBUG), a traceback on the lines after it."""

    def format(self, record: logging.LogRecord) -> str:
        where = "" if record.name.split(".")[0] == "govhall" else f"{record.name}: "
        text = f"govhall: {record.levelname.lower()}: {where}{printable(record.getMessage())}"
        if record.exc_info and not record.exc_text:
            record.exc_text = scrub(self.formatException(record.exc_info))
        return f"{text}\n{printable_lines(record.exc_text)}" if record.exc_text else text


_handler: logging.Handler | None = None
_filter = RedactingFilter()


def log_level(args: argparse.Namespace) -> int:
    """The level the options and the environment ask for; UsageError for an unknown name."""
    named = getattr(args, "log_level", None)
    if named is None and getattr(args, "quiet", None):
        named = "ERROR"
    if named is None and getattr(args, "verbose", None):
        named = "INFO" if args.verbose == 1 else "DEBUG"
    source = "--log-level"
    if named is None and os.environ.get(ENV_LEVEL, "").strip():
        named, source = os.environ[ENV_LEVEL].strip(), ENV_LEVEL
    named = (named or "WARNING").upper()
    if named not in LEVELS:
        raise UsageError(f"{source}: expected one of {', '.join(LEVELS)}, got {named[:20]!r}")
    return getattr(logging, named)


def configure_logging(args: argparse.Namespace) -> None:
    """Install the stderr handler at the level asked for, and the scrubbing filter on every root handler."""
    global _handler
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
    _handler = _StderrHandler()
    _handler.setFormatter(_Format())
    level = log_level(args)
    _handler.setLevel(level)
    root.addHandler(_handler)
    root.setLevel(min(level, root.level) if root.handlers[:-1] else level)
    for handler in root.handlers:
        if _filter not in handler.filters:
            handler.addFilter(_filter)
