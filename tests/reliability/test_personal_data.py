"""Personal data: applicants' mobile numbers, landline numbers and resident ID numbers (18 and 15 digits) are
masked (``govhall_sdk.privacy.mask_text``) in everything govhall writes or prints: notes on the helpdesk, the
audit log, the state file, the summary (text and JSON), ``govhall check`` and ``govhall local show``.

The tickets carry them where they really turn up: the requester's mobile, an ID-number field, an
applicant's message and a staff reply (with forbidden phrases) quoting both, a required material named
with the ID number (so the finding and its note quote it), a date field holding a phone number (so the
ticket's error quotes it) and a helpdesk error that echoes the ticket back. They carry them in the
spellings people use too: ``+86 139 1234 5678``, full-width digits, no-break spaces, ``610202 19800101 123X``,
a first-generation 15-digit ID, landlines with their area code.

The check (:func:`raw_in`) reads every output as a person would: HTML entities and ``\\uXXXX``/``\\xXX``
escapes decoded, digits of any width made ASCII, separators dropped, and only then looks for the numbers'
digits. So no spelling can pass it by accident.
"""
import html
import io
import json
import logging
import re
import subprocess
import unicodedata

import pytest

from govhall_sdk.privacy import mask_text
from govhall_sdk.cli.run import print_summary
from govhall_sdk.state import StateStore

from .fake_helpdesk import FakeHelpdesk, Fault
from .harness import GOVHALL, NOW, PHONE, RESIDENT_ID, _conv, cli_env, config_for, run_in_process, toml, write_config

MASKED_PHONE, MASKED_ID = "139****5678", "610202********123X"
FIELDS = {"accepted_at": "cf_accepted_on"}

# The same numbers, and three more, in other spellings.
PHONE_SPACED, PHONE_WIDE, PHONE_NBSP = "+86 139 1234 5678", "１３９１２３４５６７８", "139\u00a01234\u00a05678"
MOBILE2, MOBILE2_SPELT = "13800138000", "(+86)138-0013-8000"
ID_SPACED, ID_WIDE = "610202 19800101 123X", "６１０２０２１９８００１０１１２３ｘ"
OLD_ID, OLD_ID_SPELT = "610202800101123", "610202 800101 123"
LANDLINE, LANDLINE_SPELT = "（029）8888 1234", "029-88881234"
SPELLINGS = (f"另一手机{PHONE_SPACED}，全角{PHONE_WIDE}，{PHONE_NBSP}，家属{MOBILE2_SPELT}，座机{LANDLINE}或{LANDLINE_SPELT}，"
             f"身份证{ID_SPACED}（{ID_WIDE}），老身份证{OLD_ID_SPELT}")
MASKED_SPELLINGS = ("+86 139 **** 5678", "１３９****５６７８", "(+86)138-****-8000", "（029）**** 1234",
                    "029-****1234", "610202 ******** 123X", "６１０２０２********１２３ｘ", "610202 ****** 123")

#: What must never be readable, as read by :func:`readable`: the numbers, the landline's local number, the birth date.
RAW = (PHONE, RESIDENT_ID, MOBILE2, OLD_ID, "88881234", "19800101", "800101123")
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})|\\x([0-9a-fA-F]{2})")
_CONTROL_ESCAPE = re.compile(r"\\[nrt]")


