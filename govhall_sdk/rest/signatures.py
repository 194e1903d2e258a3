"""Webhook signature checks (HMAC), for the adapters of helpdesks that sign their calls.

Each check takes the raw request body exactly as received (bytes, before any
JSON parsing), the signature and the shared secret, and answers True or False.
The digests are compared with :func:`hmac.compare_digest` (constant time).
Malformed input of any kind (a missing header, a wrong prefix, non-ASCII text,
an empty secret, a body that is not bytes) is a failed check, never an
exception: a webhook endpoint must answer 401, not crash, on garbage. Which
platform signs what is the adapter's to say (``verify_webhook`` in
``adapters/zendesk.py``, ``jira.py``, ``zammad.py``).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Any

ALGORITHMS = ("sha1", "sha256")


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


def verify_base64_hmac(signed_prefix: str, body: bytes, signature: str, secret: str | bytes,
                       algorithm: str = "sha256") -> bool:
    """True when ``signature`` is ``base64(HMAC(secret, signed_prefix + body))``."""
    key, raw = _key(secret), _body(body)
    if key is None or raw is None or not isinstance(signed_prefix, str) or not isinstance(signature, str) \
            or algorithm not in ALGORITHMS:
        return False
    try:
        given = base64.b64decode(signature.strip().encode("ascii"), validate=True)
        signed = signed_prefix.encode("utf-8") + raw
    except (UnicodeError, ValueError, binascii.Error):
        return False
    return hmac.compare_digest(hmac.new(key, signed, getattr(hashlib, algorithm)).digest(), given)


def verify_hub_signature(body: bytes, header: str, secret: str | bytes, algorithm: str) -> bool:
    """True when ``header`` is ``<algorithm>=<hex HMAC(secret, body)>`` (the WebSub ``X-Hub-Signature``).

    :param algorithm: ``"sha256"`` or ``"sha1"``; the header must name the same one.
    """
    key, raw = _key(secret), _body(body)
    if key is None or raw is None or not isinstance(header, str) or algorithm not in ALGORITHMS:
        return False
    prefix, sep, hexdigest = header.strip().partition("=")
    if not sep or prefix.strip().lower() != algorithm:
        return False
    try:
        given = bytes.fromhex(hexdigest.strip())
    except ValueError:
        return False
    return hmac.compare_digest(hmac.new(key, raw, getattr(hashlib, algorithm)).digest(), given)
