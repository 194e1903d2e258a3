"""The ``local`` adapter: an embedded helpdesk in one SQLite file.

Tickets are stored in the interchange format (their ``assignee`` is the
interchange's actor; an escalation with ``assign = true`` makes the target the
assignee, ``{"id": target, "role": "staff"}``). On first use (the first pull,
not when the adapter is made, so that a caller can set :attr:`LocalAdapter.progress`
to show it) an empty file is filled from a seed file (``examples/tickets.json``
by default). Every change bumps a global ``version``, which is the sync cursor;
changes written by govhall are
marked ``last_writer = 'govhall'`` and are not pulled again (they are govhall's
own echo) unless the sync loop asks for every ticket (``skip_echoes`` false).
Internal notes are stored as non-public ``reply`` events by the ``govhall``
system actor, so their markers are visible to the next evaluation.

Writes are based on the version read: a ticket that a person changed between
govhall's read and its write is not written (the write fails, naming the
reason; the next run reads the new version). Every multi-row write is one
SQLite transaction.

``govhall local show ID`` and ``govhall local list`` let a person look inside,
``govhall local import FILE`` adds or updates tickets, ``govhall local reset``
starts the demo over (:mod:`govhall_adapters.local_commands`, a command-line plugin of its own so
that the adapter never imports the CLI).
"""
from __future__ import annotations

import contextlib
import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Protocol, Sequence

from govhall_sdk import hookimpl
from govhall_sdk.adapter import Adapter, Page, WriteOutcome, gone
from govhall_sdk.model import Patch, Ticket
from govhall_sdk.parse import Parsed, parse_item
from govhall_sdk.reader import decode, iter_raw
from govhall_sdk.storage import transaction, use_wal

GOVHALL = "govhall"
SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    id TEXT PRIMARY KEY, version INTEGER NOT NULL, last_writer TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS tickets_version ON tickets (version);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class Bar(Protocol):
    """A progress bar as :data:`Progress` gives it (a ``tqdm`` bar has these)."""

    def update(self, n: int = 1) -> Any: ...

    def close(self) -> Any: ...


#: ``progress(what, total, unit)`` -> a :class:`Bar`: how a caller (the command line) shows long work.
Progress = Callable[[str, "int | None", str], Bar]


class LoadRefused(ValueError):
    """An interchange file with tickets that cannot be stored: nothing of it was stored."""

    def __init__(self, path: Path, problems: Sequence[str]):
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        super().__init__(f"{path}: {len(problems)} ticket(s) refused, nothing imported: {shown}")
        self.problems = list(problems)


