"""The Freshdesk adapter: conformance, mapping of documented payloads, paging, pacing, retries, secrets."""
from datetime import datetime

import pytest
from fakes_freshdesk import API_KEY, BASE, FreshdeskDriver, FreshdeskFake
from govhall_adapters.freshdesk import FreshdeskAdapter
from govhall_sdk.rest import SyncCursor
from govhall_sdk.config import ConfigError
from govhall_sdk.model import Note, Patch
from govhall_sdk.patch import markers_in
from govhall_sdk.testing import AdapterConformance, build_sync, conformance_tickets

NOW = datetime.fromisoformat("2025-03-03T09:00:00+08:00")
OVERDUE, ESCALATED = "[govhall:tl.overdue:completion]", "[govhall:escalation:1]"


def markers(notes):
    """The govhall markers of a ticket's private notes, in order."""
    return [m for text in notes for m in markers_in(text)]


@pytest.fixture
def fake(govhall_http):
    helpdesk = FreshdeskFake()
    helpdesk.install(govhall_http)
    return helpdesk


@pytest.fixture
def helpdesk_driver(fake):
    return FreshdeskDriver(fake)


@pytest.fixture
def config(govhall_config):
    return govhall_config()


def run(driver, config, pm, page_size=10, **extra):
    adapter = driver.make_adapter(config, **extra)
    return build_sync(config, adapter, pm, page_size).run(NOW), adapter


class TestFreshdeskConformance(AdapterConformance):
    """Paging to the end (a tie of 25 tickets at one instant, pages of 10), cursor, round trip, rerun."""


# ------------------------------------------------------------------ mapping

DOC_TICKET = {  # the shape of "View a Ticket" with include=requester,stats in the API v2 docs
    "cc_emails": ["test2@example.com"], "fwd_emails": [], "reply_cc_emails": ["test2@example.com"],
    "email_config_id": None, "fr_escalated": False, "group_id": 7, "priority": 1, "requester_id": 6012691534,
    "responder_id": 6010396333, "source": 3, "spam": False, "status": 4, "subject": "营业执照变更登记",
    "type": "申请", "company_id": None, "id": 1, "to_emails": None, "product_id": None,
    "created_at": "2025-01-06T01:36:04Z", "updated_at": "2025-01-20T03:42:50Z", "due_by": "2025-01-27T09:36:04Z",
    "fr_due_by": "2025-01-07T01:36:04Z", "is_escalated": False,
    "description_text": "办理营业执照变更", "description": "<div>办理营业执照变更</div>",
    "custom_fields": {"cf_promised_days": 5, "cf_birth_date": "1950-03-01", "cf_special_groups": "老年人;残疾人",
                      "cf_materials": "身份证，营业执照正副本、变更申请书", "cf_govhall_light": "green"},
    "tags": ["窗口A", "govhall_sla_green"], "attachments": [],
    "stats": {"agent_responded_at": "2025-01-06T02:00:00Z", "requester_responded_at": None,
              "first_responded_at": "2025-01-06T02:00:00Z", "status_updated_at": "2025-01-20T03:42:50Z",
              "reopened_at": None, "resolved_at": "2025-01-20T03:42:50Z", "closed_at": None, "pending_since": None},
    "requester": {"id": 6012691534, "name": "李四", "email": "lisi@example.com", "mobile": "13900000000", "phone": None},
}
DOC_CONVERSATIONS = [  # the shape of "List All Conversations of a Ticket"
    {"body": "<div>[受理] 通知书: 是</div>", "body_text": "[受理] 通知书: 是", "id": 11, "incoming": False,
     "private": True, "user_id": 6010396333, "support_email": None, "source": 2, "ticket_id": 1, "to_emails": [],
     "from_email": None, "cc_emails": None, "bcc_emails": None, "created_at": "2025-01-06T02:00:00Z",
     "updated_at": "2025-01-06T02:00:00Z", "attachments": []},
    {"body": "<div>您好，已受理。</div>", "body_text": "您好，已受理。", "id": 12, "incoming": False,
     "private": False, "user_id": 6010396333, "support_email": "help@center.example", "source": 0, "ticket_id": 1,
     "to_emails": ["lisi@example.com"], "from_email": "政务中心 <help@center.example>", "cc_emails": None,
     "bcc_emails": None, "created_at": "2025-01-06T02:01:00Z", "updated_at": "2025-01-06T02:01:00Z",
     "attachments": []},
    {"body": "<div>谢谢</div>", "body_text": "谢谢", "id": 13, "incoming": True, "private": False,
     "user_id": 6012691534, "support_email": None, "source": 0, "ticket_id": 1, "to_emails": [], "from_email": None,
     "cc_emails": None, "bcc_emails": None, "created_at": "2025-01-06T03:00:00Z",
     "updated_at": "2025-01-06T03:00:00Z", "attachments": []},
]
MAPPING = {"departments": {"7": "市场监管窗口"},
           "agents": {"6010396333": {"name": "王芳", "rank": 2, "department": "市场监管窗口"}},
           "fields": {"promised_working_days": "cf_promised_days", "applicant_birth_date": "cf_birth_date",
                      "applicant_groups": "cf_special_groups", "materials": "cf_materials"}}


