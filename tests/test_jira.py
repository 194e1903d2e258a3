"""The Jira Service Management adapter against a stateful fake Jira (``fakes_jira``) and doc-shaped payloads."""
import base64
import json
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from fakes_jira import BASE, EMAIL, FIELDS, REQUEST_TYPE_FIELD, TOKEN, JiraDriver, text_of
from govhall_adapters.jira import JiraAdapter, adf_doc, adf_text, wiki_safe
from govhall_sdk.config import ConfigError
from govhall_sdk.model import Note, Patch
from govhall_sdk.testing import AdapterConformance, build_sync, conformance_tickets

NOW = datetime.fromisoformat("2025-03-03T09:00:00+08:00")


@pytest.fixture
def helpdesk_driver(govhall_http):
    return JiraDriver(govhall_http)


@pytest.fixture
def config(govhall_config):
    return govhall_config()


@pytest.fixture
def jira(fake_helpdesk):
    """A Jira answering only what a test mocks; an unused mock fails the test."""
    return fake_helpdesk(BASE, auth="Basic " + base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode())


def sync(driver, config, pm, page_size=100):
    return build_sync(config, driver.make_adapter(config), pm, page_size)


class TestJiraConformance(AdapterConformance):
    """Paging, cursor, round trip and rerun on the Jira adapter."""


# ---------------------------------------------------------------- doc-shaped payloads

MIA = {"accountId": "5b10a2844c20165700ede21g", "active": False, "displayName": "Mia Krystof",
       "self": "https://your-domain.atlassian.net/rest/api/3/user?accountId=5b10a2844c20165700ede21g"}
CUSTOMER = {"accountId": "qm:0f1e2d3c", "displayName": "张三", "accountType": "customer", "active": True}
LOREM = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit. Pellentesque eget venenatis elit. "
         "Duis eu justo eget augue iaculis fermentum. Sed semper quam laoreet nisi egestas at posuere augue semper.")
DOC_ISSUE = {
    "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
    "id": "10002", "key": "ED-1", "self": "https://your-domain.atlassian.net/rest/api/3/issue/10002",
    "fields": {
        "summary": "不动产转移登记", "created": "2025-02-03T09:00:00.000+0800", "updated": "2025-02-05T10:00:00.000+0800",
        "status": {"name": "已受理", "id": "10001", "statusCategory": {"id": 4, "key": "indeterminate", "name": "In Progress"}},
        "labels": ["govhall_sla_green"], "reporter": CUSTOMER, "resolutiondate": None, "duedate": "2025-02-20",
        "issuetype": {"id": "10004", "name": "Service Request", "subtask": False},
        "project": {"id": "10000", "key": "ED", "name": "EX"},
        "customfield_10050": {"self": "https://your-domain.atlassian.net/rest/api/3/customFieldOption/10100",
                              "value": "办件", "id": "10100"},
        "customfield_10052": 5.0,
        "customfield_10060": "green",
        REQUEST_TYPE_FIELD: {"_links": {"jiraRest": "https://your-domain.atlassian.net/rest/api/2/issue/10002"},
                             "requestType": {"id": "12", "name": "不动产登记申请", "serviceDeskId": "1"},
                             "currentStatus": {"status": "已受理", "statusCategory": "INDETERMINATE"}},
        "comment": {"comments": [
            {"author": MIA, "body": {"type": "doc", "version": 1, "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": LOREM}]}]},
             "created": "2025-02-03T10:34:00.000+0800", "id": "10000",
             "self": "https://your-domain.atlassian.net/rest/api/3/issue/10010/comment/10000",
             "updateAuthor": MIA, "updated": "2025-02-03T10:34:00.000+0800", "jsdPublic": True},
            {"author": MIA, "body": {"type": "doc", "version": 1, "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": "[受理] 材料齐全"}]}]},
             "created": "2025-02-04T09:00:00.000+0800", "id": "10001", "jsdPublic": False},
            {"author": CUSTOMER, "body": {"type": "doc", "version": 1, "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": "谢谢"},
                                                   {"type": "hardBreak"}, {"type": "text", "text": "已收到"}]}]},
             "created": "2025-02-04T10:00:00.000+0800", "id": "10002", "jsdPublic": True},
        ], "self": "https://your-domain.atlassian.net/rest/api/3/issue/10002/comment", "maxResults": 3, "total": 3,
            "startAt": 0},
    },
    "changelog": {"startAt": 0, "maxResults": 1, "total": 1, "histories": [
        {"author": MIA, "created": "2025-02-04T09:00:10.429+0800", "id": "10001",
         "items": [{"field": "status", "fieldtype": "jira", "fieldId": "status", "from": "10000", "fromString": "待处理",
                    "to": "10001", "toString": "已受理"}]}]},
}


