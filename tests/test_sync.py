"""`govhall run` on the local helpdesk: idempotency, crash and resume, time-driven updates, CLI."""
import json
from datetime import datetime

import pytest

from adapters_local_driver import LocalDriver
from govhall_adapters.local import LocalAdapter
from govhall_sdk.cli import main
from govhall_sdk.state import StateStore
from govhall_sdk.sync import Sync
from govhall_sdk.testing import build_engine, conformance_tickets

NOW = datetime.fromisoformat("2025-03-03T09:00:00+08:00")


def tickets(n=35):
    """Overdue complaints plus applications at various stages (tags, fields, notes, escalations)."""
    out = conformance_tickets(n)
    for i, t in enumerate(out):
        if i % 3 == 1:
            t.update(kind="application", accepted_at="2025-02-24T09:00:00+08:00", promised_working_days=10 + i % 5)
        if i % 5 == 2:
            t["events"].append({"type": "reply", "at": "2025-01-06T10:00:00+08:00", "public": True,
                                "body": "不归我管，你去投诉", "actor": {"id": "s3", "rank": 1, "role": "staff"}})
    return out


class Crash(RuntimeError):
    pass


class CrashingAdapter(LocalAdapter):
    """Raises on the n-th call of apply, before or after writing (simulates a kill)."""

    def __init__(self, *a, crash_on, after_write, **kw):
        super().__init__(*a, **kw)
        self.calls, self.crash_on, self.after_write = 0, crash_on, after_write

    def apply(self, writes):
        self.calls += 1
        if self.calls == self.crash_on and not self.after_write:
            raise Crash("killed before writing")
        out = super().apply(writes)
        if self.calls == self.crash_on:
            raise Crash("killed after writing")
        return out


@pytest.fixture
def world(tmp_path, govhall_pm):
    engine = build_engine(govhall_pm, {"state": {"path": str(tmp_path / "state.sqlite")}})

    def make(name="a", data=None):
        driver = LocalDriver(tmp_path / f"{name}.sqlite")
        driver.seed(data or tickets())
        state = StateStore(tmp_path / f"{name}-state.sqlite")
        return driver, state

    return engine, make


def run(engine, driver, state, now=NOW, adapter=None, page_size=10):
    adapter = adapter or driver.make_adapter(engine.config)
    return Sync(engine, adapter, state, page_size=page_size).run(now)


def snapshot(driver):
    return {t["id"]: t for t in driver.helpdesk.all()}


def test_first_run_writes_and_rerun_writes_nothing(world):
    engine, make = world
    driver, state = make()
    levels = [engine.evaluate(item.ticket, NOW).escalation_level
              for page in driver.make_adapter(engine.config).pull(None) for item in page.items]
    first = run(engine, driver, state)
    assert first.ok and first.pulled == 35 and first.written == 35 and first.notes > 35
    assert first.escalations == sum(levels) > 0  # one escalation per level reached
    assert first.findings["fr.forbidden_phrase"] == 7
    before = snapshot(driver)
    second = run(engine, driver, state)
    assert second.written == 0 and second.pulled == 0 and second.notes == 0
    assert snapshot(driver) == before
    audit = state.audit_rows()
    assert len(audit) == 35 and all(r["ok"] for r in audit) and "tl.overdue" in audit[0]["codes"]


@pytest.mark.parametrize("crash_on", [1, 2, 3, 4])
@pytest.mark.parametrize("after_write", [False, True])
def test_a_run_killed_at_any_page_resumes_to_the_clean_state(world, crash_on, after_write):
    engine, make = world
    clean_driver, clean_state = make("clean")
    run(engine, clean_driver, clean_state)
    driver, state = make("crashy")
    crashing = CrashingAdapter({"path": str(driver.path), "seed": "-"}, engine.config,
                               crash_on=crash_on, after_write=after_write)
    with pytest.raises(Crash):
        run(engine, driver, state, adapter=crashing)
    resumed = run(engine, driver, state)
    assert resumed.ok
    assert snapshot(driver) == snapshot(clean_driver)
    again = run(engine, driver, state)
    assert again.written == 0


