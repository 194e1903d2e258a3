"""`govhall report` over a results store of N tickets.

    python benchmarks/bench_report.py [N] [--against TREE ...] [--repeat R]     (default N = 100,000)

Builds (once, cached in $TMPDIR/govhall-bench-report-N/) a state store holding
the results of N synthetic tickets (``corpus.py``) evaluated at the corpus'
``NOW``, as ``govhall run`` would leave it: each ticket's record and the history
of its findings. Then it runs ``govhall report`` as a fresh process, all four
reports in every format, with ``--jobs 1`` and ``--jobs 2``, and prints its wall
time, its CPU time (user + system) and peak RSS, each file's size, and the CPU
time of each step measured in process (loading the store, each report's data
made on its own, and each file written, in the command's order).

With ``--against TREE`` the same command also runs from each other source tree
(a checkout of another commit: ``git worktree add /tmp/base HEAD~1``; see
``trees.py``) over the same store, all runs interleaved ``--repeat R`` times
(default 3; the best of each is printed, so a machine whose speed drifts affects
each alike), and each tree's files are compared with this tree's: byte for byte,
and a workbook part by part, less the time it was written (``docProps/core.xml``).
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import attrs

sys.path.insert(0, os.path.dirname(__file__))
from corpus import NOW, corpus  # noqa: E402
from trees import tree_env  # noqa: E402

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
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=100_000, help="tickets in the results store")
    parser.add_argument("--against", nargs="+", default=[], metavar="TREE",
                        help="other source trees (checkouts of other commits) to run govhall report from, side by side")
    parser.add_argument("--repeat", type=int, default=3, help="with --against: interleaved runs of each (default 3)")
    options = parser.parse_args()
    n = options.n
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
    if options.against:
        side_by_side(config, folder, options.against, options.repeat, n)
    else:
        for jobs in (1, 2):
            show(jobs, n, "", report(config, out, jobs))
    for path in sorted(out.iterdir()):
        print(f"  {path.name:<24} {path.stat().st_size / 1e6:8.2f} MB")
    steps(config)


#: One run: wall time, CPU time (user + system) and the peak RSS of its largest process, in MiB.
Run = tuple[float, float, float]


def report(config: Path, out: Path, jobs: int, env: dict[str, str] | None = None) -> Run:
    """Run ``govhall report --jobs JOBS`` (all reports, every format) as a fresh process; its times and peak RSS,
    its own and its forked jobs' (``wait4``: what that one process and the processes it waited for used)."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "govhall_sdk.cli", "report", "--config", str(config),
                                    "--out", str(out), "--jobs", str(jobs)], stdout=subprocess.DEVNULL,
                                   stderr=errors, env=env,
                                   cwd=config.parent)  # not a source tree: python -m puts the folder first on sys.path
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait for it again
        if process.returncode:
            errors.seek(0)
            sys.exit(f"govhall report failed ({process.returncode}): {errors.read().decode(errors='replace')}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def show(jobs: int, n: int, who: str, run: Run) -> None:
    wall, cpu, rss = run
    print(f"govhall report --jobs {jobs} (all four reports, every format) over {n:,} tickets{who}: {wall:.2f} s wall, "
          f"{cpu:.2f} s CPU, peak RSS of its largest process {rss:.0f} MiB")


def side_by_side(config: Path, folder: Path, trees: list[str], repeat: int, n: int) -> None:
    """The command from this tree and from ``trees``, interleaved, best of ``repeat``; then each tree's files
    against this tree's."""
    here = str(Path(__file__).resolve().parent.parent)
    envs = {"this tree": tree_env(here, str(folder)), **{tree: tree_env(tree, str(folder)) for tree in trees}}
    outs = {name: folder / ("report" if i == 0 else f"report-{i}") for i, name in enumerate(envs)}
    for jobs in (1, 2):
        best: dict[str, Run] = {}
        for _ in range(repeat):
            for name, env in envs.items():
                run = report(config, outs[name], jobs, env)
                best[name] = tuple(map(min, zip(best.get(name, run), run)))  # type: ignore[assignment]
        for name, run in best.items():
            show(jobs, n, f" ({name}, best of {repeat})", run)
    for name in trees:
        different = [path.name for path in sorted(outs["this tree"].iterdir())
                     if not same_file(path, outs[name] / path.name)]
        print(f"  files of {name}: " + (f"differ: {', '.join(different)}" if different else "the same as this tree's"))


def same_file(path: Path, other: Path) -> bool:
    """The same bytes; for a workbook, the same parts with the same bytes, less the time it was written."""
    if not other.exists():
        return False
    if path.suffix != ".xlsx":
        return path.read_bytes() == other.read_bytes()
    with zipfile.ZipFile(path) as mine, zipfile.ZipFile(other) as theirs:
        if mine.namelist() != theirs.namelist():
            return False
        stamp = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
        return all(stamp.sub(b"", mine.read(part)) == stamp.sub(b"", theirs.read(part)) for part in mine.namelist())


def steps(config: Path) -> None:
    """The time of each step, in process, as ``govhall report`` takes them."""
    from govhall_sdk.cli import report as cli

    args = argparse.Namespace(department=None, unmasked=False, adapter=None, date_from=None, date_to=None)
    started = time.process_time()
    with cli.collection_paused():
        data = cli._from_store(list(cli.REPORTS), args, load_config(config, get_plugin_manager()), Period())
    print(f"  load the store: {time.process_time() - started:.2f} s CPU ({len(data.records):,} records, "
          f"{len(data.history):,} finding occurrences)")
    for kind in cli.REPORTS:
        alone = attrs.evolve(data)  # a copy of its own: what the reports derive and share is made again
        started = time.process_time()
        cli._json_of(kind, alone)
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
