"""The Zendesk adapter against a stateful fake Zendesk (``fakes_zendesk``) and the docs' example payloads."""
import base64
import json
import re
from datetime import datetime, timezone

import pytest

from fakes_zendesk import BASE, EMAIL, FIELD_IDS, GROUPS, TOKEN, ZendeskDriver, adapter_settings
from govhall_adapters.zendesk import ZendeskAdapter
from govhall_sdk.config import ConfigError
from govhall_sdk.model import Note, Patch
from govhall_sdk.rest import HTTPError
from govhall_sdk.testing import AdapterConformance, build_sync, conformance_tickets

NOW = datetime.fromisoformat("2025-03-03T09:00:00+08:00")
EXPORT, COMMENTS = r"/api/v2/incremental/tickets/cursor\.json", r"/api/v2/tickets/(\d+)/comments\.json"


@pytest.fixture
def helpdesk_driver(govhall_http):
    return ZendeskDriver(govhall_http)


@pytest.fixture
def config(govhall_config):
    return govhall_config()


@pytest.fixture
def zendesk(fake_helpdesk):
    """A Zendesk answering only what a test mocks (with the docs' payloads); an unused mock fails the test."""
    return fake_helpdesk(BASE, auth="Basic " + base64.b64encode(f"{EMAIL}/token:{TOKEN}".encode()).decode())


def sync(driver, config, pm, page_size=100):
    return build_sync(config, driver.make_adapter(config), pm, page_size)


class TestZendeskConformance(AdapterConformance):
    """Paging, cursor, round trip and rerun on the Zendesk adapter."""


# ---------------------------------------------------------------- the docs' own example payloads

DOC_EXPORT = {  # "Incremental Ticket Export, Cursor Based" response example (developer.zendesk.com)
    "after_cursor": "MTU3NjYxMzUzOS4wfHw0Njd8",
    "after_url": "https://{subdomain}.zendesk.com/api/v2/incremental/tickets/cursor.json?cursor=MTU3NjYxMzUzOS4wfHw0Njd8",
    "before_cursor": None, "before_url": None, "end_of_stream": True,
    "tickets": [{
        "assignee_id": 235323, "collaborator_ids": [35334, 234], "created_at": "2009-07-20T22:55:29Z",
        "custom_fields": [{"id": 27642, "value": "745"}, {"id": 27648, "value": "yes"}],
        "description": "The fire is very colorful.", "due_at": None, "external_id": "ahg35h3jh",
        "follower_ids": [35334, 234], "generated_timestamp": 1304553600, "group_id": 98738, "has_incidents": False,
        "id": 35436, "organization_id": 509974, "priority": "high", "problem_id": 9873764,
        "raw_subject": "{{dc.printer_on_fire}}", "recipient": "support@company.com", "requester_id": 20978392,
        "satisfaction_rating": {"comment": "Great support!", "id": 1234, "score": "good"},
        "sharing_agreement_ids": [84432], "status": "open", "subject": "Help, my printer is on fire!",
        "submitter_id": 76872, "tags": ["enterprise", "other_tag"], "type": "incident",
        "updated_at": "2011-05-05T10:38:52Z", "url": "https://company.zendesk.com/api/v2/tickets/35436.json",
        "via": {"channel": "web"},
    }],
}
DOC_COMMENTS = {  # "List Comments" response example, with the users sideload
    "comments": [{
        "attachments": [], "author_id": 123123, "body": "Thanks for your help!", "created_at": "2009-07-20T22:55:29Z",
        "id": 1274, "metadata": {"system": {"client": "Zendesk", "ip_address": "1.1.1.1"},
                                 "via": {"channel": "web", "source": {"from": {}, "rel": "web_widget", "to": {}}}},
        "public": True, "type": "Comment",
    }, {
        "attachments": [], "author_id": 20978392, "body": "Still burning.", "created_at": "2009-07-21T08:00:00Z",
        "id": 1275, "public": True, "type": "Comment",
    }],
    "users": [{"id": 123123, "name": "Johnny Agent", "role": "agent"},
              {"id": 20978392, "name": "Requester", "role": "end-user"}],
    "meta": {"has_more": False, "after_cursor": None, "before_cursor": None},
    "links": {"next": None, "prev": None},
}


def test_maps_the_docs_example_ticket(zendesk, config):
    zendesk.route("GET", EXPORT, json=DOC_EXPORT)
    zendesk.route("GET", COMMENTS, json=DOC_COMMENTS)
    adapter = ZendeskAdapter({
        "url": BASE, "email": EMAIL, "api_token": TOKEN,
        "custom_fields": {"承诺时限": 27642, "事项类型": 27648},
        "fields": {"promised_working_days": "承诺时限", "kind": "事项类型"},
        "kinds": {"yes": "application"}, "departments": {"98738": "不动产登记"},
        "agents": {"123123": {"rank": 2, "department": "不动产登记"}},
    }, config)
    (page,) = adapter.pull(None)
    assert page.cursor == "MTU3NjYxMzUzOS4wfHw0Njd8"
    (item,) = page.items
    t = item.ticket
    assert item.error is None
    assert (t.id, t.kind, t.channel, t.status, t.subject) == ("35436", "application", "web", "open", "Help, my printer is on fire!")
    assert t.created_at == datetime(2009, 7, 20, 22, 55, 29, tzinfo=timezone.utc)
    assert t.promised_working_days == 745 and t.department == "不动产登记"
    assert t.tags == ("enterprise", "other_tag") and t.fields == {"承诺时限": "745", "事项类型": "yes"}
    assert t.applicant.id == "20978392"
    staff, applicant = t.events
    assert (staff.type, staff.public, staff.body) == ("reply", True, "Thanks for your help!")
    assert (staff.actor.id, staff.actor.role, staff.actor.rank, staff.actor.department) == ("123123", "staff", 2, "不动产登记")
    assert applicant.actor.role == "applicant"
    first = zendesk.received[0]
    assert (first.params["start_time"], first.params["per_page"], first.params["include"]) == (
        "946684800", "100", "users,metric_sets,comment_count")


