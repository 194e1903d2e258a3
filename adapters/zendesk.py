"""The ``zendesk`` adapter: Zendesk Support through its REST API v2 (``[adapter] type = "zendesk"``).

Pull: the cursor-based incremental ticket export
(``GET /api/v2/incremental/tickets/cursor.json?start_time=`` first, then
``?cursor=<after_cursor>`` until ``end_of_stream``, 1000 a page) with the ``users``,
``metric_sets`` and ``comment_count`` sideloads; each ticket's comments
(``GET /api/v2/tickets/{id}/comments.json?include=users``, cursor paged) are its
timeline. The sync cursor is the ``after_cursor`` of the last fully processed
export page, which Zendesk documents as the start of the next export;
``govhall run --since 2025-01-01`` starts an export at that instant instead. The
export may list a ticket again; a repeat of the version already pulled in the run
is left out before its comments are read.

Write: ``PUT /api/v2/tickets/update_many.json`` batches of up to 100 tickets, each
ticket once (``additional_tags``, ``custom_fields``, one private ``comment`` carrying
every note, and ``safe_update: true`` with ``updated_stamp``, the ``updated_at`` of
the version read); tags to remove go afterwards in the documented bulk form
(``?ids=`` with ``{"ticket": {"remove_tags": [...]}}``), and a closed ticket gets only
its tags, in that form. Every job Zendesk queues is kept in :attr:`Adapter.memory`
from the moment it is queued until it is seen finished: the jobs kept are polled
first at the start of a pull and of a write, and a ticket of a job still pending is
not written (not ok; tried again at the next run). A ticket the job reports as failed
is sent once more, then reported; an ``UpdateConflict`` is a conflict
(``WriteOutcome.conflict``): the sync reads the ticket again. A batch that carries a
comment is sent as not idempotent: after an answer that may mean it was applied
(5xx, a timeout) it is not repeated; a 429 (refused unprocessed) is.

Echo: a job's results carry no version, so the tickets written are read back once
their job completed (``show_many`` with ``comment_count``, 100 a request), and a
ticket whose read-back shows nothing but govhall's write since govhall read it (its
mapped state as read plus the patch, one comment more for the note) has that version
kept as govhall's own echo: the next export's identical copy is skipped, not read
again. Anything else, however close in time, is read and evaluated
(``docs/adapters/zendesk.md``, "Requests").

Auth: basic auth as ``{email}/token`` with an API token (``api_token`` or
``api_token_env``); the incremental export needs an admin's token. Pacing on
``X-Rate-Limit-Remaining``, and the export to its own 10 requests a minute; a 429
waits ``Retry-After``, up to ``retry_after_max`` seconds. The mapping of forms, groups,
agents, fields and note prefixes is :mod:`govhall_sdk.mapping`.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections import deque
from datetime import datetime
from typing import Any, Iterator, Mapping, Sequence

from govhall_sdk import hookimpl
from govhall_sdk.adapter import WriteOutcome, gone
from govhall_sdk.config import ConfigError
from govhall_sdk.mapping import assignee, check_forms, form_defaults
from govhall_sdk.model import Patch, Ticket
from govhall_sdk.parse import Parsed
from govhall_sdk.rest import (
    DEFAULT_START, GOVHALL_ACTOR, CursorTokenPaginator, HTTPError, MappedAdapter, RetryPolicy, parse_instant,
    records_at,
)
from govhall_sdk.rest.webhooks import DEFAULT_TOLERANCE, WebhookFormat, WebhookVerifier, check_once, verifier_for

#: ``via.channel`` of a ticket (Zendesk's "Via types"), and the normalized channel.
ZENDESK_CHANNELS = {"email": "mail", "voice": "phone", "sms": "phone", "web": "web", "web_form": "web",
                    "web_widget": "web", "chat": "web", "native_messaging": "web", "mobile": "web",
                    "mobile_sdk": "web", "help_center": "web"}
#: Zendesk's ticket statuses.
ZENDESK_STATUSES = {"new": "new", "open": "open", "pending": "pending", "hold": "pending", "solved": "resolved",
                    "closed": "closed"}
#: Where the normalized fields come from by default (paths in the ticket view below).
ZENDESK_FIELDS = {"kind": "ticket_form_id", "subject": "subject", "applicant_id": "requester.id",
                  "applicant_name": "requester.name", "applicant_phone": "requester.phone", "due_at": "due_at",
                  "resolved_at": "metrics.solved_at"}
JOB_DONE = frozenset({"completed", "failed", "killed"})
#: The keys of a ticket :meth:`ZendeskAdapter.to_interchange` reads besides its tags, its custom fields and the
#: configured field paths: what the echo check compares with them (:meth:`ZendeskAdapter.mapped_state`).
MAPPED_KEYS = ("id", "status", "assignee_id", "group_id", "ticket_form_id", "subject", "due_at", "requester_id",
               "via", "created_at")
#: "You can also include a comment_count property in the JSON objects returned by GET requests by sideloading
#: it" ("Tickets", developer.zendesk.com/api-reference/ticketing/tickets/tickets/); the incremental ticket export
#: takes the "Tickets sideloads" too ("Incremental Exports", developer.zendesk.com/api-reference/ticketing/
#: ticket-management/incremental_exports/).
EXPORT_SIDELOADS = "users,metric_sets,comment_count"
#: "Show Multiple Tickets" (``GET /api/v2/tickets/show_many.json?ids=``) "will return up to 100 tickets records"
#: ("Tickets", developer.zendesk.com/api-reference/ticketing/tickets/tickets/#show-multiple-tickets).
SHOW_MANY = 100
#: "You can make up to 10 requests per minute to these endpoints" ("Incremental Exports",
#: developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/).
EXPORT_PER_MINUTE = 10


def _comments_token(body: Mapping[str, Any]) -> Any:
    meta = body.get("meta") or {}
    return meta.get("after_cursor") if meta.get("has_more") else None


class ZendeskAdapter(MappedAdapter):
    """Zendesk Support. Settings: ``url``, ``email``, ``api_token`` (secret), ``custom_fields``
    (name = field id) and the mapping tables described in ``docs/adapters/zendesk.md``."""

    name = "zendesk"
    read_concurrency = 4  # a page's tickets read four at a time (read_ticket keeps per-ticket state only)
    remaining_header = "X-Rate-Limit-Remaining"
    max_per_page = 1000  # the incremental export's per_page limit
    tickets_path = "/api/v2/incremental/tickets/cursor.json"
    records_path = "tickets"
    empty_pages_move_cursor = True  # a page of repeats only still moves the export's cursor on
    channels, statuses, fields = ZENDESK_CHANNELS, ZENDESK_STATUSES, ZENDESK_FIELDS
    settings_schema = {
        "url": None, "email": None, "api_token": None,
        **{k: v for k, v in MappedAdapter.settings_schema.items() if k not in ("url", "settle_seconds")},
        "custom_fields": {}, "forms": {}, "batch_size": 100, "job_poll_seconds": 1.0, "job_poll_attempts": 120,
        "retry_after_max": 900.0, "webhook_secret": "",
    }
    settings_types = {**MappedAdapter.settings_types, "email": str, "api_token": str, "job_poll_seconds": float,
                      "retry_after_max": float}
    secret_settings = ("api_token", "webhook_secret")
    custom_field_hint = "create the ticket field on Zendesk and map it"

    def __init__(self, settings: Mapping[str, Any], config: Any, **kw: Any):
        super().__init__(settings, config, **kw)
        self._sideloads: tuple[int, dict[str, Any], dict[str, Any]] = (0, {}, {})
        self._pulled: dict[str, tuple[Any, Any]] = {}  # ticket id -> the version pulled in this run
        self._local = LocalMemory()
        self.monotonic = time.monotonic  # the clock the export is paced by
        self._exports: deque[float] = deque(maxlen=EXPORT_PER_MINUTE)
        #: What the echo check compares: :data:`MAPPED_KEYS` and the first key of every configured field path.
        self.mapped_keys = tuple(sorted(set(MAPPED_KEYS) | {
            path.split(".")[0] for spec in self.mapping.fields.values() for path in str(spec).split("|") if path}
            - {"tags", "custom_fields"}))  # compared on their own (mapped_state)
        if kw.get("retry") is None:  # Retry-After waited in full up to the retry_after_max setting
            self.retry = RetryPolicy(retry_after_max=self.settings["retry_after_max"])

    def webhook_verifier(self, **kw: Any) -> WebhookVerifier:
        """A verifier of this account's webhook calls, with the ``webhook_secret`` setting (see the
        module's :func:`webhook_verifier`); ConfigError when that setting is empty."""
        return verifier_for(self, webhook_verifier, **kw)

    @classmethod
    def validate_settings(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        out = super().validate_settings(raw)
        for name, fid in out["custom_fields"].items():
            if isinstance(fid, bool) or not isinstance(fid, (int, str)) or not str(fid).isdigit():
                raise ConfigError(f"adapter.custom_fields.{name}: expected a Zendesk field id (a number), got {fid!r}")
        check_forms(out["forms"])
        if not 1 <= out["batch_size"] <= 100:
            raise ConfigError(f"adapter.batch_size: update_many takes 1 to 100 tickets, got {out['batch_size']}")
        return out

    def basic_credentials(self) -> tuple[str, str]:
        """``{email}/token`` and the API token."""
        return f"{self.settings['email']}/token", self.settings["api_token"]

    # -------------------------------------------------------------- reading
    def list_params(self, cursor: str | None, page_size: int) -> dict[str, Any]:
        """An export from ``cursor`` (an ``after_cursor``), or starting at an instant or date (``--since``)."""
        params: dict[str, Any] = {"per_page": min(page_size, self.settings["per_page"]),
                                  "include": EXPORT_SIDELOADS, "exclude_deleted": "true"}
        start = self._since(cursor) if cursor else None
        if cursor and start is None:
            params["cursor"] = cursor
        else:
            params["start_time"] = int((start or parse_instant(self.settings["start"]) or DEFAULT_START).timestamp())
        return params

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Every request; one to the incremental export is paced first (:meth:`pace_export`)."""
        if path == self.tickets_path:
            self.pace_export()
        return super().request(method, path, **kwargs)

    def pace_export(self) -> None:
        """Keep the export within its own limit, 10 requests a minute (:data:`EXPORT_PER_MINUTE`): the 11th
        request within 60 s waits until the oldest of the last 10 is a minute old, instead of being refused
        with a 429 and waiting out its ``Retry-After``."""
        if len(self._exports) == EXPORT_PER_MINUTE:
            wait = self._exports[0] + 60.0 - self.monotonic()
            if wait > 0:
                self.sleep(wait)
        self._exports.append(self.monotonic())

    def new_paginator(self, cursor: str | None, page_size: int) -> CursorTokenPaginator:
        """``start_time`` first, then ``cursor=<after_cursor>`` ("you don't need a start time for the next
        page") until ``end_of_stream``."""
        return CursorTokenPaginator(lambda b: b.get("after_cursor"), param="cursor", drop=("start_time",),
                                    done_when=lambda b: bool(b.get("end_of_stream")))

    def page_cursor(self, paginator: Any, response: Any) -> str | None:
        return response.body.get("after_cursor")

    def take(self, paginator: Any, records: list[Any]) -> list[Any]:
        """The export's tickets less exact repeats: a ticket whose version (``updated_at``, ``generated_timestamp``)
        this adapter already pulled in the run is left out, before any of its comments are read."""
        fresh = []
        for ticket in records:
            tid, version = self.ticket_id(ticket), (ticket.get("updated_at"), ticket.get("generated_timestamp"))
            if self._pulled.get(tid) != version:
                self._pulled[tid] = version
                fresh.append(ticket)
        return fresh

    def _since(self, cursor: str) -> datetime | None:
        """The instant of a ``--since`` cursor (``2025-01-01``, an ISO instant), or None for an ``after_cursor``."""
        if "-" not in cursor or len(cursor) > 40:
            return None
        try:
            since = datetime.fromisoformat(cursor.strip())
        except ValueError:
            return None
        return since if since.tzinfo else since.replace(tzinfo=self.config.timezone)

    def fetch(self, ids: Sequence[str]) -> Iterator[Parsed]:
        """The tickets with these ids (``show_many``, 100 at a time); unknown ids are reported."""
        numeric = [str(i) for i in ids if str(i).isdigit()]
        found: dict[str, Parsed] = {}
        for start in range(0, len(numeric), SHOW_MANY):
            body = self.get_json("/api/v2/tickets/show_many.json", ids=",".join(numeric[start:start + SHOW_MANY]),
                                 include="users,metric_sets")
            for ticket in records_at(body, "tickets"):
                item = self.parsed(ticket, body)
                found[str(item.id)] = item
        for tid in ids:
            yield found.get(str(tid)) or gone(str(tid), "no such ticket on Zendesk")

    def read_ticket(self, record: Mapping[str, Any], page: Mapping[str, Any]) -> dict[str, Any]:
        """The ticket's comments (cursor paged, with their authors), and the page's sideloaded users and metrics."""
        if self._sideloads[0] != id(page):
            self._sideloads = (id(page), {str(u.get("id")): u for u in page.get("users") or []},
                               {str(m.get("ticket_id")): m for m in page.get("metric_sets") or []})
        _, users, metrics = self._sideloads
        tid = self.ticket_id(record)
        people, comments = dict(users), []
        paginator = CursorTokenPaginator(_comments_token, param="page[after]")
        for response, found in self.paginate(f"/api/v2/tickets/{tid}/comments.json", paginator, "comments",
                                             {"page[size]": 100, "include": "users"}):
            comments.extend(found)
            people.update((str(u.get("id")), u) for u in response.body.get("users") or [])
        return {"comments": comments, "users": people, "metrics": metrics.get(tid)}

    def to_interchange(self, ticket: Mapping[str, Any], warnings: list[str], *,
                       comments: Sequence[Mapping[str, Any]] = (), users: Mapping[str, Any] | None = None,
                       metrics: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """One Zendesk ticket (with its comments, sideloaded users and metrics) as an interchange ticket dict."""
        m, users = self.mapping, users or {}
        custom = {str(f.get("id")): f.get("value") for f in ticket.get("custom_fields") or []}
        requester = str(ticket.get("requester_id"))
        status = m.status(ticket.get("status"))
        view: dict[str, Any] = {**ticket, **custom, "requester": users.get(requester) or {"id": requester}}
        view.update((name, custom.get(fid)) for name, fid in self.field_ids.items())
        if status in ("resolved", "closed") and metrics:  # solved_at stays set on a reopened ticket
            view["metrics"] = metrics
        kind = m.kind(m.field(view, "kind"))
        department = m.field(view, "department") if m.fields.get("department") else ticket.get("group_id")
        assigned = ticket.get("assignee_id")
        out: dict[str, Any] = {
            "id": str(ticket.get("id")),
            "kind": kind,
            "channel": m.channel((ticket.get("via") or {}).get("channel")),
            "subject": m.field(view, "subject"),
            "status": status,
            "created_at": ticket.get("created_at"),
            "department": m.department(department),
            "tags": list(ticket.get("tags") or []),
            "fields": {name: custom.get(fid) for name, fid in self.field_ids.items()},
            "updated_at": ticket.get("updated_at"),
            "zendesk_status": ticket.get("status"),
            "zendesk_read": {"state": self.mapped_state(ticket), "comments": len(comments)},
            "assignee": None if assigned is None else m.actor(assigned, "staff", (users.get(str(assigned)) or {}).get("name")),
            **m.common(view, kind),
        }
        form_defaults(out, self.settings["forms"].get(str(ticket.get("ticket_form_id"))))
        events: list[dict[str, Any]] = []
        for comment in comments:
            text = comment.get("body") or comment.get("plain_body") or ""
            author = str(comment.get("author_id"))
            person = users.get(author) or {}
            public = bool(comment.get("public", True))
            if author == requester or person.get("role") == "end-user":
                actor = m.actor(author, "applicant", person.get("name"))
            elif self.looks_own(text, public) and self._is_me(person):
                actor = dict(GOVHALL_ACTOR)
            else:
                actor = m.actor(author, "staff", person.get("name"))
            self.add_note(events, warnings, f"comment {comment.get('id')}", text=text, at=comment.get("created_at"),
                          actor=actor, public=public, comment_id=comment.get("id"))
        out["events"] = events
        return out

    def _is_me(self, person: Mapping[str, Any]) -> bool:
        """True when a comment's author is govhall's API user (its ``email``), or when the author is not sideloaded."""
        email = person.get("email")
        return not email or str(email).casefold() == str(self.settings["email"]).casefold()

    # -------------------------------------------------------------- govhall's own echo
    def mapped_state(self, ticket: Mapping[str, Any]) -> dict[str, Any]:
        """What of a ticket the mapping reads (:attr:`mapped_keys`, its tags and custom fields), in a form that
        compares equal whatever JSON types Zendesk answers with (:func:`plain`): tags as a sorted list, custom
        fields by id."""
        state = {key: plain(ticket.get(key)) for key in self.mapped_keys}
        state["tags"] = sorted({str(tag) for tag in ticket.get("tags") or []})
        state["custom_fields"] = {str(f.get("id")): plain(f.get("value")) for f in ticket.get("custom_fields") or []
                                  if isinstance(f, dict)}
        return state

    def version_of(self, ticket: Mapping[str, Any]) -> str:
        """A ticket's version for the echo check: its ``updated_at`` and a digest of its mapped state and its
        ``comment_count``. ``updated_at`` counts whole seconds: a person's comment or field change in the same
        second as govhall's write, after its read-back, still makes another version."""
        seen = json.dumps([self.mapped_state(ticket), plain(ticket.get("comment_count"))], sort_keys=True,
                          ensure_ascii=False)
        return f"{ticket.get('updated_at')}|{hashlib.sha256(seen.encode()).hexdigest()[:24]}"

    def _read_back(self, written: Sequence[tuple[Ticket, Patch, bool]]) -> None:
        """Read the tickets just written back (``show_many`` with the ``comment_count`` sideload, 100 a request)
        and remember as govhall's own echo the version of each whose read-back shows nothing but this write since
        govhall read it (:meth:`_expected`). The job's results carry no version, so this is the only way to know
        it. When in doubt (a read-back that fails, or shows anything else) nothing is remembered: the export
        brings the ticket again and it is read and evaluated again."""
        expected = {ticket.id: found for ticket, patch, closed in written
                    if (found := self._expected(ticket, patch, closed)) is not None}
        ids = list(expected)
        for start in range(0, len(ids), SHOW_MANY):
            try:
                body = self.get_json("/api/v2/tickets/show_many.json", ids=",".join(ids[start:start + SHOW_MANY]),
                                     include="comment_count")
                tickets = [t for t in records_at(body, "tickets") if isinstance(t, dict)]
            except (HTTPError, ValueError):
                continue
            for ticket in tickets:
                tid = self.ticket_id(ticket)
                if expected.get(tid) == (self.mapped_state(ticket), ticket.get("comment_count")):
                    self.remember_version(tid, self.version_of(ticket))

    def _expected(self, ticket: Ticket, patch: Patch, closed: bool) -> tuple[dict[str, Any], int] | None:
        """The mapped state and comment count a ticket shows if nothing but this write changed it since it was
        read: the state read plus the patch (a closed ticket takes its tags only) and one comment more for the
        note. None when that cannot be said: the ticket was not read by this adapter, or its assignment sets a
        key the mapped state does not hold."""
        read = ticket.extra.get("zendesk_read")
        if not isinstance(read, Mapping):
            return None
        state = dict(read["state"])
        state["tags"] = sorted((set(state["tags"]) | set(patch.add_tags)) - set(patch.remove_tags))
        if closed:
            return state, read["comments"]
        fields = {str(fid): plain(value) for fid, value in self.custom_field_ids(patch.fields).items()}
        state["custom_fields"] = {**state["custom_fields"], **fields}
        assignment = plain(assignee(self.settings, patch.assign)) if patch.assign else {}
        if not set(assignment) <= set(state):
            return None
        state.update(assignment)
        return state, read["comments"] + (1 if patch.notes else 0)

    # -------------------------------------------------------------- jobs kept across runs
    @property
    def kept(self) -> Any:
        """Where queued jobs and reported closed tickets are kept: the state store's :attr:`memory` under
        ``govhall run``, else a memory of this adapter's lifetime."""
        return self.memory if self.memory is not None else self._local

    def _track(self, job: Mapping[str, Any], ids: Sequence[Any]) -> None:
        """Keep a job Zendesk queued (its id and tickets) until it is seen finished, in this run or a later one."""
        if job.get("id") and job.get("status") not in JOB_DONE:
            queued = self.now.isoformat() if self.now is not None else None
            self.kept.set(f"job:{job['id']}", json.dumps({"tickets": [str(i) for i in ids], "queued_at": queued}))

    def _job_status(self, job_id: str) -> Mapping[str, Any] | None:
        """One poll of a job (``GET /api/v2/job_statuses/{id}.json``); None when Zendesk no longer has it
        (it keeps a job's status for one day, "Job Statuses", developer.zendesk.com/api-reference/
        ticketing/ticket-management/job_statuses/)."""
        try:
            body = self.request("GET", f"/api/v2/job_statuses/{job_id}.json", want_json=True).body
        except HTTPError as exc:
            if exc.status == 404:
                return None
            return {"id": job_id, "status": f"not polled ({exc})"}
        return body.get("job_status") or {}

    def poll_kept_jobs(self) -> dict[str, str]:
        """Poll every job kept from an earlier request, this run's or an earlier run's (a run killed, or
        whose polls ran out, while a job was queued): a finished or expired job is forgotten; returns, for
        each ticket of a job still pending, what is pending."""
        pending: dict[str, str] = {}
        for key, raw in self.kept.items("job:").items():
            job_id = key.removeprefix("job:")
            job = self._job_status(job_id)
            if job is None or job.get("status") in JOB_DONE:
                self.kept.delete(key)
                continue
            queued = json.loads(raw)
            for tid in queued.get("tickets") or []:
                pending[str(tid)] = (f"Zendesk job {job_id} of this ticket (queued {queued.get('queued_at')}) is still "
                                     f"{job.get('status')}: not written again until it completed; tried at the next run")
        return pending

    def pull(self, cursor: str | None, page_size: int = 100) -> Iterator[Any]:
        """The jobs kept from earlier runs are polled first (a finished one is forgotten); then the export."""
        self.poll_kept_jobs()
        yield from super().pull(cursor, page_size)

    # -------------------------------------------------------------- writing
    def _item(self, ticket: Ticket, patch: Patch) -> dict[str, Any]:
        """One ticket of an ``update_many`` batch: tags added, fields, the note, an assignee, and the safe
        update of the version read. Tags to remove are not here: ``remove_tags`` is documented for bulk
        updates only (see :meth:`_bulk_tags`)."""
        item: dict[str, Any] = {"id": int(ticket.id)}
        if patch.add_tags:
            item["additional_tags"] = list(patch.add_tags)
        if patch.fields:
            item["custom_fields"] = [{"id": int(fid), "value": value}
                                     for fid, value in self.custom_field_ids(patch.fields).items()]
        if patch.notes:
            item["comment"] = {"body": patch.combined_note(), "public": False}
        if patch.assign:
            item.update(assignee(self.settings, patch.assign))
        if ticket.extra.get("updated_at"):  # "safe update": refused if the ticket changed since this version was read
            item.update(safe_update=True, updated_stamp=ticket.extra["updated_at"])
        return item

    def apply(self, writes: Sequence[tuple[Ticket, Patch]]) -> list[WriteOutcome]:
        """Each ticket once (its last patch): the jobs kept are polled first, and a ticket of a job still
        pending is not written (not ok, tried again at the next run); a closed ticket gets its tags only
        (:meth:`_write_closed`); the others a batch update, then their tags to remove in bulk updates. The
        tickets written are read back (:meth:`_read_back`) so that their echo is not read again."""
        pending = self.poll_kept_jobs()
        last = {ticket.id: (ticket, patch) for ticket, patch in writes}
        outcomes: dict[str, WriteOutcome] = {}
        open_, closed = [], []
        for tid, (ticket, patch) in last.items():
            if not str(tid).isdigit():
                outcomes[tid] = WriteOutcome(tid, False, f"{tid!r} is not a Zendesk ticket id")
            elif tid in pending:
                outcomes[tid] = WriteOutcome(tid, False, pending[tid])
            else:
                (closed if ticket.extra.get("zendesk_status") == "closed" else open_).append((ticket, patch))
        outcomes.update(self._write_open(open_))
        outcomes.update(self._write_closed(closed))
        self._read_back([(t, p, shut) for pairs, shut in ((open_, False), (closed, True)) for t, p in pairs
                         if outcomes[t.id].ok])
        return [outcomes.get(t.id) or WriteOutcome(t.id, False, "not sent") for t, _ in writes]

    def _write_open(self, pairs: Sequence[tuple[Ticket, Patch]]) -> dict[str, WriteOutcome]:
        """Batch updates of what changes, then, for the tickets whose update landed, their tags to remove."""
        outcomes: dict[str, WriteOutcome] = {}
        items: list[dict[str, Any]] = []
        for ticket, patch in pairs:
            try:
                item = self._item(ticket, patch)
            except ValueError as exc:
                outcomes[ticket.id] = WriteOutcome(ticket.id, False, str(exc))
                continue
            if set(item) - {"id", "safe_update", "updated_stamp"}:
                items.append(item)
            else:
                outcomes[ticket.id] = WriteOutcome(ticket.id, True)  # tags to remove at most
        outcomes.update(self._send_batches(items))
        removals: dict[tuple[tuple[str, ...], tuple[str, ...]], list[str]] = {}
        for ticket, patch in pairs:
            gone_tags = tuple(t for t in patch.remove_tags if t in ticket.tags)
            if gone_tags and outcomes[ticket.id].ok:
                removals.setdefault(((), gone_tags), []).append(ticket.id)
        outcomes.update((tid, o) for tid, o in self._bulk_tags(removals).items() if not o.ok)
        return outcomes

    def _write_closed(self, pairs: Sequence[tuple[Ticket, Patch]]) -> dict[str, WriteOutcome]:
        """A closed ticket takes no update but its tags, through a bulk update ("To update tags for closed
        tickets, use the Update Many Tickets endpoint", "Tags", developer.zendesk.com/api-reference/ticketing/
        ticket-management/tags/; "Once a ticket is closed ... it can't be reopened", "Creating and updating
        tickets"). Its fields and notes are skipped and reported once (kept as ``closed:{id}``), not every run."""
        groups: dict[tuple[tuple[str, ...], tuple[str, ...]], list[str]] = {}
        for ticket, patch in pairs:
            key = (tuple(patch.add_tags), tuple(t for t in patch.remove_tags if t in ticket.tags))
            if key != ((), ()):
                groups.setdefault(key, []).append(ticket.id)
        tagged = self._bulk_tags(groups)
        outcomes = {}
        for ticket, patch in pairs:
            outcome = tagged.get(ticket.id) or WriteOutcome(ticket.id, True)
            skipped = closed_skips(patch)
            if outcome.ok and skipped:
                first = self.kept.get(f"closed:{ticket.id}") is None
                self.kept.set(f"closed:{ticket.id}", "reported")
                outcome = WriteOutcome(ticket.id, True, skipped=(
                    f"closed on Zendesk, which updates a closed ticket's tags only: its {skipped} not written "
                    "(reported once)") if first else "")
            outcomes[ticket.id] = outcome
        return outcomes

    def _send_batches(self, items: list[dict[str, Any]]) -> dict[str, WriteOutcome]:
        """``update_many`` in batches of ``batch_size``; a ticket the job failed is sent once more, then
        reported, except a safe-update conflict or a job left pending (see :meth:`_run_batch`)."""
        outcomes: dict[str, WriteOutcome] = {}
        pending = items
        for _ in range(2):
            again: list[dict[str, Any]] = []
            size = self.settings["batch_size"]
            for batch in (pending[i:i + size] for i in range(0, len(pending), size)):
                for item, (outcome, resend) in zip(batch, self._run_batch(batch)):
                    outcomes[outcome.ticket_id] = outcome
                    if resend:
                        again.append(item)
            pending = again
            if not pending:
                break
        return outcomes

    def _run_batch(self, batch: Sequence[dict[str, Any]]) -> list[tuple[WriteOutcome, bool]]:
        """Send one batch ``update_many`` and wait for its job: per ticket, its outcome and whether to resend it.

        Only a failure the job reports for a ticket is resent: that update was not
        applied. A request that failed, or a job that failed, was killed or is still
        pending, may have applied part of the batch; it is reported, and the next
        run re-evaluates those tickets (a job still pending is kept and polled first,
        and its tickets are not written while it is). An ``UpdateConflict`` (the
        ticket changed after the version the patch was computed from) is never
        resent: it is a conflict, and the sync reads the ticket again.
        """
        with_comment = any("comment" in item for item in batch)
        ids = [item["id"] for item in batch]
        return self._run_job({"json": {"tickets": list(batch)}}, ids, idempotent=not with_comment)

    def _bulk_tags(self, groups: Mapping[tuple[tuple[str, ...], tuple[str, ...]], list[str]]) -> dict[str, WriteOutcome]:
        """Tags added and removed in the documented bulk form, ``PUT /api/v2/tickets/update_many.json?ids=…``
        with ``{"ticket": {"additional_tags": […], "remove_tags": […]}}`` ("Adding tags to tickets without
        overwriting existing tags", developer.zendesk.com/documentation/ticketing/managing-tickets/
        adding-tags-to-tickets-without-overwriting-existing-tags/), one request per 100 tickets of the same
        change. Adding and removing a tag twice changes nothing: the request may be repeated."""
        outcomes: dict[str, WriteOutcome] = {}
        for (add, remove), tids in groups.items():
            change = {k: list(v) for k, v in (("additional_tags", add), ("remove_tags", remove)) if v}
            for start in range(0, len(tids), 100):
                chunk = [int(t) for t in tids[start:start + 100]]
                done = self._run_job({"params": {"ids": ",".join(map(str, chunk))}, "json": {"ticket": change}},
                                     chunk, idempotent=True)
                outcomes.update((o.ticket_id, o) for o, _ in done)
        return outcomes

    def _run_job(self, request: dict[str, Any], ids: Sequence[int], *, idempotent: bool) -> list[tuple[WriteOutcome, bool]]:
        """One ``update_many`` request, its job kept from the moment it is queued, and waited for."""
        try:
            job = self.request("PUT", "/api/v2/tickets/update_many.json", idempotent=idempotent, want_json=True,
                               **request).body.get("job_status") or {}
            self._track(job, ids)
            job = self._wait(job)
        except (HTTPError, AttributeError) as exc:
            return [(WriteOutcome(str(i), False, self.redact(f"update_many: {exc}")), False) for i in ids]
        by_id = job_results(job, ids)
        return [self._outcome(str(i), by_id.get(str(i)), job) for i in ids]

    def _outcome(self, tid: str, result: Mapping[str, Any] | None, job: Mapping[str, Any]) -> tuple[WriteOutcome, bool]:
        """One ticket's outcome from its job result, and whether it may be resent."""
        if result is not None and result.get("success") is True and not result.get("error"):
            return WriteOutcome(tid, True), False
        if result is not None:
            error = self.redact(f"{result.get('error') or result.get('status') or 'failed'}: "
                                f"{result.get('details') or ''}".rstrip(": "))
            if result.get("error") == "UpdateConflict":
                return WriteOutcome(tid, False, f"{error} (changed since it was read: read again and evaluated "
                                                "again)", conflict=True), False
            closed = "closed" in str(result.get("details") or "").casefold()
            return WriteOutcome(tid, False, error), not closed
        status = job.get("status") or "unfinished"
        if status in JOB_DONE:
            why = "reported no result for this ticket" if status == "completed" else f"{status}: {job.get('message') or 'no result'}"
        else:
            why = (f"still {status} after {self.settings['job_poll_attempts']} polls: kept and polled at the next "
                   "run; not written again until it completed")
        return WriteOutcome(tid, False, f"job {job.get('id')} {why}"), False

    def _wait(self, job: Mapping[str, Any]) -> Mapping[str, Any]:
        """Poll ``job_statuses/{id}`` until the job is done (then it is forgotten), or the polls run out (it
        stays kept, polled first at the next run)."""
        for _ in range(self.settings["job_poll_attempts"]):
            if job.get("status") in JOB_DONE or not job.get("id"):
                break
            self.sleep(self.settings["job_poll_seconds"])
            job = self._job_status(str(job["id"])) or {"id": job["id"], "status": "expired"}
        if job.get("status") in JOB_DONE or job.get("status") == "expired":
            self.kept.delete(f"job:{job.get('id')}")
        return job


def plain(value: Any) -> Any:
    """A JSON value with every scalar as text, for comparing what was read with what was written (Zendesk
    answers a custom field's number as text, an id as a number)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return str(value)


def closed_skips(patch: Patch) -> str:
    """What of a patch a closed ticket does not take (all but its tags), in words; empty when nothing."""
    return ", ".join(filter(None, [
        f"fields {', '.join(sorted(patch.fields))}" if patch.fields else "",
        f"{len(patch.notes)} note(s)" if patch.notes else "", "the assignee" if patch.assign else ""]))


def job_results(job: Mapping[str, Any], ids: Sequence[Any]) -> dict[str, Mapping[str, Any]]:
    """A job's per-ticket results by ticket id: ``{"id", "action", "success", "status"}``, or ``{"id", "index",
    "error", "details"}`` for a ticket that failed (an ``index`` alone is the position in ``ids``)."""
    results = job.get("results")
    by_id: dict[str, Mapping[str, Any]] = {}
    for r in results if isinstance(results, list) else []:
        if isinstance(r, dict):
            rid = r.get("id")
            if rid is None and isinstance(r.get("index"), int) and 0 <= r["index"] < len(ids):
                rid = ids[r["index"]]
            by_id[str(rid)] = r
    return by_id


class LocalMemory:
    """:attr:`ZendeskAdapter.kept` outside ``govhall run``: the same calls as the state store's memory,
    kept for the adapter's lifetime only."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}

    def get(self, key: str) -> str | None:
        """The value kept under ``key``, or None."""
        return self._values.get(key)

    def set(self, key: str, value: str) -> None:
        """Keep ``value`` under ``key``."""
        self._values[key] = value

    def delete(self, key: str) -> None:
        """Forget ``key``."""
        self._values.pop(key, None)

    def items(self, prefix: str = "") -> dict[str, str]:
        """Every key kept that starts with ``prefix``, with its value."""
        return {k: v for k, v in self._values.items() if k.startswith(prefix)}


#: How Zendesk signs a webhook call (developer.zendesk.com/documentation/webhooks/verifying/):
#: ``X-Zendesk-Webhook-Signature`` is ``base64(HMAC-SHA256(secret, timestamp + body))``, the timestamp that of
#: ``X-Zendesk-Webhook-Signature-Timestamp``, e.g. ``2021-03-25T05:09:27Z``
#: (developer.zendesk.com/documentation/webhooks/anatomy-of-a-webhook-request/).
ZENDESK_WEBHOOKS = WebhookFormat("zendesk", "X-Zendesk-Webhook-Signature", "sha256", "base64",
                                 timestamp_header="X-Zendesk-Webhook-Signature-Timestamp")


def webhook_verifier(secret: str | bytes, **kw: Any) -> WebhookVerifier:
    """The recommended check of Zendesk webhook calls: a :class:`~govhall_sdk.rest.webhooks.WebhookVerifier`
    (body cap, signature, signed timestamp within ``tolerance`` of receipt, replay cache); keep one per
    endpoint. ``kw`` are the verifier's options. An unusable secret raises ConfigError."""
    return WebhookVerifier(secret, ZENDESK_WEBHOOKS, **kw)


def verify_webhook(body: bytes, timestamp: str, signature: str, secret: str | bytes, *,
                   received_at: datetime | None = None, tolerance: float = DEFAULT_TOLERANCE) -> bool:
    """True when a Zendesk webhook call is signed with ``secret`` (see :data:`ZENDESK_WEBHOOKS`) and its
    timestamp lies within ``tolerance`` seconds of ``received_at`` (default: now).

    ``body`` is the raw request body; malformed input is False, never an exception. This check keeps
    no replay cache: an endpoint uses :func:`webhook_verifier` instead.
    """
    return check_once(secret, ZENDESK_WEBHOOKS, body, signature, timestamp=timestamp, received_at=received_at,
                      tolerance=tolerance)


@hookimpl
def govhall_register_adapters(register):
    """Zendesk Support."""
    register("zendesk", ZendeskAdapter)
