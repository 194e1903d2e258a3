"""`govhall check`: the JSON contract of tickets.md, the table, exit codes."""
import json

import pytest

from govhall_sdk.cli import main

TICKETS = {
    "tickets": [
        {"id": "T-1", "kind": "application", "created_at": "2025-01-24T09:00:00+08:00",
         "accepted_at": "2025-01-24T10:00:00+08:00", "promised_working_days": 5, "department": "市场监管窗口",
         "tags": ["vip", "govhall_sla_green"], "fields": {"govhall_light": "green"}},
        {"id": "T-9", "kind": "complaint", "created_at": "2025-01-24T09:00:00"},
        {"id": "T-2", "kind": "consultation", "created_at": "2025-01-24T09:00:00+08:00"},
    ]
}
NOW = "2025-02-10T09:00:00+08:00"


@pytest.fixture
def ticket_file(tmp_path):
    path = tmp_path / "tickets.json"
    path.write_text(json.dumps(TICKETS, ensure_ascii=False), encoding="utf-8")
    return path


def check(capsys, *args):
    code = main(["check", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_contract(ticket_file, capsys):
    code, out, _ = check(capsys, ticket_file, "--now", NOW)
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"now", "tickets", "errors"} and data["now"] == NOW
    assert [t["id"] for t in data["tickets"]] == ["T-1", "T-2"]
    t1 = data["tickets"][0]
    assert set(t1) == {"id", "light", "escalation_level", "responsible", "clocks", "findings", "patch"}
    assert set(t1["responsible"]) >= {"first_inquiry", "first_handler"}
    completion = next(c for c in t1["clocks"] if c["name"] == "completion")
    assert completion == {
        "name": "completion", "rule": "time_limit", "start": "2025-01-24T10:00:00+08:00", "working_days": 5,
        "due_date": "2025-02-07", "due_at": "2025-02-07T23:59:59+08:00", "stopped_at": None, "status": "red",
        "provisional": False,
    }
    overdue = next(f for f in t1["findings"] if f["code"] == "tl.overdue")
    assert set(overdue) == {"code", "rule", "severity", "clause", "message", "clock", "staff", "department"}
    assert overdue["severity"] == "violation" and overdue["clock"] == "completion"
    assert t1["light"] == "red" and t1["escalation_level"] >= 1
    patch = t1["patch"]
    assert set(patch) == {"add_tags", "remove_tags", "fields", "notes"}
    assert "govhall_sla_red" in patch["add_tags"] and "govhall_tl_overdue" in patch["add_tags"]
    assert patch["remove_tags"] == ["govhall_sla_green"]  # 'vip' is not ours to touch
    assert patch["fields"]["govhall_light"] == "red" and patch["fields"]["govhall_due_at"] == "2025-02-07T23:59:59+08:00"
    assert any(n["marker"] == "[govhall:tl.overdue:completion]" for n in patch["notes"])
    assert data["errors"] == [{"id": "T-9", "error": "created_at: naive timestamp"}]


def test_patch_is_empty_when_the_ticket_already_matches(ticket_file, capsys, tmp_path):
    _, out, _ = check(capsys, ticket_file, "--now", NOW)
    first = json.loads(out)["tickets"][0]
    synced = dict(TICKETS["tickets"][0])
    synced["tags"] = ["vip", *first["patch"]["add_tags"]]
    synced["fields"] = {k: v for k, v in first["patch"]["fields"].items()}
    synced["events"] = [{"type": "reply", "at": "2025-02-10T08:00:00+08:00", "public": False, "body": n["body"]}
                        for n in first["patch"]["notes"]]
    path = tmp_path / "synced.jsonl"
    path.write_text(json.dumps(synced, ensure_ascii=False) + "\n", encoding="utf-8")
    _, out, _ = check(capsys, path, "--now", NOW)
    again = json.loads(out)["tickets"][0]
    assert again["patch"] == {"add_tags": [], "remove_tags": [], "fields": {}, "notes": []}
    assert again["findings"] == first["findings"]


def test_table_format_one_line_per_ticket(ticket_file, capsys):
    code, out, _ = check(capsys, ticket_file, "--now", NOW, "--format", "table")
    lines = out.strip().splitlines()
    assert code == 0 and lines[0].startswith("ID")
    assert lines[1].startswith("T-1") and "red" in lines[1] and "tl.overdue" in lines[1]
    assert "\033[" not in out  # no colour when not a terminal
    assert lines[-1].startswith("ERROR T-9: created_at: naive timestamp")


def test_english_messages(ticket_file, capsys):
    _, out, _ = check(capsys, ticket_file, "--now", NOW, "--lang", "en")
    finding = next(f for f in json.loads(out)["tickets"][0]["findings"] if f["code"] == "tl.overdue")
    assert finding["message"].startswith("The application was not completed")


@pytest.mark.parametrize("args, reason", [
    (["missing.json", "--now", NOW], "No such file"),
    (["{file}", "--config", "nope.toml", "--now", NOW], "config:"),
])
def test_exit_2_with_a_one_line_reason(ticket_file, capsys, args, reason):
    code, _, err = check(capsys, *[a.format(file=ticket_file) for a in args])
    assert code == 2 and reason in err and err.count("\n") == 1


def test_a_naive_now_is_a_local_time_in_the_configs_zone(ticket_file, capsys):
    code, out, _ = check(capsys, str(ticket_file), "--now", "2025-02-10T09:00:00")
    assert code == 0 and json.loads(out)["now"] == "2025-02-10T09:00:00+08:00"


def test_a_now_that_is_not_a_time_is_bad_usage(ticket_file, capsys):
    with pytest.raises(SystemExit) as info:
        main(["check", str(ticket_file), "--now", "2025-02-10x09:00"])
    assert info.value.code == 2
    assert "not an ISO 8601" in capsys.readouterr().err


def test_unreadable_document_exits_2_with_well_formed_output(tmp_path, capsys):
    path = tmp_path / "broken.json"
    path.write_text('{"tickets": [' + json.dumps(TICKETS["tickets"][0]) + ', {"id": ', encoding="utf-8")
    code, out, err = check(capsys, path, "--now", NOW)
    assert code == 2 and "malformed JSON" in err
    data = json.loads(out)
    assert [t["id"] for t in data["tickets"]] == ["T-1"] and data["errors"][0]["id"] is None


def test_calendar_commands(capsys):
    assert main(["calendar", "add", "2025-01-24", "5"]) == 0
    assert capsys.readouterr().out.strip() == "2025-02-07"
    assert main(["calendar", "info", "2025-01-26"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["working_day"] is True and info["date"] == "2025-01-26"


def test_parallel_check_gives_the_same_output_in_order(tmp_path, capsys):
    lines = []
    for i in range(700):  # several chunks
        t = dict(TICKETS["tickets"][i % 3])
        t["id"] = f"P-{i:04d}"
        lines.append(json.dumps(t, ensure_ascii=False))
    lines.insert(300, "{broken")
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["check", str(path), "--now", NOW]) == 0
    serial = capsys.readouterr().out
    assert main(["check", str(path), "--now", NOW, "--jobs", "2"]) == 0
    parallel = capsys.readouterr().out
    assert parallel == serial
    data = json.loads(parallel)
    assert len(data["tickets"]) == sum(1 for i in range(700) if i % 3 != 1) and data["errors"][0]["id"] == "P-0001"
    assert any(e.get("where") == "line 301" for e in data["errors"])
