"""The ``zammad`` adapter: Zammad REST API v1 (``[adapter] type = "zammad"``).

Pull: ``GET /api/v1/tickets/search?query=updated_at:>=<instant>&sort_by=updated_at&order_by=asc&expand=true&page=&per_page=``
(the query is Elasticsearch query-string syntax, so the instant's colons are
escaped), through the kit's shared "updated since" walk, as the Freshdesk adapter. The search
index trails the database, so the stored cursor stays ``settle_seconds`` (60)
behind the run instant and a ticket indexed late is still found next run.
Events: ``GET /api/v1/ticket_articles/by_ticket/{id}``; tags:
``GET /api/v1/tags?object=Ticket&o_id={id}``. Two requests, not one: ``GET /api/v1/tickets/{id}?all=true``
holds the tags and the articles, but the articles as assets (``attributes_with_association_ids``:
``sender_id``, ``type_id``, no names; zammad/zammad app/models/ticket/article/assets.rb), and who wrote an
article (applicant, staff, system) is read from the sender's name, which no documented request lists; its
``form_meta`` also runs Zammad's core workflow for every answer. The search's tickets carry
``article_count`` and ``article_ids`` but no tags ("missing by design", zammad/zammad issue 679).
Write back: ``POST /api/v1/tags/add`` / ``DELETE /api/v1/tags/remove`` per tag
(idempotent on Zammad; no request sets several: ``tags`` is read by the ticket create only, and a ``PUT``
drops it like any attribute the model lacks, zammad/zammad app/controllers/tickets_controller.rb), then ONE
``PUT /api/v1/tickets/{id}?all=true`` with the custom attributes and the run's notes as one internal
``article`` (docs.zammad.org/en/latest/api/ticket/index.html, "Update"; created in the same locked update;
never blindly retried, markers make a rerun safe), verified in Zammad's answer (the ticket as stored): Zammad
drops an unknown attribute and answers 200, so an attribute missing from the answer is a failed write naming
it. The answer's ``updated_at`` is remembered as govhall's echo only when the answer shows nothing but this
write changed the ticket since it was read (:meth:`Seen.only`). Before the
first pull, a start-up check: the search must find the oldest ticket the database
lists, else one clear error (no Elasticsearch: the search finds nothing).
Auth: ``Authorization: Token token=...``. Zammad documents no rate limit; a 429
still waits ``Retry-After`` through the shared retry policy.
"""
from __future__ import annotations

from typing import Any, ClassVar, Iterator, Mapping, Sequence

import attrs

from govhall_sdk import hookimpl
from govhall_sdk.adapter import AdapterError, Page
from govhall_sdk.mapping import assignee, html_text
from govhall_sdk.model import Patch, Ticket
from govhall_sdk.rest import GOVHALL_ACTOR, MappedAdapter, UpdatedSinceWalk, iso_utc, parse_instant
from govhall_sdk.rest.webhooks import WebhookFormat, WebhookVerifier, check_once, verifier_for

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


