"""`govhall run` on the embedded local helpdesk: first run, idle rerun, rerun after 1% changed.

    python benchmarks/bench_sync.py [N]        (default N = 10,000)

Targets (issue 4): the idle rerun writes nothing and takes under 5% of the first
run's time; after 1% of tickets change, work and writes are proportional to the 1%.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
import warnings

sys.path.insert(0, os.path.dirname(__file__))
from corpus import NOW, corpus  # noqa: E402

from govhall_adapters.local import LocalAdapter, LocalHelpdesk  # noqa: E402
from govhall_sdk.config import build_config  # noqa: E402
from govhall_sdk.engine import Engine  # noqa: E402
from govhall_sdk.host import get_plugin_manager  # noqa: E402
from govhall_sdk.state import StateStore  # noqa: E402
from govhall_sdk.sync import Sync  # noqa: E402


def run(engine, folder):
    adapter = LocalAdapter({"path": os.path.join(folder, "helpdesk.sqlite"), "seed": "-"}, engine.config)
    state = StateStore(os.path.join(folder, "state.sqlite"))
    t0 = time.perf_counter()
    summary = Sync(engine, adapter, state).run(NOW)
    took = time.perf_counter() - t0
    adapter.close()
    state.close()
    return took, summary


def main() -> None:
    warnings.simplefilter("ignore")
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    pm = get_plugin_manager()
    with tempfile.TemporaryDirectory() as folder:
        defaults = {s: d for s, (_, d) in pm.policies.items()}
        engine = Engine(build_config({"state": {"path": os.path.join(folder, "state.sqlite")}}, defaults), pm)
        helpdesk = LocalHelpdesk(os.path.join(folder, "helpdesk.sqlite"))
        helpdesk.put_many(corpus(n))
        rows = []
        first_t, first = run(engine, folder)
        rows.append(("first run", first_t, first))
        idle_t, idle = run(engine, folder)
        rows.append(("rerun, nothing changed", idle_t, idle))
        changed = 0
        for i, raw in enumerate(helpdesk.all()):
            if i % 100 == 0:
                raw["events"].append({"type": "reply", "at": "2025-03-14T15:00:00+08:00", "public": True,
                                      "body": "已电话回复申请人", "actor": {"id": "s9", "rank": 2, "role": "staff"}})
                helpdesk.put(raw)
                changed += 1
        one_t, one = run(engine, folder)
        rows.append((f"rerun after {changed} changed (1%)", one_t, one))
        helpdesk.close()
    print(f"{'run':<30} {'seconds':>8} {'pulled':>7} {'due':>5} {'evaluated':>9} {'written':>8} {'notes':>6}")
    for name, t, s in rows:
        print(f"{name:<30} {t:>8.3f} {s.pulled:>7} {s.due:>5} {s.evaluated:>9} {s.written:>8} {s.notes:>6}")
    print(f"idle rerun: {idle.written} writes, {idle_t / first_t:.1%} of the first run's time (target: 0 and < 5%)")
    print(f"1% rerun: evaluated {one.evaluated} and wrote {one.written} for {changed} changed tickets; "
          f"{one_t / first_t:.1%} of the first run's time")


if __name__ == "__main__":
    main()
