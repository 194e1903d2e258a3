"""Tickets evaluated per second through all four rule plugins, and `govhall check` end to end.

    python benchmarks/bench_engine.py [N]      (default N = 100,000)
    python benchmarks/bench_engine.py [N] --against TREE [TREE ...] [--repeat R] [--formats jsonl,pretty,one-line]
    python benchmarks/bench_engine.py --events [E] [--repeat R]      (default E = 100,000, R = 3)

Prints evaluation throughput on one core with peak memory (RSS), and the same for
`govhall check` on a JSON Lines file of the tickets (run as a subprocess, output
to /dev/null), with one process and with two (``--jobs 2``). Memory is also
measured at N/10 to show it does not grow with N.

With ``--against``: `govhall check` of the N tickets, with ``--jobs 1`` and
``--jobs 2``, from this tree (the one this script is in) and from each other source tree (a checkout of
another commit, see ``trees.py``), runs interleaved ``--repeat R`` times (default
3) so that a machine whose speed drifts affects each alike; it prints the best
wall and CPU time (user and system, the workers' included) of each, tickets per
second, and how many times faster this tree is. ``--formats`` names the files
checked: JSON Lines, and the wrapped document pretty-printed (``json.dump(indent=2)``)
or on one line (``json.dump``).

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

import argparse
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
from trees import tree_env  # noqa: E402

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


def ticket_file(n: int, folder: str, fmt: str = "jsonl") -> str:
    """A file of the first ``n`` corpus tickets in ``fmt`` (``jsonl``, ``pretty`` or ``one-line``), made once."""
    path = os.path.join(folder, f"tickets-{n}-{fmt}.{'jsonl' if fmt == 'jsonl' else 'json'}")
    if not os.path.exists(path):
        with open(path, "w", encoding="utf-8") as fh:
            if fmt == "jsonl":
                for raw in corpus(n):
                    fh.write(json.dumps(raw, ensure_ascii=False) + "\n")
            else:
                json.dump({"tickets": list(corpus(n))}, fh, ensure_ascii=False, indent=2 if fmt == "pretty" else None)
    return path


def check(n: int, folder: str, jobs: int) -> tuple[float, float, int]:
    """`govhall check` of the first ``n`` corpus tickets as JSON Lines: its seconds, peak RSS in MiB, the file's size."""
    seconds, _, rss, size = check_file(ticket_file(n, folder), jobs)
    return seconds, rss, size


def check_file(path: str, jobs: int, env: dict[str, str] | None = None) -> tuple[float, float, float, int]:
    """`govhall check` of a file in a subprocess: its seconds and CPU seconds (after start-up; workers
    included), peak RSS in MiB (the parent's), the file's size. ``env``: the subprocess' environment."""
    size = os.path.getsize(path)
    cmd = [sys.executable, "-c",
           "import os,resource,sys,time;from govhall_sdk.cli import main;t=time.perf_counter();c=os.times();"
           "main(sys.argv[1:]);d=os.times();sys.stderr.write(f'{time.perf_counter()-t} '"
           "f'{d.user+d.system+d.children_user+d.children_system-c.user-c.system-c.children_user-c.children_system} '"
           "f'{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024}\\n')",
           "check", path, "--now", NOW.isoformat(), "--format", "json", "--jobs", str(jobs)]
    with open(os.devnull, "w") as devnull:
        out = subprocess.run(cmd, stdout=devnull, stderr=subprocess.PIPE, text=True, check=True, env=env,
                             cwd=os.path.dirname(path))  # not the repository, whose tree would come first on sys.path
    seconds, cpu, rss = map(float, out.stderr.strip().splitlines()[-1].split())
    return seconds, cpu, rss, size


def against_main(n: int, trees: list[str], repeat: int, formats: list[str]) -> None:
    """`govhall check` of N tickets from this tree and from ``trees``, interleaved, best of ``repeat``."""
    with tempfile.TemporaryDirectory() as folder:
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        envs = {"this tree": tree_env(here, folder), **{tree: tree_env(tree, folder) for tree in trees}}
        for fmt in formats:
            path = ticket_file(n, folder, fmt)
            for jobs in (1, 2):
                best: dict[str, list[float]] = {name: [float("inf")] * 2 for name in envs}
                for _ in range(repeat):
                    for name, env in envs.items():
                        seconds, cpu, _, _ = check_file(path, jobs, env)
                        best[name] = [min(best[name][0], seconds), min(best[name][1], cpu)]
                ours = best["this tree"]
                for name, (seconds, cpu) in best.items():
                    than = "" if name == "this tree" else \
                        f"; this tree {seconds / ours[0]:.2f}x faster (wall), {cpu / ours[1]:.2f}x less CPU"
                    print(f"govhall check --jobs {jobs}, {n:,} tickets ({fmt}), {name}: best wall {seconds:.2f} s "
                          f"= {n / seconds:,.0f} tickets/s, best CPU {cpu:.2f} s{than}", flush=True)


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
    parser = argparse.ArgumentParser(description="Evaluation and govhall check throughput.")
    parser.add_argument("n", nargs="?", type=int, default=100_000, help="tickets (default 100,000)")
    parser.add_argument("--events", nargs="?", type=int, const=100_000, metavar="E",
                        help="time one ticket of E events instead (default 100,000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each timed command (default 3)")
    parser.add_argument("--against", nargs="+", default=[], metavar="TREE",
                        help="other source trees (checkouts of other commits) to run govhall check from, side by side")
    parser.add_argument("--formats", default="jsonl", help="with --against: jsonl, pretty, one-line (comma-separated)")
    options = parser.parse_args()
    if options.events is not None:
        events_main(options.events, options.repeat)
        return
    n = options.n
    if options.against:
        against_main(n, options.against, options.repeat, options.formats.split(","))
        return
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