class LocalHelpdesk:
    """The embedded helpdesk's storage; also what tests use to play the human side."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, isolation_level=None, timeout=10)
        use_wal(self.db)
        self.db.executescript(SCHEMA)

    @property
    def empty(self) -> bool:
        """True when no ticket has ever been stored."""
        return self.db.execute("SELECT 1 FROM tickets LIMIT 1").fetchone() is None

    def _next_version(self) -> int:
        return (self.db.execute("SELECT coalesce(max(version), 0) FROM tickets").fetchone()[0]) + 1

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """One SQLite transaction (``BEGIN IMMEDIATE``): committed at the end, rolled back on any error."""
        return transaction(self.db)

    def seed(self, path: str | Path, progress: Progress | None = None) -> int:
        """Load tickets from an interchange file (as a human would have entered them); how many."""
        return sum(self.load(path, progress=progress, what="seeding demo helpdesk"))

    def load(self, path: str | Path, *, check: Callable[[str, Any], str | None] | None = None,
             progress: Progress | None = None, what: str | None = None) -> tuple[int, int]:
        """Add or update the tickets of an interchange file (``{"tickets": [...]}`` or JSON Lines) in one
        transaction, as a human would have entered them; ``(added, updated)``.

        ``check(where, raw)`` returns what is wrong with a raw ticket, or None; with it,
        a line that is not JSON is reported too, and when anything is wrong nothing is
        stored (:class:`LoadRefused` names every problem). ``progress(what, bytes, "B")``
        gives a bar that follows the file as it is read.
        """
        path = Path(path)
        problems: list[str] = []
        with open(path, encoding="utf-8") as fh:
            bar = progress(what or "loading tickets", path.stat().st_size, "B") if progress else None

            def items() -> Iterator[dict[str, Any]]:
                read = 0
                for item in iter_raw(fh, str(path)):
                    where = item.where
                    if bar is not None:
                        bar.update(fh.buffer.tell() - read)
                        read = fh.buffer.tell()
                    try:
                        raw = decode(item)  # ValueError naming the line: not JSON, too deep, invalid UTF-8
                    except ValueError as exc:
                        if check is None:
                            raise
                        problems.append(str(exc) if str(exc).startswith(f"{where}:") else f"{where}: {exc}")
                        continue
                    problem = check(where, raw) if check else None
                    if problem:
                        problems.append(problem)
                    else:
                        yield raw
                if problems:  # raised inside the transaction: it is rolled back, nothing stored
                    raise LoadRefused(path, problems)

            try:
                return self._upsert(items(), "human")
            finally:
                if bar is not None:
                    bar.close()

    def put_many(self, tickets: Any, writer: str = "human") -> int:
        """Insert or replace raw interchange tickets in one transaction."""
        return sum(self._upsert(tickets, writer))

    def _upsert(self, tickets: Iterable[Mapping[str, Any]], writer: str) -> tuple[int, int]:
        """Insert or replace raw tickets in one transaction; ``(added, updated)``."""
        added = updated = 0
        with self.transaction():
            version = self._next_version()
            for raw in tickets:
                ticket_id = str(raw.get("id"))
                known = self.db.execute("SELECT 1 FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
                self.db.execute(
                    "INSERT INTO tickets (id, version, last_writer, data) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (id) DO UPDATE SET version = excluded.version, "
                    "last_writer = excluded.last_writer, data = excluded.data",
                    (ticket_id, version + added + updated, writer, json.dumps(raw, ensure_ascii=False)),
                )
                if known:
                    updated += 1
                else:
                    added += 1
        return added, updated

    def put(self, raw: Mapping[str, Any], writer: str = "human") -> None:
        """Insert or replace one raw ticket."""
        self.put_many([dict(raw)], writer)

    def get(self, ticket_id: str) -> dict[str, Any] | None:
        """One raw ticket, or None."""
        row = self.db.execute("SELECT data FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def all(self) -> list[dict[str, Any]]:
        """Every raw ticket, by id."""
        return [json.loads(r[0]) for r in self.db.execute("SELECT data FROM tickets ORDER BY id")]

    def close(self) -> None:
        """Close the file."""
        self.db.close()


def apply_patch(raw: dict[str, Any], patch: Patch, at: datetime) -> dict[str, Any]:
    """A raw ticket with a patch applied: tags, fields, notes as internal replies, assignee."""
    tags = [t for t in raw.get("tags") or [] if t not in patch.remove_tags]
    tags.extend(t for t in patch.add_tags if t not in tags)
    raw["tags"] = tags
    raw["fields"] = {**(raw.get("fields") or {}), **patch.fields}
    events = raw.setdefault("events", [])
    for note in patch.notes:
        events.append({"type": "reply", "at": at.isoformat(), "public": False, "body": note.body,
                       "actor": {"id": GOVHALL, "name": "govhall", "role": "system"}})
    if patch.assign:  # the escalation target, as an interchange actor (kept whole when it is already the assignee)
        current = raw.get("assignee")
        if not (isinstance(current, dict) and current.get("id") == patch.assign):
            raw["assignee"] = {"id": patch.assign, "role": "staff"}
    return raw


class LocalAdapter(Adapter):
    """The embedded helpdesk (``[adapter] type = "local"``).

    Settings: ``path`` of the SQLite file and ``seed``, the interchange file it is
    created from on first use (both relative to the config file).
    """

    name = "local"
    settings_schema = {"path": ".govhall/helpdesk.sqlite", "seed": "tickets.json"}
    #: Set by the caller to show the seeding of a new helpdesk (the command line sets a terminal bar).
    progress: Progress | None = None
    #: How many tickets :meth:`ready` seeded the helpdesk with (0: it was not empty, or there is no seed).
    seeded: int = 0

    def __init__(self, settings: Mapping[str, Any], config: Any):
        super().__init__(settings, config)
        self.now: datetime | None = None
        self._read: dict[str, int] = {}  # ticket id -> the version read, for writes based on it
        self.helpdesk = LocalHelpdesk(config.resolve(self.settings["path"]))
        self._seeded = False

    def ready(self) -> LocalHelpdesk:
        """The helpdesk, seeded first when it is empty (on first use, so that :attr:`progress` can show it).

        Every method that reads or writes tickets calls it; :attr:`seeded` says how many came from the seed.
        """
        if not self._seeded:
            self._seeded = True
            if self.helpdesk.empty:
                seed = self.config.resolve(self.settings["seed"])
                if seed.is_file():
                    self.seeded = self.helpdesk.seed(seed, progress=self.progress)
        return self.helpdesk

    def _parse(self, ticket_id: str, version: int, data: str) -> Parsed:
        self._read[ticket_id] = version
        return parse_item(ticket_id, data, self.config.adapter_timezone, ticket_id, strict=self.config.strict)

    @staticmethod
    def _version(cursor: str | None) -> int:
        """The version a cursor names; a cursor that is not one is a usage error."""
        if cursor in (None, ""):
            return 0
        try:
            return int(cursor)
        except ValueError:
            raise ValueError(f"the local adapter's cursor is a version number, got {cursor!r}") from None

    def pull(self, cursor: str | None, page_size: int = 100) -> Iterator[Page]:
        """Tickets changed after version ``cursor``, in version order (without govhall's echoes when ``skip_echoes``)."""
        version = self._version(cursor)
        ceiling = self._ceiling()
        while True:
            rows = self.ready().db.execute(
                f"SELECT id, version, data FROM tickets WHERE {self.CHANGED} ORDER BY version LIMIT ?",
                (version, GOVHALL, ceiling, page_size),
            ).fetchall()
            if not rows:
                return
            version = rows[-1][1]
            yield Page([self._parse(tid, v, data) for tid, v, data in rows], str(version))

    #: The tickets :meth:`pull` reads: changed after a version, not govhall's echo (above the ceiling).
    CHANGED = "version > ? AND (last_writer != ? OR version <= ?)"

    def _ceiling(self) -> int:
        """When every ticket is wanted govhall's own writes up to the pass's horizon are read too; its
        later writes are the pass's own echo."""
        return 0 if self.skip_echoes else int(self.echo_horizon or self.current_echo_horizon())

    def pending(self, cursor: str | None) -> int:
        """How many tickets :meth:`pull` will read from ``cursor`` (the total of a progress bar)."""
        return self.ready().db.execute(f"SELECT count(*) FROM tickets WHERE {self.CHANGED}",
                                       (self._version(cursor), GOVHALL, self._ceiling())).fetchone()[0]

    def current_echo_horizon(self) -> str:
        """The latest version: govhall's writes up to it are read in a pass over every ticket."""
        return str(self.ready()._next_version() - 1)

    def fetch(self, ids: Sequence[str]) -> Iterator[Parsed]:
        """The stored tickets with these ids; an unknown id is :func:`~govhall_sdk.adapter.gone`."""
        marks = ",".join("?" * len(ids))
        found = {tid: (v, data) for tid, v, data in self.ready().db.execute(
            f"SELECT id, version, data FROM tickets WHERE id IN ({marks})", list(ids))}
        for tid in ids:
            if tid in found:
                yield self._parse(tid, *found[tid])
            else:
                yield gone(tid)

    def apply(self, writes: Sequence[tuple[Ticket, Patch]]) -> list[WriteOutcome]:
        """Apply every patch of a page in one transaction (the local bulk update)."""
        at = self.now or datetime.now(timezone.utc)
        db = self.ready().db
        outcomes = []
        with self.helpdesk.transaction():
            version = self.helpdesk._next_version()
            for ticket, patch in writes:
                row = db.execute("SELECT version, data FROM tickets WHERE id = ?", (ticket.id,)).fetchone()
                if row is None:
                    outcomes.append(WriteOutcome(ticket.id, False, "no such ticket"))
                    continue
                read = self._read.get(ticket.id)
                if read is not None and row[0] != read:
                    outcomes.append(WriteOutcome(ticket.id, False, f"changed since it was read (version {read}, now "
                                                                   f"{row[0]}): not written; the next run reads it again"))
                    continue
                data = json.dumps(apply_patch(json.loads(row[1]), patch, at), ensure_ascii=False)
                db.execute("UPDATE tickets SET version = ?, last_writer = ?, data = ? WHERE id = ?",
                           (version, GOVHALL, data, ticket.id))
                version += 1
                outcomes.append(WriteOutcome(ticket.id, True))
        return outcomes

    def close(self) -> None:
        """Close the helpdesk file."""
        self.helpdesk.close()


@hookimpl
def govhall_register_adapters(register):
    """The embedded helpdesk."""
    register("local", LocalAdapter)
