"""Webhook deliveries a receiver can trust: body cap, signature, timestamp tolerance and replay cache.

A :class:`WebhookVerifier` is built once per endpoint with the shared secret and the
platform's :class:`WebhookFormat` (the adapters define theirs: ``webhook_verifier``
in ``adapters/zendesk.py``, ``jira.py`` and ``zammad.py``), then checks each delivery
in this order, cheapest first:

1. the body is bytes (else ``MALFORMED``, 400) of at most ``max_body`` bytes, checked
   before anything is hashed (else ``BODY_TOO_LARGE``, 413);
2. the signature header is there (else ``MISSING_HEADER``, 401);
3. a signed timestamp header (Zendesk) is there, parses, and lies within
   ``tolerance`` seconds of the time of receipt, either side (else
   ``TIMESTAMP_MISSING`` / ``TIMESTAMP_UNPARSABLE`` / ``TIMESTAMP_OUTSIDE_TOLERANCE``, 401);
4. the HMAC matches, compared in constant time (else ``BAD_SIGNATURE``, 401);
5. a timestamp inside the signed body (Jira's ``timestamp``, ms since the epoch)
   lies within ``tolerance`` where the body has one (else 401 as in 3);
6. the delivery was not accepted before within the replay window (else ``REPLAY``, 409).

:meth:`WebhookVerifier.verify` answers a :class:`Verification`: ``accepted``, the
:class:`Reason` and the HTTP ``status`` to answer. Garbage input of any kind is a
refusal, never an exception. The secret is checked when the verifier is built: an
empty, whitespace-only or non-str/bytes secret raises
:class:`~govhall_sdk.config.ConfigError`, whose message never shows it.

The replay cache remembers two keys per accepted delivery: the platform's delivery
id, where it sends one, and a hash of the signed content (the HMAC). The delivery
id headers are not signed, so a replay with a fresh id is still caught by the
content; a delivery without an id is deduplicated by its content alone. The
in-memory :class:`MemoryReplayCache` is bounded (oldest entries go first), thread
safe, and only ever holds deliveries whose signature verified, so it cannot be
flooded without the secret. It protects one process: a receiver run as several
processes or hosts needs a shared cache implementing :class:`ReplayCache` (an
atomic "set if absent, with expiry" in Redis or a table with a unique key).
"""
from __future__ import annotations

import enum
import hashlib
import hmac
import json
import logging
import math
import re
import threading
from collections import OrderedDict
from datetime import datetime, timezone
from typing import Any, Callable, Protocol, Sequence

import attrs

from ..config import ConfigError
from .signatures import ALGORITHMS, body_bytes, decode_base64_signature, decode_hub_signature, hmac_digest, hmac_key

log = logging.getLogger(__name__)

DEFAULT_TOLERANCE = 300.0
DEFAULT_MAX_BODY = 1024 * 1024
DEFAULT_MAX_ENTRIES = 65_536
ENCODINGS = ("base64", "hub")
_ISO_UTC = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z")
_DIGITS = re.compile(r"[0-9]+")


class Reason(str, enum.Enum):
    """Why a delivery was accepted or refused; :attr:`status` is the HTTP status to answer."""

    ACCEPTED = "accepted"
    MALFORMED = "malformed"
    BODY_TOO_LARGE = "body_too_large"
    MISSING_HEADER = "missing_header"
    BAD_SIGNATURE = "bad_signature"
    TIMESTAMP_MISSING = "timestamp_missing"
    TIMESTAMP_UNPARSABLE = "timestamp_unparsable"
    TIMESTAMP_OUTSIDE_TOLERANCE = "timestamp_outside_tolerance"
    REPLAY = "replay"

    @property
    def status(self) -> int:
        """204 accepted, 400 malformed, 413 body too large, 409 replay, 401 for the rest."""
        return _STATUS.get(self, 401)


_STATUS = {Reason.ACCEPTED: 204, Reason.MALFORMED: 400, Reason.BODY_TOO_LARGE: 413, Reason.REPLAY: 409}


