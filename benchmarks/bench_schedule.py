"""Does the schedule re-read exactly the tickets that time alone changes?

    python benchmarks/bench_schedule.py [N] [DAYS]     (default N = 10,000, DAYS = 3)

A first ``govhall run`` on the embedded local helpdesk with N synthetic tickets
(``corpus.py``) at the corpus' ``NOW``; then, DAYS later with nothing changed by
anyone, two counts:

- **changed by time**: the tickets whose patch is not empty when every ticket
  is evaluated again at the later instant (what a full re-evaluation would write);
- **due by the schedule**: the tickets the state store says to re-read then
  (``StateStore.due``), which is what ``govhall run`` actually reads.

Target: every ticket changed by time is due (none missed), and few are due for
nothing. With ``--fsync`` it also counts the ``fsync``/``fdatasync`` calls of the
first run under ``strace`` (Linux, strace installed).
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import warnings
from datetime import timedelta

sys.path.insert(0, os.path.dirname(__file__))
from corpus import NOW, corpus  # noqa: E402

from govhall_adapters.local import LocalAdapter, LocalHelpdesk  # noqa: E402
from govhall_sdk.config import build_config  # noqa: E402
from govhall_sdk.engine import Engine  # noqa: E402
from govhall_sdk.host import get_plugin_manager  # noqa: E402
from govhall_sdk.parse import ticket_from_dict  # noqa: E402
from govhall_sdk.state import StateStore  # noqa: E402
from govhall_sdk.sync import Sync  # noqa: E402


def engine_for(folder: str) -> Engine:
    pm = get_plugin_manager()
    defaults = {s: reg.obj for s, reg in pm.policies.items()}
    return Engine(build_config({"state": {"path": os.path.join(folder, "state.sqlite")}}, defaults), pm)


def first_run(folder: str, n: int) -> None:
    engine = engine_for(folder)
    helpdesk = LocalHelpdesk(os.path.join(folder, "helpdesk.sqlite"))
    helpdesk.put_many(corpus(n))
    helpdesk.close()
    adapter = LocalAdapter({"path": os.path.join(folder, "helpdesk.sqlite"), "seed": "-"}, engine.config)
    state = StateStore(os.path.join(folder, "state.sqlite"))
    Sync(engine, adapter, state).run(NOW)
    adapter.close()
    state.close()


def fsyncs_of_first_run(n: int) -> str:
    """The fsync and fdatasync calls of a first run, counted by strace in a child process."""
    with tempfile.TemporaryDirectory() as folder:
        code = (f"import sys; sys.path.insert(0, {os.path.dirname(__file__)!r}); "
                f"import bench_schedule as b; b.first_run({folder!r}, {n})")
        out = subprocess.run(["strace", "-f", "-c", "-e", "trace=fsync,fdatasync", sys.executable, "-c", code],
                             capture_output=True, text=True)
        lines = [line for line in out.stderr.splitlines() if "fsync" in line or "fdatasync" in line]
        return "; ".join(" ".join(line.split()[3:5]) for line in lines) or "none"


def main() -> None:
    warnings.simplefilter("ignore")
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 10_000
    days = int(args[1]) if len(args) > 1 else 3
    later = NOW + timedelta(days=days)
    with tempfile.TemporaryDirectory() as folder:
        first_run(folder, n)
        engine = engine_for(folder)
        state = StateStore(os.path.join(folder, "state.sqlite"))
        due = set(state.due("local", later))
        helpdesk = LocalHelpdesk(os.path.join(folder, "helpdesk.sqlite"))
        ctx = engine.context(later)
        changed = {raw["id"] for raw in helpdesk.all()
                   if not engine.evaluate(ticket_from_dict(raw), ctx).patch.empty}
        helpdesk.close()
        state.close()
    missed = changed - due
    print(f"{n} tickets, first run at {NOW.isoformat()}, looked at again {days} days later:")
    print(f"  changed by time (a full re-evaluation would write): {len(changed)}")
    print(f"  due by the schedule (what govhall run re-reads):    {len(due)}")
    print(f"  changed but not due (missed): {len(missed)}; due but unchanged: {len(due - changed)}")
    if "--fsync" in sys.argv:
        print(f"  fsync calls of the first run (strace): {fsyncs_of_first_run(n)}")


if __name__ == "__main__":
    main()
