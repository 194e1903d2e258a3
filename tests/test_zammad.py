"""The Zammad adapter: conformance, mapping of documented payloads, search query, index lag, retries, secrets."""
from datetime import datetime, timedelta

import pytest

from fakes_zammad import BASE, TOKEN, ZammadDriver, ZammadFake
from govhall_adapters.zammad import ZammadAdapter
from govhall_sdk.adapter import AdapterError
from govhall_sdk.config import ConfigError
from govhall_sdk.model import Note, Patch
from govhall_sdk.patch import written_markers
from govhall_sdk.testing import AdapterConformance, build_sync, conformance_tickets

NOW = datetime.fromisoformat("2025-03-03T09:00:00+08:00")


@pytest.fixture
def fake(govhall_http):
    helpdesk = ZammadFake()
    helpdesk.install(govhall_http)
    return helpdesk


@pytest.fixture
def helpdesk_driver(fake):
    return ZammadDriver(fake)


@pytest.fixture
def config(govhall_config):
    return govhall_config()


def run(driver, config, pm, now=NOW, page_size=10, **extra):
    adapter = driver.make_adapter(config, **extra)
    return build_sync(config, adapter, pm, page_size).run(now), adapter


class TestZammadConformance(AdapterConformance):
    """Paging to the end (25 tickets at one instant, pages of 10), cursor, round trip, rerun."""


# ------------------------------------------------------------------ mapping

DOC_TICKET = {  # GET /api/v1/tickets/{id}?expand=true as in the API docs, plus custom attributes
    "id": 3, "group_id": 1, "priority_id": 2, "state_id": 2, "organization_id": 3, "number": "71003",
    "title": "食品经营许可证新办", "owner_id": 3, "customer_id": 7, "note": None, "first_response_at": None,
    "first_response_escalation_at": None, "first_response_in_min": None, "first_response_diff_in_min": None,
    "close_at": None, "close_escalation_at": None, "close_in_min": None, "close_diff_in_min": None,
    "update_escalation_at": None, "update_in_min": None, "update_diff_in_min": None,
    "last_contact_at": "2025-01-06T03:00:00.000Z", "last_contact_agent_at": "2025-01-06T02:01:00.000Z",
    "last_contact_customer_at": "2025-01-06T01:30:00.000Z", "last_owner_update_at": None,
    "create_article_type_id": 1, "create_article_sender_id": 2, "article_count": 3, "escalation_at": None,
    "pending_time": None, "type": "办件", "time_unit": None, "preferences": {}, "updated_by_id": 4,
    "created_by_id": 7, "created_at": "2025-01-06T01:30:00.000Z", "updated_at": "2025-01-06T03:00:00.906Z",
    "article_ids": [6, 5, 4], "ticket_time_accounting_ids": [], "group": "Sales",
    "organization": "Awesome Customer Inc.", "ticket_time_accounting": [], "state": "open",
    "priority": "2 normal", "owner": "chris@chrispresso.com", "customer": "samuel@example.com",
    "created_by": "samuel@example.com", "updated_by": "jacob@chrispresso.com", "create_article_type": "email",
    "create_article_sender": "Customer",
    "gh_promised_days": "20", "gh_accepted_at": "2025-01-06", "gh_applicant": "赵六", "gh_groups": ["孕妇"],
    "govhall_light": None, "govhall_escalation_level": None,
}
DOC_ARTICLES = [  # GET /api/v1/ticket_articles/by_ticket/{id}
    {"id": 4, "ticket_id": 3, "from": "Samuel Lee <samuel@example.com>", "to": "", "cc": "", "subject": "申请",
     "body": "你好<br>我想办食品经营许可证", "content_type": "text/html", "type": "email", "internal": False,
     "sender": "Customer", "created_by": "samuel@example.com", "created_by_id": 7,
     "updated_at": "2025-01-06T01:30:00.000Z", "created_at": "2025-01-06T01:30:00.000Z"},
    {"id": 5, "ticket_id": 3, "from": "Christopher Miller", "to": "", "cc": "", "subject": None,
     "body": "<p>[受理] 通知书: 是</p>", "content_type": "text/html", "type": "note", "internal": True,
     "sender": "Agent", "created_by": "chris@chrispresso.com", "created_by_id": 3,
     "updated_at": "2025-01-06T02:00:00.000Z", "created_at": "2025-01-06T02:00:00.000Z"},
    {"id": 6, "ticket_id": 3, "from": "Christopher Miller", "to": "samuel@example.com", "cc": "", "subject": None,
     "body": "已受理，承诺二十个工作日内办结。", "content_type": "text/plain", "type": "email", "internal": False,
     "sender": "Agent", "created_by": "chris@chrispresso.com", "created_by_id": 3,
     "updated_at": "2025-01-06T02:01:00.000Z", "created_at": "2025-01-06T02:01:00.000Z"},
]
MAPPING = {"departments": {"Sales": "市场监管窗口"},
           "agents": {"chris@chrispresso.com": {"name": "Chris", "rank": 3, "department": "市场监管窗口"}},
           "fields": {"promised_working_days": "gh_promised_days", "accepted_at": "gh_accepted_at",
                      "applicant_name": "gh_applicant", "applicant_groups": "gh_groups"}}