def test_documented_ticket_maps_to_the_interchange_format(fake, helpdesk_driver, config):
    fake.add_ticket(DOC_TICKET, DOC_CONVERSATIONS)
    adapter = helpdesk_driver.make_adapter(config, **MAPPING)
    (item,) = adapter.fetch(["1"])
    t = item.ticket
    assert item.error is None and t.id == "1"
    assert (t.kind, t.channel, t.status, t.subject) == ("application", "phone", "resolved", "营业执照变更登记")
    assert t.department == "市场监管窗口"
    assert t.created_at == datetime.fromisoformat("2025-01-06T01:36:04+00:00")
    assert t.resolved_at == datetime.fromisoformat("2025-01-20T03:42:50+00:00")
    assert t.due_at is None, "an SLA due_by is not a statutory deadline for an application"
    assert t.promised_working_days == 5
    assert t.applicant.name == "李四" and t.applicant.phone == "13900000000"
    assert t.applicant.birth_date.isoformat() == "1950-03-01"
    assert t.applicant.groups == ("disabled", "elderly")
    assert t.required_materials == ("身份证", "营业执照正副本", "变更申请书")
    assert t.tags == ("窗口A", "govhall_sla_green") and t.fields["govhall_light"] == "green"
    note, acceptance, reply, thanks = t.events
    assert (note.type, note.public, note.body) == ("reply", False, "[受理] 通知书: 是")
    assert acceptance.type == "acceptance" and acceptance.notice_issued is True
    assert acceptance.actor.name == "王芳" and acceptance.actor.rank == 2 and acceptance.actor.department == "市场监管窗口"
    assert reply.public and reply.actor.role == "staff"
    assert thanks.actor.role == "applicant" and thanks.actor.id == "6012691534"


def test_due_by_is_the_deadline_of_a_supervision_and_types_map_from_config(fake, helpdesk_driver, config):
    fake.add_ticket({**DOC_TICKET, "id": 2, "type": "Incident", "status": 2})
    adapter = helpdesk_driver.make_adapter(config, kinds={"Incident": "supervision"})
    (item,) = adapter.fetch(["2"])
    assert item.ticket.kind == "supervision" and item.ticket.status == "open"
    assert item.ticket.due_at == datetime.fromisoformat("2025-01-27T09:36:04+00:00")


@pytest.mark.parametrize("text, expected", [
    ("[补正告知] 缺件: 身份证、户口本; 方式: 书面", {"type": "notice", "missing": ("身份证", "户口本"), "form": "written"}),
    ("[不予受理] 原因: 不属于本机关职权范围；依据: 《行政许可法》第三十二条；通知书: 是",
     {"type": "rejection", "stage": "before_acceptance", "reason": "不属于本机关职权范围",
      "legal_basis": "《行政许可法》第三十二条", "notice_issued": True}),
    ("[延期] 工作日: 10 天\n批准人: 6010396333", {"type": "extension", "working_days": 10}),
    ("[转办] 部门: 税务窗口", {"type": "assignment", "to_department": "税务窗口"}),
    ("[评价] 评分: 5", {"type": "evaluation", "rating": 5}),
    ("[代办] 代办员: 6010396333", {"type": "proxy_request", "mode": "proxy"}),
])
def test_note_prefixes_record_events(fake, helpdesk_driver, config, text, expected):
    fake.add_ticket({**DOC_TICKET, "id": 3}, [{**DOC_CONVERSATIONS[0], "body": f"<div>{text}</div>", "body_text": text}])
    (item,) = helpdesk_driver.make_adapter(config, **MAPPING).fetch(["3"])
    assert item.error is None, item.error
    (event,) = [e for e in item.ticket.events if e.type == expected["type"]]
    for key, value in expected.items():
        assert getattr(event, key) == value
    if event.type in ("extension", "proxy_request"):
        who = event.approved_by if event.type == "extension" else event.agent
        assert who.name == "王芳"