def test_a_ticket_turns_yellow_then_red_by_time_alone(world):
    engine, make = world
    app = {"id": "A-1", "kind": "application", "created_at": "2025-03-03T09:00:00+08:00", "department": "人社窗口",
           "accepted_at": "2025-03-03T09:30:00+08:00", "promised_working_days": 5,
           "events": [{"type": "acceptance", "at": "2025-03-03T09:30:00+08:00", "notice_issued": True,
                       "actor": {"id": "s1", "rank": 2, "role": "staff"}},
                      {"type": "reply", "at": "2025-03-03T09:31:00+08:00", "public": True, "body": "已受理",
                       "actor": {"id": "s1", "rank": 2, "role": "staff"}}]}
    driver, state = make("t", [app])
    first = run(engine, driver, state, now=datetime.fromisoformat("2025-03-04T09:00:00+08:00"))
    assert first.lights == {"green": 1} and driver.read("A-1")["fields"]["govhall_light"] == "green"
    quiet = run(engine, driver, state, now=datetime.fromisoformat("2025-03-06T09:00:00+08:00"))
    assert quiet.due == 0 and quiet.written == 0  # nothing changes before the yellow instant
    yellow = run(engine, driver, state, now=datetime.fromisoformat("2025-03-07T00:00:01+08:00"))
    assert yellow.pulled == 0 and yellow.due == 1 and yellow.written == 1
    assert "govhall_tl_due_soon" in driver.read("A-1")["tags"]
    red = run(engine, driver, state, now=datetime.fromisoformat("2025-03-11T00:00:01+08:00"))
    assert red.due == 1 and red.written == 1
    seen = driver.read("A-1")
    assert seen["fields"]["govhall_light"] == "red" and "govhall_tl_overdue" in seen["tags"]
    assert "govhall_tl_due_soon" not in seen["tags"] and "govhall_sla_yellow" not in seen["tags"]
    assert any("[govhall:tl.overdue:completion]" in n for n in seen["notes"])
    assert run(engine, driver, state, now=datetime.fromisoformat("2025-03-12T09:00:00+08:00")).due == 0


def test_a_human_change_is_picked_up_and_only_that_ticket_written(world):
    engine, make = world
    driver, state = make()
    run(engine, driver, state)
    driver.touch("C-0004")
    rerun = run(engine, driver, state)
    assert rerun.pulled == 1 and rerun.evaluated == 1


def test_failed_writes_are_reported_and_retried_next_run(world):
    engine, make = world
    driver, state = make()

    class Flaky(LocalAdapter):
        def apply(self, writes):
            out = super().apply([w for w in writes if w[0].id != "C-0006"])
            return out + [type(out[0])("C-0006", False, "HTTP 503: try later")]

    flaky = Flaky({"path": str(driver.path), "seed": "-"}, engine.config)
    summary = run(engine, driver, state, adapter=flaky)
    assert not summary.ok and summary.failed == {"C-0006": "HTTP 503: try later"}
    assert "govhall_light" not in driver.read("C-0006")["fields"]
    retry = run(engine, driver, state)
    assert retry.due == 1 and retry.written == 1 and retry.ok
    assert driver.read("C-0006")["fields"]["govhall_light"] == "red"


def test_escalation_is_written_once_per_level(world):
    engine, make = world
    sup = {"id": "S-1", "kind": "supervision", "created_at": "2025-02-17T09:00:00+08:00", "department": "不动产登记窗口",
           "due_at": "2025-02-28T17:00:00+08:00"}
    driver, state = make("e", [sup])
    first = run(engine, driver, state)
    notes = [n for n in driver.read("S-1")["notes"] if "[govhall:escalation:" in n]
    assert first.escalations == 2 and len(notes) == 2
    assert driver.read("S-1")["fields"]["govhall_escalation_level"] == 2
    fresh_state = StateStore(driver.path.parent / "lost-state.sqlite")  # even with the state lost
    driver.touch("S-1")
    run(engine, driver, fresh_state)
    assert len([n for n in driver.read("S-1")["notes"] if "[govhall:escalation:" in n]) == 2


