"""Control characters from ticket data never forge terminal output (``govhall_sdk.terminal``).

Unit tests of each class of character escaped and of what is left alone,
properties over arbitrary text, and the real command line (``govhall check``,
``govhall run`` on the embedded local helpdesk, ``govhall local``) fed tickets
whose ids, subjects, departments and staff carry ``\\r``, ``\\x1b[2K``,
``\\u202e`` and ``\\x08``. Outputs are read as bytes: text mode would turn a raw
``\\r`` into a newline and hide it.
"""
import json
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from govhall_sdk.cli import UsageError
from govhall_sdk.redaction import register_secret
from govhall_sdk.terminal import printable, printable_json, printable_lines, shown, shown_json

GOVHALL = str(Path(sys.executable).with_name("govhall"))
NOW = "2025-03-14T16:00:00+08:00"
EVIL = "\r\x1b[2K\u202e\x08"
EVIL_SHOWN = "\\r\\x1b[2K\\u202e\\x08"
RAW = ("\r", "\x1b", "\u202e", "\x08")
FORBIDDEN = {"Cc", "Cf", "Zl", "Zp", "Cs"}
FILLERS = {"\u115f", "\u1160", "\u3164", "\uffa0"}
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069",
        "\u200e", "\u200f", "\u061c"]
CONTROLS = [chr(c) for c in (*range(0x20), *range(0x7f, 0xa0))] + BIDI + [
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u2028", "\u2029", "\ud800", "\udfff",
    "\U000e0001", "\U000e0041", "\U000e007f", *sorted(FILLERS)]
DANGEROUS = [*CONTROLS, "\U0001f3f4", "\\", "\U0001f600"]  # with what the kept sequences and escapes are made of
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
ENGLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
# The two emoji sequences printable keeps, as this test understands them
KEPT = re.compile("\U0001f3f4[\U000e0030-\U000e0039\U000e0061-\U000e007a]{2,6}\U000e007f"
                  "|(?<=[\u2600-\u27bf\u2b00-\u2bff\ufe0f\U0001f000-\U0001faff])\u200d"
                  "(?=[\u2600-\u27bf\u2b00-\u2bff\ufe0f\U0001f000-\U0001faff])")
ESCAPE = re.compile(r"\\(?:([tnr])|x([0-9a-f]{2})|u([0-9a-f]{4})|U([0-9a-f]{8}))")


def forbidden_in(text):
    """The control, format, separator and surrogate characters of ``text``, outside the kept emoji sequences."""
    return [c for c in KEPT.sub("", text) if unicodedata.category(c) in FORBIDDEN or c in FILLERS]


def decode(text):
    """The inverse of printable for an input without backslashes."""
    def one(m):
        short, *codes = m.groups()
        return {"t": "\t", "n": "\n", "r": "\r"}[short] if short else chr(int(next(c for c in codes if c), 16))
    return ESCAPE.sub(one, text)


# ------------------------------------------------------------------------ printable, class by class

@pytest.mark.parametrize("char, escaped", [
    ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"), ("\x00", "\\x00"), ("\x07", "\\x07"), ("\x08", "\\x08"),
    ("\x0b", "\\x0b"), ("\x0c", "\\x0c"), ("\x1b", "\\x1b"), ("\x1f", "\\x1f"),
])
def test_c0_controls(char, escaped):
    assert printable(f"a{char}b") == f"a{escaped}b"


def test_every_c0_del_and_c1_control_is_escaped_in_pythons_notation():
    for code in (*range(0x20), *range(0x7f, 0xa0)):
        char = chr(code)
        assert printable(char) == repr(char)[1:-1], hex(code)
        assert printable(char).startswith("\\")


@pytest.mark.parametrize("char", BIDI)
def test_bidi_embeddings_overrides_isolates_and_marks(char):
    assert printable(f"ID{char}-1") == f"ID\\u{ord(char):04x}-1"


