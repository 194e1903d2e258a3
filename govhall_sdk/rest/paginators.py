"""Paginators: small stateful objects that walk a paged endpoint, with a loop guard.

A paginator sets up the first request (:meth:`Paginator.init_request`), reads
each answer (:meth:`Paginator.update_state`), says whether a next page exists
(:attr:`Paginator.has_next_page`) and changes the request for it
(:meth:`Paginator.update_request`). Answers arrive decoded once:
``response.body`` is the JSON the base adapter read (a paginator never parses
the body again). The guard stops on an empty page, a token already seen and a
page cap.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

from ..adapter import AdapterError
from ..privacy import mask_text


class PaginationLoop(AdapterError):
    """The endpoint sent a token already seen, or the page cap was reached."""


class Paginator:
    """Base paginator. ``max_pages`` caps one walk (a guard, not a limit users should reach)."""

    def __init__(self, max_pages: int = 100_000):
        self.max_pages = max_pages
        self.pages = 0
        self.has_next_page = True
        self._seen: set[Any] = set()

    def init_request(self, params: dict[str, Any]) -> None:
        """Set up the first request's query parameters."""

    def update_state(self, response: Any, records: list[Any]) -> None:
        """Read one answer (``response.body`` decoded); decide whether a next page exists."""
        raise NotImplementedError

    def update_request(self, request: dict[str, Any]) -> None:
        """Change the request (``params``, ``url``, ``json``) to ask for the next page."""
        raise NotImplementedError

    def _guard(self, token: Any) -> None:
        self.pages += 1
        if self.pages >= self.max_pages:
            raise PaginationLoop(f"more than {self.max_pages} pages; stopping")
        if token is not None:
            if token in self._seen:
                raise PaginationLoop(f"the endpoint sent the page token {mask_text(str(token))[:40]!r} twice")
            self._seen.add(token)


class OffsetPaginator(Paginator):
    """``offset``/``limit`` query parameters; stops on a short page or at ``total``."""

    def __init__(self, limit: int = 100, offset_param: str = "offset", limit_param: str = "limit",
                 total_key: str | None = "total_count", **kw: Any):
        super().__init__(**kw)
        self.limit, self.offset = limit, 0
        self.offset_param, self.limit_param, self.total_key = offset_param, limit_param, total_key

    def init_request(self, params: dict[str, Any]) -> None:
        params[self.offset_param], params[self.limit_param] = 0, self.limit

    def update_state(self, response: Any, records: list[Any]) -> None:
        self._guard(None)
        self.offset += len(records)
        body = response.body
        total = body.get(self.total_key) if self.total_key and isinstance(body, dict) else None
        self.has_next_page = len(records) >= self.limit and (total is None or self.offset < total)

    def update_request(self, request: dict[str, Any]) -> None:
        request["params"][self.offset_param] = self.offset


class PageNumberPaginator(Paginator):
    """``page``/``per_page`` query parameters; stops on a short or empty page."""

    def __init__(self, per_page: int = 100, page_param: str = "page", size_param: str = "per_page",
                 first_page: int = 1, **kw: Any):
        super().__init__(**kw)
        self.per_page, self.page = per_page, first_page
        self.page_param, self.size_param = page_param, size_param

    def init_request(self, params: dict[str, Any]) -> None:
        params[self.page_param], params[self.size_param] = self.page, self.per_page

    def update_state(self, response: Any, records: list[Any]) -> None:
        self._guard(None)
        self.page += 1
        self.has_next_page = len(records) >= self.per_page

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
        self._guard(None if last else self.token)
        self.has_next_page = not last

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
        self._guard(self.next_url)
        self.has_next_page = bool(self.next_url) and bool(records)

    def update_request(self, request: dict[str, Any]) -> None:
        request["url"], request["params"] = self.next_url, {}


PAGINATORS: dict[str, type[Paginator]] = {
    "offset": OffsetPaginator,
    "page_number": PageNumberPaginator,
    "cursor": CursorTokenPaginator,
    "link_header": LinkHeaderPaginator,
}
"""The registry of paginators by name; adapters may add their own."""
