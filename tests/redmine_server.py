"""The real Redmine server the end-to-end tests write to (started by ``.ci/redmine.sh``): where it is, and
whether it answers; in CI (``CI=true``) a missing server fails the test instead of skipping it."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import requests

INFO_PATH = Path(os.environ.get("GOVHALL_REDMINE_INFO", "/tmp/govhall-redmine.json"))


def find_server() -> tuple[dict | None, str]:
    """The server's info (url, admin api_key, ids) when it answers, else None and why not."""
    try:
        info = json.loads(INFO_PATH.read_text())
    except (OSError, ValueError) as exc:
        return None, f"no Redmine info file {INFO_PATH} ({exc}); run .ci/redmine.sh"
    info.setdefault("url", "http://127.0.0.1:3300")
    try:
        r = requests.get(info["url"] + "/users/current.json", headers={"X-Redmine-API-Key": info["api_key"]}, timeout=5)
    except requests.RequestException as exc:
        return None, f"Redmine at {info['url']} does not answer ({type(exc).__name__}); run .ci/redmine.sh"
    if r.status_code != 200:
        return None, f"Redmine at {info['url']} refused the admin API key from {INFO_PATH} (HTTP {r.status_code})"
    return info, ""


def require_server(what: str) -> dict:
    """The server's info; without one, a failure in CI and a skip elsewhere."""
    info, reason = find_server()
    if info is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI: the real Redmine is required for {what}: {reason}")
        pytest.skip(reason)
    return info
