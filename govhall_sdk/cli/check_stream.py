"""``govhall check``: stream tickets through the engine and print results as they come.

Memory stays flat: tickets are read, evaluated and written a chunk at a time.
With ``jobs`` > 1, chunks are parsed, evaluated and rendered in forked worker
processes (which inherit the loaded plugins and calendar) while the output keeps
the input's order; at most ``2 x jobs`` chunks are in flight.

Nothing of a ticket reaches the terminal raw: the table and the error lines
are :func:`~govhall_sdk.terminal.shown`, the JSON :func:`~govhall_sdk.terminal.printable_json`
(the same data, its C1 controls, bidi and other invisible characters spelled ``\\uNNNN``).
"""
from __future__ import annotations

import collections
import itertools
import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from typing import IO, Any, Iterable, Iterator

from ..engine import Context, Engine
from ..parse import iter_raw, parse_item
from ..privacy import mask_text
from ..report import result_dict, table_header, table_line, use_colour
from ..terminal import printable_json, shown

CHUNK = 256
Rendered = tuple[str | None, list[dict]]  # the ticket's output, its error entries


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

    def __call__(self, where: str, raw: Any) -> Rendered:
        item = parse_item(where, raw, self.tz)
        if item.ticket is None:
            return None, [_error_entry(item.id, item.where, str(item.error))]
        result = self.engine.evaluate(item.ticket, self.ctx)
        errors = [_error_entry(result.ticket_id, where, m) for m in result.errors]
        if self.fmt == "json":
            return printable_json(json.dumps(result_dict(result), ensure_ascii=False)), errors
        return table_line(result, self.colour, self.engine.config.timezone), errors


_WORKER: _Renderer | None = None  # set in the parent before forking; workers inherit it


def _render_chunk(chunk: list[tuple[str, Any]]) -> list[Rendered]:
    return [_WORKER(where, raw) for where, raw in chunk]


def _parallel(items: Iterable[tuple[str, Any]], render: _Renderer, jobs: int) -> Iterator[Rendered]:
    global _WORKER
    _WORKER = render
    chunks = iter(lambda it=iter(items): list(itertools.islice(it, CHUNK)), [])
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
        pending: collections.deque = collections.deque()
        for chunk in chunks:
            pending.append(pool.submit(_render_chunk, chunk))
            if len(pending) >= 2 * jobs:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()


def run_check(stream: IO[str], name: str, engine: Engine, now: datetime, fmt: str, out: IO[str],
              jobs: int = 1) -> str | None:
    """Evaluate every ticket of ``stream`` and write ``fmt`` (json or table) to ``out``.

    Returns None, or the reason the file could not be read to its end (the
    output written so far is still well-formed).
    """
    render = _Renderer(engine, engine.context(now), fmt, fmt == "table" and use_colour(out))
    errors: list[dict] = []
    fatal = None
    if fmt == "json":
        out.write('{\n  "now": %s,\n  "tickets": [' % json.dumps(now.isoformat()))
    else:
        out.write(table_header() + "\n")
    first = True
    items = iter_raw(stream, name)
    results = _parallel(items, render, jobs) if jobs > 1 else (render(w, r) for w, r in items)
    try:
        for text, entries in results:
            errors.extend(entries)
            if text is None:
                continue
            if fmt == "json":
                out.write(("\n    " if first else ",\n    ") + text)
                first = False
            else:
                out.write(text + "\n")
    except ValueError as exc:
        fatal = str(exc)
        errors.append(_error_entry(None, "", fatal))
    if fmt == "json":
        body = ",\n    ".join(printable_json(json.dumps(e, ensure_ascii=False)) for e in errors)
        out.write("\n  ],\n  \"errors\": [%s]\n}\n" % (f"\n    {body}\n  " if errors else ""))
    else:
        for e in errors:
            out.write(shown(f"ERROR {e['id'] or e.get('where', '')}: {e['error']}") + "\n")
    return fatal