@pytest.mark.parametrize("char, escaped", [
    ("\u200b", "\\u200b"), ("\ufeff", "\\ufeff"), ("\u00ad", "\\xad"), ("\u2060", "\\u2060"),
    ("\u200c", "\\u200c"), ("\u180e", "\\u180e"), ("\U000e0001", "\\U000e0001"), ("\U000e0041", "\\U000e0041"),
])
def test_invisible_format_characters(char, escaped):
    assert printable(f"T{char}1") == f"T{escaped}1"


def test_line_and_paragraph_separators():
    assert printable("a\u2028b\u2029c") == "a\\u2028b\\u2029c"


def test_lone_surrogates_and_hangul_fillers():
    assert printable("a\ud800b\udfff") == "a\\ud800b\\udfff"
    assert printable("王\u3164芳\uffa0") == "王\\u3164芳\\uffa0"


def test_a_zero_width_joiner_is_escaped_unless_it_joins_two_pictographs():
    assert printable("T\u200d-1") == "T\\u200d-1"
    assert printable("\u200d\U0001f600") == "\\u200d\U0001f600"
    assert printable(FAMILY) == FAMILY
    assert printable("\u2764\ufe0f\u200d\U0001f525") == "\u2764\ufe0f\u200d\U0001f525"  # heart on fire


def test_tag_characters_are_escaped_outside_a_subdivision_flag():
    assert printable(ENGLAND) == ENGLAND
    assert printable("\U0001f3f4\U000e0041\U000e007f") == "\U0001f3f4\\U000e0041\\U000e007f"  # an upper-case tag
    assert printable("ok\U000e0069\U000e0067") == "ok\\U000e0069\\U000e0067"  # smuggled, no flag


@pytest.mark.parametrize("text", [
    "铜川市政务服务中心 不动产登记窗口", "（全角括号）【方括号】，。！？：；“引号”‘单引号’……——", "中文\u3000全角空格",
    "a b\u00a0c", "😀 👍🏽 🇨🇳 1️⃣ ☺︎", FAMILY, ENGLAND, "TC-2025-0314", "", "Ünïcödé café", "עברית and العربية",
])
def test_text_people_write_is_untouched(text):
    assert printable(text) == text


def test_a_backslash_is_left_alone():
    assert printable("C:\\tickets\\x1b.json") == "C:\\tickets\\x1b.json"
    assert printable("\\") == "\\"


def test_anything_is_printed_as_its_str():
    assert printable(42) == "42" and printable(None) == "None"


def test_every_format_control_and_separator_of_the_running_unicode_is_escaped():
    missed = [hex(c) for c in range(sys.maxunicode + 1)
              if unicodedata.category(chr(c)) in FORBIDDEN and printable(chr(c)) == chr(c)]
    assert missed == []


NEWER_FORMAT = {chr(c) for c in range(0x13439, 0x13440)}  # Cf since Unicode 15, escaped on older Pythons too


def test_nothing_else_is_escaped():
    kept = [chr(c) for c in range(sys.maxunicode + 1)
            if unicodedata.category(chr(c)) not in FORBIDDEN and chr(c) not in FILLERS | NEWER_FORMAT]
    text = "".join(kept)
    changed = printable(text) != text and [hex(ord(c)) for c in kept if printable(c) != c]
    assert not changed


def test_printable_lines_keeps_only_the_line_breaks():
    assert printable_lines("第一条\n第二条\r\x1b[2K\n") == "第一条\n第二条\\r\\x1b[2K\n"


def test_shown_scrubs_before_it_escapes():
    register_secret("tok\tterminal-test-secret")
    assert shown("电话13912345678\r") == "电话139****5678\\r"
    assert shown("Bearer tok\tterminal-test-secret\x1b") == "Bearer ***\\x1b"  # escaped first, it would leak


# ------------------------------------------------------------------------ JSON