class ZammadAdapter(UpdatedSinceWalk, MappedAdapter):
    """Zammad REST API v1. Settings: ``url``, ``token`` (secret), ``query`` (an extra
    search filter ANDed to the updated-at range) and the mapping tables described in
    ``docs/adapters/zammad.md``."""

    name = "zammad"
    read_concurrency = 4  # a page's tickets read four at a time (read_ticket keeps per-ticket state only)
    max_per_page = 200  # tickets/search: paginate_with(max: 200)
    #: Elasticsearch's default index.max_result_window: page x per_page stays within it.
    result_window: ClassVar[int] = 10_000
    tickets_path = "/api/v1/tickets/search"
    ticket_path = "/api/v1/tickets/{id}"
    channels, statuses, fields = ZAMMAD_CHANNELS, ZAMMAD_STATUSES, ZAMMAD_FIELDS
    settings_schema = {"url": None, "token": None, "query": "", **MappedAdapter.settings_schema, "settle_seconds": 60.0,
                       "webhook_secret": ""}
    settings_types = {**MappedAdapter.settings_types, "token": str}
    secret_settings = ("token", "webhook_secret")
    api_user_path = "/api/v1/users/me"  # docs.zammad.org/en/latest/api/user.html, "Me - Current User"

    def __init__(self, settings: Mapping[str, Any], config: Any, **kw: Any):
        super().__init__(settings, config, **kw)
        self._search_checked = False
        self._seen: dict[str, Seen] = {}  # ticket id -> what was read of it, until it is written

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Token token={self.settings['token']}"}

    def webhook_verifier(self, **kw: Any) -> WebhookVerifier:
        """A verifier of this instance's webhook calls, with the ``webhook_secret`` setting (see the
        module's :func:`webhook_verifier`); ConfigError when that setting is empty."""
        return verifier_for(self, webhook_verifier, **kw)

    def search_query(self, since: Any) -> str:
        """``updated_at:>=`` the instant, colons escaped for the query-string parser, plus ``query``."""
        query = updated_since(since)
        extra = self.settings["query"].strip()
        return f"{query} AND ({extra})" if extra else query

    # -------------------------------------------------------------- reading
    def set_since(self, params: dict[str, Any], since: Any) -> None:
        params["query"] = self.search_query(since)

    def max_page(self, per_page: int) -> int:
        return self.result_window // per_page

    def list_params(self, cursor: str | None, page_size: int) -> dict[str, Any]:
        return {"sort_by": "updated_at", "order_by": "asc", "expand": "true"}

    def fetch_params(self) -> dict[str, Any]:
        return {"expand": "true"}

    @staticmethod
    def records(body: Any) -> list[Any]:
        """Tickets of a search answer: the ``expand=true`` list, or ``tickets`` ids with their ``assets``."""
        if isinstance(body, list):
            return body
        if isinstance(body, dict) and isinstance(body.get("tickets"), list):
            assets = (body.get("assets") or {}).get("Ticket") or {}
            return [assets[str(i)] for i in body["tickets"] if str(i) in assets]
        raise ValueError(f"expected a list of tickets, got {type(body).__name__}")

    def read_ticket(self, record: Mapping[str, Any], page: Mapping[str, Any]) -> dict[str, Any]:
        """The ticket's articles and tags (two requests: see the module docstring), kept as :class:`Seen`
        until the ticket is written."""
        tid = self.ticket_id(record)
        articles = self.get_json(f"/api/v1/ticket_articles/by_ticket/{tid}")
        tags = (self.get_json("/api/v1/tags", object="Ticket", o_id=tid) or {}).get("tags") or []
        self._seen[tid] = Seen.of(record, articles, tags)
        return {"articles": articles, "tags": tags}

    def to_interchange(self, raw: Mapping[str, Any], warnings: list[str], *,
                       articles: Sequence[Mapping[str, Any]] = (), tags: Sequence[str] = ()) -> dict[str, Any]:
        """One expanded Zammad ticket (with its articles and tags) as an interchange ticket dict."""
        m = self.mapping
        kind = m.kind(m.field(raw, "kind"))
        department = m.field(raw, "department") if m.fields.get("department") else raw.get("group")
        owner = raw.get("owner_id")  # expanded: "owner" is the login, the id articles' actors have too
        login = raw.get("owner") if isinstance(raw.get("owner"), str) and raw.get("owner") != "-" else None
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
            "assignee": None if owner in (None, NO_OWNER) and login is None else m.actor(login or owner),
            **m.common(raw, kind),
        }
        events: list[dict[str, Any]] = []
        for article in sorted(articles, key=lambda a: (str(a.get("created_at")), a.get("id") or 0)):
            body = article.get("body") or ""
            text = body if article.get("content_type", "text/html") == "text/plain" else html_text(body)
            who = article.get("created_by") or article.get("created_by_id")
            sender = article.get("sender")
            public = not article.get("internal", False)
            if sender == "Customer":
                actor = m.actor(who, "applicant")
            elif self.looks_own(text, public) and self.is_api_user(article.get("created_by_id"), "id"):
                actor = dict(GOVHALL_ACTOR)
            else:
                actor = m.actor(who, "system" if sender == "System" else "staff")
            self.add_note(events, warnings, f"article {article.get('id')}", text=text, at=article.get("created_at"),
                          actor=actor, public=public, article_id=article.get("id"), article_type=article.get("type"))
        out["events"] = events
        return out

    # -------------------------------------------------------------- writing
    def apply_one(self, ticket: Ticket, patch: Patch) -> None:
        """Tags one by one, then one ``PUT`` with the attributes and the run's notes as one article; the
        version it produced is remembered when its answer shows no change but this write's (:meth:`Seen.only`)."""
        oid: Any = int(ticket.id) if ticket.id.isdigit() else ticket.id
        for tag in patch.add_tags:
            self.request("POST", "/api/v1/tags/add", json={"item": tag, "object": "Ticket", "o_id": oid},
                         idempotent=True)
        for tag in patch.remove_tags:
            self.request("DELETE", "/api/v1/tags/remove", json={"item": tag, "object": "Ticket", "o_id": oid})
        update: dict[str, Any] = dict(patch.fields)
        if patch.assign:
            update.update(assignee(self.settings, patch.assign))
        body: dict[str, Any] = dict(update)
        if patch.notes:
            body["article"] = {"subject": "govhall", "body": patch.combined_note(), "content_type": "text/plain",
                               "type": "note", "internal": True}
        # with an article the PUT is not retried after an error or a timeout: the note may have been created
        answer = self.request("PUT", f"/api/v1/tickets/{ticket.id}", params={"all": "true"}, json=body,
                              want_json=True, idempotent=not patch.notes).body
        stored = ticket_in(answer)
        problems = not_stored(update, stored)
        if problems:
            raise AdapterError(f"Zammad did not store {'; '.join(problems)}")
        seen = self._seen.pop(ticket.id, None)
        if seen is not None and seen.only(patch, update, answer):
            self.remember_echo(ticket.id, stored)

    # -------------------------------------------------------------- the start-up check
    def pull(self, cursor: str | None, page_size: int = 100) -> Iterator[Page]:
        """The changed tickets, found through the search, once the search is known to work (:meth:`check_search`)."""
        self.check_search()
        yield from super().pull(cursor, page_size)

    def check_search(self) -> None:
        """Once per adapter: the oldest ticket of ``GET /api/v1/tickets`` (the database) must be found by the
        search govhall reads changes with. Without Elasticsearch Zammad's search finds nothing, and every run
        would read nothing, silently: this is one clear error instead."""
        if self._search_checked:
            return
        listed = self.get_json("/api/v1/tickets", per_page=1, page=1)
        oldest = listed[0] if isinstance(listed, list) and listed else None
        stamp = parse_instant(oldest.get("updated_at")) if isinstance(oldest, Mapping) else None
        if stamp is not None:
            found = self.get_json(self.tickets_path, query=updated_since(stamp), per_page=1, page=1,
                                  expand="true")
            if not self.records(found):
                raise AdapterError(
                    f"Zammad's search finds no ticket, though GET /api/v1/tickets lists ticket {oldest.get('id')}: "
                    "its search index (Elasticsearch) is missing or empty, and govhall reads changes through the "
                    "search; set up Elasticsearch and rebuild the index (zammad run rake zammad:searchindex:rebuild)")
        self._search_checked = True