def test_documented_ticket_maps_to_the_interchange_format(fake, helpdesk_driver, config):
    fake.add_ticket(DOC_TICKET, DOC_ARTICLES, ["americano", "govhall_sla_green"])
    (item,) = helpdesk_driver.make_adapter(config, **MAPPING).fetch(["3"])
    t = item.ticket
    assert item.error is None, item.error
    assert (t.id, t.kind, t.channel, t.status) == ("3", "application", "mail", "open")
    assert (t.subject, t.department) == ("食品经营许可证新办", "市场监管窗口")
    assert t.created_at == datetime.fromisoformat("2025-01-06T01:30:00+00:00")
    assert t.accepted_at == datetime.fromisoformat("2025-01-06T00:00:00+08:00")
    assert t.promised_working_days == 20
    assert t.applicant.name == "赵六" and t.applicant.groups == ("pregnant",)
    assert t.tags == ("americano", "govhall_sla_green")
    assert t.fields["gh_applicant"] == "赵六" and "govhall_light" in t.fields and "group" not in t.fields
    assert t.extra["number"] == "71003"
    first, note, acceptance, reply = t.events
    assert first.actor.role == "applicant" and first.body == "你好\n我想办食品经营许可证" and first.public
    assert not note.public and note.body == "[受理] 通知书: 是"
    assert acceptance.type == "acceptance" and acceptance.notice_issued
    assert acceptance.actor.id == "chris@chrispresso.com" and acceptance.actor.rank == 3
    assert reply.public and reply.actor.department == "市场监管窗口"


def test_the_search_query_escapes_the_instant_and_sorts_by_updated_at(fake, helpdesk_driver, config):
    fake.add_ticket(DOC_TICKET, DOC_ARTICLES)
    fake.add_ticket({**DOC_TICKET, "id": 9, "group": "2nd Level"})
    adapter = helpdesk_driver.make_adapter(config, query="group.name:Sales", start="2025-01-01T00:00:00Z")
    assert [i.id for p in adapter.pull(None, 50) for i in p.items] == ["3"]
    (check, _), (first, _), *_ = fake.requests_to("GET", "/api/v1/tickets/search")
    assert check["query"] == [r"updated_at:>=2025-01-06T03\:00\:00Z"]  # the start-up check: no group filter
    assert first["query"] == [r"updated_at:>=2024-12-31T23\:59\:59Z AND (group.name:Sales)"]
    assert (first["sort_by"], first["order_by"], first["expand"]) == (["updated_at"], ["asc"], ["true"])
    assert (first["page"], first["per_page"]) == (["1"], ["50"])


def test_the_assets_form_of_a_search_answer_is_read_too():
    body = {"tickets": [9, 10], "tickets_count": 2,
            "assets": {"Ticket": {"9": {"id": 9, "updated_at": "x"}, "10": {"id": 10, "updated_at": "y"}}}}
    assert [t["id"] for t in ZammadAdapter.records(body)] == [9, 10]
    with pytest.raises(ValueError):
        ZammadAdapter.records({"error": "boom"})


