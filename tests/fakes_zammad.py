"""A stateful fake of the Zammad REST API v1 endpoints the adapter uses, on ``responses``.

Payloads follow the documented shapes: ``GET /api/v1/tickets/search`` answering
``{"tickets": [ids], "tickets_count", "assets"}`` or, with ``expand=true``, a list
of tickets with association names (``group``, ``state``, ``create_article_type``,
...); ``per_page`` capped at 200; ``sort_by``/``order_by``; timestamps with
milliseconds (``2021-11-03T11:51:13.809Z``); ``by_ticket`` articles with
``type``/``sender``/``internal``; ``{"tags": [...]}``; ``tags/add`` and
``tags/remove`` answering ``201 true``, an add touching the ticket only when the tag is new and a
remove always (``Tag.tag_add`` / ``Tag.tag_remove`` "touch reference", zammad/zammad
app/models/tag.rb); ``article_count`` counting the articles whose sender is not System
(``article_count_update``, zammad/zammad
app/models/ticket/article/has_ticket_contact_attributes_impact.rb); ``PUT /api/v1/tickets/{id}``
creating the ``article`` it carries in the same locked update (docs.zammad.org/en/latest/api/ticket/index.html,
"Update": "This article is a *new article*"; ``ticket.with_lock`` in ``TicketsController#update``) and
answering, with ``all=true``, the ticket's ``ticket_all`` (``ticket_id``, ``ticket_article_ids``,
``assets``, ``tags``, ..., zammad/zammad app/controllers/tickets_controller.rb); a ``tags`` attribute on
that ``PUT`` is not a model attribute and is dropped like any other; unknown ticket attributes **dropped with
200**, as Zammad's ``param_cleanup`` does ("remove all not used model attributes of
params", zammad/zammad app/models/application_model/can_cleanup_param.rb), so the
answer shows what was stored; ``GET /api/v1/tickets`` (the list, from the database,
docs.zammad.org/en/latest/api/ticket/index.html "List"); without Elasticsearch
(``elasticsearch = False``) the search finds nothing; ``Authorization: Token token=...``; ``GET /api/v1/users/me``, the token's
user (docs.zammad.org/en/latest/api/user.html, "Me - Current User"): govhall's
own articles are created by it (``created_by_id`` :data:`GOVHALL_USER`), the
staff's by agent 3. The search ``query`` understands the
``updated_at:>=`` range (with ``\\:`` escapes) the adapter sends; like a real
index it can lag (ids in ``unindexed`` are not found by a search yet).
Ticket ids are opaque to the adapter, so the conformance ids are used as they are.
Built on the testing kit's :class:`~govhall_sdk.testing.FakeHelpdesk`.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from govhall_adapters.zammad import ZammadAdapter
from govhall_sdk.rest import RetryPolicy
from govhall_sdk.testing import FakeHelpdesk, HelpdeskDriver

BASE = "https://zammad.center.example"
TOKEN = "zm-test-token-9Kd"
GOVHALL_ATTRIBUTES = ("govhall_light", "govhall_due_at", "govhall_first_inquiry", "govhall_first_handler",
                      "govhall_escalation_level", "govhall_escalated_to")
KIND_WORDS = {"consultation": "咨询", "application": "申请", "complaint": "投诉", "supervision": "督办",
              "assignment": "交办"}
ARTICLE_TYPES = {"mail": "email", "web": "web", "phone": "phone", "counter": "note", "hotline": "phone",
                 "letter": "fax"}
GOVHALL_USER = 9  # the user the token belongs to
#: Groups by name, for a ``PUT`` naming one: an unknown name is refused with 422, "No lookup value found for
#: 'group'" (``association_name_to_id_convert``, zammad/zammad app/models/application_model/can_associations.rb).
GROUPS = {"Users": 1, "2nd Level": 2, "Service Desk": 3}
#: The association names of an expanded article; its assets (``attributes_with_association_ids``) hold the ids only.
ARTICLE_NAMES = frozenset({"type", "sender", "created_by", "updated_by"})
STATES = {"new": "new", "open": "open", "pending": "pending reminder", "accepted": "open", "resolved": "closed",
          "closed": "closed", "rejected": "closed"}


def fmt(instant: datetime) -> str:
    return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class ZammadFake(FakeHelpdesk):
    """The helpdesk: tickets (expanded form), articles, tags, a clock, a request log, failures."""

    unauthorized = {"error": "Authentication required"}

    def __init__(self, token: str = TOKEN, *, start: str = "2025-01-06T01:00:00.000Z",
                 attributes: tuple[str, ...] = GOVHALL_ATTRIBUTES):
        super().__init__(BASE)
        self.token = token
        self.tickets: dict[str, dict[str, Any]] = {}
        self.articles: dict[str, list[dict[str, Any]]] = {}
        self.tags: dict[str, list[str]] = {}
        self.clock = datetime.fromisoformat(start)
        self.attributes = attributes
        self.unindexed: set[str] = set()
        self.elasticsearch = True
        self.next_article = 1
        self.meanwhile: list[tuple[str, str, str | None, Any]] = []  # see before_next
        routes = [
            ("GET", r"/api/v1/users/me", self._me),
            ("GET", r"/api/v1/tickets/search", lambda call: (200, self._search(call.query))),
            ("GET", r"/api/v1/tickets", self._list),
            ("POST", r"/api/v1/tags/add", lambda call: self._tag(call, add=True)),
            ("DELETE", r"/api/v1/tags/remove", lambda call: self._tag(call, add=False)),
            ("GET", r"/api/v1/tags", self._tags),
            ("POST", r"/api/v1/ticket_articles", self._new_article),
            ("GET", r"/api/v1/ticket_articles/by_ticket/([^/]+)", self._articles),
            ("GET", r"/api/v1/tickets/([^/]+)", self._ticket),
            ("PUT", r"/api/v1/tickets/([^/]+)", self._ticket),
        ]
        for method, path, handler in routes:
            self.route(method, path, self._after_persons(handler), expected=False)

    def before_next(self, method: str, path: str, action: Any, o_id: str | None = None) -> None:
        """Run ``action()`` (a person's change) just before the next ``method`` request to a path matching
        ``path`` (and, given ``o_id``, a body naming that ticket) is handled: what happens between two of
        govhall's requests."""
        self.meanwhile.append((method, path, o_id, action))

    def _after_persons(self, handler: Any) -> Any:
        """``handler``, run once what :meth:`before_next` queued for its request is done."""
        def handle(call: Any, *groups: str) -> Any:
            for entry in list(self.meanwhile):
                method, path, o_id, action = entry
                named = o_id is None or (isinstance(call.body, dict) and str(call.body.get("o_id")) == o_id)
                if call.method == method and re.search(path, call.path) and named:
                    self.meanwhile.remove(entry)
                    action()
            return handler(call, *groups)
        return handle

    def tick(self) -> str:
        self.clock += timedelta(seconds=1)
        return fmt(self.clock)

    def add_ticket(self, ticket: dict[str, Any], articles: list[dict[str, Any]] | None = None,
                   tags: list[str] | None = None) -> None:
        tid = str(ticket["id"])
        now = fmt(self.clock)
        full = {"id": ticket["id"], "group_id": 1, "priority_id": 2, "state_id": 2, "organization_id": None,
                "number": f"3100{len(self.tickets) + 1}", "title": "", "owner_id": 1, "customer_id": 20,
                "note": None, "first_response_at": None, "close_at": None, "last_contact_at": None,
                "create_article_type_id": 5, "create_article_sender_id": 2, "article_count": 0,
                "escalation_at": None, "pending_time": None, "type": None, "time_unit": None, "preferences": {},
                "updated_by_id": 3, "created_by_id": 3, "created_at": now, "updated_at": now, "article_ids": [],
                "ticket_time_accounting_ids": [], "group": "Users", "organization": None,
                "ticket_time_accounting": [], "state": "open", "priority": "2 normal", "owner": "-",
                "customer": "customer@example.com", "created_by": "agent@center.example",
                "updated_by": "agent@center.example", "create_article_type": "phone",
                "create_article_sender": "Agent", **{a: None for a in self.attributes}}
        full.update(ticket)
        self.tickets[tid] = full
        self.articles[tid] = []
        self.tags[tid] = list(tags or [])
        for article in articles or []:
            self.add_article(tid, article, bump=False)

    def add_article(self, tid: str, article: dict[str, Any], bump: bool = True) -> dict[str, Any]:
        at = article.get("created_at") or (self.tick() if bump else fmt(self.clock))
        full = {"id": self.next_article, "ticket_id": tid, "type_id": 10, "sender_id": 1, "from": "", "to": "",
                "cc": "", "subject": None, "reply_to": None, "message_id": None, "message_id_md5": None,
                "in_reply_to": None, "content_type": "text/html", "references": None, "body": "",
                "internal": False, "preferences": {}, "updated_by_id": 3, "created_by_id": 3, "origin_by_id": None,
                "created_at": at, "updated_at": at, "attachments": [], "type": "note", "sender": "Agent",
                "created_by": "agent@center.example", "updated_by": "agent@center.example", "time_unit": None}
        full.update(article)
        full["id"], full["ticket_id"] = self.next_article, self.tickets[tid]["id"]
        self.next_article += 1
        self.articles[tid].append(full)
        ticket = self.tickets[tid]
        ticket["article_ids"] = [a["id"] for a in self.articles[tid]][::-1]
        ticket["article_count"] = sum(1 for a in self.articles[tid] if a["sender"] != "System")
        if bump:
            ticket["updated_at"] = at
        return full

    def fail(self, method: str, path: str, status: int = 429, times: int = 1, headers: dict[str, str] | None = None,
             body: Any = None) -> None:
        super().fail(method, f"^(?:{path})$", status, body if body is not None else {"error": "Too Many Requests"},
                     times=times, headers=headers or ({"Retry-After": "5"} if status == 429 else {}))

    def requests_to(self, method: str, path: str) -> list[tuple[dict[str, list[str]], Any]]:
        return [(c.query, c.body) for c in self.sent(method, path)]

    def expected_auth(self) -> str:
        return f"Token token={self.token}"

    # ------------------------------------------------------------ HTTP
    def _me(self, call):  # docs.zammad.org/en/latest/api/user.html
        return 200, {"id": GOVHALL_USER, "login": "govhall@center.example", "firstname": "govhall", "lastname": "",
                     "email": "govhall@center.example", "active": True, "role_ids": [2], "group_ids": {"1": ["full"]}}

    def _tags(self, call):
        tid = call.query.get("o_id", [""])[0]
        if call.query.get("object") != ["Ticket"] or tid not in self.tickets:
            return 404, {"error": "Couldn't find Ticket"}
        return 200, {"tags": self.tags[tid]}

    def _new_article(self, call):
        body = call.body
        tid = str(body.get("ticket_id"))
        if tid not in self.tickets:
            return 404, {"error": "Couldn't find Ticket"}
        return 201, self._govhall_article(tid, body)

    def _govhall_article(self, tid, body):
        """An article the token's user (an agent: sender Agent) creates."""
        return self.add_article(tid, {"body": body["body"], "content_type": body.get("content_type", "text/html"),
                                      "type": body.get("type", "note"), "internal": body.get("internal", False),
                                      "subject": body.get("subject"), "created_by": "govhall@center.example",
                                      "created_by_id": GOVHALL_USER, "updated_by_id": GOVHALL_USER})

    def _articles(self, call, tid):
        if tid not in self.tickets:
            return 404, {"error": "Couldn't find Ticket"}
        return 200, self.articles[tid]

    def _ticket(self, call, tid):
        if tid not in self.tickets:
            return 404, {"error": "No route matches"}
        ticket = self.tickets[tid]
        if call.method == "PUT" and "group" in call.body and call.body["group"] not in GROUPS:
            return 422, {"error": f"No lookup value found for 'group': \"{call.body['group']}\""}
        if call.method == "PUT":
            self._update(tid, call.body)
        if call.query.get("all") == ["true"]:
            return 200, self._ticket_all(tid)
        return 200, ticket if call.query.get("expand") == ["true"] else self._ids_only(ticket)

    def _update(self, tid, body):
        """``TicketsController#update``: param_cleanup keeps the model's attributes only (an unknown one, and
        ``tags``, is dropped and the answer is 200), then, in the same lock, the ``article`` it carries."""
        ticket = self.tickets[tid]
        ticket.update({k: v for k, v in body.items()
                       if k in ticket and k not in ("id", "number", "created_at", "updated_at")})
        if "group" in body:  # association_name_to_id_convert: the name is stored as its id
            ticket["group_id"] = GROUPS[body["group"]]
        ticket["updated_at"] = self.tick()
        if body.get("article"):
            self._govhall_article(tid, body["article"])

    def _ticket_all(self, tid):
        """``ticket_all``: the ticket among its assets (ids, not names), its article ids and its tags."""
        ticket = self.tickets[tid]
        return {"ticket_id": ticket["id"], "ticket_article_ids": [a["id"] for a in self.articles[tid]],
                "assets": {"Ticket": {str(ticket["id"]): self._ids_only(ticket)},
                           "TicketArticle": {str(a["id"]): {k: v for k, v in a.items() if k not in ARTICLE_NAMES}
                                             for a in self.articles[tid]}},
                "links": [], "tags": list(self.tags[tid]), "mentions": [], "form_meta": {}}

    def _ids_only(self, ticket):
        names = {"group", "organization", "ticket_time_accounting", "state", "priority", "owner", "customer",
                 "created_by", "updated_by", "create_article_type", "create_article_sender"}
        return {k: v for k, v in ticket.items() if k not in names}

    def _tag(self, call, add):
        body = call.body
        tid = str(body.get("o_id"))
        if body.get("object") != "Ticket" or tid not in self.tickets or not body.get("item"):
            return 422, {"error": "Need object, o_id and item"}
        tags = self.tags[tid]
        if add and body["item"] in tags:
            return 201, "true"  # "return if duplicate": nothing touched
        if add:
            tags.append(body["item"])
        elif body["item"] in tags:
            tags.remove(body["item"])
        self.tickets[tid]["updated_at"] = self.tick()  # "touch reference"
        return 201, "true"

    def _list(self, call):
        per_page = min(int(call.params.get("per_page", "50")), 100)
        page = int(call.params.get("page", "1"))
        listed = sorted(self.tickets.values(), key=lambda t: int(t["id"]) if str(t["id"]).isdigit() else 0)
        chunk = listed[(page - 1) * per_page: page * per_page]
        return 200, [t if call.params.get("expand") == "true" else self._ids_only(t) for t in chunk]

    def _search(self, query):
        if not self.elasticsearch:  # no search index: the query-string syntax matches nothing
            return [] if query.get("expand") == ["true"] else {"tickets": [], "tickets_count": 0, "assets": {}}
        per_page = min(int(query.get("per_page", ["50"])[0]), 200)
        page = int(query.get("page", ["1"])[0])
        text = query.get("query", [""])[0]
        found = [t for t in self.tickets.values() if str(t["id"]) not in self.unindexed]
        m = re.search(r"updated_at:>=((?:[^\s\\]|\\.)+)", text)
        if m:
            since = datetime.fromisoformat(m.group(1).replace("\\", ""))
            found = [t for t in found if datetime.fromisoformat(t["updated_at"]) >= since]
        g = re.search(r"group\.name:(\S+?)\)?$", text)
        if g:
            found = [t for t in found if t["group"] == g.group(1)]
        field = query.get("sort_by", ["created_at"])[0]
        found.sort(key=lambda t: (t[field], str(t["id"])), reverse=query.get("order_by", ["desc"])[0] == "desc")
        chunk = found[(page - 1) * per_page: page * per_page]
        if query.get("expand") == ["true"]:
            return chunk
        return {"tickets": [t["id"] for t in chunk], "tickets_count": len(chunk),
                "assets": {"Ticket": {str(t["id"]): self._ids_only(t) for t in chunk}}}

    # ------------------------------------------------------------ interchange seeding
    def seed_interchange(self, raw: dict[str, Any]) -> None:
        articles = []
        for event in raw.get("events", []):
            if event["type"] != "reply":
                continue
            actor = event.get("actor") or {}
            staff = actor.get("role", "staff") == "staff"
            articles.append({"body": event.get("body", ""), "content_type": "text/plain",
                             "internal": not event.get("public", True), "type": "phone" if staff else "web",
                             "sender": "Agent" if staff else "Customer",
                             "created_by": actor.get("id", "customer@example.com"),
                             "created_at": fmt(datetime.fromisoformat(event["at"]))})
        self.add_ticket({"id": raw["id"], "title": raw.get("subject", ""), "type": KIND_WORDS[raw["kind"]],
                         "group": raw.get("department") or "Users", "state": STATES.get(raw.get("status"), "open"),
                         "create_article_type": ARTICLE_TYPES.get(raw.get("channel"), "web"),
                         "created_at": fmt(datetime.fromisoformat(raw["created_at"]))}, articles, raw.get("tags"))


class ZammadDriver(HelpdeskDriver):
    """Drives :class:`ZammadFake` for the conformance suite."""

    def __init__(self, fake: ZammadFake, sleeps: list[float] | None = None):
        self.fake = fake
        self.sleeps = sleeps if sleeps is not None else []

    def settings(self, **extra: Any) -> dict[str, Any]:
        return {"type": "zammad", "url": BASE, "token": self.fake.token,
                "agents": {"s1": {"name": "王", "rank": 1, "department": "综合窗口"}}, **extra}

    def make_adapter(self, config: Any, **extra: Any) -> ZammadAdapter:
        return ZammadAdapter(self.settings(**extra), config, sleep=self.sleeps.append,
                             retry=RetryPolicy(attempts=6, base=0.01))

    def seed(self, tickets: list[dict[str, Any]]) -> None:
        for raw in tickets:
            self.fake.seed_interchange(raw)

    def touch(self, ticket_id: str) -> None:
        self.fake.add_article(ticket_id, {"body": "<p>补充说明</p>", "type": "web", "sender": "Customer",
                                          "created_by": "customer@example.com"})

    def read(self, ticket_id: str) -> dict[str, Any]:
        ticket = self.fake.tickets[ticket_id]
        notes = [a["body"] for a in self.fake.articles[ticket_id] if a["internal"]]
        return {"tags": set(self.fake.tags[ticket_id]),
                "fields": {k: v for k, v in ticket.items() if k.startswith("govhall_")}, "notes": notes}
