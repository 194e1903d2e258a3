"""The ``freshdesk`` adapter: Freshdesk API v2 (``[adapter] type = "freshdesk"``).

Pull: ``GET /api/v2/tickets?updated_since=&order_by=updated_at&order_type=asc&per_page=&page=``
re-anchored at the newest ``updated_at`` after every page (see
:class:`UpdatedSincePaginator`), so Freshdesk's 300-page cap on this endpoint is
never reached and govhall's own writes between pages (which move a ticket to the
end of the order) never make it skip one. Events: ``GET /api/v2/tickets/{id}/conversations``.
Write back: private notes ``POST /api/v2/tickets/{id}/notes`` (never blindly
retried; markers make a rerun safe), then one ``PUT /api/v2/tickets/{id}`` with
the full new ``tags`` list and ``custom_fields``. Auth: basic, API key as the user
and ``X`` as the password. Pacing on ``X-RateLimit-Remaining``; 429 waits ``Retry-After``.

The keyset paginator is :mod:`govhall_sdk.cursor`; the mapping of the
helpdesk's types, groups, users, fields and note prefixes is :mod:`govhall_sdk.mapping`.
"""
from __future__ import annotations

import html
from datetime import datetime, timezone
from typing import Any, ClassVar, Iterator, Mapping, Sequence

from govhall_sdk import hookimpl
from govhall_sdk.adapter import Page, with_warnings
from govhall_sdk.cursor import SyncCursor, UpdatedSincePaginator, parse_instant
from govhall_sdk.http import HTTPError, RESTAdapter, iso_utc
from govhall_sdk.mapping import (
    GOVHALL_MARK, MAPPING_SCHEMA, MAPPING_TYPES, HelpdeskMapping, assignee, html_text, read_mapping_settings,
)
from govhall_sdk.model import Patch, Ticket
from govhall_sdk.paginators import LinkHeaderPaginator
from govhall_sdk.parse import Parsed, TicketError, parse_item

# ===================================================================== Freshdesk

#: Freshdesk ``source`` codes (API v2 docs): 1 Email, 2 Portal, 3 Phone, 7 Chat,
#: 8 Mobihelp, 9 Feedback Widget, 10 Outbound Email.
FRESHDESK_CHANNELS = {"1": "mail", "2": "web", "3": "phone", "7": "web", "8": "web", "9": "web", "10": "mail"}
#: Freshdesk ``status`` codes: 2 Open, 3 Pending, 4 Resolved, 5 Closed.
FRESHDESK_STATUSES = {"2": "open", "3": "pending", "4": "resolved", "5": "closed"}
FRESHDESK_FIELDS = {
    "kind": "type", "subject": "subject", "applicant_name": "requester.name",
    "applicant_phone": "requester.mobile|requester.phone", "due_at": "due_by", "resolved_at": "stats.resolved_at",
}