def test_settings_are_checked_with_their_key_path(config):
    with pytest.raises(ConfigError, match="adapter.statuses.open"):
        ZammadAdapter({"url": BASE, "token": TOKEN, "statuses": {"open": "in_progress"}}, config)
    with pytest.raises(ConfigError, match="adapter.token: required"):
        ZammadAdapter({"url": BASE}, config)
    with pytest.raises(ConfigError, match="adapter.per_page"):
        ZammadAdapter({"url": BASE, "token": TOKEN, "per_page": 201}, config)


# ------------------------------------------------------------------ the index lag

@pytest.mark.parametrize("settle, found_later", [(60.0, True), (0.0, False)])
def test_a_ticket_indexed_late_is_found_next_run_while_the_cursor_settles(fake, helpdesk_driver, config, settle,
                                                                          found_later):
    fake.add_ticket({**DOC_TICKET, "id": 30, "updated_at": "2025-03-03T00:59:40.000Z"})
    fake.add_ticket({**DOC_TICKET, "id": 31, "updated_at": "2025-03-03T00:59:50.000Z"})
    fake.unindexed.add("30")  # changed first, indexed after the search
    now = datetime.fromisoformat("2025-03-03T09:00:05+08:00")
    adapter = helpdesk_driver.make_adapter(config, settle_seconds=settle)
    adapter.now = now
    pages = list(adapter.pull(None, 10))
    assert [i.id for p in pages for i in p.items] == ["31"]
    fake.unindexed.clear()
    again = helpdesk_driver.make_adapter(config, settle_seconds=settle)
    again.now = now + timedelta(minutes=5)
    later = [i.id for p in again.pull(pages[-1].cursor, 10) for i in p.items]
    assert later == (["30"] if found_later else []), "31 is not pulled twice: its id travels with the cursor"


# ------------------------------------------------------------------ writing, limits, secrets

def test_patch_uses_tag_endpoints_then_one_put_carrying_the_combined_note(fake, helpdesk_driver, config):
    fake.add_ticket(DOC_TICKET, DOC_ARTICLES, ["americano", "govhall_sla_green"])
    adapter = helpdesk_driver.make_adapter(config)
    (item,) = adapter.fetch(["3"])
    notes = [Note("tl.overdue", "[govhall:tl.overdue:completion]", "超时 [govhall:tl.overdue:completion]"),
             Note("fi.no_first_handler", "[govhall:fi.no_first_handler]", "无首办 [govhall:fi.no_first_handler]")]
    patch = Patch(["govhall_sla_red"], ["govhall_sla_green"], {"govhall_light": "red", "govhall_escalation_level": 1},
                  notes)
    assert adapter.apply([(item.ticket, patch)])[0].ok
    ((_, added),) = fake.requests_to("POST", "/api/v1/tags/add")
    ((_, removed),) = fake.requests_to("DELETE", "/api/v1/tags/remove")
    assert added == {"item": "govhall_sla_red", "object": "Ticket", "o_id": 3}
    assert removed == {"item": "govhall_sla_green", "object": "Ticket", "o_id": 3}
    assert fake.requests_to("POST", "/api/v1/ticket_articles") == []
    ((query, put),) = fake.requests_to("PUT", "/api/v1/tickets/3")
    assert query == {"all": ["true"]}
    assert put == {"govhall_light": "red", "govhall_escalation_level": 1,
                   "article": {"subject": "govhall", "body": "超时 [govhall:tl.overdue:completion]\n\n"
                               "无首办 [govhall:fi.no_first_handler]", "content_type": "text/plain", "type": "note",
                               "internal": True}}
    assert fake.tags["3"] == ["americano", "govhall_sla_red"]
    (again,) = adapter.fetch(["3"])
    (own,) = [e for e in again.ticket.events if e.type == "reply" and "[govhall:" in e.body]
    assert own.actor.role == "system" and not own.public
    assert {"[govhall:tl.overdue:completion]", "[govhall:fi.no_first_handler]"} <= written_markers(again.ticket)