def test_a_ticket_of_an_undocumented_shape_is_its_own_error_and_the_export_goes_on(zendesk, config):
    odd = {**DOC_EXPORT["tickets"][0], "id": 35437, "via": "web"}  # a string where the docs show a via object
    zendesk.route("GET", EXPORT, json={**DOC_EXPORT, "tickets": [odd, *DOC_EXPORT["tickets"]]})
    zendesk.route("GET", COMMENTS, json=DOC_COMMENTS)
    adapter = ZendeskAdapter({"url": BASE, "email": EMAIL, "api_token": TOKEN}, config)
    (page,) = adapter.pull(None)
    broken, fine = page.items
    assert broken.ticket is None and broken.id == "35437"
    assert broken.error.problems == ["ticket: cannot be mapped: AttributeError: 'str' object has no attribute 'get'"]
    assert fine.error is None and fine.ticket.id == "35436" and page.cursor == DOC_EXPORT["after_cursor"]


def test_comment_prefixes_become_events(helpdesk_driver, config):
    fake = helpdesk_driver.fake
    fake.add_user(8001, "张三", "end-user", phone="13800000000")
    staff = fake.add_user(9001, "王", "agent")
    leader = fake.add_user(9002, "李科长", "agent")
    tid = fake.create_ticket(subject="不动产登记", requester_id=8001, created_at=datetime(2025, 2, 3, 1, 0, tzinfo=timezone.utc),
                             group_id=GROUPS["不动产登记"], via="voice", form_id=5001,
                             fields={FIELD_IDS["特殊群体"]: ["laoren"], FIELD_IDS["受理时间"]: "2025-02-04"})
    fake.add_comment(tid, 8001, "我要办理不动产登记")
    fake.add_comment(tid, staff["id"], "[补正告知] 缺件: 身份证复印件、户口本\n请补齐后再来", public=True)
    fake.add_comment(tid, staff["id"], "[受理] 通知书: 是")
    fake.add_comment(tid, leader["id"], "[延期] 工作日: 3; 批准人: 9002", public=False)
    fake.add_comment(tid, 9999, "【政务服务规则提醒】超时 [govhall:tl.overdue:completion]", public=False)
    (item,) = list(helpdesk_driver.adapter(config).fetch([str(tid)]))
    t = item.ticket
    assert item.error is None, item.error
    assert (t.kind, t.channel, t.department, t.promised_working_days) == ("application", "phone", "不动产登记", 5)
    assert t.required_materials == ("身份证", "申请表")
    assert t.applicant.phone == "13800000000" and t.applicant.groups == ("elderly",)
    assert t.accepted_at.isoformat() == "2025-02-04T00:00:00+08:00"
    types = [e.type for e in t.events]
    assert types.count("reply") == 5 and {"notice", "acceptance", "extension"} <= set(types)
    notice = t.events_of("notice")[0]
    assert notice.missing == ("身份证复印件", "户口本") and notice.form == "written"
    assert t.events_of("acceptance")[0].notice_issued is True
    extension = t.events_of("extension")[0]
    assert extension.working_days == 3 and extension.approved_by.id == "9002" and extension.approved_by.rank == 2
    own = [e for e in t.events if "[govhall:" in getattr(e, "body", "")]
    assert own[0].actor.role == "system" and own[0].public is False


def test_fetch_reports_unknown_and_foreign_ids(helpdesk_driver, config):
    helpdesk_driver.seed(conformance_tickets(2))
    known = helpdesk_driver.ids["C-0001"]
    items = list(helpdesk_driver.adapter(config).fetch([known, "99999999", "GOV-1"]))
    assert items[0].ticket.id == known
    assert [i.error.problems for i in items[1:]] == [["no such ticket on Zendesk"]] * 2
    assert helpdesk_driver.fake.requests("GET", r"show_many") == 1


def test_export_walks_by_cursor_and_comments_by_page(helpdesk_driver, config):
    helpdesk_driver.seed(conformance_tickets(7))
    fake = helpdesk_driver.fake
    tid = int(helpdesk_driver.ids["C-0002"])
    for i in range(130):
        fake.add_comment(tid, 9001, f"第{i}条", bump=False)
    pages = list(helpdesk_driver.adapter(config).pull(None, page_size=3))
    assert [len(p.items) for p in pages] == [3, 3, 1]
    exports = [c for c in fake.calls if c[1].endswith("cursor.json")]
    assert len(exports) == 3
    busy = next(i.ticket for p in pages for i in p.items if i.ticket.id == str(tid))
    assert len(busy.events) == 131
    assert fake.requests("GET", rf"/tickets/{tid}/comments") == 2  # 100 + 31, cursor paged


