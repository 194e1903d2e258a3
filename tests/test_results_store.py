"""The results store (issue 15): govhall run keeps each ticket's latest evaluation and the history of every
finding; the summary counts every ticket on record; govhall audit shows what was written, with offsets."""
import json
import re
import shutil
import stat
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from adapters_local_driver import LocalDriver
from govhall_sdk.cli import main
from govhall_sdk.state import StateStore
from govhall_sdk.sync import Sync
from govhall_sdk.testing import build_engine, conformance_tickets
from test_write_integrity import FailsOn

ROOT = Path(__file__).parent.parent
NOW = "2025-03-14T16:00:00+08:00"
LATER = "2025-03-21T16:00:00+08:00"
PHONE = re.compile(r"1[3-9]\d{9}")


@pytest.fixture
def demo(tmp_path):
    shutil.copytree(ROOT / "examples", tmp_path / "examples", ignore=shutil.ignore_patterns(".govhall"))
    return tmp_path / "examples" / "govhall.toml"


def run(config, now, *extra, capsys=None):
    code = main(["run", "--config", str(config), "--now", now, "--json", *extra])
    out = capsys.readouterr().out if capsys else ""
    return code, (json.loads(out) if out else None)


def store_of(config):
    return StateStore(config.parent / ".govhall" / "state.sqlite")


def seeds(config):
    return {t["id"]: t for t in json.loads((config.parent / "tickets.json").read_text(encoding="utf-8"))["tickets"]}


def test_every_evaluated_ticket_has_its_latest_record(demo, capsys):
    code, summary = run(demo, NOW, capsys=capsys)
    assert code == 0
    store = store_of(demo)
    records = {r["id"]: r for r in store.results("local")}
    assert set(records) == set(seeds(demo))
    for record in records.values():
        assert record["evaluated_at"] == NOW and record["adapter"] == "local"
        assert all(f["staff"] is None or isinstance(f["staff"], str) for f in record["findings"])
        assert all(datetime.fromisoformat(f["at"]).utcoffset() is not None for f in record["findings"])
    # the record's lights are the run's
    assert Counter(r["light"] or "none" for r in records.values()) == Counter(summary["lights"])
    store.close()


def test_the_summary_counts_every_ticket_on_record_not_only_the_run_s(demo, capsys):
    run(demo, NOW, capsys=capsys)
    code, summary = run(demo, LATER, capsys=capsys)
    assert summary["evaluated"] < 52  # only the tickets due by time
    on_record = summary["on_record"]
    assert on_record["tickets"] == 52
    store = store_of(demo)
    records = list(store.results("local"))
    assert on_record["lights"] == dict(Counter(r["light"] or "none" for r in records))
    assert on_record["findings"] == dict(Counter(f["code"] for r in records for f in r["findings"]))
    # more are overdue now than this run alone saw
    assert on_record["findings"].get("tl.overdue", 0) >= summary["findings"].get("tl.overdue", 0)
    store.close()


def test_the_people_summary_says_what_is_on_record(demo, capsys):
    main(["run", "--config", str(demo), "--now", NOW])
    out = capsys.readouterr().out
    assert "on record (every ticket evaluated so far, not only this run's): 52 tickets" in out


def test_a_finding_that_clears_and_one_that_appears_are_in_the_history(demo, capsys):
    run(demo, NOW, capsys=capsys)
    store = store_of(demo)
    before = {r["id"]: {f["code"] for f in r["findings"]} for r in store.results("local")}
    store.close()
    run(demo, LATER, capsys=capsys)
    store = store_of(demo)
    after = {r["id"]: {f["code"] for f in r["findings"]} for r in store.results("local")}
    history = store.finding_history("local")
    store.close()
    turned = [t for t in before if "tl.due_soon" in before[t] and "tl.due_soon" not in after[t]]
    assert turned, "the demo has a ticket whose completion clock goes from yellow to red in a week"
    for tid in turned:
        rows = [h for h in history if h["ticket_id"] == tid]
        soon = [h for h in rows if h["code"] == "tl.due_soon"]
        assert len(soon) == 1 and soon[0]["appeared_at"] < soon[0]["cleared_at"]
        overdue = [h for h in rows if h["code"] == "tl.overdue"]
        assert len(overdue) == 1 and overdue[0]["cleared_at"] is None
        assert overdue[0]["appeared_at"] == soon[0]["cleared_at"]
    # every finding on record now is open in the history, once
    open_rows = Counter((h["ticket_id"], h["code"]) for h in history if h["cleared_at"] is None)
    now_on_record = Counter((t, c) for t, codes in after.items() for c in codes)
    assert set(open_rows) == set(now_on_record)


