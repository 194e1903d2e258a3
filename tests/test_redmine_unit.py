"""The redmine adapter offline, on ``responses``: mapping, paging, writes, secrets, the setup command.

``FakeRedmine`` behaves like Redmine 5.0 where it matters to the adapter (see
``docs/redmine-server.md``): ``updated_on>=T`` means ``> T - 1 s`` on
sub-second stamps shown in whole seconds; every PUT bumps ``updated_on``; a
field change and a private note make two journals; custom fields are by id.
"""
from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlparse

import pytest
import responses

from govhall_adapters import redmine_setup
from govhall_adapters.redmine import IssueWalk, RedmineAdapter
from govhall_sdk import cli
from govhall_sdk.config import ConfigError
from govhall_sdk.engine import Engine
from govhall_sdk.http import HTTPError, RetryPolicy
from govhall_sdk.model import Note, Patch
from govhall_sdk.state import StateStore
from govhall_sdk.sync import Sync
from govhall_sdk.testing import build_ticket

URL = "https://redmine.example"
KEY = "SECRET-KEY-0123456789abcdef"
ME, WANG, LI, ZHAO, ZHANG = 1, 5, 6, 7, 20
CF = {"channel": 1, "department": 2, "lead_department": 3, "co_departments": 4, "applicant_name": 5,
      "applicant_phone": 6, "applicant_id": 7, "applicant_birth_date": 8, "applicant_groups": 9,
      "required_materials": 10, "promised_working_days": 11, "govhall_light": 12, "govhall_due_at": 13,
      "govhall_first_inquiry": 14, "govhall_first_handler": 15, "govhall_escalation_level": 16, "tags": 17}
#: The names ``govhall redmine setup`` gives the custom fields (Redmine shows them with every value).
CF_NAMES = {1: "Channel", 2: "Department", 3: "Lead department", 4: "Co-departments", 5: "Applicant name",
            6: "Applicant phone", 7: "Applicant ID", 8: "Applicant birth date", 9: "Applicant groups",
            10: "Required materials", 11: "Promised working days", 17: "govhall_tags"}
STATUS_IDS = {"New": 1, "Resolved": 3, "Closed": 5, "Rejected": 6, "Open": 7, "Pending": 8, "Accepted": 9}
TRACKER_IDS = {"Consultation": 4, "Application": 5, "Complaint": 6, "Supervision": 7, "Assignment": 8, "Bug": 1}
USERS = {ME: ("govhall", "govhall bot"), WANG: ("wang", "Wei Wang"), LI: ("li", "Na Li"), ZHAO: ("zhao", "Lei Zhao"),
         ZHANG: ("zhangsan", "张三")}  # zhangsan: an applicant with a portal account


def settings(**over):
    s = {"url": URL, "api_key": KEY, "project": "govhall", "custom_fields": dict(CF),
         "users": {"wang": {"rank": 1, "department": "综合窗口"}, "li": {"rank": 2, "department": "综合窗口"},
                   str(ZHAO): {"rank": 3, "department": "不动产登记中心", "name": "赵主任"}}}
    s.update(over)
    return s


@pytest.fixture
def config(govhall_config):
    return govhall_config()


def make(config, **over):
    return RedmineAdapter(settings(**over), config, retry=RetryPolicy(attempts=3, base=0), sleep=lambda s: None)


