"""The ``freshdesk`` adapter: Freshdesk API v2 (``[adapter] type = "freshdesk"``).

Pull: ``GET /api/v2/tickets?updated_since=&order_by=updated_at&order_type=asc&per_page=&page=``
through the kit's shared "updated since" walk (:class:`~govhall_sdk.rest.UpdatedSinceWalk`),
re-anchored at the newest ``updated_at`` after every page, so Freshdesk's 300-page
cap on this endpoint is never reached and govhall's own writes between pages
(which move a ticket to the end of the order) never make it skip one. Events:
``GET /api/v2/tickets/{id}/conversations`` (``Link`` header paging).
Write back: the patch's notes as ONE private note, ``POST /api/v2/tickets/{id}/notes``
(never blindly retried; markers make a rerun safe), then, only when tags, fields or the
assignee change, one ``PUT /api/v2/tickets/{id}`` with the full new ``tags`` list and
``custom_fields``. Auth: basic, API key as the user and ``X`` as the password.

Credits (developers.freshdesk.com/api/, "Rate Limit", "Embedding", "List All Tickets",
"View a Ticket"): every call costs one credit of the account's minute; an ``include`` on
List All Tickets costs 2 more per page, on View a Ticket 1 more. ``include=conversations``
exists on View a Ticket only (up to ten conversations, "two API calls"), so a pulled
ticket's timeline is cheaper from List All Conversations (1 credit for up to 100).
The bulk update (``POST /api/v2/tickets/bulk_update``) is not used: one set of
``properties`` for every id (a whole ``tags`` list, the same ``custom_fields``), no
private note (its ``reply`` is a public reply), an asynchronous job whose status names
no ticket, and no ticket's ``updated_at`` to recognise the echo by.

Echo: the version remembered is that of the LAST request of a write (the ``PUT``'s
answer, or the note's ``created_at`` when only a note was written), with a digest of
the ticket's properties and ``stats`` (:meth:`FreshdeskAdapter.version_of`), and only when
the ``PUT``'s answer shows no property changed by anyone else and the conversations,
read once more after the write, are those read plus govhall's note: Freshdesk's ``PUT``
has no version check, and no answer of a write shows a person's note. Pacing on
``X-RateLimit-Remaining`` of ``X-RateLimit-Total``; ``X-RateLimit-Used-CurrentRequest``
is counted in :attr:`FreshdeskAdapter.credits_used`; 429 waits ``Retry-After``.
The mapping of types, groups, users, fields and note prefixes is :mod:`govhall_sdk.mapping`.
"""
from __future__ import annotations

import hashlib
import html
import json
from typing import Any, Mapping, Sequence

from govhall_sdk import hookimpl
from govhall_sdk.adapter import AdapterError
from govhall_sdk.mapping import assignee, html_text
from govhall_sdk.model import Patch, Ticket
from govhall_sdk.rest import GOVHALL_ACTOR, LinkHeaderPaginator, MappedAdapter, UpdatedSinceWalk, iso_utc

#: Freshdesk ``source`` codes (API v2 docs): 1 Email, 2 Portal, 3 Phone, 7 Chat,
#: 8 Mobihelp, 9 Feedback Widget, 10 Outbound Email.
FRESHDESK_CHANNELS = {"1": "mail", "2": "web", "3": "phone", "7": "web", "8": "web", "9": "web", "10": "mail"}
#: Freshdesk ``status`` codes: 2 Open, 3 Pending, 4 Resolved, 5 Closed.
FRESHDESK_STATUSES = {"2": "open", "3": "pending", "4": "resolved", "5": "closed"}
#: The ticket properties a person can change without a conversation (View a Ticket's attributes): with
#: ``stats``, what the version govhall remembers covers besides ``updated_at`` (a second's resolution).
TICKET_PROPERTIES = ("status", "priority", "source", "type", "subject", "group_id", "responder_id", "requester_id",
                     "company_id", "product_id", "due_by", "fr_due_by", "is_escalated", "fr_escalated", "spam",
                     "tags", "custom_fields")
FRESHDESK_FIELDS = {
    "kind": "type", "subject": "subject", "applicant_name": "requester.name",
    "applicant_phone": "requester.mobile|requester.phone", "due_at": "due_by", "resolved_at": "stats.resolved_at",
}


