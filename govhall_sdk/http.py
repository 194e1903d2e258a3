"""HTTP plumbing for REST adapters: one retry policy, paging, pacing, redaction.

Retries (tenacity): 429, 500, 502, 503, 504, connection errors and timeouts;
``Retry-After`` is honoured; attempts are bounded; a request that is not
idempotent (POST) is retried only on 429 (refused before it was processed) or
when its caller says it is safe. Every error
message passes through :meth:`RESTAdapter.redact`, so tokens never leak.
"""
from __future__ import annotations

import base64
import email.utils
import random
import time
from datetime import datetime, timezone
from typing import Any, Callable, ClassVar, Iterator, Mapping

import requests
import tenacity

from .adapter import Adapter, AdapterError
from .paginators import Paginator

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


class HTTPError(AdapterError):
    """A request that failed for good; the message is redacted. ``status`` is None for network errors."""

    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        """True for the statuses and network errors the retry policy retries."""
        return self.status is None or self.status in RETRY_STATUSES


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - now())


class RetryPolicy:
    """Bounded retries with exponential backoff and jitter, ``Retry-After`` first.

    :param attempts: total tries of one request, the first included.
    :param base: the first backoff in seconds; doubled each retry.
    :param max_wait: the longest single wait, ``Retry-After`` included.
    """

    def __init__(self, attempts: int = 6, base: float = 0.5, max_wait: float = 60.0):
        self.attempts, self.base, self.max_wait = attempts, base, max_wait

    def wait(self, state: tenacity.RetryCallState) -> float:
        """Seconds to sleep before the next attempt."""
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, HTTPError) and exc.retry_after is not None:
            return min(exc.retry_after, self.max_wait)
        backoff = self.base * (2 ** (state.attempt_number - 1))
        return min(self.max_wait, backoff * (0.5 + random.random() / 2))


class RESTAdapter(Adapter):
    """An adapter over a JSON REST API.

    Subclasses declare ``auth_header`` (and put the token in settings named by
    ``secret_settings``) or override :meth:`auth_headers`; they call
    :meth:`request` and :meth:`paginate` and write only mapping code.
    ``pace_below`` and ``remaining_header`` make the adapter slow down before
    a rate limit is hit.
    """

    timeout: ClassVar[float] = 30.0
    remaining_header: ClassVar[str | None] = None
    pace_below: ClassVar[int] = 5
    pace_seconds: ClassVar[float] = 1.0

    def __init__(self, settings: Mapping[str, Any], config: Any, *, session: requests.Session | None = None,
                 retry: RetryPolicy | None = None, sleep: Callable[[float], None] = time.sleep):
        super().__init__(settings, config)
        self.session = session or requests.Session()
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.requests_made = 0
        verify = self.settings.get("verify_tls", True)
        self.session.verify = verify
        if verify is False:
            import logging

            logging.getLogger("govhall").warning("TLS verification is OFF for adapter %r (adapter.verify_tls = false)", self.name)
        self.session.headers.update(self.auth_headers())

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
        """``text`` with every secret setting's value, and the encoded basic credentials, replaced by ``***``."""
        for key in self.secret_settings:
            secret = self.settings.get(key)
            if secret:
                text = text.replace(str(secret), "***")
        basic = self._basic()
        return text.replace(basic, "***") if basic else text

    def close(self) -> None:
        """Close the HTTP session."""
        self.session.close()

    def pace(self, response: requests.Response) -> None:
        """Slow down when the platform says few requests are left."""
        if not self.remaining_header:
            return
        left = response.headers.get(self.remaining_header)
        if left is not None and left.isdigit() and int(left) < self.pace_below:
            self.sleep(self.pace_seconds)

    def _send(self, method: str, url: str, want_json: bool = False, **kwargs: Any) -> requests.Response:
        self.requests_made += 1
        try:
            # verify= on each request: requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override session.verify
            response = self.session.request(method, url, timeout=self.timeout, verify=self.session.verify, **kwargs)
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError) as exc:  # a body cut short is a network error too
            raise HTTPError(self.redact(f"{method} {url}: {type(exc).__name__}: {exc}")) from None
        self.pace(response)
        if response.status_code >= 400:
            detail = self.redact(response.text)[:300].replace("\n", " ")  # redact, then cut: no half secret
            raise HTTPError(
                self.redact(f"{method} {url}: HTTP {response.status_code}: {detail}"),
                response.status_code,
                parse_retry_after(response.headers.get("Retry-After")),
            )
        if want_json:  # a truncated or malformed body is retried like a network error
            try:
                response.body = response.json()
            except ValueError as exc:
                raise HTTPError(self.redact(f"{method} {url}: malformed JSON: {exc}")) from None
        return response

    def request(self, method: str, path: str, *, idempotent: bool | None = None, want_json: bool = False,
                **kwargs: Any) -> requests.Response:
        """Send one request with the retry policy; ``path`` may be absolute.

        With ``want_json`` the decoded body is ``response.body``, and a body that is
        not JSON counts as a retryable failure.

        :param idempotent: whether a retry is safe; by default true for GET, HEAD,
            PUT, DELETE and OPTIONS, false for POST and PATCH. A 429 is retried
            either way: the platform refused the request without processing it.
        :raises HTTPError: after the last attempt, or at once when not retryable.
        """
        method = method.upper()
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        safe = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(
                lambda e: isinstance(e, HTTPError) and e.retryable and (safe or e.status == 429)),
            stop=tenacity.stop_after_attempt(self.retry.attempts),
            wait=self.retry.wait,
            sleep=self.sleep,
            reraise=True,
        )
        return retrying(self._send, method, url, want_json, **kwargs)

    def paginate(self, path: str, paginator: Paginator, records: Callable[[Any], list[Any]],
                 params: dict[str, Any] | None = None, method: str = "GET",
                 json: dict[str, Any] | None = None) -> Iterator[tuple[requests.Response, list[Any]]]:
        """Walk a paged endpoint: yield each response with its records, guarded against loops."""
        request: dict[str, Any] = {"url": path, "params": dict(params or {})}
        if json is not None:
            request["json"] = dict(json)
        paginator.init_request(request["params"])
        while True:
            kwargs = {"params": request["params"]}
            if "json" in request:
                kwargs["json"] = request["json"]
            response = self.request(method, request["url"], idempotent=True, want_json=True, **kwargs)
            found = records(response.body)
            yield response, found
            paginator.update_state(response, found)
            if not paginator.has_next_page or not found:
                return
            paginator.update_request(request)


def iso_utc(instant: datetime) -> str:
    """An instant as ``YYYY-MM-DDTHH:MM:SSZ`` (what most helpdesk filters accept)."""
    return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
