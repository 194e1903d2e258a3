"""Requests per ticket of ``govhall run`` on each helpdesk adapter, against the test fakes.

    python benchmarks/bench_requests.py [N] [ADAPTER ...]     (default N = 1,000; every adapter)

For each adapter: a first run over N open tickets, an idle rerun (nothing
changed), and a rerun after 1 % of the tickets got a person's reply; "per
ticket" is the first run's requests over N, the idle rerun's over N, and for
the rerun after changes its requests beyond the idle rerun's (the list's pages
and start-up checks every run makes) over the tickets changed. Every
request the adapter sends is counted (the fakes answer on ``responses``, so
nothing leaves the process), by method and endpoint, and the time 100,000 open
tickets take on a first run at the platform's documented request limit is
printed beside it (``LIMITS``, with where each limit is documented).

Redmine runs against a real server instead of a fake: ``python
benchmarks/bench_requests_redmine.py [N]`` gives the same three runs.

Targets (issue 16): a first run on Zendesk at most 1.1 requests a ticket plus
one ``update_many`` per 100 written; no echo re-read on any platform (the idle
rerun and the 1 % rerun read only what changed); an incremental run
proportional to what changed.
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
import warnings
from collections import Counter
from datetime import datetime
from typing import Any, Callable

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

import responses  # noqa: E402
from corpus import NOW, corpus  # noqa: E402

from govhall_sdk.config import build_config  # noqa: E402
from govhall_sdk.engine import Engine  # noqa: E402
from govhall_sdk.host import get_plugin_manager  # noqa: E402
from govhall_sdk.state import StateStore  # noqa: E402
from govhall_sdk.sync import Sync  # noqa: E402

#: Requests a minute each platform allows on the plan named, and where that is documented.
LIMITS = {
    "zendesk": (700, "Support Enterprise: 700/min (developer.zendesk.com/api-reference/introduction/rate-limits/)"),
    "freshdesk": (700, "Enterprise: 700/min, 280/min of them ticket updates; Pro 400 (160) "
                       "(developers.freshdesk.com/api/#ratelimit)"),
    "jira": (600, "no fixed figure; ~10/s per user is a common budget (developer.atlassian.com/cloud/jira/platform/rate-limiting/)"),
    "zammad": (6000, "self-hosted, no default limit; 100/s assumed"),
}


def _endpoint(url: str) -> str:
    """A request's path with its ticket ids and job ids as ``{id}``."""
    path = re.sub(r"^https?://[^/]+", "", url).split("?", 1)[0]
    return re.sub(r"/(\d+|[A-Z]+-\d+|[0-9a-f]{20,})(?=/|\.json|$)", "/{id}", path)


def _zendesk(mock: Any) -> Any:
    from fakes_zendesk import ZendeskDriver

    return ZendeskDriver(mock)


def _freshdesk(mock: Any) -> Any:
    from fakes_freshdesk import FreshdeskDriver, FreshdeskFake

    fake = FreshdeskFake()
    fake.install(mock)
    return FreshdeskDriver(fake)


def _zammad(mock: Any) -> Any:
    from fakes_zammad import ZammadDriver, ZammadFake

    fake = ZammadFake()
    fake.install(mock)
    return ZammadDriver(fake)


def _jira(mock: Any) -> Any:
    from fakes_jira import JiraDriver

    return JiraDriver(mock)


DRIVERS: dict[str, Callable[[Any], Any]] = {"zendesk": _zendesk, "freshdesk": _freshdesk, "jira": _jira,
                                            "zammad": _zammad}


def _tickets(n: int) -> list[dict[str, Any]]:
    """N open tickets of the benchmark corpus (a first run's work: every one is evaluated and most written)."""
    out = []
    for raw in corpus(n):
        raw.pop("resolved_at", None)
        raw["status"] = "open"
        raw["events"] = [e for e in raw["events"] if e["type"] not in ("completion", "evaluation")]
        out.append(raw)
    return out


def measure(name: str, n: int) -> list[tuple[str, int, Counter, Any]]:
    """(run, tickets it concerned, requests by endpoint, summary) for the three runs of one adapter."""
    pm = get_plugin_manager()
    defaults = {s: d for s, (_, d) in pm.policies.items()}
    rows = []
    with tempfile.TemporaryDirectory() as folder, responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        config = build_config({"state": {"path": os.path.join(folder, "state.sqlite")}}, defaults)
        driver = DRIVERS[name](mock)
        tickets = _tickets(n)
        driver.seed(tickets)
        engine = Engine(config, pm)

        def run(label: str, concerned: int) -> None:
            before = len(mock.calls)
            state = StateStore(config.state_path)
            adapter = driver.make_adapter(config)
            summary = Sync(engine, adapter, state).run(NOW)
            adapter.close()
            state.close()
            counts = Counter(f"{c.request.method} {_endpoint(c.request.url)}" for c in mock.calls[before:])
            rows.append((label, concerned, counts, summary))

        run("first run", n)
        run("rerun, nothing changed", n)
        touched = [t["id"] for t in tickets[::100]]
        for tid in touched:
            driver.touch(tid)
        run(f"rerun after {len(touched)} changed", len(touched))
    return rows


def main() -> None:
    warnings.simplefilter("ignore")
    args = sys.argv[1:]
    n = int(args.pop(0)) if args and args[0].isdigit() else 1000
    names = args or list(DRIVERS)
    if "redmine" in names:
        sys.exit("redmine runs against a real server: python benchmarks/bench_requests_redmine.py [N]")
    unknown = [name for name in names if name not in DRIVERS]
    if unknown:
        sys.exit(f"unknown adapter {', '.join(unknown)} (known: {', '.join(DRIVERS)}, redmine)")
    print(f"{'adapter':<10} {'run':<26} {'requests':>8} {'per ticket':>10} {'written':>7}  first run on 100,000 at the limit")
    details = []
    for name in names:
        idle = 0
        for label, concerned, counts, summary in measure(name, n):
            total = sum(counts.values())
            # a rerun's fixed requests (the list's pages, start-up checks) are the idle rerun's; the changed
            # tickets' own cost is what the rerun after changes sends beyond them
            per = total / max(concerned, 1) if label == "first run" else max(total - idle, 0) / max(concerned, 1)
            if label.startswith("rerun, nothing"):
                idle, per = total, total / max(concerned, 1)
            at_limit = ""
            if label == "first run":
                per_minute, _ = LIMITS[name]
                at_limit = f"{per * 100_000 / per_minute / 60:.1f} h at {per_minute}/min"
            print(f"{name:<10} {label:<26} {total:>8} {per:>10.3f} {summary.written:>7}  {at_limit}")
            details.append((name, label, counts))
    print()
    for name, label, counts in details:
        print(f"{name} / {label}: " + ", ".join(f"{k} {v}" for k, v in counts.most_common()))
    print()
    for name in names:
        print(f"{name}: {LIMITS[name][1]}")
    print(f"(measured {datetime.now().isoformat(timespec='seconds')})")


if __name__ == "__main__":
    main()
