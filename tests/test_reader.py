"""The ticket-file reader (govhall_sdk/reader.py): never a traceback, never a silent drop.

Regressions through the real `govhall check` (a subprocess) for each crash and
each silent drop found in review, then hypothesis over hostile files: one error
per bad ticket, every good ticket evaluated, no traceback.
"""
import io
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govhall_sdk.cli.check_stream import run_check
from govhall_sdk.config import build_config
from govhall_sdk.engine import Engine
from govhall_sdk.host import get_plugin_manager
from govhall_sdk.reader import MAX_DEPTH, FileError, iter_raw, iter_tickets

GOVHALL = str(Path(sys.executable).parent / "govhall")
NOW = "2025-03-14T16:00:00+08:00"


def good(tid: str, **extra) -> dict:
    """A valid ticket (a consultation) with id ``tid``."""
    return {"id": tid, "kind": "consultation", "created_at": "2025-03-03T09:00:00+08:00", "department": "综合窗口",
            **extra}


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def govhall_check(tmp_path, content: bytes | str, name: str = "tickets.json", *args, stdin: bool = False):
    """Run `govhall check` on ``content`` saved as ``name`` (or piped in): (exit code, output JSON, stderr)."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    if stdin:
        cmd, feed = [GOVHALL, "check", "-", "--now", NOW, *args], data
    else:
        path = tmp_path / name
        path.write_bytes(data)
        cmd, feed = [GOVHALL, "check", str(path), "--now", NOW, *args], None
    out = subprocess.run(cmd, input=feed, capture_output=True, timeout=120)
    stderr = out.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr, stderr
    return out.returncode, json.loads(out.stdout.decode("utf-8")), stderr


def ids(result) -> list:
    return [t["id"] for t in result["tickets"]]


# ---------------------------------------------------------------- crashes found in review


def test_a_ticket_nested_1000_deep_is_an_error_for_that_ticket(tmp_path):
    deep = {"id": "D-1", "fields": {}}
    text = dumps({"tickets": [good("T-1"), deep, good("T-2")]}).replace('"fields": {}', '"fields": ' + "[" * 1000 + "]" * 1000)
    code, result, _ = govhall_check(tmp_path, text)
    assert code == 0 and ids(result) == ["T-1", "T-2"]
    [error] = result["errors"]
    assert error["id"] is None and error["where"] == "tickets[1]" and f"nested deeper than {MAX_DEPTH}" in error["error"]
    assert error["error"].startswith("line 1:")


@pytest.mark.parametrize("name, text", [
    ("wrapped.json", "{\n  \"tickets\": [\n    %s,\n    {\"id\": \"N-1\", \"n\": %s},\n    %s\n  ]\n}\n"),
    ("lines.jsonl", "%s\n{\"id\": \"N-1\", \"n\": %s}\n%s\n"),
])
def test_a_5000_digit_integer_is_an_error_for_that_ticket(tmp_path, name, text):
    code, result, _ = govhall_check(tmp_path, text % (dumps(good("T-1")), "7" * 5000, dumps(good("T-2"))), name)
    assert code == 0 and ids(result) == ["T-1", "T-2"]
    [error] = result["errors"]
    assert "more than 4300 digits" in error["error"] and error["error"].startswith(("line 4:", "line 2:"))


def test_invalid_utf8_in_a_one_line_file(tmp_path):
    code, result, _ = govhall_check(tmp_path, b'{"id": "U-1", "subject": "\xff\xfe"}', "one.txt")
    assert code == 0 and result["tickets"] == []
    assert result["errors"] == [{"id": None, "error": "line 1: invalid UTF-8 (byte 0xff)", "where": "line 1"}]


def test_a_utf8_error_names_its_line_and_the_other_lines_are_read(tmp_path):
    text = (dumps(good("T-1")) + "\n" + dumps(good("T-2")) + "\n").encode() + b'{"id": "\xc3("}\n' + \
        (dumps(good("T-3")) + "\n").encode()
    code, result, _ = govhall_check(tmp_path, text, "lines.jsonl")
    assert code == 0 and ids(result) == ["T-1", "T-2", "T-3"]
    assert [e["where"] for e in result["errors"]] == ["line 3"] and "invalid UTF-8" in result["errors"][0]["error"]


def test_a_utf16_file_is_an_error_per_line_not_a_traceback(tmp_path):
    text = (dumps(good("T-1")) + "\n" + dumps(good("T-2")) + "\n").encode("utf-16")
    code, result, _ = govhall_check(tmp_path, text, "lines.jsonl")
    # UTF-16's newline is b"\n\0": the NUL after the last one is a third line
    assert code == 0 and result["tickets"] == [] and [e["where"] for e in result["errors"]] == ["line 1", "line 2", "line 3"]


# ---------------------------------------------------------------- silent drops found in review


@pytest.mark.parametrize("stdin", [False, True], ids=["file", "stdin"])
def test_json_lines_whose_first_ticket_has_a_tickets_field(tmp_path, stdin):
    first = good("T-1", tickets=[good("X-1")])
    text = dumps(first) + "\n" + dumps(good("T-2")) + "\n"
    code, result, _ = govhall_check(tmp_path, text, "tickets.txt", stdin=stdin)
    assert code == 0 and ids(result) == ["T-1", "T-2"] and result["errors"] == []


@pytest.mark.parametrize("trailer", ["\n" + dumps({"tickets": [good("T-9")]}) + "\n", "\ngarbage\n", "]"])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_data_after_the_wrapper_is_a_file_error_after_the_good_tickets(tmp_path, trailer, jobs):
    text = dumps({"tickets": [good("T-1"), good("T-2")]}) + trailer
    code, result, err = govhall_check(tmp_path, text, "tickets.json", "--jobs", jobs)
    assert code == 2 and ids(result) == ["T-1", "T-2"]
    assert result["errors"][-1]["id"] is None and "data after the tickets document" in result["errors"][-1]["error"]
    assert "line" in err and err.count("\n") == 1


def test_a_second_tickets_key_is_a_file_error_naming_the_line(tmp_path):
    text = '{\n  "tickets": [%s],\n  "tickets": [%s]\n}\n' % (dumps(good("T-1")), dumps(good("T-2")))
    code, result, err = govhall_check(tmp_path, text)
    assert code == 2 and ids(result) == ["T-1"]
    assert 'line 3: malformed JSON: a second "tickets" key' in result["errors"][-1]["error"]
    assert "line 3" in err


@pytest.mark.parametrize("layout", ["jsonl", "pretty", "one-line"])
def test_standard_input_in_every_format(tmp_path, layout):
    tickets = [good("T-1"), good("T-2")]
    text = {"jsonl": "\n".join(map(dumps, tickets)) + "\n",
            "pretty": json.dumps({"tickets": tickets}, indent=2),
            "one-line": dumps({"tickets": tickets})}[layout]
    code, result, _ = govhall_check(tmp_path, text, stdin=True)
    assert code == 0 and ids(result) == ["T-1", "T-2"] and result["errors"] == []


@pytest.mark.parametrize("name", ["tickets.json", "tickets.jsonl", "tickets"])
@pytest.mark.parametrize("lead", ["\n\n", "\ufeff", "\ufeff\n  \n"], ids=["blank-lines", "bom", "bom-and-blanks"])
def test_a_leading_blank_line_or_bom_is_fine(tmp_path, name, lead):
    tickets = [good("T-1"), good("T-2")]
    body = "\n".join(map(dumps, tickets)) if name.endswith("l") else json.dumps({"tickets": tickets}, indent=2)
    code, result, _ = govhall_check(tmp_path, lead + body + "\n\n", name)
    assert code == 0 and ids(result) == ["T-1", "T-2"] and result["errors"] == []


def test_input_format_overrides_the_extension(tmp_path):
    text = dumps(good("T-1")) + "\n" + dumps(good("T-2")) + "\n"
    code, result, _ = govhall_check(tmp_path, text, "tickets.json", "--input-format", "jsonl")
    assert code == 0 and ids(result) == ["T-1", "T-2"]
    code, _, err = govhall_check(tmp_path, text, "tickets.jsonl", "--input-format", "json")
    assert code == 2 and 'line 1: no "tickets" list in the file' in err


def test_jobs_must_be_at_least_one_and_the_help_says_the_exit_codes():
    out = subprocess.run([GOVHALL, "check", "x.json", "--jobs", "0"], capture_output=True, text=True)
    assert out.returncode == 2 and "--jobs" in out.stderr and "at least 1" in out.stderr
    help_text = subprocess.run([GOVHALL, "check", "--help"], capture_output=True, text=True).stdout
    assert "examples:" in help_text and "govhall check tickets.json" in help_text
    assert "exit status:" in help_text and "\n  0 " in help_text and "\n  2 " in help_text
    assert "--input-format" in help_text


# ---------------------------------------------------------------- the reader in process


def test_a_long_string_across_many_chunks_with_escapes():
    subject = ('x\\"]}' * 700_000)  # 3.5 MB of escaped quotes and brackets, across chunk ends
    doc = dumps({"tickets": [good("T-1", subject=subject), good("T-2")]})
    items = list(iter_tickets(io.BytesIO(doc.encode()), "t.json"))
    assert [i.id for i in items] == ["T-1", "T-2"] and items[0].ticket.subject == subject


def test_a_broken_structure_is_a_file_error_after_the_good_tickets():
    doc = dumps({"tickets": [good("T-1")]})[:-2] + ', {"id": "T-2"]}'
    seen = []
    with pytest.raises(FileError, match=r"line 1: malformed JSON: '\]' closes nothing open"):
        for item in iter_tickets(io.BytesIO(doc.encode()), "t.json"):
            seen.append(item.id)
    assert seen == ["T-1"]


def test_a_one_line_broken_wrapper_without_extension_is_a_file_error():
    doc = '{"tickets": [' + dumps(good("T-1")) + ', {"id": '
    with pytest.raises(FileError, match="ends inside"):
        list(iter_raw(io.BytesIO(doc.encode())))


@pytest.mark.parametrize("layout", ["pretty", "one-line", "jsonl"])
def test_a_ticket_over_the_size_cap_is_an_error_and_the_next_is_read(monkeypatch, layout):
    import govhall_sdk.reader as reader

    monkeypatch.setattr(reader, "MAX_TICKET_BYTES", 3 << 20)
    monkeypatch.setattr(reader, "_CHUNK", 1 << 18)
    tickets = [good("T-1"), good("BIG", subject="x" * (4 << 20)), good("T-2")]
    text = {"jsonl": "\n".join(map(dumps, tickets)) + "\n", "pretty": json.dumps({"tickets": tickets}, indent=2),
            "one-line": dumps({"tickets": tickets})}[layout]
    items = list(iter_tickets(io.BytesIO(text.encode()), "t.jsonl" if layout == "jsonl" else "t.json"))
    assert [i.id for i in items] == ["T-1", None, "T-2"]
    assert "larger than 3 MiB" in str(items[1].error) and str(items[1].error).startswith("line ")


def test_every_argument_of_check_has_help():
    from govhall_sdk.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    check = sub.choices["check"]
    for action in check._actions:
        assert action.help, action.dest
    assert "examples:" in check.epilog and "exit status:" in check.epilog


# ---------------------------------------------------------------- hypothesis over hostile files

PM = get_plugin_manager()
ENGINE = Engine(build_config({}, {s: d for s, (_, d) in PM.policies.items()}), PM)
NOW_DT = datetime.fromisoformat(NOW)

BAD = {
    "deep": lambda i: '{"id": "B-%d", "f": %s}' % (i, "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5)),
    "bigint": lambda i: '{"id": "B-%d", "n": -%s}' % (i, "1" * 4400),
    "utf8": lambda i: '{"id": "B-%d", "s": "\udcff"}' % i,
    "malformed": lambda i: '{"id": "B-%d", "kind": tru, "x": [1 2]}' % i,
}
hostile_text = st.text(alphabet=st.sampled_from('x"\\[]{},: \t中\u2028'), max_size=12)
elements = st.lists(st.one_of(st.tuples(st.just("good"), hostile_text), st.tuples(st.sampled_from(sorted(BAD)), st.none())),
                    min_size=1, max_size=8)


def _ticket_text(kind, subject, i, layout):
    if kind != "good":
        return BAD[kind](i)
    return json.dumps(good(f"G-{i}", subject=subject), ensure_ascii=False, indent=2 if layout == "pretty" else None)


def _file(items, layout, bom, blanks, trailer):
    texts = [_ticket_text(kind, subject, i, layout) for i, (kind, subject) in enumerate(items)]
    if layout == "jsonl":
        body = ("\n" * (1 + blanks)).join(t.replace("\n", " ") for t in texts) + "\n"
    else:
        sep = ",\n" + "\n" * blanks if layout == "pretty" else ", "
        body = '{"tickets": [' + sep.join(texts) + "]}" + ("\n" if layout == "pretty" else "")
        if layout == "pretty" and blanks == 2:  # a wrapper with other keys (skipped), brackets in their strings
            body = '{\n  "source": {"name": "x]}\\"", "n": [1, [2]]},\n' + body[1:-2] + ',\n  "more": "]"}\n'

    body = ("\ufeff" if bom else "") + "\n" * blanks + body + trailer
    return body.encode("utf-8", "surrogateescape")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elements, st.sampled_from(["pretty", "one-line", "jsonl"]), st.booleans(), st.integers(0, 2),
       st.sampled_from(["", "", "garbage", "{}"]), st.sampled_from(["", "t.json", "t.jsonl"]))
def test_hostile_files_give_an_error_per_bad_ticket_and_every_good_ticket(items, layout, bom, blanks, trailer, name):
    if name and (name.endswith("jsonl") != (layout == "jsonl")):
        name = ""  # a name whose extension says the other format is a user error, tested apart
    out = io.StringIO()
    fatal = run_check(io.BytesIO(_file(items, layout, bom, blanks, trailer)), name, ENGINE, NOW_DT, "json", out)
    result = json.loads(out.getvalue())
    goods = [f"G-{i}" for i, (kind, _) in enumerate(items) if kind == "good"]
    assert ids(result) == goods
    errors = result["errors"]
    if trailer and layout != "jsonl":
        assert fatal and "data after the tickets document" in fatal and errors[-1]["error"] == fatal
        errors = errors[:-1]
    else:
        assert fatal is None
    bad = [i for i, (kind, _) in enumerate(items) if kind != "good"] + ([None] if trailer and layout == "jsonl" else [])
    assert len(errors) == len(bad), errors
    for error in errors:
        assert error["id"] is None and error["where"].startswith(("line ", "tickets["))
        assert error["error"].startswith("line ") or error["error"] == "id: required; kind: required; created_at: required"


@pytest.mark.parametrize("doc, ids", [
    (dumps(good("T-1")), ["T-1"]),  # one ticket in a .json file
    (dumps(good("T-1")) + "\n" + dumps(good("T-2")) + "\n", ["T-1", "T-2"]),  # JSON Lines named .json
    (dumps({"source": "export", "tickets": [good("T-1"), good("T-2")]}), ["T-1", "T-2"]),  # a one-line wrapper
    (json.dumps({"tickets": [good("T-1")]}, indent=2), ["T-1"]),
])
def test_a_json_name_reads_one_ticket_json_lines_and_the_wrapper(doc, ids):
    items = list(iter_tickets(io.BytesIO(doc.encode()), "t.json"))
    assert [i.id for i in items] == ids and all(i.ticket is not None for i in items)


def test_a_ticket_with_a_tickets_field_is_a_ticket_when_nothing_names_the_format():
    doc = dumps({**good("T-1"), "tickets": []}) + "\n" + dumps(good("T-2")) + "\n"
    assert [i.id for i in iter_tickets(io.BytesIO(doc.encode()), "-")] == ["T-1", "T-2"]