def test_applicants_phones_are_masked_in_records_and_kept_apart_for_proxy_tickets_only(demo, capsys):
    run(demo, NOW, capsys=capsys)
    store = store_of(demo)
    raw = store.db.execute("SELECT group_concat(record, '') FROM results").fetchone()[0]
    assert not PHONE.search(raw)
    contacts = store.contacts("local")
    proxy = {r["id"] for r in store.results("local") if r["proxy"]}
    store.close()
    tickets = seeds(demo)
    assert {t for _, t in contacts} == {t for t in proxy if tickets[t].get("applicant", {}).get("phone")}
    assert all(contacts[("local", t)] == tickets[t]["applicant"]["phone"] for _, t in contacts)
    mode = stat.S_IMODE((demo.parent / ".govhall" / "state.sqlite").stat().st_mode)
    assert mode == 0o600


def test_a_dry_run_stores_no_result(demo, capsys):
    run(demo, NOW, "--dry-run", capsys=capsys)
    store = store_of(demo)
    assert list(store.results()) == [] and store.finding_history() == []
    store.close()


def test_a_ticket_whose_evaluation_failed_keeps_its_previous_record(tmp_path, govhall_pm):
    plugin = FailsOn()
    plugin.broken = False
    govhall_pm.register(plugin, name="fails_on")
    engine = build_engine(govhall_pm)
    driver = LocalDriver(tmp_path / "h.sqlite")
    driver.seed(conformance_tickets(6))
    state = StateStore(tmp_path / "state.sqlite")
    first = datetime.fromisoformat("2025-03-03T09:00:00+08:00")
    Sync(engine, driver.make_adapter(engine.config), state).run(first)
    kept = {r["id"]: r for r in state.results()}["C-0003"]
    plugin.broken = True
    later = datetime.fromisoformat("2025-03-20T09:00:00+08:00")
    Sync(engine, driver.make_adapter(engine.config), state).run(later, full=True)
    records = {r["id"]: r for r in state.results()}
    assert records["C-0003"] == kept  # a partial result is never recorded
    assert records["C-0001"]["evaluated_at"] == later.isoformat()
    state.close()


# --- govhall audit ------------------------------------------------------------------------------------

def audit(config, capsys, *args):
    code = main(["audit", "--config", str(config), "--format", "json", *args])
    captured = capsys.readouterr()
    return code, (json.loads(captured.out) if code == 0 else captured.err)


def test_audit_lists_every_write_with_offsets_and_what_it_wrote(demo, capsys):
    run(demo, NOW, capsys=capsys)
    run(demo, LATER, capsys=capsys)
    code, entries = audit(demo, capsys)
    store = store_of(demo)
    rows = store.audit_rows()
    escalations = store.escalation_rows()
    store.close()
    assert code == 0 and len(entries) == len(rows)
    for entry in entries:
        assert datetime.fromisoformat(entry["at"]).utcoffset().total_seconds() == 8 * 3600
    markers = Counter((e["ticket"], n["marker"]) for e in entries for n in e["notes"])
    assert markers and max(markers.values()) == 1  # a note marker is written once per ticket
    assert sum(len(e["escalations"]) for e in entries) == len(escalations)


def test_audit_filters_by_ticket_code_and_period(demo, capsys):
    run(demo, NOW, capsys=capsys)
    run(demo, LATER, capsys=capsys)
    _, every = audit(demo, capsys)
    one = every[0]["ticket"]
    _, only = audit(demo, capsys, "--ticket", one)
    assert only == [e for e in every if e["ticket"] == one]
    _, overdue = audit(demo, capsys, "--code", "tl.overdue")
    assert overdue and all("tl.overdue" in e["codes"] or any(n["code"] == "tl.overdue" for n in e["notes"])
                           for e in overdue)
    _, late = audit(demo, capsys, "--from", "2025-03-21")
    assert late == [e for e in every if e["at"].startswith("2025-03-21")]
    _, early = audit(demo, capsys, "--to", "2025-03-14")
    assert early == [e for e in every if e["at"].startswith("2025-03-14")]


