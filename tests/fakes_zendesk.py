"""A stateful fake Zendesk on ``responses``: just the endpoints the adapter uses, shaped like the docs.

Endpoints (developer.zendesk.com/api-reference): the cursor-based incremental
ticket export with ``users``/``metric_sets``/``comment_count`` sideloads, which
leaves out what changed within the minute before the request (a request arrives
``lag`` after the latest change, two minutes unless a test says otherwise),
ticket comments (cursor pagination, ``include=users``), ``tickets/show_many``
(at most 100 ids, ``include=comment_count``), ``tickets/update_many``
(batch form: ``{"tickets": [{"id": ..}]}``, at most 100) and ``job_statuses``,
whose results are ``{"id", "action", "success", "status"}`` or, for a failed
ticket, ``{"id", "index", "error", "details"}``. Jobs are applied later, as
Zendesk "queues a background job": each poll finds a job one step on (queued,
working, completed: applied then), ``hold_jobs`` keeps them queued, and
``run_jobs()`` applies them without a poll, as Zendesk does after a run was
killed. A ticket object with ``safe_update: true`` is applied only if its
``updated_stamp`` is the ticket's ``updated_at``; otherwise its result is the
``UpdateConflict`` error of a stale update, with the details Zendesk gives its 409
("Protecting against ticket update collisions",
developer.zendesk.com/documentation/ticketing/managing-tickets/creating-and-updating-tickets/;
"Update Many Tickets", developer.zendesk.com/api-reference/ticketing/tickets/tickets/#update-many-tickets).
A closed ticket refuses every update but that of its tags in a bulk update;
``remove_tags`` works in bulk updates only. Each behaviour cites its page beside
its code. ``before_jobs`` are called when a job starts applying (a person's change
between govhall's read and its write), ``after_jobs`` when it has applied (a
person's change right after govhall's write, before govhall reads it back).

Built on the testing kit's :class:`~govhall_sdk.testing.FakeHelpdesk` (routes,
request log, injected failures and 429s); :class:`ZendeskDriver` runs the
conformance suite through :class:`~govhall_sdk.testing.IdMappedAdapter`, since
Zendesk numbers its tickets itself.
"""
from __future__ import annotations

import base64
import itertools
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from govhall_adapters.zendesk import ZendeskAdapter
from govhall_sdk.rest import RetryPolicy
from govhall_sdk.testing import FakeHelpdesk, HelpdeskDriver, IdMappedAdapter

BASE = "https://govhall-test.zendesk.com"
EMAIL = "govhall-bot@zwfw.example.gov.cn"
TOKEN = "zdTOKEN-7f3c9a51e2b84d06"
UTC = timezone.utc
#: What Zendesk says of a safe update whose ``updated_stamp`` is older than the ticket.
CONFLICT = ("Safe Update prevented the update due to outdated ticket data. "
            "Please fetch the latest ticket data and try again.")

FIELD_IDS = {
    "事项类型": 360001001, "承诺时限": 360001002, "受理时间": 360001003, "所需材料": 360001004,
    "联系电话": 360001005, "特殊群体": 360001006,
    "govhall_light": 360002001, "govhall_due_at": 360002002, "govhall_first_inquiry": 360002003,
    "govhall_first_handler": 360002004, "govhall_escalation_level": 360002005, "govhall_escalated_to": 360002006,
}
GROUPS = {"综合窗口": 360010001, "不动产登记": 360010002, "社保窗口": 360010003}
KIND_VALUES = {"zixun": "consultation", "banjian": "application", "tousu": "complaint",
               "dubban": "supervision", "jiaoban": "assignment"}
VIA = {"phone": "voice", "web": "web", "mail": "email", "counter": "web", "hotline": "voice", "letter": "email"}


