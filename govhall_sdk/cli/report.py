"""``govhall report``: the supervisors' reports, from the results store or from a ticket file.

Four reports (:mod:`govhall_sdk.reports`): the ``dashboard`` (one
self-contained HTML file), the 帮办代办 ``ledger`` (台账), the ``assessment``
(考核) and the return-visit list (``visits``, 抽查回访). The data comes from the
state store that ``govhall run`` keeps (each ticket's latest evaluation and the
history of its findings), or, given a ticket FILE, from evaluating that file as
of ``--now`` (for people without a helpdesk).

Files are written to ``--out`` (a folder, ``govhall-report`` by default; or a
file when one report in one format is asked for); ``--format json`` prints the
reports' data instead (or writes it to ``--out``). Phones are masked in every
report unless ``--unmasked`` (the ledger's 申请人信息 for return-visit calls). The store is loaded
once; with ``--jobs N`` the reports are then built and written in N processes, forks of this one, and
by default (``--jobs auto``) in one process per usable core once the data is large enough for a fork to
pay (:data:`PARALLEL_FROM`).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from pathlib import Path
from typing import Any

from ..reader import INPUT_FORMATS
from ..terminal import printable, shown_json
from .check import INPUT_FORMAT_HELP
from .errors import EXIT_OK, EXIT_USAGE, UsageError
from .options import (add_options, collection_paused, command_epilog, config_from_args, engine_from_config,
                      open_input, open_state, positive_int)
from .period import add_period_options, period_from_args

REPORTS = {
    "dashboard": "the dashboard: KPIs, lights, violations by system, code, department and staff, the weekly "
                 "trend and the longest-overdue tickets (HTML)",
    "ledger": "the 帮办代办 ledger 《帮办代办工作登记台账》 (XLSX, CSV)",
    "assessment": "the assessment 考核: violations per staff member and department by system and clause, and "
                  "the directly responsible person of each overdue item (XLSX, CSV)",
    "visits": "the return-visit list 抽查回访: spot-check draws and poor evaluations with their return-visit "
              "deadline and status (XLSX, CSV)",
}
FORMATS = {
    "html": "the dashboard as one self-contained HTML file",
    "xlsx": "the tables as an Excel workbook",
    "csv": "the tables as CSV (UTF-8 with BOM, as Excel opens it)",
    "json": "the data of each report, printed (or written to --out)",
}
DEFAULT_OUT = "govhall-report"
#: The reports that read the finding history; the store's history is loaded only for them.
HISTORY_READERS = {"dashboard", "assessment"}
#: What each report can be written as (the first ones when --format is not given).
OUTPUTS = {"dashboard": ("html",), "ledger": ("xlsx", "csv"), "assessment": ("xlsx", "csv"),
           "visits": ("xlsx", "csv")}


def _split(items: list[str]) -> tuple[list[str], str | None]:
    """The reports named (all four when none) and the ticket file (None: the results store)."""
    kinds = [i for i in items if i in REPORTS]
    files = [i for i in items if i not in REPORTS]
    if len(files) > 1:
        raise UsageError(f"one ticket file at most, got {', '.join(files)} (the reports are: {', '.join(REPORTS)})")
    return list(dict.fromkeys(kinds)) or list(REPORTS), files[0] if files else None


def _from_file(path: str, args: argparse.Namespace, config: Any, period: Any) -> Any:
    """The report input of a ticket file evaluated as of --now; each bad ticket is one line on stderr."""
    from ..reader import FileError, iter_tickets
    from ..reports.data import catalog_of, from_evaluations

    engine = engine_from_config(config)
    now = args.now or datetime.now(config.timezone)
    stream, name = open_input(path)
    evaluated = []
    with stream:
        try:
            for item in iter_tickets(stream, name, config.adapter_timezone, args.input_format, strict=config.strict):
                if item.ticket is None:
                    _skipped(f"{item.id or item.where}: {item.error}")
                    continue
                result = engine.evaluate(item.ticket, now)
                if result.errors:
                    _skipped(f"{item.ticket.id}: " + "; ".join(result.errors))
                    continue
                evaluated.append((item.ticket, result))
        except FileError as exc:
            raise UsageError(f"{path}: {exc}") from None
    return from_evaluations(evaluated, now, catalog_of(engine.pm.rules), period=period, tz=config.timezone,
                            lang=config.lang, department=args.department, unmasked=args.unmasked)


def _skipped(text: str) -> None:
    print(f"govhall report: left out {printable(text)}", file=sys.stderr)


def _from_store(kinds: list[str], args: argparse.Namespace, config: Any, period: Any) -> Any:
    """The input of reports ``kinds`` from the state store (its finding history only if one of them reads it)."""
    from ..host import get_plugin_manager
    from ..reports.data import catalog_of, from_store

    state = open_state(config)
    try:
        return from_store(state, catalog_of(get_plugin_manager().rules), period=period, tz=config.timezone,
                          lang=config.lang, department=args.department, unmasked=args.unmasked,
                          adapter=args.adapter, history=not HISTORY_READERS.isdisjoint(kinds))
    finally:
        state.close()


def _json_of(kind: str, data: Any) -> Any:
    if kind == "dashboard":
        from ..reports.kpi import dashboard_data

        return dashboard_data(data)
    from ..reports.tables import json_document

    return json_document(_tables(kind, data))


def _tables(kind: str, data: Any) -> Any:
    from importlib import import_module

    return import_module(f"..reports.{kind}", __package__).build(data)


def _write(kind: str, fmt: str, data: Any, path: Path, built: dict[str, Any]) -> list[Path]:
    """Write report ``kind`` as ``fmt`` to ``path`` (for CSV, a stem per table); the paths written.

    A report's tables are built once (``built``, by report) for all the formats it is written in.
    """
    if fmt == "html":
        from ..reports.dashboard import render_dashboard

        path.write_text(render_dashboard(data), encoding="utf-8")
        return [path]
    from ..reports import tables

    if kind not in built:
        built[kind] = _tables(kind, data)
    return (tables.write_xlsx if fmt == "xlsx" else tables.write_csv)(built[kind], path)


def _plan(kinds: list[str], fmt: str | None, out: str | None) -> list[tuple[str, str, Path]]:
    """(report, format, path) of every file to write."""
    wanted = [(k, f) for k in kinds for f in OUTPUTS[k] if fmt is None or f == fmt]
    if not wanted:
        raise UsageError(f"--format {fmt}: {' and '.join(kinds)} cannot be written as {fmt} "
                         f"({'; '.join(f'{k}: ' + ', '.join((*OUTPUTS[k], 'json')) for k in kinds)})")
    target = Path(out or DEFAULT_OUT)
    if len(wanted) == 1 and target.suffix.lower() == f".{wanted[0][1]}":
        return [(wanted[0][0], wanted[0][1], target)]
    if target.suffix and not target.is_dir():
        raise UsageError(f"--out {target}: several files are written ({len(wanted)}), so --out names a folder")
    return [(k, f, target / f"{k}.{f}") for k, f in wanted]


def _write_files(kinds: list[str], args: argparse.Namespace, data: Any) -> None:
    plan = _plan(kinds, args.format, args.out)
    for _, _, path in plan:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"--out {path.parent}: {exc.strerror}") from None
    shares = _shares(plan, _jobs(args.jobs, len(data.records)))
    if len(shares) > 1:
        _write_in_parallel(plan, shares, data)
        return
    built: dict[str, Any] = {}
    for kind, fmt, path in plan:
        try:
            written = _write(kind, fmt, data, path, built)
        except OSError as exc:
            raise UsageError(f"{path}: {exc.strerror or exc}") from None
        _say_written(written)


def _say_written(paths: list[Path]) -> None:
    for each in paths:
        print(f"govhall report: wrote {printable(str(each))}")


#: With ``--jobs auto``: the fewest records for which the reports are shared between processes. Below it a
#: fork saves less than it costs (measured over the benchmark's stores: see docs/reports.md, "Speed").
PARALLEL_FROM = 2_000
AUTO = "auto"


def jobs_option(text: str) -> int | str:
    """An ``argparse`` type: ``auto`` or a whole number of at least 1."""
    if text == AUTO:
        return AUTO
    try:
        return positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected {AUTO} or a whole number of at least 1, got {text!r}") from None


def _jobs(asked: int | str, records: int) -> int:
    """The processes to write the reports in: ``asked``, or for ``auto`` one per usable core when there are
    at least :data:`PARALLEL_FROM` records, else one; always one where processes cannot be forked."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if asked != AUTO:
        return int(asked)
    if records < PARALLEL_FROM:
        return 1
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


