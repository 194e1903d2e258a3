"""The sync state store: one SQLite file (standard library only).

- ``cursors``: per adapter, the opaque cursor after the last fully written page;
- ``schedule``: per ticket, the next instant its result can change by time alone
  (``''`` = as soon as possible: a page in flight, or a write to retry);
- ``audit``: every write attempted (ticket, changes, codes, when, outcome);
- ``escalations``: each escalation level reached per ticket, so none is sent twice.
"""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

from .privacy import mask_text

SCHEMA = """
CREATE TABLE IF NOT EXISTS cursors (adapter TEXT PRIMARY KEY, value TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS schedule (
    adapter TEXT NOT NULL, ticket_id TEXT NOT NULL, next_at TEXT NOT NULL,
    PRIMARY KEY (adapter, ticket_id));
CREATE INDEX IF NOT EXISTS schedule_due ON schedule (adapter, next_at);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, adapter TEXT NOT NULL,
    ticket_id TEXT NOT NULL, changes TEXT NOT NULL, codes TEXT NOT NULL, ok INTEGER NOT NULL, error TEXT);
CREATE TABLE IF NOT EXISTS escalations (
    adapter TEXT NOT NULL, ticket_id TEXT NOT NULL, level INTEGER NOT NULL, target TEXT, at TEXT NOT NULL,
    PRIMARY KEY (adapter, ticket_id, level));
"""
ASAP = ""


def utc_key(instant: datetime) -> str:
    """A sortable UTC text form of an instant."""
    return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")


class StateStore:
    """The state of ``govhall run`` for one config; safe to reopen after a crash."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    def cursor(self, adapter: str) -> str | None:
        """The stored cursor of an adapter, or None before the first complete page."""
        row = self.db.execute("SELECT value FROM cursors WHERE adapter = ?", (adapter,)).fetchone()
        return row[0] if row else None

    def due(self, adapter: str, now: datetime, limit: int | None = None) -> list[str]:
        """Ids of tickets whose scheduled instant has come (ASAP ones first)."""
        sql = "SELECT ticket_id FROM schedule WHERE adapter = ? AND next_at <= ? ORDER BY next_at, ticket_id"
        rows = self.db.execute(sql + (" LIMIT ?" if limit else ""), (adapter, utc_key(now), *([limit] if limit else [])))
        return [r[0] for r in rows]

    def mark_in_flight(self, adapter: str, ticket_ids: Iterable[str]) -> None:
        """Schedule tickets for re-evaluation ASAP until their page is finished."""
        with self.db:
            self.db.executemany(
                "INSERT INTO schedule (adapter, ticket_id, next_at) VALUES (?, ?, '') "
                "ON CONFLICT (adapter, ticket_id) DO UPDATE SET next_at = ''",
                [(adapter, t) for t in ticket_ids],
            )

    def finish_page(self, adapter: str, schedule: Sequence[tuple[str, datetime | None | str]],
                    cursor: str | None, at: datetime) -> None:
        """In one transaction: each ticket's next instant (None = drop, ASAP = retry) and the cursor."""
        drop = [(adapter, t) for t, when in schedule if when is None]
        keep = [(adapter, t, when if isinstance(when, str) else utc_key(when)) for t, when in schedule if when is not None]
        with self.db:
            self.db.executemany("DELETE FROM schedule WHERE adapter = ? AND ticket_id = ?", drop)
            self.db.executemany(
                "INSERT INTO schedule (adapter, ticket_id, next_at) VALUES (?, ?, ?) "
                "ON CONFLICT (adapter, ticket_id) DO UPDATE SET next_at = excluded.next_at",
                keep,
            )
            if cursor is not None:
                self.db.execute(
                    "INSERT INTO cursors (adapter, value, at) VALUES (?, ?, ?) "
                    "ON CONFLICT (adapter) DO UPDATE SET value = excluded.value, at = excluded.at",
                    (adapter, cursor, utc_key(at)),
                )

    def audit(self, adapter: str, at: datetime, rows: Iterable[tuple[str, dict[str, Any], list[str], bool, str | None]]) -> None:
        """Record writes: (ticket id, changes, finding codes, ok, error)."""
        with self.db:
            self.db.executemany(
                "INSERT INTO audit (at, adapter, ticket_id, changes, codes, ok, error) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(utc_key(at), adapter, t, mask_text(json.dumps(ch, ensure_ascii=False, sort_keys=True)), ",".join(codes),
                  int(ok), mask_text(err) if err else err)
                 for t, ch, codes, ok, err in rows],
            )

    def audit_rows(self, adapter: str | None = None) -> list[dict[str, Any]]:
        """The audit log, oldest first."""
        sql = "SELECT seq, at, adapter, ticket_id, changes, codes, ok, error FROM audit"
        rows = self.db.execute(sql + (" WHERE adapter = ?" if adapter else "") + " ORDER BY seq", (adapter,) if adapter else ())
        keys = ("seq", "at", "adapter", "ticket_id", "changes", "codes", "ok", "error")
        return [dict(zip(keys, r)) for r in rows]

    def escalated_levels(self, adapter: str, ticket_id: str) -> set[int]:
        """The escalation levels already sent for a ticket."""
        rows = self.db.execute("SELECT level FROM escalations WHERE adapter = ? AND ticket_id = ?", (adapter, ticket_id))
        return {r[0] for r in rows}

    def record_escalations(self, adapter: str, at: datetime, rows: Iterable[tuple[str, int, str | None]]) -> None:
        """Remember escalations that were written: (ticket id, level, target)."""
        with self.db:
            self.db.executemany(
                "INSERT OR IGNORE INTO escalations (adapter, ticket_id, level, target, at) VALUES (?, ?, ?, ?, ?)",
                [(adapter, t, level, target, utc_key(at)) for t, level, target in rows],
            )