def test_an_attribute_zammad_dropped_with_200_is_a_failed_write_naming_it(fake, helpdesk_driver, config):
    fake.attributes = ("govhall_light",)  # govhall_due_at was never created on Zammad
    fake.add_ticket({k: v for k, v in DOC_TICKET.items() if not k.startswith("govhall_")})
    adapter = helpdesk_driver.make_adapter(config)
    (item,) = adapter.fetch(["3"])
    (outcome,) = adapter.apply([(item.ticket, Patch(fields={"govhall_light": "red", "govhall_due_at": "2025-03-01"}))])
    assert not outcome.ok and outcome.error == (
        "AdapterError: Zammad did not store attribute govhall_due_at (no such ticket attribute: create it in "
        "Zammad's Objects, or fix its name; Zammad dropped it and answered 200)")
    assert fake.tickets["3"]["govhall_light"] == "red" and "govhall_due_at" not in fake.tickets["3"]
    (put,) = fake.requests_to("PUT", "/api/v1/tickets/3")
    assert put[1] == {"govhall_light": "red", "govhall_due_at": "2025-03-01"}  # answered 200, one dropped


def test_without_elasticsearch_the_pull_stops_with_one_clear_error(fake, helpdesk_driver, config):
    fake.add_ticket(DOC_TICKET, DOC_ARTICLES)
    fake.elasticsearch = False
    adapter = helpdesk_driver.make_adapter(config)
    with pytest.raises(AdapterError, match=r"Zammad's search finds no ticket, though GET /api/v1/tickets lists "
                                           r"ticket 3: its search index \(Elasticsearch\) is missing or empty"):
        list(adapter.pull(None))
    fake.elasticsearch = True
    assert [i.id for p in helpdesk_driver.make_adapter(config).pull(None) for i in p.items] == ["3"]


def test_the_search_is_checked_once_per_adapter_and_an_empty_zammad_passes(fake, helpdesk_driver, config):
    adapter = helpdesk_driver.make_adapter(config)
    assert list(adapter.pull(None)) == []  # no ticket at all: nothing to check the search with
    fake.add_ticket(DOC_TICKET, DOC_ARTICLES)
    list(adapter.pull(None))
    assert len(fake.requests_to("GET", "/api/v1/tickets")) == 1


def test_a_429_storm_is_waited_out_and_loses_no_write(fake, helpdesk_driver, config, govhall_pm):
    helpdesk_driver.seed(conformance_tickets(12))
    fake.fail("GET", "/api/v1/tickets/search", times=2, headers={"Retry-After": "4"})
    fake.fail("POST", "/api/v1/tags/add", times=3, headers={"Retry-After": "9"})
    fake.fail("PUT", "/api/v1/tickets/C-0007", times=2, headers={"Retry-After": "13"})
    summary, _ = run(helpdesk_driver, config, govhall_pm)
    assert summary.ok and summary.written == 12
    assert (helpdesk_driver.sleeps.count(4.0), helpdesk_driver.sleeps.count(9.0),
            helpdesk_driver.sleeps.count(13.0)) == (2, 3, 2)
    for i in range(12):
        seen = helpdesk_driver.read(f"C-{i:04d}")
        assert {"govhall_tl_overdue", "govhall_sla_red"} <= seen["tags"] and len(seen["notes"]) == 1
        assert seen["notes"][0].count("[govhall:") == 2  # both notes, combined into one article
        assert seen["fields"]["govhall_light"] == "red"