def stamp(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeRedmine:
    """Enough of Redmine's issue API on ``responses``, with a clock that only moves forward."""

    def __init__(self, rsps, admin=True):
        self.rsps = rsps
        self.clock = datetime(2025, 1, 6, 1, 0, 0, 100000, tzinfo=timezone.utc)
        self.issues: dict[int, dict] = {}
        self.calls: list[tuple[str, str]] = []
        self.puts: list[dict] = []
        self.broken: set[int] = set()  # issues whose GET answers 500
        rsps.add_callback(responses.GET, re.compile(re.escape(URL) + r"/issues\.json.*"), callback=self._list)
        rsps.add_callback(responses.GET, re.compile(re.escape(URL) + r"/issues/\d+\.json.*"), callback=self._get)
        rsps.add_callback(responses.PUT, re.compile(re.escape(URL) + r"/issues/\d+\.json"), callback=self._put)
        rsps.add(responses.GET, URL + "/users/current.json",
                 json={"user": {"id": ME, "login": "govhall", "admin": admin, "api_key": KEY}})
        rsps.add(responses.GET, re.compile(re.escape(URL) + r"/users\.json.*"), json={"users": [
            {"id": uid, "login": login, "firstname": name} for uid, (login, name) in USERS.items()],
            "total_count": len(USERS), "offset": 0, "limit": 100})
        rsps.add(responses.GET, URL + "/issue_statuses.json",
                 json={"issue_statuses": [{"id": i, "name": n} for n, i in STATUS_IDS.items()]})

    def tick(self, seconds: float = 0.3) -> datetime:
        self.clock += timedelta(seconds=seconds)
        return self.clock

    def add(self, tracker="Complaint", status="Open", author=WANG, cfs=None, due_date=None, subject=None) -> int:
        iid = len(self.issues) + 1
        at = self.tick()
        values = {fid: None for fid in CF.values()}
        values[CF["tags"]] = []
        values[CF["applicant_groups"]] = []
        values.update({CF[k]: v for k, v in (cfs or {}).items()})
        self.issues[iid] = {"id": iid, "project": {"id": 1, "name": "Govhall demo"},
                            "tracker": {"id": TRACKER_IDS[tracker], "name": tracker},
                            "status": {"id": STATUS_IDS[status], "name": status},
                            "author": {"id": author, "name": USERS[author][1]}, "subject": subject or f"issue {iid}",
                            "due_date": due_date, "created": at, "updated": at, "closed_on": None,
                            "assigned_to": None, "cf": values, "journals": []}
        return iid

    def journal(self, iid, user, notes=None, private=False, details=(), at=None):
        issue = self.issues[iid]
        at = at or self.tick()
        issue["journals"].append({"id": sum(len(i["journals"]) for i in self.issues.values()) + 1,
                                  "user": {"id": user, "name": USERS[user][1]}, "notes": notes, "created": at,
                                  "private_notes": private, "details": list(details)})
        issue["updated"] = at

    def status(self, iid, user, new, notes=None):
        issue = self.issues[iid]
        old = issue["status"]["id"]
        issue["status"] = {"id": STATUS_IDS[new], "name": new}
        self.journal(iid, user, notes, details=[{"property": "attr", "name": "status_id",
                                                 "old_value": str(old), "new_value": str(STATUS_IDS[new])}])

    def as_json(self, iid, journals=False):
        i = self.issues[iid]
        out = {k: v for k, v in i.items() if k not in ("cf", "journals", "created", "updated")}
        out["created_on"], out["updated_on"] = stamp(i["created"]), stamp(i["updated"])
        out["custom_fields"] = [{"id": fid, "name": CF_NAMES.get(fid, str(fid)), "value": v} for fid, v in i["cf"].items()]
        if journals:
            out["journals"] = [{**{k: v for k, v in j.items() if k != "created"}, "created_on": stamp(j["created"])}
                               for j in i["journals"]]
        return out

    def _list(self, request):
        q = {k: v[0] for k, v in parse_qs(urlparse(request.url).query, keep_blank_values=True).items()}
        if "issue_id" in q:
            return self._by_id(q)
        self.calls.append(("list", q.get("updated_on", "")))
        assert q["status_id"] == "*" and q["sort"] == "updated_on,id" and q["project_id"] == "govhall"
        limit = int(q["limit"])
        offset = int(q["offset"]) if "offset" in q else (int(q.get("page", 1)) - 1) * limit
        assert limit <= 100
        rows = sorted(self.issues.values(), key=lambda i: (i["updated"], i["id"]))
        if "updated_on" in q:
            since = datetime.strptime(q["updated_on"][2:], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
            rows = [i for i in rows if i["updated"] > since - timedelta(seconds=1)]  # Redmine's ">="
        page = rows[offset:offset + limit]
        return 200, {}, json.dumps({"issues": [self.as_json(i["id"]) for i in page], "total_count": len(rows),
                                    "offset": offset, "limit": limit})

    def _by_id(self, q):
        """``GET /issues.json?issue_id=1,2,3``: "multiple issues by id using ',' to separate id" (Rest_Issues,
        "Listing issues", redmine.org/projects/redmine/wiki/Rest_Issues); ``last_updated_by=U``: only issues
        whose newest journal is by U (IssueQuery's "Last updated by" filter, Redmine 3.4+, Feature #17720 of
        its changelog; listed in the unofficial Redmine OpenAPI, d-yoshi.github.io/redmine-openapi). The list
        never holds journals ("include" takes attachments and relations only)."""
        self.calls.append(("by id", q["issue_id"] + (f" last_updated_by={q['last_updated_by']}"
                                                      if "last_updated_by" in q else "")))
        assert q["status_id"] == "*" and int(q["limit"]) <= 100
        rows = [self.issues[int(i)] for i in q["issue_id"].split(",") if int(i) in self.issues]
        if "last_updated_by" in q:
            rows = [i for i in rows if i["journals"] and
                    str(max(i["journals"], key=lambda j: j["id"])["user"]["id"]) == q["last_updated_by"]]
        return 200, {}, json.dumps({"issues": [self.as_json(i["id"]) for i in rows], "total_count": len(rows),
                                    "offset": 0, "limit": int(q["limit"])})

    def _get(self, request):
        iid = int(re.search(r"/issues/(\d+)\.json", request.url).group(1))
        self.calls.append(("get", str(iid)))
        if iid not in self.issues:
            return 404, {}, ""
        if iid in self.broken:
            return 500, {}, '{"status":500}'
        assert "include=journals" in request.url
        return 200, {}, json.dumps({"issue": self.as_json(iid, journals=True)})

    def _put(self, request):
        iid = int(re.search(r"/issues/(\d+)\.json", request.url).group(1))
        body = json.loads(request.body)["issue"]
        self.calls.append(("put", str(iid)))
        self.puts.append({"id": iid, **body})
        issue = self.issues[iid]
        at = self.tick(0.05)
        details = []
        for cf in body.get("custom_fields", []):
            old = issue["cf"].get(cf["id"])
            if old != cf["value"]:
                details.append({"property": "cf", "name": str(cf["id"]), "old_value": old, "new_value": cf["value"]})
                issue["cf"][cf["id"]] = cf["value"]
        if "assigned_to_id" in body:
            issue["assigned_to"] = {"id": body["assigned_to_id"], "name": USERS[body["assigned_to_id"]][1]}
            details.append({"property": "attr", "name": "assigned_to_id", "old_value": None,
                            "new_value": str(body["assigned_to_id"])})
        if details:
            self.journal(iid, ME, None, details=details, at=at)
        if body.get("notes"):
            self.journal(iid, ME, body["notes"], private=bool(body.get("private_notes")), at=at)
        issue["updated"] = at  # always, even when nothing changed
        return 204, {}, ""


@pytest.fixture
def fake():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield FakeRedmine(rsps)


def pulled(adapter, cursor=None, page_size=100):
    pages = list(adapter.pull(cursor, page_size))
    return pages, [i.id for p in pages for i in p.items]


# ---------------------------------------------------------------- settings

def test_settings_need_the_tags_field(config):
    fields = {k: v for k, v in CF.items() if k != "tags"}
    with pytest.raises(ConfigError, match=r"adapter\.custom_fields\.tags: required"):
        make(config, custom_fields=fields)


@pytest.mark.parametrize("over, message", [
    ({"trackers": {"Bug": "bug"}}, r"adapter\.trackers\.Bug: 'bug' is not one of"),
    ({"statuses": {"Done": "done"}}, r"adapter\.statuses\.Done: 'done' is not one of"),
    ({"users": {"wang": {"rank": "high"}}}, r"adapter\.users\.wang\.rank: expected an integer"),
    ({"users": {"wang": {"role": "boss"}}}, r"adapter\.users\.wang\.role: 'boss' is not one of"),
    ({"users": {"wang": {"dept": "x"}}}, r"adapter\.users\.wang\.dept: unknown key"),
    ({"custom_fields": {**CF, "channel": "1"}}, r"adapter\.custom_fields\.channel: expected a custom field id"),
    ({"note_prefixes": {"[x]": {"text": "body"}}}, r"adapter\.note_prefixes\.'\[x\]'\.type"),
    ({"status_events": {"done": "completion"}}, r"adapter\.status_events\.done: not a normalized status"),
    ({"url": "redmine.example"}, r"adapter\.url: expected an http\(s\) URL"),
    ({"start": "last year"}, r"adapter\.start: expected an ISO 8601 instant"),
    ({"colour": "red"}, r"adapter\.colour: unknown key"),
])
def test_settings_errors_name_the_key(config, over, message):
    with pytest.raises(ConfigError, match=message):
        make(config, **over)


def test_api_key_from_the_environment(config, monkeypatch):
    monkeypatch.setenv("MY_REDMINE_KEY", KEY)
    s = settings()
    del s["api_key"]
    adapter = RedmineAdapter({**s, "api_key_env": "MY_REDMINE_KEY"}, config)
    assert adapter.session.headers["X-Redmine-API-Key"] == KEY and KEY not in repr(adapter)
    monkeypatch.delenv("MY_REDMINE_KEY")
    with pytest.raises(ConfigError, match="MY_REDMINE_KEY"):
        RedmineAdapter({**s, "api_key_env": "MY_REDMINE_KEY"}, config)
    with pytest.raises(ConfigError, match=r"adapter\.api_key: required"):
        RedmineAdapter(s, config)


def test_example_config_is_valid(monkeypatch, govhall_pm):
    from govhall_sdk.config import load_config
    from govhall_sdk.sync import make_adapter

    monkeypatch.setenv("GOVHALL_REDMINE_API_KEY", KEY)
    example = Path(__file__).resolve().parents[1] / "examples" / "redmine.toml"
    config = load_config(example, govhall_pm)
    adapter = make_adapter(config, govhall_pm)
    assert isinstance(adapter, RedmineAdapter) and adapter.fields["tags"] == 17
    assert adapter.settings["users"]["portal"]["role"] == "system"
    order = list(adapter.prefixes)
    assert order.index("[受理通知书]") < order.index("[受理]")  # the longer prefix is tried first
    assert KEY not in repr(adapter)


def test_registered_as_an_adapter(govhall_pm):
    assert govhall_pm.adapters["redmine"][1] is RedmineAdapter


# ---------------------------------------------------------------- mapping

def test_maps_an_issue_and_its_journals(config, fake):
    iid = fake.add("Application", "New", cfs={
        "channel": "counter", "department": "综合窗口", "co_departments": "公安、税务", "lead_department": "综合窗口",
        "applicant_name": "张三", "applicant_phone": "13800138000", "applicant_id": "110101195001011234",
        "applicant_birth_date": "1950-01-01", "applicant_groups": ["elderly"],
        "required_materials": "身份证\n申请表, 营业执照", "promised_working_days": "5",
        "govhall_light": "green", "tags": ["govhall_sla_green"]}, due_date="2025-02-07")
    fake.journal(iid, WANG, "[收件] 身份证")
    fake.journal(iid, WANG, "[补正告知] 申请表、营业执照")
    fake.journal(iid, WANG, "您好，请补齐材料。")
    fake.journal(iid, LI, "内部讨论", private=True)
    fake.status(iid, LI, "Accepted", "[受理通知书] 已受理")
    fake.journal(iid, LI, None, details=[{"property": "cf", "name": "2", "old_value": "综合窗口", "new_value": "不动产登记中心"}])
    fake.journal(iid, ZHAO, "[批准延期] 5 个工作日")
    fake.journal(iid, ME, "【政务服务规则提醒】… [govhall:tl.overdue:completion]", private=True)
    fake.journal(iid, ZHAO, "[答复] 依据、条件、时限")
    adapter = make(config)
    (page,), ids = pulled(adapter)
    (item,) = page.items
    t = item.ticket
    assert item.error is None, item.error
    assert (t.id, t.kind, t.channel, t.status) == (str(iid), "application", "counter", "accepted")
    assert t.created_at == fake.issues[iid]["created"].replace(microsecond=0)
    assert t.promised_working_days == 5 and t.co_departments == ("公安", "税务") and t.lead_department == "综合窗口"
    assert t.required_materials == ("身份证", "申请表", "营业执照")
    assert (t.applicant.name, t.applicant.phone, t.applicant.birth_date.isoformat(), t.applicant.groups) == (
        "张三", "13800138000", "1950-01-01", ("elderly",))
    assert t.due_at.isoformat() == "2025-02-07T23:59:59+08:00"  # end of the day, policy time zone
    assert t.tags == ("govhall_sla_green",) and t.fields["govhall_light"] == "green"
    types = [e.type for e in t.events]
    assert types == ["submission", "notice", "reply", "reply", "acceptance", "assignment", "extension", "reply", "notice"]
    sub, notice, public, private, acc, move, ext, own, answer = t.events
    assert sub.items == ("身份证",) and sub.actor.id == "wang" and sub.actor.rank == 1
    assert notice.missing == ("申请表", "营业执照") and notice.form == "written"
    assert public.public and public.body == "您好，请补齐材料。"
    assert not private.public and private.actor.id == "li" and private.actor.department == "综合窗口"
    assert acc.notice_issued and acc.actor.id == "li" and t.accepted_at == acc.at  # status change + prefix: one event
    assert (move.from_department, move.to_department) == ("综合窗口", "不动产登记中心")
    assert ext.working_days == 5 and ext.approved_by.id == "zhao" and ext.approved_by.name == "赵主任"
    assert own.actor.role == "system" and not own.public and "[govhall:tl.overdue:completion]" in own.body
    assert answer.elements == ("basis", "conditions", "time_limit")
    assert t.extra["redmine"]["updated_on"] == stamp(fake.issues[iid]["updated"])


@pytest.mark.parametrize("note, expected", [
    ("[补正告知] 身份证、申请表", {"type": "notice", "missing": ("身份证", "申请表"), "form": "written"}),
    ("[补正告知] 缺件: 身份证、申请表; 方式: 口头", {"type": "notice", "missing": ("身份证", "申请表"), "form": "oral"}),
    ("[不予受理] 原因: 材料不全; 依据: 行政许可法第三十二条; 通知书: 已出具",
     {"type": "rejection", "reason": "材料不全", "legal_basis": "行政许可法第三十二条", "notice_issued": True,
      "stage": "before_acceptance"}),
    ("[不予受理] 材料不全，依据：不明", {"type": "rejection", "reason": "材料不全，依据：不明"}),
    ("[暂缓答复] 联系电话：13900139000", {"type": "deferral", "contact": "联系电话：13900139000"}),
    ("[代办]", {"type": "proxy_request", "mode": "proxy"}),
    ("[评价] 2", {"type": "evaluation", "rating": 2}),
    ("[ANSWER] basis, procedure", {"type": "notice", "elements": ("basis", "procedure")}),
    ("[答复要素] 依据、时限", {"type": "notice", "elements": ("basis", "time_limit"), "missing": None}),
    ("[答复要素] 要素: 依据、条件", {"type": "notice", "elements": ("basis", "conditions")}),
    ("[不予登记] 查封", {"type": "rejection", "stage": "after_acceptance", "reason": "查封"}),
    ("[收费] 50 元", {"type": "fee", "amount": 50.0}),
    ("[延期] 5", {"type": "extension", "working_days": 5, "approved_by": None}),
])
def test_note_prefixes_shorthand_and_pairs(config, fake, note, expected):
    iid = fake.add()
    fake.journal(iid, LI, note)
    (page,), _ = pulled(make(config))
    (event,) = page.items[0].ticket.events
    for key, value in expected.items():
        assert getattr(event, key) == value, key
    assert event.extra["note"] == note and event.actor.id == "li"


@pytest.mark.parametrize("note, expected", [
    # a prefix, then free text: the prefix keeps its meaning, the text is the body (not garbage fields)
    ("[代办] 申请人行动不便，由窗口工作人员全程代办。",
     {"type": "proxy_request", "mode": "proxy", "body": "申请人行动不便，由窗口工作人员全程代办。"}),
    ("[代办] 申请人说：腿脚不便; 代办员: zhao", {"type": "proxy_request", "mode": "proxy", "agent.id": "zhao",
                                        "agent.rank": 3, "body": "申请人说：腿脚不便"}),
    ("[受理] 备注: 材料齐全", {"type": "acceptance", "notice_issued": False, "body": "备注: 材料齐全"}),
    ("[延期] 原因: 需现场勘验; 工作日: 5", {"type": "extension", "working_days": 5, "body": "原因: 需现场勘验"}),
    # an answer: the element list ends at the first sentence end; the greeting is the body
    ("[答复] 依据、条件、材料、程序、时限。您好，请携带身份证原件：复印件不收。",
     {"type": "notice", "elements": ("basis", "conditions", "materials", "procedure", "time_limit"),
      "missing": None, "body": "您好，请携带身份证原件：复印件不收。"}),
    ("[答复] 依据、条件、材料、程序、时限\n您好", {"elements": ("basis", "conditions", "materials", "procedure",
                                                     "time_limit"), "body": "您好"}),
    # the Chinese names of the elements, wherever elements are read
    ("[答复] 依据、条件、材料、办事程序、办理时限", {"elements": ("basis", "conditions", "materials", "procedure",
                                                       "time_limit")}),
    ("[答复] 依据、流程和时限。", {"elements": ("basis", "procedure", "time_limit")}),
    ("[答复要素] 要素: 依据、条件、办理时限。谢谢", {"elements": ("basis", "conditions", "time_limit"), "body": "谢谢"}),
    ("[答复] 依据：《社会保险法》第十九条；条件：参保满一年；办理时限：5个工作日",
     {"elements": ("basis", "conditions", "time_limit"),  # keys naming elements: their text is the answer's body
      "body": "依据：《社会保险法》第十九条；条件：参保满一年；办理时限：5个工作日"}),
    # a bare answer names no element (otn.answer_incomplete then lists all five)
    ("[答复]", {"type": "notice", "elements": ()}),
    ("[答复] 您好，社保转移请到二楼窗口办理。", {"type": "notice", "elements": (), "body": "您好，社保转移请到二楼窗口办理。"}),
    ("[补正告知] 申请表、营业执照。请于三日内补齐", {"missing": ("申请表", "营业执照"), "body": "请于三日内补齐"}),
    ("[帮代办] 申请人行动不便", {"type": "proxy_request", "mode": None, "body": "申请人行动不便"}),
])
def test_note_prefixes_with_free_text(config, fake, note, expected):
    iid = fake.add()
    fake.journal(iid, LI, note)
    adapter = make(config, note_prefixes={"[帮代办]": "proxy_request"})
    (page,), _ = pulled(adapter)
    (item,) = page.items
    assert item.error is None and not getattr(item, "warnings", ()), (item.error, getattr(item, "warnings", ()))
    (event,) = item.ticket.events
    for key, value in expected.items():
        if key == "body":
            assert event.extra.get("body") == value
            continue
        got = event
        for part in key.split("."):
            got = getattr(got, part)
        assert got == value, key
    if "body" not in expected:
        assert "body" not in event.extra


@pytest.mark.parametrize("note, warning", [
    ("[延期] 工作日: 三; 批准人: zhao", "[延期] 工作日: '三' is not a positive whole number of working days"),
    ("[延期] 工作日: 0", "[延期] 工作日: '0' is not a positive whole number of working days"),
    ("[延期] 三个工作日", "[延期] working_days: '三个工作日' is not a positive whole number of working days"),
    ("[延期] 批准人: zhao", "[延期]: no working days given; not counted as extension"),
    ("[评价] 评分: 十分满意", "[评价] 评分: '十分满意' is not a whole number from 1 to 5"),
])
def test_an_unreadable_note_field_is_reported_by_the_journal(config, fake, note, warning):
    """The note is kept as what it plainly is, a reply; the rest of the issue is still a ticket."""
    iid = fake.add("Application", cfs={"promised_working_days": "5"})
    fake.journal(iid, WANG, "[受理]")
    fake.journal(iid, LI, note)
    (page,), _ = pulled(make(config))
    (item,) = page.items
    assert item.error is None and item.ticket.promised_working_days == 5
    acceptance, reply = item.ticket.events
    assert acceptance.type == "acceptance" and (reply.type, reply.body, reply.public) == ("reply", note, True)
    journal = fake.issues[iid]["journals"][-1]["id"]
    (message,) = item.warnings
    assert message.startswith(f"journal {journal}: {warning}"), message


def test_a_bad_value_is_reported_every_run_and_the_rest_is_written(config, fake, govhall_pm):
    iid = fake.add("Complaint", cfs={"channel": "phone", "department": "综合窗口"})
    fake.journal(iid, WANG, "已登记")
    fake.journal(iid, LI, "[延期] 工作日: 三")
    journal = fake.issues[iid]["journals"][-1]["id"]
    bad_birth = fake.add("Complaint", cfs={"channel": "phone", "applicant_birth_date": "1950-02-30"})
    now = fake.clock + timedelta(days=60)

    def run():
        return Sync(Engine(config, govhall_pm), make(config), StateStore(config.state_path)).run(now)

    first = run()
    assert not first.ok and first.evaluated == 2 and first.written == 2  # evaluated and written all the same
    assert set(first.errors) == {str(iid), str(bad_birth)}
    assert first.errors[str(iid)].startswith(f"journal {journal}: [延期] 工作日: '三'")
    assert "custom field 'Applicant birth date' (id 8)" in first.errors[str(bad_birth)]
    assert "govhall_tl_overdue" in fake.issues[iid]["cf"][CF["tags"]]  # the extension did not count: overdue
    puts = len(fake.puts)
    second = run()  # nothing changed on Redmine: asked again (the schedule), reported again, nothing written twice
    assert set(second.errors) == {str(iid), str(bad_birth)} and second.written == 0 and len(fake.puts) == puts
    fake.tick(2)
    fake.issues[bad_birth]["cf"][CF["applicant_birth_date"]] = "1950-02-28"
    fake.journal(bad_birth, WANG, "已更正出生日期")
    third = run()
    assert set(third.errors) == {str(iid)}


# ---------------------------------------------------------------- who wrote a note

APPLICANT_USERS = {"users": {**settings()["users"], str(ZHANG): {"role": "applicant", "name": "张三"}}}


def test_an_applicants_note_is_a_reply_whatever_it_starts_with(config, fake):
    iid = fake.add("Complaint")
    fake.journal(iid, ZHANG, "[办结] 我的问题已经解决了吗？")
    fake.journal(iid, ZHANG, "[延期] 工作日: 30")
    (page,), _ = pulled(make(config, **APPLICANT_USERS))
    t = page.items[0].ticket
    assert [e.type for e in t.events] == ["reply", "reply"] and t.resolved_at is None
    assert all(e.actor.role == "applicant" and e.public for e in t.events)
    assert "completion" not in t.event_types and "extension" not in t.event_types


def test_a_staff_note_with_the_same_prefix_is_the_event(config, fake):
    iid = fake.add("Complaint")
    fake.journal(iid, LI, "[办结] 已电话告知处理结果。")
    (page,), _ = pulled(make(config, **APPLICANT_USERS))
    (event,) = page.items[0].ticket.events
    assert event.type == "completion" and event.actor.id == "li" and event.extra["body"] == "已电话告知处理结果。"


def test_an_applicants_pasted_marker_is_their_public_reply(config, fake):
    """It is not govhall's note: the note is still written (the marker in a public reply proves nothing)."""
    iid = fake.add("Complaint")
    fake.journal(iid, ZHANG, "你们系统写的 [govhall:tl.overdue:completion] 是什么意思？")
    adapter = make(config, **APPLICANT_USERS)
    (page,), _ = pulled(adapter)
    t = page.items[0].ticket
    (reply,) = t.events
    assert (reply.type, reply.public, reply.actor.id, reply.actor.role) == ("reply", True, "zhangsan", "applicant")
    note = Note("tl.overdue", "[govhall:tl.overdue:completion]", "超时 [govhall:tl.overdue:completion]")
    assert adapter.build_update(t, Patch([], [], {}, [note]))["notes"] == note.body
    # the same marker in govhall's own private note: written already
    fake.journal(iid, ME, "超时 [govhall:tl.overdue:completion]", private=True)
    (t,) = [i.ticket for i in make(config, **APPLICANT_USERS).fetch([str(iid)])]
    assert t.events[-1].actor.role == "system" and "notes" not in adapter.build_update(t, Patch([], [], {}, [note]))


def test_the_assignee_is_the_issues_assigned_user(config, fake):
    assigned = fake.add("Complaint")
    fake.issues[assigned]["assigned_to"] = {"id": ZHAO, "name": "Lei Zhao"}
    unknown = fake.add("Complaint")
    fake.issues[unknown]["assigned_to"] = {"id": 42, "name": "Xiao Ming"}
    nobody = fake.add("Complaint")
    (page,), _ = pulled(make(config))
    t = {i.ticket.id: i.ticket for i in page.items}
    a = t[str(assigned)].assignee
    assert (a.id, a.name, a.rank, a.department, a.role) == ("zhao", "赵主任", 3, "不动产登记中心", "staff")
    b = t[str(unknown)].assignee
    assert (b.id, b.name, b.rank, b.department, b.role) == ("42", "Xiao Ming", 0, None, "staff")
    assert t[str(nobody)].assignee is None


def test_statuses_become_events(config, fake):
    created_accepted = fake.add("Application", "Accepted")
    rejected = fake.add("Application", "New")
    fake.status(rejected, WANG, "Rejected", "材料不齐全，不予受理。")
    resolved = fake.add("Complaint", "Open")
    fake.status(resolved, LI, "Resolved", "已办结。")
    fake.issues[resolved]["closed_on"] = stamp(fake.clock)
    (page,), _ = pulled(make(config))
    t = {i.ticket.id: i.ticket for i in page.items}
    first = t[str(created_accepted)]
    assert [e.type for e in first.events] == ["acceptance"] and first.accepted_at == first.created_at
    rej = t[str(rejected)]
    assert [e.type for e in rej.events] == ["rejection", "reply"]
    assert rej.events[0].reason == "材料不齐全，不予受理。" and rej.resolved_at is None and rej.status == "rejected"
    done = t[str(resolved)]
    assert [e.type for e in done.events] == ["completion", "reply"]
    assert done.resolved_at.isoformat() == fake.issues[resolved]["closed_on"].replace("Z", "+00:00")


def test_assignee_moves_count_only_between_known_departments(config, fake):
    iid = fake.add(cfs={"department": "综合窗口"})

    def assign(old, new):
        fake.journal(iid, LI, None, details=[{"property": "attr", "name": "assigned_to_id",
                                              "old_value": old and str(old), "new_value": str(new)}])

    assign(None, WANG)  # first assignee: not a move
    assign(WANG, LI)    # same department: not a move
    assign(LI, ZHAO)    # 综合窗口 -> 不动产登记中心
    (page,), _ = pulled(make(config))
    (move,) = page.items[0].ticket.events
    assert (move.type, move.from_department, move.to_department) == ("assignment", "综合窗口", "不动产登记中心")


def test_mapping_problems_are_per_ticket_errors(config, fake):
    odd = fake.add("Complaint")
    fake.issues[odd]["status"] = {"id": 2, "name": "In Progress"}
    fake.add("Bug")  # another tracker in the project: not a govhall ticket, silently left alone
    good = fake.add("Consultation")
    (page,), _ = pulled(make(config))
    by_id = {i.id: i for i in page.items}
    assert set(by_id) == {str(odd), str(good)}
    assert "Redmine status 'In Progress' is not mapped" in str(by_id[str(odd)].error)
    assert by_id[str(good)].ticket is not None and not getattr(by_id[str(good)], "warnings", ())


def test_an_unreadable_field_value_is_dropped_and_reported_by_the_field(config, fake):
    """A bad value disables only what needs it: the ticket is read, the problem names the custom field."""
    iid = fake.add("Application", cfs={"promised_working_days": "five", "channel": "pigeon",
                                       "applicant_birth_date": "1950-13-01", "applicant_groups": ["elderly", "老年"],
                                       "applicant_name": "张三", "required_materials": "身份证"})
    (page,), _ = pulled(make(config))
    (item,) = page.items
    t = item.ticket
    assert item.error is None and t is not None
    assert t.promised_working_days is None and t.channel is None and t.applicant.birth_date is None
    assert t.applicant.name == "张三" and t.applicant.groups == ("elderly",) and t.required_materials == ("身份证",)
    warnings = "\n".join(item.warnings)
    assert "custom field 'Promised working days' (id 11): 'five' is not a whole number" in warnings
    assert "custom field 'Channel' (id 1): 'pigeon' is not one of counter" in warnings
    assert "custom field 'Applicant birth date' (id 8): the value is not a date" in warnings
    assert "1950-13-01" not in warnings  # personal data is not quoted
    assert "custom field 'Applicant groups' (id 9): '老年' is not an applicant group" in warnings
    assert len(item.warnings) == 4 and str(iid) == t.id


def test_fetch_reports_missing_and_unmapped(config, fake):
    iid = fake.add("Complaint")
    bug = fake.add("Bug")
    items = {i.id: i for i in make(config).fetch([str(iid), "999", str(bug), "C-1"])}
    assert items[str(iid)].ticket.kind == "complaint"
    assert "no such issue" in str(items["999"].error)
    assert "tracker 'Bug' is not mapped" in str(items[str(bug)].error)
    assert "not a Redmine issue id" in str(items["C-1"].error)


# ---------------------------------------------------------------- paging and the cursor

def test_since_a_date_or_an_instant(config, fake):
    """``govhall run --since 2025-01-06``: a date is midnight in the policy zone, sent as Redmine's UTC form."""
    fake.add()
    pulled(make(config), "2025-01-06")
    pulled(make(config), "2025-01-06T09:00:05+08:00")
    sent = [u for kind, u in fake.calls if kind == "list"]
    assert sent[0] == ">=2025-01-05T16:00:00Z" and ">=2025-01-06T01:00:05Z" in sent
    assert pulled(make(config))[1] == ["1"]  # no cursor: from the `start` setting
    assert [u for kind, u in fake.calls if kind == "list"][-1] == ">=2000-01-01T00:00:00Z"


@pytest.mark.parametrize("spacing", [0.3, 0.01])  # 0.01: all 25 in one second, more than a page
def test_pages_every_issue_once(config, fake, spacing):
    for _ in range(25):
        fake.add()
        fake.tick(spacing)
    adapter = make(config)
    pages, ids = pulled(adapter, page_size=10)
    assert sorted(ids, key=int) == [str(i) for i in range(1, 26)]
    assert all(p.cursor for p in pages)
    assert [c for c in fake.calls if c[0] == "get"] == [("get", str(i)) for i in range(1, 26)]
    assert pulled(make(config), pages[-1].cursor, 10)[1] == []  # nothing new after the last cursor
    fake.tick(1.5)
    fake.journal(4, LI, "补充说明")
    assert pulled(make(config), pages[-1].cursor, 10)[1] == ["4"]


@pytest.mark.parametrize("spacing", [0.3, 0.01])
def test_writes_during_the_walk_skip_nothing(config, fake, spacing):
    """Each write bumps updated_on: an offset walk would skip issues; the keyset walk does not."""
    for _ in range(25):
        fake.add()
        fake.tick(spacing)
    adapter = make(config)
    seen, skipped, cursor = [], 0, None
    for page in adapter.pull(None, 10):
        seen += [i.id for i in page.items]
        skipped += page.skipped
        cursor = page.cursor
        fake.tick(2)  # the writes come seconds after the issues' last change
        outcomes = adapter.apply([(i.ticket, Patch(["govhall_sla_red"], [], {"govhall_light": "red"}, [])) for i in page.items])
        assert all(o.ok for o in outcomes)
    assert sorted(seen, key=int) == [str(i) for i in range(1, 26)] and len(seen) == 25
    assert skipped == 25  # every write came back once as govhall's own echo, not evaluated again
    assert pulled(make(config), cursor, 10)[1] == []


def _written_once(config, fake, memory, sleep=lambda s: None):
    """One issue pulled and written by an adapter with ``memory``, its last change 5 s before the read;
    the adapter and the cursor after the page."""
    iid = fake.add()
    fake.tick(5)
    adapter = RedmineAdapter(settings(), config, retry=RetryPolicy(attempts=3, base=0), sleep=sleep)
    adapter.memory = memory
    (page,) = adapter.pull(None)
    fake.tick(2)
    (out,) = adapter.apply([(page.items[0].ticket, Patch(["govhall_sla_red"], [], {}, []))])
    assert out.ok
    return iid, page.cursor


def _rerun(config, fake, memory, cursor):
    """The next run's pull from ``cursor``: the ids it read, how many echoes it skipped, the issues it GOT."""
    adapter = make(config)
    adapter.memory = memory
    calls = len(fake.calls)
    pages, ids = pulled(adapter, cursor)
    return ids, sum(p.skipped for p in pages), [c for c in fake.calls[calls:] if c[0] == "get"]


def test_the_next_run_knows_govhalls_echo_from_the_list_alone(config, fake):
    memory = StateStore(config.state_path).memory("redmine")
    iid, cursor = _written_once(config, fake, memory)
    assert ("by id", f"{iid} last_updated_by={ME}") in fake.calls  # read back once, by id
    assert memory.get(f"echo:{iid}") == stamp(fake.issues[iid]["updated"])
    assert _rerun(config, fake, memory, cursor) == ([], 1, [])  # no GET of the issue: nothing to read


def test_a_persons_journal_right_after_govhalls_write_is_read_next_run(config, fake):
    """The person writes in the same second as govhall's PUT, before the read-back: not govhall's echo."""
    memory = StateStore(config.state_path).memory("redmine")
    iid, cursor = _written_once(config, fake, memory, sleep=lambda s: fake.journal(1, WANG, "已电话答复", at=fake.clock))
    assert memory.get(f"echo:{iid}") is None
    ids, skipped, got = _rerun(config, fake, memory, cursor)
    assert ids == [str(iid)] and skipped == 0 and got == [("get", str(iid))]


def test_a_persons_journal_after_the_read_back_is_read_next_run(config, fake):
    memory = StateStore(config.state_path).memory("redmine")
    iid, cursor = _written_once(config, fake, memory)
    fake.tick(1)  # the read-back waited a second: a later change shows another updated_on
    fake.journal(iid, WANG, "已电话答复")
    ids, skipped, got = _rerun(config, fake, memory, cursor)
    assert ids == [str(iid)] and skipped == 0 and got == [("get", str(iid))]
    assert memory.get(f"echo:{iid}") is None  # seen at another version: forgotten


def test_a_change_between_govhalls_read_and_its_write_is_a_conflict(config, fake):
    iid = fake.add()
    adapter = make(config)
    (page,) = adapter.pull(None)
    fake.tick(1.5)
    fake.journal(iid, WANG, "已电话答复")
    (out,) = adapter.apply([(page.items[0].ticket, Patch(["govhall_sla_red"], [], {}, []))])
    assert out.conflict and not out.ok and fake.puts == []  # govhall run reads it again and evaluates it again


def test_a_change_in_the_second_govhall_read_is_never_taken_for_its_echo(config, fake):
    """Read less than a second after its last change, a person's note in that second would look unchanged."""
    memory = StateStore(config.state_path).memory("redmine")
    iid = fake.add()
    adapter = make(config)
    adapter.memory = memory
    (page,) = adapter.pull(None)
    # the PUT lands at the next whole second: updated_on moves by one shown second, read to write took longer
    fake.clock = fake.clock.replace(microsecond=0) + timedelta(seconds=1) - timedelta(milliseconds=50)
    assert adapter.apply([(page.items[0].ticket, Patch(["govhall_sla_red"], [], {}, []))])[0].ok
    assert memory.get(f"echo:{iid}") is None and _rerun(config, fake, memory, page.cursor)[0] == [str(iid)]


def test_every_ten_writes_are_checked_again(config, fake):
    """A person's change made while govhall writes the page's first PUTs is caught before the later ones."""
    for _ in range(15):
        fake.add()
    fake.tick(5)
    adapter = make(config)
    (page,) = adapter.pull(None)

    def after(response, *args, **kwargs):  # the person notes issue 12 while govhall writes issue 3
        if response.request.method == "PUT" and response.request.url.endswith("/issues/3.json"):
            fake.tick(1.5)
            fake.journal(12, WANG, "已电话答复")

    adapter.session.hooks["response"].append(after)
    outcomes = adapter.apply([(i.ticket, Patch(["govhall_sla_red"], [], {}, [])) for i in page.items])
    assert [o.ticket_id for o in outcomes if o.conflict] == ["12"] and len(fake.puts) == 14
    assert len([c for c in fake.calls if c[0] == "by id"]) == 2 + 1  # checked before 1-10 and 11-15, read back


def test_a_failed_read_back_keeps_nothing(config, fake):
    memory = StateStore(config.state_path).memory("redmine")
    real = fake._by_id
    fake._by_id = lambda q: (500, {}, "{}") if "last_updated_by" in q else real(q)
    iid, cursor = _written_once(config, fake, memory)
    assert memory.get(f"echo:{iid}") is None and _rerun(config, fake, memory, cursor)[0] == [str(iid)]


def test_an_issue_that_cannot_be_read_is_its_own_error_and_the_others_are_pulled(config, fake):
    ok, broken, also = fake.add(), fake.add(), fake.add()
    fake.broken.add(broken)
    (page,) = make(config).pull(None)
    assert [i.id for i in page.items] == [str(ok), str(broken), str(also)]
    assert page.items[1].ticket is None and "ticket: cannot be read: GET" in str(page.items[1].error)
    assert page.items[0].ticket and page.items[2].ticket


def test_first_pull_never_skips(config, fake):
    iid = fake.add()
    fake.journal(iid, ME, "[govhall:x]", private=True)
    assert pulled(make(config))[1] == [str(iid)]


def test_the_walk_looks_once_more_after_a_write():
    from govhall_sdk.rest import SyncCursor

    written: list[int] = []
    walk = IssueWalk(SyncCursor(datetime(2025, 1, 6, tzinfo=timezone.utc)), written, per_page=10,
                     key=lambda r: (str(r["id"]), r["updated_on"]), set_since=RedmineAdapter.set_since,
                     page_param="page", size_param="limit")
    params: dict = {}
    walk.init_request(params)
    assert params == {"updated_on": ">=2025-01-06T00:00:00Z", "page": 1, "limit": 10}
    short = [{"id": 1, "updated_on": "2025-01-06T01:00:00Z"}]
    walk.take(short)
    walk.update_state(None, short)
    assert not walk.has_next_page  # a short page and nothing written: the end
    walk.update_request({"params": params})
    walk.take(short)
    written.append(1)
    walk.update_state(None, short)
    assert walk.has_next_page  # written meanwhile: once more, to see the echo


# ---------------------------------------------------------------- writing back

def _ticket(config, fake, **cfs):
    fake.add(cfs=cfs)
    (page,), _ = pulled(make(config))
    return page.items[0].ticket


def test_noop_put_is_skipped(config, fake):
    t = _ticket(config, fake, govhall_light="red", govhall_escalation_level="1", tags=["govhall_sla_red"])
    adapter = make(config)
    calls = len(fake.calls)
    patch = Patch(["govhall_sla_red"], ["govhall_sla_green"], {"govhall_light": "red", "govhall_escalation_level": 1,
                                                                 "govhall_unmapped": "x"}, [])
    assert adapter.apply([(t, patch)])[0].ok
    assert fake.puts == [] and adapter.avoided_puts == 1
    assert [c for c in fake.calls[calls:] if c[0] != "get"] == []


def test_put_body_has_only_the_changes(config, fake):
    t = _ticket(config, fake, govhall_light="green", govhall_first_inquiry="wang", tags=["govhall_sla_green", "vip"])
    fake.journal(int(t.id), ME, "old [govhall:tl.due_soon:completion]", private=True)
    (t,) = [i.ticket for i in make(config).fetch([t.id])]
    adapter = make(config)
    patch = Patch(["govhall_sla_red", "govhall_tl_overdue"], ["govhall_sla_green"],
                  {"govhall_light": "red", "govhall_first_inquiry": "wang", "govhall_due_at": None,
                   "govhall_escalation_level": 1},
                  [Note("tl.overdue", "[govhall:tl.overdue:completion]", "超时 [govhall:tl.overdue:completion]"),
                   Note("escalation", "[govhall:escalation:1]", "升级 [govhall:escalation:1]"),
                   Note("tl.due_soon", "[govhall:tl.due_soon:completion]", "临近 [govhall:tl.due_soon:completion]")],
                  assign="zhao")
    assert adapter.apply([(t, patch)])[0].ok
    (put,) = fake.puts
    cfs = {c["id"]: c["value"] for c in put["custom_fields"]}
    assert cfs == {CF["tags"]: ["vip", "govhall_sla_red", "govhall_tl_overdue"], CF["govhall_light"]: "red",
                   CF["govhall_escalation_level"]: "1"}  # due_at None == unset; first_inquiry unchanged
    assert put["notes"] == "超时 [govhall:tl.overdue:completion]\n\n升级 [govhall:escalation:1]"
    assert put["private_notes"] is True and put["assigned_to_id"] == ZHAO
    assert [j["private_notes"] for j in fake.issues[int(t.id)]["journals"][-2:]] == [False, True]


def test_fields_not_enabled_for_the_issue_are_not_written(config, fake):
    t = _ticket(config, fake)
    del fake.issues[int(t.id)]["cf"][CF["govhall_light"]]
    (t,) = [i.ticket for i in make(config).fetch([t.id])]
    adapter = make(config)
    adapter.apply([(t, Patch([], [], {"govhall_light": "red"}, []))])
    assert fake.puts == []  # Redmine would answer 204 and keep nothing: every run would PUT again


def test_assign_to_an_unknown_user_writes_the_rest(config, fake, caplog):
    t = _ticket(config, fake)
    adapter = make(config)
    adapter.apply([(t, Patch(["govhall_sla_red"], [], {}, [], assign="部门负责人"))])
    (put,) = fake.puts
    assert "assigned_to_id" not in put and "cannot assign" in caplog.text


def test_put_with_a_note_is_resent_only_when_it_did_not_land(config, fake):
    """A 500 may come before or after Redmine saved the note: read the issue before resending."""
    t = _ticket(config, fake)
    adapter = make(config)
    patch = Patch(["govhall_sla_red"], [], {}, [Note("c", "[govhall:c]", "body [govhall:c]")])
    real_put = fake._put
    fails = iter([True, False])

    def flaky(request):  # first attempt: refused (database is locked, nothing saved)
        return (500, {}, '{"status":500}') if next(fails) else real_put(request)

    fake.rsps.remove(responses.PUT, re.compile(re.escape(URL) + r"/issues/\d+\.json"))
    fake.rsps.add_callback(responses.PUT, re.compile(re.escape(URL) + r"/issues/\d+\.json"), callback=flaky)
    (out,) = adapter.apply([(t, patch)])
    assert out.ok and len(fake.puts) == 1  # checked (a GET), then sent again: one note on the issue
    assert [j["notes"] for j in fake.issues[int(t.id)]["journals"] if j["notes"]] == ["body [govhall:c]"]

    # saved, but the answer was lost (a 502 from a proxy): the check finds the note and does not resend
    t2 = _ticket(config, fake)
    fake.rsps.remove(responses.PUT, re.compile(re.escape(URL) + r"/issues/\d+\.json"))
    fake.rsps.add_callback(responses.PUT, re.compile(re.escape(URL) + r"/issues/\d+\.json"),
                           callback=lambda r: (real_put(r), (502, {}, ""))[1])
    (out,) = make(config).apply([(t2, patch)])
    assert out.ok and [j["notes"] for j in fake.issues[int(t2.id)]["journals"] if j["notes"]] == ["body [govhall:c]"]


def test_put_without_a_note_follows_the_retry_policy(config):
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, URL + "/users/current.json", json={"user": {"id": ME, "login": "govhall", "admin": True}})
        rsps.add(responses.PUT, URL + "/issues/1.json", status=503)
        rsps.add(responses.PUT, URL + "/issues/1.json", status=204)
        rsps.add(responses.GET, re.compile(re.escape(URL) + r"/issues\.json.*"), json={"issues": []})
        t = build_ticket(id="1", redmine={"custom_field_ids": list(CF.values())})
        (out,) = make(config, users={}).apply([(t, Patch(["govhall_sla_red"], [], {}, []))])
        assert out.ok and len([c for c in rsps.calls if c.request.method == "PUT"]) == 2


# ---------------------------------------------------------------- secrets and errors

def test_token_never_in_errors_or_repr(config):
    adapter = make(config)
    assert KEY not in repr(adapter) and "***" in repr(adapter)
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, URL + "/users/current.json", status=500,
                 body=json.dumps({"error": "boom", "api_key": KEY, "url": f"{URL}/issues.json?key={KEY}"}))
        with pytest.raises(HTTPError) as exc:
            list(adapter.pull(None))
    assert KEY not in str(exc.value) and "***" in str(exc.value)
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, URL + "/users/current.json", json={"user": {"id": ME, "admin": True}})
        rsps.add(responses.GET, re.compile(re.escape(URL) + r"/users\.json.*"), json={"users": [], "total_count": 0})
        rsps.add(responses.PUT, URL + "/issues/1.json", status=422, body=json.dumps({"errors": [f"bad {KEY}"]}))
        rsps.add(responses.GET, re.compile(re.escape(URL) + r"/issues\.json.*"), json={"issues": []})
        (out,) = make(config).apply([(build_ticket(id="1"), Patch(["govhall_sla_red"], [], {}, []))])
    assert not out.ok and KEY not in out.error and "422" in out.error