def _config(tmp_path, seed):
    (tmp_path / "tickets.json").write_text(json.dumps({"tickets": seed}, ensure_ascii=False), encoding="utf-8")
    path = tmp_path / "govhall.toml"
    path.write_text('[adapter]\ntype = "local"\n', encoding="utf-8")
    return path


def test_cli_run_dry_run_json_and_exit_codes(tmp_path, capsys):
    bad = {"id": "B-1", "kind": "complaint", "created_at": "2025-01-06T09:00:00"}
    config = _config(tmp_path, tickets(5) + [bad])
    now = "2025-03-03T09:00:00+08:00"
    assert main(["run", "--config", str(config), "--now", now, "--dry-run"]) == 1
    out = capsys.readouterr().out
    assert "dry run" in out and "patch C-0000" in out and "ERROR B-1: created_at: naive timestamp" in out
    assert main(["run", "--config", str(config), "--now", now, "--json"]) == 1
    summary = json.loads(capsys.readouterr().out)
    assert summary["written"] == 5 and summary["errors"] == {"B-1": "created_at: naive timestamp"}
    assert main(["run", "--config", str(config), "--now", now, "--json"]) == 1  # B-1 is reported until fixed
    again = json.loads(capsys.readouterr().out)
    assert again["written"] == 0 and list(again["errors"]) == ["B-1"]
    assert main(["local", "show", "C-0000", "--config", str(config)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert "govhall_sla_red" in shown["tags"]


def test_cli_run_bad_config_is_exit_2(tmp_path, capsys):
    path = tmp_path / "govhall.toml"
    path.write_text('[adapter]\ntype = "nope"\n')
    assert main(["run", "--config", str(path)]) == 2
    assert "adapter.type: unknown adapter 'nope'" in capsys.readouterr().err
    path.write_text('[adapter]\ntype = "local"\ncolour = 1\n')
    assert main(["run", "--config", str(path)]) == 2
    assert "adapter.colour: unknown key" in capsys.readouterr().err


def test_limit(tmp_path, capsys):
    config = _config(tmp_path, tickets(12))
    assert main(["run", "--config", str(config), "--now", "2025-03-03T09:00:00+08:00", "--json", "--limit", "4"]) == 0
    assert json.loads(capsys.readouterr().out)["evaluated"] == 4
    assert main(["run", "--config", str(config), "--now", "2025-03-03T09:00:00+08:00", "--json"]) == 0
    second = json.loads(capsys.readouterr().out)
    # the first pass over every ticket was cut short: it starts again, and only the other 8 need writing
    assert second["evaluated"] == 12 and second["written"] == 8 and second["full_reason"]
    assert main(["run", "--config", str(config), "--now", "2025-03-03T09:00:00+08:00", "--json"]) == 0
    third = json.loads(capsys.readouterr().out)
    assert third["evaluated"] == 0 and third["written"] == 0 and third["full_reason"] is None


def test_a_helpdesk_failure_while_pulling_is_reported_and_loses_nothing(world):
    from govhall_sdk.http import HTTPError

    engine, make = world
    driver, state = make()

    class Down(LocalAdapter):
        def pull(self, cursor, page_size=100):
            pages = super().pull(cursor, page_size)
            yield next(pages)
            raise HTTPError("GET /tickets: HTTP 503: maintenance", 503)

    down = Down({"path": str(driver.path), "seed": "-"}, engine.config)
    summary = run(engine, driver, state, adapter=down)
    assert not summary.ok and summary.errors["(pull)"].startswith("HTTPError: GET /tickets: HTTP 503")
    assert summary.written == 10
    rest = run(engine, driver, state)
    assert rest.ok and rest.pulled == 25 and rest.written == 25
