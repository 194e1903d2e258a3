"""SQLite transactions for the files govhall writes (the state store, the embedded helpdesk).

Connections are opened with ``isolation_level=None``, so Python opens no
transaction of its own: :func:`transaction` is the one place that does.
"""
from __future__ import annotations

import contextlib
import sqlite3
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
