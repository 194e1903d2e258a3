"""One retry policy for every request: what is retried, how long to wait, and the error that ends it.

Retried (tenacity): 429, 500, 502, 503, 504, connection errors, timeouts and a
body cut short or not JSON when JSON was asked for. ``Retry-After`` (seconds or
an HTTP date) comes first and is waited in full, as the platforms ask (a request
sent again earlier is refused again, with the same wait or a longer one), up to
``retry_after_max`` (15 minutes by default): a longer one is not retried at all,
and the request fails at once saying so, for the next run to try. Otherwise
exponential backoff with jitter, each wait at most ``max_wait``. Attempts
are bounded. A request that is not idempotent (POST, PATCH) is retried only on
429, which the platform sends before processing it, or when its caller declares
it safe.

Each retry is announced as it happens, at WARNING on the ``govhall`` logger:
``429 from zendesk, waiting 12 s, attempt 2/6`` (the adapter, the status or the
kind of network error, the wait, and the attempt about to be made), never with
the URL, so that a person watching ``govhall run`` knows why it is waiting.
"""
from __future__ import annotations

import email.utils
import logging
import random
import time
from datetime import timezone
from typing import TYPE_CHECKING, Callable

from ..adapter import AdapterError

if TYPE_CHECKING:  # imported by the first request, not when an adapter is registered (start-up)
    import tenacity

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
log = logging.getLogger("govhall")


class HTTPError(AdapterError):
    """A request that failed for good; the message is redacted. ``status`` is None when no answer came;
    ``transient`` is False for a failure that the same request would meet again."""

    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None, *,
                 transient: bool = True):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        self.transient = transient

    @property
    def retryable(self) -> bool:
        """True for the statuses and network errors the retry policy retries (not a refused redirect,
        a request sent nowhere or a header the HTTP library refused)."""
        return self.transient and (self.status is None or self.status in RETRY_STATUSES)


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


def failure_kind(exc: BaseException | None) -> str:
    """What failed, in a few words and without the URL: ``429``, ``timeout``, ``connection error``..."""
    status = getattr(exc, "status", None)
    if status is not None:
        return str(status)
    text = str(exc)
    if "malformed JSON" in text:
        return "a malformed or cut-short answer"
    if "Timeout" in text:
        return "timeout"
    if "Connection" in text or "ChunkedEncoding" in text:
        return "connection error"
    return "network error"


class RetryPolicy:
    """Bounded retries with exponential backoff and jitter, ``Retry-After`` first.

    :param attempts: total tries of one request, the first included.
    :param base: the first backoff in seconds; doubled each retry.
    :param max_wait: the longest single backoff.
    :param retry_after_max: the longest ``Retry-After`` waited; a longer one is not retried (:meth:`too_long`).
    """

    def __init__(self, attempts: int = 6, base: float = 0.5, max_wait: float = 60.0, retry_after_max: float = 900.0):
        self.attempts, self.base, self.max_wait, self.retry_after_max = attempts, base, max_wait, retry_after_max

    def too_long(self, exc: BaseException) -> bool:
        """Whether a failure asks for a wait (``Retry-After``) longer than :attr:`retry_after_max`: sending the
        request again before it has passed would only be refused again, so it is not retried."""
        wait = getattr(exc, "retry_after", None)
        return wait is not None and wait > self.retry_after_max

    def wait(self, state: tenacity.RetryCallState) -> float:
        """Seconds to sleep before the next attempt: the ``Retry-After`` asked for, in full, else the backoff."""
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, HTTPError) and exc.retry_after is not None:
            return exc.retry_after
        backoff = self.base * (2 ** (state.attempt_number - 1))
        return min(self.max_wait, backoff * (0.5 + random.random() / 2))

    def announce(self, state: tenacity.RetryCallState, adapter: str | None = None) -> None:
        """Log the retry about to be waited for: ``429 from zendesk, waiting 12 s, attempt 2/6``.

        ``adapter`` is the adapter's name; by default the ``name`` of the object whose
        method is retried (the REST adapter's ``_send``).
        """
        exc = state.outcome.exception() if state.outcome else None
        name = adapter or getattr(getattr(state.fn, "__self__", None), "name", None) or "the helpdesk"
        wait = state.next_action.sleep if state.next_action else 0.0
        shown = f"{wait:.0f}" if wait >= 10 else f"{wait:.1f}".removesuffix(".0")
        log.warning("%s from %s, waiting %s s, attempt %d/%d",
                    failure_kind(exc), name, shown, state.attempt_number + 1, self.attempts)

    def retrying(self, safe: bool, sleep: Callable[[float], None], adapter: str | None = None) -> tenacity.Retrying:
        """The tenacity loop for one request: retryable failures, and for an unsafe request only a 429.

        Every retry is logged first (:meth:`announce`), naming ``adapter``.
        """
        import tenacity

        return tenacity.Retrying(
            retry=tenacity.retry_if_exception(
                lambda e: isinstance(e, HTTPError) and e.retryable and (safe or e.status == 429)
                and not self.too_long(e)),
            stop=tenacity.stop_after_attempt(self.attempts),
            wait=self.wait,
            sleep=sleep,
            before_sleep=lambda state: self.announce(state, adapter),
            reraise=True,
        )