def test_wrong_key_fails_loudly(config):
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, URL + "/users/current.json", status=401)
        with pytest.raises(HTTPError) as exc:
            list(make(config).pull(None))
    assert exc.value.status == 401


def test_logins_need_an_admin_key(config):
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, URL + "/users/current.json", json={"user": {"id": ME, "login": "govhall", "admin": False}})
        with pytest.raises(ConfigError, match="numeric Redmine id"):
            list(make(config).pull(None))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, URL + "/users/current.json", json={"user": {"id": ME, "login": "govhall", "admin": False}})
        rsps.add(responses.GET, re.compile(re.escape(URL) + r"/issues\.json.*"), json={"issues": [], "total_count": 0})
        adapter = make(config, users={"5": {"rank": 1}})
        assert list(adapter.pull(None)) == [] and adapter.requests_made == 2


# ---------------------------------------------------------------- a sync run offline

def test_sync_rerun_makes_no_write(config, fake, govhall_pm):
    for _ in range(5):
        iid = fake.add(cfs={"channel": "phone", "department": "综合窗口"})
        fake.journal(iid, WANG, "已登记")
    fake.tick(5)  # govhall reads the issues seconds after their last change
    now = fake.clock + timedelta(days=60)

    def run():
        adapter = make(config)
        summary = Sync(Engine(config, govhall_pm), adapter, StateStore(config.state_path), page_size=2).run(now)
        return summary, adapter

    first, a1 = run()
    assert first.ok and first.written == 5 and len(fake.puts) == 5
    # each echo is known from the list (read back once per page of writes), never read again
    assert a1.stats["GET issue"] == 5 and a1.stats["GET list by id"] == 2 * 3  # checked before, read back after
    second, a2 = run()
    assert second.ok and second.written == 0 and second.evaluated == 0 and len(fake.puts) == 5
    assert a2.stats["PUT issue"] == 0 and a2.stats["GET issue"] == 0


