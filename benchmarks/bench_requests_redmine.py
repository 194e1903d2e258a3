"""Requests per ticket of ``govhall run`` on the redmine adapter, against the REAL Redmine of ``.ci/redmine.sh``.

    python benchmarks/bench_requests_redmine.py [N]     (default N = 300)

The Redmine counterpart of ``bench_requests.py`` (which runs on the fakes): N
open issues are created in a fresh subproject of ``govhall`` (deleted at the
end, kept with ``GOVHALL_KEEP_REDMINE_PROJECTS=1``), then three runs: a first
run over the N issues, an idle rerun (nothing changed), and a rerun after 1 %
of them got a staff member's note. Every request the adapter sends is counted
through a response hook on its session, by method and endpoint (the issue list
and its ``issue_id=`` read-back apart); the time 100,000 open issues take on a
first run is printed at a stated budget (``BUDGET``: Redmine documents no API
rate limit, so the bound is the server) and at the rate measured here.
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
import time
import warnings
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from redmine_server import RedmineClient, find_server  # noqa: E402

from govhall_adapters.redmine import RedmineAdapter  # noqa: E402
from govhall_adapters.redmine_setup import settings_from_setup  # noqa: E402
from govhall_sdk.config import build_config  # noqa: E402
from govhall_sdk.engine import Engine  # noqa: E402
from govhall_sdk.host import get_plugin_manager  # noqa: E402
from govhall_sdk.state import StateStore  # noqa: E402
from govhall_sdk.sync import Sync  # noqa: E402

#: The request budget 100,000 issues are costed at: Redmine has no documented API rate limit
#: (redmine.org/projects/redmine/wiki/Rest_api says none); 10 requests a second is a polite share of a server.
BUDGET = (600, "600/min assumed (Redmine documents no API rate limit; a polite share of a self-hosted server)")
DAYS_AHEAD = 40  # the runs' --now: every clock of the seeded issues has run out, so nearly every issue is written
STAFF = {"wang": {"rank": 1, "department": "综合窗口"}, "li": {"rank": 2, "department": "综合窗口"}}
TRACKERS = ("Complaint", "Consultation", "Application")


def endpoint(method: str, url: str) -> str:
    """A request as ``METHOD /path`` with issue ids as ``{id}``; the list's ``issue_id=`` read-back named apart."""
    path = re.sub(r"^https?://[^/]+", "", url)
    path, _, query = path.partition("?")
    path = re.sub(r"/\d+(?=\.json)", "/{id}", path)
    if path == "/issues.json" and re.search(r"(^|&)issue_id=", query):
        path += "?issue_id="
    return f"{method} {path}"


def seed(client: RedmineClient, project: str, n: int) -> list[int]:
    """N open issues filed by a staff member through Redmine's REST API, the tracker going round."""
    fields = settings_from_setup(client.info)["custom_fields"]
    ids = []
    for i in range(n):
        tracker = TRACKERS[i % len(TRACKERS)]
        issue = {"project_id": project, "tracker_id": client.info["trackers"][tracker], "subject": f"bench {i}",
                 "status_id": client.info["statuses"]["Open"],
                 "custom_fields": [{"id": fields["channel"], "value": "phone"},
                                   {"id": fields["department"], "value": "综合窗口"}]}
        ids.append(client.call("POST", "/issues.json", as_user="wang", json={"issue": issue}).json()["issue"]["id"])
    return ids


class Counted:
    """The requests of one run, counted on the adapter's session by a response hook."""

    def __init__(self) -> None:
        self.counts: Counter = Counter()

    def __call__(self, response: Any, *args: Any, **kwargs: Any) -> None:
        self.counts[endpoint(response.request.method, response.request.url)] += 1


def measure(client: RedmineClient, n: int) -> list[tuple[str, int, Counter, Any, float]]:
    """(run, issues it concerned, requests by endpoint, summary, seconds) for the three runs."""
    pm = get_plugin_manager()
    defaults = {s: d for s, (_, d) in pm.policies.items()}
    project = client.new_project("bench")
    settings = {**settings_from_setup(client.info), "project": project, "users": STAFF,
                "api_key": client.info["api_key"], "allow_http": True}
    started = time.perf_counter()
    ids = seed(client, project, n)
    print(f"seeded {n} issues in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    now = client.server_now(project) + timedelta(days=DAYS_AHEAD)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        config = build_config({"state": {"path": os.path.join(folder, "state.sqlite")}}, defaults)
        engine = Engine(config, pm)

        def run(label: str, concerned: int) -> None:
            state = StateStore(config.state_path)
            adapter = RedmineAdapter(settings, config)
            counted = Counted()
            adapter.session.hooks["response"].append(counted)
            began = time.perf_counter()
            summary = Sync(engine, adapter, state).run(now)
            seconds = time.perf_counter() - began
            adapter.close()
            state.close()
            rows.append((label, concerned, counted.counts, summary, seconds))

        run("first run", n)
        run("rerun, nothing changed", n)
        touched = ids[::100]
        time.sleep(1.1)  # the person's note comes in a later second than govhall's writes
        for iid in touched:
            client.call("PUT", f"/issues/{iid}.json", as_user="li",
                        json={"issue": {"notes": "已电话联系申请人说明办理进度。"}})
        time.sleep(2.1)  # a scheduled run comes seconds after a change, not in its second (see the docs' "echoes")
        run(f"rerun after {len(touched)} changed", len(touched))
    return rows


def report(rows: list[tuple[str, int, Counter, Any, float]]) -> None:
    """The table, the requests by endpoint, and what 100,000 open issues cost."""
    per_minute, where = BUDGET
    print(f"{'run':<26} {'requests':>8} {'per ticket':>10} {'written':>7} {'skipped':>7} {'seconds':>7}")
    for label, concerned, counts, summary, seconds in rows:
        total = sum(counts.values())
        print(f"{label:<26} {total:>8} {total / max(concerned, 1):>10.3f} {summary.written:>7} "
              f"{summary.skipped:>7} {seconds:>7.1f}")
    print()
    for label, _, counts, summary, _ in rows:
        print(f"{label}: " + ", ".join(f"{k} {v}" for k, v in counts.most_common())
              + ("" if summary.ok else f"  (NOT OK: {dict(list({**summary.failed, **summary.errors}.items())[:3])})"))
    label, concerned, counts, _, seconds = rows[0]
    per = sum(counts.values()) / max(concerned, 1)
    rate = sum(counts.values()) / seconds * 60
    print()
    print(f"first run on 100,000 open issues: {per * 100_000:,.0f} requests, "
          f"{per * 100_000 / per_minute / 60:.1f} h at {where}; "
          f"{per * 100_000 / rate / 60:.1f} h at the {rate:,.0f}/min measured here (serial, loopback)")
    print(f"(measured {datetime.now().isoformat(timespec='seconds')})")


def main() -> None:
    warnings.simplefilter("ignore")
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    info, reason = find_server()
    if info is None:
        sys.exit(f"bench_requests_redmine: {reason}")
    client = RedmineClient(info)
    try:
        report(measure(client, n))
    finally:
        client.drop_projects()


if __name__ == "__main__":
    main()
