"""Paginators: small stateful objects that walk a paged endpoint, with a loop guard.

A paginator sets up the first request (:meth:`Paginator.init_request`), reads
each answer (:meth:`Paginator.update_state`), says whether a next page exists
(:attr:`Paginator.has_next_page`) and changes the request for it
(:meth:`Paginator.update_request`). Answers arrive decoded once:
``response.body`` is the JSON the base adapter read (a paginator never parses
the body again).

Every paginator stops, whichever comes first:

- **at the end the platform states**: ``total`` records when it gives one (a
  short page before ``total`` goes on: platforms cap the page size below what
  was asked without saying so), else a short or empty page, an absent next
  token, or the body's "last page" flag;
- **on a repeated page**: the same records as the page before (an endpoint that
  ignores ``offset``/``startAt`` or the page number), or a next token or next
  URL already followed: :class:`PaginationLoop`, naming the endpoint;
- **at the cap** ``max_pages``, when the endpoint still has more:
  :class:`PaginationLoop` too. The cap is a guard, not a limit users should reach.

A repeated page and the cap are errors rather than a quiet end, because the
records after them were never read: the run reports them (a ticket's
sub-resource: that ticket's error) instead of treating a partial list as complete.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import urlsplit

from ..adapter import AdapterError
from ..privacy import mask_text


class PaginationLoop(AdapterError):
    """The endpoint repeated a page (its records, or a token already followed), or the page cap was reached."""


def body_value(body: Any, path: str | None) -> Any:
    """The value at a dotted ``path`` of a decoded body (``meta.total``), or None when any step is missing."""
    if not path:
        return None
    value = body
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _count(value: Any) -> int | None:
    """A total as an integer (``12``, ``"12"``), else None (absent or unreadable: no total given)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _where(response: Any) -> str:
    """The path of the request an answer came for (never its query, which may hold a token)."""
    url = getattr(response, "url", None)
    return urlsplit(url).path if isinstance(url, str) and url else "the endpoint"


class Paginator:
    """Base paginator. ``max_pages`` caps one walk (a guard, not a limit users should reach)."""

    def __init__(self, max_pages: int = 100_000):
        self.max_pages = max_pages
        self.pages = 0
        self.has_next_page = True
        self._seen: set[Any] = set()
        self._last_page: str | None = None

    def init_request(self, params: dict[str, Any]) -> None:
        """Set up the first request's query parameters."""

    def update_state(self, response: Any, records: list[Any]) -> None:
        """Read one answer (``response.body`` decoded); decide whether a next page exists."""
        raise NotImplementedError

    def update_request(self, request: dict[str, Any]) -> None:
        """Change the request (``params``, ``url``, ``json``) to ask for the next page."""
        raise NotImplementedError

    def _guard(self, token: Any) -> None:
        """Count a page; refuse a token seen before and a walk past the cap (for walks that decide alone)."""
        self.pages += 1
        if self.pages >= self.max_pages:
            raise PaginationLoop(f"more than {self.max_pages} pages; stopping")
        self._refuse_seen_token(token)

    def _refuse_seen_token(self, token: Any, where: str = "the endpoint") -> None:
        if token is None:
            return
        if token in self._seen:
            raise PaginationLoop(f"{where} sent the page token {mask_text(str(token))[:40]!r} twice; "
                                 "stopping (the pages after it were not read)")
        self._seen.add(token)

    def _refuse_repeated_records(self, response: Any, records: list[Any]) -> None:
        """A page with exactly the records of the page before: the endpoint ignores the paging parameters."""
        digest = hashlib.sha256(json.dumps(records, sort_keys=True, default=str).encode()).hexdigest()
        if records and digest == self._last_page:
            raise PaginationLoop(f"{_where(response)} answered page {self.pages} with the same "
                                 f"{len(records)} records as page {self.pages - 1}: it ignores the paging "
                                 "parameters; stopping (the records after them were not read)")
        self._last_page = digest

    def _advance(self, response: Any, more: bool, *, token: Any = None, records: list[Any] | None = None) -> None:
        """Count the page just read and decide whether a next one is asked for.

        ``more``: the endpoint says there is a next page. ``records``: compared with the
        page before (a repeat stops the walk). ``token``: the next token or URL (one
        already followed stops it). Going past ``max_pages`` stops it too.
        """
        self.pages += 1
        if records is not None:
            self._refuse_repeated_records(response, records)
        if more:
            self._refuse_seen_token(token, _where(response))
            if self.pages >= self.max_pages:
                raise PaginationLoop(f"{_where(response)}: more than {self.max_pages} pages (the cap); stopping "
                                     "(the pages after them were not read)")
        self.has_next_page = more