def test_printable_json_is_the_same_document():
    data = {"id": "T" + EVIL, "dept": "综合\u2028\x85\x7f窗口", "tag": "\U000e0041", "ok": FAMILY + ENGLAND,
            "bad": "\ud800", "list": ["\u200b"]}
    text = json.dumps(data, ensure_ascii=False, indent=2)
    out = printable_json(text)
    assert json.loads(out) == data
    assert "\\u202e" in out and "\\u2028" in out and "\\u0085" in out and "\\u007f" in out
    assert "\\udb40\\udc41" in out, "beyond the BMP: a surrogate pair, as JSON spells it"
    assert out.count("\n") == text.count("\n"), "the document's own newlines are kept"
    assert forbidden_in(out.replace("\n", "")) == []


def test_shown_json_masks_too():
    assert json.loads(shown_json(json.dumps({"phone": "13912345678\u202e"}))) == {"phone": "139****5678\u202e"}


# ------------------------------------------------------------------------ properties

TEXT = st.text(st.one_of(st.characters(exclude_categories=()), st.sampled_from(DANGEROUS)))


@settings(max_examples=400, deadline=None)
@given(TEXT)
@example(EVIL)
@example("\U0001f600\u200d")
def test_no_control_or_invisible_character_survives(text):
    out = printable(text)
    assert forbidden_in(out) == []
    assert printable(out) == out, "escaping twice changes nothing"


@settings(max_examples=400, deadline=None)
@given(TEXT.map(lambda t: t.replace("\\", "")))
@example("\x1b")
def test_without_backslashes_the_escaping_is_reversible(text):
    out = printable(text)
    assert decode(out) == text
    if forbidden_in(text):
        assert out != text


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(CONTROLS), min_size=1, max_size=6).map("".join),
       st.lists(st.sampled_from(CONTROLS), min_size=1, max_size=6).map("".join))
def test_distinct_controls_never_look_the_same(a, b):
    if a != b:
        assert printable(a) != printable(b)
    assert printable("\x1b") != "\x1b" and printable("\x1b") != printable("\x1b\x1b")


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_json_stays_the_same_data(text):
    out = printable_json(json.dumps({"v": text}, ensure_ascii=False))
    assert json.loads(out) == {"v": text}
    assert forbidden_in(out) == []


def test_a_usage_error_is_one_line():
    error = UsageError(f"no ticket T{EVIL}\nsecond line")
    assert str(error) == f"no ticket T{EVIL_SHOWN}\\nsecond line"
    assert error.args == (f"no ticket T{EVIL}\nsecond line",), "the message itself is kept"


# ------------------------------------------------------------------------ the real command line

STAFF = {"id": "s1" + EVIL, "name": "王" + EVIL + "芳", "rank": 1, "department": "综合" + EVIL, "role": "staff"}
HOSTILE = [
    {"id": "T-1" + EVIL, "kind": "complaint", "channel": "web", "subject": "窗口" + EVIL + "态度",
     "created_at": "2025-01-06T09:00:00+08:00", "department": "综合窗口" + EVIL,
     "events": [{"type": "reply", "at": "2025-01-06T10:00:00+08:00", "public": True,
                 "body": "不知道，问别人去。" + EVIL, "actor": STAFF}]},
    {"id": "BAD" + EVIL, "kind": "complaint", "created_at": "2025-01-06T09:00:00"},  # naive: an error line
]


def govhall(*args, cwd=None):
    """Run the installed ``govhall``; stdout and stderr decoded from the bytes, nothing translated."""
    done = subprocess.run([GOVHALL, *map(str, args)], capture_output=True, cwd=cwd, timeout=120)
    return done.returncode, done.stdout.decode("utf-8"), done.stderr.decode("utf-8")


def assert_safe(*outputs):
    for out in outputs:
        assert [c for c in RAW if c in out] == [], out


@pytest.fixture
def hostile_file(tmp_path):
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps({"tickets": HOSTILE}, ensure_ascii=False), encoding="utf-8")
    return path