def test_sync_reads_and_evaluates_a_persons_change_right_after_govhalls_write(config, fake, govhall_pm):
    """The regression of issue 16: a person's note in the second of govhall's write, before its echo is seen."""
    for _ in range(3):
        fake.add(cfs={"channel": "phone", "department": "综合窗口"})
    fake.tick(5)
    now = fake.clock + timedelta(days=60)
    state = StateStore(config.state_path)

    def run(sleep=lambda s: None):
        adapter = RedmineAdapter(settings(), config, retry=RetryPolicy(attempts=3, base=0), sleep=sleep)
        return Sync(Engine(config, govhall_pm), adapter, state).run(now), adapter

    first, _ = run(sleep=lambda s: fake.journal(2, LI, "[答复] 依据、条件、材料、程序、时限", at=fake.clock))
    assert first.ok and first.written == 3 and first.skipped == 2  # issues 1 and 3: govhall's echo
    mark = len(fake.calls)
    second, adapter = run()
    assert second.ok and second.evaluated == 1 and [c for c in fake.calls[mark:] if c[0] == "get"] == [("get", "2")]


def test_sync_reads_again_an_issue_a_person_changed_between_govhalls_read_and_its_write(config, fake, govhall_pm):
    iid = fake.add(cfs={"channel": "phone", "department": "综合窗口"})
    fake.tick(5)
    real, checks = fake._by_id, []

    def by_id(q):  # the check before the PUTs: a person noted the issue after govhall read it
        if "last_updated_by" not in q and not checks:
            fake.tick(1.5)
            fake.journal(iid, LI, "[答复] 依据、条件、材料、程序、时限")
        checks.append(q)
        return real(q)

    fake._by_id = by_id
    adapter = make(config)
    summary = Sync(Engine(config, govhall_pm), adapter, StateStore(config.state_path)).run(fake.clock + timedelta(days=60))
    assert summary.ok and summary.written == 1 and len(fake.puts) == 1  # written once, after reading it again
    assert [c for c in fake.calls if c[0] == "get"][:2] == [("get", str(iid))] * 2