def readable(text):
    """``text`` (or UTF-8 bytes) as a person reads the numbers in it: entities and escapes decoded, digits in
    ASCII, check letters as ``X``, and nothing but letters, digits and ``*`` kept."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), html.unescape(text))
    text = _CONTROL_ESCAPE.sub(" ", text)
    out = []
    for ch in text:
        if ch.isdecimal():
            out.append(str(unicodedata.decimal(ch)))
        elif ch in "xＸｘ":
            out.append("X")
        elif ch == "*" or unicodedata.category(ch).startswith("L"):
            out.append(ch)
    return "".join(out)


def raw_in(text):
    """The numbers of :data:`RAW` readable in ``text``."""
    seen = readable(text)
    return [r for r in RAW if r in seen]


def test_the_check_reads_every_spelling():
    assert raw_in(SPELLINGS) == list(RAW), "each number, in every spelling above, is found"
    assert raw_in(json.dumps(SPELLINGS)) == raw_in(SPELLINGS), "ASCII-escaped JSON is read too"
    assert raw_in(SPELLINGS.encode()) == raw_in(SPELLINGS)
    assert raw_in(html.escape(SPELLINGS).replace("\u00a0", "&nbsp;")) == raw_in(SPELLINGS)
    assert raw_in(mask_text(SPELLINGS)) == []
    masked = mask_text(SPELLINGS)
    assert all(m in masked for m in MASKED_SPELLINGS), masked


#: A value longer than the 40 characters an error quotes, the cut falling inside the ID number's birth date.
LONG_VALUE = f"座机{LANDLINE}，{PHONE_WIDE}，证{ID_SPACED}，手机{PHONE_SPACED}"
CUT_ID = "证610202 ***"  # what the quote shows of the ID number: masked before the cut, no birth date digit
MATERIALS = f"身份证{RESIDENT_ID}复印件,旧身份证{OLD_ID_SPELT}复印件,联系人{PHONE_WIDE}名片,营业执照"


def test_the_long_value_is_cut_inside_the_birth_date():
    at = LONG_VALUE.index(ID_SPACED)
    assert at + 7 < 40 < at + 15 and LONG_VALUE[:40].endswith("610202 198")


def pii_fake():
    fake = FakeHelpdesk("pii-key")
    requester = {"id": 5001, "name": "张三", "email": "zhangsan@example.com", "mobile": PHONE, "phone": LANDLINE}
    fake.add_ticket({"id": 201, "type": "投诉", "source": 3, "group_id": 2, "subject": "窗口态度",
                     "created_at": "2025-01-06T01:00:00Z", "requester": requester,
                     "custom_fields": {"cf_id_number": RESIDENT_ID}},
                    [_conv(f"我的电话{PHONE}，身份证{RESIDENT_ID}，{SPELLINGS}，请尽快处理。", "2025-01-06T01:30:00Z",
                           user=5001, incoming=True),
                     _conv(f"张三您好，已核对您的电话{PHONE}和身份证号{RESIDENT_ID}，{SPELLINGS}。这个我不知道，问别人去。",
                           "2025-01-06T02:00:00Z", user=1002)])
    fake.add_ticket({"id": 202, "type": "申请", "source": 3, "group_id": 3, "subject": "营业执照变更",
                     "created_at": "2025-03-04T01:00:00Z", "requester": requester,
                     "custom_fields": {"cf_id_number": ID_SPACED, "cf_materials": MATERIALS}},
                    [_conv("[补正告知] 缺件: 营业执照; 方式: 口头", "2025-03-04T02:00:00Z", public=False)])
    fake.add_ticket({"id": 203, "type": "申请", "source": 2, "group_id": 1, "subject": "登记",
                     "created_at": "2025-03-10T01:00:00Z", "requester": requester,
                     "custom_fields": {"cf_accepted_on": f"电话{PHONE}"}})
    fake.add_ticket({"id": 204, "type": "申请", "source": 2, "group_id": 1, "subject": "登记",
                     "created_at": "2025-03-10T02:00:00Z", "requester": requester,
                     "custom_fields": {"cf_id_number": OLD_ID_SPELT, "cf_accepted_on": LONG_VALUE}})
    return fake.start()


def govhall_notes(fake):
    return [c["body_text"] for convs in fake.conversations.values() for c in convs if "[govhall:" in c["body_text"]]


def test_notes_audit_log_state_and_summary_are_masked(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    fake = pii_fake()
    try:
        # twice, a write of ticket 201 is refused with an error body that echoes the ticket's personal data
        fake.faults.append(Fault("503", endpoint="note", ticket="201", times=2, payload={
            "code": "unavailable", "ticket": {"requester": {"mobile": PHONE, "phone": LANDLINE, "other": PHONE_WIDE},
                                              "cf_id_number": RESIDENT_ID, "cf_old_id": OLD_ID_SPELT,
                                              "note": SPELLINGS}}))
        config = write_config(tmp_path, fake.url, api_key="pii-key", fields=FIELDS)
        outputs = []
        for args in (["--json"], [], ["--json"]):
            done = subprocess.run([GOVHALL, "run", "--config", str(config), "--now", NOW.isoformat(), *args],
                                  capture_output=True, text=True, env=cli_env(), timeout=60)
            assert done.returncode == 1, done.stderr  # ticket 203 is malformed at every run
            outputs.append(done.stdout + done.stderr)
        first = json.loads(outputs[0])
        assert "HTTP 503" in first["failed"]["201"] and MASKED_PHONE in first["failed"]["201"]
        assert MASKED_ID in first["failed"]["201"]
        assert MASKED_PHONE in first["errors"]["203"] and "accepted_at" in first["errors"]["203"]
        assert all(m in first["failed"]["201"] for m in ("（029）**** 1234", "１３９****５６７８", "610202 ****** 123",
                                                         "+86 139 **** 5678")), "the echoed spellings are masked"
        assert CUT_ID in first["errors"]["204"] and "（029）**** 1234，１３９****５６７８" in first["errors"]["204"]
        assert "ERROR 204: accepted_at: not an ISO 8601 instant: '座机（029）**** 1234，" in outputs[1]
        assert CUT_ID in outputs[1]
        assert "NOT WRITTEN 201: " in outputs[1] and MASKED_PHONE in outputs[1]
        assert f"ERROR 203: accepted_at: not an ISO 8601 instant: '电话{MASKED_PHONE}'" in outputs[1]
        assert list(json.loads(outputs[2])["failed"]) == [] and json.loads(outputs[2])["written"] == 1
        assert not raw_in("\n".join(outputs))

        notes = govhall_notes(fake)
        assert any("禁忌用语" in n for n in notes), "the forbidden phrase was noted"
        (material,) = [n for n in notes if "[govhall:otn.notice_incomplete" in n]
        assert f"身份证{MASKED_ID}复印件" in material, "the note quotes the material, masked"
        assert "旧身份证610202 ****** 123复印件" in material and "联系人１３９****５６７８名片" in material
        assert not raw_in("\n".join(notes))
        assert not raw_in("\n".join(c["body"] for convs in fake.conversations.values() for c in convs
                                    if "[govhall:" in c["body_text"])), "nor in the HTML written"

        state = StateStore(tmp_path / "state.sqlite")
        try:
            rows = state.audit_rows()
        finally:
            state.close()
        assert [r["ok"] for r in rows if r["ticket_id"] == "201"] == [0, 0, 1]
        assert any(MASKED_ID in r["changes"] for r in rows)
        assert not raw_in(json.dumps(rows, ensure_ascii=False))
        assert not raw_in(b"".join(p.read_bytes() for p in tmp_path.glob("state.sqlite*")))

        # the same in process: the summary's own data is not masked (it is not output), its renderings are
        summary = run_in_process(config_for(tmp_path / "again", fake.url, api_key="pii-key", fields=FIELDS))
        text = io.StringIO()
        print_summary(summary, text)
        assert "ERROR 203" in text.getvalue() and CUT_ID in text.getvalue() and not raw_in(text.getvalue())
        assert not raw_in(caplog.text)
    finally:
        fake.stop()


# ------------------------------------------------------------------------ govhall check and govhall local

INTERCHANGE = [
    {"id": "P-1", "kind": "complaint", "channel": "phone", "created_at": "2025-01-06T09:00:00+08:00",
     "department": "综合窗口", "applicant": {"name": "张三", "phone": PHONE, "id": RESIDENT_ID},
     "events": [{"type": "reply", "at": "2025-01-06T09:30:00+08:00", "public": False,
                 "body": f"我的电话{PHONE}，身份证{RESIDENT_ID}，{SPELLINGS}", "actor": {"id": "a1", "role": "applicant"}},
                {"type": "reply", "at": "2025-01-06T10:00:00+08:00", "public": True,
                 "body": f"张三您好，已核对电话{PHONE}、身份证{RESIDENT_ID}，{SPELLINGS}。不知道，问别人去。",
                 "actor": {"id": "s1", "name": "王芳", "rank": 1, "role": "staff"}}]},
    {"id": "P-2", "kind": "application", "channel": "counter", "created_at": "2025-03-04T09:00:00+08:00",
     "department": "综合窗口", "applicant": {"name": "张三", "phone": PHONE_SPACED, "id": ID_WIDE},
     "materials": {"required": [f"身份证{RESIDENT_ID}复印件", f"旧身份证{OLD_ID_SPELT}复印件", f"家属{MOBILE2_SPELT}",
                                "营业执照"]},
     "events": [{"type": "notice", "at": "2025-03-04T10:00:00+08:00", "form": "oral",
                 "missing": ["营业执照", f"联系人{PHONE}", f"座机{LANDLINE}"], "actor": {"id": "s1", "name": "王芳", "rank": 1, "role": "staff"}}]},
]
BAD = {"id": "P-3", "kind": "complaint", "channel": "phone", "created_at": "2025-03-04T09:00:00+08:00",
       "accepted_at": f"电话{PHONE}"}
BAD_LONG = {"id": "P-4", "kind": "complaint", "channel": "phone", "created_at": "2025-03-04T09:00:00+08:00",
            "applicant": {"phone": LANDLINE_SPELT, "id": OLD_ID_SPELT}, "accepted_at": LONG_VALUE}


def check(tmp_path, tickets, fmt):
    path = tmp_path / "tickets.json"
    path.write_text(json.dumps({"tickets": tickets}, ensure_ascii=False), encoding="utf-8")
    done = subprocess.run([GOVHALL, "check", str(path), "--now", NOW.isoformat(), "--format", fmt],
                          capture_output=True, text=True, env=cli_env(), timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def test_check_masks_findings_and_notes(tmp_path):
    out = check(tmp_path, INTERCHANGE, "json")
    result = json.loads(out)
    messages = [f["message"] for t in result["tickets"] for f in t["findings"]]
    assert any(MASKED_ID in m for m in messages) and any(MASKED_PHONE in m for m in messages)
    assert any("旧身份证610202 ****** 123复印件" in m and "家属(+86)138-****-8000" in m for m in messages), messages
    assert not raw_in(out) and not raw_in(check(tmp_path, INTERCHANGE, "table"))


@pytest.mark.parametrize("fmt", ["json", "table"])
def test_check_masks_ticket_errors(tmp_path, fmt):
    out = check(tmp_path, [*INTERCHANGE, BAD, BAD_LONG], fmt)
    assert "P-3" in out and "accepted_at" in out
    assert "P-4" in out and CUT_ID in out, out
    assert not raw_in(out)


def local_config(tmp_path, tickets):
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"tickets": tickets}, ensure_ascii=False), encoding="utf-8")
    config = tmp_path / "local.toml"
    config.write_text(toml({"lang": "zh", "state": {"path": str(tmp_path / "state.sqlite")},
                            "adapter": {"type": "local", "path": str(tmp_path / "helpdesk.sqlite"), "seed": str(seed)}}),
                      encoding="utf-8")
    return config


def govhall(*args):
    return subprocess.run([GOVHALL, *args], capture_output=True, text=True, env=cli_env(), timeout=60)


def test_local_show_and_list_mask_by_default(tmp_path):
    config = local_config(tmp_path, [*INTERCHANGE, BAD, BAD_LONG])
    ran = govhall("run", "--config", str(config), "--now", NOW.isoformat())
    assert ran.returncode == 1 and "ERROR P-3" in ran.stdout and not raw_in(ran.stdout + ran.stderr)
    assert "ERROR P-4" in ran.stdout and CUT_ID in ran.stdout
    for tid in ("P-1", "P-2"):
        shown = govhall("local", "show", tid, "--config", str(config))
        assert shown.returncode == 0 and "[govhall:" in shown.stdout, shown.stderr
        assert MASKED_PHONE in shown.stdout and MASKED_ID in shown.stdout
        assert not raw_in(shown.stdout + shown.stderr)
        unmasked = govhall("local", "show", tid, "--config", str(config), "--unmasked")
        assert PHONE in unmasked.stdout and RESIDENT_ID in unmasked.stdout, "the data really is there"
        assert raw_in(unmasked.stdout) == list(RAW), "every number, in every spelling, is there"
    shown = govhall("local", "show", "P-2", "--config", str(config)).stdout
    assert all(m in shown for m in ("+86 139 **** 5678", "６１０２０２********１２３ｘ", "610202 ****** 123",
                                    "（029）**** 1234")), shown
    shown = govhall("local", "show", "P-4", "--config", str(config))
    assert "P-4" in shown.stdout and "029-****1234" in shown.stdout and not raw_in(shown.stdout + shown.stderr)
    listed = govhall("local", "list", "--config", str(config))
    assert "P-1" in listed.stdout and not raw_in(listed.stdout)


# ------------------------------------------------------------------------ common spellings (all: tests/test_privacy.py)

@pytest.mark.parametrize("text", ["+8613912345678", "139-1234-5678", "139 1234 5678", "ID61020219800101123X"])
def test_mask_text_covers_common_ways_of_writing_them(text):
    masked = mask_text(f"申请人 {text} 来电")
    assert "1234" not in masked and "19800101" not in masked, masked


def test_mask_text_masks_the_plain_forms():
    assert mask_text(f"电话{PHONE}，身份证{RESIDENT_ID}") == f"电话{MASKED_PHONE}，身份证{MASKED_ID}"
    assert mask_text("+86 13912345678") == "+86 139****5678"
    assert mask_text("2025-03-14T16:00:00+08:00 订单 20250314123456789012") == \
        "2025-03-14T16:00:00+08:00 订单 20250314123456789012", "timestamps and long numbers are left alone"