def test_audit_without_a_state_store_says_so_and_creates_nothing(tmp_path, capsys):
    config = tmp_path / "govhall.toml"
    config.write_text("", encoding="utf-8")
    code, err = audit(config, capsys)
    assert code == 2 and "no state store" in err and "Traceback" not in err
    assert not (tmp_path / ".govhall").exists()


# --- tickets that are gone ----------------------------------------------------------------------------

def test_a_ticket_deleted_from_the_helpdesk_is_dropped_from_the_schedule_with_one_line(demo, capsys):
    run(demo, NOW, capsys=capsys)
    store = store_of(demo)
    scheduled = [t for (t,) in store.db.execute("SELECT ticket_id FROM schedule WHERE next_at != '' ORDER BY next_at")]
    store.close()
    gone = scheduled[0]
    db = __import__("sqlite3").connect(demo.parent / ".govhall" / "helpdesk.sqlite")
    with db:
        db.execute("DELETE FROM tickets WHERE id = ?", (gone,))
    db.close()
    code, summary = run(demo, "2025-06-30T16:00:00+08:00", capsys=capsys)
    assert summary["gone"] == [gone] and code == 0
    store = store_of(demo)
    assert store.db.execute("SELECT count(*) FROM schedule WHERE ticket_id = ?", (gone,)).fetchone()[0] == 0
    assert gone not in {r["id"] for r in store.results()}  # no report counts it any more
    assert all(h["cleared_at"] for h in store.finding_history() if h["ticket_id"] == gone)
    store.close()
    main(["run", "--config", str(demo), "--now", "2025-07-30T16:00:00+08:00"])
    assert "dropped from the schedule" not in capsys.readouterr().out  # said once, not every run


def test_an_adapter_keeps_what_it_must_across_runs_in_its_memory(tmp_path):
    store = StateStore(tmp_path / "state.sqlite")
    memory = store.memory("zendesk")
    memory.set("job:1", "a,b")
    memory.set("job:2", "c")
    memory.set("other", "x")
    store.memory("jira").set("job:1", "z")
    store.close()
    again = StateStore(tmp_path / "state.sqlite").memory("zendesk")
    assert again.items("job:") == {"job:1": "a,b", "job:2": "c"} and again.get("other") == "x"
    again.delete("job:1")
    assert again.items("job:") == {"job:2": "c"} and again.get("job:1") is None


# --- a write refused for a conflict -------------------------------------------------------------------

def test_a_write_refused_for_a_conflict_is_read_again_evaluated_again_and_written_once(tmp_path, govhall_pm):
    from govhall_sdk.adapter import WriteOutcome

    engine = build_engine(govhall_pm)
    driver = LocalDriver(tmp_path / "h.sqlite")
    tickets = conformance_tickets(3)
    tickets[1]["status"] = "open"
    driver.seed(tickets)
    adapter = driver.make_adapter(engine.config)
    sent = []
    real_apply = adapter.apply

    def apply(writes):
        sent.append([(t.id, t.status) for t, _ in writes])
        if len(sent) == 1:  # someone resolves C-0001 between govhall's read and its write
            raw = driver.helpdesk.get("C-0001")
            raw.update(status="resolved", resolved_at="2025-01-06T10:00:00+08:00")
            raw["events"].append({"type": "completion", "at": "2025-01-06T10:00:00+08:00",
                                  "actor": {"id": "s2", "role": "staff"}})
            driver.helpdesk.put(raw)
            outcomes = real_apply([(t, p) for t, p in writes if t.id != "C-0001"])
            return outcomes + [WriteOutcome("C-0001", False, "HTTP 409 UpdateConflict", conflict=True)]
        return real_apply(writes)

    adapter.apply = apply
    state = StateStore(tmp_path / "state.sqlite")
    summary = Sync(engine, adapter, state).run(datetime.fromisoformat("2025-03-03T09:00:00+08:00"))
    assert sent[1] == [("C-0001", "resolved")]  # read again: the new version was evaluated and written
    assert summary.ok and summary.written == 3 and summary.evaluated == 4
    assert "govhall_tl_overdue" not in driver.helpdesk.get("C-0001").get("tags", [])
    state.close()