@attrs.frozen
class Verification:
    """The verdict on one delivery. True when accepted; ``status`` is the HTTP status to answer."""

    reason: Reason
    delivery_id: str | None = None
    timestamp: datetime | None = None
    replay_keys: tuple[str, ...] = attrs.field(default=(), repr=False)

    @property
    def accepted(self) -> bool:
        """True when the delivery passed every check."""
        return self.reason is Reason.ACCEPTED

    @property
    def status(self) -> int:
        """The HTTP status to answer (see :attr:`Reason.status`)."""
        return self.reason.status

    def __bool__(self) -> bool:
        return self.accepted


@attrs.frozen
class WebhookFormat:
    """How a platform signs and identifies its deliveries.

    :param name: the platform, also the namespace of its keys in a shared replay cache.
    :param signature_header: where the signature is.
    :param encoding: ``"hub"`` (``<algorithm>=<hex>``, WebSub) or ``"base64"`` (the bare digest).
    :param timestamp_header: a timestamp header that is signed (prefixed to the body),
        ISO 8601 in UTC with ``Z``; when set, a delivery without it is refused.
    :param body_timestamp_key: a top-level key of the JSON body holding the event time in
        milliseconds since the epoch; checked where present, after the signature.
    :param delivery_id_header: the platform's delivery id, kept in the replay cache.
    """

    name: str
    signature_header: str
    algorithm: str = attrs.field(default="sha256", validator=attrs.validators.in_(ALGORITHMS))
    encoding: str = attrs.field(default="hub", validator=attrs.validators.in_(ENCODINGS))
    timestamp_header: str | None = None
    body_timestamp_key: str | None = None
    delivery_id_header: str | None = None


class ReplayCache(Protocol):
    """Where accepted deliveries are remembered; times are seconds since the epoch.

    A shared implementation (several receiver processes) must make :meth:`claim`
    atomic across them.
    """

    def claim(self, keys: Sequence[str], now: float, expires_at: float) -> bool:
        """False when any of ``keys`` is held and not expired at ``now``; else hold them all
        until ``expires_at`` and answer True, as one atomic step."""
        ...

    def release(self, keys: Sequence[str]) -> None:
        """Forget ``keys`` (a delivery that was accepted but could not be processed)."""
        ...


class MemoryReplayCache:
    """A :class:`ReplayCache` in this process's memory: thread safe, at most ``max_entries`` keys
    (the oldest go first when full)."""

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES):
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise ConfigError(f"webhook replay cache: max_entries must be a positive integer, got {max_entries!r}")
        self.max_entries = max_entries
        self._entries: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def claim(self, keys: Sequence[str], now: float, expires_at: float) -> bool:
        """See :meth:`ReplayCache.claim`."""
        with self._lock:
            self._purge(now)
            if any(self._entries.get(key, -math.inf) > now for key in keys):
                return False
            for key in keys:
                self._entries.pop(key, None)
                self._entries[key] = expires_at
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
            return True

    def release(self, keys: Sequence[str]) -> None:
        """See :meth:`ReplayCache.release`."""
        with self._lock:
            for key in keys:
                self._entries.pop(key, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def _purge(self, now: float) -> None:
        """Drop expired keys from the oldest on (an expired key behind a live one waits; it counts as absent)."""
        while self._entries:
            key, expiry = next(iter(self._entries.items()))
            if expiry > now:
                return
            del self._entries[key]


class _Key:
    """The HMAC key, shown as ``***`` by ``repr`` (error reporters print objects' attributes)."""

    __slots__ = ("value",)

    def __init__(self, value: bytes):
        self.value = value

    def __repr__(self) -> str:
        return "***"


def _secret_key(secret: Any) -> _Key:
    """The HMAC key, or ConfigError with a message that names the problem but never the secret."""
    if not isinstance(secret, (str, bytes, bytearray)):
        raise ConfigError(f"webhook secret: expected a str or bytes, got {type(secret).__name__}")
    key = hmac_key(secret)
    if key is None:
        raise ConfigError("webhook secret: empty or whitespace only; set the secret the helpdesk signs with")
    return _Key(key)


def _positive(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"webhook {what}: expected a positive number, got {value!r}")
    return float(value)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _length(body: Any) -> int | None:
    """The body's size in bytes without copying it; None when it is not bytes."""
    if body is None:
        return 0
    if isinstance(body, memoryview):
        return body.nbytes
    return len(body) if isinstance(body, (bytes, bytearray)) else None


def _text(value: Any) -> str | None:
    """A header value as stripped text; None when absent, blank or not a str."""
    return value.strip() or None if isinstance(value, str) else None


def _short_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]


