"""Webhook signature checks (HMAC), for the adapters of helpdesks that sign their calls.

These are the primitives; a webhook endpoint should use
:class:`govhall_sdk.rest.webhooks.WebhookVerifier`, which adds the body cap, the
timestamp tolerance and the replay cache on top of them.

Each check takes the raw request body exactly as received (bytes, before any
JSON parsing), the signature and the shared secret, and answers True or False.
The digests are compared with :func:`hmac.compare_digest` (constant time).
Malformed input of any kind (a missing header, a wrong prefix, non-ASCII text,
an empty or whitespace-only secret, a body that is not bytes) is a failed
check, never an exception: a webhook endpoint must answer 401, not crash, on
garbage. Which platform signs what is the adapter's to say (``verify_webhook``
in ``adapters/zendesk.py``, ``jira.py``, ``zammad.py``).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Any

ALGORITHMS = ("sha1", "sha256")


def hmac_key(secret: Any) -> bytes | None:
    """The HMAC key of a str (UTF-8) or bytes secret; None when it is no usable secret
    (not str or bytes, empty, or whitespace only)."""
    if isinstance(secret, str):
        secret = secret.encode("utf-8") if secret.strip() else b""
    if not isinstance(secret, (bytes, bytearray)) or not bytes(secret).strip():
        return None
    return bytes(secret)


def body_bytes(body: Any) -> bytes | None:
    """The raw body as bytes (None is an empty body: GET/DELETE webhooks have none); None when not bytes."""
    if body is None:
        return b""
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    return None


def hmac_digest(key: bytes, message: bytes, algorithm: str) -> bytes:
    """``HMAC(key, message)`` with ``algorithm`` (one of :data:`ALGORITHMS`), as raw bytes."""
    return hmac.new(key, message, getattr(hashlib, algorithm)).digest()


def decode_base64_signature(signature: Any) -> bytes | None:
    """The digest a base64 signature carries; None when it is not strict base64 text."""
    if not isinstance(signature, str):
        return None
    try:
        return base64.b64decode(signature.strip().encode("ascii"), validate=True)
    except (UnicodeError, ValueError, binascii.Error):
        return None


def decode_hub_signature(header: Any, algorithm: str) -> bytes | None:
    """The digest of ``<algorithm>=<hex>`` (the WebSub ``X-Hub-Signature``); None when the header is
    malformed or names another algorithm."""
    if not isinstance(header, str) or algorithm not in ALGORITHMS:
        return None
    prefix, sep, hexdigest = header.strip().partition("=")
    if not sep or prefix.strip().lower() != algorithm:
        return None
    try:
        return bytes.fromhex(hexdigest.strip())
    except ValueError:
        return None


def verify_base64_hmac(signed_prefix: str, body: bytes, signature: str, secret: str | bytes,
                       algorithm: str = "sha256") -> bool:
    """True when ``signature`` is ``base64(HMAC(secret, signed_prefix + body))``."""
    key, raw = hmac_key(secret), body_bytes(body)
    if key is None or raw is None or not isinstance(signed_prefix, str) or algorithm not in ALGORITHMS:
        return False
    given = decode_base64_signature(signature)
    try:
        signed = signed_prefix.encode("utf-8") + raw
    except UnicodeError:
        return False
    return given is not None and hmac.compare_digest(hmac_digest(key, signed, algorithm), given)


def verify_hub_signature(body: bytes, header: str, secret: str | bytes, algorithm: str) -> bool:
    """True when ``header`` is ``<algorithm>=<hex HMAC(secret, body)>`` (the WebSub ``X-Hub-Signature``).

    :param algorithm: ``"sha256"`` or ``"sha1"``; the header must name the same one.
    """
    key, raw = hmac_key(secret), body_bytes(body)
    given = decode_hub_signature(header, algorithm)
    if key is None or raw is None or given is None:
        return False
    return hmac.compare_digest(hmac_digest(key, raw, algorithm), given)
