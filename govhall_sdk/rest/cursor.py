"""Resumable walks over an "updated since" filter: the cursor, its keyset paginator, the shared walk.

:class:`UpdatedSinceWalk` is the pull of every adapter whose platform lists
tickets by an updated-at filter with page numbers (Freshdesk, Zammad, Redmine):
it declares only how the filter is written (:meth:`UpdatedSinceWalk.set_since`)
and the page parameters. Re-anchoring after every page
(:class:`UpdatedSincePaginator`) means govhall's own writes between pages, which
move a ticket to the end of the order, never make the walk skip one, and
platform page caps are never reached. The stored cursor is a :class:`SyncCursor`.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any, Callable, ClassVar, Sequence

from .base import RESTAdapter
from .paginators import PaginationLoop, Paginator

#: Where a first pull starts when ``[adapter] start`` says nothing readable.
DEFAULT_START = datetime(2000, 1, 1, tzinfo=timezone.utc)


def iso_utc(instant: datetime) -> str:
    """An instant as ``YYYY-MM-DDTHH:MM:SSZ`` (what most helpdesk filters accept)."""
    return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(value: Any) -> datetime | None:
    """An aware datetime from an ISO 8601 string (``Z`` allowed), or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


class SyncCursor:
    """Where an updated-at walk stands: ``since`` and the ``{id: updated_at}`` seen at or after it.

    Serialised as compact JSON. A plain instant or date (``govhall run --since
    2025-01-01``) is accepted too; a naive one is read in ``tz``.
    """

    def __init__(self, since: datetime, seen: dict[str, str] | None = None):
        self.since, self.seen = since, dict(seen or {})

    @classmethod
    def parse(cls, text: str | None, default: datetime, tz: tzinfo) -> "SyncCursor":
        if not text:
            return cls(default)
        try:
            if text.lstrip().startswith("{"):
                data = json.loads(text)
                since = datetime.fromisoformat(data["since"])
                seen = {str(k): str(v) for k, v in (data.get("seen") or {}).items()}
            else:
                since, seen = datetime.fromisoformat(text.strip()), {}
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ValueError(f"sync cursor {text[:60]!r} is neither an instant nor a govhall cursor") from None
        return cls(since if since.tzinfo else since.replace(tzinfo=tz), seen)

    def dump(self) -> str:
        return json.dumps({"since": self.since.isoformat(), "seen": self.seen}, separators=(",", ":"), sort_keys=True)