def test_a_ticket_that_breaks_the_format_is_an_error_with_its_path(fake, helpdesk_driver, config):
    fake.add_ticket({**DOC_TICKET, "id": 4, "custom_fields": {"cf_promised_days": "五天"}})
    (item,) = helpdesk_driver.make_adapter(config, **MAPPING).fetch(["4"])
    assert item.ticket is None and item.id == "4"
    assert "promised_working_days: expected an integer" in str(item.error)
    (missing,) = helpdesk_driver.make_adapter(config).fetch(["404"])
    assert missing.ticket is None and "no such ticket" in str(missing.error)


def test_settings_are_checked_with_their_key_path(config):
    base = {"url": BASE, "api_key": API_KEY}
    for extra, message in [({"kinds": {"Question": "question"}}, "adapter.kinds.Question"),
                           ({"channels": {"3": "fax"}}, "adapter.channels.3"),
                           ({"fields": {"applicant": "x"}}, "adapter.fields.applicant"),
                           ({"agents": {"1": {"rank": "high"}}}, "adapter.agents.1.rank"),
                           ({"note_prefixes": {"[X]": "teleport"}}, "adapter.note_prefixes.[X]"),
                           ({"per_page": 500}, "adapter.per_page"),
                           ({"api_key": None, "url": BASE}, "adapter.api_key")]:
        settings = {**base, **extra}
        if settings["api_key"] is None:
            del settings["api_key"]
        with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
            FreshdeskAdapter(settings, config)


# ------------------------------------------------------------------ paging and the cursor

def test_the_300_page_cap_is_never_reached_because_every_page_re_anchors(fake, helpdesk_driver, config):
    fake.page_cap = 2  # a tiny cap: a page-number walk over 45 tickets would need page 5
    for i in range(45):
        fake.add_ticket({"id": f"T{i:03d}", "type": "咨询", "updated_at": fake.tick(), "created_at": fake.tick()})
    adapter = helpdesk_driver.make_adapter(config)
    pages = list(adapter.pull(None, 10))
    ids = [i.id for p in pages for i in p.items]
    assert sorted(ids) == [f"T{i:03d}" for i in range(45)] and len(ids) == len(set(ids))
    asked = fake.requests_to("GET", "/api/v2/tickets")
    assert max(int(q["page"][0]) for q in asked) == 1
    assert all(q["order_by"] == ["updated_at"] and q["order_type"] == ["asc"] and q["per_page"] == ["10"] for q in asked)
    since = [q["updated_since"][0] for q in asked]
    assert since == sorted(since) and since[0] == "1999-12-31T23:59:59Z"


def test_more_ties_than_a_page_are_paged_through_at_one_anchor(fake, helpdesk_driver, config):
    helpdesk_driver.seed(conformance_tickets(25))  # 25 tickets share one updated_at
    adapter = helpdesk_driver.make_adapter(config)
    ids = [i.id for p in adapter.pull(None, 10) for i in p.items]
    assert sorted(ids) == sorted(t["id"] for t in conformance_tickets(25)) and len(ids) == 25
    cursor = SyncCursor.parse(list(adapter.pull(None, 10))[-1].cursor, NOW, NOW.tzinfo)
    assert len(cursor.seen) == 25, "the boundary instant's ids travel with the cursor"


def test_writes_between_pages_skip_no_ticket(fake, helpdesk_driver, config, govhall_pm):
    for raw in conformance_tickets(35):
        fake.seed_interchange(raw)
        fake.tick()  # distinct instants: govhall's writes move each written ticket to the end
    summary, adapter = run(helpdesk_driver, config, govhall_pm)
    assert summary.ok and summary.written == 35 and summary.pulled == 35
    assert summary.skipped == 35, "govhall's own echo is recognised, not evaluated again"
    assert all("govhall_tl_overdue" in helpdesk_driver.read(f"C-{i:04d}")["tags"] for i in range(35))


def test_a_plain_instant_is_a_cursor(fake, helpdesk_driver, config):
    fake.add_ticket({"id": "old", "type": "咨询", "updated_at": "2025-01-01T00:00:00Z"})
    fake.add_ticket({"id": "new", "type": "咨询", "updated_at": "2025-02-01T00:00:00Z"})
    adapter = helpdesk_driver.make_adapter(config)
    assert [i.id for p in adapter.pull("2025-01-15", 10) for i in p.items] == ["new"]
    with pytest.raises(ValueError, match="neither an instant"):
        list(adapter.pull("yesterday", 10))


