"""``govhall check``: stream tickets through the engine and print results as they come.

Memory stays flat: tickets are read, evaluated and written a chunk at a time.
With ``jobs`` > 1, chunks are parsed, evaluated and rendered in forked worker
processes (which inherit the loaded plugins and calendar) while the output keeps
the input's order; at most ``2 x jobs`` chunks are in flight.

The parent only splits the file (:func:`~govhall_sdk.reader.iter_raw`): workers get
each ticket's raw bytes and decode, validate, evaluate and render it. Errors are
written as they occur to a spool (a temporary file past 1 MiB), not kept in a list,
and copied after the results, where the output format puts them.

Nothing of a ticket reaches the terminal raw: the table and the error lines
are :func:`~govhall_sdk.terminal.shown`, the JSON :func:`~govhall_sdk.terminal.printable_json`
(the same data, its C1 controls, bidi and other invisible characters spelled ``\\uNNNN``).
"""
from __future__ import annotations

import collections
import json
import sys
from datetime import datetime
from typing import IO, Iterable, Iterator

from ..engine import Context, Engine
from ..reader import RawTicket, iter_raw, parse_raw
from ..privacy import mask_text
from ..report import result_json, table_header, table_line, use_colour
from ..terminal import printable_json, shown

CHUNK = 256
#: The tickets a renderer reads before it tries the typed way (:func:`~govhall_sdk.reader.parse_raw`, the same
#: result): that way's set-up, about 20 ms, pays for itself after a few hundred tickets, and a check of a few
#: tickets starts without it.
TYPED_AFTER = 256
Rendered = tuple[str | None, list[dict], tuple[str, ...]]  # the ticket's output, its error entries, its warnings


def _error_entry(ticket_id: str | None, where: str, message: str) -> dict:
    entry = {"id": ticket_id, "error": mask_text(message)}  # an error quotes the value it is about
    if ticket_id is None and where:
        entry["where"] = where
    return entry


class _Renderer:
    """Parses, evaluates and renders one raw ticket into its output and error entries."""

    def __init__(self, engine: Engine, ctx: Context, fmt: str, colour: bool):
        self.engine, self.ctx, self.fmt, self.colour = engine, ctx, fmt, colour
        self.tz = engine.config.adapter_timezone
        self.read = 0  # the tickets read so far (in this process)

    def __call__(self, raw: RawTicket) -> Rendered:
        self.read += 1
        item = parse_raw(raw, self.tz, strict=self.engine.config.strict, typed=self.read > TYPED_AFTER)
        if item.ticket is None:
            return None, [_error_entry(item.id, item.where, str(item.error))], ()
        warnings = tuple(f"{item.ticket.id} ({item.where}): {w}" for w in item.warnings) if item.warnings else ()
        result = self.engine.evaluate(item.ticket, self.ctx)
        errors = [_error_entry(result.ticket_id, raw.where, m) for m in result.errors] if result.errors else []
        if self.fmt == "json":
            return result_json(result), errors, warnings
        return table_line(result, self.colour, self.engine.config.timezone), errors, warnings


_WORKER: _Renderer | None = None  # set in the parent before forking; workers inherit it


def _render_chunk(chunk: list[RawTicket]) -> list[Rendered]:
    return [_WORKER(raw) for raw in chunk]


def _chunks(items: Iterable[RawTicket]) -> Iterator[list[RawTicket]]:
    """Lists of up to :data:`CHUNK` items; the items read before a file error are still given, then it is raised."""
    chunk: list[RawTicket] = []
    error = None
    try:
        for item in items:
            chunk.append(item)
            if len(chunk) >= CHUNK:
                yield chunk
                chunk = []
    except ValueError as exc:
        error = exc
    if chunk:
        yield chunk
    if error is not None:
        raise error


def _parallel(items: Iterable[RawTicket], render: _Renderer, jobs: int) -> Iterator[Rendered]:
    import multiprocessing  # only with --jobs above 1: a check in one process never imports it
    from concurrent.futures import ProcessPoolExecutor

    global _WORKER
    _WORKER = render
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
        pending: collections.deque = collections.deque()
        try:
            for chunk in _chunks(items):
                pending.append(pool.submit(_render_chunk, chunk))
                if len(pending) >= 2 * jobs:
                    yield from pending.popleft().result()
        except ValueError:  # a file error: the tickets before it are still printed
            while pending:
                yield from pending.popleft().result()
            raise
        while pending:
            yield from pending.popleft().result()


class _Errors:
    """Error entries written as they come to a spool, then copied to the output in its format."""

    def __init__(self, fmt: str):
        self.fmt = fmt
        self.count = 0
        self.spool: IO[str] | None = None  # made at the first error: most files have none

    def add(self, entries: list[dict]) -> None:
        """Write ``entries`` to the spool."""
        if entries and self.spool is None:
            import tempfile

            self.spool = tempfile.SpooledTemporaryFile(max_size=1 << 20, mode="w+", encoding="utf-8")
        for e in entries:
            if self.fmt == "json":
                self.spool.write(("" if not self.count else ",\n    ") + printable_json(json.dumps(e, ensure_ascii=False)))
            else:
                self.spool.write(shown(f"ERROR {e['id'] or e.get('where', '')}: {e['error']}") + "\n")
            self.count += 1

    def copy_to(self, out: IO[str]) -> None:
        """Write the errors where the format wants them, and close the spool."""
        if self.fmt == "json":
            out.write('\n  ],\n  "errors": [')
            if self.count:
                out.write("\n    ")
        spool = self.spool
        if spool is not None:
            spool.seek(0)
            for block in iter(lambda: spool.read(1 << 16), ""):
                out.write(block)
            spool.close()
        if self.fmt == "json":
            out.write("\n  ]\n}\n" if self.count else "]\n}\n")


def run_check(stream: IO, name: str, engine: Engine, now: datetime, fmt: str, out: IO[str],
              jobs: int = 1, input_format: str = "auto") -> str | None:
    """Evaluate every ticket of ``stream`` and write ``fmt`` (json or table) to ``out``.

    ``stream`` is binary or text; ``input_format`` is ``auto``, ``json`` or
    ``jsonl`` (:func:`~govhall_sdk.reader.iter_raw`). Returns None, or the reason
    the file could not be read to its end: the tickets before that point were
    evaluated and printed, the reason is the last error entry (``id`` null), and
    the output written is still well-formed.
    """
    render = _Renderer(engine, engine.context(now), fmt, fmt == "table" and use_colour(out))
    errors = _Errors(fmt)
    fatal = None
    if fmt == "json":
        out.write('{\n  "now": %s,\n  "tickets": [' % json.dumps(now.isoformat()))
    else:
        out.write(table_header() + "\n")
    first = True
    try:
        items = iter_raw(stream, name, input_format)
        results = _parallel(items, render, jobs) if jobs > 1 else map(render, items)
        for text, entries, warnings in results:
            if entries:
                errors.add(entries)
            for warning in warnings:  # beside the output, which keeps the format's keys: one line each, as they come
                print(f"govhall: warning: {shown(warning)}", file=sys.stderr)
            if text is None:
                continue
            if fmt == "json":
                out.write(("\n    " if first else ",\n    ") + text)
                first = False
            else:
                out.write(text + "\n")
    except ValueError as exc:
        fatal = str(exc)
        errors.add([_error_entry(None, "", fatal)])
    errors.copy_to(out)
    return fatal
