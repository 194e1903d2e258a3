"""The real Redmine server the end-to-end tests write to (started by ``.ci/redmine.sh``): where it is, and
whether it answers; in CI (``CI=true``) a missing server fails the test instead of skipping it."""
from __future__ import annotations

import json
import os
import secrets
import time
from datetime import datetime, timezone
from pathlib import Path

import requests

from needed import missing

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
        missing(f"the real Redmine is required for {what}: {reason}")
    return info


class RedmineClient:
    """The human side of the real server: its REST API as the admin, acting as other users through
    ``X-Redmine-Switch-User``; the projects and users a suite creates are dropped at its end."""

    def __init__(self, info: dict):
        self.info, self.url = info, info["url"]
        self.session = requests.Session()
        self.session.headers["X-Redmine-API-Key"] = info["api_key"]
        self.projects: list[str] = []
        self.users: list[int] = []

    def call(self, method: str, path: str, as_user: str | None = None, **kw) -> requests.Response:
        """One request, asserting it succeeded."""
        headers = {"X-Redmine-Switch-User": as_user} if as_user else {}
        for attempt in range(3):
            r = self.session.request(method, self.url + path, headers=headers, timeout=30, **kw)
            if r.status_code != 500 or attempt == 2:
                break
            time.sleep(0.5)  # Debian's SQLite Redmine: "database is locked", rolled back (see docs/adapters/redmine.md)
        assert r.status_code < 400, f"{method} {path}: HTTP {r.status_code} {r.text[:300]}"
        return r

    def server_now(self, project: str) -> datetime:
        """Redmine's clock (thin sends no Date header): the project's ``updated_on``, touched now."""
        self.call("PUT", f"/projects/{project}.json", json={"project": {"description": "govhall e2e"}})
        stamp = self.call("GET", f"/projects/{project}.json").json()["project"]["updated_on"]
        return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)

    def new_project(self, label: str) -> str:
        """A fresh subproject of the test project, with every tracker."""
        ident = f"e2e-{label}-{secrets.token_hex(4)}"
        self.call("POST", "/projects.json", json={"project": {
            "name": ident, "identifier": ident, "parent_id": self.info["project_id"], "inherit_members": True,
            "is_public": False, "tracker_ids": sorted(self.info["trackers"].values())}})
        self.projects.append(ident)
        return ident

    def drop_projects(self) -> None:
        """Delete what the suite created (kept with ``GOVHALL_KEEP_REDMINE_PROJECTS=1``)."""
        if os.environ.get("GOVHALL_KEEP_REDMINE_PROJECTS") == "1":
            return
        for ident in self.projects:
            for _ in range(3):  # a 500 here is SQLite's "database is locked": try again
                if self.session.delete(f"{self.url}/projects/{ident}.json", timeout=30).status_code != 500:
                    break
                time.sleep(0.5)
        self.projects.clear()
        for uid in self.users:
            self.session.delete(f"{self.url}/users/{uid}.json", timeout=30)
        self.users.clear()
