"""``govhall local import FILE`` and ``govhall local reset``: fill the demo helpdesk, start it over."""
from __future__ import annotations

import io
import json

import pytest

from govhall_adapters.local import LocalHelpdesk
from govhall_sdk.cli import main
from govhall_sdk.state import StateStore
from govhall_sdk.testing import conformance_tickets

NOW = "2025-03-03T09:00:00+08:00"


@pytest.fixture
def demo(tmp_path):
    """A config whose local helpdesk is seeded from 5 overdue complaints."""
    (tmp_path / "seed.jsonl").write_text("".join(json.dumps(t, ensure_ascii=False) + "\n"
                                                 for t in conformance_tickets(5)), encoding="utf-8")
    config = tmp_path / "govhall.toml"
    config.write_text('[adapter]\ntype = "local"\npath = ".govhall/helpdesk.sqlite"\nseed = "seed.jsonl"\n'
                      '[state]\npath = ".govhall/state.sqlite"\n', encoding="utf-8")
    return config


def stored(config):
    helpdesk = LocalHelpdesk(config.parent / ".govhall" / "helpdesk.sqlite")
    try:
        return {t["id"]: t for t in helpdesk.all()}
    finally:
        helpdesk.close()


def ticket(tid, subject="new"):
    return {"id": tid, "kind": "complaint", "channel": "phone", "subject": subject, "status": "open",
            "created_at": "2025-01-06T09:00:00+08:00", "department": "综合窗口"}


def run(config, capsys, *extra):
    code = main(["run", "--config", str(config), "--now", NOW, "--json", *extra])
    return code, json.loads(capsys.readouterr().out)


# ---------------------------------------------------------------- import

@pytest.mark.parametrize("name, text", [
    ("more.jsonl", lambda ts: "".join(json.dumps(t, ensure_ascii=False) + "\n" for t in ts)),
    ("more.json", lambda ts: json.dumps({"tickets": ts}, ensure_ascii=False)),
])
def test_import_adds_and_updates_tickets(demo, capsys, name, text):
    path = demo.parent / name
    path.write_text(text([ticket("C-0001", "changed by hand"), ticket("N-1")]), encoding="utf-8")
    assert main(["local", "import", str(path), "--config", str(demo)]) == 0
    out = capsys.readouterr().out
    assert "seeded 5 tickets" in out  # an empty helpdesk is seeded first, as govhall run would have
    assert "imported 2 tickets" in out and "1 added, 1 updated" in out
    tickets = stored(demo)
    assert len(tickets) == 6 and tickets["C-0001"]["subject"] == "changed by hand" and "N-1" in tickets
    code, summary = run(demo, capsys)
    assert code == 0 and summary["pulled"] == 6


def test_an_imported_change_is_pulled_by_the_next_run(demo, capsys):
    assert run(demo, capsys)[1]["written"] == 5
    path = demo.parent / "more.jsonl"
    path.write_text(json.dumps(ticket("N-1")) + "\n", encoding="utf-8")
    assert main(["local", "import", str(path), "--config", str(demo)]) == 0
    assert "1 added, 0 updated" in capsys.readouterr().out
    code, summary = run(demo, capsys)
    assert code == 0 and summary["pulled"] == 1 and summary["written"] == 1


def test_a_file_with_a_bad_ticket_is_refused_whole(demo, capsys):
    path = demo.parent / "bad.jsonl"
    path.write_text(json.dumps(ticket("N-1")) + "\n" + json.dumps({"id": "N-2", "kind": "nope"}) + "\n"
                    + "not json\n" + json.dumps({"kind": "complaint"}) + "\n", encoding="utf-8")
    assert main(["local", "import", str(path), "--config", str(demo)]) == 2
    err = capsys.readouterr().err
    assert "3 ticket(s) refused, nothing imported" in err
    assert "line 2: kind" in err and "line 3: malformed JSON" in err and "line 4: a ticket needs a text id" in err
    assert "N-1" not in stored(demo)


def test_a_missing_file_is_a_usage_error(demo, capsys):
    assert main(["local", "import", str(demo.parent / "nope.json"), "--config", str(demo)]) == 2
    assert "no such file" in capsys.readouterr().err


# ---------------------------------------------------------------- reset

def test_reset_removes_the_helpdesk_and_the_state_and_seeds_again(demo, capsys):
    assert run(demo, capsys)[1]["written"] == 5
    extra = demo.parent / "more.jsonl"
    extra.write_text(json.dumps(ticket("N-1")) + "\n", encoding="utf-8")
    main(["local", "import", str(extra), "--config", str(demo)])
    capsys.readouterr()
    assert main(["local", "reset", "--yes", "--config", str(demo)]) == 0
    out = capsys.readouterr().out
    assert f"removed {demo.parent / '.govhall' / 'helpdesk.sqlite'}" in out
    assert f"removed {demo.parent / '.govhall' / 'state.sqlite'}" in out
    assert "seeded 5 tickets" in out
    tickets = stored(demo)
    assert sorted(tickets) == [f"C-{i:04d}" for i in range(5)]
    assert all(not t.get("tags") for t in tickets.values())  # as seeded: govhall's writes are gone
    code, summary = run(demo, capsys)  # the state went too: the run starts from the beginning
    assert code == 0 and summary["full_reason"] == "no state yet for this adapter" and summary["written"] == 5
    notes = [e for e in stored(demo)["C-0000"]["events"] if not e.get("public", True)]
    assert len(notes) == 2  # one set of notes, as after a first run


class _Tty(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("answer, reset", [("y", True), ("yes", True), ("n", False), ("", False)])
def test_reset_asks_first(demo, capsys, monkeypatch, answer, reset):
    run(demo, capsys)
    monkeypatch.setattr("sys.stdin", _Tty())
    monkeypatch.setattr("builtins.input", lambda prompt: answer)
    assert main(["local", "reset", "--config", str(demo)]) == 0
    captured = capsys.readouterr()
    assert "deletes the local helpdesk" in captured.err and "state store" in captured.err
    assert ("removed" in captured.out) is reset
    assert ("nothing removed" in captured.err) is not reset
    assert bool(stored(demo)["C-0000"].get("tags")) is not reset


def test_reset_without_a_terminal_needs_yes(demo, capsys, monkeypatch):
    run(demo, capsys)
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    assert main(["local", "reset", "--config", str(demo)]) == 2
    assert "give --yes" in capsys.readouterr().err
    assert stored(demo)["C-0000"].get("tags")


def test_reset_is_refused_while_a_run_holds_the_state(demo, capsys):
    run(demo, capsys)
    holder = StateStore(demo.parent / ".govhall" / "state.sqlite").lock()
    try:
        assert main(["local", "reset", "--yes", "--config", str(demo)]) == 2
        assert "in use by another govhall run" in capsys.readouterr().err
        assert stored(demo)["C-0000"].get("tags")
    finally:
        holder.close()


def test_reset_names_other_adapters_whose_state_goes_too(demo, capsys, monkeypatch):
    demo.write_text(demo.read_text() + '[adapters.zendesk]\ntype = "zendesk"\nsubdomain = "x"\n', encoding="utf-8")
    monkeypatch.setattr("sys.stdin", _Tty())
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert main(["local", "reset", "--config", str(demo)]) == 0
    err = capsys.readouterr().err
    assert "[adapters.zendesk]" in err and "reads every ticket again" in err