#: What each report costs to build and write, relative to the others (measured over 100,000 tickets: 1.7,
#: 1.2, 1.1 and 0.4 s CPU), to share the reports between the ``--jobs`` processes.
COST = {"assessment": 4, "dashboard": 3, "ledger": 2, "visits": 1}
Plan = list[tuple[str, str, Path]]


def _shares(plan: Plan, jobs: int) -> list[Plan]:
    """The plan's files shared between at most ``jobs`` processes: a report's files together (its tables
    are built once), each report, the costliest first, to the share that costs least so far."""
    kinds = sorted(dict.fromkeys(kind for kind, _, _ in plan), key=lambda kind: -COST[kind])
    costs = [0] * max(1, min(jobs, len(kinds)))
    shares: list[Plan] = [[] for _ in costs]
    for kind in kinds:
        least = costs.index(min(costs))
        costs[least] += COST[kind]
        shares[least].extend(item for item in plan if item[0] == kind)
    return shares


#: One file of a share written: the paths written, or what went wrong (the share stops there).
Outcome = tuple[list[Path], str | None]


def _write_share(share: Plan, data: Any) -> list[Outcome]:
    """Write the files of one share, in order, until one fails."""
    built: dict[str, Any] = {}
    outcomes: list[Outcome] = []
    for kind, fmt, path in share:
        try:
            outcomes.append((_write(kind, fmt, data, path, built), None))
        except OSError as exc:
            outcomes.append(([], f"{path}: {exc.strerror or exc}"))
            break
    return outcomes