# ------------------------------------------------------------------ writing, limits, secrets

def test_patch_writes_full_tag_list_custom_fields_and_a_private_note(fake, helpdesk_driver, config):
    fake.add_ticket({**DOC_TICKET, "id": 5, "custom_fields": {}})
    adapter = helpdesk_driver.make_adapter(config)
    (item,) = adapter.fetch(["5"])
    patch = Patch(["govhall_sla_red"], ["govhall_sla_green"], {"govhall_light": "red"},
                  [Note("tl.overdue", "[govhall:tl.overdue:completion]", "超时 <办结> [govhall:tl.overdue:completion]")])
    assert adapter.apply([(item.ticket, patch)])[0].ok
    (put,) = [q for m, p, q in fake.log if m == "PUT"]
    assert fake.tickets["5"]["tags"] == ["窗口A", "govhall_sla_red"]
    assert fake.tickets["5"]["custom_fields"]["cf_govhall_light"] == "red"
    (note,) = fake.conversations["5"]
    assert note["private"] and note["body_text"] == "超时 <办结> [govhall:tl.overdue:completion]"
    (again,) = adapter.fetch(["5"])
    (own,) = [e for e in again.ticket.events if e.type == "reply"]
    assert own.actor.role == "system" and "[govhall:tl.overdue:completion]" in own.body


def test_a_429_storm_is_waited_out_and_loses_no_write(fake, helpdesk_driver, config, govhall_pm):
    helpdesk_driver.seed(conformance_tickets(12))
    fake.fail("GET", "/api/v2/tickets", times=3, headers={"Retry-After": "7"})
    fake.fail("PUT", "/api/v2/tickets/C-0003", times=4, headers={"Retry-After": "11"})
    fake.fail("GET", "/api/v2/tickets/C-0005/conversations", times=2, headers={"Retry-After": "2"})
    summary, _ = run(helpdesk_driver, config, govhall_pm)
    assert summary.ok and summary.written == 12
    assert helpdesk_driver.sleeps.count(7.0) == 3 and helpdesk_driver.sleeps.count(11.0) == 4
    assert helpdesk_driver.sleeps.count(2.0) == 2
    for i in range(12):
        seen = helpdesk_driver.read(f"C-{i:04d}")
        # the violation and the escalation, in one note
        assert "govhall_tl_overdue" in seen["tags"] and markers(seen["notes"]) == [OVERDUE, ESCALATED]


def test_a_failed_note_post_is_not_retried_blindly_and_the_rerun_writes_it_once(fake, helpdesk_driver, config,
                                                                               govhall_pm):
    helpdesk_driver.seed(conformance_tickets(2))
    fake.fail("POST", "/api/v2/tickets/C-0001/notes", status=502, times=1, body={"code": "bad_gateway"})
    first, _ = run(helpdesk_driver, config, govhall_pm)
    assert list(first.failed) == ["C-0001"] and "HTTP 502" in first.failed["C-0001"]
    assert len(fake.requests_to("POST", "/api/v2/tickets/C-0001/notes")) == 1
    second, _ = run(helpdesk_driver, config, govhall_pm)
    assert second.ok and second.written == 1
    third, _ = run(helpdesk_driver, config, govhall_pm)
    assert third.ok and third.written == 0
    for tid in ("C-0000", "C-0001"):
        assert markers(helpdesk_driver.read(tid)["notes"]) == [OVERDUE, ESCALATED]


def test_a_note_post_answered_429_is_retried_after_retry_after(fake, helpdesk_driver, config):
    fake.add_ticket({**DOC_TICKET, "id": 6})
    adapter = helpdesk_driver.make_adapter(config)
    (item,) = adapter.fetch(["6"])
    fake.fail("POST", "/api/v2/tickets/6/notes", times=2, headers={"Retry-After": "3"})
    outcome = adapter.apply([(item.ticket, Patch(notes=[Note("x", "[govhall:x]", "x [govhall:x]")]))])[0]
    assert outcome.ok and helpdesk_driver.sleeps == [3.0, 3.0] and len(fake.conversations["6"]) == 1


