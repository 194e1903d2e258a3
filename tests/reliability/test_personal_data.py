"""Personal data: applicants' mobile numbers (11 digits) and resident ID numbers (18 characters) are masked
(``govhall_sdk.privacy.mask_text``) in everything govhall writes or prints: notes on the helpdesk, the audit
log, the state file, the summary (text and JSON), ``govhall check`` and ``govhall local show``.

The tickets carry them where they really turn up: the requester's mobile, an ID-number field, an
applicant's message and a staff reply (with forbidden phrases) quoting both, a required material named
with the ID number (so the finding and its note quote it), a date field holding a phone number (so the
ticket's error quotes it) and a helpdesk error that echoes the ticket back.
"""
import io
import json
import logging
import subprocess

import pytest

from govhall_sdk.privacy import mask_text
from govhall_sdk.cli.run import print_summary
from govhall_sdk.state import StateStore

from .fake_helpdesk import FakeHelpdesk, Fault
from .harness import GOVHALL, NOW, PHONE, RESIDENT_ID, _conv, cli_env, config_for, run_in_process, toml, write_config

RAW = (PHONE, RESIDENT_ID)
MASKED_PHONE, MASKED_ID = "139****5678", "610202********123X"
FIELDS = {"accepted_at": "cf_accepted_on"}


def raw_in(text):
    if isinstance(text, bytes):
        return [r for r in RAW if r.encode() in text]
    return [r for r in RAW if r in text]


def pii_fake():
    fake = FakeHelpdesk("pii-key")
    requester = {"id": 5001, "name": "张三", "email": "zhangsan@example.com", "mobile": PHONE, "phone": None}
    fake.add_ticket({"id": 201, "type": "投诉", "source": 3, "group_id": 2, "subject": "窗口态度",
                     "created_at": "2025-01-06T01:00:00Z", "requester": requester,
                     "custom_fields": {"cf_id_number": RESIDENT_ID}},
                    [_conv(f"我的电话{PHONE}，身份证{RESIDENT_ID}，请尽快处理。", "2025-01-06T01:30:00Z",
                           user=5001, incoming=True),
                     _conv(f"张三您好，已核对您的电话{PHONE}和身份证号{RESIDENT_ID}。这个我不知道，问别人去。",
                           "2025-01-06T02:00:00Z", user=1002)])
    fake.add_ticket({"id": 202, "type": "申请", "source": 3, "group_id": 3, "subject": "营业执照变更",
                     "created_at": "2025-03-04T01:00:00Z", "requester": requester,
                     "custom_fields": {"cf_id_number": RESIDENT_ID, "cf_materials": f"身份证{RESIDENT_ID}复印件,营业执照"}},
                    [_conv("[补正告知] 缺件: 营业执照; 方式: 口头", "2025-03-04T02:00:00Z", public=False)])
    fake.add_ticket({"id": 203, "type": "申请", "source": 2, "group_id": 1, "subject": "登记",
                     "created_at": "2025-03-10T01:00:00Z", "requester": requester,
                     "custom_fields": {"cf_accepted_on": f"电话{PHONE}"}})
    return fake.start()


def govhall_notes(fake):
    return [c["body_text"] for convs in fake.conversations.values() for c in convs if "[govhall:" in c["body_text"]]


