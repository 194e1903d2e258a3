"""Write-back that holds up as evidence: one run at a time, nothing partial, loud missing plugins,
re-evaluation when the rules change, no lost updates, real transactions, clean state-store failures."""
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path

import filelock
import pytest

from adapters_local_driver import LocalDriver
from govhall_adapters.local import LocalAdapter
from govhall_sdk import hookimpl
from govhall_sdk.cli import main
from govhall_sdk.state import StateLocked, StateStore
from govhall_sdk.sync import Sync
from govhall_sdk.testing import build_engine, conformance_tickets

ROOT = Path(__file__).parent.parent
NOW = "2025-03-14T16:00:00+08:00"
MARKER = re.compile(r"\[govhall:[^\]\s]+\]")


@pytest.fixture
def demo(tmp_path):
    """A fresh copy of the demo: examples/govhall.toml on the local helpdesk with the demo tickets."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples", ignore=shutil.ignore_patterns(".govhall"))
    return tmp_path / "examples" / "govhall.toml"


def govhall(*args, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "govhall_sdk.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=cwd)


def helpdesk(config):
    return LocalDriver(config.parent / ".govhall" / "helpdesk.sqlite")


def marker_counts(config):
    counts = Counter()
    for raw in helpdesk(config).helpdesk.all():
        for e in raw.get("events", []):
            if e.get("type") == "reply" and not e.get("public", True):
                counts.update((raw["id"], m) for m in MARKER.findall(e.get("body", "")))
    return counts


def state_of(config):
    return config.parent / ".govhall" / "state.sqlite"


# --- one run at a time --------------------------------------------------------------------------------

def test_two_runs_started_together_write_no_marker_twice(demo):
    runs = [subprocess.Popen([sys.executable, "-m", "govhall_sdk.cli", "run", "--config", str(demo), "--now", NOW],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [(p.wait(timeout=120), *p.communicate()) for p in runs]
    codes = sorted(code for code, _, _ in outs)
    assert codes in ([0, 0], [0, 2]), outs
    refused = [err for code, _, err in outs if code == 2]
    for err in refused:
        assert "in use by another govhall run" in err and "pid" in err and len(err.strip().splitlines()) == 1
    assert max(marker_counts(demo).values()) == 1
    again = govhall("run", "--config", str(demo), "--now", NOW)
    assert again.returncode == 0 and "written 0" in again.stdout


def test_a_new_state_store_opened_by_two_at_once_opens_for_both(tmp_path):
    """Two runs started together both open the brand-new state store (one of them is then refused the run lock,
    not the file): switching a new file to WAL is a lock SQLite does not wait for, and it is tried again."""
    for trial in range(40):
        path = tmp_path / f"state-{trial}.sqlite"
        errors: list[Exception] = []
        modes: list[str] = []
        start = threading.Barrier(2)

        def open_it():
            start.wait()
            try:
                store = StateStore(path)
            except Exception as exc:  # noqa: BLE001 - the test reports what went wrong
                errors.append(exc)
                return
            modes.append(store.db.execute("PRAGMA journal_mode").fetchone()[0])
            store.close()

        both = [threading.Thread(target=open_it) for _ in range(2)]
        for thread in both:
            thread.start()
        for thread in both:
            thread.join()
        assert errors == [] and modes == ["wal", "wal"], errors


def test_a_second_run_is_refused_naming_the_holder_unless_it_waits(demo):
    holder = StateStore(state_of(demo)).lock()
    try:
        refused = govhall("run", "--config", str(demo), "--now", NOW)
        assert refused.returncode == 2 and refused.stderr.count("\n") == 1
        assert f"pid {os.getpid()}" in refused.stderr and "--wait" in refused.stderr
        started = time.monotonic()
        waited = govhall("run", "--config", str(demo), "--now", NOW, "--wait", "1")
        assert waited.returncode == 2 and time.monotonic() - started >= 1
    finally:
        holder.close()
    assert govhall("run", "--config", str(demo), "--now", NOW).returncode == 0


def test_a_run_refused_before_the_holder_recorded_itself_still_names_it(tmp_path):
    """Two runs started together on a new state store: the refused one looks before the winner, which took the
    lock a moment earlier, has recorded its pid; it waits for that record instead of saying "holder unknown"."""
    path = tmp_path / "state.sqlite"
    lock = filelock.FileLock(str(path) + ".lock", thread_local=False)
    lock.acquire()  # the winner, between taking the lock and recording itself
    StateStore(path).close()  # the new state store the winner made

    def recorded():
        winner = StateStore(path)
        winner.set_meta("holder", json.dumps({"pid": 4242, "host": "counter-7", "since": "2025-03-14T08:00:00+00:00"}))
        winner.close()

    record = threading.Timer(0.3, recorded)
    record.start()
    try:
        with pytest.raises(StateLocked, match=r"in use by another govhall run \(pid 4242 on counter-7 since"):
            StateStore(path).lock()
    finally:
        record.join()
        lock.release()


def test_a_run_killed_while_holding_the_lock_leaves_nothing_to_clean(demo):
    code = textwrap.dedent(f"""
        import sys, time
        from govhall_sdk.state import StateStore
        state = StateStore({str(state_of(demo))!r}).lock()
        print("locked", flush=True)
        time.sleep(60)
    """)
    state_of(demo).parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    assert govhall("run", "--config", str(demo), "--now", NOW).returncode == 2
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = govhall("run", "--config", str(demo), "--now", NOW)
    assert done.returncode == 0 and "written 52" in done.stdout


# --- nothing partial ----------------------------------------------------------------------------------

class FailsOn:
    """A rule plugin that raises on one ticket while ``broken`` is set."""

    broken = True

    @hookimpl
    def govhall_evaluate_ticket(self, ticket, ctx):
        if self.broken and ticket.id == "C-0003":
            raise RuntimeError("cannot read this one")
        return None


def test_a_plugin_failing_on_a_ticket_writes_nothing_for_it_until_it_evaluates_clean(tmp_path, govhall_pm):
    plugin = FailsOn()
    govhall_pm.register(plugin, name="fails_on")
    engine = build_engine(govhall_pm)
    driver = LocalDriver(tmp_path / "h.sqlite")
    driver.seed(conformance_tickets(6))
    state = StateStore(tmp_path / "state.sqlite")
    now = __import__("datetime").datetime.fromisoformat("2025-03-03T09:00:00+08:00")

    def run():
        return Sync(engine, driver.make_adapter(engine.config), state).run(now)

    for _ in range(2):  # reported at every run, never written
        summary = run()
        assert not summary.ok and "fails_on" in summary.errors["C-0003"]
        assert driver.helpdesk.get("C-0003").get("tags", []) == []
    assert driver.helpdesk.get("C-0001")["tags"]  # the others were written
    plugin.broken = False
    summary = run()
    assert summary.ok and summary.written == 1 and "govhall_tl_overdue" in driver.helpdesk.get("C-0003")["tags"]


# --- missing plugins are loud -------------------------------------------------------------------------

def broken_plugin_env(tmp_path):
    site = tmp_path / "site"
    dist = site / "govhall_broken-1.0.dist-info"
    dist.mkdir(parents=True, exist_ok=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: govhall-broken\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[govhall]\nbroken = govhall_broken\n")
    (site / "govhall_broken.py").write_text("raise ImportError('No module named yaml')\n")
    return {"PYTHONPATH": str(site)}


def test_a_plugin_that_fails_to_load_makes_run_refuse_and_keeps_the_tags(demo, tmp_path):
    assert govhall("run", "--config", str(demo), "--now", NOW).returncode == 0
    before = {t["id"]: t for t in helpdesk(demo).helpdesk.all()}
    env = broken_plugin_env(tmp_path)
    refused = govhall("run", "--config", str(demo), "--now", NOW, "--full", env=env)
    assert refused.returncode == 2
    assert "'broken'" in refused.stderr and "No module named yaml" in refused.stderr
    assert "GOVHALL_DISABLE_PLUGINS=broken" in refused.stderr
    assert {t["id"]: t for t in helpdesk(demo).helpdesk.all()} == before
    ok = govhall("run", "--config", str(demo), "--now", NOW, env={**env, "GOVHALL_DISABLE_PLUGINS": "broken"})
    assert ok.returncode == 0


def test_a_policy_section_of_a_plugin_not_loaded_says_so(demo, tmp_path):
    text = demo.read_text(encoding="utf-8") + "\n[policy.broken]\nlimit = 3\n"
    demo.write_text(text, encoding="utf-8")
    out = govhall("rules", "--config", str(demo), env=broken_plugin_env(tmp_path))
    assert out.returncode == 2 and "declared by plugin 'broken', which failed to load" in out.stderr
    out = govhall("rules", "--config", str(demo), env={**broken_plugin_env(tmp_path), "GOVHALL_DISABLE_PLUGINS": "broken"})
    assert out.returncode == 2 and "which is disabled" in out.stderr


# --- re-evaluation when the rules change --------------------------------------------------------------

def run_json(*args):
    out = govhall("run", *args, "--json")
    assert out.returncode in (0, 1), out.stderr
    return json.loads(out.stdout)


def test_a_policy_change_re_evaluates_every_ticket_once(demo):
    first = run_json("--config", str(demo), "--now", NOW)
    assert first["evaluated"] == 52 and first["full_reason"]
    assert run_json("--config", str(demo), "--now", NOW)["evaluated"] == 0
    text = demo.read_text(encoding="utf-8").replace("complaint_working_days = 15", "complaint_working_days = 10")
    assert "complaint_working_days = 10" in text
    demo.write_text(text, encoding="utf-8")
    changed = run_json("--config", str(demo), "--now", NOW)
    assert changed["evaluated"] == 52 and "rules" in changed["full_reason"] and changed["written"] >= 1
    again = run_json("--config", str(demo), "--now", NOW)
    assert again["evaluated"] == 0 and again["written"] == 0 and again["full_reason"] is None


def test_full_forces_a_pass_that_writes_nothing_when_nothing_changed(demo):
    run_json("--config", str(demo), "--now", NOW)
    full = run_json("--config", str(demo), "--now", NOW, "--full")
    assert full["evaluated"] == 52 and full["written"] == 0 and full["full_reason"] == "--full"


def test_a_lost_state_file_on_the_local_helpdesk_still_sees_time_driven_changes(demo):
    run_json("--config", str(demo), "--now", "2025-03-03T09:00:00+08:00")
    state_of(demo).unlink()
    later = run_json("--config", str(demo), "--now", NOW)
    assert later["evaluated"] == 52 and later["written"] >= 1  # not hidden as govhall's own echoes


# --- no lost updates ----------------------------------------------------------------------------------

class EditsBeforeWrite(LocalAdapter):
    """A person edits one ticket after govhall read it and before govhall's first write."""

    edited = False

    def apply(self, writes):
        if not self.edited:
            self.edited = True
            raw = self.helpdesk.get("C-0002")
            raw["events"].append({"type": "reply", "at": "2025-03-03T08:00:00+08:00", "public": True,
                                  "body": "已处理", "actor": {"id": "s9", "role": "staff"}})
            self.helpdesk.put(raw)
        return super().apply(writes)


