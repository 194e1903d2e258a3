"""End-to-end: the redmine adapter against a REAL Redmine (``.ci/redmine.sh`` starts one on 127.0.0.1:3300).

Issues are created through Redmine's own REST API (as the staff users, with
``X-Redmine-Switch-User``) in a fresh subproject of ``govhall`` per module or
test, so reruns on the same server never collide; the subprojects are deleted
afterwards (``GOVHALL_KEEP_REDMINE_PROJECTS=1`` keeps them for a look).

Redmine stamps ``created_on`` and journals with its own clock, so the runs use
``--now`` = 40 days after seeding, and the promised working days of the
applications are derived from the working-day calendar over that span.

Locally the tests skip when no Redmine answers; in CI (``CI=true``) that is a failure.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import attrs
import pytest
import requests

from govhall_adapters.redmine import RedmineAdapter, settings_from_setup
from govhall_sdk import cli
from govhall_sdk.adapter import Page, WriteOutcome
from govhall_sdk.config import default_config
from govhall_sdk.engine import Engine
from govhall_sdk.host import get_plugin_manager
from govhall_sdk.parse import Parsed
from govhall_sdk.testing import AdapterConformance, HelpdeskDriver

INFO_PATH = Path(os.environ.get("GOVHALL_REDMINE_INFO", "/tmp/govhall-redmine.json"))
TZ = ZoneInfo("Asia/Shanghai")
DAYS_AHEAD = 40
STAFF = {"wang": {"rank": 1, "department": "综合窗口"},
         "li": {"rank": 2, "department": "综合窗口"},
         "zhao": {"rank": 3, "department": "综合窗口", "name": "赵主任"}}
OUTPUTS = ("govhall_light", "govhall_due_at", "govhall_first_inquiry", "govhall_first_handler", "govhall_escalation_level")


def _find_server() -> tuple[dict | None, str]:
    try:
        info = json.loads(INFO_PATH.read_text())
    except (OSError, ValueError) as exc:
        return None, f"no Redmine info file {INFO_PATH} ({exc}); run .ci/redmine.sh"
    info.setdefault("url", "http://127.0.0.1:3300")
    try:
        r = requests.get(info["url"] + "/users/current.json", headers={"X-Redmine-API-Key": info["api_key"]}, timeout=5)
    except requests.RequestException as exc:
        return None, f"Redmine at {info['url']} does not answer ({type(exc).__name__}); run .ci/redmine.sh"
    if r.status_code != 200:
        return None, f"Redmine at {info['url']} refused the admin API key from {INFO_PATH} (HTTP {r.status_code})"
    return info, ""


class Redmine:
    """The human side: Redmine's REST API as the admin, acting as staff users via X-Redmine-Switch-User."""

    def __init__(self, info: dict):
        self.info = info
        self.url = info["url"]
        self.session = requests.Session()
        self.session.headers["X-Redmine-API-Key"] = info["api_key"]
        self.cf = info["custom_fields"]
        self.fields = settings_from_setup(info)["custom_fields"]  # normalized name -> id
        self.projects: list[str] = []

    def call(self, method: str, path: str, as_user: str | None = None, **kw) -> requests.Response:
        headers = {"X-Redmine-Switch-User": as_user} if as_user else {}
        for attempt in range(3):
            r = self.session.request(method, self.url + path, headers=headers, timeout=30, **kw)
            if r.status_code != 500 or attempt == 2:
                break
            time.sleep(0.5)  # Debian's SQLite Redmine: "database is locked", rolled back (see docs/adapters/redmine.md)
        assert r.status_code < 400, f"{method} {path}: HTTP {r.status_code} {r.text[:300]}"
        return r

    def server_now(self, project: str) -> datetime:
        """Redmine's clock (thin sends no Date header): the project's ``updated_on``, touched now."""
        self.call("PUT", f"/projects/{project}.json", json={"project": {"description": "govhall e2e"}})
        stamp = self.call("GET", f"/projects/{project}.json").json()["project"]["updated_on"]
        return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)

    def new_project(self, label: str) -> str:
        ident = f"e2e-{label}-{secrets.token_hex(4)}"
        self.call("POST", "/projects.json", json={"project": {
            "name": ident, "identifier": ident, "parent_id": self.info["project_id"], "inherit_members": True,
            "is_public": False, "tracker_ids": sorted(self.info["trackers"].values())}})
        self.projects.append(ident)
        return ident

    def drop_projects(self) -> None:
        if os.environ.get("GOVHALL_KEEP_REDMINE_PROJECTS") == "1":
            return
        for ident in self.projects:
            for _ in range(3):  # a 500 here is SQLite's "database is locked": try again
                if self.session.delete(f"{self.url}/projects/{ident}.json", timeout=30).status_code != 500:
                    break
                time.sleep(0.5)
        self.projects.clear()

    def create(self, project: str, tracker: str, subject: str, author: str, status: str = "New",
               due_date: str | None = None, **fields) -> int:
        issue = {"project_id": project, "tracker_id": self.info["trackers"][tracker], "subject": subject,
                 "status_id": self.info["statuses"][status],
                 "custom_fields": [{"id": self.fields[k], "value": v} for k, v in fields.items()]}
        if due_date:
            issue["due_date"] = due_date
        return self.call("POST", "/issues.json", as_user=author, json={"issue": issue}).json()["issue"]["id"]

    def update(self, issue_id: int, as_user: str, notes: str | None = None, private: bool = False,
               status: str | None = None, **fields) -> None:
        body: dict = {}
        if notes is not None:
            body["notes"] = notes
            body["private_notes"] = private
        if status:
            body["status_id"] = self.info["statuses"][status]
        if fields:
            body["custom_fields"] = [{"id": self.fields[k], "value": v} for k, v in fields.items()]
        self.call("PUT", f"/issues/{issue_id}.json", as_user=as_user, json={"issue": body})

    def issue(self, issue_id: int) -> dict:
        return self.call("GET", f"/issues/{issue_id}.json", params={"include": "journals"}).json()["issue"]

    def read(self, issue_id: int) -> dict:
        issue = self.issue(issue_id)
        cfs = {c["id"]: c.get("value") for c in issue["custom_fields"]}
        admin = self.call("GET", "/users/current.json").json()["user"]["id"]
        return {
            "tags": set(cfs.get(self.fields["tags"]) or []),
            "fields": {name: cfs.get(self.fields[name]) for name in OUTPUTS},
            "notes": [j["notes"] for j in issue["journals"] if j.get("private_notes") and j.get("notes")],
            "govhall_journals": [j for j in issue["journals"] if j["user"]["id"] == admin],
            "journals": len(issue["journals"]),
            "assignee": (issue.get("assigned_to") or {}).get("id"),
            "updated_on": issue["updated_on"],
        }


