"""The ``freshdesk`` adapter: Freshdesk API v2 (``[adapter] type = "freshdesk"``).

Pull: ``GET /api/v2/tickets?updated_since=&order_by=updated_at&order_type=asc&per_page=&page=``
through the kit's shared "updated since" walk (:class:`~govhall_sdk.rest.UpdatedSinceWalk`),
re-anchored at the newest ``updated_at`` after every page, so Freshdesk's 300-page
cap on this endpoint is never reached and govhall's own writes between pages
(which move a ticket to the end of the order) never make it skip one. Events:
``GET /api/v2/tickets/{id}/conversations`` (``Link`` header paging).
Write back: private notes ``POST /api/v2/tickets/{id}/notes`` (never blindly
retried; markers make a rerun safe), then one ``PUT /api/v2/tickets/{id}`` with
the full new ``tags`` list and ``custom_fields``. Auth: basic, API key as the user
and ``X`` as the password. Pacing on ``X-RateLimit-Remaining``; 429 waits ``Retry-After``.
The mapping of types, groups, users, fields and note prefixes is :mod:`govhall_sdk.mapping`.
"""
from __future__ import annotations

import html
from typing import Any, Mapping, Sequence

from govhall_sdk import hookimpl
from govhall_sdk.mapping import assignee, html_text
from govhall_sdk.model import Patch, Ticket
from govhall_sdk.rest import GOVHALL_ACTOR, LinkHeaderPaginator, MappedAdapter, UpdatedSinceWalk, iso_utc

#: Freshdesk ``source`` codes (API v2 docs): 1 Email, 2 Portal, 3 Phone, 7 Chat,
#: 8 Mobihelp, 9 Feedback Widget, 10 Outbound Email.
FRESHDESK_CHANNELS = {"1": "mail", "2": "web", "3": "phone", "7": "web", "8": "web", "9": "web", "10": "mail"}
#: Freshdesk ``status`` codes: 2 Open, 3 Pending, 4 Resolved, 5 Closed.
FRESHDESK_STATUSES = {"2": "open", "3": "pending", "4": "resolved", "5": "closed"}
FRESHDESK_FIELDS = {
    "kind": "type", "subject": "subject", "applicant_name": "requester.name",
    "applicant_phone": "requester.mobile|requester.phone", "due_at": "due_by", "resolved_at": "stats.resolved_at",
}


class FreshdeskAdapter(UpdatedSinceWalk, MappedAdapter):
    """Freshdesk API v2. Settings: ``url`` (``https://DOMAIN.freshdesk.com``), ``api_key``
    (secret) and the mapping tables described in ``docs/adapters/freshdesk.md``."""

    name = "freshdesk"
    remaining_header = "X-RateLimit-Remaining"
    pace_below = 10
    pace_seconds = 6.0
    tickets_path = "/api/v2/tickets"
    ticket_path = "/api/v2/tickets/{id}"
    channels, statuses, fields = FRESHDESK_CHANNELS, FRESHDESK_STATUSES, FRESHDESK_FIELDS
    settings_schema = {"url": None, "api_key": None, "include": "requester,stats", "custom_field_prefix": "cf_",
                       **MappedAdapter.settings_schema}
    settings_types = {**MappedAdapter.settings_types, "api_key": str}
    secret_settings = ("api_key",)

    def basic_credentials(self) -> tuple[str, str]:
        """The API key as the user and ``X`` as the password."""
        return self.settings["api_key"], "X"

    # -------------------------------------------------------------- reading
    def max_page(self, per_page: int) -> int:
        return 300  # "A maximum of 300 pages will be returned" by List All Tickets

    def set_since(self, params: dict[str, Any], since: Any) -> None:
        params["updated_since"] = iso_utc(since)

    def list_params(self, cursor: str | None, page_size: int) -> dict[str, Any]:
        return {"order_by": "updated_at", "order_type": "asc", **self.fetch_params()}

    def fetch_params(self) -> dict[str, Any]:
        return {"include": self.settings["include"]} if self.settings["include"] else {}

    def read_ticket(self, record: Mapping[str, Any], page: Mapping[str, Any]) -> dict[str, Any]:
        path = f"/api/v2/tickets/{record.get('id')}/conversations"
        return {"conversations": self.collect(path, LinkHeaderPaginator(), None, {"per_page": 100})}

    def to_interchange(self, raw: Mapping[str, Any], warnings: list[str], *,
                       conversations: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
        """One Freshdesk ticket (with its conversations) as an interchange ticket dict."""
        m = self.mapping
        custom = raw.get("custom_fields") or {}
        view = {**raw, **custom}
        kind = m.kind(m.field(view, "kind"))
        department = m.field(view, "department") if m.fields.get("department") else raw.get("group_id")
        prefix = self.settings["custom_field_prefix"]
        responder = raw.get("responder_id")
        out: dict[str, Any] = {
            "id": str(raw.get("id")),
            "kind": kind,
            "channel": m.channel(raw.get("source")),
            "subject": m.field(view, "subject"),
            "status": m.status(raw.get("status")),
            "created_at": raw.get("created_at"),
            "department": m.department(department),
            "tags": list(raw.get("tags") or []),
            "fields": {k[len(prefix):] if k.startswith(prefix) else k: v for k, v in custom.items()},
            "updated_at": raw.get("updated_at"),
            "assignee": None if responder is None else m.actor(responder),
            **m.common(view, kind),
        }
        requester = str(raw.get("requester_id"))
        events: list[dict[str, Any]] = []
        for conv in conversations:
            text = conv.get("body_text") or html_text(conv.get("body") or "")
            user = str(conv.get("user_id"))
            public = not conv.get("private", False)
            if user == requester or conv.get("incoming"):
                actor = m.actor(user, "applicant")
            elif self.looks_own(text, public):
                # an agent's private note with a marker: govhall's own (Freshdesk does not say which agent the
                # API key is without another request; a private note is never the requester's)
                actor = dict(GOVHALL_ACTOR)
            else:
                actor = m.actor(user)
            self.add_note(events, warnings, f"conversation {conv.get('id')}", text=text, at=conv.get("created_at"),
                          actor=actor, public=public, conversation_id=conv.get("id"))
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
            update["custom_fields"] = {self.settings["custom_field_prefix"] + k: v for k, v in patch.fields.items()}
        if patch.assign:
            update.update(assignee(self.settings, patch.assign))
        if update:
            answer = self.request("PUT", f"/api/v2/tickets/{ticket.id}", json=update, want_json=True).body
            self.remember_echo(ticket.id, answer)


@hookimpl
def govhall_register_adapters(register):
    """Freshdesk API v2."""
    register("freshdesk", FreshdeskAdapter)
