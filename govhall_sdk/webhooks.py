"""Webhook signature checks for the helpdesks that sign their calls.

A later ``govhall serve`` receives a helpdesk's webhook and re-evaluates the
ticket at once; before it trusts the body it calls one of these. Each takes the
raw request body exactly as received (bytes, before any JSON parsing), the
signature header(s) and the shared secret, and answers True or False:

- Zendesk signs ``base64(HMAC-SHA256(secret, timestamp + body))`` and sends it in
  ``X-Zendesk-Webhook-Signature``, the timestamp in
  ``X-Zendesk-Webhook-Signature-Timestamp``
  (developer.zendesk.com/documentation/webhooks/verifying/).
- Jira Cloud admin webhooks saved with a secret send
  ``X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, body)>`` (WebSub format).
- Zammad webhooks with an "HMAC SHA1 Signature Token" send
  ``X-Hub-Signature: sha1=<hex HMAC-SHA1(secret, body)>``.

The digests are compared with :func:`hmac.compare_digest` (constant time).
Malformed input of any kind (a missing header, a wrong prefix, non-ASCII text,
an empty secret, a body that is not bytes) is a failed check, never an exception:
a webhook endpoint must answer 401, not crash, on garbage.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Any

__all__ = ["verify_zendesk", "verify_jira", "verify_zammad", "verify_hub_signature"]


def _key(secret: Any) -> bytes | None:
    """The HMAC key from a str or bytes secret; None when there is no usable secret."""
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    if not isinstance(secret, (bytes, bytearray)) or not secret:
        return None
    return bytes(secret)


def _body(body: Any) -> bytes | None:
    """The raw body as bytes (an empty body is allowed: GET/DELETE webhooks have none)."""
    if body is None:
        return b""
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    return None


def verify_zendesk(body: bytes, timestamp: str, signature: str, secret: str | bytes) -> bool:
    """True when ``signature`` is Zendesk's signature of ``timestamp + body`` under ``secret``.

    :param body: the raw request body.
    :param timestamp: the ``X-Zendesk-Webhook-Signature-Timestamp`` header, as sent.
    :param signature: the ``X-Zendesk-Webhook-Signature`` header (base64).
    :param secret: the webhook's signing secret.
    """
    key, raw = _key(secret), _body(body)
    if key is None or raw is None or not isinstance(timestamp, str) or not isinstance(signature, str):
        return False
    try:
        given = base64.b64decode(signature.strip().encode("ascii"), validate=True)
        signed = timestamp.encode("utf-8") + raw
    except (UnicodeError, ValueError, binascii.Error):
        return False
    expected = hmac.new(key, signed, hashlib.sha256).digest()
    return hmac.compare_digest(expected, given)


def verify_hub_signature(body: bytes, header: str, secret: str | bytes, algorithm: str) -> bool:
    """True when ``header`` is ``<algorithm>=<hex HMAC(secret, body)>`` (the WebSub ``X-Hub-Signature``).

    :param algorithm: ``"sha256"`` or ``"sha1"``; the header must name the same one.
    """
    key, raw = _key(secret), _body(body)
    if key is None or raw is None or not isinstance(header, str) or algorithm not in ("sha1", "sha256"):
        return False
    prefix, sep, hexdigest = header.strip().partition("=")
    if not sep or prefix.strip().lower() != algorithm:
        return False
    try:
        given = bytes.fromhex(hexdigest.strip())
    except ValueError:
        return False
    expected = hmac.new(key, raw, getattr(hashlib, algorithm)).digest()
    return hmac.compare_digest(expected, given)


def verify_jira(body: bytes, header: str, secret: str | bytes) -> bool:
    """True when ``header`` (``X-Hub-Signature: sha256=<hex>``) signs ``body`` under ``secret``."""
    return verify_hub_signature(body, header, secret, "sha256")


def verify_zammad(body: bytes, header: str, secret: str | bytes) -> bool:
    """True when ``header`` (``X-Hub-Signature: sha1=<hex>``) signs ``body`` under ``secret``."""
    return verify_hub_signature(body, header, secret, "sha1")
