"""Tickets evaluated per second through all four rule plugins, and `govhall check` end to end.

    python benchmarks/bench_engine.py [N]      (default N = 100,000)
    python benchmarks/bench_engine.py --events [E] [--repeat R]      (default E = 100,000, R = 3)

Prints evaluation throughput on one core with peak memory (RSS), and the same for
`govhall check` on a JSON Lines file of the tickets (run as a subprocess, output
to /dev/null), with one process and with two (``--jobs 2``). Memory is also
measured at N/10 to show it does not grow with N.

With ``--events``: `govhall check` of one ticket of E ``reply`` events, an
applicant's question and a staff reply with a forbidden phrase in turn (E/2
findings and notes), and of the same with an assignment every 100 events and
staff without a department (the department is the ticket's at each reply), at
E/10 and E events, parse and evaluation timed apart in process: the time
should grow by 10, not 100. Parse and evaluation run once (a second run would
find the caches of masking and messages warm), as wall time and as the
process's CPU time (steadier on a shared machine); `govhall check` is the best
of ``--repeat R`` fresh processes (default 3). For a before/after figure run the
command alternately in both trees.
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
from datetime import timedelta

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
    return check_file(path, jobs)


def check_file(path: str, jobs: int) -> tuple[float, float, int]:
    """`govhall check` of a file in a subprocess: its seconds (after start-up), peak RSS in MiB, the file's size."""
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


def long_ticket(n: int, assignments: bool) -> dict:
    """One consultation (or complaint, with assignments) of ``n`` events; every staff reply has a forbidden phrase."""
    start = NOW.replace(year=2025, month=3, day=3, hour=9, minute=0)
    departments = ("医保窗口", "人社窗口", "热线办")
    events = []
    for i in range(n):
        at = (start + timedelta(seconds=i)).isoformat()
        if assignments and i % 100 == 50:
            k = i // 100 % 3
            events.append({"type": "assignment", "at": at, "actor": {"id": "s9", "role": "staff"},
                           "from_department": departments[k], "to_department": departments[(k + 1) % 3]})
        elif i % 2 == 0:
            events.append({"type": "reply", "at": at, "public": True, "actor": {"id": "a", "role": "applicant"},
                           "body": "请问"})
        else:
            staff = {"id": f"s{i % 5}", "role": "staff"} if assignments else \
                {"id": "s1", "role": "staff", "rank": 1, "department": "窗口"}
            events.append({"type": "reply", "at": at, "public": True, "actor": staff, "body": "这事不归我管"})
    return {"id": "T1", "kind": "complaint" if assignments else "consultation", "status": "open",
            "created_at": start.isoformat(), "channel": "counter", "applicant": {"name": "x"},
            "department": "热线办", "events": events}


def events_main(n: int, repeat: int) -> None:
    pm = get_plugin_manager()
    engine = Engine(default_config(pm), pm)
    with tempfile.TemporaryDirectory() as folder:
        for assignments in (False, True):
            for size in (n // 10, n):
                raw = long_ticket(size, assignments)
                path = os.path.join(folder, f"long-{size}-{assignments}.jsonl")
                with open(path, "w", encoding="utf-8") as fh:
                    fh.write(json.dumps(raw, ensure_ascii=False) + "\n")
                parse, ticket = _timed_once(lambda: ticket_from_dict(raw))
                evaluation, result = _timed_once(lambda: engine.evaluate(ticket, NOW))
                secs = min(check_file(path, 1)[0] for _ in range(repeat))
                what = "with assignments" if assignments else "one staff member"
                print(f"{size:,} events ({what}): parse {parse[0]:.2f} s ({parse[1]:.2f} s CPU), "
                      f"evaluate {evaluation[0]:.2f} s ({evaluation[1]:.2f} s CPU) ({len(result.findings):,} findings); "
                      f"govhall check {secs:.2f} s", flush=True)


def _timed_once(work):
    """The wall and CPU seconds of ``work()``, and what it returned."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = work()
    return (time.perf_counter() - t0, time.process_time() - c0), out


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--events":
        args = sys.argv[2:]
        repeat = 3
        if "--repeat" in args:
            k = args.index("--repeat")
            repeat = int(args[k + 1])
            del args[k:k + 2]
        events_main(int(args[0]) if args else 100_000, repeat)
        return
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