def test_maps_a_doc_shaped_issue(jira, config):
    jira.route("POST", r"/rest/api/3/search/jql", json={"issues": [DOC_ISSUE], "isLast": True})
    adapter = JiraAdapter({
        "url": BASE, "email": EMAIL, "api_token": TOKEN, "jql": "project = ED", "jql_timezone": "Asia/Shanghai",
        "custom_fields": {"事项类型": "customfield_10050", "承诺时限": "customfield_10052", "govhall_light": "customfield_10060"},
        "fields": {"kind": "customfield_10050.value"}, "due_at_kinds": ["application"],
        "forms": {"不动产登记申请": {"promised_working_days": 20, "materials": ["身份证", "不动产权证书"]}},
        "statuses": {"已受理": "accepted"}, "agents": {MIA["accountId"]: {"rank": 2, "department": "不动产登记"}},
        "note_prefixes": {"[受理]": {"type": "acceptance", "notice_issued": True}},
        "status_events": {"已受理": "acceptance"},
    }, config)
    adapter.clock = lambda: datetime(2025, 3, 1, tzinfo=timezone.utc)
    (page,) = adapter.pull(None)
    (item,) = page.items
    assert item.error is None, item.error
    t = item.ticket
    assert (t.id, t.kind, t.status, t.subject) == ("ED-1", "application", "accepted", "不动产转移登记")
    assert t.created_at.isoformat() == "2025-02-03T09:00:00+08:00"
    assert t.promised_working_days == 20 and t.required_materials == ("身份证", "不动产权证书")
    assert t.due_at.isoformat() == "2025-02-20T23:59:59+08:00"
    assert t.fields == {"事项类型": "办件", "承诺时限": 5, "govhall_light": "green"}
    assert t.tags == ("govhall_sla_green",) and t.applicant.id == "qm:0f1e2d3c" and t.extra["jira_id"] == "10002"
    kinds = [(e.type, getattr(e, "public", None), e.actor.role) for e in t.events]
    assert kinds == [("reply", True, "staff"), ("reply", False, "staff"), ("acceptance", None, "staff"),
                     ("acceptance", None, "staff"), ("reply", True, "applicant")]
    assert t.events[0].body == LOREM and t.events[0].actor.rank == 2 and t.events[2].notice_issued
    assert t.events[-1].body == "谢谢\n已收到"
    assert json.loads(page.cursor) == {"since": "2025-02-05T10:00:00+08:00", "seen": {"ED-1": "2025-02-05T10:00:00.000+0800"}}
    body = jira.received[0].body
    assert body["jql"] == ("(project = ED) AND updated >= '2000/01/01 08:00' AND updated <= '2025/03/01 07:58' "
                           "ORDER BY updated ASC, key ASC")
    assert body["expand"] == "changelog" and body["maxResults"] == 100 and "nextPageToken" not in body
    assert {"comment", "labels", "status", "customfield_10050", REQUEST_TYPE_FIELD} <= set(body["fields"])