def updated_since(since: Any) -> str:
    """``updated_at:>=`` an instant, its colons escaped for the query-string parser."""
    return "updated_at:>=" + iso_utc(since).replace(":", r"\:")


def not_stored(sent: Mapping[str, Any], stored: Any) -> list[str]:
    """What of ``sent`` Zammad's answer does not hold: an attribute it dropped (an unknown attribute is dropped
    silently, with 200: "remove all not used model attributes of params", zammad/zammad
    app/models/application_model/can_cleanup_param.rb), or a value stored otherwise."""
    stored = stored if isinstance(stored, Mapping) else {}
    problems = []
    for key, value in sent.items():
        if key not in stored and f"{key}_id" in stored:
            continue  # a name (``group``) Zammad looked up and stored as its id; an unknown name is refused, 422
        if key not in stored:
            problems.append(f"attribute {key} (no such ticket attribute: create it in Zammad's Objects, or fix "
                            "its name; Zammad dropped it and answered 200)")
        elif _text(stored[key]) != _text(value):
            problems.append(f"attribute {key}: sent {value!r}, stored {stored[key]!r}")
    return problems


def _text(value: Any) -> str:
    """A value as Zammad's text attributes store it (None as empty)."""
    return "" if value is None else str(value)


def ticket_in(answer: Any) -> Mapping[str, Any]:
    """The ticket of a ``?all=true`` answer (``assets.Ticket[ticket_id]``), ``{}`` when it has none."""
    if not isinstance(answer, Mapping):
        return {}
    stored = ((answer.get("assets") or {}).get("Ticket") or {}).get(str(answer.get("ticket_id")))
    return stored if isinstance(stored, Mapping) else {}


