"""Progress bars for long work, on a terminal only: seeding or importing the demo helpdesk, ``govhall run``.

A bar shows what is being done, the count against the total when it is known,
the rate and the time left (drawn by `tqdm`_, which keeps one line, fits the
terminal's width, smooths the rate and redraws at most ten times a second)::

    govhall run: pulling:  45%|████▌     | 4500/10000 [00:02<00:03, 1850.21 tickets/s]

Nothing is drawn when stderr is not a terminal (a pipe, a file, cron, CI), when
``TERM=dumb``, or when the log level hides warnings (``-q``, ``--log-level
ERROR``); the counts are kept all the same (``govhall run`` names them when
interrupted). While bars are drawn, whatever else goes to stderr (log lines such
as a retry notice, warnings) clears them first and they are drawn again below
it, so no line is mixed with a bar.

.. _tqdm: https://tqdm.github.io/
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any, TextIO

from .logs import log_level

#: How each unit of work is counted: the unit's name after the rate, and whether it is scaled (k, M).
UNITS = {"ticket": (" tickets", False), "B": ("B", True)}


def wanted(args: argparse.Namespace | None, stream: TextIO | None = None) -> bool:
    """True when bars should be drawn: ``stream`` (stderr) is a terminal, ``TERM`` is not ``dumb``
    and the log level lets warnings through (not ``-q``)."""
    stream = stream if stream is not None else sys.stderr
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        tty = False
    if not tty or os.environ.get("TERM", "") == "dumb":
        return False
    try:
        return args is None or log_level(args) <= logging.WARNING
    except Exception:  # a bad --log-level is reported by the command itself
        return False


class Counter:
    """A bar that is not drawn: it only counts (``update`` and ``close`` as a tqdm bar has them)."""

    def __init__(self, total: int | None = None):
        self.n, self.total = 0, total

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_postfix_str(self, text: str = "", refresh: bool = True) -> None:
        pass

    def close(self) -> None:
        pass


class _ClearingStream:
    """stderr while bars are drawn: whole lines are written with the bars cleared, then they are drawn
    again below (a line written in parts, as ``print`` does, waits for its end)."""

    def __init__(self, stream: TextIO):
        self._stream, self._pending = stream, ""

    def write(self, text: str) -> int:
        self._pending += text
        lines, newline, self._pending = self._pending.rpartition("\n")
        if newline:
            from tqdm import tqdm

            with tqdm.external_write_mode(file=self._stream):
                self._stream.write(lines + newline)
                self._stream.flush()
        return len(text)

    def flush(self) -> None:
        """Complete lines are written at once; the rest waits for its end (or :meth:`close`)."""

    def close(self) -> None:
        """Write what is left of a line that never ended."""
        if self._pending:
            self._stream.write(self._pending)
            self._stream.flush()
            self._pending = ""

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class Progress:
    """Makes bars: ``progress(what, total, unit)`` returns one (drawn on a terminal, else a :class:`Counter`).

    Used as a context manager around the work: on the way out every bar still
    open is closed (its line cleared) and stderr is given back.

    :param show: draw bars (see :func:`wanted`); False: only count.
    :param stream: where bars go (default: stderr).
    """

    def __init__(self, show: bool, stream: TextIO | None = None):
        self.show = show
        self.stream = stream if stream is not None else sys.stderr
        self.bars: list[Any] = []
        self._saved: TextIO | None = None

    def __call__(self, what: str, total: int | None = None, unit: str = "ticket") -> Any:
        """A new bar for ``what`` counting ``unit`` (``ticket`` or ``B``, bytes) up to ``total`` (None: unknown)."""
        if not self.show:
            return Counter(total)
        from tqdm import tqdm  # imported when a bar is drawn: a command on a pipe never pays for it

        name, scale = UNITS.get(unit, (f" {unit}", False))
        sized = _columns(self.stream) > 0  # a terminal that tells no size (0 columns) gets 80
        bar = tqdm(total=total, desc=what, unit=name, unit_scale=scale, unit_divisor=1024 if scale else 1000,
                   file=self.stream, leave=False, dynamic_ncols=sized, ncols=None if sized else 80,
                   mininterval=0.1, smoothing=0.1, ascii=None if _utf8(self.stream) else True)
        self.bars.append(bar)
        return bar

    def __enter__(self) -> "Progress":
        if self.show and sys.stderr is self.stream:
            self._saved, sys.stderr = sys.stderr, _ClearingStream(self.stream)  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Close every bar (its line is cleared) and give stderr back."""
        for bar in self.bars:
            bar.close()
        self.bars.clear()
        if self._saved is not None:
            if isinstance(sys.stderr, _ClearingStream):
                sys.stderr.close()
            sys.stderr, self._saved = self._saved, None


def _columns(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return 0


def _utf8(stream: TextIO) -> bool:
    return "utf" in (getattr(stream, "encoding", None) or "").lower()