def test_reads_every_comment_and_history_beyond_the_first_page(helpdesk_driver, config):
    helpdesk_driver.seed(conformance_tickets(1))
    fake = helpdesk_driver.fake
    key = helpdesk_driver.ids["C-0000"]
    for i in range(12):
        fake.add_comment(key, helpdesk_driver.people["s1"], f"第{i}条", public=i % 2 == 0, bump=False)
    fake.transition(key, "accepted", helpdesk_driver.people["s1"])
    fake.transition(key, "resolved", helpdesk_driver.people["s1"])
    helpdesk_driver.later()
    (page,) = list(helpdesk_driver.adapter(config).pull(None))
    t = page.items[0].ticket
    assert len(t.events_of("reply")) == 13
    assert sum(1 for e in t.events_of("reply") if not e.public) == 6
    assert [e.type for e in t.events if e.type in ("acceptance", "completion")] == ["acceptance", "completion"]
    assert t.status == "resolved"
    assert fake.requests("GET", rf"/issue/{key}/comment") == 1  # fields.comment held 5 of 13


def test_department_moves_become_assignments(helpdesk_driver, config):
    helpdesk_driver.seed(conformance_tickets(1))
    fake = helpdesk_driver.fake
    key = helpdesk_driver.ids["C-0000"]
    fake.histories[key].append({"id": "20001", "author": fake.user_json(helpdesk_driver.people["s1"]),
                                "created": "2025-01-07T09:00:00.000+0800",
                                "items": [{"field": "承办部门", "fieldtype": "custom", "fieldId": FIELDS["承办部门"][0],
                                           "from": "1", "fromString": "综合窗口", "to": "2", "toString": "社保窗口"}]})
    (item,) = list(helpdesk_driver.adapter(config).fetch([key]))
    (move,) = item.ticket.events_of("assignment")
    assert (move.from_department, move.to_department, move.actor.role) == ("综合窗口", "社保窗口", "staff")


def test_fetch_reads_issues_50_a_reconciled_search(helpdesk_driver, config):
    helpdesk_driver.seed(conformance_tickets(60))
    fake = helpdesk_driver.fake
    keys = [helpdesk_driver.ids[f"C-{i:04d}"] for i in range(60)]
    items = list(helpdesk_driver.adapter(config).fetch(keys))
    assert [i.ticket.id for i in items] == keys
    searches = [c.body for c in fake.sent("POST", r"/rest/api/3/search/jql")]
    assert [(b["fields"] == ["id"], len(b.get("reconcileIssues", []))) for b in searches] == [
        (True, 0), (False, 50), (True, 0), (False, 10)]  # the ids, then the issues reconciled by id
    assert fake.requests("GET", r"/issue/") == 0


def test_fetch_reads_a_key_jira_does_not_know_directly(helpdesk_driver, config):
    helpdesk_driver.seed(conformance_tickets(2))
    items = list(helpdesk_driver.adapter(config).fetch([helpdesk_driver.ids["C-0001"], "GOV-999"]))
    assert items[0].ticket.id == helpdesk_driver.ids["C-0001"]
    assert items[1].error.problems == ["no such issue on Jira"]
    assert helpdesk_driver.fake.requests("POST", r"search") == 1  # refused: GOV-999 does not exist
    assert helpdesk_driver.fake.requests("GET", r"/issue/GOV-\d+$") == 2


# ---------------------------------------------------------------- the cursor


def test_issues_updated_in_the_same_instant_are_neither_lost_nor_repeated(helpdesk_driver, config):
    fake = helpdesk_driver.fake
    helpdesk_driver.seed(conformance_tickets(7))
    same = fake.issues[helpdesk_driver.ids["C-0000"]]["fields"]["updated"]
    for key in fake.issues:
        fake.issues[key]["fields"]["updated"] = same
    adapter = helpdesk_driver.adapter(config)
    pages = list(adapter.pull(None, page_size=3))
    keys = [i.id for p in pages for i in p.items]
    assert sorted(keys) == sorted(fake.issues) and len(keys) == 7
    first, last = json.loads(pages[0].cursor), json.loads(pages[-1].cursor)
    assert set(first["seen"].values()) == {same} and len(first["seen"]) == 3 and len(last["seen"]) == 7
    assert list(adapter.pull(pages[0].cursor, page_size=3))[0].items[0].id not in first["seen"]
    assert [i.id for p in adapter.pull(pages[-1].cursor, page_size=3) for i in p.items] == []