def test_export_second_page_sends_the_cursor_not_the_start_time(helpdesk_driver, config):
    helpdesk_driver.seed(conformance_tickets(4))
    list(helpdesk_driver.adapter(config).pull(None, page_size=2))
    first, second, *_ = [c.params for c in helpdesk_driver.fake.sent("GET", EXPORT)]
    assert first["start_time"] == "946684800" and "cursor" not in first
    assert "cursor" in second and "start_time" not in second


# ---------------------------------------------------------------- writing back


def patch_for(i):
    return Patch(["govhall_sla_red"], ["govhall_sla_yellow"], {"govhall_light": "red", "govhall_escalation_level": 1},
                 [Note("tl.overdue", f"[govhall:tl.overdue:{i}]", f"超时 [govhall:tl.overdue:{i}]")])


def writes(driver, config, n, tags=()):
    driver.seed([{**t, "tags": list(tags)} for t in conformance_tickets(n)])
    adapter = driver.adapter(config)
    tickets = [i.ticket for p in adapter.pull(None) for i in p.items]
    return adapter, [(t, patch_for(k)) for k, t in enumerate(tickets)]


def batch_puts(fake):
    return [c.body for c in fake.sent("PUT", r"/api/v2/tickets/update_many\.json") if "ids" not in c.params]


def bulk_puts(fake):
    return [(c.params["ids"], c.body) for c in fake.sent("PUT", r"/api/v2/tickets/update_many\.json") if "ids" in c.params]


@pytest.mark.parametrize("n, batches", [(1, 1), (100, 1), (101, 2), (250, 3)])
def test_n_changed_tickets_cost_ceil_n_over_100_update_requests(helpdesk_driver, config, n, batches):
    adapter, pending = writes(helpdesk_driver, config, n, tags=["govhall_sla_yellow"])
    fake = helpdesk_driver.fake
    outcomes = adapter.apply(pending)
    assert all(o.ok for o in outcomes) and len(outcomes) == n
    puts, bulks = batch_puts(fake), bulk_puts(fake)
    assert len(puts) == batches and len(bulks) == batches == fake.requests("PUT", r"update_many") - batches
    assert [len(b["tickets"]) for b in puts] == [min(100, n - 100 * i) for i in range(batches)]
    first = puts[0]["tickets"][0]
    assert first["additional_tags"] == ["govhall_sla_red"] and "remove_tags" not in first  # batch: not documented
    assert {"id": FIELD_IDS["govhall_light"], "value": "red"} in first["custom_fields"]
    assert first["comment"] == {"body": "超时 [govhall:tl.overdue:0]", "public": False}
    ids, body = bulks[0]
    assert body == {"ticket": {"remove_tags": ["govhall_sla_yellow"]}} and ids.split(",")[0] == str(first["id"])
    tid = first["id"]
    assert fake.tickets[tid]["tags"] == ["govhall_sla_red"] and fake.field(tid, FIELD_IDS["govhall_light"]) == "red"


def test_a_tag_the_ticket_does_not_have_costs_no_removal(helpdesk_driver, config):
    adapter, pending = writes(helpdesk_driver, config, 3)
    assert all(o.ok for o in adapter.apply(pending))
    assert bulk_puts(helpdesk_driver.fake) == [] and len(batch_puts(helpdesk_driver.fake)) == 1


def test_a_ticket_the_job_failed_is_sent_once_more(helpdesk_driver, config):
    adapter, pending = writes(helpdesk_driver, config, 5)
    fake = helpdesk_driver.fake
    flaky, broken = int(pending[1][0].id), int(pending[3][0].id)
    fake.fail_once.add(flaky)
    fake.fail_always.add(broken)
    outcomes = {o.ticket_id: o for o in adapter.apply(pending)}
    assert outcomes[str(flaky)].ok
    assert not outcomes[str(broken)].ok
    assert outcomes[str(broken)].error.startswith("TicketUpdateFailed: Ticket could not be updated")
    assert sum(o.ok for o in outcomes.values()) == 4
    puts = batch_puts(fake)
    assert len(puts) == 2 and sorted(t["id"] for t in puts[1]["tickets"]) == sorted([flaky, broken])
    notes = [c for c in fake.comments[flaky] if not c["public"]]
    assert len(notes) == 1  # the retry did not double the note


def test_a_failed_request_with_a_comment_is_not_repeated(helpdesk_driver, config):
    adapter, pending = writes(helpdesk_driver, config, 3)
    helpdesk_driver.fake.fail("PUT", r"update_many", 502, json.dumps({"error": "Bad Gateway"}))
    outcomes = adapter.apply(pending)
    assert not any(o.ok for o in outcomes)
    assert all("HTTP 502" in o.error for o in outcomes)
    assert helpdesk_driver.fake.requests("PUT", r"update_many") == 1