# --- what the helpdesk never takes ---------------------------------------------------------------------

def test_what_the_helpdesk_never_takes_is_reported_once_and_never_counted_as_written(tmp_path, govhall_pm, capsys):
    from govhall_sdk.adapter import WriteOutcome

    engine = build_engine(govhall_pm)
    driver = LocalDriver(tmp_path / "h.sqlite")
    driver.seed(conformance_tickets(2))
    adapter = driver.make_adapter(engine.config)
    real_apply = adapter.apply
    told = []

    def apply(writes):  # C-0001 is closed on the helpdesk: its tags land, its note never does
        outcomes = real_apply([(t, p) for t, p in writes if t.id != "C-0001"])
        for t, p in writes:
            if t.id == "C-0001":
                outcomes.append(WriteOutcome(t.id, True, skipped="" if told else "closed: its note not written"))
                told.append(t.id)
        return outcomes

    adapter.apply = apply
    state = StateStore(tmp_path / "state.sqlite")
    first = Sync(engine, adapter, state).run(datetime.fromisoformat("2025-03-03T09:00:00+08:00"))
    assert first.ok and first.not_taken == {"C-0001": "closed: its note not written"}
    written_notes = len(driver.read("C-0000")["notes"])
    assert driver.read("C-0001")["notes"] == [] and written_notes >= 1
    assert first.written == 2 and first.notes == written_notes  # C-0000's notes only
    audit = {r["ticket_id"]: r for r in state.audit_rows()}
    assert audit["C-0001"]["ok"] and "not taken by the helpdesk: closed" in audit["C-0001"]["error"]
    second = Sync(engine, adapter, state).run(datetime.fromisoformat("2025-03-20T09:00:00+08:00"), full=True)
    assert told == ["C-0001", "C-0001"]  # the note is still missing, so it was sent again and refused again
    assert second.ok and second.not_taken == {} and second.notes == 0  # said once; never counted
    state.close()


def test_the_report_input_is_what_the_store_holds_read_plainly(tmp_path):
    """``from_store`` reads each record as the JSON it is, the history through its rows with each instant read
    once, and ``as_of`` as the latest evaluation: the first of equal instants written with other offsets."""
    from datetime import timezone
    from zoneinfo import ZoneInfo

    from govhall_sdk.reports.data import Occurrence, Period, from_store
    from govhall_sdk.state import utc_key

    store = StateStore(tmp_path / "state.sqlite")
    at = datetime.fromisoformat(NOW)
    finding = {"code": "tl.overdue", "key": "", "staff": "s1", "department": "窗口", "at": NOW}
    rows = [({"id": f"T{i}", "light": "red", "evaluated_at": evaluated, "findings": [finding] * (i % 2),
              "subject": "事项 ☎", "clocks": []}, None)
            for i, evaluated in enumerate(["2025-03-14T08:00:00+00:00", NOW, "2025-03-13T16:00:00+08:00"])]
    store.store_results("local", at, rows)
    data = from_store(store, {}, period=Period(), tz=ZoneInfo("Asia/Shanghai"))
    assert [{k: v for k, v in r.items() if k != "adapter"} for r in data.records] == [r for r, _ in rows]
    assert str(data.as_of) == "2025-03-14 08:00:00+00:00"
    appeared = datetime.fromisoformat(utc_key(at)).replace(tzinfo=timezone.utc)
    assert data.history == [Occurrence("local", "T1", "tl.overdue", "s1", "窗口", at, appeared, None)]
    assert store.finding_history() == [dict(zip(("adapter", "ticket_id", "code", "staff", "department", "at",
                                                 "appeared_at", "cleared_at"), row))
                                       for row in store.finding_history_rows()]
    store.close()