#: Attributes a write of govhall's changes itself (its user, the time, the counters and the escalation times
#: Zammad derives on every save): not evidence of anyone else's change.
WRITE_EFFECTS = frozenset({
    "updated_at", "updated_by_id", "article_count", "last_contact_at", "last_contact_agent_at",
    "last_contact_customer_at", "last_owner_update_at", "escalation_at", "first_response_escalation_at",
    "first_response_in_min", "first_response_diff_in_min", "close_escalation_at", "close_in_min",
    "close_diff_in_min", "update_escalation_at", "update_in_min", "update_diff_in_min",
})


@attrs.frozen
class Seen:
    """What govhall read of a ticket before writing it: its scalar attributes, its article ids and its tags."""

    attributes: Mapping[str, Any]
    article_ids: frozenset[Any]
    tags: frozenset[str]

    @classmethod
    def of(cls, record: Mapping[str, Any], articles: Any, tags: Sequence[str]) -> "Seen":
        """The parts of a read that a write's answer is checked against."""
        scalars = {k: v for k, v in record.items() if k not in WRITE_EFFECTS and not isinstance(v, (dict, list))}
        ids = [a.get("id") for a in articles if isinstance(a, Mapping)] if isinstance(articles, list) else []
        return cls(scalars, frozenset(ids), frozenset(tags))

    def only(self, patch: Patch, sent: Mapping[str, Any], answer: Any) -> bool:
        """Whether the ``?all=true`` answer of govhall's last request shows the ticket as read plus this write and
        nothing else: the articles read and the one note written (``ticket_article_ids``), the tags read with the
        patch's applied (``tags``), every other attribute as read (``group_id`` too is the write's own when it sent
        ``group``). Anything else (a person's reply, tag, status change, however close in time) means the version
        is not govhall's alone."""
        if not isinstance(answer, Mapping):
            return False
        now = set(answer.get("ticket_article_ids") or ())
        if not self.article_ids <= now or len(now - self.article_ids) != (1 if patch.notes else 0):
            return False
        if set(answer.get("tags") or ()) != (self.tags | set(patch.add_tags)) - set(patch.remove_tags):
            return False
        stored = ticket_in(answer)
        written = {*sent, *(f"{k}_id" for k in sent)}
        return all(_text(stored[k]) == _text(v) for k, v in self.attributes.items() if k in stored and k not in written)


#: How a Zammad webhook with an "HMAC SHA1 Signature Token" signs its call
#: (admin-docs.zammad.org/en/latest/manage/webhook/payload.html): ``X-Hub-Signature: sha1=<hex
#: HMAC-SHA1(secret, body)>``; ``X-Zammad-Delivery`` is a unique random id of the delivery (the job's id,
#: which its retries keep). Zammad signs no time.
ZAMMAD_WEBHOOKS = WebhookFormat("zammad", "X-Hub-Signature", "sha1", "hub", delivery_id_header="X-Zammad-Delivery")
#: With no signed time, the replay cache is the only defence: deliveries are remembered a day by default.
ZAMMAD_REPLAY_WINDOW = 86_400.0


def webhook_verifier(secret: str | bytes, **kw: Any) -> WebhookVerifier:
    """The recommended check of Zammad webhook calls: a :class:`~govhall_sdk.rest.webhooks.WebhookVerifier`
    (body cap, signature, replay cache keyed by ``X-Zammad-Delivery`` and the signed body, remembered
    ``replay_window`` seconds, default a day); keep one per endpoint. ``kw`` are the verifier's options.
    An unusable secret raises ConfigError."""
    kw.setdefault("replay_window", ZAMMAD_REPLAY_WINDOW)
    return WebhookVerifier(secret, ZAMMAD_WEBHOOKS, **kw)


def verify_webhook(body: bytes, header: str, secret: str | bytes) -> bool:
    """True when a Zammad webhook with an "HMAC SHA1 Signature Token" signed ``body``
    (see :data:`ZAMMAD_WEBHOOKS`). Malformed input is False. No replay cache: an endpoint uses
    :func:`webhook_verifier`."""
    return check_once(secret, ZAMMAD_WEBHOOKS, body, header)


@hookimpl
def govhall_register_adapters(register):
    """Zammad REST API v1."""
    register("zammad", ZammadAdapter)
