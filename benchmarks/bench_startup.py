"""Start-up of `govhall check` on one ticket, and what it imports.

    python benchmarks/bench_startup.py [RUNS] [--against TREE ...]     (default RUNS = 15)

Runs `python -m govhall_sdk.cli check ONE.json --now ...` RUNS times as a fresh
process (output to /dev/null) and prints the best, the median and quartiles of
the wall time and of the CPU time (user and system, which a machine shared with
other work inflates less than the wall time), next to the same for a bare
`python -c pass` in the same interpreter (the floor no change to govhall can go
below). With ``--against TREE`` the same check also runs from each other source
tree (a checkout of another commit: ``git worktree add /tmp/base HEAD~1``; its
``govhall_sdk``, plugins and adapters, see ``trees.py``), for a side-by-side figure. All runs are interleaved,
so a machine whose speed drifts affects each alike. Then it lists the heavy
packages the check imported (``requests``, ``urllib3``, ``holidays``,
``importlib.metadata``, the adapters, the plugins' commands, ``govhall run``)
and the ten slowest imports by ``-X importtime``.

Byte-code caching is left on for the measured runs (``PYTHONDONTWRITEBYTECODE``
is removed from their environment) and one untimed run of each warms it and
the plugin caches, as an installed package would be.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from trees import tree_env  # noqa: E402

NOW = "2025-03-14T16:00:00+08:00"
TICKET = {
    "id": "T-1", "kind": "consultation", "status": "open", "created_at": "2025-03-10T09:00:00+08:00",
    "channel": "counter", "applicant": {"name": "x"},
    "events": [
        {"type": "reply", "at": "2025-03-10T09:00:00+08:00", "public": True,
         "actor": {"id": "a", "role": "applicant"}, "body": "请问营业执照怎么办理？"},
        {"type": "reply", "at": "2025-03-10T09:05:00+08:00", "public": True,
         "actor": {"id": "s1", "role": "staff", "rank": 1, "department": "市场监管窗口"},
         "body": "您好，请携带身份证和申请表到窗口办理。"},
    ],
}
WATCHED = ("requests", "urllib3", "holidays", "holidays.countries", "importlib.metadata", "tenacity", "sqlite3",
           "subprocess", "govhall_adapters.freshdesk", "govhall_adapters.redmine", "govhall_adapters.local_commands",
           "govhall_sdk.rest", "govhall_sdk.cli.run")


def _timed(cmd: list[str], env: dict[str, str], cwd: str) -> tuple[float, float]:
    """The wall time and the CPU time (user and system) of one run of ``cmd`` in the folder ``cwd`` (``-m`` puts
    it first on ``sys.path``: not the repository, whose tree would win over ``--against``'s)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, env=env, check=True, cwd=cwd)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def _summary(values: list[float]) -> str:
    q = statistics.quantiles(values, n=4)
    return (f"best {min(values):.3f} s, median {statistics.median(values):.3f} s "
            f"(quartiles {q[0]:.3f}-{q[2]:.3f} s, {len(values)} runs)")


def main() -> None:
    parser = argparse.ArgumentParser(description="Start-up of govhall check on one ticket.")
    parser.add_argument("runs", nargs="?", type=int, default=15, help="timed runs of each (default 15)")
    parser.add_argument("--against", nargs="+", default=[], metavar="TREE",
                        help="other source trees (checkouts of other commits) to time side by side")
    options = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    trees = {"govhall check, one ticket": env}
    with tempfile.TemporaryDirectory() as folder:
        for tree in options.against:
            trees[f"  from {tree}"] = tree_env(tree, folder, env)
        path = os.path.join(folder, "one.json")
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(TICKET, fh, ensure_ascii=False)
        check = [sys.executable, "-m", "govhall_sdk.cli", "check", path, "--now", NOW, "--format", "json"]
        bare = [sys.executable, "-c", "pass"]
        for run_env in trees.values():
            _timed(check, run_env, folder)  # warm the byte-code and plugin caches
        timings: dict[str, list[tuple[float, float]]] = {name: [] for name in [*trees, "python -c pass"]}
        for _ in range(options.runs):
            for name, run_env in trees.items():
                timings[name].append(_timed(check, run_env, folder))
            timings["python -c pass"].append(_timed(bare, env, folder))
        width = max(map(len, timings))
        for what, index in (("wall", 0), ("CPU", 1)):
            for name, runs in timings.items():
                print(f"{name + ',':{width + 1}} {what:4}: {_summary([r[index] for r in runs])}")
        out = subprocess.run([sys.executable, "-X", "importtime", *check[1:]], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True, env=env, check=True, cwd=folder).stderr
    imported: dict[str, int] = {}
    for line in out.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = line[len("import time:"):].split("|")
            if cumulative.strip().isdigit():
                imported[name.strip()] = int(cumulative)
    heavy = [f"{n} ({imported[n] / 1000:.0f} ms)" for n in WATCHED if n in imported]
    print(f"heavy imports: {', '.join(heavy) or 'none'}")
    print("slowest imports (cumulative):")
    for name, micro in sorted(imported.items(), key=lambda kv: -kv[1])[:10]:
        print(f"  {micro / 1000:7.1f} ms  {name}")


if __name__ == "__main__":
    main()
