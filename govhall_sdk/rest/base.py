"""The declarative REST adapter: an adapter declares where its tickets are and writes mapping code.

:class:`RESTAdapter` does the HTTP (auth, the retry policy, pacing, redaction),
the paging (each page's JSON decoded once) and the per-ticket isolation. A
helpdesk adapter declares, as class attributes:

- ``tickets_path`` (and ``tickets_method``): the list :meth:`~RESTAdapter.pull` walks;
- ``records_path``: where a page's records are (a key of the body; None: the body is the list);
- ``ticket_path`` (``{id}`` in it) and ``ticket_record_path``: one ticket, for :meth:`~RESTAdapter.fetch`;
- the paginator, by overriding :meth:`~RESTAdapter.new_paginator`, and the cursor
  stored after each page, :meth:`~RESTAdapter.page_cursor` (or it inherits a
  ready walk, :class:`govhall_sdk.rest.cursor.UpdatedSinceWalk`);

and writes :meth:`~RESTAdapter.read_ticket` (the other requests one ticket needs:
its comments, say) and :meth:`~RESTAdapter.to_interchange` (the mapping). The
base turns every record into a :class:`~govhall_sdk.parse.Parsed` item on its
own: a ticket whose reads fail, or whose mapping raises anything, is that
ticket's error with its id, and the run goes on. Settings are validated by
ordinary inheritance: ``validate_settings`` calls ``super().validate_settings``.
"""
from __future__ import annotations

import base64
import logging
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterator, Mapping, Sequence
from urllib.parse import urljoin, urlsplit

from ..adapter import Adapter, AdapterError, Page, gone, with_warnings
from ..config import ConfigError, check_value
from ..parse import Parsed, TicketError, parse_item
from ..redaction import redact, register_secret, scrub
from .paginators import Paginator
from .retry import IDEMPOTENT_METHODS, HTTPError, RetryPolicy, parse_retry_after
from .transport import MAX_REDIRECTS, READ_METHODS, check_base_url, cross_origin, origin_of

#: The settings of every REST adapter, whatever its platform: how its connection is secured, and how many of a
#: page's tickets are read at once (``concurrency``; 0: the adapter's own ``read_concurrency``).
TRANSPORT_SETTINGS = {"verify_tls": True, "allow_http": False, "concurrency": 0}
#: The most tickets read at once: a few requests in flight reach a platform's per-minute budget, more only meet
#: its 429s sooner.
MAX_CONCURRENCY = 8
if TYPE_CHECKING:  # requests is imported when an adapter is made, not when one is registered (start-up)
    import requests


def _transient(exc: Exception) -> bool:
    """Whether a failure of requests (or urllib3, which it wraps) is the network's, retried like a 5xx."""
    import requests

    return isinstance(exc, (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                            requests.exceptions.ContentDecodingError))


log = logging.getLogger("govhall")