def header_value(headers: Any, name: str) -> Any:
    """``name``'s value in ``headers`` (any mapping, or :class:`email.message.Message` as
    :mod:`http.server` gives), the name matched without regard to case; None when absent."""
    try:
        value = headers.get(name)
        if value is not None:
            return value
        wanted = name.lower()
        return next((v for k, v in headers.items() if isinstance(k, str) and k.lower() == wanted), None)
    except (AttributeError, TypeError, ValueError):
        return None


def parse_iso_utc(value: Any) -> tuple[Reason | None, datetime | None]:
    """``2021-03-25T05:09:27Z`` (optionally with a fraction of a second) as an aware datetime, or the
    refusal: ``TIMESTAMP_MISSING`` for no value, ``TIMESTAMP_UNPARSABLE`` for any other text."""
    if value is None or isinstance(value, str) and not value.strip():
        return Reason.TIMESTAMP_MISSING, None
    if not isinstance(value, str) or not _ISO_UTC.fullmatch(value.strip()):
        return Reason.TIMESTAMP_UNPARSABLE, None
    text = value.strip()
    try:
        moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ" if "." in text else "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return Reason.TIMESTAMP_UNPARSABLE, None
    return None, moment.replace(tzinfo=timezone.utc)


def body_timestamp(raw: bytes, key: str) -> tuple[Reason | None, datetime | None]:
    """The event time at ``key`` (milliseconds since the epoch) of a JSON object body; (None, None)
    when the body is not a JSON object or has no such key; ``TIMESTAMP_UNPARSABLE`` for a value
    that is no number of milliseconds."""
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        return None, None
    if not isinstance(document, dict) or key not in document:
        return None, None
    value = document[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return Reason.TIMESTAMP_UNPARSABLE, None
    try:
        return None, datetime.fromtimestamp(value / 1000, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return Reason.TIMESTAMP_UNPARSABLE, None


class WebhookVerifier:
    """Verifies a platform's webhook deliveries (see the module docs for the checks and their order).

    :param secret: the shared secret (str or bytes); empty, whitespace-only or another type
        raises :class:`~govhall_sdk.config.ConfigError`.
    :param webhook_format: the platform's :class:`WebhookFormat`.
    :param tolerance: seconds a signed timestamp may lie before or after the time of receipt.
    :param max_body: the largest body in bytes; a larger one is refused before it is hashed.
    :param replay_cache: where accepted deliveries are remembered (default: a new
        :class:`MemoryReplayCache`, which serves this process only).
    :param replay_window: seconds an accepted delivery is remembered (default: ``tolerance``);
        a timestamped delivery is remembered at least until its timestamp leaves the tolerance.
    :param clock: the current time (an aware datetime); tests pass a fake one.
    :param require_delivery_id: refuse (``MISSING_HEADER``) a delivery without the platform's
        delivery id instead of deduplicating it by its signed content alone.
    """

    def __init__(self, secret: str | bytes, webhook_format: WebhookFormat, *, tolerance: float = DEFAULT_TOLERANCE,
                 max_body: int = DEFAULT_MAX_BODY, replay_cache: ReplayCache | None = None,
                 replay_window: float | None = None, clock: Callable[[], datetime] | None = None,
                 require_delivery_id: bool = False):
        self._key = _secret_key(secret)
        if isinstance(max_body, bool) or not isinstance(max_body, int) or max_body < 0:
            raise ConfigError(f"webhook max_body: expected a number of bytes, got {max_body!r}")
        self.format = webhook_format
        self.tolerance = _positive(tolerance, "tolerance")
        self.max_body = max_body
        self.replay_window = self.tolerance if replay_window is None else _positive(replay_window, "replay_window")
        self.replay_cache: ReplayCache = MemoryReplayCache() if replay_cache is None else replay_cache
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(timezone.utc))
        self.require_delivery_id = bool(require_delivery_id)

    def __repr__(self) -> str:
        return (f"WebhookVerifier({self.format.name!r}, tolerance={self.tolerance}, max_body={self.max_body}, "
                f"replay_window={self.replay_window}, secret=***)")

    def check_length(self, content_length: Any) -> Verification | None:
        """Before reading a body: a refusal for a declared ``Content-Length`` over ``max_body``
        (413) or not a number (400); None when the body may be read (also when none is declared)."""
        if content_length is None:
            return None
        text = str(content_length).strip()
        if not _DIGITS.fullmatch(text):
            return self._refuse(Reason.MALFORMED)
        digits = text.lstrip("0") or "0"  # compared by length first: int() refuses thousands of digits
        too_large = len(digits) > len(str(self.max_body)) or int(digits) > self.max_body
        return self._refuse(Reason.BODY_TOO_LARGE) if too_large else None

    def verify_request(self, body: bytes, headers: Any, *, received_at: datetime | None = None) -> Verification:
        """:meth:`verify` with the signature, timestamp and delivery id read from ``headers``."""
        fmt = self.format
        found = {name: header_value(headers, name) if name else None
                 for name in (fmt.signature_header, fmt.timestamp_header, fmt.delivery_id_header)}
        return self.verify(body, found[fmt.signature_header], timestamp=found[fmt.timestamp_header],
                           delivery_id=found[fmt.delivery_id_header], received_at=received_at)

    def verify(self, body: bytes, signature: Any, *, timestamp: Any = None, delivery_id: Any = None,
               received_at: datetime | None = None) -> Verification:
        """The verdict on one delivery: ``body`` the raw request body, the other values the headers'
        as received (None when absent); ``received_at`` the time of receipt (default: the clock)."""
        now = _utc(received_at) if received_at is not None else _utc(self.clock())
        ident = _text(delivery_id)
        refusal = self._precheck(body, signature, ident)
        if refusal is not None:
            return self._refuse(refusal, ident)
        reason, stamp = self._header_timestamp(timestamp, now)
        if reason is not None:
            return self._refuse(reason, ident, stamp)
        raw = body_bytes(body) or b""
        digest = self._digest(raw, timestamp)
        if not self._signature_matches(digest, signature):
            return self._refuse(Reason.BAD_SIGNATURE, ident, stamp)
        reason, stamp = self._body_timestamp(raw, now, stamp)
        if reason is not None:
            return self._refuse(reason, ident, stamp)
        return self._claim(digest, ident, stamp, now)

    def release(self, verification: Verification) -> None:
        """Forget an accepted delivery, so that the platform's retry of it is accepted: call it when
        the delivery could not be processed and the endpoint answers an error."""
        if verification.replay_keys:
            self.replay_cache.release(verification.replay_keys)

    def _precheck(self, body: Any, signature: Any, ident: str | None) -> Reason | None:
        size = _length(body)
        if size is None:
            return Reason.MALFORMED
        if size > self.max_body:
            return Reason.BODY_TOO_LARGE
        if signature is None or isinstance(signature, str) and not signature.strip():
            return Reason.MISSING_HEADER
        if self.require_delivery_id and ident is None:
            return Reason.MISSING_HEADER
        return None

    def _header_timestamp(self, value: Any, now: datetime) -> tuple[Reason | None, datetime | None]:
        if not self.format.timestamp_header:
            return None, None
        reason, stamp = parse_iso_utc(value)
        if reason is None and not self._within(stamp, now):
            reason = Reason.TIMESTAMP_OUTSIDE_TOLERANCE
        return reason, stamp

    def _body_timestamp(self, raw: bytes, now: datetime, stamp: datetime | None) -> tuple[Reason | None, Any]:
        if not self.format.body_timestamp_key:
            return None, stamp
        reason, found = body_timestamp(raw, self.format.body_timestamp_key)
        if reason is None and found is not None and not self._within(found, now):
            reason = Reason.TIMESTAMP_OUTSIDE_TOLERANCE
        return reason, stamp if found is None else found

    def _within(self, stamp: Any, now: datetime) -> bool:
        return abs((now - stamp).total_seconds()) <= self.tolerance

    def _digest(self, raw: bytes, timestamp: Any) -> bytes:
        """The HMAC the platform computes: over the timestamp and the body when it signs a timestamp header."""
        prefix = timestamp.strip().encode("ascii") if self.format.timestamp_header else b""
        return hmac_digest(self._key.value, prefix + raw, self.format.algorithm)

    def _signature_matches(self, digest: bytes, signature: Any) -> bool:
        if self.format.encoding == "base64":
            given = decode_base64_signature(signature)
        else:
            given = decode_hub_signature(signature, self.format.algorithm)
        return given is not None and hmac.compare_digest(digest, given)

    def _claim(self, digest: bytes, ident: str | None, stamp: datetime | None, now: datetime) -> Verification:
        keys = [f"{self.format.name}:content:{_short_hash(digest)}"]
        if ident is not None:
            keys.append(f"{self.format.name}:id:{_short_hash(ident.encode('utf-8', 'surrogatepass'))}")
        moment = now.timestamp()
        expires = moment + self.replay_window
        if stamp is not None:
            expires = max(expires, stamp.timestamp() + self.tolerance)
        if not self.replay_cache.claim(keys, moment, expires):
            return self._refuse(Reason.REPLAY, ident, stamp)
        log.debug("webhook %s: accepted delivery %r", self.format.name, ident)
        return Verification(Reason.ACCEPTED, ident, stamp, tuple(keys))

    def _refuse(self, reason: Reason, ident: str | None = None, stamp: datetime | None = None) -> Verification:
        log.debug("webhook %s: refused delivery %r: %s", self.format.name, ident, reason.value)
        return Verification(reason, ident, stamp)


def check_once(secret: Any, webhook_format: WebhookFormat, body: Any, signature: Any, *, timestamp: Any = None,
               received_at: datetime | None = None, tolerance: float = DEFAULT_TOLERANCE) -> bool:
    """True when one delivery passes every check but the replay check (a fresh verifier each call);
    an unusable secret or tolerance is False, never an exception. This backs the adapters' boolean
    ``verify_webhook``; without a replay cache a signed request can be replayed within the
    tolerance, so an endpoint keeps one :class:`WebhookVerifier` instead."""
    try:
        verifier = WebhookVerifier(secret, webhook_format, tolerance=tolerance)
    except ConfigError:
        return False
    return verifier.verify(body, signature, timestamp=timestamp, received_at=received_at).accepted


def verifier_for(adapter: Any, make: Callable[..., WebhookVerifier], **kw: Any) -> WebhookVerifier:
    """``make(secret, **kw)`` with the secret of ``adapter.webhook_secret`` (or ``webhook_secret_env``);
    ConfigError when that setting is unset, empty or whitespace only."""
    secret = getattr(adapter, "settings", {}).get("webhook_secret")
    if not isinstance(secret, (str, bytes)) or not secret.strip():
        raise ConfigError("adapter.webhook_secret: required to verify webhooks; set webhook_secret or "
                          "webhook_secret_env to the secret the helpdesk signs its webhooks with")
    return make(secret, **kw)
