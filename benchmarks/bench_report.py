"""`govhall report` over a results store of N tickets.

    python benchmarks/bench_report.py [N]        (default N = 100,000)

Builds (once, cached in $TMPDIR/govhall-bench-report-N/) a state store holding
the results of N synthetic tickets (``corpus.py``) evaluated at the corpus'
``NOW``, as ``govhall run`` would leave it: each ticket's record and the history
of its findings. Then it runs ``govhall report`` as a fresh process, all four
reports in every format, and prints its wall time, its CPU time (user + system)
and peak RSS, each file's size, and the CPU time of each step measured in
process (loading the store, each report's data, and each file written).
"""
from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from corpus import NOW, corpus  # noqa: E402

from govhall_sdk.config import default_config, load_config  # noqa: E402
from govhall_sdk.engine import Engine  # noqa: E402
from govhall_sdk.host import get_plugin_manager  # noqa: E402
from govhall_sdk.parse import ticket_from_dict  # noqa: E402
from govhall_sdk.reports.data import Period  # noqa: E402
from govhall_sdk.results import contact_of, record_of  # noqa: E402
from govhall_sdk.state import StateStore  # noqa: E402


def build_store(path: Path, n: int) -> None:
    """Evaluate N corpus tickets and keep their results in a state store at ``path``."""
    pm = get_plugin_manager()
    engine = Engine(default_config(pm), pm)
    ctx = engine.context(NOW)
    store = StateStore(path)
    batch = []
    for raw in corpus(n):
        ticket = ticket_from_dict(raw)
        batch.append((record_of(ticket, engine.evaluate(ticket, ctx), NOW), contact_of(ticket)))
        if len(batch) == 1000:
            store.store_results("local", NOW, batch)
            batch = []
    store.store_results("local", NOW, batch)
    store.close()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    folder = Path(tempfile.gettempdir()) / f"govhall-bench-report-{n}"
    folder.mkdir(exist_ok=True)
    state = folder / "state.sqlite"
    if not state.exists():
        started = time.perf_counter()
        build_store(state, n)
        print(f"built a results store of {n:,} tickets in {time.perf_counter() - started:.1f} s: {state}")
    config = folder / "govhall.toml"
    config.write_text('[state]\npath = "state.sqlite"\n', encoding="utf-8")
    out = folder / "report"
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "govhall_sdk.cli", "report", "--config", str(config),
                           "--out", str(out)], capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"govhall report failed ({done.returncode}): {done.stderr}")
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"govhall report (all four reports, every format) over {n:,} tickets: {wall:.2f} s wall, "
          f"{child.ru_utime + child.ru_stime:.2f} s CPU, peak RSS {child.ru_maxrss / 1024:.0f} MiB")
    for path in sorted(out.iterdir()):
        print(f"  {path.name:<24} {path.stat().st_size / 1e6:8.2f} MB")
    steps(config)


def steps(config: Path) -> None:
    """The time of each step, in process, as ``govhall report`` takes them."""
    from argparse import Namespace

    from govhall_sdk.cli import report as cli

    args = Namespace(department=None, unmasked=False, adapter=None, date_from=None, date_to=None)
    started = time.process_time()
    with cli._collection_paused():
        data = cli._from_store(args, load_config(config, get_plugin_manager()), Period())
    print(f"  load the store: {time.process_time() - started:.2f} s CPU ({len(data.records):,} records, "
          f"{len(data.history):,} finding occurrences)")
    for kind in cli.REPORTS:
        started = time.process_time()
        cli._json_of(kind, data)
        print(f"  {kind} data: {time.process_time() - started:.2f} s CPU")
    built: dict = {}
    with tempfile.TemporaryDirectory() as folder:
        for kind, fmt, path in cli._plan(list(cli.REPORTS), None, folder):
            started = time.process_time()
            cli._write(kind, fmt, data, path, built)
            print(f"  {path.name} (with its tables the first time): {time.process_time() - started:.2f} s CPU")


if __name__ == "__main__":
    main()
