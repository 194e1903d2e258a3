"""A stateful fake of the Freshdesk API v2 endpoints the adapter uses, on ``responses``.

Payloads follow the documented shapes (List All Tickets, View a Ticket with
``include=requester,stats``, List All Conversations of a Ticket, Create a Note,
Update a Ticket): integer ``source``/``status`` codes, UTC ``...Z`` timestamps at
second resolution, ``custom_fields`` keyed ``cf_...``, ``X-RateLimit-*`` headers,
``Link: <...>; rel="next"`` on full pages, ``page`` capped at 300 with the
documented validation error, per_page capped at 100, and without
``updated_since`` only tickets created in the last 30 days. Ticket ids are
opaque to the adapter, so the conformance suite's string ids (``C-0000``) are
used as they are.

Failures can be injected (``fail(...)``) to play rate limits and outages. Built on the
testing kit's :class:`~govhall_sdk.testing.FakeHelpdesk`.
"""
from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from govhall_adapters.freshdesk import FreshdeskAdapter
from govhall_sdk.mapping import html_text
from govhall_sdk.rest import RetryPolicy
from govhall_sdk.testing import FakeHelpdesk, HelpdeskDriver

BASE = "https://govhall-test.freshdesk.com"
API_KEY = "fd-test-key-7Qx"
GOVHALL_FIELDS = ("cf_govhall_light", "cf_govhall_due_at", "cf_govhall_first_inquiry", "cf_govhall_first_handler",
                  "cf_govhall_escalation_level", "cf_govhall_escalated_to")
KIND_WORDS = {"consultation": "咨询", "application": "申请", "complaint": "投诉", "supervision": "督办",
              "assignment": "交办"}
SOURCES = {"mail": 1, "web": 2, "phone": 3, "counter": 3, "hotline": 3, "letter": 1}
STATUS_CODES = {"new": 2, "open": 2, "pending": 3, "accepted": 2, "resolved": 4, "closed": 5, "rejected": 5}
AGENT_IDS = {"s1": 1001, "s2": 1002, "s3": 1003}
REQUESTER_ID = 5001


