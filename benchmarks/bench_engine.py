"""Tickets evaluated per second through all four rule plugins, and `govhall check` end to end.

    python benchmarks/bench_engine.py [N]      (default N = 100,000)

Prints evaluation throughput on one core with peak memory (RSS), and the same for
`govhall check` on a JSON Lines file of the tickets (run as a subprocess, output
to /dev/null), with one process and with two (``--jobs 2``). Memory is also
measured at N/10 to show it does not grow with N.
"""
from __future__ import annotations

import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from corpus import NOW, corpus  # noqa: E402

from govhall_sdk.config import default_config  # noqa: E402
from govhall_sdk.engine import Engine  # noqa: E402
from govhall_sdk.host import get_plugin_manager  # noqa: E402
from govhall_sdk.parse import ticket_from_dict  # noqa: E402


def evaluate(n: int) -> tuple[float, float, dict]:
    """Parse outside the timer, evaluate inside it, one ticket at a time."""
    pm = get_plugin_manager()
    engine = Engine(default_config(pm), pm)
    ctx = engine.context(NOW)
    gc.freeze()  # as the govhall command does once its plugins, config and calendar are loaded
    codes: dict[str, int] = {}
    elapsed = 0.0
    batch = []
    for raw in corpus(n):
        batch.append(ticket_from_dict(raw))
        if len(batch) == 1000:
            elapsed += _timed(engine, ctx, batch, codes)
            batch = []
    if batch:
        elapsed += _timed(engine, ctx, batch, codes)
    return elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, codes


def _timed(engine, ctx, batch, codes) -> float:
    t0 = time.perf_counter()
    results = [engine.evaluate(t, ctx) for t in batch]
    took = time.perf_counter() - t0
    for r in results:
        for f in r.findings:
            codes[f.code] = codes.get(f.code, 0) + 1
    return took


def check(n: int, folder: str, jobs: int) -> tuple[float, float, int]:
    path = os.path.join(folder, f"tickets-{n}.jsonl")
    if not os.path.exists(path):
        with open(path, "w", encoding="utf-8") as fh:
            for raw in corpus(n):
                fh.write(json.dumps(raw, ensure_ascii=False) + "\n")
    size = os.path.getsize(path)
    cmd = [sys.executable, "-c",
           "import resource,sys,time;from govhall_sdk.cli import main;t=time.perf_counter();"
           "main(sys.argv[1:]);sys.stderr.write(f'{time.perf_counter()-t} '"
           "f'{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024}\\n')",
           "check", path, "--now", NOW.isoformat(), "--format", "json", "--jobs", str(jobs)]
    with open(os.devnull, "w") as devnull:
        out = subprocess.run(cmd, stdout=devnull, stderr=subprocess.PIPE, text=True, check=True)
    seconds, rss = map(float, out.stderr.strip().splitlines()[-1].split())
    return seconds, rss, size


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    seconds, rss, codes = evaluate(n)
    print(f"evaluation: {n:,} tickets in {seconds:.2f} s = {n / seconds:,.0f} tickets/s "
          f"(4 rule plugins, one core); peak RSS of the benchmark process {rss:,.0f} MiB")
    print(f"  findings: {sum(codes.values()):,} across {len(codes)} codes")
    with tempfile.TemporaryDirectory() as folder:
        for jobs in (1, 2):
            for size_n in (n // 10, n):
                secs, peak, size = check(size_n, folder, jobs)
                print(f"govhall check --jobs {jobs}: {size_n:,} tickets ({size / 2**20:,.0f} MiB JSON Lines) in "
                      f"{secs:.2f} s = {size_n / secs:,.0f} tickets/s; peak RSS {peak:,.0f} MiB (parent process)")


if __name__ == "__main__":
    main()
