"""The ``zammad`` adapter: Zammad REST API v1 (``[adapter] type = "zammad"``).

Pull: ``GET /api/v1/tickets/search?query=updated_at:>=<instant>&sort_by=updated_at&order_by=asc&expand=true&page=&per_page=``
(the query is Elasticsearch query-string syntax, so the instant's colons are
escaped), re-anchored after every page like the Freshdesk adapter. The search
index trails the database, so the stored cursor stays ``settle_seconds`` (60)
behind the run instant and a ticket indexed late is still found next run.
Events: ``GET /api/v1/ticket_articles/by_ticket/{id}``; tags:
``GET /api/v1/tags?object=Ticket&o_id={id}``.
Write back: ``POST /api/v1/tags/add`` / ``DELETE /api/v1/tags/remove`` per tag
(idempotent on Zammad), internal notes ``POST /api/v1/ticket_articles`` with
``type: note, internal: true`` (never blindly retried; markers make a rerun
safe), then ``PUT /api/v1/tickets/{id}`` with the custom attributes.
Auth: ``Authorization: Token token=...``. Zammad documents no rate limit; a 429
still waits ``Retry-After`` through the shared retry policy.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, ClassVar, Iterator, Mapping, Sequence

from govhall_sdk import hookimpl
from govhall_sdk.cursor import SyncCursor, UpdatedSincePaginator, parse_instant
from govhall_sdk.mapping import (
    GOVHALL_MARK, MAPPING_SCHEMA, MAPPING_TYPES, HelpdeskMapping, assignee, html_text, read_mapping_settings,
)
from govhall_sdk.adapter import Page, with_warnings
from govhall_sdk.http import HTTPError, RESTAdapter, iso_utc
from govhall_sdk.model import Patch, Ticket
from govhall_sdk.parse import Parsed, TicketError, parse_item

#: Zammad's default ticket states (``GET /api/v1/ticket_states``), by name.
ZAMMAD_STATUSES = {"new": "new", "open": "open", "pending reminder": "pending", "pending close": "pending",
                   "closed": "closed", "merged": "closed", "removed": "closed"}
#: The type of the article that created the ticket (``create_article_type``), by name.
ZAMMAD_CHANNELS = {"email": "mail", "phone": "phone", "web": "web", "note": "counter", "sms": "phone",
                   "fax": "letter", "chat": "web"}
#: ``owner_id`` 1 is Zammad's "-": nobody (docs.zammad.org/en/latest/api/ticket/index.html, the welcome ticket).
NO_OWNER = 1
ZAMMAD_FIELDS = {"kind": "type", "subject": "title", "resolved_at": "close_at"}
#: Attributes of a default Zammad ticket (expanded); anything else is a custom attribute (``fields``).
STANDARD_ATTRIBUTES = frozenset({
    "id", "group_id", "priority_id", "state_id", "organization_id", "number", "title", "owner_id", "customer_id",
    "note", "first_response_at", "first_response_escalation_at", "first_response_in_min",
    "first_response_diff_in_min", "close_at", "close_escalation_at", "close_in_min", "close_diff_in_min",
    "update_escalation_at", "update_in_min", "update_diff_in_min", "last_contact_at", "last_contact_agent_at",
    "last_contact_customer_at", "last_owner_update_at", "create_article_type_id", "create_article_sender_id",
    "article_count", "escalation_at", "pending_time", "type", "time_unit", "preferences", "updated_by_id",
    "created_by_id", "created_at", "updated_at", "article_ids", "ticket_time_accounting_ids", "group",
    "organization", "ticket_time_accounting", "state", "priority", "owner", "customer", "created_by",
    "updated_by", "create_article_type", "create_article_sender", "checklist_id", "referencing_checklist_ids",
    "last_close_at", "mention_user_ids", "shared_draft_ids", "external_sync_ids",
})


class ZammadAdapter(RESTAdapter):
    """Zammad REST API v1. Settings: ``url``, ``token`` (secret), ``query`` (an extra
    search filter ANDed to the updated-at range) and the mapping tables described in
    ``docs/adapters/zammad.md``."""

    name = "zammad"
    max_per_page: ClassVar[int] = 200  # tickets/search: paginate_with(max: 200)
    #: Elasticsearch's default index.max_result_window: page x per_page stays within it.
    result_window: ClassVar[int] = 10_000
    settings_schema = {"url": None, "token": None, "query": "", **MAPPING_SCHEMA, "settle_seconds": 60.0}
    settings_types = {"url": str, "token": str, **MAPPING_TYPES}
    secret_settings = ("token",)

    def __init__(self, settings: Mapping[str, Any], config: Any, **kw: Any):
        super().__init__(settings, config, **kw)
        self.now: datetime | None = None
        self.mapping = HelpdeskMapping(self.settings, config.timezone, channels=ZAMMAD_CHANNELS,
                                       statuses=ZAMMAD_STATUSES, fields=ZAMMAD_FIELDS)
        self._echo: dict[str, str] = {}
        self._me: Mapping[str, Any] | None = None

    @classmethod
    def validate_settings(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        return read_mapping_settings(cls, raw)

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Token token={self.settings['token']}"}

    def search_query(self, since: datetime) -> str:
        """``updated_at:>=`` the instant, colons escaped for the query-string parser, plus ``query``."""
        query = "updated_at:>=" + iso_utc(since).replace(":", r"\:")
        extra = self.settings["query"].strip()
        return f"{query} AND ({extra})" if extra else query

    # -------------------------------------------------------------- reading
    def pull(self, cursor: str | None, page_size: int = 100) -> Iterator[Page]:
        """Tickets updated after ``cursor``, oldest first, a page at a time."""
        start = parse_instant(self.settings["start"]) or datetime(2000, 1, 1, tzinfo=timezone.utc)
        per_page = min(page_size, self.settings["per_page"])
        pager = UpdatedSincePaginator(
            SyncCursor.parse(cursor, start, self.config.timezone), per_page=per_page,
            key=lambda r: (str(r["id"]), str(r["updated_at"])),
            set_since=lambda params, since: params.__setitem__("query", self.search_query(since)),
            settle=self.settings["settle_seconds"], now=self.now, max_page=self.result_window // per_page)
        params = {"sort_by": "updated_at", "order_by": "asc", "expand": "true"}
        for _, records in self.paginate("/api/v1/tickets/search", pager, _search_records, params=params):
            fresh = pager.take(records)
            items = [self._parsed(raw) for raw in fresh if self._echo.get(str(raw["id"])) != raw["updated_at"]]
            if fresh:
                yield Page(items, pager.cursor, len(fresh) - len(items))

    def fetch(self, ids: Sequence[str]) -> Iterator[Parsed]:
        """The tickets with these ids, each read afresh; an unreadable one is reported, not raised."""
        for tid in ids:
            try:
                raw = self.request("GET", f"/api/v1/tickets/{tid}", params={"expand": "true"}, want_json=True).body
                yield self._parsed(raw)
            except HTTPError as exc:
                yield Parsed(None, TicketError(tid, ["no such ticket" if exc.status == 404 else str(exc)]), tid)

    def _parsed(self, raw: dict[str, Any]) -> Parsed:
        tid = str(raw.get("id"))
        try:
            articles = self.request("GET", f"/api/v1/ticket_articles/by_ticket/{tid}", want_json=True).body
            tags = self.request("GET", "/api/v1/tags", params={"object": "Ticket", "o_id": tid}, want_json=True).body
        except HTTPError as exc:
            if exc.status != 404:
                raise
            return Parsed(None, TicketError(tid, ["no such ticket (deleted while reading)"]), tid)
        warnings: list[str] = []
        mapped = self.interchange(raw, articles, (tags or {}).get("tags") or [], warnings)
        return with_warnings(parse_item(tid, mapped, self.config.adapter_timezone, tid), warnings)

    def me(self) -> Mapping[str, Any]:
        """The token's user (``GET /api/v1/users/me``, once; ``{}`` when Zammad does not answer it)."""
        if self._me is None:
            try:
                body = self.request("GET", "/api/v1/users/me", want_json=True).body
                self._me = body if isinstance(body, dict) else {}
            except HTTPError:
                self._me = {}
        return self._me

    def _is_me(self, user_id: Any) -> bool:
        """True when an article was created by the token's user (when Zammad does not say who that is, any user)."""
        mine = self.me().get("id")
        return mine is None or str(user_id) == str(mine)

    def interchange(self, raw: Mapping[str, Any], articles: Sequence[Mapping[str, Any]],
                    tags: Sequence[str], warnings: list[str] | None = None) -> dict[str, Any]:
        """One expanded Zammad ticket (with its articles and tags) as an interchange ticket dict.

        ``warnings`` collects the values of prefixed articles that could not be read (by article id).
        """
        warnings = [] if warnings is None else warnings
        m = self.mapping
        kind = m.kind(m.field(raw, "kind"))
        department = m.field(raw, "department") if m.fields.get("department") else raw.get("group")
        out: dict[str, Any] = {
            "id": str(raw.get("id")),
            "number": raw.get("number"),
            "kind": kind,
            "channel": m.channel(raw.get("create_article_type")),
            "subject": m.field(raw, "subject"),
            "status": m.status(raw.get("state")),
            "created_at": raw.get("created_at"),
            "department": m.department(department),
            "tags": list(tags),
            "fields": {k: v for k, v in raw.items() if k not in STANDARD_ATTRIBUTES
                       and not isinstance(v, (dict, list))},
            "updated_at": raw.get("updated_at"),
            **m.common(raw, kind),
        }
        owner = raw.get("owner_id")  # expanded: "owner" is the login, the id articles' actors have too
        login = raw.get("owner") if isinstance(raw.get("owner"), str) and raw.get("owner") != "-" else None
        out["assignee"] = None if owner in (None, NO_OWNER) and login is None else m.actor(login or owner)
        events: list[dict[str, Any]] = []
        for article in sorted(articles, key=lambda a: (str(a.get("created_at")), a.get("id") or 0)):
            body = article.get("body") or ""
            text = body if article.get("content_type", "text/html") == "text/plain" else html_text(body)
            who = article.get("created_by") or article.get("created_by_id")
            sender = article.get("sender")
            public = not article.get("internal", False)
            if sender == "Customer":
                actor = m.actor(who, "applicant")
            elif GOVHALL_MARK in text and not public and self._is_me(article.get("created_by_id")):
                actor = {"id": "govhall", "name": "govhall", "role": "system"}
            elif sender == "System":
                actor = m.actor(who, "system")
            else:
                actor = m.actor(who)
            at = article.get("created_at")
            events.append({"type": "reply", "at": at, "public": public, "body": text,
                           "actor": actor, "article_id": article.get("id"), "article_type": article.get("type")})
            found: list[str] = []
            typed = m.note_event(text, at, actor, found)
            warnings.extend(f"article {article.get('id')}: {problem}" for problem in found)
            if typed is not None:
                events.append(typed)
        out["events"] = events
        return out

    # -------------------------------------------------------------- writing
    def apply_one(self, ticket: Ticket, patch: Patch) -> None:
        """Tags one by one (idempotent), notes (not retried blindly), then one PUT of attributes."""
        oid: Any = int(ticket.id) if ticket.id.isdigit() else ticket.id
        for tag in patch.add_tags:
            self.request("POST", "/api/v1/tags/add", json={"item": tag, "object": "Ticket", "o_id": oid},
                         idempotent=True)
        for tag in patch.remove_tags:
            self.request("DELETE", "/api/v1/tags/remove", json={"item": tag, "object": "Ticket", "o_id": oid})
        for note in patch.notes:
            self.request("POST", "/api/v1/ticket_articles", idempotent=False,
                         json={"ticket_id": oid, "subject": "govhall", "body": note.body,
                               "content_type": "text/plain", "type": "note", "internal": True})
        update: dict[str, Any] = dict(patch.fields)
        if patch.assign:
            update.update(assignee(self.settings, patch.assign))
        if update:
            answer = self.request("PUT", f"/api/v1/tickets/{ticket.id}", json=update, want_json=True).body
            if isinstance(answer, dict) and answer.get("updated_at"):
                self._echo[ticket.id] = answer["updated_at"]


def _search_records(body: Any) -> list[Any]:
    """Tickets of a search answer: the ``expand=true`` list, or ``tickets`` ids with their ``assets``."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict) and isinstance(body.get("tickets"), list):
        assets = (body.get("assets") or {}).get("Ticket") or {}
        return [assets[str(i)] for i in body["tickets"] if str(i) in assets]
    raise ValueError(f"expected a list of tickets, got {type(body).__name__}")


@hookimpl
def govhall_register_adapters(register):
    """Zammad REST API v1."""
    register("zammad", ZammadAdapter)