def test_writing_a_page_does_not_make_the_next_one_skip(helpdesk_driver, config, govhall_pm):
    helpdesk_driver.seed(conformance_tickets(9))
    summary = sync(helpdesk_driver, config, govhall_pm, page_size=2).run(NOW)
    assert summary.ok and summary.pulled == 9 and summary.written == 9


def test_recent_changes_wait_for_the_search_index(helpdesk_driver, config):
    helpdesk_driver.seed(conformance_tickets(3))
    adapter = helpdesk_driver.adapter(config)
    last = list(adapter.pull(None))[-1].cursor
    helpdesk_driver.fake.add_comment(helpdesk_driver.ids["C-0001"], helpdesk_driver.people["s1"], "刚刚回复")
    assert list(adapter.pull(last)) == []  # a minute old: maybe not in the index yet
    helpdesk_driver.later(3)
    assert [i.id for p in adapter.pull(last) for i in p.items] == [helpdesk_driver.ids["C-0001"]]


def test_jql_dates_are_in_the_users_time_zone(helpdesk_driver, config):
    fake = helpdesk_driver.fake
    fake.user_tz = ZoneInfo("America/New_York")
    helpdesk_driver.seed(conformance_tickets(2))
    adapter = helpdesk_driver.adapter(config, jql_timezone="")
    pages = list(adapter.pull(None))
    assert fake.requests("GET", r"/myself") == 1 and len(pages[0].items) == 2
    stamp = datetime.fromisoformat(json.loads(pages[-1].cursor)["since"])
    helpdesk_driver.touch("C-0000")
    assert [i.id for p in adapter.pull(pages[-1].cursor) for i in p.items] == [helpdesk_driver.ids["C-0000"]]
    jql = [body for _, path, body in fake.calls if path.endswith("search/jql")][-1]["jql"]
    expected = stamp.astimezone(ZoneInfo("America/New_York")).strftime("%Y/%m/%d %H:%M")
    assert f"updated >= '{expected}'" in jql and fake.requests("GET", r"/myself") == 1


def test_with_no_zone_known_the_bounds_widen_safely(jira, config):
    jira.route("GET", r"/rest/api/3/myself", json={"accountId": "x", "displayName": "bot"})  # no timeZone
    adapter = JiraAdapter({"url": BASE, "email": EMAIL, "api_token": TOKEN, "jql": "project = GOV"}, config)
    since = datetime(2025, 3, 1, 12, 0, 30, tzinfo=timezone.utc)
    assert adapter.jql(since, since + timedelta(hours=1)) == (
        "(project = GOV) AND updated >= '2025/02/28 22:00' AND updated <= '2025/03/02 03:01' ORDER BY updated ASC, key ASC")


# ---------------------------------------------------------------- writing back


def test_rerun_after_time_passed_writes_nothing_and_doubles_no_note(helpdesk_driver, config, govhall_pm):
    helpdesk_driver.seed(conformance_tickets(4))
    first = sync(helpdesk_driver, config, govhall_pm).run(NOW)
    assert first.ok and first.written == 4
    helpdesk_driver.later()
    second = sync(helpdesk_driver, config, govhall_pm).run(NOW)
    assert second.ok and second.written == 0
    assert (second.pulled, second.skipped) == (0, 4)  # the echo of govhall's own writes, not read again
    for seeded in helpdesk_driver.ids:
        notes = helpdesk_driver.read(seeded)["notes"]
        assert len(notes) == 1 and "[govhall:tl.overdue:completion]" in notes[0]


