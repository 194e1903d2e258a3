"""Masking of applicants' personal data in logs, notes, the audit log and reports."""
from __future__ import annotations

import re

# An 11-digit mainland mobile number (also right after +86, and as 3-4-4 groups split
# by spaces or hyphens), and an 18-character resident ID number (17 digits and a
# digit or X), not inside a longer run of digits.
_MOBILE = re.compile(r"(?:(?<=\+86)|(?<!\d))(1[3-9]\d)([ -]?)(\d{4})\2(\d{4})(?!\d)")
_LONG_NUMBER = re.compile(r"\d{3}[ -]?\d{4}[ -]?\d{4}")
_RESIDENT_ID = re.compile(r"(?<!\d)(\d{6})(\d{8})(\d{3}[\dXx])(?![0-9A-Za-z])")


def mask_text(text: str) -> str:
    """``text`` with mobiles as ``138****5678`` and ID numbers as ``610202********123X``."""
    if not text or _LONG_NUMBER.search(text) is None:
        return text
    text = _RESIDENT_ID.sub(lambda m: m.group(1) + "*" * 8 + m.group(3), text)
    return _MOBILE.sub(lambda m: m.group(1) + m.group(2) + "****" + m.group(2) + m.group(4), text)
