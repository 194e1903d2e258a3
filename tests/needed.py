"""What a test needs from the machine (a program, a server): when it is missing, the test fails in CI
(``CI=true``, where ``.ci/run`` installs and starts everything) and is skipped elsewhere, naming what to
install."""
from __future__ import annotations

import os
import shutil
from typing import NoReturn

import pytest


def in_ci() -> bool:
    """True when the tests run in CI (``CI`` is ``true`` or ``1``, as CI services set it)."""
    return os.environ.get("CI", "").lower() in ("true", "1")


def missing(reason: str) -> NoReturn:
    """Stop the test for want of ``reason``: a failure in CI, a skip elsewhere."""
    if in_ci():
        pytest.fail(f"CI: {reason}")
    pytest.skip(reason)


def program(name: str, package: str | None = None) -> str:
    """The path of program ``name``, which Debian's ``package`` (default: the same name) installs."""
    path = shutil.which(name)
    if path is None:
        missing(f"{name} is not installed (apt-get install {package or name})")
    return path