def adapter_settings(**overrides: Any) -> dict[str, Any]:
    """The ``[adapter]`` table the tests use: every field, group and agent of the fake mapped."""
    settings = {
        "type": "zendesk", "url": BASE, "email": EMAIL, "api_token": TOKEN, "default_kind": "consultation",
        "custom_fields": dict(FIELD_IDS),
        "fields": {"kind": "事项类型|ticket_form_id", "promised_working_days": "承诺时限", "accepted_at": "受理时间",
                   "materials": "所需材料", "applicant_phone": "联系电话|requester.phone", "applicant_groups": "特殊群体"},
        "kinds": {**KIND_VALUES, "5001": "application"},
        "applicant_groups": {"laoren": "elderly", "canji": "disabled"},
        "departments": {str(gid): name for name, gid in GROUPS.items()},
        "agents": {"9001": {"rank": 1, "department": "综合窗口"}, "9002": {"rank": 2, "department": "综合窗口"}},
        "forms": {"5001": {"promised_working_days": 5, "materials": ["身份证", "申请表"]}},
        "assignees": {"王主任": {"assignee_id": 9002}},
        "job_poll_seconds": 0.5,
    }
    settings.update(overrides)
    return settings


def zulu(instant: datetime) -> str:
    """Zendesk's timestamp form: UTC with a Z."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cursor(position: int) -> str:
    return base64.b64encode(f"1576613539.0||{position}|".encode()).decode()


def _position(cursor: str) -> int:
    return int(base64.b64decode(cursor.encode()).decode().split("||")[1].rstrip("|"))


class FakeZendesk(FakeHelpdesk):
    """The helpdesk's state and the HTTP callbacks that read and change it."""

    unauthorized = {"error": "Couldn't authenticate you"}
    throttled = {"error": "APIRateLimitExceeded"}

    def __init__(self, rsps: Any):
        super().__init__(BASE, rsps, auth="Basic " + base64.b64encode(f"{EMAIL}/token:{TOKEN}".encode()).decode())
        self.tickets: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.metric_sets: dict[int, dict[str, Any]] = {}
        self.position: dict[int, int] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.version = itertools.count(1)
        self.ids = itertools.count(35436)
        self.comment_ids = itertools.count(900001)
        self.clock = datetime(2025, 3, 1, 1, 0, tzinfo=UTC)
        self.fail_once: set[int] = set()
        self.fail_always: set[int] = set()
        self.remaining = 700
        self.before_jobs: list[Callable[[], Any]] = []
        self.after_jobs: list[Callable[[], Any]] = []
        #: How long after the latest change a request arrives (the export leaves out the last minute before it).
        self.lag = timedelta(minutes=2)
        self.hold_jobs = False  # True: Zendesk's job queue is busy, polls find every job still queued
        self.bot = self.add_user(9999, "govhall bot", "admin", email=EMAIL)
        routes = [
            ("GET", r"/api/v2/incremental/tickets/cursor\.json", self._export),
            ("GET", r"/api/v2/tickets/show_many\.json", self._show_many),
            ("GET", r"/api/v2/tickets/(\d+)/comments\.json", self._comments),
            ("PUT", r"/api/v2/tickets/update_many\.json", self._update_many),
            ("GET", r"/api/v2/job_statuses/(\w+)\.json", self._job),
        ]
        for method, pattern, handler in routes:
            self.route(method, pattern, lambda call, *groups, h=handler: h(call.params, call.body, *groups),
                       expected=False)

    # -- plumbing

    def served_headers(self, call: Any, served: bool) -> dict[str, str]:
        if not served:
            return {}
        self.remaining = max(0, self.remaining - 1)
        return {"X-Rate-Limit": "700", "X-Rate-Limit-Remaining": str(self.remaining)}

    def now(self) -> datetime:
        """When a request arrives: :attr:`lag` after the latest change."""
        return self.clock + self.lag

    def tick(self) -> datetime:
        """Advance the helpdesk clock one minute and return it."""
        self.clock += timedelta(minutes=1)
        return self.clock

    def changed(self, tid: int, same_second: bool = False) -> None:
        """Bump a ticket's place in the incremental export and its timestamps; ``same_second``: a change within
        the second of the ticket's last one (its ``updated_at`` counts whole seconds, so it stays)."""
        self.position[tid] = next(self.version)
        if same_second:
            return
        now = self.tick()
        self.tickets[tid]["updated_at"] = zulu(now)
        self.tickets[tid]["generated_timestamp"] = int(now.timestamp())

    # -- state changes a person makes

    def add_user(self, uid: int, name: str, role: str, email: str | None = None, phone: str | None = None) -> dict[str, Any]:
        self.users[uid] = {"id": uid, "url": f"{BASE}/api/v2/users/{uid}.json", "name": name, "email": email,
                           "role": role, "phone": phone, "time_zone": "Beijing", "active": True,
                           "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"}
        return self.users[uid]

    def create_ticket(self, *, subject: str, requester_id: int, created_at: datetime, status: str = "open",
                      group_id: int | None = None, via: str = "web", tags: list[str] | None = None,
                      fields: dict[int, Any] | None = None, form_id: int | None = None, due_at: str | None = None) -> int:
        tid = next(self.ids)
        values = {fid: None for fid in FIELD_IDS.values()}
        values.update(fields or {})
        self.tickets[tid] = {
            "id": tid, "url": f"{BASE}/api/v2/tickets/{tid}.json", "external_id": None, "type": "question",
            "subject": subject, "raw_subject": subject, "description": subject, "priority": "normal",
            "status": status, "recipient": None, "requester_id": requester_id, "submitter_id": requester_id,
            "assignee_id": None, "organization_id": None, "group_id": group_id, "collaborator_ids": [],
            "follower_ids": [], "email_cc_ids": [], "forum_topic_id": None, "problem_id": None,
            "has_incidents": False, "is_public": True, "due_at": due_at, "tags": list(tags or []),
            "custom_fields": [{"id": fid, "value": v} for fid, v in values.items()],
            "satisfaction_rating": None, "sharing_agreement_ids": [], "ticket_form_id": form_id, "brand_id": 360000001,
            "allow_channelback": False, "allow_attachments": True,
            "via": {"channel": via, "source": {"from": {}, "to": {}, "rel": None}},
            "created_at": zulu(created_at), "updated_at": zulu(created_at), "generated_timestamp": int(created_at.timestamp()),
        }
        self.comments[tid] = []
        self.metric_sets[tid] = {"id": tid + 1000000, "ticket_id": tid, "url": f"{BASE}/api/v2/ticket_metrics/{tid}.json",
                                 "created_at": zulu(created_at), "updated_at": zulu(created_at), "solved_at": None,
                                 "assigned_at": None, "reopens": 0, "replies": 0}
        self.changed(tid)
        return tid

    def add_comment(self, tid: int, author_id: int, body: str, public: bool = True, at: datetime | None = None,
                    bump: bool = True, same_second: bool = False) -> None:
        at = at or (self.clock if same_second else self.tick())
        self.comments[tid].append({
            "id": next(self.comment_ids), "type": "Comment", "author_id": author_id, "body": body,
            "html_body": f"<div class=\"zd-comment\"><p>{body}</p></div>", "plain_body": body, "public": public,
            "attachments": [], "audit_id": next(self.comment_ids), "created_at": zulu(at),
            "via": {"channel": "web", "source": {"from": {}, "to": {}, "rel": None}},
            "metadata": {"system": {}, "custom": {}},
        })
        if bump:
            self.changed(tid, same_second)

    def set_field(self, tid: int, fid: int, value: Any, same_second: bool = False) -> None:
        """A person sets a custom field of a ticket."""
        next(f for f in self.tickets[tid]["custom_fields"] if f["id"] == fid)["value"] = value
        self.changed(tid, same_second)

    def field(self, tid: int, fid: int) -> Any:
        return next((f["value"] for f in self.tickets[tid]["custom_fields"] if f["id"] == fid), None)

    # -- endpoints

    def _tickets_json(self, tickets: list[dict[str, Any]], include: str) -> list[dict[str, Any]]:
        """The ticket objects of an answer. "You can also include a comment_count property in the JSON objects
        returned by GET requests by sideloading it" ("Tickets", developer.zendesk.com/api-reference/ticketing/
        tickets/tickets/): with ``include=comment_count`` each carries its number of comments."""
        if "comment_count" not in include.split(","):
            return tickets
        return [{**t, "comment_count": len(self.comments[t["id"]])} for t in tickets]

    def _sideload(self, tickets: list[dict[str, Any]], include: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        wanted = set(include.split(",")) if include else set()
        if "users" in wanted:
            ids = {t["requester_id"] for t in tickets} | {t["submitter_id"] for t in tickets}
            out["users"] = [self.users[u] for u in sorted(ids) if u in self.users]
        if "metric_sets" in wanted:
            out["metric_sets"] = [self.metric_sets[t["id"]] for t in tickets]
        return out

    def _export(self, params: dict[str, str], body: Any) -> tuple[int, Any]:
        per_page = int(params.get("per_page", 1000))
        start = None
        if "cursor" in params:
            after = _position(params["cursor"])
        elif "start_time" in params:
            after, start = 0, int(params["start_time"])
        else:
            return 400, {"error": "InvalidPaginationParameter", "description": "start_time or cursor required"}
        # "any items that were created or changed within the minute prior to your request are excluded" ("Using
        # the Incremental Exports API", developer.zendesk.com/documentation/ticketing/managing-tickets/
        # using-the-incremental-export-api/); the cursor stops before them, so a later export brings them.
        settled = int(self.now().timestamp()) - 60
        pending = sorted((p, t) for t, p in self.position.items()
                         if p > after and self.tickets[t]["generated_timestamp"] <= settled
                         and (start is None or self.tickets[t]["generated_timestamp"] >= start))
        page = pending[:per_page]
        last = page[-1][0] if page else after
        include = params.get("include", "")
        tickets = [self.tickets[t] for _, t in page]
        payload = {"tickets": self._tickets_json(tickets, include),
                   "after_url": f"{BASE}/api/v2/incremental/tickets/cursor.json?cursor={_cursor(last)}",
                   "after_cursor": _cursor(last), "before_url": None, "before_cursor": None,
                   "end_of_stream": len(pending) <= per_page}
        payload.update(self._sideload(tickets, include))
        return 200, payload

    # "Show Multiple Tickets", GET /api/v2/tickets/show_many?ids={ids}: "Accepts a comma-separated list of ticket ids
    # to return. This endpoint will return up to 100 tickets records" ("Tickets", developer.zendesk.com/
    # api-reference/ticketing/tickets/tickets/#show-multiple-tickets).
    def _show_many(self, params: dict[str, str], body: Any) -> tuple[int, Any]:
        ids = [int(i) for i in params.get("ids", "").split(",") if i]
        if len(ids) > 100:
            return 400, {"error": "InvalidParameter", "description": "at most 100 ids"}
        tickets = [self.tickets[i] for i in ids if i in self.tickets]
        include = params.get("include", "")
        return 200, {"tickets": self._tickets_json(tickets, include), **self._sideload(tickets, include)}

    def _comments(self, params: dict[str, str], body: Any, tid: str) -> tuple[int, Any]:
        if int(tid) not in self.tickets:
            return 404, {"error": "RecordNotFound", "description": "Not found"}
        size = min(int(params.get("page[size]", 100)), 100)
        start = int(params.get("page[after]", "0"))
        comments = self.comments[int(tid)][start:start + size]
        more = start + size < len(self.comments[int(tid)])
        out: dict[str, Any] = {
            "comments": comments,
            "meta": {"has_more": more, "after_cursor": str(start + size) if more else None, "before_cursor": None},
            "links": {"next": f"{BASE}/api/v2/tickets/{tid}/comments.json?page[after]={start + size}" if more else None,
                      "prev": None},
        }
        if params.get("include") == "users":
            out["users"] = [self.users[u] for u in sorted({c["author_id"] for c in comments}) if u in self.users]
        return 200, out

    # "Update Many Tickets" (developer.zendesk.com/api-reference/ticketing/tickets/tickets/#update-many-tickets):
    # a batch update ({"tickets": [{"id": ..}, ...]}) or a bulk update (?ids=1,2,3 with one {"ticket": {..}}), at
    # most 100 tickets; it "queues a background job" and answers with its job_status, applied later.
    def _update_many(self, params: dict[str, str], body: Any) -> tuple[int, Any]:
        if "ids" in params:
            return self._bulk_update(params, body)
        tickets = (body or {}).get("tickets")
        if not isinstance(tickets, list) or not tickets or len(tickets) > 100 or not all("id" in t for t in tickets):
            return 400, {"error": "InvalidValue", "description": "tickets: 1 to 100 ticket objects with an id"}
        return 200, {"job_status": self._job_json(self._queue(tickets, bulk=False))}

    def _bulk_update(self, params: dict[str, str], body: Any) -> tuple[int, Any]:
        ids = [int(i) for i in params["ids"].split(",") if i.strip().isdigit()]
        change = (body or {}).get("ticket")
        if not ids or len(ids) > 100 or not isinstance(change, dict):
            return 400, {"error": "InvalidValue", "description": "ids: 1 to 100 ticket ids, and a ticket object"}
        return 200, {"job_status": self._job_json(self._queue([{**change, "id": i} for i in ids], bulk=True))}

    def _queue(self, tickets: list[dict[str, Any]], bulk: bool) -> str:
        job_id = secrets.token_hex(16)
        self.jobs[job_id] = {"tickets": tickets, "bulk": bulk, "status": "queued", "results": None}
        return job_id

    def _job_json(self, job_id: str) -> dict[str, Any]:
        # "Job Statuses" (developer.zendesk.com/api-reference/ticketing/ticket-management/job_statuses/): status
        # "queued", "working", "failed" or "completed"; progress, total, message, and per-ticket results.
        job = self.jobs[job_id]
        done = job["status"] == "completed"
        return {"id": job_id, "url": f"{BASE}/api/v2/job_statuses/{job_id}.json", "job_type": "ThirdPartyTicketBulkUpdate",
                "total": len(job["tickets"]), "progress": len(job["tickets"]) if done else (None if job["status"] == "queued" else 0),
                "status": job["status"], "message": f"Completed at {zulu(self.clock)}" if done else None,
                "results": job["results"]}

    def _job(self, params: dict[str, str], body: Any, job_id: str) -> tuple[int, Any]:
        job = self.jobs.get(job_id)
        if job is None:  # "You can access the job status data for one day after a particular job is created"
            return 404, {"error": "RecordNotFound", "description": "Not found"}
        if not self.hold_jobs:  # each poll finds the job one step on: queued -> working -> completed
            if job["status"] == "queued":
                job["status"] = "working"
            elif job["status"] == "working":
                self._complete(job)
        return 200, {"job_status": self._job_json(job_id)}

    def run_jobs(self) -> None:
        """Zendesk works through its queue whether anyone polls or not: every job not completed is applied now."""
        for job in self.jobs.values():
            if job["status"] != "completed":
                self._complete(job)

    def _complete(self, job: dict[str, Any]) -> None:
        while self.before_jobs:
            self.before_jobs.pop(0)()
        job["results"] = [self._apply(i, item, job["bulk"]) for i, item in enumerate(job["tickets"])]
        job["status"] = "completed"
        while self.after_jobs:
            self.after_jobs.pop(0)()

    def _apply(self, index: int, item: dict[str, Any], bulk: bool) -> dict[str, Any]:
        tid = item["id"]
        refused = self._refusal(item, bulk)
        if refused:
            return {"id": tid, "index": index, **refused}
        ticket = self.tickets[tid]
        ticket["tags"] = self._tags(ticket["tags"], item, bulk)
        for f in item.get("custom_fields", []):
            next(c for c in ticket["custom_fields"] if c["id"] == f["id"])["value"] = (
                None if f["value"] is None else str(f["value"]))
        if "assignee_id" in item:
            ticket["assignee_id"] = item["assignee_id"]
        if "comment" in item:
            self.add_comment(tid, self.bot["id"], item["comment"]["body"], item["comment"].get("public", True), bump=False)
        self.changed(tid)
        return {"id": tid, "action": "update", "success": True, "status": "Updated"}

    def _refusal(self, item: dict[str, Any], bulk: bool) -> dict[str, str] | None:
        """Why Zendesk refuses one ticket of a job, or None."""
        tid = item["id"]
        if tid not in self.tickets:
            return {"error": "TicketNotFound", "details": f"Ticket {tid} not found"}
        if tid in self.fail_always or tid in self.fail_once:
            self.fail_once.discard(tid)
            return {"error": "TicketUpdateFailed", "details": "Ticket could not be updated: a concurrent update collided"}
        ticket = self.tickets[tid]
        # A closed ticket takes no update, but its tags through a bulk update ("Tags": "To update tags for closed
        # tickets, use the Update Many Tickets endpoint", developer.zendesk.com/api-reference/ticketing/
        # ticket-management/tags/; "Once a ticket is closed ... it can't be reopened", "Creating and updating tickets").
        if ticket["status"] == "closed" and not (bulk and set(item) <= {"id", "additional_tags", "remove_tags"}):
            return {"error": "TicketUpdateFailed", "details": "Status: closed prevents ticket update"}
        if item.get("safe_update") and item.get("updated_stamp") != ticket["updated_at"]:
            return {"error": "UpdateConflict", "details": CONFLICT}
        known = {f["id"] for f in ticket["custom_fields"]}
        bad = next((f["id"] for f in item.get("custom_fields", []) if f["id"] not in known), None)
        return None if bad is None else {"error": "RecordInvalid", "details": f"custom field {bad} does not exist"}

    @staticmethod
    def _tags(tags: list[str], item: dict[str, Any], bulk: bool) -> list[str]:
        """A ticket's tags after one item: ``tags`` replaces them; ``additional_tags`` adds (bulk and batch
        updates); ``remove_tags`` removes in a bulk update only ("The additional_tags and remove_tags properties
        only work with bulk updates ... They don't work with batch updates", an earlier revision of "Adding tags
        to tickets without overwriting existing tags"; the current one shows additional_tags in a batch update)."""
        if "tags" in item:
            return list(item["tags"])
        removed = set(item.get("remove_tags", [])) if bulk else set()
        kept = [t for t in tags if t not in removed]
        return kept + [t for t in item.get("additional_tags", []) if t not in kept]


class ZendeskDriver(HelpdeskDriver):
    """Drives :class:`FakeZendesk` for the conformance suite; ``sleeps`` records every wait."""

    def __init__(self, rsps: Any):
        self.fake = FakeZendesk(rsps)
        self.sleeps: list[float] = []
        self.ids: dict[str, str] = {}
        self.people: dict[str, int] = {}

    def adapter(self, config: Any, **overrides: Any) -> ZendeskAdapter:
        """The real adapter on the fake, with an injected sleep and a fast retry policy."""
        return ZendeskAdapter(adapter_settings(**overrides), config, sleep=self.sleeps.append,
                              retry=RetryPolicy(attempts=6, base=0.01, max_wait=60))

    def make_adapter(self, config: Any) -> Any:
        return IdMappedAdapter(self.adapter(config), self.ids)

    def _person(self, actor: dict[str, Any] | None, requester: int) -> int:
        if not actor or actor.get("role") == "applicant":
            return requester
        key = actor["id"]
        if key not in self.people:
            uid = 9001 + len(self.people)
            self.fake.add_user(uid, actor.get("name") or key, "agent")
            self.people[key] = uid
        return self.people[key]

    def seed(self, tickets: list[dict[str, Any]]) -> None:
        kinds = {v: k for k, v in KIND_VALUES.items()}
        for t in tickets:
            requester = 8000 + len(self.fake.users)
            self.fake.add_user(requester, (t.get("applicant") or {}).get("name") or "群众", "end-user")
            created = datetime.fromisoformat(t["created_at"])
            tid = self.fake.create_ticket(
                subject=t.get("subject") or "", requester_id=requester, created_at=created,
                status={"resolved": "solved"}.get(t.get("status") or "open", t.get("status") or "open"),
                group_id=GROUPS.get(t.get("department")), via=VIA.get(t.get("channel") or "web", "web"),
                tags=t.get("tags"), fields={FIELD_IDS["事项类型"]: kinds[t["kind"]]})
            for e in t.get("events", []):
                if e["type"] == "reply":
                    self.fake.add_comment(tid, self._person(e.get("actor"), requester), e.get("body", ""),
                                          e.get("public", True), at=datetime.fromisoformat(e["at"]))
            self.ids[t["id"]] = str(tid)

    def touch(self, ticket_id: str) -> None:
        tid = int(self.ids[ticket_id])
        self.fake.add_comment(tid, self.people.get("s2") or self._person({"id": "s2"}, 0), "补充说明")

    def read(self, ticket_id: str) -> dict[str, Any]:
        tid = int(self.ids[ticket_id])
        ticket = self.fake.tickets[tid]
        names = {fid: name for name, fid in FIELD_IDS.items()}
        fields = {names[f["id"]]: f["value"] for f in ticket["custom_fields"] if f["value"] is not None}
        notes = [c["body"] for c in self.fake.comments[tid] if not c["public"]]
        return {"tags": set(ticket["tags"]), "fields": fields, "notes": notes}
