"""Secrets kept out of every output: the process's secret values, in each spelling they can travel in.

An adapter registers its tokens (and the header values built from them) with
:func:`register_secret` when it is created. :func:`redact` replaces each of
them, raw, URL-encoded (``quote`` and ``quote_plus``) and base64-encoded, by
``***``. It runs on every error before it is stored, printed or logged, and
:class:`RedactingFilter` runs it (with :func:`govhall_sdk.privacy.mask_text`)
on every log record, DEBUG records of requests and urllib3 included.
"""
from __future__ import annotations

import base64
import logging
import threading
from urllib.parse import quote, quote_plus

from .privacy import mask_text

_lock = threading.Lock()
_spellings: tuple[str, ...] = ()


def spellings(secret: str) -> set[str]:
    """The forms ``secret`` can take in a URL, a header or a message."""
    raw = secret.encode("utf-8")
    forms = {secret, quote(secret, safe=""), quote_plus(secret), quote(secret),
             base64.b64encode(raw).decode("ascii"), base64.urlsafe_b64encode(raw).decode("ascii")}
    forms |= {f.rstrip("=") for f in list(forms)}  # base64 without its padding, as some headers carry it
    return {f for f in forms if f}


def register_secret(secret: object) -> None:
    """Redact ``secret`` (a str; anything else is ignored) from every output of this process from now on."""
    global _spellings
    if not isinstance(secret, str) or not secret.strip():
        return
    with _lock:
        # longest first, so that no shorter spelling leaves part of a longer one readable
        _spellings = tuple(sorted(set(_spellings) | spellings(secret), key=len, reverse=True))


def redact(text: str) -> str:
    """``text`` with every registered secret, in every spelling, replaced by ``***``."""
    if not isinstance(text, str):
        text = str(text)
    for form in _spellings:
        if form in text:
            text = text.replace(form, "***")
    return text


def scrub(text: str) -> str:
    """``text`` fit for any output: secrets redacted, then applicants' phone and ID numbers masked."""
    return mask_text(redact(text))


class RedactingFilter(logging.Filter):
    """A logging filter that scrubs (:func:`scrub`) each record's message, exception and stack text.

    Attach it to a handler: every record that handler emits, from any logger
    (urllib3's DEBUG lines carry URLs and headers), is scrubbed first.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the record's formatted message (and its traceback text) by their scrubbed forms."""
        record.msg, record.args = scrub(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True
