"""`govhall check` by file format: tickets/s with one and two jobs, peak RSS, and one 200 MB string.

    python benchmarks/bench_reader.py [--size MIB] [--string-mb MB] [--formats pretty,one-line,jsonl]
    python benchmarks/bench_reader.py --parse FILE.jsonl|N [--against TREE ...] [--repeat N]

For each format (the wrapped ``{"tickets": [...]}`` document pretty-printed as
``json.dump(indent=2)`` writes it, the same on one line as ``json.dump`` writes
it, and JSON Lines) a file of about ``--size`` MiB (default 16) of synthetic
tickets (benchmarks/corpus.py) is generated, then `govhall check FILE` is run in a
subprocess with ``--jobs 1`` and ``--jobs 2``, output to /dev/null. Printed side
by side: tickets per second, the speed-up of two jobs, and the peak RSS of the
command's main process (``resource.getrusage``; workers are forked from it and
have their own, similar, peak).

Then one ticket holding a ``--string-mb`` MB string (default 200; 0 skips it) is
checked in each format: the wrapped formats should be within 3x of JSON Lines.

The 1 GB run (several minutes; about 3 GiB of free disk for the three files):

    python benchmarks/bench_reader.py --size 1024

``--command`` runs another interpreter or checkout, e.g. ``--command "env
PYTHONPATH=/tmp/old python"`` to measure a former version side by side. The
figures are printed, not asserted.

``--parse FILE`` measures only the step that turns a ticket's raw bytes into a
ticket with its warnings (``reader.parse_raw``, as `govhall check` calls it),
in process: the file is split first (``reader.iter_raw``), then every ticket
is decoded alone (``reader.decode``, the JSON value only) and then parsed
whole (``parse_raw``), each timed in CPU time (``time.process_time``) and
printed in microseconds a ticket, with the speed-up of ``parse_raw`` over the
first tree's. ``--against TREE`` (repeatable) runs another commit's source
tree too (``git worktree add /tmp/base HEAD~1``; see ``trees.py``). Each round
runs every tree in a fresh process, one after the other, so that caches start
cold as in a real run and a drifting machine affects each alike; the best of
``--repeat`` rounds is printed, with a digest of the tickets, errors and
warnings (the same digest: the same results):

    python benchmarks/bench_reader.py --parse 20000 --against /tmp/base

``--parse N`` writes N corpus tickets as JSON Lines first (``write_file``),
the file the issue's figures are of.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))

from corpus import NOW, corpus  # noqa: E402
from trees import tree_env  # noqa: E402

FORMATS = ("pretty", "one-line", "jsonl")
SUFFIX = {"pretty": ".json", "one-line": ".json", "jsonl": ".jsonl"}
RUNNER = ("import resource,sys,time;from govhall_sdk.cli import main;t=time.perf_counter();"
          "code=main(sys.argv[1:]);sys.stderr.write(f'BENCH {code} {time.perf_counter()-t} '"
          "f'{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024}\\n')")


def _indented(ticket: dict) -> str:
    """A ticket as ``json.dump(doc, indent=2)`` prints it inside the tickets list."""
    return "    " + json.dumps(ticket, ensure_ascii=False, indent=2).replace("\n", "\n    ")


def write_file(path: str, fmt: str, tickets) -> int:
    """Write ``tickets`` to ``path`` in ``fmt``, streamed; return how many were written."""
    count = 0
    with open(path, "w", encoding="utf-8") as fh:
        sep = {"pretty": ",\n", "one-line": ", ", "jsonl": "\n"}[fmt]
        fh.write({"pretty": '{\n  "tickets": [\n', "one-line": '{"tickets": [', "jsonl": ""}[fmt])
        for ticket in tickets:
            text = _indented(ticket) if fmt == "pretty" else json.dumps(ticket, ensure_ascii=False)
            fh.write((sep if count else "") + text)
            count += 1
        fh.write({"pretty": "\n  ]\n}\n", "one-line": "]}", "jsonl": "\n"}[fmt])
    return count


def sized(size: int):
    """Corpus tickets until about ``size`` bytes of JSON Lines are reached."""
    total = 0
    for ticket in corpus(10 ** 9):
        if total >= size:
            return
        total += len(json.dumps(ticket, ensure_ascii=False).encode()) + 1
        yield ticket


def run(command: list[str], path: str, jobs: int) -> tuple[int, float, float]:
    """`govhall check PATH --jobs N` in a subprocess: its exit code, seconds after start-up, peak RSS (MiB)."""
    cmd = [*command, "-c", RUNNER, "check", path, "--now", NOW.isoformat(), "--jobs", str(jobs)]
    with open(os.devnull, "w") as devnull:
        out = subprocess.run(cmd, stdout=devnull, stderr=subprocess.PIPE, text=True)
    line = next((l for l in out.stderr.splitlines() if l.startswith("BENCH ")), None)
    if line is None:
        return -1, float("nan"), float("nan")
    code, seconds, rss = line.split()[1:]
    return int(code), float(seconds), float(rss)


def throughput(command: list[str], tmp: str, size: int, formats: list[str]) -> None:
    """The table of tickets/s and peak RSS for every format."""
    print(f"{'format':<10} {'MiB':>6} {'tickets':>8} {'jobs 1 t/s':>11} {'jobs 2 t/s':>11} {'x':>5} "
          f"{'RSS 1 MiB':>10} {'RSS 2 MiB':>10}")
    for fmt in formats:
        path = os.path.join(tmp, f"bench-{fmt}{SUFFIX[fmt]}")
        n = write_file(path, fmt, sized(size))
        mib = os.path.getsize(path) / (1 << 20)
        (c1, s1, r1), (c2, s2, r2) = run(command, path, 1), run(command, path, 2)
        flag = "" if c1 == c2 == 0 else f"  (exit {c1}, {c2})"
        print(f"{fmt:<10} {mib:6.1f} {n:8d} {n / s1:11.0f} {n / s2:11.0f} {s1 / s2:5.2f} {r1:10.0f} {r2:10.0f}{flag}",
              flush=True)
        os.unlink(path)


def big_string(command: list[str], tmp: str, megabytes: int, formats: list[str]) -> None:
    """Seconds for one ticket holding a ``megabytes`` MB string, per format."""
    ticket = next(corpus(1))
    ticket["fields"] = {"note": "x" * (megabytes * 1_000_000)}
    times = {}
    for fmt in formats:
        path = os.path.join(tmp, f"string-{fmt}{SUFFIX[fmt]}")
        write_file(path, fmt, [ticket])
        code, times[fmt], rss = run(command, path, 1)
        ratio = f"{times[fmt] / times['jsonl']:.2f}x JSON Lines" if "jsonl" in times and fmt != "jsonl" else ""
        print(f"{megabytes} MB string, {fmt:<9} {times[fmt]:8.2f} s  RSS {rss:6.0f} MiB  exit {code}  {ratio}",
              flush=True)
        os.unlink(path)


def parse_child(path: str) -> None:
    """In this process: CPU seconds to decode, and to parse, every ticket of ``path``; printed as one JSON line."""
    import hashlib

    import attrs
    from govhall_sdk.reader import decode, iter_raw, parse_raw

    with open(path, "rb") as fh:
        raws = list(iter_raw(fh, path))
    start = time.process_time()
    for raw in raws:
        try:
            decode(raw)
        except ValueError:
            pass
    decoded = time.process_time()
    for raw in raws:
        parse_raw(raw)  # not kept: a check keeps no ticket either, and the garbage collector would scan them all
    parsed = time.process_time()
    digest = hashlib.sha256()
    for item in map(parse_raw, raws):
        # event_types is a frozenset, its order is the hash seed's: digested sorted
        ticket = item.ticket and (attrs.astuple(item.ticket, recurse=False)[:-1], sorted(item.ticket.event_types))
        digest.update(repr((ticket, item.error and str(item.error), item.where, item.warnings)).encode())
    print(json.dumps({"tickets": len(raws), "decode": decoded - start, "parse": parsed - decoded,
                      "digest": digest.hexdigest()[:12]}))


def parse_step(path: str, trees: list[str], repeat: int) -> None:
    """The best of ``repeat`` rounds of :func:`parse_child` for each tree (``--against``) and this one, side by side;
    ``path`` a JSON Lines file or a number of corpus tickets."""
    source = path if not path.isdigit() else f"{path} corpus tickets"
    with tempfile.TemporaryDirectory() as tmp:
        if path.isdigit():
            count, path = int(path), os.path.join(tmp, f"corpus-{path}.jsonl")
            write_file(path, "jsonl", corpus(count))
        envs = [(tree, tree_env(tree, tmp)) for tree in trees] + [("this tree", None)]
        best: list[dict | None] = [None] * len(envs)
        for _ in range(repeat):
            for i, (_name, env) in enumerate(envs):
                out = subprocess.run([sys.executable, os.path.abspath(__file__), "--parse-child", path], env=env,
                                     capture_output=True, text=True, check=True)
                figures = json.loads(out.stdout.splitlines()[-1])
                if best[i] is None or figures["parse"] < best[i]["parse"]:
                    best[i] = figures
    print(f"parse_raw over {source}, CPU, best of {repeat}, {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"{'tree':<32} {'tickets':>8} {'decode us':>10} {'parse_raw us':>13} {'x':>5}  digest")
    for (name, _env), figures in zip(envs, best):
        n = figures["tickets"]
        ratio = best[0]["parse"] / figures["parse"]
        print(f"{name[-32:]:<32} {n:8d} {figures['decode'] / n * 1e6:10.1f} {figures['parse'] / n * 1e6:13.1f} "
              f"{ratio:5.2f}  {figures['digest']}")


def main() -> None:
    """Parse the arguments and print the measurements asked for."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=float, default=16, help="MiB of tickets per format (default 16)")
    parser.add_argument("--string-mb", type=int, default=200, help="MB of the one long string (0: skip)")
    parser.add_argument("--formats", default=",".join(FORMATS), help="comma-separated, of " + ", ".join(FORMATS))
    parser.add_argument("--command", default=sys.executable, help="the Python that runs govhall (default: this one)")
    parser.add_argument("--parse", metavar="FILE|N", help="measure only the parse step over FILE (or N corpus tickets)")
    parser.add_argument("--against", metavar="TREE", action="append", default=[],
                        help="with --parse: also another commit's source tree, side by side (repeatable)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of --parse, the best printed (default 3)")
    parser.add_argument("--parse-child", metavar="FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.parse_child:
        return parse_child(args.parse_child)
    if args.parse:
        return parse_step(args.parse, args.against, args.repeat)
    formats = [f for f in args.formats.split(",") if f]
    command = shlex.split(args.command)
    with tempfile.TemporaryDirectory() as tmp:
        print(f"govhall check, {os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d %H:%M')}")
        throughput(command, tmp, int(args.size * (1 << 20)), formats)
        if args.string_mb:
            # JSON Lines first: the others are compared to it.
            big_string(command, tmp, args.string_mb, sorted(formats, key=lambda f: f != "jsonl"))


if __name__ == "__main__":
    main()