# ---------------------------------------------------------------- govhall redmine setup

SETUP_INFO = {"url": "http://127.0.0.1:3300", "api_key": KEY, "project_id": 1, "project_identifier": "govhall",
              "trackers": {n: i for n, i in TRACKER_IDS.items() if n != "Bug"},
              "statuses": STATUS_IDS, "custom_fields": {
                  "Channel": 1, "Department": 2, "Lead department": 3, "Co-departments": 4, "Applicant name": 5,
                  "Applicant phone": 6, "Applicant ID": 7, "Applicant birth date": 8, "Applicant groups": 9,
                  "Required materials": 10, "Promised working days": 11, "govhall_light": 12, "govhall_due_at": 13,
                  "govhall_first_inquiry": 14, "govhall_first_handler": 15, "govhall_escalation_level": 16,
                  "govhall_tags": 17},
              "users": {"wang": 5, "li": 6, "zhao": 7}, "user_api_keys": {"wang": "k1"}, "redmine_version": "5.0.4"}


def test_setup_runs_the_script_with_every_tag(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GOVHALL_REDMINE_API_KEY", KEY)  # the printed config names it
    root = tmp_path / "redmine"
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "rails").write_text("")
    seen = {}

    def runner(argv, cwd, env, capture_output, text):
        seen.update(argv=argv, cwd=cwd, env=env)
        return subprocess.CompletedProcess(argv, 0, "warning: noise\n" + json.dumps(SETUP_INFO) + "\n", "")

    monkeypatch.setattr(redmine_setup.subprocess, "run", runner)
    code = cli.main(["redmine", "setup", "--redmine-root", str(root), "--info", str(tmp_path / "info.json")])
    out = capsys.readouterr().out
    assert code == 0
    assert seen["argv"][:2] == ["bin/rails", "runner"] and seen["argv"][2].endswith("redmine_setup.rb")
    assert Path(seen["argv"][2]).exists() and seen["cwd"] == str(root)
    assert seen["env"]["RAILS_ENV"] == "production"
    tags = seen["env"]["GOVHALL_TAGS"].split(",")
    from govhall_sdk.host import get_plugin_manager

    assert {"govhall_sla_green", "govhall_sla_yellow", "govhall_sla_red"} <= set(tags)
    assert {"govhall_" + c.replace(".", "_") for c in get_plugin_manager().rules} <= set(tags)
    assert KEY not in out and "k1" not in out
    assert json.loads((tmp_path / "info.json").read_text())["api_key"] == KEY
    assert (tmp_path / "info.json").stat().st_mode & 0o777 == 0o600
    snippet = tomllib.loads(out.split("\n", 1)[1])  # after the "# ids and API keys written" line
    adapter = snippet["adapter"]
    assert adapter["custom_fields"]["tags"] == 17 and adapter["custom_fields"]["promised_working_days"] == 11
    checked = RedmineAdapter.validate_settings(adapter)
    assert checked["trackers"]["Supervision"] == "supervision" and checked["api_key"] == KEY