def test_a_person_s_edit_between_pull_and_write_is_not_swallowed(tmp_path, govhall_pm):
    engine = build_engine(govhall_pm)
    driver = LocalDriver(tmp_path / "h.sqlite")
    driver.seed(conformance_tickets(4))
    state = StateStore(tmp_path / "state.sqlite")
    now = __import__("datetime").datetime.fromisoformat("2025-03-03T09:00:00+08:00")
    adapter = EditsBeforeWrite({"path": str(driver.path), "seed": "-"}, engine.config)
    summary = Sync(engine, adapter, state).run(now)
    refused = [r for r in state.audit_rows() if r["ticket_id"] == "C-0002" and not r["ok"]]
    assert len(refused) == 1 and "changed since it was read" in refused[0]["error"]
    # the person's edit came back in the same pull: evaluated on the new version and written then
    assert summary.ok and summary.written == 4
    edited = driver.helpdesk.get("C-0002")
    assert any(e.get("body") == "已处理" for e in edited["events"]) and edited["tags"]


class RepeatsPage(LocalAdapter):
    def pull(self, cursor, page_size=100):
        for page in super().pull(cursor, page_size):
            yield type(page)(page.items + page.items[:2], page.cursor, page.skipped)


def test_a_ticket_repeated_in_one_page_is_written_once(tmp_path, govhall_pm):
    engine = build_engine(govhall_pm)
    driver = LocalDriver(tmp_path / "h.sqlite")
    driver.seed(conformance_tickets(5))
    state = StateStore(tmp_path / "state.sqlite")
    now = __import__("datetime").datetime.fromisoformat("2025-03-03T09:00:00+08:00")
    summary = Sync(engine, RepeatsPage({"path": str(driver.path), "seed": "-"}, engine.config), state).run(now)
    assert summary.ok and summary.evaluated == 5 and summary.written == 5
    for raw in driver.helpdesk.all():
        notes = [e for e in raw["events"] if e["type"] == "reply" and not e["public"]]
        markers = [m for e in notes for m in MARKER.findall(e["body"])]
        assert len(markers) == len(set(markers))