class FreshdeskAdapter(RESTAdapter):
    """Freshdesk API v2. Settings: ``url`` (``https://DOMAIN.freshdesk.com``), ``api_key``
    (secret) and the mapping tables described in ``docs/adapters/freshdesk.md``."""

    name = "freshdesk"
    remaining_header = "X-RateLimit-Remaining"
    pace_below = 10
    pace_seconds = 6.0
    max_per_page: ClassVar[int] = 100
    #: "A maximum of 300 pages will be returned" by List All Tickets.
    max_page: ClassVar[int] = 300
    settings_schema = {"url": None, "api_key": None, "include": "requester,stats",
                       "custom_field_prefix": "cf_", **MAPPING_SCHEMA}
    settings_types = {"url": str, "api_key": str, **MAPPING_TYPES}
    secret_settings = ("api_key",)

    def __init__(self, settings: Mapping[str, Any], config: Any, **kw: Any):
        super().__init__(settings, config, **kw)
        self.now: datetime | None = None
        self.mapping = HelpdeskMapping(self.settings, config.timezone, channels=FRESHDESK_CHANNELS,
                                       statuses=FRESHDESK_STATUSES, fields=FRESHDESK_FIELDS)
        self.prefix = self.settings["custom_field_prefix"]
        self._echo: dict[str, str] = {}

    @classmethod
    def validate_settings(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        return read_mapping_settings(cls, raw)

    def basic_credentials(self) -> tuple[str, str]:
        """The API key as the user and ``X`` as the password."""
        return self.settings["api_key"], "X"

    # -------------------------------------------------------------- reading
    def pull(self, cursor: str | None, page_size: int = 100) -> Iterator[Page]:
        """Tickets updated after ``cursor``, oldest first, a page at a time."""
        start = parse_instant(self.settings["start"]) or datetime(2000, 1, 1, tzinfo=timezone.utc)
        pager = UpdatedSincePaginator(
            SyncCursor.parse(cursor, start, self.config.timezone),
            per_page=min(page_size, self.settings["per_page"]), key=lambda r: (str(r["id"]), str(r["updated_at"])),
            set_since=lambda params, since: params.__setitem__("updated_since", iso_utc(since)),
            settle=self.settings["settle_seconds"], now=self.now, max_page=self.max_page)
        params = {"order_by": "updated_at", "order_type": "asc"}
        if self.settings["include"]:
            params["include"] = self.settings["include"]
        for _, records in self.paginate("/api/v2/tickets", pager, _a_list, params=params):
            fresh = pager.take(records)
            items = [self._parsed(raw) for raw in fresh if self._echo.get(str(raw["id"])) != raw["updated_at"]]
            skipped = len(fresh) - len(items)
            if fresh:
                yield Page(items, pager.cursor, skipped)

    def fetch(self, ids: Sequence[str]) -> Iterator[Parsed]:
        """The tickets with these ids, each read afresh; an unreadable one is reported, not raised."""
        params = {"include": self.settings["include"]} if self.settings["include"] else {}
        for tid in ids:
            try:
                raw = self.request("GET", f"/api/v2/tickets/{tid}", params=params, want_json=True).body
                yield self._parsed(raw)
            except HTTPError as exc:
                yield Parsed(None, TicketError(tid, ["no such ticket" if exc.status == 404 else str(exc)]), tid)

    def _parsed(self, raw: dict[str, Any]) -> Parsed:
        tid = str(raw.get("id"))
        try:
            conversations = [c for _, page in self.paginate(
                f"/api/v2/tickets/{tid}/conversations", LinkHeaderPaginator(), _a_list, params={"per_page": 100})
                for c in page]
        except HTTPError as exc:  # this ticket's error, not the page's: the others are still written
            problem = "no such ticket (deleted while reading)" if exc.status == 404 else f"conversations: {exc}"
            return Parsed(None, TicketError(tid, [problem]), tid)
        warnings: list[str] = []
        try:
            mapped = self.interchange(raw, conversations, warnings)
        except Exception as exc:  # a payload of a shape the API docs do not describe
            return Parsed(None, TicketError(tid, [f"ticket: cannot be mapped: {type(exc).__name__}: {exc}"]), tid)
        return with_warnings(parse_item(tid, mapped, self.config.adapter_timezone, tid), warnings)

    def interchange(self, raw: Mapping[str, Any], conversations: Sequence[Mapping[str, Any]],
                    warnings: list[str] | None = None) -> dict[str, Any]:
        """One Freshdesk ticket (with its conversations) as an interchange ticket dict.

        ``warnings`` collects the values of prefixed notes that could not be read (by conversation id).
        """
        warnings = [] if warnings is None else warnings
        m = self.mapping
        custom = raw.get("custom_fields") or {}
        view = {**raw, **custom}
        kind = m.kind(m.field(view, "kind"))
        department = m.field(view, "department") if m.fields.get("department") else raw.get("group_id")
        out: dict[str, Any] = {
            "id": str(raw.get("id")),
            "kind": kind,
            "channel": m.channel(raw.get("source")),
            "subject": m.field(view, "subject"),
            "status": m.status(raw.get("status")),
            "created_at": raw.get("created_at"),
            "department": m.department(department),
            "tags": list(raw.get("tags") or []),
            "fields": {k[len(self.prefix):] if k.startswith(self.prefix) else k: v for k, v in custom.items()},
            "updated_at": raw.get("updated_at"),
            **m.common(view, kind),
        }
        requester = str(raw.get("requester_id"))
        responder = raw.get("responder_id")
        out["assignee"] = None if responder is None else m.actor(responder)
        events: list[dict[str, Any]] = []
        for conv in conversations:
            text = conv.get("body_text") or html_text(conv.get("body") or "")
            user = str(conv.get("user_id"))
            public = not conv.get("private", False)
            if user == requester or conv.get("incoming"):
                actor = m.actor(user, "applicant")
            elif GOVHALL_MARK in text and not public:
                # an agent's private note with a marker: govhall's own (Freshdesk does not say which agent the
                # API key is without another request; a private note is never the requester's)
                actor = {"id": "govhall", "name": "govhall", "role": "system"}
            else:
                actor = m.actor(user)
            at = conv.get("created_at")
            events.append({"type": "reply", "at": at, "public": public, "body": text,
                           "actor": actor, "conversation_id": conv.get("id")})
            found: list[str] = []
            typed = m.note_event(text, at, actor, found)
            warnings.extend(f"conversation {conv.get('id')}: {problem}" for problem in found)
            if typed is not None:
                events.append(typed)
        out["events"] = events
        return out

    # -------------------------------------------------------------- writing
    def apply_one(self, ticket: Ticket, patch: Patch) -> None:
        """Notes first (one POST each, not retried blindly), then one PUT of tags, fields and assignee."""
        for note in patch.notes:
            body = "<div>" + html.escape(note.body).replace("\n", "<br>") + "</div>"
            self.request("POST", f"/api/v2/tickets/{ticket.id}/notes", json={"body": body, "private": True},
                         idempotent=False)
        update: dict[str, Any] = {}
        if patch.add_tags or patch.remove_tags:
            tags = [t for t in ticket.tags if t not in patch.remove_tags]
            update["tags"] = tags + [t for t in patch.add_tags if t not in tags]
        if patch.fields:
            update["custom_fields"] = {self.prefix + k: v for k, v in patch.fields.items()}
        if patch.assign:
            update.update(assignee(self.settings, patch.assign))
        if update:
            answer = self.request("PUT", f"/api/v2/tickets/{ticket.id}", json=update, want_json=True).body
            if isinstance(answer, dict) and answer.get("updated_at"):
                self._echo[ticket.id] = answer["updated_at"]


def _a_list(body: Any) -> list[Any]:
    if not isinstance(body, list):
        raise ValueError(f"expected a JSON list, got {type(body).__name__}")
    return body


@hookimpl
def govhall_register_adapters(register):
    """Freshdesk API v2."""
    register("freshdesk", FreshdeskAdapter)