@pytest.fixture(scope="session")
def redmine():
    info, reason = _find_server()
    if info is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI: the real Redmine is required for the end-to-end tests: {reason}")
        pytest.skip(reason)
    client = Redmine(info)
    yield client
    client.drop_projects()


@pytest.fixture(scope="module", autouse=True)
def e2e_clock(request):
    """Prints how long this module (the end-to-end suite) took, past pytest's output capture."""
    started = time.perf_counter()
    yield
    line = f"redmine e2e: {request.module.__name__} took {time.perf_counter() - started:.1f} s"
    capman = request.config.pluginmanager.getplugin("capturemanager")
    with capman.global_and_fixture_disabled() if capman else contextlib.nullcontext():
        print("\n" + line)


def adapter_settings(redmine: Redmine, project: str) -> dict:
    settings = settings_from_setup(redmine.info)
    settings.update(project=project, users=STAFF)
    return settings


def _toml(value) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k, ensure_ascii=False)} = {_toml(v)}" for k, v in value.items()) + " }"
    return json.dumps(value, ensure_ascii=False)


def write_config(path: Path, settings: dict, state: Path) -> Path:
    settings = {**settings, "api_key_env": "GOVHALL_REDMINE_API_KEY"}  # the key stays out of the file
    lines = ["lang = \"zh\"", "", "[escalation]", 'level1 = "zhao"', 'level2 = "li"', "",
             "[escalation.write]", 'field = ""', "note = true", "assign = true", "", "[state]",
             f"path = {json.dumps(str(state))}", "", "[adapter]"]
    for key, value in settings.items():
        lines.append(f"{key} = {_toml(value)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------- the demo set

@attrs.define
class Demo:
    project: str
    ids: dict[str, int]
    now: datetime
    config: Path
    runs: list[dict] = attrs.Factory(list)
    before: dict = attrs.Factory(dict)
    after_first: dict = attrs.Factory(dict)
    after_second: dict = attrs.Factory(dict)
    after_third: dict = attrs.Factory(dict)


def _wait_past_midnight() -> None:
    """Seeding must not straddle midnight in the policy zone (the day counts below assume one date)."""
    local = datetime.now(TZ)
    to_midnight = (local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1) - local).total_seconds()
    if to_midnight < 60:
        time.sleep(to_midnight + 1)