def test_pacing_sleeps_before_the_next_request_when_few_credits_are_left(fake, helpdesk_driver, config):
    fake.add_ticket({**DOC_TICKET, "id": 7})
    fake.rate_left = 17  # each answer says what is left after the credits it cost
    adapter = helpdesk_driver.make_adapter(config)
    list(adapter.fetch(["7"]))  # the view with include=requester,stats costs 3 credits, the conversations 1
    assert (fake.rate_left, helpdesk_driver.sleeps) == (13, [])
    list(adapter.fetch(["7"]))  # 10 left, then 9: below pace_below (10), it waits for one credit of 700 a minute
    assert fake.rate_left == 9 and helpdesk_driver.sleeps == [60 / 700]
    assert adapter.credits_used == fake.credits_used == 8


def test_the_api_key_never_shows_in_errors_or_repr(fake, config):
    secret = "FD-SECRET-KEY-4242"
    fake.api_key = secret
    driver = FreshdeskDriver(fake)
    fake.add_ticket({**DOC_TICKET, "id": 8})
    fake.fail("GET", "/api/v2/tickets/8", status=400, times=99,
              body={"message": f"bad request from {secret}", "auth": "Basic RkQtU0VDUkVULUtFWS00MjQyOlg="})
    adapter = driver.make_adapter(config)
    (item,) = adapter.fetch(["8"])
    message = str(item.error)
    assert "HTTP 400" in message and secret not in message and "RkQtU0VDUkVULUtFWS00MjQyOlg=" not in message
    assert secret not in repr(adapter) and "***" in repr(adapter)
    fake.api_key = "another-key"
    (denied,) = adapter.fetch(["1"])
    assert "HTTP 401" in str(denied.error) and secret not in str(denied.error)


def test_a_custom_field_not_created_on_freshdesk_is_a_reported_write_failure(fake, helpdesk_driver, config):
    fake.custom_fields = ()
    fake.add_ticket({**DOC_TICKET, "id": 9, "custom_fields": {}})
    adapter = helpdesk_driver.make_adapter(config)
    (item,) = adapter.fetch(["9"])
    (outcome,) = adapter.apply([(item.ticket, Patch(fields={"govhall_light": "red"}))])
    assert not outcome.ok and "HTTP 400" in outcome.error and "cf_govhall_light" in outcome.error


def test_conversations_are_read_past_the_first_page_by_the_link_header(fake, helpdesk_driver, config):
    fake.add_ticket({**DOC_TICKET, "id": 10}, [{"body": f"<div>第{i}条</div>", "created_at": f"2025-01-06T02:{i // 60:02d}:{i % 60:02d}Z"}
                                                for i in range(130)])
    (item,) = helpdesk_driver.make_adapter(config).fetch(["10"])
    assert len(item.ticket.events) == 130 and item.ticket.events[-1].body == "第129条"
    assert [q.get("page") for q in fake.requests_to("GET", "/api/v2/tickets/10/conversations")] == [None, ["2"]]


def test_the_example_config_builds_the_adapter(govhall_pm):
    from pathlib import Path

    from govhall_sdk.config import load_config
    from govhall_sdk.sync import make_adapter

    config = load_config(Path(__file__).parent.parent / "examples" / "freshdesk.toml", govhall_pm)
    adapter = make_adapter(config, govhall_pm)
    assert isinstance(adapter, FreshdeskAdapter) and adapter.mapping.department(1000123457) == "不动产登记窗口"
    assert adapter.mapping.kind("Incident") == "complaint" and adapter.mapping.kind("信访") == "complaint"
    assert "PUT-THE-API-KEY-HERE" not in repr(adapter)


# ------------------------------------------------------------------ assignee and who wrote a note

def _conv(cid, text, *, user=6010396333, private=False, incoming=False):
    return {**DOC_CONVERSATIONS[1], "id": cid, "body": f"<div>{text}</div>", "body_text": text, "user_id": user,
            "private": private, "incoming": incoming, "created_at": f"2025-01-06T0{cid % 10}:00:00Z"}


def test_responder_id_is_the_assignee_with_the_agents_table(fake, helpdesk_driver, config):
    fake.add_ticket({**DOC_TICKET, "id": 4})  # responder_id 6010396333, in [adapter.agents]
    fake.add_ticket({**DOC_TICKET, "id": 5, "responder_id": 6010000001})
    fake.add_ticket({**DOC_TICKET, "id": 6, "responder_id": None})
    items = {i.id: i.ticket for i in helpdesk_driver.make_adapter(config, **MAPPING).fetch(["4", "5", "6"])}
    a = items["4"].assignee
    assert (a.id, a.name, a.rank, a.department, a.role) == ("6010396333", "王芳", 2, "市场监管窗口", "staff")
    b = items["5"].assignee
    assert (b.id, b.name, b.rank, b.department, b.role) == ("6010000001", None, 0, None, "staff")
    assert items["6"].assignee is None