class UpdatedSincePaginator(Paginator):
    """Keyset paging over an "updated since" filter ordered by ``updated_at`` ascending.

    After each page the filter is re-anchored at the newest ``updated_at`` taken
    (minus ``slack``, the timestamp resolution, so an inclusive or an exclusive
    filter both work) and the page number goes back to 1. Records already taken
    with the same ``updated_at`` are dropped (the boundary). Only a page made
    entirely of records already taken (more ties at one instant than a page holds)
    moves on to the next page number at the same anchor; ``max_page`` is the
    platform's cap on that number.

    Call :meth:`take` on each page's records before using them; :attr:`cursor`
    is then the cursor to store once they are written. ``settle`` keeps the stored
    cursor that many seconds behind ``now`` (for search indexes that lag behind
    the database); the walk itself is not held back.
    """

    def __init__(self, cursor: SyncCursor, *, per_page: int, set_since: Callable[[dict[str, Any], datetime], None],
                 key: Callable[[Any], tuple[str, str]], slack: float = 1.0, settle: float = 0.0,
                 now: datetime | None = None, page_param: str = "page", size_param: str = "per_page",
                 max_page: int | None = None, **kw: Any):
        super().__init__(**kw)
        self.per_page, self.set_since, self.key = per_page, set_since, key
        self.slack, self.settle, self.now = timedelta(seconds=slack), timedelta(seconds=settle), now
        self.page_param, self.size_param, self.max_page = page_param, size_param, max_page
        self.anchor = self.start = cursor.since
        self.seen = dict(cursor.seen)
        self.page = 1
        self.taken = 0
        self._token: tuple[Any, ...] = ()

    def _set(self, params: dict[str, Any]) -> None:
        if self.max_page is not None and self.page > self.max_page:
            raise PaginationLoop(f"more than {self.per_page * self.max_page} records share updated_at "
                                 f"{self.anchor.isoformat()}; the platform pages no further than {self.max_page}")
        since = self.anchor - self.slack
        self.set_since(params, since)
        params[self.page_param], params[self.size_param] = self.page, self.per_page
        self._token = (since.isoformat(), self.page, self.taken)

    def init_request(self, params: dict[str, Any]) -> None:
        self._set(params)

    def take(self, records: Sequence[Any]) -> list[Any]:
        """The records not taken before; advances the anchor and the page number."""
        fresh = []
        for record in records:
            rid, at = self.key(record)
            if self.seen.get(rid) == at:
                continue
            fresh.append(record)
            self.seen[rid] = at
            when = parse_instant(at)
            if when is not None and when > self.anchor:
                self.anchor = when
        self.taken += len(fresh)
        self.page = 1 if fresh else self.page + 1
        floor = min(self.anchor, self._held()) - self.slack
        self.seen = {k: v for k, v in self.seen.items() if (parse_instant(v) or floor) >= floor}
        return fresh

    def _held(self) -> datetime:
        if self.now is None or not self.settle:
            return self.anchor
        hold = self.now - self.settle
        return self.anchor if hold <= self.start else min(self.anchor, hold)  # a past ``now`` holds nothing

    @property
    def cursor(self) -> str:
        """The cursor that resumes after every record taken so far."""
        since = self._held()
        floor = since - self.slack
        return SyncCursor(since, {k: v for k, v in self.seen.items() if (parse_instant(v) or floor) >= floor}).dump()

    def update_state(self, response: Any, records: list[Any]) -> None:
        self._guard(self._token)
        self.has_next_page = len(records) >= self.per_page

    def update_request(self, request: dict[str, Any]) -> None:
        self._set(request["params"])


class UpdatedSinceWalk(RESTAdapter):
    """The shared pull over an "updated since" filter, oldest first, re-anchored after every page.

    A subclass declares ``tickets_path``, ``records_path``, the page parameters
    (``page_param``, ``size_param``) and writes :meth:`set_since`; ``max_page`` is
    the platform's cap on the page number. ``[adapter] start`` is where a first
    pull begins and ``settle_seconds`` keeps the stored cursor that far behind the
    run's ``now`` (for search indexes that lag). Records that are govhall's own
    echo (:meth:`RESTAdapter.remember_echo`) are counted in ``Page.skipped``.
    """

    page_param: ClassVar[str] = "page"
    size_param: ClassVar[str] = "per_page"
    #: The filter's resolution in seconds (inclusive and exclusive filters both work with it).
    since_slack: ClassVar[float] = 1.0
    walk: ClassVar[type[UpdatedSincePaginator]] = UpdatedSincePaginator

    def set_since(self, params: dict[str, Any], since: datetime) -> None:
        """Write "updated at or after ``since``" into the list's query."""
        raise NotImplementedError

    def max_page(self, per_page: int) -> int | None:
        """The highest page number the platform serves, or None."""
        return None

    def per_page(self, page_size: int) -> int:
        """Records per request: the sync loop's page size, within ``[adapter] per_page``."""
        return min(page_size, self.settings["per_page"])

    def start(self) -> datetime:
        """Where a pull without a cursor begins (``[adapter] start``)."""
        return parse_instant(self.settings.get("start")) or DEFAULT_START

    def new_paginator(self, cursor: str | None, page_size: int, **extra: Any) -> UpdatedSincePaginator:
        per_page = self.per_page(page_size)
        return self.walk(SyncCursor.parse(cursor, self.start(), self.config.timezone), per_page=per_page,
                         key=lambda r: (self.ticket_id(r), str(r[self.version_key])), set_since=self.set_since,
                         slack=self.since_slack, settle=float(self.settings.get("settle_seconds") or 0.0),
                         now=self.now, max_page=self.max_page(per_page), page_param=self.page_param,
                         size_param=self.size_param, **extra)

    def take(self, paginator: Paginator, records: list[Any]) -> list[Any]:
        return paginator.take(records)  # type: ignore[attr-defined]

    def page_cursor(self, paginator: Paginator, response: Any) -> str:
        return paginator.cursor  # type: ignore[attr-defined]