# --- real transactions --------------------------------------------------------------------------------

def test_a_failure_inside_a_state_transaction_rolls_it_back(tmp_path):
    state = StateStore(tmp_path / "state.sqlite")
    with pytest.raises(RuntimeError):
        with state.transaction():
            state.db.execute("INSERT INTO cursors (adapter, value, at) VALUES ('x', '1', 'now')")
            raise RuntimeError("crash")
    assert state.cursor("x") is None


def test_the_local_helpdesk_writes_a_page_in_one_transaction(tmp_path):
    driver = LocalDriver(tmp_path / "h.sqlite")
    with pytest.raises(sqlite3.IntegrityError):
        driver.helpdesk.put_many(_raising_rows())
    assert driver.helpdesk.all() == []  # the first two rows were rolled back with the third


def _raising_rows():
    yield {"id": "A"}
    yield {"id": "B"}
    raise sqlite3.IntegrityError("the third row cannot be stored")


# --- the state store fails cleanly --------------------------------------------------------------------

def one_line_exit_2(demo):
    out = govhall("run", "--config", str(demo), "--now", NOW)
    assert out.returncode == 2, out
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert str(state_of(demo)) in out.stderr
    return out.stderr


def test_a_corrupt_state_file(demo):
    state_of(demo).parent.mkdir(parents=True, exist_ok=True)
    state_of(demo).write_bytes(b"this is not sqlite" * 100)
    assert "not a govhall state store" in one_line_exit_2(demo)