def test_an_unprotected_marker_would_be_lost_to_wiki_rendering():
    body = "超时（依据：第一条）[govhall:fr.first_reply_overdue:first_reply]"
    from fakes_jira import wiki_to_adf

    assert "[govhall:" not in text_of(wiki_to_adf(body))  # what Jira does to a bare [link]
    assert "[govhall:fr.first_reply_overdue:first_reply]" in text_of(wiki_to_adf(wiki_safe(body)))
    assert wiki_safe(body) == "超时（依据：第一条）\n{noformat}[govhall:fr.first_reply_overdue:first_reply]{noformat}"


def test_edit_then_one_internal_comment(helpdesk_driver, config):
    helpdesk_driver.seed(conformance_tickets(1))
    adapter = helpdesk_driver.adapter(config)
    (item,) = [i for p in adapter.pull(None) for i in p.items]
    patch = Patch(["govhall_sla_red"], ["govhall_sla_green"], {"govhall_light": "red", "govhall_escalation_level": 2},
                  [Note("a", "[govhall:a]", "甲 [govhall:a]"), Note("b", "[govhall:b]", "乙 [govhall:b]")], assign="王主任")
    fake = helpdesk_driver.fake
    fake.issues[item.ticket.id]["fields"]["labels"].append("govhall_sla_green")
    assert adapter.apply([(item.ticket, patch)])[0].ok
    edit = next(body for m, p, body in fake.calls if m == "PUT")
    assert edit == {"update": {"labels": [{"add": "govhall_sla_red"}, {"remove": "govhall_sla_green"}]},
                    "fields": {"customfield_10060": "red", "customfield_10064": 2,
                               "assignee": {"accountId": "5b10ac8d82e05b22cc7d4ef5"}}}
    posts = [(p, body) for m, p, body in fake.calls if m == "POST" and "comment" in p]
    assert len(posts) == 1 and posts[0][0].startswith("/rest/servicedeskapi/request/")
    assert posts[0][1]["public"] is False
    seen = helpdesk_driver.read("C-0000")
    assert seen["tags"] == {"govhall_sla_red"} and seen["fields"]["govhall_escalation_level"] == 2
    (note,) = seen["notes"]
    assert "[govhall:a]" in note and "[govhall:b]" in note


def test_platform_note_api_uses_adf_and_the_internal_property(helpdesk_driver, config, govhall_pm):
    helpdesk_driver.seed(conformance_tickets(2))
    helpdesk_driver.adapter = (lambda original: lambda cfg, **kw: original(cfg, note_api="platform", **kw))(helpdesk_driver.adapter)
    assert sync(helpdesk_driver, config, govhall_pm).run(NOW).written == 2
    post = next(body for m, p, body in helpdesk_driver.fake.calls if m == "POST" and p.endswith("/comment"))
    assert post["properties"] == [{"key": "sd.public.comment", "value": {"internal": True}}]
    assert post["body"]["type"] == "doc"
    helpdesk_driver.later()
    again = sync(helpdesk_driver, config, govhall_pm).run(NOW)
    assert again.written == 0 and all(len(helpdesk_driver.read(t)["notes"]) == 1 for t in helpdesk_driver.ids)


def test_a_429_on_every_kind_of_request_loses_no_write(helpdesk_driver, config, govhall_pm):
    helpdesk_driver.seed(conformance_tickets(6))
    fake = helpdesk_driver.fake
    fake.throttle("POST", r"search/jql", 2, 20)
    fake.throttle("PUT", r"/issue/", 3, 4)
    fake.throttle("POST", r"/comment$", 2, 9)
    summary = sync(helpdesk_driver, config, govhall_pm, page_size=4).run(NOW)
    assert summary.ok and summary.written == 6
    assert sorted(helpdesk_driver.sleeps) == [4, 4, 4, 9, 9, 20, 20]
    assert all(len(helpdesk_driver.read(t)["notes"]) == 1 for t in helpdesk_driver.ids)