class RESTAdapter(Adapter):
    """An adapter over a JSON REST API (see the module docstring for what a subclass declares).

    Auth: :meth:`basic_credentials` (HTTP basic) or :meth:`auth_headers`; the
    settings named in ``secret_settings`` are redacted from every error and from
    ``repr``. ``remaining_header`` and ``pace_below`` make the adapter slow down
    before a rate limit is hit.
    """

    timeout: ClassVar[float] = 30.0
    remaining_header: ClassVar[str | None] = None
    pace_below: ClassVar[int] = 5
    pace_seconds: ClassVar[float] = 1.0
    max_per_page: ClassVar[int] = 100
    #: The list :meth:`pull` walks, and how it is asked for.
    tickets_path: ClassVar[str] = ""
    tickets_method: ClassVar[str] = "GET"
    #: Where the records of a page are: a key of the body, or None when the body is the list.
    records_path: ClassVar[str | None] = None
    #: One ticket by id (``{id}`` is replaced), for :meth:`fetch`; the key holding it in the body, if any.
    ticket_path: ClassVar[str | None] = None
    ticket_record_path: ClassVar[str | None] = None
    #: The problem reported for an id the helpdesk does not know.
    missing_ticket: ClassVar[str] = "no such ticket"
    #: Whether a failed read of one ticket in :meth:`fetch` is that ticket's error (else it ends the fetch).
    fetch_isolated: ClassVar[bool] = True
    #: The record keys of a ticket's id and version (what changes on every update).
    id_key: ClassVar[str] = "id"
    version_key: ClassVar[str] = "updated_at"
    #: Whether a page whose records were all taken before still yields (empty) to store its cursor.
    empty_pages_move_cursor: ClassVar[bool] = False
    #: Who the credentials belong to (``/users/me``), read once by :meth:`api_user`.
    api_user_path: ClassVar[str | None] = None
    #: How many of a page's tickets :meth:`read_ticket` reads at once by default (``[adapter] concurrency``
    #: sets it): 1 keeps a serial client; an adapter whose ``read_ticket`` is safe to run in threads raises it,
    #: so that requests in flight, not the network's round trip, meet the platform's budget.
    read_concurrency: ClassVar[int] = 1

    def __init__(self, settings: Mapping[str, Any], config: Any, *, session: requests.Session | None = None,
                 retry: RetryPolicy | None = None, sleep: Callable[[float], None] = time.sleep):
        super().__init__(settings, config)
        self.now: Any = None
        if session is None:
            import requests

            session = requests.Session()
        self.session = session
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.requests_made = 0
        self._counting = threading.Lock()  # tickets may be read from several threads (read_concurrency)
        self._echo: dict[str, str] = {}  # ticket id -> the version this run's own write produced
        self._kept: dict[str, str] | None = None  # the same, of earlier runs (see _kept_echoes)
        self._api_user: Mapping[str, Any] | None = None
        self.origin = origin_of(self.base_url)
        self.session.verify = self.settings["verify_tls"]
        if not self.session.verify:
            log.warning("TLS verification is OFF for adapter %r (adapter.verify_tls = false)", self.name)
        if self.settings["allow_http"] and self.origin.scheme == "http":
            log.warning("adapter %r sends its credentials over plain http:// to %s (adapter.allow_http = true)",
                        self.name, self.origin.host)
        for key in self.secret_settings:
            register_secret(self.settings.get(key))
        register_secret(self._basic())
        self.session.headers.update(self.auth_headers())

    @classmethod
    def validate_settings(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        """The base checks, then the transport: ``url`` (see :mod:`govhall_sdk.rest.transport`),
        ``verify_tls`` and ``allow_http``, which every REST adapter takes."""
        raw = dict(raw)
        transport = {key: check_value(raw.pop(key, default), type(default), f"adapter.{key}")
                     for key, default in TRANSPORT_SETTINGS.items()}
        if not 0 <= transport["concurrency"] <= MAX_CONCURRENCY:
            raise ConfigError(f"adapter.concurrency: expected 0 (the adapter's default) to {MAX_CONCURRENCY}, "
                              f"got {transport['concurrency']}")
        out = super().validate_settings(raw)
        out.update(transport)
        out["url"] = check_base_url(str(out["url"]), transport["allow_http"])
        return out

    # ------------------------------------------------------------------ auth and secrets
    @property
    def base_url(self) -> str:
        """The helpdesk's root URL, from ``[adapter] url``."""
        return str(self.settings["url"]).rstrip("/")

    def basic_credentials(self) -> tuple[str, str] | None:
        """``(user, password)`` for HTTP basic auth, or None when the platform uses another scheme."""
        return None

    def _basic(self) -> str | None:
        pair = self.basic_credentials()
        return base64.b64encode(f"{pair[0]}:{pair[1]}".encode()).decode() if pair else None

    def auth_headers(self) -> dict[str, str]:
        """Headers that authenticate every request (basic auth from :meth:`basic_credentials` by default)."""
        basic = self._basic()
        return {"Authorization": f"Basic {basic}", "Accept": "application/json"} if basic else {}

    def redact(self, text: str) -> str:
        """``text`` with every secret (this adapter's and any other registered), in every spelling, as ``***``."""
        return redact(text)

    def close(self) -> None:
        """Close the HTTP session."""
        self.session.close()

    # ------------------------------------------------------------------ requests
    def pace(self, response: requests.Response) -> None:
        """Slow down when the platform says few requests are left."""
        if not self.remaining_header:
            return
        left = response.headers.get(self.remaining_header)
        if left is not None and left.isdigit() and int(left) < self.pace_below:
            self.sleep(self.pace_seconds)

    def _send(self, method: str, url: str, want_json: bool = False, **kwargs: Any) -> requests.Response:
        response, hops = self._exchange(method, url, **kwargs), 0
        while response.is_redirect:
            if hops == MAX_REDIRECTS:
                raise HTTPError(self.redact(f"{method} {url}: more than {MAX_REDIRECTS} redirects"),
                                response.status_code, transient=False)
            url, hops = self._redirect_target(method, url, response), hops + 1
            kwargs.pop("params", None)  # the Location carries the whole query
            response = self._exchange(method, url, **kwargs)
        self.pace(response)
        if response.status_code >= 400:
            # scrub (secrets, then phone and ID numbers), then cut: no half secret, no half number
            detail = scrub(response.text[:2000])[:300].replace("\n", " ")
            raise HTTPError(self.redact(f"{method} {url}: HTTP {response.status_code}: {detail}"),
                            response.status_code, self.retry_after(response))
        if response.status_code >= 300:  # a 3xx that is not a redirect (304, 300): nothing was done
            raise HTTPError(self.redact(f"{method} {url}: HTTP {response.status_code}"), response.status_code,
                            transient=False)
        if want_json:  # a truncated or malformed body is retried like a network error
            try:
                response.body = response.json()
            except ValueError as exc:
                raise HTTPError(self.redact(f"{method} {url}: malformed JSON: {exc}")) from None
        return response

    def retry_after(self, response: requests.Response) -> float | None:
        """Seconds a refused request asks to be waited before it is sent again: ``Retry-After`` (seconds or an
        HTTP date), None when it names none. An adapter whose platform names the wait in other headers reads
        them here."""
        return parse_retry_after(response.headers.get("Retry-After"))

    def _exchange(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One request to the configured origin, redirects not followed; any failure a redacted HTTPError."""
        refused = cross_origin(url, self.origin)
        if refused:
            raise HTTPError(self.redact(f"{method} {url}: refused: {refused}"), transient=False)
        import requests

        with self._counting:
            self.requests_made += 1
        try:
            # verify= on each request: requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override session.verify
            return self.session.request(method, url, timeout=self.timeout, verify=self.session.verify,
                                        allow_redirects=False, **kwargs)
        except (requests.RequestException, ValueError) as exc:  # ValueError: a header value http.client refuses
            raise HTTPError(self.redact(f"{method} {url}: {type(exc).__name__}: {exc}"),
                            transient=_transient(exc)) from None

    def _redirect_target(self, method: str, url: str, response: requests.Response) -> str:
        """Where a redirect of a read leads, within the origin; a redirected write is a failed write."""
        target = urljoin(url, response.headers.get("Location", ""))
        status = response.status_code
        if method not in READ_METHODS:
            raise HTTPError(self.redact(f"{method} {url}: HTTP {status} redirect to {target}: a write never "
                                        "follows a redirect, so nothing was written (check adapter.url)"),
                            status, transient=False)
        refused = cross_origin(target, self.origin)
        if refused:
            raise HTTPError(self.redact(f"{method} {url}: HTTP {status} redirect refused: {refused}"), status,
                            transient=False)
        return target

    def request(self, method: str, path: str, *, idempotent: bool | None = None, want_json: bool = False,
                **kwargs: Any) -> requests.Response:
        """Send one request with the retry policy; ``path`` may be absolute.

        With ``want_json`` the decoded body is ``response.body`` (decoded once, here),
        and a body that is not JSON counts as a retryable failure.

        :param idempotent: whether a retry is safe; by default true for GET, HEAD,
            PUT, DELETE and OPTIONS, false for POST and PATCH. A 429 is retried
            either way: the platform refused the request without processing it.
        :raises HTTPError: after the last attempt, or at once when not retryable (a ``Retry-After`` beyond the
            policy's ``retry_after_max`` included, saying so).
        """
        method = method.upper()
        url = path if urlsplit(path).scheme else f"{self.base_url}{path}"
        safe = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        try:
            return self.retry.retrying(safe, self.sleep)(self._send, method, url, want_json, **kwargs)
        except HTTPError as exc:
            if not self.retry.too_long(exc):
                raise
            raise HTTPError(f"{exc} (the helpdesk asks to wait {exc.retry_after:.0f} s, longer than the "
                            f"{self.retry.retry_after_max:.0f} s govhall waits: not retried in this run, tried again "
                            "by the next)", exc.status, exc.retry_after, transient=exc.transient) from None

    def page_size(self) -> int:
        """The ``per_page`` setting (by default the platform's largest page), else 100."""
        return int(self.settings.get("per_page") or 100)

    def get_json(self, path: str, **params: Any) -> Any:
        """The decoded body of ``GET path?params``."""
        return self.request("GET", path, params=params, want_json=True).body

    def paginate(self, path: str, paginator: Paginator, records: Callable[[Any], list[Any]] | str | None = None,
                 params: Mapping[str, Any] | None = None, method: str = "GET",
                 json: Mapping[str, Any] | None = None) -> Iterator[tuple[requests.Response, list[Any]]]:
        """Walk a paged endpoint: yield each answer with its records, guarded against loops.

        ``records`` takes a page's body to its list, or names the key holding it
        (None: the body is the list), as :func:`records_at` reads it.
        """
        pick = records if callable(records) else (lambda body, key=records: records_at(body, key))
        request: dict[str, Any] = {"url": path, "params": dict(params or {})}
        if json is not None:
            request["json"] = dict(json)
        paginator.init_request(request["params"])
        while True:
            kwargs = {"params": request["params"]}
            if "json" in request:
                kwargs["json"] = request["json"]
            response = self.request(method, request["url"], idempotent=True, want_json=True, **kwargs)
            found = pick(response.body)
            yield response, found
            paginator.update_state(response, found)
            if not paginator.has_next_page or not found:
                return
            paginator.update_request(request)

    def collect(self, path: str, paginator: Paginator, records: Callable[[Any], list[Any]] | str | None = None,
                params: Mapping[str, Any] | None = None) -> list[Any]:
        """Every record of a paged endpoint (a ticket's comments, say)."""
        return [r for _, page in self.paginate(path, paginator, records, params) for r in page]

    # ------------------------------------------------------------------ what a subclass declares
    def records(self, body: Any) -> list[Any]:
        """The records of one page of the ticket list (``records_path`` of the body)."""
        return records_at(body, self.records_path)

    def list_params(self, cursor: str | None, page_size: int) -> dict[str, Any]:
        """The query of the list's first request (the paginator adds its own parameters)."""
        return {}

    def list_body(self, cursor: str | None, page_size: int) -> dict[str, Any] | None:
        """The JSON body of the list's first request (a search by POST), or None."""
        return None

    def new_paginator(self, cursor: str | None, page_size: int) -> Paginator:
        """The paginator of one pull from ``cursor``."""
        raise NotImplementedError

    def page_cursor(self, paginator: Paginator, response: requests.Response) -> str | None:
        """The cursor to store once a page is written (the resumption point after it)."""
        raise NotImplementedError

    def take(self, paginator: Paginator, records: list[Any]) -> list[Any]:
        """The records of a page that are new in this walk (all of them by default)."""
        return records

    def read_ticket(self, record: Mapping[str, Any], page: Mapping[str, Any]) -> dict[str, Any]:
        """The other requests one ticket needs (comments, articles...), as keyword arguments of
        :meth:`to_interchange`. ``page`` is the body of the page the record came in."""
        return {}

    def to_interchange(self, record: Mapping[str, Any], warnings: list[str], **related: Any) -> dict[str, Any]:
        """The mapping: one record (and what :meth:`read_ticket` read) as an interchange ticket dict.

        Append to ``warnings`` each value that could not be read, naming where it is.
        Raising anything makes the ticket an error with its id; the run goes on.
        """
        raise NotImplementedError

    def fetch_params(self) -> dict[str, Any]:
        """The query of :meth:`fetch`'s request for one ticket."""
        return {}

    # ------------------------------------------------------------------ what the base does
    def pull(self, cursor: str | None, page_size: int = 100) -> Iterator[Page]:
        """Pages of tickets changed after ``cursor``, oldest first, each with the cursor that follows it."""
        paginator = self.new_paginator(cursor, page_size)
        for response, records in self.paginate(self.tickets_path, paginator, self.records,
                                               self.list_params(cursor, page_size), self.tickets_method,
                                               self.list_body(cursor, page_size)):
            fresh = self.take(paginator, records)
            if fresh or (records and self.empty_pages_move_cursor):
                items, skipped = self.page_items(fresh, response.body)
                yield Page(items, self.page_cursor(paginator, response), skipped)

    def page_items(self, records: Sequence[Mapping[str, Any]], page: Any) -> tuple[list[Parsed], int]:
        """A page's records as items, and how many were govhall's own echo (not read again)."""
        wanted, echoes = [], 0
        for record in records:
            if self.is_echo(record):
                echoes += 1
                continue
            self.forget_version(self.ticket_id(record))
            wanted.append(record)
        return self.parse_all(wanted, page), echoes

    @property
    def concurrency(self) -> int:
        """How many tickets are read at once: ``[adapter] concurrency``, else :attr:`read_concurrency`."""
        return self.settings.get("concurrency") or self.read_concurrency

    def parse_all(self, records: Sequence[Mapping[str, Any]], page: Any = None) -> list[Parsed]:
        """:meth:`parsed` of each record, in their order, up to :attr:`concurrency` of them at once (each in a
        thread of its own: the requests of one ticket stay in order, and a ticket's failure stays its own)."""
        workers = min(self.concurrency, len(records))
        if workers <= 1:
            return [self.parsed(record, page) for record in records]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers, thread_name_prefix=f"govhall-{self.name}") as pool:
            return list(pool.map(lambda record: self.parsed(record, page), records))

    def fetch(self, ids: Sequence[str]) -> Iterator[Parsed]:
        """The tickets with these ids, each read afresh from ``ticket_path``; an unknown id is reported."""
        for tid in ids:
            tid = str(tid)
            try:
                body = self.request("GET", str(self.ticket_path).format(id=tid), params=self.fetch_params(),
                                    want_json=True).body
            except HTTPError as exc:
                if exc.status == 404:
                    yield gone(tid, self.missing_ticket)
                    continue
                if not self.fetch_isolated:
                    raise
                yield Parsed(None, TicketError(tid, [str(exc)]), tid)
                continue
            yield self.parsed(body[self.ticket_record_path] if self.ticket_record_path else body)

    def ticket_id(self, record: Mapping[str, Any]) -> str:
        """A record's ticket id, as the interchange ``id``."""
        return str(record.get(self.id_key))

    def parsed(self, record: Mapping[str, Any], page: Any = None) -> Parsed:
        """One record as a validated ticket, or that ticket's error: nothing about one ticket ends the run.

        A read of the ticket that fails (after the retry policy) is ``ticket: cannot be read`` naming the request;
        a 404 means it was deleted while reading; any exception of the mapping is
        ``ticket: cannot be mapped``; values the mapping dropped travel as warnings.
        """
        tid = self.ticket_id(record)
        try:
            related = self.read_ticket(record, page if isinstance(page, Mapping) else {})
        except (AdapterError, ValueError) as exc:
            if isinstance(exc, HTTPError) and exc.status == 404:
                return gone(tid, "no such ticket (deleted while reading)")
            return missing(tid, f"ticket: cannot be read: {exc}")
        warnings: list[str] = []
        try:
            raw = self.to_interchange(record, warnings, **related)
        except TicketError as exc:
            return Parsed(None, exc, tid)
        except Exception as exc:  # a payload of a shape the API docs do not describe: this ticket's error
            return missing(tid, f"ticket: cannot be mapped: {type(exc).__name__}: {exc}")
        item = parse_item(tid, raw, self.interchange_zone(), tid, strict=self.config.strict, unknown_fields=False)
        return with_warnings(item, warnings)

    def interchange_zone(self) -> Any:
        """The zone of the interchange's times that carry no offset (``[adapter] timezone``)."""
        return self.config.adapter_timezone

    # ------------------------------------------------------------------ govhall's own writing
    def api_user(self) -> Mapping[str, Any]:
        """The user the credentials belong to (``api_user_path``, read once; ``{}`` when it is not answered)."""
        if self._api_user is None:
            try:
                body = self.get_json(str(self.api_user_path)) if self.api_user_path else {}
            except HTTPError:
                body = {}
            self._api_user = body if isinstance(body, Mapping) else {}
        return self._api_user

    def is_api_user(self, value: Any, key: str) -> bool:
        """True when ``value`` is the API user's ``key`` (when the platform does not say who that is: any user)."""
        mine = self.api_user().get(key)
        return not mine or str(value) == str(mine)

    def is_echo(self, record: Mapping[str, Any]) -> bool:
        """True when a record is exactly the version govhall's own write produced (see :meth:`remember_echo`):
        a write of this run, or, when the run may skip echoes (:attr:`Adapter.skip_echoes`), of an earlier run."""
        tid = self.ticket_id(record)
        kept = (self._echo.get(tid), self._kept_echoes().get(tid) if self.skip_echoes else None)
        # the record's version (a digest, for some adapters) is worked out only for a ticket govhall wrote
        return any(v is not None for v in kept) and self.version_of(record) in kept

    def version_of(self, record: Mapping[str, Any]) -> str:
        """A pulled record's version for the echo check (:meth:`is_echo`): its ``version_key`` as text. An
        adapter whose version counts whole seconds adds a digest of what a person may change in that second."""
        return str(record.get(self.version_key))

    def _kept_echoes(self) -> dict[str, str]:
        """The versions earlier runs' writes produced (``echo:{id}`` in :attr:`Adapter.memory`), read once."""
        if self._kept is None:
            kept = self.memory.items("echo:") if self.memory is not None else {}
            self._kept = {key.removeprefix("echo:"): value for key, value in kept.items()}
        return self._kept

    def remember_echo(self, ticket_id: str, answer: Any) -> None:
        """Note the version a write produced (from the platform's answer), so pulling it back skips it."""
        if isinstance(answer, Mapping) and answer.get(self.version_key):
            self.remember_version(ticket_id, answer[self.version_key])

    def remember_version(self, ticket_id: str, version: Any) -> None:
        """Note ``version`` as the one govhall's own write of the ticket produced: pulled back unchanged, in this
        run or a later one, it is skipped as an echo instead of being read again. Kept in :attr:`Adapter.memory`
        under ``echo:{id}`` (with ``govhall run``) and forgotten once the ticket is seen at another version."""
        tid, version = str(ticket_id), str(version)
        self._echo[tid] = version
        if self.memory is not None:
            self.memory.set(f"echo:{tid}", version)

    def forget_version(self, ticket_id: str) -> None:
        """Forget the version kept for a ticket seen changed by someone else since govhall's write."""
        if self._kept_echoes().pop(ticket_id, None) is not None and self.memory is not None:
            self.memory.delete(f"echo:{ticket_id}")


def records_at(body: Any, key: str | None) -> list[Any]:
    """The list at ``key`` of a body (None: the body itself); a body of another shape is a ValueError."""
    if key is None:
        if not isinstance(body, list):
            raise ValueError(f"expected a JSON list, got {type(body).__name__}")
        return body
    if not isinstance(body, dict) or not isinstance(body.get(key, []), list):
        raise ValueError(f"expected an object with a list {key!r}")
    return body.get(key) or []


def missing(ticket_id: str, problem: str) -> Parsed:
    """The item of a ticket that could not be read."""
    return Parsed(None, TicketError(ticket_id, [problem]), ticket_id)