#: What a forked process writes: the shares and the report input, set just before the fork.
_FORKED: tuple[list[Plan], Any] | None = None


def _forked_share(index: int) -> list[Outcome]:
    """In a forked process: write share ``index`` of :data:`_FORKED`."""
    assert _FORKED is not None
    shares, data = _FORKED
    return _write_share(shares[index], data)


def _write_in_parallel(plan: Plan, shares: list[Plan], data: Any) -> None:
    """Write the first share here and each other in a forked process (which shares the loaded records, pages
    copied only as they are touched), then name every file written in the plan's order, then the first
    failure, if any (each process stops at its own first failure)."""
    global _FORKED
    _FORKED = (shares, data)
    try:
        with ProcessPoolExecutor(len(shares) - 1, mp_context=multiprocessing.get_context("fork")) as pool:
            others = [pool.submit(_forked_share, index) for index in range(1, len(shares))]
            outcomes = [_write_share(shares[0], data)] + [other.result() for other in others]
    except BrokenProcessPool:
        raise UsageError("a report process ended before writing its reports (out of memory?); "
                         "try again with --jobs 1") from None
    finally:
        _FORKED = None
    by_path = {path: outcome for share, done in zip(shares, outcomes) for (_, _, path), outcome in zip(share, done)}
    failure = None
    for _, _, path in plan:
        written, error = by_path.get(path, ([], None))
        _say_written(written)
        failure = failure or error
    if failure:
        raise UsageError(failure)


