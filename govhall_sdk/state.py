"""The sync state store: one SQLite file.

- ``cursors``: per adapter, the opaque cursor after the last fully written page;
- ``schedule``: per ticket, the next instant its result can change by time alone
  (``''`` = as soon as possible: a page in flight, or a write to retry);
- ``audit``: every write attempted (ticket, changes, codes, when, outcome);
- ``escalations``: each escalation level reached per ticket, so none is sent twice;
- ``results``: per ticket, the record of its latest evaluation (:mod:`govhall_sdk.results`),
  the source of every supervisor's report; ``contacts``: the unmasked phone of a
  proxy ticket's applicant (the ledger's 申请人信息), apart from the masked record;
- ``finding_history``: every finding a ticket had (its code and key), when an
  evaluation first showed it and when one first no longer did;
- ``meta``: per adapter, the fingerprint of the rules the last complete run used,
  and who holds the run lock.

Every write that belongs together is one SQLite transaction (``BEGIN IMMEDIATE``
... ``COMMIT``, rolled back on any error). One ``govhall run`` at a time: the run
lock (:meth:`StateStore.lock`) is an exclusive ``flock`` on ``<state>.lock``
through the ``filelock`` library, which the operating system releases when the
process ends in any way, SIGKILL included, so nobody has to clean it up.
"""
from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import sqlite3
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import filelock
import orjson

from .redaction import scrub
from .results import finding_identity
from .storage import transaction, use_wal

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
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS results (
    adapter TEXT NOT NULL, ticket_id TEXT NOT NULL, evaluated_at TEXT NOT NULL, light TEXT, codes TEXT NOT NULL,
    record TEXT NOT NULL, PRIMARY KEY (adapter, ticket_id));
CREATE TABLE IF NOT EXISTS contacts (
    adapter TEXT NOT NULL, ticket_id TEXT NOT NULL, phone TEXT NOT NULL, PRIMARY KEY (adapter, ticket_id));
CREATE TABLE IF NOT EXISTS finding_history (
    adapter TEXT NOT NULL, ticket_id TEXT NOT NULL, identity TEXT NOT NULL, code TEXT NOT NULL,
    staff TEXT, department TEXT, at TEXT NOT NULL, appeared_at TEXT NOT NULL, cleared_at TEXT);
CREATE INDEX IF NOT EXISTS finding_history_open ON finding_history (adapter, ticket_id, cleared_at);
"""
ASAP = ""
#: The columns of :meth:`StateStore.finding_history`, in order.
HISTORY_COLUMNS = ("adapter", "ticket_id", "code", "staff", "department", "at", "appeared_at", "cleared_at")


class StateError(RuntimeError):
    """The state store cannot be used; the message names the file and what to do."""


class StateLocked(StateError):
    """Another ``govhall run`` holds the state store's run lock."""


def _reason(exc: BaseException) -> str:
    """What went wrong with the state file, for people."""
    text = str(exc)
    if isinstance(exc, sqlite3.DatabaseError) and "not a database" in text:
        return "it is not a govhall state store (corrupt, or another file)"
    if "disk is full" in text or getattr(exc, "errno", None) == errno.ENOSPC:
        return "the disk is full"
    if "readonly" in text or "read-only" in text or isinstance(exc, PermissionError):
        return "it cannot be written (read-only file or folder, or no permission)"
    if "locked" in text or "busy" in text:
        return "it is locked by another process"
    return text or type(exc).__name__


def state_error(path: Path, exc: BaseException) -> StateError:
    """One line naming the state file, the problem and what to do."""
    return StateError(f"state store {path}: {_reason(exc)}; fix it, or move it away to start afresh "
                      "(every open ticket is then evaluated again; nothing is written twice)")


def utc_key(instant: datetime) -> str:
    """A sortable UTC text form of an instant."""
    return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")


