"""SQLite transactions for the files govhall writes (the state store, the embedded helpdesk).

Connections are opened with ``isolation_level=None``, so Python opens no
transaction of its own: :func:`transaction` is the one place that does.
"""
from __future__ import annotations

import contextlib
import sqlite3
import time
from typing import Iterator


@contextlib.contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One SQLite transaction (``BEGIN IMMEDIATE``): committed at the end, rolled back on any error."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def use_wal(db: sqlite3.Connection, wait: float = 10.0) -> None:
    """Put the file in WAL mode with ``synchronous=NORMAL``, as govhall opens its SQLite files.

    Switching a new file to WAL takes a lock that SQLite does not wait for, whatever the connection's busy
    timeout. So two processes opening the same new file at once (two runs started together) got "database
    is locked" at once, in about one try in six measured. The switch is tried again for up to ``wait`` seconds.
    """
    deadline = time.monotonic() + wait
    pause = 0.005
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as exc:
            if not ("locked" in str(exc) or "busy" in str(exc)) or time.monotonic() >= deadline:
                raise
            time.sleep(pause)
            pause = min(2 * pause, 0.1)
    db.execute("PRAGMA synchronous=NORMAL")