def test_check_table(hostile_file):
    code, out, err = govhall("check", hostile_file, "--now", NOW, "--format", "table")
    assert code == 0, err
    assert_safe(out, err)
    lines = out.splitlines()
    assert len(lines) == 3, "the header, one line per ticket, one per error"
    assert lines[1].startswith(f"T-1{EVIL_SHOWN} ") and "tl.overdue" in lines[1]
    assert lines[2] == f"ERROR BAD{EVIL_SHOWN}: created_at: naive timestamp"


def test_check_json(hostile_file):
    code, out, err = govhall("check", hostile_file, "--now", NOW)
    assert code == 0, err
    assert_safe(out, err)
    assert "\\u202e" in out and "\\u001b[2K" in out
    data = json.loads(out)
    (ticket,) = data["tickets"]
    assert ticket["id"] == "T-1" + EVIL, "the JSON reads back to the raw data"
    assert {f["department"] for f in ticket["findings"]} >= {"综合窗口" + EVIL}
    assert any("王" + EVIL + "芳" in f["message"] for f in ticket["findings"]), "the staff name, quoted"
    assert data["errors"] == [{"id": "BAD" + EVIL, "error": "created_at: naive timestamp"}]


def test_check_an_unreadable_file_named_with_controls(tmp_path):
    code, out, err = govhall("check", tmp_path / f"x{EVIL}.json", "--now", NOW)
    assert code == 2
    assert_safe(out, err)
    assert f"x{EVIL_SHOWN}.json: No such file" in err and err.count("\n") == 1


@pytest.fixture
def local_config(tmp_path, hostile_file):
    config = tmp_path / "govhall.toml"
    config.write_text(f'lang = "zh"\n[state]\npath = {json.dumps(str(tmp_path / "state.sqlite"))}\n'
                      f'[adapter]\ntype = "local"\npath = {json.dumps(str(tmp_path / "helpdesk.sqlite"))}\n'
                      f'seed = {json.dumps(str(hostile_file))}\n', encoding="utf-8")
    return config


def test_run_summary_dry_run_and_json(local_config):
    code, out, err = govhall("run", "--config", local_config, "--now", NOW, "--dry-run")
    assert code == 1, err  # the naive ticket cannot be evaluated
    assert_safe(out, err)
    assert f"  ERROR BAD{EVIL_SHOWN}: created_at: naive timestamp" in out.splitlines()
    (patch,) = [line for line in out.splitlines() if line.startswith("  patch ")]
    assert patch.startswith(f"  patch T-1{EVIL_SHOWN}: {{")
    assert json.loads(patch.split(": ", 1)[1])["fields"]["govhall_first_inquiry"] == "s1" + EVIL

    code, out, err = govhall("run", "--config", local_config, "--now", NOW)
    assert code == 1 and "written 1" in out, err
    assert_safe(out, err)
    assert f"  ERROR BAD{EVIL_SHOWN}: created_at: naive timestamp" in out.splitlines()

    code, out, err = govhall("run", "--config", local_config, "--now", NOW, "--json")
    assert code == 1, err
    assert_safe(out, err)
    assert json.loads(out)["errors"] == {"BAD" + EVIL: "created_at: naive timestamp"}


def test_local_show_and_list(local_config):
    assert govhall("run", "--config", local_config, "--now", NOW)[0] == 1
    for extra in ((), ("--unmasked",)):
        code, out, err = govhall("local", "show", "T-1" + EVIL, "--config", local_config, *extra)
        assert code == 0, err
        assert_safe(out, err)
        ticket = json.loads(out)
        assert ticket["subject"] == "窗口" + EVIL + "态度" and "govhall_tl_overdue" in ticket["tags"]
    code, out, err = govhall("local", "list", "--config", local_config)
    assert code == 0, err
    assert_safe(out, err)
    assert sorted(line.split()[0] for line in out.splitlines()) == [f"BAD{EVIL_SHOWN}", f"T-1{EVIL_SHOWN}"]
    code, out, err = govhall("local", "show", "NONE" + EVIL, "--config", local_config)
    assert code == 2 and "no ticket" in err
    assert_safe(out, err)
