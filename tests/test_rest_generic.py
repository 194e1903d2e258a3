"""The generic REST adapter (``type = "rest"``, issue 16) against a 12345 hotline platform of our own design.

The platform is ``tests/fakes_hotline12345.py``; the configuration is
``examples/rest-12345.toml`` as shipped, so the example is what is tested.
"""
from __future__ import annotations

import copy
import logging
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from fakes_hotline12345 import TOKEN, Hotline12345, HotlineDriver, order_from_ticket
from govhall_adapters.rest_generic import BodyTemplate, GenericRESTAdapter, RecordPath
from govhall_sdk.config import ConfigError
from govhall_sdk.model import Note, Patch
from govhall_sdk.rest import PaginationLoop, RetryPolicy
from govhall_sdk.testing import AdapterConformance

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = tomllib.loads((ROOT / "examples" / "rest-12345.toml").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def token(monkeypatch):
    monkeypatch.setenv("HOTLINE12345_TOKEN", TOKEN)


@pytest.fixture
def config(govhall_config):
    return govhall_config({"adapter": copy.deepcopy(EXAMPLE["adapter"]), "escalation": EXAMPLE["escalation"]})


def make(config, settings=None):
    return GenericRESTAdapter(settings or dict(config.adapter), config, retry=RetryPolicy(attempts=2, base=0),
                              sleep=lambda s: None)


def settings(**changes):
    """The example's [adapter] with ``changes`` applied at dotted keys (a None value deletes the key)."""
    out = copy.deepcopy(EXAMPLE["adapter"])
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        table = out
        for part in parents:
            table = table.setdefault(part, {})
        if value is None:
            table.pop(last, None)
        else:
            table[last] = value
    return out


@pytest.fixture
def desk(govhall_http):
    return Hotline12345(govhall_http)


def seed(desk, order_no="GD-001", **basic):
    order = order_from_ticket({"id": order_no, "kind": "complaint", "channel": "hotline", "status": "open",
                               "created_at": "2025-01-06T09:00:00+08:00", "subject": "噪音扰民",
                               "applicant": {"name": "张三", "phone": "13800138000"}})
    order["basic"].update(basic)
    desk.add(order)
    return order


def pulled(adapter):
    return [item for page in adapter.pull(None, 100) for item in page.items]


# ---------------------------------------------------------------- the conformance suite

class TestHotlineConformance(AdapterConformance):
    """Paging to the end, cursor advance, a patch round trip and an idempotent rerun, through the example config."""

    @pytest.fixture
    def conformance_config(self, govhall_config):
        return govhall_config({"adapter": copy.deepcopy(EXAMPLE["adapter"])})

    @pytest.fixture
    def helpdesk_driver(self, desk):
        return HotlineDriver(desk, make)


# ---------------------------------------------------------------- the mapping

def test_a_work_order_maps_to_the_interchange(desk, config):
    order = seed(desk)
    order["handling"].update(handler={"workNo": "s2", "name": "李"}, deadline="2025-01-20")
    order["extAttrs"] = [{"key": "govhall_light", "value": "red"}]
    desk.flow("GD-001", "受理", "已受理", who="s2")
    (item,) = pulled(make(config))
    t = item.ticket
    assert (t.kind, t.channel, t.status, t.subject) == ("complaint", "hotline", "open", "噪音扰民")
    assert t.created_at.isoformat() == "2025-01-06T09:00:00+08:00"  # a naive time read in Beijing time
    assert t.due_at.isoformat() == "2025-01-20T23:59:59+08:00"  # a date-only deadline ends its day
    assert t.department == "综合窗口" and t.applicant.name == "张三" and t.applicant.phone == "13800138000"
    assert (t.assignee.id, t.assignee.name, t.assignee.role) == ("s2", "李", "staff")
    assert t.fields == {"govhall_light": "red", "govhall_due_at": None, "govhall_first_inquiry": None,
                        "govhall_first_handler": None, "govhall_escalation_level": None}
    (acceptance,) = t.events_of("acceptance")
    assert t.accepted_at == acceptance.at and acceptance.actor.id == "s2"


def test_only_staff_write_staff_events_and_an_applicants_text_is_data(desk, config):
    seed(desk)
    desk.flow("GD-001", "回复", "[办结] 我的问题解决了吗？", who="c-9", identity="市民", name="张三")
    desk.flow("GD-001", "回复", "短信里的 [govhall:tl.overdue:completion] 是什么？", who="c-9", identity="市民")
    desk.flow("GD-001", "回复", "[办结] 外包人员代答", who="x-1", identity="外包")  # an identity the config does not list
    desk.flow("GD-001", "回复", "[办结] 已电话告知处理结果。", who="s1")
    (item,) = pulled(make(config))
    t = item.ticket
    citizen, pasted, outsider, staff, completion = t.events
    assert (citizen.type, citizen.actor.role, citizen.body) == ("reply", "applicant", "[办结] 我的问题解决了吗？")
    assert pasted.actor.role == "applicant" and pasted.public
    assert outsider.actor.role == "applicant"  # default_role: nobody is staff unless the config says so
    assert staff.actor.role == "staff" and completion.type == "completion" and completion.actor.id == "s1"
    assert len(t.events_of("completion")) == 1


def test_an_unlisted_authors_internal_note_with_a_marker_is_govhalls_own(desk, config):
    seed(desk)
    desk.flow("GD-001", "内部备注", "超时 [govhall:tl.overdue:completion]", public=False, who="robot",
              identity="机器人")
    (item,) = pulled(make(config))
    (note,) = item.ticket.events
    assert (note.public, note.actor.id, note.actor.role) == (False, "govhall", "system")


def test_a_mapping_error_is_that_tickets_error_with_its_path(desk, config):
    seed(desk, "GD-001", state="挂起")
    seed(desk, "GD-002")
    desk.flow("GD-002", "退单", "退回", who="s1")
    seed(desk, "GD-003")
    first, second, third = pulled(make(config))
    assert first.ticket is None and first.error.ticket_id == "GD-001"
    assert first.error.problems == ["status: '挂起' at 'basic.state' is not in adapter.values.status (nor one of "
                                    "new, open, pending, accepted, resolved, closed, rejected)"]
    assert second.error.problems == ["events[0].type: '退单' at 'opType' is not in adapter.events.values.type "
                                     "(map it, or to \"\" to leave such records out)"]
    assert third.ticket is not None  # the page goes on


def test_epoch_milliseconds_are_read_and_an_unreadable_version_is_an_error(desk, config):
    order = seed(desk, "GD-001")
    order["basic"]["createTime"] = 1736125200000  # 2025-01-06T01:00:00Z, as a Java back end writes it
    desk.flow("GD-001", "回复", "您好", who="s1")
    desk.flows["GD-001"][-1]["opTime"] = 1736128800
    seed(desk, "GD-002")["basic"]["updateTime"] = "昨天"
    first, second = pulled(make(config))
    assert first.ticket.created_at.isoformat() == "2025-01-06T01:00:00+00:00"
    assert first.ticket.events[0].at.isoformat() == "2025-01-06T02:00:00+00:00"
    assert second.error.problems == ["version: '昨天' at 'basic.updateTime' is not a time (ISO 8601 text or an "
                                     "epoch number; adapter.map.version)"]


def test_a_record_mapped_to_nothing_is_left_out(desk, config):
    seed(desk)
    desk.flow("GD-001", "催办", "怎么还没处理", who="c-9", identity="市民")
    (item,) = pulled(make(config))
    assert item.ticket.events == ()


def test_a_deleted_work_order_is_gone(desk, config):
    seed(desk)
    found, deleted = make(config).fetch(["GD-001", "GD-404"])
    assert found.ticket.id == "GD-001"
    assert deleted.ticket is None and type(deleted.error).__name__ == "TicketGone"


# ---------------------------------------------------------------- paging

def test_the_flows_are_paged_on_to_their_total_past_short_pages(desk, config):
    seed(desk)
    for i in range(45):
        desk.flow("GD-001", "回复", f"第{i}次回复", who="s1")
    (item,) = pulled(make(config))
    assert len(item.ticket.events) == 45
    assert [c.params["pageNum"] for c in desk.sent("GET", r".*/flows")] == ["1", "2", "3"]  # 20 + 20 + 5 of 45


def test_a_timeline_that_ignores_the_page_number_is_that_tickets_error(govhall_http, config):
    desk = Hotline12345(govhall_http, ignore_page_number=True)
    seed(desk, "GD-001")
    for i in range(30):
        desk.flow("GD-001", "回复", f"第{i}次回复", who="s1")
    seed(desk, "GD-002")
    first, second = pulled(make(config))
    (problem,) = first.error.problems
    assert problem.startswith("ticket: cannot be read: /openapi/v2/workorders/GD-001/flows answered page 2 with "
                              "the same 20 records as page 1: it ignores the paging parameters")
    assert second.ticket is not None


def test_the_list_walks_the_cursor_and_the_platforms_page_cap(desk, config):
    for i in range(120):
        seed(desk, f"GD-{i:03d}")
    items = pulled(make(config))
    assert len({i.id for i in items}) == 120
    lists = desk.sent("GET", r"/openapi/v2/workorders")
    assert len(lists) == 3 and all(c.params["pageSize"] == "100" for c in lists)  # 50 served a page


def _ties(desk, count):
    for i in range(count):
        seed(desk, f"GD-{i:03d}")
    for order in desk.orders.values():
        order["basic"]["updateTime"] = "2025-01-06 12:00:00"  # more orders at one instant than a page holds


def test_more_ties_than_a_page_follow_the_cursor(desk, config):
    _ties(desk, 60)
    assert len({i.id for i in pulled(make(config))}) == 60


def test_a_list_that_ignores_the_cursor_is_stopped(govhall_http, config):
    desk = Hotline12345(govhall_http, ignore_cursor=True)
    _ties(desk, 60)
    with pytest.raises(PaginationLoop, match="/openapi/v2/workorders sent the page token .* twice"):
        pulled(make(config))


def test_the_cursor_resumes_after_the_last_page_and_reads_a_change(desk, config):
    seed(desk, "GD-001")
    seed(desk, "GD-002")
    adapter = make(config)
    pages = list(adapter.pull(None, 100))
    assert [i.id for p in adapter.pull(pages[-1].cursor, 100) for i in p.items] == []
    desk.flow("GD-001", "回复", "补充", who="s1")
    assert [i.id for p in adapter.pull(pages[-1].cursor, 100) for i in p.items] == ["GD-001"]
    since = desk.sent("GET", r"/openapi/v2/workorders")[-1].params["updatedFrom"]
    assert since == "2025-01-06 10:00:01"  # the newest updateTime taken, less the 1 s slack, in Beijing time


# ---------------------------------------------------------------- writing

def test_the_write_requests_follow_the_templates(desk, config):
    seed(desk)
    desk.orders["GD-001"]["labels"] = ["govhall_sla_green", "12345"]
    (item,) = pulled(make(config))
    notes = [Note("tl.overdue", "[govhall:tl.overdue:completion]", "超时 [govhall:tl.overdue:completion]"),
             Note("escalation", "[govhall:escalation:1]", '引号 "}, {"x": 1 [govhall:escalation:1]')]
    patch = Patch(["govhall_sla_red"], ["govhall_sla_green"], {"govhall_light": "red", "govhall_escalation_level": 1},
                  notes)
    (outcome,) = make(config).apply([(item.ticket, patch)])
    assert outcome.ok, outcome.error
    assert desk.sent("PUT", r".*/ext-attrs")[0].body == {"attrs": [{"key": "govhall_light", "value": "red"},
                                                                   {"key": "govhall_escalation_level", "value": 1}]}
    assert desk.sent("POST", r".*/labels/add")[0].body == {"labels": ["govhall_sla_red"]}
    assert desk.sent("POST", r".*/labels/remove")[0].body == {"labels": ["govhall_sla_green"]}
    (note,) = desk.sent("POST", r".*/notes")  # every note in one internal note; a quote stays text
    assert note.body == {"content": notes[0].body + "\n\n" + notes[1].body, "visibility": "内部"}
    assert desk.orders["GD-001"]["labels"] == ["12345", "govhall_sla_red"]


def test_a_note_is_never_resent_blindly(desk, config):
    seed(desk)
    (item,) = pulled(make(config))
    desk.fail("POST", r".*/notes", 503)
    marker = "[govhall:tl.overdue:completion]"
    patch = Patch([], [], {}, [Note("tl.overdue", marker, f"超时 {marker}")])
    (outcome,) = make(config).apply([(item.ticket, patch)])
    assert not outcome.ok and "HTTP 503" in outcome.error and desk.requests("POST", r".*/notes") == 1


def test_a_conflict_on_write_says_so(desk, config):
    seed(desk)
    (item,) = pulled(make(config))
    desk.fail("PUT", r".*/ext-attrs", 409, {"code": "4090", "message": "工单已被修改"})
    (outcome,) = make(config).apply([(item.ticket, Patch([], [], {"govhall_light": "red"}, []))])
    assert not outcome.ok and outcome.conflict


def test_an_assignment_without_a_request_is_skipped_with_a_warning(desk, config, caplog):
    seed(desk)
    (item,) = pulled(make(config))
    with caplog.at_level(logging.WARNING, logger="govhall"):
        (outcome,) = make(config).apply([(item.ticket, Patch(assign="zhao"))])
    assert outcome.ok and "adapter.write.assign is not configured" in caplog.text


def test_a_template_value_never_changes_the_documents_structure():
    template = BodyTemplate.parse('{"content": {{note.body}}, "visibility": "内部"}', ["note.body"], "t")
    hostile = '", "visibility": "公开'
    assert template.render({"note.body": hostile}) == {"content": hostile, "visibility": "内部"}


def test_record_paths():
    record = {"a": {"b": [{"k": "x", "v": 1}, {"k": "y", "v": 2}]}, "n": None, "m": "set"}
    assert RecordPath.parse("a.b[k=y].v", "p")(record) == 2
    assert RecordPath.parse("a.b.0.k", "p")(record) == "x"
    assert RecordPath.parse("n|m", "p")(record) == "set"
    assert RecordPath.parse("a.c.d", "p")(record) is None


# ---------------------------------------------------------------- auth and secrets

def test_the_token_never_leaks(desk, config, caplog):
    seed(desk)
    adapter = make(config)
    assert TOKEN not in repr(adapter) and TOKEN not in repr(adapter.settings)
    desk.fail("GET", r".*/workorders/GD-001$", 400, {"message": f"bad request, token {TOKEN}"})
    with caplog.at_level(logging.DEBUG):
        (item,) = adapter.fetch(["GD-001"])
    assert "HTTP 400" in str(item.error) and TOKEN not in str(item.error) and TOKEN not in caplog.text


def test_a_wrong_token_is_refused(govhall_http, config):
    desk = Hotline12345(govhall_http, token="another")
    seed(desk)
    with pytest.raises(Exception, match="HTTP 401"):
        pulled(make(config))


def test_header_and_basic_auth(config, monkeypatch):
    monkeypatch.setenv("PLATFORM_PASSWORD", "pw-Secret-99")
    header = make(config, settings(auth={"type": "header", "header": "X-Api-Key", "token": "k-123456"}))
    assert header.session.headers["X-Api-Key"] == "k-123456" and "k-123456" not in repr(header)
    basic = make(config, settings(auth={"type": "basic", "user": "govhall", "password_env": "PLATFORM_PASSWORD"}))
    assert basic.session.headers["Authorization"].startswith("Basic ") and "pw-Secret-99" not in repr(basic)


# ---------------------------------------------------------------- bad configurations

@pytest.mark.parametrize("changes, message", [
    ({"list__since": None}, "adapter.list.since: required"),
    ({"map__kidn": "basic.category"}, "adapter.map.kidn: unknown key"),
    ({"map__id": None}, "adapter.map.id: required"),
    ({"auth": {"type": "oauth"}}, "adapter.auth.type: 'oauth' is not one of header, bearer, basic, none"),
    ({"auth": {"type": "bearer", "token_env": "NOPE_NOT_SET"}},
     "adapter.auth.token_env: the environment variable NOPE_NOT_SET is not set"),
    ({"list__paginator__type": "pages"}, "adapter.list.paginator.type: 'pages' is not one of"),
    ({"list__paginator__token": None}, "adapter.list.paginator.token: required"),
    ({"list__since__format": "yyyy-MM-dd"}, "adapter.list.since.format: 'yyyy-MM-dd' is none of"),
    ({"values__status__挂起": "suspended"}, "adapter.values.status.挂起: 'suspended' is not one of"),
    ({"events__values__role__坐席": "agent"}, "adapter.events.values.role.坐席: 'agent' is not one of"),
    ({"write__note__body": '{"content": "{{note.body}}"}'}, "adapter.write.note.body: not JSON once"),
    ({"write__note__body": '{"content": {{note.text}}}'}, "adapter.write.note.body: unknown placeholder {{note.text}}"),
    ({"write__note__path": "/x/{ticket}/notes"}, "adapter.write.note.path: only {id} may stand in the path"),
    ({"write__note": None}, "adapter.write.note: required"),
    ({"write__remove_tags": None}, "adapter.write.tags: required (the whole new list), or both"),
    ({"map__tags": "labels[key"}, "adapter.map.tags: 'labels[key' is not a record path"),
    ({"list__page_size": 0}, "adapter.list.page_size: expected 1 to 10000"),
    ({"agents": {"s1": {"role": "boss"}}}, "adapter.agents.s1.role: 'boss' is not one of"),
])
def test_a_bad_config_names_its_key_path(config, changes, message):
    with pytest.raises(ConfigError) as caught:
        make(config, settings(**changes))
    assert message in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_registered_through_the_entry_point():
    found = {ep.name: ep.value for ep in entry_points(group="govhall")}
    assert found.get("rest") == "govhall_adapters.rest_generic"


@pytest.mark.parametrize("name", ["rest-12345.toml", "rest-redmine.toml"])
def test_the_docs_print_the_example_files_as_they_are(name):
    doc = (ROOT / "docs" / "adapters" / "rest.md").read_text(encoding="utf-8")
    block = doc.split(f"<!-- example: examples/{name} -->\n```toml\n", 1)[1].split("```\n", 1)[0]
    assert block == (ROOT / "examples" / name).read_text(encoding="utf-8")


def test_the_redmine_example_loads(config, monkeypatch):
    monkeypatch.setenv("GOVHALL_REDMINE_API_KEY", "rm-key-0123456789")
    raw = tomllib.loads((ROOT / "examples" / "rest-redmine.toml").read_text(encoding="utf-8"))["adapter"]
    adapter = make(config, raw)
    assert adapter.session.headers["X-Redmine-API-Key"] == "rm-key-0123456789"
    assert "rm-key-0123456789" not in repr(adapter)