def seed_demo(rm: Redmine, project: str, working_days: int, today) -> dict[str, int]:
    """12 issues mirroring part of the demo set; the staff act as themselves."""
    day = lambda n: (today + timedelta(days=n)).isoformat()  # noqa: E731
    E = working_days
    ids: dict[str, int] = {}
    c = rm.create

    ids["complaint_overdue"] = i = c(project, "Complaint", "投诉：窗口办理拖延", "wang", "Open", channel="phone",
                                     department="综合窗口", applicant_name="张三", applicant_phone="13800138000")
    rm.update(i, "wang", "已登记，正在核实。")

    ids["application_red"] = i = c(project, "Application", "不动产登记（承诺3个工作日）", "wang", channel="counter",
                                   department="不动产登记中心", required_materials="身份证、申请表",
                                   promised_working_days=str(3), applicant_name="李四")
    rm.update(i, "li", "[受理通知书] 已受理，出具受理通知书。", status="Accepted")

    ids["application_green"] = i = c(project, "Application", "营业执照变更", "wang", channel="counter",
                                     department="综合窗口", required_materials="身份证\n申请表",
                                     promised_working_days=str(3 * E + 10))
    rm.update(i, "wang", "[收件] 身份证")
    rm.update(i, "wang", "[补正告知] 申请表")
    time.sleep(1.1)  # Redmine keeps seconds: the acceptance must come visibly after the notice
    rm.update(i, "li", "[受理通知书] 材料齐全，予以受理。", status="Accepted")

    ids["application_yellow"] = i = c(project, "Application", "网上申请：食品经营许可", "wang", channel="web",
                                      department="综合窗口", promised_working_days=str(E + 1))
    rm.update(i, "wang", "您好，已收到您的网上申请。")
    rm.update(i, "li", "[受理通知书]", status="Accepted")

    ids["supervision_overdue"] = i = c(project, "Supervision", "督办：群众反映办证难", "zhao", "Open",
                                       due_date=day(5), department="综合窗口")
    rm.update(i, "wang", "已收到督办件，正在办理。")

    ids["supervision_no_deadline"] = c(project, "Supervision", "督办：未登记时限", "zhao", "Open", department="综合窗口")

    ids["consultation_clean"] = i = c(project, "Consultation", "咨询：社保转移", "wang", channel="phone",
                                      department="综合窗口")
    rm.update(i, "wang", "[答复] 依据、条件、材料、程序、时限")

    ids["consultation_deferred"] = i = c(project, "Consultation", "咨询：公积金提取（暂缓答复）", "wang",
                                         channel="web", department="综合窗口")
    rm.update(i, "wang", "[暂缓答复] 13900139000")

    ids["complaint_resolved"] = i = c(project, "Complaint", "投诉：停车收费", "li", "Open", channel="web",
                                      department="综合窗口")
    rm.update(i, "li", "已核实处理，已电话告知申请人。", status="Resolved")

    ids["application_rejected"] = i = c(project, "Application", "户籍迁移", "wang", channel="counter",
                                        department="综合窗口", required_materials="户口簿")
    rm.update(i, "wang", "材料不齐全，不予受理。", status="Rejected")

    ids["assignment_transfer"] = i = c(project, "Assignment", "交办：企业开办", "zhao", "Open",
                                       due_date=day(150), department="综合窗口")
    rm.update(i, "li", "转不动产登记中心办理。", department="不动产登记中心")

    ids["elderly_applicant"] = c(project, "Application", "老年人优待证", "wang", channel="counter",
                                 department="综合窗口", applicant_name="王五", applicant_birth_date="1950-05-01")
    return ids