def test_a_comment_post_is_not_repeated_after_a_5xx(helpdesk_driver, config, govhall_pm):
    helpdesk_driver.seed(conformance_tickets(1))
    fake = helpdesk_driver.fake
    fake.fail("POST", r"/comment$", 502, "")
    first = sync(helpdesk_driver, config, govhall_pm).run(NOW)
    assert not first.ok and "HTTP 502" in first.failed["C-0000"]
    assert fake.requests("POST", r"/comment$") == 1
    helpdesk_driver.later()
    second = sync(helpdesk_driver, config, govhall_pm).run(NOW)
    assert second.ok and second.written == 1 and len(helpdesk_driver.read("C-0000")["notes"]) == 1


def test_a_rejected_field_value_is_reported(helpdesk_driver, config):
    helpdesk_driver.seed(conformance_tickets(1))
    adapter = helpdesk_driver.adapter(config)
    (item,) = [i for p in adapter.pull(None) for i in p.items]
    outcome = adapter.apply([(item.ticket, Patch(fields={"govhall_escalation_level": "high"}))])[0]
    assert not outcome.ok and "HTTP 400" in outcome.error and "must be a number" in outcome.error
    outcome = adapter.apply([(item.ticket, Patch(fields={"govhall_nope": "x"}))])[0]
    assert not outcome.ok and "adapter.custom_fields has no id for govhall_nope" in outcome.error


# ---------------------------------------------------------------- secrets, settings, helpers


def test_the_token_never_appears_in_errors_or_repr(helpdesk_driver, config):
    helpdesk_driver.seed(conformance_tickets(1))
    adapter = helpdesk_driver.adapter(config)
    (item,) = [i for p in adapter.pull(None) for i in p.items]
    encoded = base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()
    echo = lambda request: json.dumps({"errorMessages": [f"bad credentials {TOKEN} in {request.headers['Authorization']}"]})
    helpdesk_driver.fake.fail("PUT", r"/issue/", 400, echo)
    outcome = adapter.apply([(item.ticket, Patch(["x"]))])[0]
    helpdesk_driver.fake.fail("POST", r"search/jql", 500, echo, times=10)
    with pytest.raises(Exception) as caught:
        list(adapter.fetch([item.ticket.id]))
    for text in (outcome.error, str(caught.value), repr(adapter)):
        assert TOKEN not in text and encoded not in text
    assert "***" in outcome.error and "'api_token': '***'" in repr(adapter)


@pytest.mark.parametrize("settings, message", [
    ({"note_api": "email"}, "adapter.note_api: expected one of servicedesk, platform"),
    ({"jql_timezone": "Mars/Olympus"}, "adapter.jql_timezone: unknown time zone"),
    ({"status_events": {"已受理": "party"}}, "adapter.status_events.已受理: 'party' is not an event type"),
    ({"custom_fields": {"govhall_light": 10200}}, "adapter.custom_fields.govhall_light: expected a string"),
    ({"forms": {"x": {"kind": "application"}}}, "adapter.forms.x.kind: unknown key"),
    ({"per_page": 5001}, "adapter.per_page: expected 1 to 5000"),
    ({"jql": 3}, "adapter.jql: expected a string"),
])
def test_settings_errors_name_the_key(config, settings, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        JiraAdapter({"url": BASE, "email": EMAIL, "api_token": TOKEN, "jql": "project = GOV", **settings}, config)


def test_jql_is_required(config):
    with pytest.raises(ConfigError, match="adapter.jql: required"):
        JiraAdapter({"url": BASE, "email": EMAIL, "api_token": TOKEN}, config)


def test_registered_under_its_entry_point(govhall_pm):
    assert govhall_pm.adapters["jira"][1] is JiraAdapter


def test_adf_round_trip():
    text = "第一行\n第二行 [govhall:x]"
    assert adf_text(adf_doc(text)).rstrip("\n") == text
    assert adf_text({"type": "doc", "content": [{"type": "paragraph", "content": [
        {"type": "mention", "attrs": {"text": "@王"}}, {"type": "text", "text": " 请处理"}]}]}) == "@王 请处理\n"


def test_the_example_config_builds_an_adapter(monkeypatch, govhall_pm):
    from pathlib import Path

    from govhall_sdk.config import load_config
    from govhall_sdk.sync import make_adapter

    monkeypatch.setenv("JIRA_API_TOKEN", "example-token")
    config = load_config(Path(__file__).parents[1] / "examples" / "jira.toml", govhall_pm)
    adapter = make_adapter(config, govhall_pm)
    assert isinstance(adapter, JiraAdapter) and adapter.department_field == "customfield_10211"
    assert adapter.field_ids[config.escalation_write["field"]]
    start = datetime.fromisoformat(adapter.settings["start"])
    assert adapter.jql(start, datetime(2025, 3, 1, tzinfo=timezone.utc)) == (
        "(project = ZWFW) AND updated >= '2025/01/01 00:00' AND updated <= '2025/03/01 08:00' ORDER BY updated ASC, key ASC")
    assert "customfield_10210" in adapter.search_fields and "customfield_10010" in adapter.search_fields


def test_the_search_asks_for_every_field_it_maps(helpdesk_driver, config):
    fields = helpdesk_driver.adapter(config).search_fields
    assert {"summary", "status", "comment", "labels", "customfield_10050", "customfield_10051", "customfield_10010",
            "customfield_10060"} <= set(fields)
    assert "承诺时限" not in fields and len(fields) == len(set(fields))


# ---------------------------------------------------------------- assignee and who wrote a comment

AGENT = "5b10a2844c20165700ede21g"  # in [adapter.agents]: rank 1, 综合窗口


def _issue(fake, reporter="qm:0001"):
    if reporter not in fake.users:
        fake.add_user(reporter, "张三", "customer")
    if AGENT not in fake.users:
        fake.add_user(AGENT, "王", "atlassian")
    return fake.create_issue(summary="投诉", reporter=reporter, created=datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc),
                             fields={FIELDS["事项类型"][0]: {"value": "投诉", "id": "3"}})


