"""`govhall report` over a results store of N tickets.

    python benchmarks/bench_report.py [N]        (default N = 100,000)

Builds (once, cached in $TMPDIR/govhall-bench-report-N/) a state store holding
the results of N synthetic tickets (``corpus.py``) evaluated at the corpus'
``NOW``, as ``govhall run`` would leave it: each ticket's record and the history
of its findings. Then it runs ``govhall report`` as a fresh process, all four
reports in every format, with ``--jobs 1`` and ``--jobs 2``, and prints its wall
time, its CPU time (user + system) and peak RSS, each file's size, and the CPU
time of each step measured in process (loading the store, each report's data,
and each file written).
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
    for jobs in (1, 2):
        report(config, out, jobs, n)
    for path in sorted(out.iterdir()):
        print(f"  {path.name:<24} {path.stat().st_size / 1e6:8.2f} MB")
    steps(config)


def report(config: Path, out: Path, jobs: int, n: int) -> None:
    """Run ``govhall report --jobs JOBS`` (all reports, every format) as a fresh process; print its times."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "govhall_sdk.cli", "report", "--config", str(config),
                           "--out", str(out), "--jobs", str(jobs)], capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"govhall report failed ({done.returncode}): {done.stderr}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    print(f"govhall report --jobs {jobs} (all four reports, every format) over {n:,} tickets: {wall:.2f} s wall, "
          f"{cpu:.2f} s CPU, peak RSS of the largest process so far {after.ru_maxrss / 1024:.0f} MiB")


def steps(config: Path) -> None:
    """The time of each step, in process, as ``govhall report`` takes them."""
    from argparse import Namespace

    from govhall_sdk.cli import report as cli

    args = Namespace(department=None, unmasked=False, adapter=None, date_from=None, date_to=None)
    started = time.process_time()
    with cli.collection_paused():
        data = cli._from_store(args, load_config(config, get_plugin_manager()), Period())
    print(f"  load the store: {time.process_time() - started:.2f} s CPU ({len(data.records):,} records, "
          f"{len(data.history):,} finding occurrences)")
    for kind in cli.REPORTS:
        started = time.process_time()
        cli._json_of(kind, data)
        print(f"  {kind} data: {time.process_time() - started:.2f} s CPU")
    built: dict = {}
    print("  each file written (a report's tables built with its first file):")
    with tempfile.TemporaryDirectory() as folder:
        for kind, fmt, path in cli._plan(list(cli.REPORTS), None, folder):
            started = time.process_time()
            cli._write(kind, fmt, data, path, built)
            print(f"    {path.name}: {time.process_time() - started:.2f} s CPU")


if __name__ == "__main__":
    main()