def test_a_failed_put_carrying_a_note_is_not_retried_blindly_and_the_rerun_writes_it_once(fake, helpdesk_driver,
                                                                                          config, govhall_pm):
    helpdesk_driver.seed(conformance_tickets(2))
    fake.fail("PUT", "/api/v1/tickets/C-0000", status=504, times=1, body={"error": "gateway timeout"})
    first, _ = run(helpdesk_driver, config, govhall_pm)
    assert len(first.failed) == 1 and "HTTP 504" in next(iter(first.failed.values()))
    assert len(fake.requests_to("PUT", "/api/v1/tickets/C-0000")) == 1  # not sent a second time
    second, _ = run(helpdesk_driver, config, govhall_pm)
    third, _ = run(helpdesk_driver, config, govhall_pm)
    assert second.ok and second.written == 1 and third.ok and third.written == 0
    assert [len(helpdesk_driver.read(t)["notes"]) for t in ("C-0000", "C-0001")] == [1, 1]  # two notes in one


def test_a_429_on_the_put_carrying_a_note_is_retried(fake, helpdesk_driver, config, govhall_pm):
    helpdesk_driver.seed(conformance_tickets(1))
    fake.fail("PUT", "/api/v1/tickets/C-0000", times=1, headers={"Retry-After": "7"})
    summary, _ = run(helpdesk_driver, config, govhall_pm)
    assert summary.ok and helpdesk_driver.sleeps.count(7.0) == 1
    assert len(helpdesk_driver.read("C-0000")["notes"]) == 1


def test_the_token_never_shows_in_errors_or_repr(fake, config):
    secret = "ZM-SECRET-TOKEN-31337"
    fake.token = secret
    driver = ZammadDriver(fake)
    fake.add_ticket(DOC_TICKET, DOC_ARTICLES)
    fake.fail("GET", "/api/v1/tickets/3", status=500, times=99,
              body={"error": f"token {secret} rejected", "header": f"Token token={secret}"})
    adapter = driver.make_adapter(config)
    (item,) = adapter.fetch(["3"])
    assert "HTTP 500" in str(item.error) and secret not in str(item.error)
    assert driver.sleeps, "a 500 is retried before it is reported"
    assert secret not in repr(adapter) and "***" in repr(adapter)
    fake.failures.clear()
    fake.fail("GET", "/api/v1/tickets/search", status=403, body={"error": f"Not authorized ({secret})"})
    with pytest.raises(Exception) as caught:
        list(adapter.pull(None, 10))
    assert "HTTP 403" in str(caught.value) and secret not in str(caught.value)


def test_the_example_config_builds_the_adapter(govhall_pm):
    from pathlib import Path

    from govhall_sdk.config import load_config
    from govhall_sdk.sync import make_adapter

    config = load_config(Path(__file__).parent.parent / "examples" / "zammad.toml", govhall_pm)
    adapter = make_adapter(config, govhall_pm)
    assert isinstance(adapter, ZammadAdapter) and adapter.mapping.status("已受理") == "accepted"
    assert adapter.mapping.status("pending close") == "pending" and adapter.settings["settle_seconds"] == 60.0
    assert "PUT-THE-ACCESS-TOKEN-HERE" not in repr(adapter)


# ------------------------------------------------------------------ the owner and who wrote an article

def _article(aid, text, *, customer=False, internal=False, by="chris@chrispresso.com", by_id=3):
    return {"id": aid, "body": text, "content_type": "text/plain", "type": "note" if internal else "web",
            "internal": internal, "sender": "Customer" if customer else "Agent",
            "created_by": "samuel@example.com" if customer else by, "created_by_id": 7 if customer else by_id,
            "created_at": f"2025-01-06T0{aid % 10}:00:00.000Z"}


def test_owner_is_the_assignee_with_the_agents_table(fake, helpdesk_driver, config):
    fake.add_ticket(DOC_TICKET)  # owner chris@chrispresso.com (owner_id 3)
    fake.add_ticket({**DOC_TICKET, "id": 4, "owner_id": 5, "owner": "jacob@chrispresso.com"})
    fake.add_ticket({**DOC_TICKET, "id": 5, "owner_id": 1, "owner": "-"})  # Zammad's "-": nobody
    items = {i.id: i.ticket for i in helpdesk_driver.make_adapter(config, **MAPPING).fetch(["3", "4", "5"])}
    a = items["3"].assignee
    assert (a.id, a.name, a.rank, a.department, a.role) == ("chris@chrispresso.com", "Chris", 3, "市场监管窗口", "staff")
    b = items["4"].assignee
    assert (b.id, b.rank, b.department) == ("jacob@chrispresso.com", 0, None)
    assert items["5"].assignee is None