def _run(config: Path, now: datetime, stats: list) -> dict:
    """``govhall run --json`` in process; the summary plus the adapter's request counts."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["run", "--config", str(config), "--now", now.isoformat(), "--json"])
    assert code == 0, out.getvalue() + err.getvalue()
    summary = json.loads(out.getvalue())
    summary["requests"], summary["by_kind"] = stats[-1]
    summary["stderr"] = err.getvalue()
    return summary


@pytest.fixture(scope="module")
def demo(redmine, tmp_path_factory):
    """Seed, then run govhall three times: first, again unchanged, after one person's change."""
    tmp = tmp_path_factory.mktemp("redmine-e2e")
    _wait_past_midnight()
    project = redmine.new_project("demo")
    start = redmine.server_now(project)
    today = start.astimezone(TZ).date()
    now = (start + timedelta(days=DAYS_AHEAD)).astimezone(TZ)
    calendar = Engine(default_config(get_plugin_manager())).calendar
    working_days = calendar.count_working_days(today, now.date())
    assert working_days >= 15, "the run's --now must leave a 15-working-day complaint overdue"
    ids = seed_demo(redmine, project, working_days, today)
    config = write_config(tmp / "govhall.toml", adapter_settings(redmine, project), tmp / "state.sqlite")
    d = Demo(project, ids, now, config)
    d.before = {k: redmine.read(i) for k, i in ids.items()}

    stats: list = []
    original_close = RedmineAdapter.close

    def close(self):
        stats.append((self.requests_made, dict(self.stats)))
        original_close(self)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(RedmineAdapter, "close", close)
        mp.setenv("GOVHALL_REDMINE_API_KEY", redmine.info["api_key"])
        d.runs.append(_run(config, now, stats))
        d.after_first = {k: redmine.read(i) for k, i in ids.items()}
        d.runs.append(_run(config, now, stats))
        d.after_second = {k: redmine.read(i) for k, i in ids.items()}
        time.sleep(1.1)  # a person's edit comes later than govhall's write, not in the same second
        redmine.update(ids["consultation_clean"], "li", "这个政策我不清楚，你去问别人去。")
        d.runs.append(_run(config, now, stats))
        d.after_third = {k: redmine.read(i) for k, i in ids.items()}
    return d


def test_first_run_writes_fields_tags_and_private_notes(demo, redmine):
    first = demo.runs[0]
    assert first["errors"] == {} and first["failed"] == {}
    assert first["pulled"] == len(demo.ids) and first["evaluated"] == len(demo.ids)
    a = demo.after_first
    zhao, li = redmine.info["users"]["zhao"], redmine.info["users"]["li"]

    c = a["complaint_overdue"]
    assert {"govhall_sla_red", "govhall_tl_overdue"} <= c["tags"]
    assert c["fields"]["govhall_light"] == "red" and c["fields"]["govhall_escalation_level"] == "1"
    assert c["fields"]["govhall_first_inquiry"] == "wang"
    assert c["fields"]["govhall_due_at"].endswith("23:59:59+08:00")
    (note,) = c["notes"]  # every note of one write joined into ONE private note
    assert "[govhall:tl.overdue:completion]" in note and "[govhall:escalation:1]" in note and "\n\n" in note
    assert c["assignee"] == zhao  # escalation level 1 -> assignee, as [escalation.write] says

    r = a["application_red"]
    assert {"govhall_sla_red", "govhall_tl_overdue"} <= r["tags"]
    assert r["fields"]["govhall_first_handler"] == "li"
    assert "govhall_fr_acceptance_notice_missing" not in r["tags"]  # "[受理通知书]" = notice issued

    g = a["application_green"]
    assert g["tags"] == {"govhall_sla_green"} and g["fields"]["govhall_light"] == "green"
    assert g["notes"] == [] and g["fields"]["govhall_first_handler"] == "wang"  # the supplement notice came first

    y = a["application_yellow"]
    assert {"govhall_sla_yellow", "govhall_tl_due_soon"} <= y["tags"] and y["notes"] == []

    s = a["supervision_overdue"]
    assert {"govhall_sla_red", "govhall_tl_supervision_overdue"} <= s["tags"]
    assert s["fields"]["govhall_escalation_level"] == "2" and s["assignee"] == li
    assert any("[govhall:escalation:2]" in n for n in s["notes"])

    assert a["supervision_no_deadline"]["tags"] == {"govhall_tl_deadline_missing"}
    assert a["supervision_no_deadline"]["fields"]["govhall_light"] is None

    q = a["consultation_clean"]
    assert q["tags"] == set() and q["notes"] == [] and q["fields"]["govhall_first_inquiry"] == "wang"

    assert "govhall_otn_deferred_reply_overdue" in a["consultation_deferred"]["tags"]
    assert a["consultation_deferred"]["assignee"] == zhao

    done = a["complaint_resolved"]
    assert not any(t.startswith("govhall_sla_") for t in done["tags"]) and done["notes"] == []

    rej = a["application_rejected"]
    assert {"govhall_tl_rejection_notice_missing", "govhall_otn_rejection_basis_missing"} <= rej["tags"]
    (note,) = rej["notes"]
    assert "[govhall:tl.rejection_notice_missing" in note and "[govhall:otn.rejection_basis_missing" in note

    assert "govhall_sla_green" in a["assignment_transfer"]["tags"]
    assert {"govhall_ps_special_group", "govhall_ps_special_group_not_offered"} <= a["elderly_applicant"]["tags"]

    # Only what changed was written: one PUT per changed issue (field+note = Redmine's two journals).
    puts = first["by_kind"].get("PUT issue", 0) - first["by_kind"].get("PUT failed, checked", 0)
    assert puts == first["written"] == sum(1 for k in demo.ids if a[k]["journals"] > demo.before[k]["journals"])
    for k in demo.ids:
        assert len(a[k]["govhall_journals"]) <= 2, k