class FreshdeskAdapter(UpdatedSinceWalk, MappedAdapter):
    """Freshdesk API v2. Settings: ``url`` (``https://DOMAIN.freshdesk.com``), ``api_key``
    (secret) and the mapping tables described in ``docs/adapters/freshdesk.md``."""

    name = "freshdesk"
    read_concurrency = 4  # a page's tickets read four at a time (read_ticket keeps per-ticket state only)
    remaining_header = "X-RateLimit-Remaining"
    #: Credits kept in hand: twice the dearest request sent (a list page with two includes, 5 credits).
    pace_below = 10
    tickets_path = "/api/v2/tickets"
    ticket_path = "/api/v2/tickets/{id}"
    channels, statuses, fields = FRESHDESK_CHANNELS, FRESHDESK_STATUSES, FRESHDESK_FIELDS
    settings_schema = {"url": None, "api_key": None, "include": "requester,stats", "custom_field_prefix": "cf_",
                       **MappedAdapter.settings_schema}
    settings_types = {**MappedAdapter.settings_types, "api_key": str}
    secret_settings = ("api_key",)

    def __init__(self, settings: Mapping[str, Any], config: Any, **kw: Any):
        super().__init__(settings, config, **kw)
        #: Credits Freshdesk charged this adapter (``X-RateLimit-Used-CurrentRequest`` of every answer).
        self.credits_used = 0
        self._as_read: dict[str, dict[str, Any]] = {}  # ticket id -> its properties and stats as last read

    def basic_credentials(self) -> tuple[str, str]:
        """The API key as the user and ``X`` as the password."""
        return self.settings["api_key"], "X"

    def pace(self, response: Any) -> None:
        """Count the credits the answer says were used; below ``pace_below`` remaining, wait as long as the
        documented per-minute budget (``X-RateLimit-Total``) takes to give back what is missing."""
        headers = response.headers
        used, left, total = (headers.get(name, "") for name in
                             ("X-RateLimit-Used-CurrentRequest", "X-RateLimit-Remaining", "X-RateLimit-Total"))
        self.credits_used += int(used) if used.isdigit() else 1
        if left.isdigit() and total.isdigit() and int(total) and int(left) < self.pace_below:
            self.sleep(60.0 * (self.pace_below - int(left)) / int(total))

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
        """The ticket's conversations; what it holds as read is kept for the echo of a write."""
        conversations = self.conversations(record.get("id"))
        self._as_read[self.ticket_id(record)] = {**properties(record), "stats": record.get("stats"),
                                                 "conversations": versions(conversations)}
        return {"conversations": conversations}

    def conversations(self, ticket_id: Any) -> list[Any]:
        """List All Conversations of a Ticket, 100 a page (``Link: rel="next"``)."""
        path = f"/api/v2/tickets/{ticket_id}/conversations"
        return self.collect(path, LinkHeaderPaginator(), None, {"per_page": 100})

    def page_items(self, records: Sequence[Mapping[str, Any]], page: Any) -> tuple[list[Any], int]:
        """The kit's items of a page; what was kept of the page before (written by now) is let go first."""
        self._as_read.clear()
        return super().page_items(records, page)

    def fetch(self, ids: Sequence[str]) -> Any:
        """The kit's fetch; what was kept of the tickets read before (written by now) is let go first."""
        self._as_read.clear()
        return super().fetch(ids)

    # -------------------------------------------------------------- govhall's own echo
    def version_of(self, record: Mapping[str, Any]) -> str:
        """``updated_at`` with a digest of the properties and stats: a person's change in the same second as
        govhall's write (``updated_at`` has a second's resolution) that shows in a property, a tag, a field or
        ``stats`` makes another version, read, not skipped."""
        return echo_version(record.get(self.version_key), {**properties(record), "stats": record.get("stats")})

    def remember_write(self, ticket_id: str, updated_at: Any, state: Mapping[str, Any], note: Any) -> None:
        """Remember the version a write's last request produced, the ticket then holding ``state``, once its
        conversations prove that nobody but govhall (``note``) wrote on it since it was read: no answer of a
        write shows a person's reply or note of that time, and Freshdesk's ``PUT`` has no version check."""
        read = self._as_read.get(ticket_id)
        if updated_at and read is not None and self.only_own_since_read(ticket_id, read, note):
            self.remember_version(ticket_id, echo_version(updated_at, {**state, "stats": read["stats"]}))

    def only_own_since_read(self, ticket_id: str, read: Mapping[str, Any], note: Any) -> bool:
        """Whether the ticket's conversations are those read, unedited, plus govhall's ``note`` (if any); a
        read that fails proves nothing (the ticket is read again)."""
        own = versions([note]) if isinstance(note, Mapping) else []
        try:
            return versions(self.conversations(ticket_id)) == read["conversations"] + own
        except (AdapterError, ValueError):
            return False

    def expected_after(self, ticket_id: str, update: Mapping[str, Any]) -> dict[str, Any] | None:
        """The properties the ticket holds after ``update`` if nobody else changed it since it was read."""
        read = self._as_read.get(ticket_id)
        if read is None:
            return None
        expected = {**{key: read[key] for key in TICKET_PROPERTIES}, **update}
        if "custom_fields" in update:  # only the fields sent change
            kept = read["custom_fields"] if isinstance(read["custom_fields"], Mapping) else {}
            expected["custom_fields"] = {**kept, **update["custom_fields"]}
        return properties(expected)

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
        """The notes as one private note (one POST, not retried blindly), then one PUT of tags, fields and
        assignee when any of them changes; the version after the last of these is remembered."""
        note = self.post_note(ticket.id, patch.notes) if patch.notes else None
        update = self.ticket_update(ticket, patch)
        if update:
            answer = self.request("PUT", f"/api/v2/tickets/{ticket.id}", json=update, want_json=True).body
            if isinstance(answer, Mapping) and properties(answer) == self.expected_after(ticket.id, update):
                self.remember_write(ticket.id, answer.get(self.version_key), properties(answer), note)
        elif isinstance(note, Mapping) and ticket.id in self._as_read:
            # only the note changed the ticket: Freshdesk gives the ticket's new updated_at nowhere, the note's
            # own creation is taken for it (if the ticket says otherwise, it is simply read again)
            self.remember_write(ticket.id, note.get("created_at"), properties(self._as_read[ticket.id]), note)

    def post_note(self, ticket_id: str, notes: Sequence[Any]) -> Any:
        """One private note carrying every note of the patch (each its own paragraph, its marker in it)."""
        body = "".join("<div>" + html.escape(n.body).replace("\n", "<br>") + "</div>" for n in notes)
        return self.request("POST", f"/api/v2/tickets/{ticket_id}/notes", json={"body": body, "private": True},
                            idempotent=False, want_json=True).body

    def ticket_update(self, ticket: Ticket, patch: Patch) -> dict[str, Any]:
        """The ``PUT`` body of a patch: the whole new tag list (when it differs), the fields, the assignee."""
        update: dict[str, Any] = {}
        tags = [t for t in ticket.tags if t not in patch.remove_tags]
        tags += [t for t in patch.add_tags if t not in tags]
        if tags != list(ticket.tags):
            update["tags"] = tags
        if patch.fields:
            update["custom_fields"] = {self.settings["custom_field_prefix"] + k: v for k, v in patch.fields.items()}
        if patch.assign:
            update.update(assignee(self.settings, patch.assign))
        return update


def properties(record: Mapping[str, Any]) -> dict[str, Any]:
    """A ticket's :data:`TICKET_PROPERTIES` as they are (a list of tags in order of name: an order is no
    change); a value of a shape the docs do not describe is kept as it is, never an error."""
    out = {key: record.get(key) for key in TICKET_PROPERTIES}
    if isinstance(out["tags"], list):
        out["tags"] = sorted(out["tags"], key=str)
    return out


def versions(conversations: Sequence[Any]) -> list[tuple[Any, Any]]:
    """``(id, updated_at)`` of each conversation, in order: what a reply, an edit or a deletion changes."""
    return [(c.get("id"), c.get("updated_at")) if isinstance(c, Mapping) else (None, None) for c in conversations]


def echo_version(updated_at: Any, state: Mapping[str, Any]) -> str:
    """The version kept for govhall's echo: ``updated_at`` and a digest of the properties and stats."""
    digest = hashlib.sha256(json.dumps(state, sort_keys=True, default=str).encode()).hexdigest()[:20]
    return f"{updated_at} {digest}"


@hookimpl
def govhall_register_adapters(register):
    """Freshdesk API v2."""
    register("freshdesk", FreshdeskAdapter)
