"""``govhall report`` through the real command line: sources, outputs, filters, masking, errors."""
import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from govhall_sdk.reports.kpi import dashboard_data
from govhall_sdk.reports.tables import json_document
from govhall_sdk.reports import ledger

from .conftest import EXAMPLES, NOW

PHONE = re.compile(r"(?<![\d.])1[3-9]\d{9}(?!\d)")
TICKETS = str(EXAMPLES / "tickets.json")


def report(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "govhall_sdk.cli", "report", *args], capture_output=True,
                          text=True, cwd=cwd)


def config_of(store):
    return str(Path(store.path).parent / "govhall.toml")


def every_text(folder):
    """All text of every file written: CSV and HTML as text, XLSX cell by cell."""
    for path in sorted(folder.iterdir()):
        if path.suffix == ".xlsx":
            book = openpyxl.load_workbook(path, read_only=True)
            yield from (str(c) for sheet in book for row in sheet.iter_rows(values_only=True) for c in row if c)
        else:
            yield path.read_text(encoding="utf-8-sig")


def test_every_report_of_the_results_store_in_every_format(demo_store, tmp_path):
    out = tmp_path / "out"
    done = report("--config", config_of(demo_store), "--out", str(out))
    assert done.returncode == 0, done.stderr
    names = {p.name for p in out.iterdir()}
    assert {"dashboard.html", "ledger.xlsx", "ledger.csv", "assessment.xlsx", "visits.xlsx", "visits.csv"} <= names
    assert all(f"wrote {out / n}" in done.stdout for n in names)
    assert not any(PHONE.search(text) for text in every_text(out))  # masked in every output