def test_a_state_path_that_is_a_folder(demo):
    state_of(demo).mkdir(parents=True)
    assert "folder" in one_line_exit_2(demo)


def test_a_zero_length_state_file_is_a_fresh_start(demo):
    state_of(demo).parent.mkdir(parents=True, exist_ok=True)
    state_of(demo).write_bytes(b"")
    out = govhall("run", "--config", str(demo), "--now", NOW)
    assert out.returncode == 0 and "written 52" in out.stdout


@pytest.mark.parametrize("message, words", [
    ("database or disk is full", "the disk is full"),
    ("attempt to write a readonly database", "cannot be written"),
])
def test_a_state_store_failing_mid_run_is_one_line_and_rolled_back(demo, monkeypatch, capsys, message, words):
    def failing(self, *args, **kwargs):
        raise sqlite3.OperationalError(message)

    monkeypatch.setattr(StateStore, "finish_page", failing)
    assert main(["run", "--config", str(demo), "--now", NOW]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err and str(state_of(demo)) in err
    assert StateStore(state_of(demo)).cursor("local") is None  # nothing half-stored


# --- a complete schedule: findings that appear by time alone, without a clock ---------------------------

def test_findings_that_appear_by_time_alone_schedule_the_ticket(tmp_path, govhall_pm):
    from datetime import datetime
    engine = build_engine(govhall_pm)
    driver = LocalDriver(tmp_path / "h.sqlite")
    agent = {"id": "agent-1", "role": "staff", "department": "帮办代办窗口"}
    driver.seed([
        {"id": "P-1", "kind": "application", "status": "open", "subject": "代办", "created_at": "2025-03-03T09:00:00+08:00",
         "department": "帮办代办窗口",
         "applicant": {"name": "张三", "phone": "13800138000"},
         "events": [{"type": "proxy_request", "at": "2025-03-03T09:10:00+08:00", "mode": "help", "agent": agent,
                     "actor": agent}]},
        {"id": "A-1", "kind": "consultation", "status": "open", "created_at": "2025-03-03T09:00:00+08:00",
         "department": "综合窗口",
         "applicant": {"name": "李四", "birth_date": "1965-03-06"}},
    ])
    state = StateStore(tmp_path / "state.sqlite")
    monday = datetime.fromisoformat("2025-03-03T10:00:00+08:00")
    Sync(engine, driver.make_adapter(engine.config), state).run(monday)
    assert state.due("local", datetime.fromisoformat("2025-03-05T23:00:00+08:00")) == []
    # 李四 turns 60 on Thursday 03-06; P-1 turns stale on Friday 03-07 (the 4th working day after Monday)
    assert state.due("local", datetime.fromisoformat("2025-03-06T00:00:00+08:00")) == ["A-1"]
    assert state.due("local", datetime.fromisoformat("2025-03-07T00:00:00+08:00")) == ["A-1", "P-1"]
    friday = Sync(engine, driver.make_adapter(engine.config), state).run(datetime.fromisoformat("2025-03-07T09:00:00+08:00"))
    assert friday.due == 2 and friday.findings["ps.stale"] == 1 and friday.findings["ps.special_group"] == 1
    assert "govhall_ps_stale" in driver.helpdesk.get("P-1")["tags"]
