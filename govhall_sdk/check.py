"""``govhall check``: stream tickets through the engine and print results as they come."""
from __future__ import annotations

import json
from datetime import datetime
from typing import IO

from .engine import Engine
from .parse import iter_tickets
from .report import result_dict, table_header, table_line, use_colour


def _error_entry(ticket_id: str | None, where: str, message: str) -> dict:
    entry = {"id": ticket_id, "error": message}
    if ticket_id is None and where:
        entry["where"] = where
    return entry


def run_check(stream: IO[str], name: str, engine: Engine, now: datetime, fmt: str, out: IO[str]) -> str | None:
    """Evaluate every ticket of ``stream`` and write ``fmt`` (json or table) to ``out``.

    Memory stays flat: each ticket is parsed, evaluated and written before the next
    is read. Returns None, or the reason the file could not be read to its end
    (the output written so far is still well-formed).
    """
    ctx = engine.context(now)
    tz = engine.config.timezone
    errors: list[dict] = []
    fatal = None
    dumps = json.dumps
    colour = fmt == "table" and use_colour(out)
    if fmt == "json":
        out.write('{\n  "now": %s,\n  "tickets": [' % dumps(now.isoformat()))
    else:
        out.write(table_header() + "\n")
    first = True
    try:
        for item in iter_tickets(stream, name, engine.config.adapter_timezone):
            if item.ticket is None:
                errors.append(_error_entry(item.id, item.where, str(item.error)))
                continue
            result = engine.evaluate(item.ticket, ctx)
            for message in result.errors:
                errors.append(_error_entry(result.ticket_id, item.where, message))
            if fmt == "json":
                out.write(("\n    " if first else ",\n    ") + dumps(result_dict(result), ensure_ascii=False))
                first = False
            else:
                out.write(table_line(result, colour, tz) + "\n")
    except ValueError as exc:
        fatal = str(exc)
        errors.append(_error_entry(None, "", fatal))
    if fmt == "json":
        body = ",\n    ".join(dumps(e, ensure_ascii=False) for e in errors)
        out.write("\n  ],\n  \"errors\": [%s]\n}\n" % (f"\n    {body}\n  " if errors else ""))
    else:
        for e in errors:
            out.write(f"ERROR {e['id'] or e.get('where', '')}: {e['error']}\n")
    return fatal