def cmd_report(args: argparse.Namespace) -> int:
    """Build the reports named (all by default) from the results store or a ticket file."""
    kinds, path = _split(args.items)
    config = config_from_args(args)
    period = period_from_args(args, config.timezone)
    with collection_paused():  # records are acyclic JSON data: collections would find nothing in them
        data = _from_file(path, args, config, period) if path else _from_store(kinds, args, config, period)
    if args.unmasked:
        print("govhall report: --unmasked: applicants' phones are in these reports in full; keep them as "
              "personal data", file=sys.stderr)
    if args.format == "json":
        payload = {k: _json_of(k, data) for k in kinds}
        text = json.dumps(payload[kinds[0]] if len(kinds) == 1 else payload, ensure_ascii=False, indent=2)
        if args.out:
            Path(args.out).write_text(text + "\n", encoding="utf-8")
            print(f"govhall report: wrote {printable(args.out)}")
        else:
            print(shown_json(text))
        return EXIT_OK
    _write_files(kinds, args, data)
    return EXIT_OK


def add_report_command(sub: Any) -> None:
    """Register ``govhall report``."""
    report = sub.add_parser(
        "report", help="the supervisors' reports: dashboard, ledger, assessment, return visits",
        description="Build the supervisors' reports from what govhall run has on record (each ticket's latest "
                    "evaluation and the history of its findings), or from a ticket FILE evaluated as of --now. "
                    "Reports: " + "; ".join(f"{k}: {v}" for k, v in REPORTS.items()) + ". Phones are masked "
                    "unless --unmasked. Files go to --out (a folder; a file for one report in one format).",
        epilog=command_epilog(
            {"govhall report --config govhall.toml": "every report of what is on record, into govhall-report/",
             "govhall report ledger --from 2025-01-01 --format csv --out ledger.csv":
                 "the ledger since January 1 as CSV",
             "govhall report dashboard tickets.json --now 2025-03-14 --lang en":
                 "an English dashboard of a ticket file, into govhall-report/",
             "govhall report assessment --department 市场监管窗口 --format json": "one department's data"},
            {EXIT_OK: "the reports were written (a ticket left out is named on stderr)",
             EXIT_USAGE: "bad usage or config, no state store yet, or a file that cannot be read"}))
    report.add_argument("items", nargs="*", metavar="REPORT|FILE",
                        help=f"the reports to build, any of {', '.join(REPORTS)} (default: all), and optionally "
                             "a ticket file (or - for standard input) to evaluate instead of the results store; "
                             "a file named like a report is given as ./NAME")
    add_options(report, "config", "format", "lang", "now", formats=FORMATS,
                help={"now": "with a ticket FILE: evaluate as of this moment (default: now): an ISO 8601 instant "
                             "with its offset, or a local time or a date in the config's time zone"})
    add_period_options(report)
    report.add_argument("--department", metavar="NAME",
                        help="only tickets this department held, led or answers a finding for")
    report.add_argument("--out", metavar="PATH",
                        help=f"where to write: a folder (default: ./{DEFAULT_OUT}), or a file for one report in "
                             "one format (ledger.csv); with --format json, a file instead of standard output")
    report.add_argument("--unmasked", action="store_true",
                        help="show applicants' phones in full (the ledger and the return-visit list, for calling "
                             "back); masked otherwise")
    report.add_argument("--adapter", metavar="NAME", help="only the tickets of this adapter (its type, e.g. local)")
    report.add_argument("--jobs", type=jobs_option, default=AUTO, metavar="N",
                        help="processes that build and write the reports: a number of at least 1, or auto "
                             f"(default): one per usable core from {PARALLEL_FROM:,} records on, else 1; with 2, "
                             "the reports are shared between this process and a fork of it, which shares the "
                             "loaded store: some 1.5x the memory of one")
    report.add_argument("--input-format", choices=INPUT_FORMATS, default="auto",
                        help="with a ticket FILE: " + INPUT_FORMAT_HELP)
    report.set_defaults(func=cmd_report, intermixed="items")