def test_unmapped_fields_and_targets_fail_that_ticket_only(helpdesk_driver, config):
    adapter, pending = writes(helpdesk_driver, config, 3)
    (t0, p0), (t1, p1), rest = pending[0], pending[1], pending[2:]
    p0.fields["govhall_unknown"] = "x"
    p1.assign = "无名氏"
    outcomes = adapter.apply([(t0, p0), (t1, p1), *rest])
    assert "adapter.custom_fields has no id for govhall_unknown" in outcomes[0].error
    assert "adapter.assignees has no entry" in outcomes[1].error
    assert outcomes[2].ok


def test_escalation_assignment_uses_the_mapped_user(helpdesk_driver, config):
    adapter, pending = writes(helpdesk_driver, config, 1)
    ticket, patch = pending[0]
    patch.assign = "王主任"
    assert adapter.apply([(ticket, patch)])[0].ok
    assert helpdesk_driver.fake.tickets[int(ticket.id)]["assignee_id"] == 9002


def test_a_429_storm_loses_no_write(helpdesk_driver, config, govhall_pm):
    helpdesk_driver.seed(conformance_tickets(120))
    fake = helpdesk_driver.fake
    fake.throttle("GET", r"incremental", 2, 30)
    fake.throttle("GET", r"/comments", 3, 5)
    fake.throttle("PUT", r"update_many", 4, 7)
    fake.throttle("GET", r"job_statuses", 2, 3)
    summary = sync(helpdesk_driver, config, govhall_pm).run(NOW)
    assert summary.ok and summary.written == 120 and summary.failed == {}
    assert sorted(w for w in helpdesk_driver.sleeps if w > 1) == [3, 3, 5, 5, 5, 7, 7, 7, 7, 30, 30]
    for seeded, zid in helpdesk_driver.ids.items():
        seen = helpdesk_driver.read(seeded)
        assert "govhall_tl_overdue" in seen["tags"]
        assert len(seen["notes"]) == 1, f"{seeded}: a write was lost or doubled"
    assert fake.requests("PUT", r"update_many") == 2 + 4  # two batches, four refused
    again = sync(helpdesk_driver, config, govhall_pm).run(NOW)
    assert again.ok and again.written == 0


def test_paces_itself_when_few_requests_are_left(helpdesk_driver, config):
    helpdesk_driver.seed(conformance_tickets(3))
    helpdesk_driver.fake.remaining = 4
    list(helpdesk_driver.adapter(config).pull(None))
    assert helpdesk_driver.sleeps.count(1.0) == 4  # the export and three comment pages, each under the threshold


# ---------------------------------------------------------------- secrets and settings


def test_the_token_never_appears_in_errors_or_repr(helpdesk_driver, config):
    adapter, pending = writes(helpdesk_driver, config, 2)
    encoded = base64.b64encode(f"{EMAIL}/token:{TOKEN}".encode()).decode()
    echo = lambda request: json.dumps({"error": "InvalidValue", "description": f"token {TOKEN} / {request.headers['Authorization']}"})
    helpdesk_driver.fake.fail("PUT", r"update_many", 400, echo)
    outcomes = adapter.apply(pending)
    assert not outcomes[0].ok and "HTTP 400" in outcomes[0].error
    helpdesk_driver.fake.fail("GET", r"show_many", 500, echo, times=10)
    with pytest.raises(Exception) as caught:
        list(adapter.fetch([pending[0][0].id]))
    texts = [outcomes[0].error, str(caught.value), repr(adapter)]
    for text in texts:
        assert TOKEN not in text and encoded not in text
    assert "***" in texts[0] and "***" in texts[1] and "'api_token': '***'" in texts[2]


def test_the_token_can_come_from_the_environment(monkeypatch, config):
    monkeypatch.setenv("GOVHALL_ZD", "from-env-123")
    adapter = ZendeskAdapter({"url": BASE, "email": EMAIL, "api_token_env": "GOVHALL_ZD"}, config)
    assert adapter.settings["api_token"] == "from-env-123" and "from-env-123" not in repr(adapter)
    monkeypatch.delenv("GOVHALL_ZD")
    with pytest.raises(ConfigError, match="adapter.api_token_env: the environment variable GOVHALL_ZD is not set"):
        ZendeskAdapter({"url": BASE, "email": EMAIL, "api_token_env": "GOVHALL_ZD"}, config)
    with pytest.raises(ConfigError, match="adapter.api_token: required"):
        ZendeskAdapter({"url": BASE, "email": EMAIL}, config)