def test_notes_audit_log_state_and_summary_are_masked(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    fake = pii_fake()
    try:
        # twice, a write of ticket 201 is refused with an error body that echoes the ticket's personal data
        fake.faults.append(Fault("503", endpoint="note", ticket="201", times=2, payload={
            "code": "unavailable", "ticket": {"requester": {"mobile": PHONE}, "cf_id_number": RESIDENT_ID}}))
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
        assert "NOT WRITTEN 201: " in outputs[1] and MASKED_PHONE in outputs[1]
        assert f"ERROR 203: accepted_at: not an ISO 8601 instant: '电话{MASKED_PHONE}'" in outputs[1]
        assert list(json.loads(outputs[2])["failed"]) == [] and json.loads(outputs[2])["written"] == 1
        assert not raw_in("\n".join(outputs))

        notes = govhall_notes(fake)
        assert any("禁忌用语" in n for n in notes), "the forbidden phrase was noted"
        (material,) = [n for n in notes if "[govhall:otn.notice_incomplete" in n]
        assert f"身份证{MASKED_ID}复印件" in material, "the note quotes the material, masked"
        assert not raw_in("\n".join(notes))

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
        assert "ERROR 203" in text.getvalue() and not raw_in(text.getvalue())
        assert not raw_in(caplog.text)
    finally:
        fake.stop()


# ------------------------------------------------------------------------ govhall check and govhall local

INTERCHANGE = [
    {"id": "P-1", "kind": "complaint", "channel": "phone", "created_at": "2025-01-06T09:00:00+08:00",
     "department": "综合窗口", "applicant": {"name": "张三", "phone": PHONE, "id": RESIDENT_ID},
     "events": [{"type": "reply", "at": "2025-01-06T09:30:00+08:00", "public": False,
                 "body": f"我的电话{PHONE}，身份证{RESIDENT_ID}", "actor": {"id": "a1", "role": "applicant"}},
                {"type": "reply", "at": "2025-01-06T10:00:00+08:00", "public": True,
                 "body": f"张三您好，已核对电话{PHONE}、身份证{RESIDENT_ID}。不知道，问别人去。",
                 "actor": {"id": "s1", "name": "王芳", "rank": 1, "role": "staff"}}]},
    {"id": "P-2", "kind": "application", "channel": "counter", "created_at": "2025-03-04T09:00:00+08:00",
     "department": "综合窗口", "applicant": {"name": "张三", "phone": PHONE, "id": RESIDENT_ID},
     "materials": {"required": [f"身份证{RESIDENT_ID}复印件", "营业执照"]},
     "events": [{"type": "notice", "at": "2025-03-04T10:00:00+08:00", "form": "oral",
                 "missing": ["营业执照", f"联系人{PHONE}"], "actor": {"id": "s1", "name": "王芳", "rank": 1, "role": "staff"}}]},
]
BAD = {"id": "P-3", "kind": "complaint", "channel": "phone", "created_at": "2025-03-04T09:00:00+08:00",
       "accepted_at": f"电话{PHONE}"}


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
    assert not raw_in(out) and not raw_in(check(tmp_path, INTERCHANGE, "table"))


@pytest.mark.parametrize("fmt", ["json", "table"])
def test_check_masks_ticket_errors(tmp_path, fmt):
    out = check(tmp_path, [*INTERCHANGE, BAD], fmt)
    assert "P-3" in out and "accepted_at" in out
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
    config = local_config(tmp_path, [*INTERCHANGE, BAD])
    ran = govhall("run", "--config", str(config), "--now", NOW.isoformat())
    assert ran.returncode == 1 and "ERROR P-3" in ran.stdout and not raw_in(ran.stdout + ran.stderr)
    for tid in ("P-1", "P-2"):
        shown = govhall("local", "show", tid, "--config", str(config))
        assert shown.returncode == 0 and "[govhall:" in shown.stdout, shown.stderr
        assert MASKED_PHONE in shown.stdout and MASKED_ID in shown.stdout
        assert not raw_in(shown.stdout + shown.stderr)
        unmasked = govhall("local", "show", tid, "--config", str(config), "--unmasked")
        assert PHONE in unmasked.stdout and RESIDENT_ID in unmasked.stdout, "the data really is there"
    listed = govhall("local", "list", "--config", str(config))
    assert "P-1" in listed.stdout and not raw_in(listed.stdout)


# ------------------------------------------------------------------------ formats mask_text misses

@pytest.mark.parametrize("text", ["+8613912345678", "139-1234-5678", "139 1234 5678", "ID61020219800101123X"])
def test_mask_text_covers_common_ways_of_writing_them(text):
    masked = mask_text(f"申请人 {text} 来电")
    assert "1234" not in masked and "19800101" not in masked, masked


def test_mask_text_masks_the_plain_forms():
    assert mask_text(f"电话{PHONE}，身份证{RESIDENT_ID}") == f"电话{MASKED_PHONE}，身份证{MASKED_ID}"
    assert mask_text("+86 13912345678") == "+86 139****5678"
    assert mask_text("2025-03-14T16:00:00+08:00 订单 20250314123456789012") == \
        "2025-03-14T16:00:00+08:00 订单 20250314123456789012", "timestamps and long numbers are left alone"