def test_the_assignee_field_is_the_assignee_with_the_agents_table(helpdesk_driver, config):
    fake = helpdesk_driver.fake
    mapped, unmapped, nobody = _issue(fake), _issue(fake), _issue(fake)
    fake.issues[mapped]["fields"]["assignee"] = fake.user_json(AGENT)
    fake.issues[unmapped]["fields"]["assignee"] = fake.user_json("5b10ac8d82e05b22cc7d4ef5")
    adapter = helpdesk_driver.adapter(config)
    assert "assignee" in adapter.search_fields
    items = {i.id: i.ticket for i in adapter.fetch([mapped, unmapped, nobody])}
    a = items[mapped].assignee
    assert (a.id, a.name, a.rank, a.department, a.role) == (AGENT, "王", 1, "综合窗口", "staff")
    b = items[unmapped].assignee
    assert (b.id, b.name, b.rank, b.department) == ("5b10ac8d82e05b22cc7d4ef5", "王主任", 0, None)
    assert items[nobody].assignee is None


def test_a_prefix_counts_only_in_an_agents_comment(helpdesk_driver, config):
    fake = helpdesk_driver.fake
    key = _issue(fake)
    fake.add_comment(key, "qm:0001", adf_doc("[办结] 我的事办好了吗"))                 # the customer
    fake.add_comment(key, "qm:0001", adf_doc("[延期] 工作日: 30"))
    fake.add_comment(key, AGENT, adf_doc("[受理] 通知书: 是"), public=False)           # an agent
    (item,) = list(helpdesk_driver.adapter(config).fetch([key]))
    t = item.ticket
    assert [e.type for e in t.events] == ["reply", "reply", "reply", "acceptance"]
    assert {"completion", "extension"}.isdisjoint(t.event_types)
    fake.add_comment(key, AGENT, adf_doc("[办结] 已办结。"))
    (item,) = list(helpdesk_driver.adapter(config).fetch([key]))
    assert item.ticket.events_of("completion")[0].actor.id == AGENT