def fmt(instant: datetime) -> str:
    return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class FreshdeskFake(FakeHelpdesk):
    """The helpdesk: tickets, conversations, a clock, a request log and injected failures."""

    unauthorized = {"code": "invalid_credentials", "message": "You have to be logged in to perform this action."}

    def __init__(self, api_key: str = API_KEY, *, rate_total: int = 700, page_cap: int = 300,
                 start: str = "2025-01-06T01:00:00Z", custom_fields: tuple[str, ...] = GOVHALL_FIELDS):
        super().__init__(BASE)
        self.api_key = api_key
        self.tickets: dict[str, dict[str, Any]] = {}
        self.conversations: dict[str, list[dict[str, Any]]] = {}
        self.clock = datetime.fromisoformat(start)
        self.rate_total, self.rate_left = rate_total, rate_total
        self.credits_used = 0  # every credit charged (see credits), for the figures
        self.page_cap = page_cap
        self.custom_fields = custom_fields
        self.next_conversation = 1
        for method in ("GET", "PUT", "POST", "DELETE"):
            self.route(method, r"/api/v2/.*", self._handle, expected=False)

    # ------------------------------------------------------------ state
    def tick(self) -> str:
        self.clock += timedelta(seconds=1)
        return fmt(self.clock)

    def add_ticket(self, ticket: dict[str, Any], conversations: list[dict[str, Any]] | None = None) -> None:
        """Store a ticket shaped like the API's (missing keys get documented defaults)."""
        tid = str(ticket["id"])
        full = {"cc_emails": [], "fwd_emails": [], "reply_cc_emails": [], "fr_escalated": False, "spam": False,
                "email_config_id": None, "group_id": None, "priority": 1, "requester_id": REQUESTER_ID,
                "responder_id": None, "source": 2, "status": 2, "subject": "", "to_emails": None,
                "product_id": None, "type": None, "due_by": None, "fr_due_by": None, "is_escalated": False,
                "custom_fields": {k: None for k in self.custom_fields}, "tags": [], "attachments": [],
                "created_at": fmt(self.clock), "updated_at": fmt(self.clock), "company_id": None}
        full.update(ticket)
        full["custom_fields"] = {**{k: None for k in self.custom_fields}, **(ticket.get("custom_fields") or {})}
        self.tickets[tid] = full
        self.conversations[tid] = []
        for conv in conversations or []:
            self.add_conversation(tid, conv, bump=False)

    def add_conversation(self, tid: str, conv: dict[str, Any], bump: bool = True) -> dict[str, Any]:
        at = conv.get("created_at") or (self.tick() if bump else fmt(self.clock))
        full = {"body": conv.get("body", ""), "body_text": conv.get("body_text") or html_text(conv.get("body", "")),
                "id": self.next_conversation, "incoming": False, "private": False, "user_id": AGENT_IDS["s1"],
                "support_email": None, "source": 0, "ticket_id": tid, "to_emails": [], "from_email": None,
                "cc_emails": [], "bcc_emails": [], "created_at": at, "updated_at": at, "attachments": []}
        full.update({k: v for k, v in conv.items() if k not in ("body_text",)})
        full["id"], full["ticket_id"] = self.next_conversation, tid
        self.next_conversation += 1
        self.conversations[tid].append(full)
        if bump:
            self.tickets[tid]["updated_at"] = at
        return full

    def fail(self, method: str, path: str, status: int = 429, times: int = 1, headers: dict[str, str] | None = None,
             body: Any = None) -> None:
        """The next ``times`` requests matching ``method`` and the regex ``path`` (whole) get this answer."""
        super().fail(method, f"^(?:{path})$", status, body if body is not None else {"code": "rate_limited"},
                     times=times, headers=headers or ({"Retry-After": "7"} if status == 429 else {}))

    def requests_to(self, method: str, path: str) -> list[dict[str, list[str]]]:
        return [c.query for c in self.sent(method, path)]

    @property
    def log(self) -> list[tuple[str, str, dict[str, list[str]]]]:
        return [(c.method, c.path, c.query) for c in self.received]

    def expected_auth(self) -> str:
        return "Basic " + base64.b64encode(f"{self.api_key}:X".encode()).decode()

    # ------------------------------------------------------------ HTTP
    def served_headers(self, call: Any, served: bool) -> dict[str, str]:
        """The rate-limit headers of every answer ("Rate Limit", developers.freshdesk.com/api/#ratelimit):
        ``X-RateLimit-Total`` a minute, ``X-RateLimit-Remaining`` and the credits this call used. Every
        call is charged, a refused one too ("Even invalid requests count towards the rate limit")."""
        cost = self.credits(call)
        self.credits_used += cost
        self.rate_left = max(self.rate_left - cost, 0)
        return {"Content-Type": "application/json", "X-RateLimit-Total": str(self.rate_total),
                "X-RateLimit-Remaining": str(self.rate_left), "X-RateLimit-Used-CurrentRequest": str(cost)}

    @staticmethod
    def credits(call: Any) -> int:
        """What a call costs: one credit, plus 2 for each ``include`` of List All Tickets ("Each include will
        consume an additional 2 credits", developers.freshdesk.com/api/#list_all_tickets) and 1 for each of
        View a Ticket ("Each include will consume an additional credit", .../api/#view_a_ticket)."""
        includes = [name for value in call.query.get("include", []) for name in value.split(",") if name]
        if call.method != "GET" or not includes:
            return 1
        if call.path == "/api/v2/tickets":
            return 1 + 2 * len(includes)
        return 1 + len(includes) if re.fullmatch(r"/api/v2/tickets/[^/]+", call.path) else 1

    def _handle(self, call):
        query, body = call.query, call.body
        path = call.path[len("/api/v2"):]
        if call.method == "GET" and path == "/tickets":
            return self._list(query)
        m = re.fullmatch(r"/tickets/([^/]+)(/conversations|/notes)?", path)
        if not m or m.group(1) not in self.tickets:
            return 404, ""
        tid, tail = m.group(1), m.group(2)
        if call.method == "GET" and tail is None:
            return 200, self._view(self.tickets[tid], query)
        if call.method == "GET" and tail == "/conversations":
            return self._conversation_page(tid, query)
        if call.method == "POST" and tail == "/notes":
            note = self.add_conversation(tid, {"body": body["body"], "private": body.get("private", True),
                                               "source": 2, "user_id": 1999})
            return 201, {k: v for k, v in note.items() if k != "source"}
        if call.method == "PUT" and tail is None:
            return self._update(tid, body)
        return 405, ""

    def _invalid(self, field: str, message: str, code: str = "invalid_value"):
        return 400, {"description": "Validation failed", "errors": [{"field": field, "message": message, "code": code}]}

    def _list(self, query):
        per_page = int(query.get("per_page", ["30"])[0])
        page = int(query.get("page", ["1"])[0])
        if per_page > 100:
            return self._invalid("per_page", "It should be a Positive Integer less than or equal to 100")
        if page > self.page_cap:
            return self._invalid("page", f"You cannot access tickets beyond the {self.page_cap}th page. "
                                         "Please provide a smaller page number.")
        tickets = list(self.tickets.values())
        if "updated_since" in query:
            since = datetime.fromisoformat(query["updated_since"][0])
            tickets = [t for t in tickets if datetime.fromisoformat(t["updated_at"]) >= since]
        else:  # documented default: only tickets created within the past 30 days
            tickets = [t for t in tickets if datetime.fromisoformat(t["created_at"]) >= self.clock - timedelta(days=30)]
        field = query.get("order_by", ["created_at"])[0]
        tickets.sort(key=lambda t: (t[field], t["id"]), reverse=query.get("order_type", ["desc"])[0] == "desc")
        chunk = tickets[(page - 1) * per_page: page * per_page]
        headers = {}
        if len(chunk) == per_page:
            nxt = {k: v[0] for k, v in query.items()} | {"page": page + 1}
            headers["Link"] = f'<{BASE}/api/v2/tickets?{urlencode(nxt)}>; rel="next"'
        return 200, [self._view(t, query) for t in chunk], headers

    def _view(self, ticket, query):
        out = {k: v for k, v in ticket.items() if k not in ("description", "description_text", "requester", "stats")}
        include = set(",".join(query.get("include", [""])).split(","))
        if "requester" in include:
            out["requester"] = ticket.get("requester") or {
                "id": ticket["requester_id"], "name": "张三", "email": "zhangsan@example.com",
                "mobile": "13800000000", "phone": None}
        if "stats" in include:
            out["stats"] = dict(ticket.get("stats") or self._stats(ticket, ticket["created_at"]))
        return out

    @staticmethod
    def _stats(ticket, since):
        """The ``stats`` of a ticket whose status was last set at ``since`` (the sample of View a Ticket with
        include=stats; a status change moves ``status_updated_at``, any other update does not)."""
        done = since if ticket["status"] in (4, 5) else None
        return {"agent_responded_at": None, "requester_responded_at": None, "first_responded_at": None,
                "status_updated_at": since, "reopened_at": None, "resolved_at": done, "closed_at": None,
                "pending_since": None}

    def _conversation_page(self, tid, query):
        per_page = min(int(query.get("per_page", ["30"])[0]), 100)
        page = int(query.get("page", ["1"])[0])
        items = self.conversations[tid]
        chunk = items[(page - 1) * per_page: page * per_page]
        headers = {}
        if len(items) > page * per_page:
            headers["Link"] = f'<{BASE}/api/v2/tickets/{tid}/conversations?per_page={per_page}&page={page + 1}>; rel="next"'
        return 200, chunk, headers

    def _update(self, tid, body):
        ticket = self.tickets[tid]
        for key in body:
            if key not in ticket or key in ("id", "created_at", "updated_at"):
                return self._invalid(key, "Unexpected/invalid field in request", "invalid_field")
        for key in (body.get("custom_fields") or {}):
            if key not in self.custom_fields:
                return self._invalid(key, "Unexpected/invalid field in request", "invalid_field")
        if "tags" in body and (not isinstance(body["tags"], list) or not all(isinstance(t, str) for t in body["tags"])):
            return self._invalid("tags", "It should be an Array of String")
        for key, value in body.items():
            if key == "custom_fields":
                ticket["custom_fields"].update(value)
            else:
                ticket[key] = value
        ticket["updated_at"] = self.tick()
        if "status" in body:
            ticket["stats"] = self._stats(ticket, ticket["updated_at"])
        return 200, self._view(ticket, {})

    # ------------------------------------------------------------ interchange seeding
    def seed_interchange(self, raw: dict[str, Any]) -> None:
        """A ticket as a person would have entered it, from an interchange dict."""
        created = fmt(datetime.fromisoformat(raw["created_at"]))
        convs = []
        for event in raw.get("events", []):
            if event["type"] != "reply":
                continue
            actor = event.get("actor") or {}
            staff = actor.get("role", "staff") == "staff"
            convs.append({"body": f"<div>{event.get('body', '')}</div>", "body_text": event.get("body", ""),
                          "private": not event.get("public", True), "incoming": not staff,
                          "user_id": AGENT_IDS.get(actor.get("id"), 1009) if staff else REQUESTER_ID,
                          "created_at": fmt(datetime.fromisoformat(event["at"]))})
        self.add_ticket({"id": raw["id"], "subject": raw.get("subject", ""), "type": KIND_WORDS[raw["kind"]],
                         "source": SOURCES.get(raw.get("channel"), 2), "status": STATUS_CODES.get(raw.get("status"), 2),
                         "group_id": 1 if raw.get("department") else None, "created_at": created,
                         "tags": list(raw.get("tags", []))}, convs)