def test_a_prefix_counts_only_in_an_agents_article(fake, helpdesk_driver, config):
    fake.add_ticket({**DOC_TICKET, "id": 6}, [_article(1, "[办结] 办好了吗？", customer=True),
                                              _article(2, "[延期] 工作日: 30", customer=True),
                                              _article(3, "[办结] 已办结。", internal=True)])
    (item,) = helpdesk_driver.make_adapter(config, **MAPPING).fetch(["6"])
    t = item.ticket
    assert [e.type for e in t.events] == ["reply", "reply", "reply", "completion"]
    assert "extension" not in t.event_types and t.events_of("completion")[0].actor.id == "chris@chrispresso.com"


def test_a_pasted_marker_is_the_customers_public_reply(fake, helpdesk_driver, config):
    from fakes_zammad import GOVHALL_USER

    marker = "[govhall:tl.overdue:completion]"
    fake.add_ticket({**DOC_TICKET, "id": 7}, [
        _article(1, f"请问 {marker} 是什么", customer=True),
        _article(2, f"抄录 {marker}", internal=True),                                       # an agent, not govhall
        _article(3, f"超时 {marker}", internal=True, by="govhall@center.example", by_id=GOVHALL_USER)])
    (item,) = helpdesk_driver.make_adapter(config, **MAPPING).fetch(["7"])
    pasted, copied, own = item.ticket.events
    assert (pasted.public, pasted.actor.role) == (True, "applicant")
    assert (copied.public, copied.actor.role, copied.actor.id) == (False, "staff", "chris@chrispresso.com")
    assert (own.public, own.actor.role) == (False, "system")
    assert len(fake.requests_to("GET", "/api/v1/users/me")) == 1


def test_an_unreadable_note_value_is_a_warning_naming_the_article(fake, helpdesk_driver, config):
    fake.add_ticket({**DOC_TICKET, "id": 8}, [_article(1, "[补正告知] 方式: 飞鸽传书; 缺件: 身份证", internal=True)])
    (item,) = helpdesk_driver.make_adapter(config, **MAPPING).fetch(["8"])
    aid = fake.articles["8"][0]["id"]
    assert item.warnings == (f"article {aid}: [补正告知] 方式: '飞鸽传书' is not 口头, 书面 or 公开; ignored",)
    (notice,) = item.ticket.events_of("notice")
    assert notice.form == "written" and notice.missing == ("身份证",)  # the prefix's own form stands


@pytest.mark.parametrize("group, ok", [("2nd Level", True), ("no such group", False)])
def test_an_assignment_by_group_name_is_stored_as_its_id_or_refused(fake, helpdesk_driver, config, group, ok):
    fake.add_ticket(DOC_TICKET, DOC_ARTICLES)
    adapter = helpdesk_driver.make_adapter(config, assignees={"supervisor": {"group": group}})
    (item,) = adapter.fetch(["3"])
    (outcome,) = adapter.apply([(item.ticket, Patch(fields={"govhall_light": "red"}, assign="supervisor"))])
    assert outcome.ok is ok, outcome.error
    if ok:
        assert fake.tickets["3"]["group_id"] == 2
    else:
        assert "HTTP 422" in outcome.error and fake.tickets["3"]["group_id"] == 1


def test_an_escalations_own_assignment_is_no_change_of_someone_elses(fake, helpdesk_driver, config):
    fake.add_ticket(DOC_TICKET, DOC_ARTICLES)
    adapter = helpdesk_driver.make_adapter(config, assignees={"supervisor": {"group": "2nd Level"}})
    (item,) = adapter.fetch(["3"])
    assert adapter.apply([(item.ticket, Patch(fields={"govhall_light": "red"}, assign="supervisor"))])[0].ok
    assert adapter.is_echo(fake.tickets["3"])