def test_a_pasted_marker_is_the_customers_public_reply(helpdesk_driver, config):
    fake = helpdesk_driver.fake
    key = _issue(fake)
    marker = "[govhall:tl.overdue:completion]"
    fake.add_comment(key, "qm:0001", adf_doc(f"系统写了 {marker}？"))
    fake.add_comment(key, AGENT, adf_doc(f"内部抄录 {marker}"), public=False)
    (item,) = list(helpdesk_driver.adapter(config).fetch([key]))
    pasted, copied = item.ticket.events
    assert (pasted.public, pasted.actor.role, pasted.actor.id) == (True, "applicant", "qm:0001")
    assert (copied.public, copied.actor.role, copied.actor.id) == (False, "staff", AGENT)  # not the API user
    fake.add_comment(key, fake.bot["accountId"], adf_doc(f"超时 {marker}"), public=False)         # the API user (/myself)
    (item,) = list(helpdesk_driver.adapter(config).fetch([key]))
    assert item.ticket.events[-1].actor.role == "system"


def test_an_unreadable_note_value_is_a_warning_naming_the_comment(helpdesk_driver, config):
    fake = helpdesk_driver.fake
    key = _issue(fake)
    comment = fake.add_comment(key, AGENT, adf_doc("[延期] 工作日: -2"), public=False)
    (item,) = list(helpdesk_driver.adapter(config).fetch([key]))
    assert item.error is None and "extension" not in item.ticket.event_types
    assert item.warnings == (f"comment {comment['id']}: [延期] 工作日: '-2' is not a positive whole number of "
                             "working days; not counted as extension",)


# ---------------------------------------------------------------- the capped changelog, and notes read back

def test_a_changelog_cut_by_the_searchs_cap_is_read_to_its_end_oldest_first(helpdesk_driver, config):
    helpdesk_driver.seed(conformance_tickets(2))
    fake = helpdesk_driver.fake
    long, short = helpdesk_driver.ids["C-0000"], helpdesk_driver.ids["C-0001"]
    for key, moves in ((long, 44), (short, 38)):
        fake.transition(key, "accepted", helpdesk_driver.people["s1"])  # the oldest entry: the acceptance
        for i in range(moves):
            fake.transition(key, "open" if i % 2 == 0 else "pending", helpdesk_driver.people["s1"])
    helpdesk_driver.later()
    tickets = {i.ticket.id: i.ticket for p in helpdesk_driver.adapter(config).pull(None) for i in p.items}
    embedded = fake.sent("POST", r"/rest/api/3/search/jql")
    assert embedded and len(fake.histories[long]) == 45  # the search held its 40 newest
    assert [e.type for e in tickets[long].events_of("acceptance")] == ["acceptance"]
    assert [e.type for e in tickets[short].events_of("acceptance")] == ["acceptance"]
    assert fake.requests("GET", rf"/issue/{long}/changelog") == 1  # 45 entries: one page of 100
    assert fake.requests("GET", rf"/issue/{short}/changelog") == 0  # 39 entries: all embedded


def test_a_note_jira_saved_visible_to_customers_is_an_error_and_not_written_again(helpdesk_driver, config, govhall_pm):
    helpdesk_driver.seed(conformance_tickets(1))
    helpdesk_driver.fake.honour_internal_property = False
    helpdesk_driver.adapter = (lambda original: lambda cfg, **kw: original(cfg, note_api="platform", **kw))(helpdesk_driver.adapter)
    first = sync(helpdesk_driver, config, govhall_pm).run(NOW)
    (error,) = first.failed.values()
    (comment,) = [c for c in helpdesk_driver.fake.comments[helpdesk_driver.ids["C-0000"]] if "[govhall:" in str(c["body"])]
    assert error.startswith(f"AdapterError: comment {comment['id']} on {helpdesk_driver.ids['C-0000']}: Jira saved it "
                            "visible to customers (not written again")
    helpdesk_driver.later()
    second = sync(helpdesk_driver, config, govhall_pm).run(NOW)
    assert second.notes == 0, "the public note's markers count: it is not written again"
    assert f"comment {comment['id']}: govhall's note is visible to customers" in second.errors["C-0000"]