def test_rerun_writes_nothing(demo):
    second = demo.runs[1]
    assert second["written"] == 0 and second["notes"] == 0 and second["evaluated"] == 0
    assert second["by_kind"].get("PUT issue", 0) == 0
    for k in demo.ids:
        assert demo.after_second[k]["journals"] == demo.after_first[k]["journals"], f"{k}: a new journal on rerun"
        assert demo.after_second[k]["updated_on"] == demo.after_first[k]["updated_on"], f"{k}: touched on rerun"


def test_one_change_writes_only_that_issue(demo, redmine):
    third = demo.runs[2]
    changed = "consultation_clean"
    assert third["evaluated"] == 1 and third["written"] == 1
    assert third["by_kind"].get("PUT issue", 0) == 1
    for k in demo.ids:
        if k != changed:
            assert demo.after_third[k]["journals"] == demo.after_second[k]["journals"], k
            assert demo.after_third[k]["updated_on"] == demo.after_second[k]["updated_on"], k
    q = demo.after_third[changed]
    # the person's note, then govhall's field change and its private note (Redmine splits them)
    assert q["journals"] == demo.after_second[changed]["journals"] + 3
    assert "govhall_fr_forbidden_phrase" in q["tags"]
    assert any("[govhall:fr.forbidden_phrase" in n for n in q["notes"])
    assert q["assignee"] == redmine.info["users"]["zhao"]


def test_api_key_never_printed(demo, redmine):
    key = redmine.info["api_key"]
    for run in demo.runs:
        assert key not in json.dumps(run)


def test_figures(demo, capsys):
    first, second, third = demo.runs
    lines = [
        f"redmine e2e figures ({len(demo.ids)} seeded issues):",
        f"  first run: {first['requests']} requests {first['by_kind']}, written {first['written']}, "
        f"notes {first['notes']}, skipped own echoes {first['skipped_own_writes']}",
        f"  rerun:     {second['requests']} requests {second['by_kind']}, written {second['written']}",
        f"  after one change: {third['requests']} requests {third['by_kind']}, written {third['written']}",
    ]
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert second["requests"] <= 3
    assert first["requests"] <= 3 + 2 * len(demo.ids) + 2 * first["written"] + 2


# ---------------------------------------------------------------- govhall redmine setup (the real runner)

REDMINE_ROOT = Path(os.environ.get("GOVHALL_REDMINE_ROOT", "/usr/share/redmine"))


@pytest.mark.skipif(not (REDMINE_ROOT / "bin" / "rails").exists() or os.geteuid() != 0,
                    reason="needs the Redmine installation and root (as .ci/redmine.sh)")