def test_setup_reports_failures(tmp_path, monkeypatch, capsys):
    assert cli.main(["redmine", "setup", "--redmine-root", str(tmp_path)]) == 2
    assert "no bin/rails" in capsys.readouterr().err
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "rails").write_text("")
    monkeypatch.setattr(redmine_setup.subprocess, "run", lambda argv, **kw: subprocess.CompletedProcess(
        argv, 1, "", "ActiveRecord::StatementInvalid: database is locked"))
    assert cli.main(["redmine", "setup", "--redmine-root", str(tmp_path)]) == 1
    assert "database is locked" in capsys.readouterr().out


def test_setup_print_command(capsys):
    assert cli.main(["redmine", "setup", "--print-command", "--redmine-root", "/srv/redmine"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("cd /srv/redmine && RAILS_ENV=\"production\" GOVHALL_TAGS=\"govhall_sla_green,")
    assert "bin/rails runner " in out and out.strip().endswith("redmine_setup.rb")


@pytest.mark.parametrize("shown, warned", [({"mail_notification": "all"}, True),
                                           ({"mail_notification": "only_my_events"}, True),
                                           ({"mail_notification": "none"}, False),
                                           ({}, False)])  # Redmine 5 does not show it: nothing to go on
def test_a_start_warns_when_the_account_would_get_notification_mail(config, fake, caplog, shown, warned):
    fake.rsps.replace(responses.GET, URL + "/users/current.json",
                      json={"user": {"id": ME, "login": "govhall", "admin": True, "api_key": KEY, **shown}})
    iid = fake.add()
    with caplog.at_level("WARNING", logger="govhall"):
        assert pulled(make(config))[1] == [str(iid)]
    warnings = [r.getMessage() for r in caplog.records if "mail notifications" in r.getMessage()]
    assert warnings == ([f"redmine: the account govhall writes with (govhall) has mail notifications "
                         f"'{shown['mail_notification']}': every journal it writes may mail it; set them to 'No events' "
                         "(docs/adapters/redmine.md, \"Notification mail\")"] if warned else [])