class FreshdeskDriver(HelpdeskDriver):
    """Drives :class:`FreshdeskFake` for the conformance suite."""

    def __init__(self, fake: FreshdeskFake, sleeps: list[float] | None = None):
        self.fake = fake
        self.sleeps = sleeps if sleeps is not None else []

    def settings(self, **extra: Any) -> dict[str, Any]:
        return {"type": "freshdesk", "url": BASE, "api_key": self.fake.api_key, "departments": {"1": "综合窗口"},
                "agents": {"1001": {"name": "王", "rank": 1}}, **extra}

    def make_adapter(self, config: Any, **extra: Any) -> FreshdeskAdapter:
        return FreshdeskAdapter(self.settings(**extra), config, sleep=self.sleeps.append,
                                retry=RetryPolicy(attempts=6, base=0.01))

    def seed(self, tickets: list[dict[str, Any]]) -> None:
        for raw in tickets:  # one person's batch import: every ticket gets the same updated_at
            self.fake.seed_interchange(raw)

    def touch(self, ticket_id: str) -> None:
        self.fake.add_conversation(ticket_id, {"body": "<div>补充说明</div>", "incoming": True,
                                               "user_id": REQUESTER_ID, "source": 0})

    def read(self, ticket_id: str) -> dict[str, Any]:
        ticket = self.fake.tickets[ticket_id]
        fields = {k[3:]: v for k, v in ticket["custom_fields"].items()}
        notes = [c["body_text"] for c in self.fake.conversations[ticket_id] if c["private"]]
        return {"tags": set(ticket["tags"]), "fields": fields, "notes": notes}