def test_a_ticket_file_gives_the_same_data_as_the_library(demo_data):
    done = report("dashboard", TICKETS, "--now", NOW.isoformat(), "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == json.loads(json.dumps(dashboard_data(demo_data()), ensure_ascii=False))
    done = report("ledger", TICKETS, "--now", NOW.isoformat(), "--format", "json", "--department", "帮办代办窗口")
    expected = json_document(ledger.build(demo_data(department="帮办代办窗口")))
    assert json.loads(done.stdout) == json.loads(json.dumps(expected, ensure_ascii=False))


def test_one_report_in_one_format_may_name_a_file_and_several_need_a_folder(tmp_path):
    target = tmp_path / "ledger.csv"
    done = report("ledger", TICKETS, "--now", NOW.isoformat(), "--format", "csv", "--out", str(target))
    assert done.returncode == 0 and target.read_bytes().startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(target.read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0][:2] == ["工单编号", "事项名称"] and len(rows) > 1
    done = report("ledger", "visits", TICKETS, "--now", NOW.isoformat(), "--out", str(tmp_path / "both.csv"))
    assert done.returncode == 2 and "names a folder" in done.stderr and "Traceback" not in done.stderr


def test_english_on_request(tmp_path):
    target = tmp_path / "ledger.csv"
    report("ledger", TICKETS, "--now", NOW.isoformat(), "--format", "csv", "--out", str(target), "--lang", "en")
    assert target.read_text(encoding="utf-8-sig").splitlines()[0].startswith("Ticket,Item")


def test_unmasked_shows_the_ledger_s_phones_and_says_so(tmp_path):
    target = tmp_path / "ledger.csv"
    done = report("ledger", TICKETS, "--now", NOW.isoformat(), "--format", "csv", "--out", str(target),
                  "--unmasked")
    assert done.returncode == 0 and "--unmasked" in done.stderr
    proxy_phones = {t["applicant"]["phone"] for t in json.loads(Path(TICKETS).read_text(encoding="utf-8"))["tickets"]
                    if any(e["type"] == "proxy_request" for e in t.get("events", [])) and
                    t.get("applicant", {}).get("phone")}
    assert proxy_phones and proxy_phones <= set(PHONE.findall(target.read_text(encoding="utf-8-sig")))


def test_a_bad_ticket_is_named_and_the_others_are_reported(tmp_path):
    lines = [json.dumps(t, ensure_ascii=False)
             for t in json.loads(Path(TICKETS).read_text(encoding="utf-8"))["tickets"][:5]]
    lines.insert(2, '{"id": "BROKEN", "kind": "nonsense"}')
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = report("dashboard", str(path), "--now", NOW.isoformat(), "--format", "json")
    assert done.returncode == 0 and "BROKEN" in done.stderr and "Traceback" not in done.stderr
    assert json.loads(done.stdout)["tickets"] == 5


@pytest.mark.parametrize("args, words", [
    (("--from", "2025-03-20", "--to", "2025-03-01"), "ends before it starts"),
    (("--from", "March"), "not a date"),
    (("--from", "2025-03-01T08:00"), "no UTC offset"),
    (("ledger", "--format", "html"), "cannot be written as html"),
    (("--jobs", "0"), "expected auto or a whole number of at least 1, got '0'"),
    (("--jobs", "all"), "expected auto or a whole number of at least 1, got 'all'"),
])
def test_bad_usage_is_one_line(args, words):
    done = report(TICKETS, "--now", NOW.isoformat(), *args)
    assert done.returncode == 2 and words in done.stderr and "Traceback" not in done.stderr


def test_without_a_state_store_it_says_so_and_creates_nothing(tmp_path):
    (tmp_path / "govhall.toml").write_text("", encoding="utf-8")
    done = report("--config", str(tmp_path / "govhall.toml"), cwd=tmp_path)
    assert done.returncode == 2 and "no state store" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["govhall.toml"]


def written_files(folder: Path) -> dict[str, object]:
    """Each file of a report folder: CSV and HTML as bytes, XLSX as its cells (its parts carry their time)."""
    from .test_tables import read_xlsx

    return {p.name: read_xlsx(p) if p.suffix == ".xlsx" else p.read_bytes() for p in sorted(folder.iterdir())}


def test_two_jobs_write_the_same_files_and_say_the_same_as_one(demo_store, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    done_one = report("--config", config_of(demo_store), "--out", str(one))
    done_two = report("--config", config_of(demo_store), "--out", str(two), "--jobs", "2")
    assert done_one.returncode == done_two.returncode == 0, done_two.stderr
    assert done_two.stdout == done_one.stdout.replace(str(one), str(two))
    assert written_files(two) == written_files(one) and len(written_files(one)) == 10


def test_a_file_a_forked_job_cannot_write_is_named_after_every_file_written(demo_store, tmp_path):
    from govhall_sdk.cli.report import _plan, _shares

    out = tmp_path / "out"
    plan = _plan(["dashboard", "ledger", "assessment", "visits"], None, str(out))
    assert [kind for kind, _, _ in _shares(plan, 2)[1]][-1] == "ledger"  # the fork's last report
    (out / "ledger.csv").mkdir(parents=True)
    done = report("--config", config_of(demo_store), "--out", str(out), "--jobs", "2")
    assert done.returncode == 2 and f"{out / 'ledger.csv'}:" in done.stderr and "Traceback" not in done.stderr
    said = [line.rsplit("/", 1)[1] for line in done.stdout.splitlines()]
    assert said == ["dashboard.html", "ledger.xlsx", "assessment.xlsx", "assessment-staff.csv",
                    "assessment-departments.csv", "assessment-clauses.csv", "assessment-overdue.csv", "visits.xlsx",
                    "visits.csv"]


def test_the_reports_are_shared_by_cost_each_with_all_its_files():
    from govhall_sdk.cli.report import _plan, _shares

    plan = _plan(["dashboard", "ledger", "assessment", "visits"], None, "out")
    assert [[(kind, fmt) for kind, fmt, _ in share] for share in _shares(plan, 2)] == [
        [("assessment", "xlsx"), ("assessment", "csv"), ("visits", "xlsx"), ("visits", "csv")],
        [("dashboard", "html"), ("ledger", "xlsx"), ("ledger", "csv")]]
    assert _shares(plan, 1) == [sorted(plan, key=lambda item: ["assessment", "dashboard", "ledger",
                                                                "visits"].index(item[0]))]
    assert len(_shares(_plan(["ledger"], None, "out"), 4)) == 1  # one report: no process to share it with


def test_jobs_auto_shares_the_reports_between_the_usable_cores_from_enough_records(monkeypatch):
    from govhall_sdk.cli import report as cli

    monkeypatch.setattr(cli.os, "sched_getaffinity", lambda pid: {0, 2, 5})
    assert cli._jobs("auto", cli.PARALLEL_FROM - 1) == 1
    assert cli._jobs("auto", cli.PARALLEL_FROM) == 3
    assert cli._jobs(2, 1) == 2 and cli._jobs(1, cli.PARALLEL_FROM) == 1  # a number given is kept
    monkeypatch.setattr(cli.multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    assert cli._jobs("auto", cli.PARALLEL_FROM) == cli._jobs(2, 1) == 1  # no fork, no sharing


def test_by_default_a_store_is_reported_in_forks_from_enough_records_with_the_same_files(demo_store, tmp_path,
                                                                                          govhall_cli, monkeypatch):
    from govhall_sdk.cli import report as cli

    shared = []
    parallel = cli._write_in_parallel
    monkeypatch.setattr(cli, "_write_in_parallel", lambda plan, shares, data: (shared.append(len(shares)),
                                                                               parallel(plan, shares, data)))
    monkeypatch.setattr(cli.os, "sched_getaffinity", lambda pid: {0, 1})
    few, many = tmp_path / "few", tmp_path / "many"
    assert govhall_cli("report", "--config", config_of(demo_store), "--out", str(few)).exit_code == 0
    assert shared == []  # the demo's 52 tickets: one process
    monkeypatch.setattr(cli, "PARALLEL_FROM", 52)
    done = govhall_cli("report", "--config", config_of(demo_store), "--out", str(many))
    assert done.exit_code == 0, done.stderr
    assert shared == [2] and written_files(many) == written_files(few)


def _killed(index):
    """A forked report process ended from outside (as the kernel's OOM killer ends one)."""
    os._exit(9)


def test_a_report_process_that_dies_is_one_line_that_names_one_process_as_the_way_out(demo_store, tmp_path,
                                                                                     govhall_cli, monkeypatch):
    from govhall_sdk.cli import report as cli

    monkeypatch.setattr(cli, "_forked_share", _killed)
    done = govhall_cli("report", "--config", config_of(demo_store), "--out", str(tmp_path / "out"), "--jobs", "2")
    assert done.exit_code == 2 and "Traceback" not in done.stderr
    assert "a report process ended before writing its reports" in done.stderr and "--jobs 1" in done.stderr


@pytest.mark.parametrize("kind", ["dashboard", "ledger", "assessment", "visits"])
def test_only_the_reports_that_read_the_finding_history_are_built_with_it(store_data, kind):
    """The history is loaded only for HISTORY_READERS: any other report is the same without it, and each of
    them differs (the demo store has violations on record)."""
    from govhall_sdk.cli import report as cli

    with_history, without = cli._json_of(kind, store_data()), cli._json_of(kind, store_data(history=False))
    assert (with_history != without) == (kind in cli.HISTORY_READERS)