def test_setup_command_on_the_real_redmine(redmine, capsys, tmp_path):
    code = cli.main(["redmine", "setup", "--redmine-root", str(REDMINE_ROOT), "--url", redmine.url,
                     "--info", str(tmp_path / "info.json")])
    out = capsys.readouterr().out
    assert code == 0, out
    info = json.loads((tmp_path / "info.json").read_text())
    assert oct((tmp_path / "info.json").stat().st_mode & 0o777) == "0o600"
    assert info["custom_fields"] == redmine.info["custom_fields"]
    assert f"tags = {info['custom_fields']['govhall_tags']}" in out
    assert info["api_key"] not in out
    possible = redmine.call("GET", "/custom_fields.json").json()["custom_fields"]
    (tags,) = [f for f in possible if f["id"] == info["custom_fields"]["govhall_tags"]]
    values = {v["value"] for v in tags["possible_values"]}
    assert {"govhall_" + c.replace(".", "_") for c in get_plugin_manager().rules} <= values


# ---------------------------------------------------------------- the adapter conformance suite

class SeededIdsAdapter(RedmineAdapter):
    """The real adapter, with the ids the suite seeded shown instead of Redmine's own issue numbers."""

    def __init__(self, settings, config, ids: dict[str, str]):
        super().__init__(settings, config)
        self.to_rm = ids
        self.to_ext = {v: k for k, v in ids.items()}

    def _ext(self, item: Parsed) -> Parsed:
        if item.ticket is None:
            return item
        return Parsed(attrs.evolve(item.ticket, id=self.to_ext.get(item.ticket.id, item.ticket.id)), None, item.where)

    def pull(self, cursor, page_size=100):
        for page in super().pull(cursor, page_size):
            yield Page([self._ext(i) for i in page.items], page.cursor, page.skipped)

    def fetch(self, ids):
        return (self._ext(p) for p in super().fetch([self.to_rm.get(i, i) for i in ids]))

    def apply(self, writes):
        outcomes = super().apply([(attrs.evolve(t, id=self.to_rm.get(t.id, t.id)), p) for t, p in writes])
        return [WriteOutcome(self.to_ext.get(o.ticket_id, o.ticket_id), o.ok, o.error) for o in outcomes]


class RedmineDriver(HelpdeskDriver):
    """Seeds interchange tickets as Redmine issues (staff s1, s2... act as wang, li...)."""

    ACTORS = {"s1": "wang", "s2": "li", "s3": "zhao"}
    STATUSES = {"new": "New", "open": "Open", "pending": "Pending", "accepted": "Accepted",
                "resolved": "Resolved", "closed": "Closed", "rejected": "Rejected"}
    TRACKERS = {"consultation": "Consultation", "application": "Application", "complaint": "Complaint",
                "supervision": "Supervision", "assignment": "Assignment"}

    def __init__(self, redmine: Redmine):
        self.rm = redmine
        self.project = redmine.new_project("conformance")
        self.ids: dict[str, str] = {}

    def make_adapter(self, config):
        settings = adapter_settings(self.rm, self.project)
        settings["api_key"] = self.rm.info["api_key"]
        settings.pop("type")
        return SeededIdsAdapter(settings, config, self.ids)

    def seed(self, tickets):
        for t in tickets:
            fields = {k: t[k] for k in ("channel", "department") if t.get(k)}
            author = next((self.ACTORS.get(e["actor"]["id"], "wang") for e in t.get("events", []) if e.get("actor")), "wang")
            iid = self.rm.create(self.project, self.TRACKERS[t["kind"]], t.get("subject") or t["id"], author,
                                 self.STATUSES[t.get("status") or "new"], **fields)
            self.ids[t["id"]] = str(iid)
            for e in t.get("events", []):
                if e["type"] == "reply":
                    who = self.ACTORS.get((e.get("actor") or {}).get("id"), "wang")
                    self.rm.update(iid, who, e.get("body", ""), private=not e.get("public", True))

    def touch(self, ticket_id):
        time.sleep(1.1)  # a later edit by a person, not in the same second as the seeding
        self.rm.update(int(self.ids[ticket_id]), "li", "补充说明")

    def read(self, ticket_id):
        return self.rm.read(int(self.ids[ticket_id]))


@pytest.fixture
def helpdesk_driver(redmine):
    return RedmineDriver(redmine)


class TestRedmineConformance(AdapterConformance):
    """Paging, cursor, round trip and rerun on the real Redmine (a fresh subproject per test)."""

    # Redmine stamps issues with its own clock: evaluate well after it, so the complaints are overdue.
    now = (datetime.now(timezone.utc) + timedelta(days=DAYS_AHEAD)).astimezone(TZ).isoformat()