class _Counted(Paginator):
    """A paginator that counts the records read, for a ``total`` the body may give."""

    def __init__(self, size: int, total_key: str | None, **kw: Any):
        super().__init__(**kw)
        self.size, self.total_key, self.read = size, total_key, 0
        self.total: int | None = None

    def _more(self, response: Any, records: list[Any]) -> bool:
        """Whether a next page exists: below ``total`` when the body gives one, else after a full page."""
        self.read += len(records)
        self.total = _count(body_value(response.body, self.total_key))
        if self.total is not None:
            return bool(records) and self.read < self.total
        return len(records) >= self.size


class OffsetPaginator(_Counted):
    """``offset``/``limit`` query parameters; the offset moves by the records read.

    :param total_key: where the body gives the number of records (a dotted path; None: it gives none).
    """

    def __init__(self, limit: int = 100, offset_param: str = "offset", limit_param: str = "limit",
                 total_key: str | None = "total_count", **kw: Any):
        super().__init__(limit, total_key, **kw)
        self.limit, self.offset = limit, 0
        self.offset_param, self.limit_param = offset_param, limit_param

    def init_request(self, params: dict[str, Any]) -> None:
        params[self.offset_param], params[self.limit_param] = 0, self.limit

    def update_state(self, response: Any, records: list[Any]) -> None:
        more = self._more(response, records)
        self.offset += len(records)
        self._advance(response, more, records=records)

    def update_request(self, request: dict[str, Any]) -> None:
        request["params"][self.offset_param] = self.offset


class PageNumberPaginator(_Counted):
    """``page``/``per_page`` query parameters.

    :param total_key: where the body gives the number of records (a dotted path; None: it gives none,
        and a short page is the last).
    """

    def __init__(self, per_page: int = 100, page_param: str = "page", size_param: str = "per_page",
                 first_page: int = 1, total_key: str | None = None, **kw: Any):
        super().__init__(per_page, total_key, **kw)
        self.per_page, self.page = per_page, first_page
        self.page_param, self.size_param = page_param, size_param

    def init_request(self, params: dict[str, Any]) -> None:
        params[self.page_param], params[self.size_param] = self.page, self.per_page

    def update_state(self, response: Any, records: list[Any]) -> None:
        more = self._more(response, records)
        self.page += 1
        self._advance(response, more, records=records)

    def update_request(self, request: dict[str, Any]) -> None:
        request["params"][self.page_param] = self.page


class CursorTokenPaginator(Paginator):
    """A next-page token read from the body by ``token_from(body)``, sent as a query or body field.

    :param done_when: the body says this was the last page (the token is then neither followed nor guarded).
    :param drop: query parameters of the first request that the next ones must not repeat.
    """

    def __init__(self, token_from: Callable[[Any], Any], param: str = "cursor", in_body: bool = False,
                 done_when: Callable[[Any], bool] | None = None, drop: Iterable[str] = (), **kw: Any):
        super().__init__(**kw)
        self.token_from, self.param, self.in_body, self.done_when = token_from, param, in_body, done_when
        self.drop = tuple(drop)
        self.token: Any = None

    def update_state(self, response: Any, records: list[Any]) -> None:
        body = response.body
        self.token = self.token_from(body)
        last = not records or not self.token or bool(self.done_when and self.done_when(body))
        self._advance(response, not last, token=self.token)

    def update_request(self, request: dict[str, Any]) -> None:
        for name in self.drop:
            request["params"].pop(name, None)
        target = request.setdefault("json", {}) if self.in_body else request["params"]
        target[self.param] = self.token


class LinkHeaderPaginator(Paginator):
    """Follows the ``Link: <url>; rel="next"`` header (RFC 8288)."""

    def __init__(self, **kw: Any):
        super().__init__(**kw)
        self.next_url: str | None = None

    def update_state(self, response: Any, records: list[Any]) -> None:
        self.next_url = response.links.get("next", {}).get("url")
        self._advance(response, bool(self.next_url) and bool(records), token=self.next_url)

    def update_request(self, request: dict[str, Any]) -> None:
        request["url"], request["params"] = self.next_url, {}


PAGINATORS: dict[str, type[Paginator]] = {
    "offset": OffsetPaginator,
    "page_number": PageNumberPaginator,
    "cursor": CursorTokenPaginator,
    "link_header": LinkHeaderPaginator,
}
"""The registry of paginators by name; adapters may add their own."""