class AdapterMemory:
    """What one adapter keeps across runs (``Adapter.memory``): text values by key, each change committed
    at once, so a run killed right after a change still finds it."""

    def __init__(self, state: "StateStore", adapter: str):
        self._state, self._prefix = state, f"memory:{adapter}:"

    def get(self, key: str) -> str | None:
        """The value kept under ``key``, or None."""
        return self._state.meta(self._prefix + key)

    def set(self, key: str, value: str) -> None:
        """Keep ``value`` under ``key``."""
        self._state.set_meta(self._prefix + key, value)

    def delete(self, key: str) -> None:
        """Forget ``key`` (nothing happens when it is not kept)."""
        with self._state.transaction():
            self._state.db.execute("DELETE FROM meta WHERE key = ?", (self._prefix + key,))

    def items(self, prefix: str = "") -> dict[str, str]:
        """Every key kept that starts with ``prefix``, with its value."""
        start = self._prefix + prefix
        rows = self._state.db.execute("SELECT key, value FROM meta WHERE substr(key, 1, ?) = ?", (len(start), start))
        return {key[len(self._prefix):]: value for key, value in rows}


class StateStore:
    """The state of ``govhall run`` for one config; safe to reopen after a crash."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if self.path.is_dir():
            raise StateError(f"state store {self.path}: it is a folder, not a file; set [state] path to a file")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            new = not self.path.exists()
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=10)
            if new:  # it holds applicants' phones (``contacts``): its owner only (SQLite gives -wal the same mode)
                os.chmod(self.path, 0o600)
            use_wal(self.db)
            with self.transaction():
                for statement in filter(str.strip, SCHEMA.split(";")):
                    self.db.execute(statement)
        except (sqlite3.Error, OSError) as exc:
            raise state_error(self.path, exc) from None
        self._lock: filelock.BaseFileLock | None = None

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """One SQLite transaction: committed at the end, rolled back on any error."""
        return transaction(self.db)

    # -- one run at a time
    def lock(self, wait: float | None = None) -> "StateStore":
        """Take the run lock (waiting up to ``wait`` seconds; None: not at all) and record the holder.

        :raises StateLocked: another run holds it; the message names it (pid, host, since when).
        """
        lock = filelock.FileLock(str(self.path) + ".lock", thread_local=False)
        try:
            lock.acquire(timeout=wait if wait is not None else 0)
        except filelock.Timeout:
            raise StateLocked(f"state store {self.path} is in use by another govhall run ({self._holder_soon()}); "
                              "wait for it to finish, or give --wait SECONDS") from None
        self._lock = lock
        holder = {"pid": os.getpid(), "host": socket.gethostname(),
                  "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        self.set_meta("holder", json.dumps(holder))
        return self

    def _holder_soon(self, patience: float = 2.0) -> str:
        """:meth:`holder`, once the run that just took the lock of a new state store has recorded itself (it
        does right after taking it): two runs started together, the refused one names the other's pid."""
        deadline = time.monotonic() + patience
        while self.meta("holder") is None and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.holder()

    def holder(self) -> str:
        """Who holds (or last held) the run lock, for the refusal message."""
        raw = self.meta("holder")
        if not raw:
            return "holder unknown"
        info = json.loads(raw)
        return f"pid {info.get('pid')} on {info.get('host')} since {info.get('since')}"

    def unlock(self) -> None:
        """Release the run lock (also released by the system when the process ends)."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def meta(self, key: str) -> str | None:
        """A value of the ``meta`` table."""
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Store a value in the ``meta`` table."""
        with self.transaction():
            self.db.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                            "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    def memory(self, adapter: str) -> AdapterMemory:
        """What an adapter keeps across runs (:class:`AdapterMemory`)."""
        return AdapterMemory(self, adapter)

    def fingerprint(self, adapter: str) -> str | None:
        """The rules fingerprint of the adapter's last complete run."""
        return self.meta(f"fingerprint:{adapter}")

    def begin_full_pass(self, adapter: str, fingerprint: str, horizon: str | None) -> None:
        """Remember that a pass over every ticket began (with the adapter's echo horizon); the cursor starts over."""
        with self.transaction():
            self.db.execute("DELETE FROM cursors WHERE adapter = ?", (adapter,))
            self.db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = "
                            "excluded.value", (f"full_pass:{adapter}",
                                               json.dumps({"fingerprint": fingerprint, "horizon": horizon})))

    def finish_full_pass(self, adapter: str, fingerprint: str) -> None:
        """The pass over every ticket is complete: its fingerprint is the one in force."""
        with self.transaction():
            self.db.execute("DELETE FROM meta WHERE key = ?", (f"full_pass:{adapter}",))
            self.db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = "
                            "excluded.value", (f"fingerprint:{adapter}", fingerprint))

    def close(self) -> None:
        """Release the run lock and close the database."""
        self.unlock()
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
        with self.transaction():
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
        with self.transaction():
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
        with self.transaction():
            self.db.executemany(
                "INSERT INTO audit (at, adapter, ticket_id, changes, codes, ok, error) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(utc_key(at), adapter, t, scrub(json.dumps(ch, ensure_ascii=False, sort_keys=True)), ",".join(codes),
                  int(ok), scrub(err) if err else err)
                 for t, ch, codes, ok, err in rows],
            )

    def _select(self, table: str, columns: Sequence[str], adapter: str | None, order: str) -> Any:
        """The rows of ``columns`` of ``table`` (of one adapter, or of all), in ``order``."""
        sql = f"SELECT {', '.join(columns)} FROM {table}" + (" WHERE adapter = ?" if adapter else "")
        return self.db.execute(f"{sql} ORDER BY {order}", (adapter,) if adapter else ())

    def _dicts(self, table: str, columns: Sequence[str], adapter: str | None, order: str) -> list[dict[str, Any]]:
        """:meth:`_select` as one dict per row, by column name."""
        return [dict(zip(columns, r)) for r in self._select(table, columns, adapter, order)]

    def audit_rows(self, adapter: str | None = None) -> list[dict[str, Any]]:
        """The audit log, oldest first."""
        return self._dicts("audit", ("seq", "at", "adapter", "ticket_id", "changes", "codes", "ok", "error"),
                           adapter, "seq")

    def escalated_levels(self, adapter: str, ticket_id: str) -> set[int]:
        """The escalation levels already sent for a ticket."""
        rows = self.db.execute("SELECT level FROM escalations WHERE adapter = ? AND ticket_id = ?", (adapter, ticket_id))
        return {r[0] for r in rows}

    def record_escalations(self, adapter: str, at: datetime, rows: Iterable[tuple[str, int, str | None]]) -> None:
        """Remember escalations that were written: (ticket id, level, target)."""
        with self.transaction():
            self.db.executemany(
                "INSERT OR IGNORE INTO escalations (adapter, ticket_id, level, target, at) VALUES (?, ?, ?, ?, ?)",
                [(adapter, t, level, target, utc_key(at)) for t, level, target in rows],
            )

    # -- the results store: the source of supervisors' reports
    def store_results(self, adapter: str, at: datetime,
                      rows: Sequence[tuple[dict[str, Any], str | None]]) -> None:
        """Keep each ticket's latest evaluation and the history of its findings, in one transaction.

        ``rows`` are (record, unmasked contact phone or None) as :mod:`govhall_sdk.results` builds them.
        A finding (code and key) not open in the history opens a row appearing ``at``; an open one the
        new record no longer has is cleared ``at``.
        """
        if not rows:
            return
        stamp = utc_key(at)
        ids = [record["id"] for record, _ in rows]
        with self.transaction():
            open_rows: dict[str, set[str]] = {}
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                marks = ",".join("?" * len(chunk))
                for tid, identity in self.db.execute(
                        f"SELECT ticket_id, identity FROM finding_history WHERE adapter = ? AND cleared_at IS NULL "
                        f"AND ticket_id IN ({marks})", (adapter, *chunk)):
                    open_rows.setdefault(tid, set()).add(identity)
            opened, cleared = [], []
            for record, _ in rows:
                tid = record["id"]
                now_open = {finding_identity(f): f for f in record["findings"]}
                before = open_rows.get(tid, set())
                opened.extend((adapter, tid, identity, f["code"], f["staff"], f["department"], f["at"], stamp)
                              for identity, f in now_open.items() if identity not in before)
                cleared.extend((stamp, adapter, tid, identity) for identity in before - now_open.keys())
            self.db.executemany(
                "INSERT INTO finding_history (adapter, ticket_id, identity, code, staff, department, at, appeared_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", opened)
            self.db.executemany(
                "UPDATE finding_history SET cleared_at = ? WHERE adapter = ? AND ticket_id = ? AND identity = ? "
                "AND cleared_at IS NULL", cleared)
            self.db.executemany(
                "INSERT INTO results (adapter, ticket_id, evaluated_at, light, codes, record) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (adapter, ticket_id) DO UPDATE SET evaluated_at = excluded.evaluated_at, "
                "light = excluded.light, codes = excluded.codes, record = excluded.record",
                [(adapter, record["id"], stamp, record["light"], " ".join(f["code"] for f in record["findings"]),
                  orjson.dumps(record).decode()) for record, _ in rows])
            self.db.executemany("DELETE FROM contacts WHERE adapter = ? AND ticket_id = ?",
                                [(adapter, record["id"]) for record, phone in rows if not phone])
            self.db.executemany(
                "INSERT INTO contacts (adapter, ticket_id, phone) VALUES (?, ?, ?) "
                "ON CONFLICT (adapter, ticket_id) DO UPDATE SET phone = excluded.phone",
                [(adapter, record["id"], phone) for record, phone in rows if phone])

    def forget_results(self, adapter: str, ticket_ids: Sequence[str], at: datetime) -> None:
        """Tickets the helpdesk no longer has (deleted, merged): their records and contacts go, and their open
        findings are cleared ``at``; the history of what they had stays."""
        rows = [(adapter, t) for t in ticket_ids]
        if not rows:
            return
        with self.transaction():
            self.db.executemany("DELETE FROM results WHERE adapter = ? AND ticket_id = ?", rows)
            self.db.executemany("DELETE FROM contacts WHERE adapter = ? AND ticket_id = ?", rows)
            self.db.executemany("UPDATE finding_history SET cleared_at = ? WHERE adapter = ? AND ticket_id = ? "
                                "AND cleared_at IS NULL", [(utc_key(at), a, t) for a, t in rows])

    def results(self, adapter: str | None = None,
                decode: Callable[[bytes], dict[str, Any]] = orjson.loads) -> Iterable[dict[str, Any]]:
        """The latest record of every ticket (of one adapter, or of all), in ticket order; each carries its
        ``adapter``. Records are JSON text, encoded with orjson and read by ``decode``: orjson's whole record
        by default (about half the time of the json module); the reports pass one that keeps only the keys
        they read. Decoding 100,000 records is most of what loading them costs. They are read as bytes,
        which both decode as they are, rather than as ``str`` (SQLite's UTF-8 decoded to text first, a
        tenth of the load)."""
        for name, raw in self._select("results", ("adapter", "CAST(record AS BLOB)"), adapter, "adapter, ticket_id"):
            record = decode(raw)
            record["adapter"] = name
            yield record

    def on_record(self, adapter: str) -> tuple[int, Counter, Counter]:
        """Over every ticket on record for an adapter (not only a run's): their number, the lights now
        (``none`` for no clock) and the findings by code."""
        lights: Counter = Counter()
        codes: Counter = Counter()
        total = 0
        for light, text in self.db.execute("SELECT light, codes FROM results WHERE adapter = ?", (adapter,)):
            total += 1
            lights[light or "none"] += 1
            codes.update(text.split())
        return total, lights, codes

    def contacts(self, adapter: str | None = None) -> dict[tuple[str, str], str]:
        """The unmasked phones of proxy tickets' applicants, by (adapter, ticket id)."""
        rows = self._select("contacts", ("adapter", "ticket_id", "phone"), adapter, "adapter, ticket_id")
        return {(a, t): phone for a, t, phone in rows}

    def finding_history(self, adapter: str | None = None) -> list[dict[str, Any]]:
        """Every finding a ticket had, with when it appeared and cleared (None while it holds), oldest first;
        instants as UTC keys (:func:`utc_key`)."""
        return [dict(zip(HISTORY_COLUMNS, row)) for row in self.finding_history_rows(adapter)]

    def finding_history_rows(self, adapter: str | None = None) -> Iterable[tuple[Any, ...]]:
        """:meth:`finding_history` as tuples of :data:`HISTORY_COLUMNS` (no dict per row: a report reads
        100,000s of them)."""
        return self._select("finding_history", HISTORY_COLUMNS, adapter, "appeared_at, adapter, ticket_id, identity")

    def escalation_rows(self, adapter: str | None = None) -> list[dict[str, Any]]:
        """Every escalation sent: adapter, ticket, level, target, when (a UTC key), oldest first."""
        return self._dicts("escalations", ("adapter", "ticket_id", "level", "target", "at"), adapter,
                           "at, adapter, ticket_id, level")