def test_a_prefix_counts_only_in_an_agents_note(fake, helpdesk_driver, config):
    fake.add_ticket({**DOC_TICKET, "id": 7, "status": 2}, [
        _conv(1, "[办结] 我的事办完了吗？", user=6012691534, incoming=True),           # the requester
        _conv(2, "[延期] 工作日: 30; 批准人: 6010396333", user=6012691534, incoming=True),
        _conv(3, "[受理] 通知书: 是", user=6010000001),                                # an agent
    ])
    (item,) = helpdesk_driver.make_adapter(config, **MAPPING).fetch(["7"])
    t = item.ticket
    assert [e.type for e in t.events] == ["reply", "reply", "reply", "acceptance"]
    assert {"completion", "extension"}.isdisjoint(t.event_types)
    assert [e.actor.role for e in t.events[:2]] == ["applicant", "applicant"]


def test_an_agents_completion_note_is_the_event(fake, helpdesk_driver, config):
    fake.add_ticket({**DOC_TICKET, "id": 8, "status": 2}, [_conv(1, "[办结] 已办结，结果已告知。", private=True)])
    (item,) = helpdesk_driver.make_adapter(config, **MAPPING).fetch(["8"])
    reply, done = item.ticket.events
    assert done.type == "completion" and done.actor.name == "王芳" and done.extra["body"] == "已办结，结果已告知。"


def test_a_pasted_marker_in_a_public_message_is_the_requesters_reply(fake, helpdesk_driver, config, govhall_pm):
    marker = "[govhall:tl.overdue:completion]"
    fake.add_ticket({**DOC_TICKET, "id": 9, "status": 2, "type": "投诉", "stats": {**DOC_TICKET["stats"], "resolved_at": None}},
                    [_conv(1, f"我看到 {marker} 这是什么？", user=6012691534, incoming=True),
                     _conv(2, f"内部：{marker}", private=True)])
    (item,) = helpdesk_driver.make_adapter(config, **MAPPING).fetch(["9"])
    pasted, own = item.ticket.events
    assert (pasted.public, pasted.actor.role, pasted.actor.id) == (True, "applicant", "6012691534")
    assert (own.public, own.actor.role) == (False, "system")  # an agent's private note with a marker: govhall's


def test_an_unreadable_note_value_is_a_warning_naming_the_conversation(fake, helpdesk_driver, config):
    fake.add_ticket({**DOC_TICKET, "id": 10}, [_conv(41, "[延期] 工作日: 三天; 批准人: 6010396333"),
                                               _conv(42, "[代办] 申请人行动不便，由窗口工作人员全程代办。")])
    (item,) = helpdesk_driver.make_adapter(config, **MAPPING).fetch(["10"])
    assert item.error is None and item.ticket.promised_working_days == 5
    first = fake.conversations["10"][0]["id"]
    assert item.warnings == (f"conversation {first}: [延期] 工作日: '三天' is not a positive whole number of working days; "
                             "not counted as extension",)
    proxy = item.ticket.events_of("proxy_request")[0]
    assert proxy.mode == "proxy" and proxy.extra["body"] == "申请人行动不便，由窗口工作人员全程代办。"
    assert "extension" not in item.ticket.event_types


def test_a_configured_prefix_names_its_free_text_field_and_approver(fake, helpdesk_driver, config):
    prefixes = {"[批准延期]": {"type": "extension", "text": "working_days", "approved": True}}
    fake.add_ticket({**DOC_TICKET, "id": 11}, [_conv(1, "[批准延期] 5 个工作日，需现场勘验", private=True)])
    (item,) = helpdesk_driver.make_adapter(config, **MAPPING, note_prefixes=prefixes).fetch(["11"])
    (extension,) = item.ticket.events_of("extension")
    assert extension.working_days == 5 and extension.approved_by.name == "王芳"
    with pytest.raises(ConfigError, match=r"note_prefixes\.\[x\]\.text: 'colour' is not a field of extension"):
        helpdesk_driver.make_adapter(config, note_prefixes={"[x]": {"type": "extension", "text": "colour"}})