@pytest.mark.parametrize("settings, message", [
    ({"fields": {"colour": "x"}}, "adapter.fields.colour: unknown field"),
    ({"kinds": {"x": "chat"}}, "adapter.kinds.x: 'chat' is not one of"),
    ({"statuses": {"hold": "waiting"}}, "adapter.statuses.hold: 'waiting' is not one of"),
    ({"forms": {"1": {"colour": "red"}}}, "adapter.forms.1.colour: unknown key"),
    ({"forms": {"1": {"promised_working_days": "five"}}}, "adapter.forms.1.promised_working_days: expected an integer"),
    ({"note_prefixes": {"[受理]": "party"}}, "adapter.note_prefixes.[受理]: 'party' is not an event type"),
    ({"custom_fields": {"govhall_light": "cf_light"}}, "adapter.custom_fields.govhall_light: expected a Zendesk field id"),
    ({"default_kind": "chat"}, "adapter.default_kind: 'chat' is not one of"),
    ({"batch_size": 101}, "adapter.batch_size: update_many takes 1 to 100 tickets"),
    ({"per_page": 2000}, "adapter.per_page: expected 1 to 1000"),
    ({"colour": 1}, "adapter.colour: unknown key"),
])
def test_settings_errors_name_the_key(config, settings, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        ZendeskAdapter({"url": BASE, "email": EMAIL, "api_token": TOKEN, **settings}, config)


def test_registered_under_its_entry_point(govhall_pm):
    assert govhall_pm.adapters["zendesk"][1] is ZendeskAdapter


def test_a_since_date_starts_an_export_there(helpdesk_driver, config):
    helpdesk_driver.seed(conformance_tickets(1))
    list(helpdesk_driver.adapter(config).pull("2025-01-01"))
    first = helpdesk_driver.fake.sent("GET", EXPORT)[0].params
    assert first["start_time"] == "1735660800" and "cursor" not in first  # 2025-01-01 00:00 in the policy zone


def test_the_example_config_builds_an_adapter(monkeypatch, govhall_pm):
    from pathlib import Path

    from govhall_sdk.config import load_config
    from govhall_sdk.sync import make_adapter

    monkeypatch.setenv("ZENDESK_API_TOKEN", "example-token")
    config = load_config(Path(__file__).parents[1] / "examples" / "zendesk.toml", govhall_pm)
    adapter = make_adapter(config, govhall_pm)
    assert isinstance(adapter, ZendeskAdapter)
    assert adapter.mapping.fields["applicant_groups"] == "特殊群体"
    assert adapter.field_ids[config.escalation_write["field"]]  # the escalation field is mapped
    assert adapter.mapping.kinds["360000000201"] == "application"
    assert adapter.mapping.agents["361000000003"]["rank"] == 3


# ---------------------------------------------------------------- assignee and who wrote a comment

def _ticket(fake, requester=8001):
    if requester not in fake.users:
        fake.add_user(requester, "张三", "end-user")
    return fake.create_ticket(subject="投诉", requester_id=requester, group_id=GROUPS["综合窗口"],
                              created_at=datetime(2025, 2, 3, 1, 0, tzinfo=timezone.utc), fields={FIELD_IDS["事项类型"]: "tousu"})


def test_assignee_id_is_the_assignee_with_the_agents_table(helpdesk_driver, config):
    fake = helpdesk_driver.fake
    fake.add_user(9002, "李科长", "agent")
    mapped, unmapped, nobody = _ticket(fake), _ticket(fake), _ticket(fake)
    fake.tickets[mapped]["assignee_id"] = 9002   # in [adapter.agents]: rank 2, 综合窗口
    fake.tickets[unmapped]["assignee_id"] = 9100
    items = {i.id: i.ticket for i in helpdesk_driver.adapter(config).fetch([str(mapped), str(unmapped), str(nobody)])}
    a = items[str(mapped)].assignee
    assert (a.id, a.rank, a.department, a.role) == ("9002", 2, "综合窗口", "staff")
    b = items[str(unmapped)].assignee
    assert (b.id, b.rank, b.department, b.role) == ("9100", 0, None, "staff")
    assert items[str(nobody)].assignee is None


def test_a_prefix_counts_only_in_an_agents_comment(helpdesk_driver, config):
    fake = helpdesk_driver.fake
    fake.add_user(9001, "王", "agent")
    tid = _ticket(fake)
    fake.add_comment(tid, 8001, "[办结] 问题解决了吗？")                      # the requester, public
    fake.add_comment(tid, 8001, "[延期] 工作日: 30; 批准人: 9002")
    fake.add_comment(tid, 9001, "[受理] 通知书: 是", public=False)             # an agent
    (item,) = list(helpdesk_driver.adapter(config).fetch([str(tid)]))
    t = item.ticket
    assert [e.type for e in t.events] == ["reply", "reply", "reply", "acceptance"]
    assert {"completion", "extension"}.isdisjoint(t.event_types)
    fake.add_comment(tid, 9001, "[办结] 已办结。")
    (item,) = list(helpdesk_driver.adapter(config).fetch([str(tid)]))
    assert item.ticket.events_of("completion")[0].actor.id == "9001"


def test_a_pasted_marker_is_the_requesters_public_reply(helpdesk_driver, config, govhall_pm):
    fake = helpdesk_driver.fake
    fake.add_user(9001, "王", "agent", email="wang@zwfw.example.gov.cn")
    tid = _ticket(fake)
    marker = "[govhall:tl.overdue:completion]"
    fake.add_comment(tid, 8001, f"系统说 {marker}，什么意思？", at=datetime(2025, 2, 3, 2, 0, tzinfo=timezone.utc))
    fake.add_comment(tid, 9001, f"抄一下 {marker}", public=False, at=datetime(2025, 2, 3, 3, 0, tzinfo=timezone.utc))
    (item,) = list(helpdesk_driver.adapter(config).fetch([str(tid)]))
    pasted, copied = item.ticket.events
    assert (pasted.public, pasted.actor.role, pasted.actor.id) == (True, "applicant", "8001")
    assert (copied.public, copied.actor.role, copied.actor.id) == (False, "staff", "9001")  # not govhall's user
    fake.add_comment(tid, fake.bot["id"], f"超时 {marker}", public=False)                  # govhall's own
    (item,) = list(helpdesk_driver.adapter(config).fetch([str(tid)]))
    assert item.ticket.events[-1].actor.role == "system"


def test_an_unreadable_note_value_is_a_warning_naming_the_comment(helpdesk_driver, config):
    fake = helpdesk_driver.fake
    fake.add_user(9001, "王", "agent")
    tid = _ticket(fake)
    fake.add_comment(tid, 9001, "[评价] 评分: 很好", public=False)
    fake.add_comment(tid, 9001, "[答复] 依据、条件、材料、程序、时限。您好，请带身份证。")
    (item,) = list(helpdesk_driver.adapter(config).fetch([str(tid)]))
    cid = fake.comments[tid][0]["id"]
    assert item.warnings == (f"comment {cid}: [评价] 评分: '很好' is not a whole number from 1 to 5; "
                             "not counted as evaluation",)
    (answer,) = item.ticket.events_of("notice")
    assert answer.elements == ("basis", "conditions", "materials", "procedure", "time_limit")
    assert answer.extra["body"] == "您好，请带身份证。"


# ---------------------------------------------------------------- safe updates and repeats of the export

def test_update_many_is_a_safe_update_of_the_version_read(helpdesk_driver, config):
    adapter, pending = writes(helpdesk_driver, config, 2)
    read = {int(t.id): t.extra["updated_at"] for t, _ in pending}
    assert all(o.ok for o in adapter.apply(pending))
    (put,) = [body for method, _, body in helpdesk_driver.fake.calls if method == "PUT"]
    assert [(t["id"], t["safe_update"], t["updated_stamp"]) for t in put["tickets"]] == [
        (tid, True, stamp) for tid, stamp in read.items()]


def zendesk_sync(driver, config, pm, **overrides):
    """A sync of the adapter itself (Zendesk's ids, not the seeded ones), so that what the sync sets on it
    (its memory in the state store) and what it answers (a conflict) reach each other unwrapped."""
    return build_sync(config, driver.adapter(config, **overrides), pm)


def notes_of(driver):
    """How many internal notes each seeded ticket has on the fake."""
    return {seeded: len(driver.read(seeded)["notes"]) for seeded in driver.ids}


def test_a_conflict_is_read_again_and_written_once_on_the_newer_version_in_the_same_run(
        helpdesk_driver, config, govhall_pm):
    helpdesk_driver.seed(conformance_tickets(3))
    fake = helpdesk_driver.fake
    changed = int(helpdesk_driver.ids["C-0001"])
    fake.before_jobs.append(lambda: fake.add_comment(changed, 9001, "已电话联系申请人"))  # between read and write
    first = zendesk_sync(helpdesk_driver, config, govhall_pm).run(NOW)
    assert first.ok and first.written == 3 and first.evaluated == 4  # C-0001 again, on its newer version
    stale, fresh = [t for body in batch_puts(fake) for t in body["tickets"] if t["id"] == changed]
    assert fresh["updated_stamp"] != stale["updated_stamp"], "the stale item was not sent again"
    assert notes_of(helpdesk_driver) == {"C-0000": 1, "C-0001": 1, "C-0002": 1}
    assert [c["body"] for c in fake.comments[changed]].index("已电话联系申请人") < len(fake.comments[changed]) - 1


def test_a_conflict_is_evaluated_again_when_the_export_brings_the_newer_version_in_the_same_run(
        helpdesk_driver, config, govhall_pm):
    helpdesk_driver.seed(conformance_tickets(4))
    fake = helpdesk_driver.fake
    changed = int(helpdesk_driver.ids["C-0000"])
    fake.before_jobs.append(lambda: fake.add_comment(changed, 9001, "补充材料已收到"))
    summary = sync(helpdesk_driver, config, govhall_pm, page_size=2).run(NOW)
    assert summary.ok and summary.written == 4 and summary.evaluated == 5  # C-0000 twice: stale, then newer
    assert all(len(helpdesk_driver.read(t)["notes"]) == 1 for t in helpdesk_driver.ids)
    stamps = [t["updated_stamp"] for _, _, body in fake.calls if body and "tickets" in body
              for t in body["tickets"] if t["id"] == changed]
    assert len(stamps) == 2 and stamps[0] != stamps[1]


def test_an_export_that_repeats_a_ticket_yields_it_once(zendesk, config):
    ticket = DOC_EXPORT["tickets"][0]
    first = {**DOC_EXPORT, "after_cursor": "MTU3NjYxMzUzOS4wfHw0Njd8", "end_of_stream": False}
    again = {**DOC_EXPORT, "after_cursor": "MTU3NjYxMzU0MC4wfHw0Njh8", "end_of_stream": True}
    newer = {**again, "tickets": [{**ticket, "updated_at": "2011-05-05T11:00:00Z", "generated_timestamp": 1304593200}]}
    pages_served = iter([first, again, newer])  # page 2 repeats the same version of the ticket; then a newer one
    zendesk.route("GET", EXPORT, lambda call: (200, next(pages_served)))
    comments = zendesk.route("GET", COMMENTS, json=DOC_COMMENTS)
    adapter = ZendeskAdapter({"url": BASE, "email": EMAIL, "api_token": TOKEN}, config)
    pages = list(adapter.pull(None))
    assert [[i.id for i in p.items] for p in pages] == [["35436"], []]
    assert [p.cursor for p in pages] == [first["after_cursor"], again["after_cursor"]]  # the repeat's page moves on
    assert comments.calls == 1
    assert [i.id for p in adapter.pull(again["after_cursor"]) for i in p.items] == ["35436"]  # a newer version is news


def test_a_ticket_named_twice_in_one_write_is_sent_once(helpdesk_driver, config):
    adapter, pending = writes(helpdesk_driver, config, 1)
    ticket, patch = pending[0]
    later = Patch(["govhall_sla_yellow"], [], {}, [])
    outcomes = adapter.apply([(ticket, patch), (ticket, later)])
    assert [o.ok for o in outcomes] == [True, True]
    (put,) = [body for method, _, body in helpdesk_driver.fake.calls if method == "PUT"]
    assert put["tickets"] == [{"id": int(ticket.id), "additional_tags": ["govhall_sla_yellow"], "safe_update": True,
                               "updated_stamp": ticket.extra["updated_at"]}]


# ---------------------------------------------------------------- asynchronous jobs kept across runs

class Killed(BaseException):
    """The run's process killed (SIGKILL, as far as the run can tell): nothing after it runs."""


def kept_jobs(config):
    from govhall_sdk.state import StateStore

    return StateStore(config.state_path).memory("zendesk").items("job:")


def test_a_run_killed_while_its_job_is_queued_writes_no_note_twice(helpdesk_driver, config, govhall_pm):
    helpdesk_driver.seed(conformance_tickets(3))
    fake = helpdesk_driver.fake
    fake.hold_jobs = True

    def killed(seconds):
        raise Killed  # the first wait is the first poll of the job: the run dies there

    with pytest.raises(Killed):
        build_sync(config, ZendeskAdapter(adapter_settings(), config, sleep=killed), govhall_pm).run(NOW)
    (job_id,) = fake.jobs
    assert list(kept_jobs(config)) == [f"job:{job_id}"]  # kept from the moment it was queued
    fake.run_jobs()  # Zendesk applies the job after the run died
    assert notes_of(helpdesk_driver) == {"C-0000": 1, "C-0001": 1, "C-0002": 1}
    again = zendesk_sync(helpdesk_driver, config, govhall_pm).run(NOW)
    assert again.ok and again.notes == 0 and again.written == 0
    assert notes_of(helpdesk_driver) == {"C-0000": 1, "C-0001": 1, "C-0002": 1}
    assert kept_jobs(config) == {} and fake.requests("GET", rf"job_statuses/{job_id}") == 1  # polled once, forgotten


def test_nothing_is_written_while_a_job_of_the_ticket_is_pending(helpdesk_driver, config, govhall_pm):
    helpdesk_driver.seed(conformance_tickets(3))
    fake = helpdesk_driver.fake
    fake.hold_jobs = True
    first = zendesk_sync(helpdesk_driver, config, govhall_pm, job_poll_attempts=3).run(NOW)
    (job_id,) = fake.jobs
    assert first.written == 0 and len(first.failed) == 3
    assert all(e == f"job {job_id} still queued after 3 polls: kept and polled at the next run; not written again "
                    "until it completed" for e in first.failed.values())
    second = zendesk_sync(helpdesk_driver, config, govhall_pm).run(NOW)  # the job is still queued
    assert second.written == 0 and second.evaluated == 3 and len(second.failed) == 3
    assert all(f"Zendesk job {job_id} of this ticket (queued 2025-03-03T09:00:00+08:00) is still queued: not written "
               "again until it completed" in e for e in second.failed.values())
    assert fake.requests("PUT", r"update_many") == 1, "nothing was sent while the job was pending"
    fake.hold_jobs = False
    fake.run_jobs()
    third = zendesk_sync(helpdesk_driver, config, govhall_pm).run(NOW)
    assert third.ok and third.notes == 0
    assert notes_of(helpdesk_driver) == {"C-0000": 1, "C-0001": 1, "C-0002": 1} and kept_jobs(config) == {}


def test_jobs_go_queued_working_completed_and_are_forgotten_once_completed(helpdesk_driver, config):
    adapter, pending = writes(helpdesk_driver, config, 2)
    assert all(o.ok for o in adapter.apply(pending))
    (job_id,) = helpdesk_driver.fake.jobs
    assert helpdesk_driver.fake.requests("GET", rf"job_statuses/{job_id}") == 2  # working, then completed
    assert adapter.kept.items("job:") == {}


def test_a_job_zendesk_no_longer_has_is_forgotten(helpdesk_driver, config):
    helpdesk_driver.seed(conformance_tickets(1))
    adapter = helpdesk_driver.adapter(config)
    adapter.kept.set("job:8b726e606741012ffc2d782bcb7848fe", json.dumps({"tickets": ["35436"], "queued_at": None}))
    list(adapter.pull(None))  # Zendesk keeps a job's status one day: a 404 after that
    assert adapter.kept.items("job:") == {}


# ---------------------------------------------------------------- closed tickets

def test_a_closed_ticket_gets_its_tags_in_a_bulk_update_and_the_rest_is_reported_once(helpdesk_driver, config):
    from govhall_sdk.state import StateStore

    helpdesk_driver.seed([{**t, "tags": ["govhall_sla_yellow"]} for t in conformance_tickets(1)])
    fake = helpdesk_driver.fake
    closed = int(helpdesk_driver.ids["C-0000"])
    fake.tickets[closed]["status"] = "closed"
    memory, outcomes = StateStore(config.state_path).memory("zendesk"), []
    for _ in range(2):  # two runs, the memory in the state store
        adapter = helpdesk_driver.adapter(config)
        adapter.memory = memory
        (item,) = list(adapter.fetch([str(closed)]))
        outcomes.append(adapter.apply([(item.ticket, patch_for(0))])[0])
    first, second = outcomes
    assert (first.ok, first.error) == (True, None)
    assert first.skipped == ("closed on Zendesk, which updates a closed ticket's tags only: its fields "
                             "govhall_escalation_level, govhall_light, 1 note(s) not written (reported once)")
    assert second.ok and second.error is None and second.skipped == ""  # still not taken, said no more
    assert batch_puts(fake) == [] and fake.tickets[closed]["tags"] == ["govhall_sla_red"]
    assert bulk_puts(fake)[0] == (str(closed), {"ticket": {"additional_tags": ["govhall_sla_red"],
                                                           "remove_tags": ["govhall_sla_yellow"]}})
    assert helpdesk_driver.read("C-0000")["notes"] == []


def test_a_ticket_closed_after_it_was_read_is_refused_and_not_resent(helpdesk_driver, config):
    adapter, pending = writes(helpdesk_driver, config, 1)
    helpdesk_driver.fake.tickets[int(pending[0][0].id)]["status"] = "closed"
    (outcome,) = adapter.apply(pending)
    assert outcome.error == "TicketUpdateFailed: Status: closed prevents ticket update" and not outcome.conflict
    assert len(batch_puts(helpdesk_driver.fake)) == 1


# ---------------------------------------------------------------- Retry-After

@pytest.mark.parametrize("retry_after, cap", [(120, None), (900, None), (90, 90)])
def test_retry_after_is_waited_in_full_up_to_retry_after_max(helpdesk_driver, config, retry_after, cap):
    helpdesk_driver.seed(conformance_tickets(1))
    helpdesk_driver.fake.throttle("GET", r"incremental", 1, retry_after)
    sleeps = []
    extra = {} if cap is None else {"retry_after_max": cap}
    list(ZendeskAdapter(adapter_settings(**extra), config, sleep=sleeps.append).pull(None))
    assert sleeps == [retry_after]


@pytest.mark.parametrize("retry_after, cap", [(1200, None), (120, 90)])
def test_a_retry_after_beyond_retry_after_max_is_not_retried_early_and_says_so(helpdesk_driver, config,
                                                                                 retry_after, cap):
    """Sent again before the wait passed, the request would only be refused again: it fails at once."""
    helpdesk_driver.seed(conformance_tickets(1))
    helpdesk_driver.fake.throttle("GET", r"incremental", 1, retry_after)
    sleeps = []
    extra = {} if cap is None else {"retry_after_max": cap}
    with pytest.raises(HTTPError, match=rf"asks to wait {retry_after} s, longer than the {cap or 900} s govhall "
                                        r"waits: not retried in this run"):
        list(ZendeskAdapter(adapter_settings(**extra), config, sleep=sleeps.append).pull(None))
    assert sleeps == [] and helpdesk_driver.fake.requests("GET", r"incremental") == 1


# ---------------------------------------------------------------- the export's own limit

def test_the_export_is_paced_to_ten_requests_a_minute(helpdesk_driver, config):
    helpdesk_driver.seed(conformance_tickets(25))
    now, sent = [1000.0], []
    adapter = ZendeskAdapter(adapter_settings(), config, sleep=lambda s: now.__setitem__(0, now[0] + s))
    adapter.monotonic = lambda: now[0]
    real = adapter.request

    def timed(method, path, **kw):
        if path == adapter.tickets_path:
            answer = real(method, path, **kw)
            sent.append(now[0])
            return answer
        now[0] += 0.5  # each other request takes half a second
        return real(method, path, **kw)

    adapter.request = timed
    assert len([i for p in adapter.pull(None, page_size=1) for i in p.items]) == 25
    assert len(sent) == 25
    assert all(later - earlier >= 60.0 for earlier, later in zip(sent, sent[10:])), "11 exports within a minute"
    assert helpdesk_driver.fake.requests("GET", r"incremental") == 25  # and never a 429 to wait out
