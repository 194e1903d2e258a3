"""The ``jira`` adapter: Jira Service Management on Jira Cloud (``[adapter] type = "jira"``).

Pull: ``POST /rest/api/3/search/jql`` (the enhanced search; the old ``/search``
is gone) with ``{"jql", "fields", "expand": "changelog", "maxResults",
"nextPageToken"}``, paged by ``nextPageToken`` until ``isLast``. The JQL is
``(<adapter.jql>) AND updated >= '<from>' AND updated <= '<until>' ORDER BY updated ASC, key ASC``:

- JQL dates have minute precision and are read in the API user's time zone
  (``jql_timezone``, else ``GET /rest/api/3/myself``), so the cursor
  (:class:`govhall_sdk.rest.SyncCursor`) is the exact ``updated`` of the last
  processed issue plus the keys processed at that instant, and an issue already
  processed is skipped when it comes again;
- the search index is eventually consistent, so only issues updated at least
  ``settle_seconds`` ago are read (the rest come next run);
- writing a page moves its issues to the end of ``ORDER BY updated``, so after
  each page the search starts again from the new cursor instead of following a
  page token that may count positions.

Comments come with the issue (``fields.comment``; the rest through
``GET /rest/api/3/issue/{key}/comment`` when Jira holds more); the changelog turns
status transitions (``[adapter.status_events]``) and moves of the department
field into events. Internal comments are those with ``jsdPublic: false`` or the
``sd.public.comment`` property ``{"internal": true}``. ``fetch`` reads issues by key, 50 a
search reconciled with ``reconcileIssues`` (so it does not lag like the pull's search), and an
issue the search does not answer for with ``GET /rest/api/3/issue/{key}``.

Write: ``PUT /rest/api/3/issue/{key}`` with ``update.labels`` add/remove and
``fields`` (custom fields, assignee), then one internal comment with every note:
``POST /rest/servicedeskapi/request/{key}/comment {"body", "public": false}``
(``note_api = "servicedesk"``, the documented way) or ``POST /rest/api/3/issue/{key}/comment``
with an ADF body and the ``sd.public.comment`` property (``note_api = "platform"``, not
documented); either answer is read back, and a note Jira saved visible to customers is an
error naming the comment. The changelog embedded in the search is capped (40, newest
first): a changelog that may be cut is read from ``/issue/{key}/changelog`` to its end. A
comment POST is not repeated after an answer that may mean it was saved (only a
429 is); note markers make the next run safe.

No echo re-read: after a page is written, the issues are read back and the ``updated`` each
write produced is kept only where nothing but govhall changed the issue since it was read
(:meth:`JiraAdapter.remember_own_versions`); the next run skips those issues unread.

Auth: basic auth with the account's email and an API token. Pacing on Jira's documented
headers (:meth:`JiraAdapter.pace`).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator, Mapping, NamedTuple, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from govhall_sdk import hookimpl
from govhall_sdk.adapter import AdapterError, Page, WriteOutcome
from govhall_sdk.config import ConfigError, check_value
from govhall_sdk.mapping import assignee, check_forms, form_defaults, path_value
from govhall_sdk.model import EVENT_CLASSES, Patch, Ticket
from govhall_sdk.parse import Parsed
from govhall_sdk.patch import markers_in
from govhall_sdk.rest import (
    DEFAULT_START, GOVHALL_ACTOR, CursorTokenPaginator, HTTPError, MappedAdapter, OffsetPaginator, SyncCursor,
    parse_instant, parse_retry_after, records_at,
)
from govhall_sdk.rest.webhooks import WebhookFormat, WebhookVerifier, check_once, verifier_for

#: Where the normalized fields come from by default (paths in the issue's ``fields``).
JIRA_FIELDS = {"kind": "issuetype.name", "subject": "summary", "applicant_id": "reporter.accountId",
               "applicant_name": "reporter.displayName", "due_at": "duedate", "resolved_at": "resolutiondate"}
#: The entries ``/search/jql`` embeds of an issue's changelog at most.
CHANGELOG_CAP = 40
#: A status not named in ``[adapter.statuses]`` is read by its category.
CATEGORY_STATUSES = {"new": "new", "indeterminate": "open", "done": "resolved"}
BASE_FIELDS = ("summary", "status", "created", "updated", "labels", "reporter", "assignee", "issuetype",
               "resolutiondate", "duedate", "comment", "project")
NOTE_APIS = ("servicedesk", "platform")
ZONE_MARGIN = timedelta(hours=14)  # the widest UTC offset
#: The issues one search may reconcile ("reconcileIssues ... Accepts max 50 ids").
RECONCILE_CAP = 50
#: The comment ids one "Get comments by IDs" takes ("A maximum of 1000 IDs can be specified").
COMMENT_IDS_CAP = 1000
#: The statuses Jira sends with a ``Retry-After`` when a limit is reached.
RATE_LIMITED = (429, 503)
log = logging.getLogger("govhall.jira")


def plain(value: Any) -> Any:
    """A Jira field value reduced to str / number / list (an option to its value, a user to its name)."""
    if isinstance(value, dict):
        for key in ("value", "name", "displayName", "key", "accountId", "id"):
            if key in value:
                return plain(value[key])
        return None
    if isinstance(value, list):
        return [v for v in (plain(x) for x in value) if v is not None]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def adf_text(node: Any) -> str:
    """The plain text of an Atlassian Document Format node (a str body passes through)."""
    if isinstance(node, str):
        return node
    if isinstance(node, list):
        return "".join(adf_text(n) for n in node)
    if not isinstance(node, dict):
        return ""
    kind, attrs = node.get("type"), node.get("attrs") or {}
    if kind == "text":
        return node.get("text", "")
    if kind == "hardBreak":
        return "\n"
    if kind in ("mention", "emoji", "status", "date"):
        return str(attrs.get("text") or attrs.get("shortName") or attrs.get("timestamp") or "")
    if kind in ("inlineCard", "blockCard"):
        return str(attrs.get("url") or "")
    inner = adf_text(node.get("content") or [])
    return inner + "\n" if kind in ("paragraph", "heading", "codeBlock", "blockquote", "listItem", "panel") else inner


def adf_doc(text: str) -> dict[str, Any]:
    """An ADF document with one paragraph per line of ``text`` (plain text, nothing interpreted)."""
    return {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": line}] if line else []} for line in text.split("\n")]}


def wiki_safe(body: str) -> str:
    """A note body for the JSM comment API, whose text is rendered as wiki markup.

    Each ``[govhall:...]`` marker goes in a ``{noformat}`` block, so that neither
    ``[...]`` (a wiki link) nor ``_``, ``+``, ``-`` in it is interpreted; were the
    body kept as plain text, the marker is still there character for character.
    """
    markers = markers_in(body)
    for marker in markers:
        body = body.replace(marker, "")
    return body.rstrip() + "".join(f"\n{{noformat}}{m}{{noformat}}" for m in markers)


def check_status_events(table: Mapping[str, Any]) -> None:
    """``[adapter.status_events]``: a status name = an event type, or a table with ``type`` and preset fields."""
    for status, value in table.items():
        etype = value.get("type") if isinstance(value, dict) else value
        if etype not in EVENT_CLASSES:
            raise ConfigError(f"adapter.status_events.{status}: {etype!r} is not an event type "
                              f"(known: {', '.join(EVENT_CLASSES)})")


class AsRead(NamedTuple):
    """An issue as govhall read it: its id, its ``updated`` and the ids of its comments then."""

    issue_id: str
    updated: datetime
    comment_ids: frozenset[str]


@attrs.define
class EchoCheck:
    """Whether one written issue changed only by govhall's own write since govhall read it (see
    :meth:`JiraAdapter.remember_own_versions`).

    ``updated`` is the issue's ``updated`` after the write; ``changed_at`` the instants of the changes seen since
    the read; ``hidden`` the comment ids the read-back search did not show, still to be checked; ``doubtful``
    once anything but govhall's own change was seen, or could not be read.
    """

    key: str
    read: AsRead
    updated: str
    changed_at: list[datetime] = attrs.Factory(list)
    hidden: set[str] = attrs.Factory(set)
    doubtful: bool = False

    def confirmed(self) -> bool:
        """True when nothing but govhall changed the issue: every change seen is its own, none is hidden, and the
        issue's ``updated`` is exactly its last own change (anything later, recorded or not, moved it)."""
        return not self.doubtful and not self.hidden and bool(self.changed_at) \
            and max(self.changed_at) == parse_instant(self.updated)


class JiraAdapter(MappedAdapter):
    """Jira Service Management. Settings: ``url``, ``email``, ``api_token`` (secret), ``jql``,
    ``custom_fields`` (name = field id) and the mapping tables described in ``docs/adapters/jira.md``."""

    name = "jira"
    read_concurrency = 4  # a page's tickets read four at a time (read_ticket keeps per-ticket state only)
    remaining_header = "X-RateLimit-Remaining"
    tickets_path = "/rest/api/3/search/jql"
    tickets_method = "POST"
    records_path = "issues"
    ticket_path = "/rest/api/3/issue/{id}"
    missing_ticket = "no such issue on Jira"
    fetch_isolated = False
    id_key = "key"
    fields = JIRA_FIELDS
    settings_schema = {
        "url": None, "email": None, "api_token": None, "jql": None,
        **{k: v for k, v in MappedAdapter.settings_schema.items() if k != "url"}, "settle_seconds": 120.0,
        "jql_timezone": "", "channel_field": "", "form_field": "customfield_10010.requestType.name|issuetype.name",
        "custom_fields": {}, "forms": {}, "status_events": {}, "note_api": "servicedesk", "webhook_secret": "",
    }
    settings_types = {**MappedAdapter.settings_types, "email": str, "api_token": str, "jql": str}
    secret_settings = ("api_token", "webhook_secret")
    api_user_path = "/rest/api/3/myself"
    custom_field_hint = "create the custom field on Jira and map it"
    #: maxResults of ``/search/jql``: "It returns max 5000 issues", fewer "where a large number of fields are
    #: requested" (developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/): asked for at the
    #: most, Jira answers with the page it allows and ``isLast`` says whether more follow.
    max_per_page = 5000

    def __init__(self, settings: Mapping[str, Any], config: Any, **kw: Any):
        super().__init__(settings, config, **kw)
        self.clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
        department = self.mapping.fields.get("department") or ""
        self.department_field = department.split("|")[0].split(".")[0].strip() or None
        zone = self.settings["jql_timezone"]
        self._zone: Any = ZoneInfo(zone) if zone else None
        self._as_read: dict[str, AsRead] = {}  # the issues of the page being written, as read
        self._notes_posted: dict[str, str] = {}  # issue key -> the comment id of govhall's note in this write

    def webhook_verifier(self, **kw: Any) -> WebhookVerifier:
        """A verifier of this site's webhook calls, with the ``webhook_secret`` setting (see the
        module's :func:`webhook_verifier`); ConfigError when that setting is empty."""
        return verifier_for(self, webhook_verifier, **kw)

    @classmethod
    def validate_settings(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        out = super().validate_settings(raw)
        for name, fid in out["custom_fields"].items():
            check_value(fid, str, f"adapter.custom_fields.{name}")
        check_forms(out["forms"])
        check_status_events(out["status_events"])
        if out["note_api"] not in NOTE_APIS:
            raise ConfigError(f"adapter.note_api: expected one of {', '.join(NOTE_APIS)}, got {out['note_api']!r}")
        if out["jql_timezone"]:
            try:
                ZoneInfo(out["jql_timezone"])
            except (ZoneInfoNotFoundError, ValueError):
                raise ConfigError(f"adapter.jql_timezone: unknown time zone {out['jql_timezone']!r}") from None
        return out

    def basic_credentials(self) -> tuple[str, str]:
        """The account's email and API token."""
        return self.settings["email"], self.settings["api_token"]

    def pace(self, response: Any) -> None:
        """Slow down as Jira's headers say ("Rate limiting", developer.atlassian.com/cloud/jira/platform/rate-limiting/):
        an answer pauses ``pace_seconds`` when ``X-RateLimit-NearLimit: true`` ("less than 20% of any budget
        remains"), when it carries a ``Beta-Retry-After`` (a limit not yet enforced was reached), or when
        ``X-RateLimit-Remaining`` is below ``pace_below``; otherwise not at all, so that a serial client runs at
        the rate Jira allows. A refused request's wait is :meth:`retry_after`'s, waited by the retry policy."""
        headers = response.headers
        if response.status_code in RATE_LIMITED:
            return
        left = headers.get(self.remaining_header) or ""
        if headers.get("X-RateLimit-NearLimit", "").lower() == "true" or headers.get("Beta-Retry-After") \
                or (left.isdigit() and int(left) < self.pace_below):
            self.sleep(self.pace_seconds)

    def retry_after(self, response: Any) -> float | None:
        """How long a refused request (a 429, or a 503 naming a wait) is to be waited out, in full: "If you
        reissue the request before the retry period expires, the request will fail and return the same or longer
        Retry-After period". ``Retry-After``; without it ``Beta-Retry-After`` (seconds) or ``X-RateLimit-Reset``
        (an ISO 8601 instant, ``yyyy-MM-ddTHH:mmZ``)."""
        headers = response.headers
        named = parse_retry_after(headers.get("Retry-After"))
        if named is not None or response.status_code not in RATE_LIMITED:
            return named
        beta = parse_retry_after(headers.get("Beta-Retry-After"))
        if beta is not None:
            return beta
        reset = parse_instant(headers.get("X-RateLimit-Reset"))
        return max(0.0, (reset - self.clock()).total_seconds()) if reset else None

    # -------------------------------------------------------------- the search
    @property
    def search_fields(self) -> list[str]:
        """Every field the search asks for: the base ones, the custom fields, those the paths name."""
        named = [self.mapping.fields.get(k) or "" for k in self.mapping.fields]
        named += [self.settings["channel_field"], self.settings["form_field"]]
        roots = {p.split(".")[0].strip() for spec in named for p in spec.split("|") if p.strip()}
        roots -= set(self.field_ids) | {"key", "id"}  # names of [adapter.custom_fields], not Jira fields
        return list(dict.fromkeys([*BASE_FIELDS, *sorted(set(self.field_ids.values()) | roots)]))

    def zone(self) -> Any:
        """The API user's time zone, in which Jira reads JQL dates (``jql_timezone``, else ``GET /myself``)."""
        if self._zone is None:
            try:
                name = self.api_user().get("timeZone") or ""
                self._zone = ZoneInfo(name) if name else False
            except (AttributeError, ValueError, ZoneInfoNotFoundError):
                self._zone = False
        return self._zone or None

    def _jql_date(self, instant: datetime, up: bool) -> str:
        """``yyyy/MM/dd HH:mm`` in the user's zone, rounded down (or up) to the minute.

        With the zone unknown, the date moves 14 hours (the widest UTC offset)
        outwards, so that it is on the safe side in any zone.
        """
        zone = self.zone()
        local = instant.astimezone(zone) if zone else instant.astimezone(timezone.utc) + (ZONE_MARGIN if up else -ZONE_MARGIN)
        if up and (local.second or local.microsecond):
            local += timedelta(minutes=1)
        return local.strftime("%Y/%m/%d %H:%M")

    def jql(self, since: datetime, until: datetime) -> str:
        """The search of issues updated from ``since`` to ``until``, oldest first."""
        return (f"({self.settings['jql']}) AND updated >= '{self._jql_date(since, up=False)}' "
                f"AND updated <= '{self._jql_date(until, up=True)}' ORDER BY updated ASC, key ASC")

    # -------------------------------------------------------------- reading
    def pull(self, cursor: str | None, page_size: int = 100) -> Iterator[Page]:
        """Pages of issues updated after ``cursor``, oldest first, each with the cursor that follows it.

        Only issues updated at least ``settle_seconds`` ago are read. After each page
        the search starts again from the new cursor (see the module's docstring),
        following ``nextPageToken`` only past responses of issues taken before.
        """
        state = SyncCursor.parse(cursor, parse_instant(self.settings["start"]) or DEFAULT_START, self.config.timezone)
        since, seen = state.since, dict(state.seen)
        until = self.clock() - timedelta(seconds=self.settings["settle_seconds"])
        body = {"fields": self.search_fields, "expand": "changelog", "maxResults": min(page_size, self.settings["per_page"])}
        while True:
            fresh: list[dict[str, Any]] = []
            finished = True
            search = CursorTokenPaginator(lambda b: b.get("nextPageToken"), param="nextPageToken", in_body=True,
                                          done_when=lambda b: b.get("isLast") is True)
            for response, issues in self.paginate(self.tickets_path, search, self.records, method="POST",
                                                  json={"jql": self.jql(since, until), **body}):
                beyond = False
                for issue in issues:
                    stamp = str((issue.get("fields") or {}).get("updated") or "")
                    updated = parse_instant(stamp)
                    if updated is None:
                        continue
                    if updated > until:
                        beyond = True  # ordered by updated: nothing after this has settled
                        break
                    key = self.ticket_id(issue)
                    if updated < since or seen.get(key) == stamp:
                        continue  # taken before
                    fresh.append(issue)
                    if updated > since:
                        since, seen = updated, {}
                    seen[key] = stamp
                if beyond or fresh:
                    finished = beyond or response.body.get("isLast") is not False
                    break
            if fresh:
                self._as_read.clear()  # the page before is written
                items, echoes = self.page_items(fresh, response.body)
                yield Page(items, SyncCursor(since, seen).dump(), echoes)
            if not fresh or finished:
                return

    def fetch(self, ids: Sequence[str]) -> Iterator[Parsed]:
        """The issues with these keys as they are now, 50 a search (:meth:`search_keys`); a key the search does
        not answer for (deleted, moved, or a search refused) is read directly (``GET /rest/api/3/issue/{key}``),
        which says when the issue is gone."""
        self._as_read.clear()  # the page before is written
        keys = [str(i) for i in ids]
        for start in range(0, len(keys), RECONCILE_CAP):
            chunk = keys[start:start + RECONCILE_CAP]
            found = self.search_keys(chunk)
            yield from (self.parsed(found[key]) for key in chunk if key in found)
            yield from super().fetch([key for key in chunk if key not in found])

    def search_keys(self, keys: Sequence[str]) -> dict[str, Mapping[str, Any]]:
        """The issues ``keys`` (at most 50) by key, read with the fields of the pull and reconciled: the search
        index lags ("Recent updates might not be immediately visible"), and ``reconcileIssues`` is its documented
        read-after-write consistency, by issue id. So two searches: the ids (which never change, so a lagging
        index answers them right), then the issues. ``{}`` when Jira refuses the search (a key it does not
        know makes the whole JQL a 400)."""
        jql = f"key in ({', '.join(keys)})"
        try:
            ids = self.search({"jql": jql, "fields": ["id"], "maxResults": len(keys)})
        except HTTPError as exc:
            if exc.status == 400:
                return {}
            raise
        if not ids:
            return {}
        body = {"jql": jql, "fields": self.search_fields, "expand": "changelog", "maxResults": len(keys),
                "reconcileIssues": [int(issue["id"]) for issue in ids if str(issue.get("id", "")).isdigit()]}
        return {self.ticket_id(issue): issue for issue in self.search(body)}

    def search(self, body: Mapping[str, Any]) -> list[Any]:
        """The issues of one ``/search/jql`` request (no paging: ``maxResults`` covers them)."""
        return self.records(self.request("POST", self.tickets_path, idempotent=True, want_json=True, json=body).body)

    def fetch_params(self) -> dict[str, Any]:
        return {"fields": ",".join(self.search_fields), "expand": "changelog"}

    def version_of(self, issue: Mapping[str, Any]) -> str:
        """An issue's ``updated`` (in its ``fields``), the version govhall's own write produced when it is the one
        :meth:`remember_own_versions` kept."""
        return str((issue.get("fields") or {}).get("updated"))

    def read_ticket(self, issue: Mapping[str, Any], page: Mapping[str, Any]) -> dict[str, Any]:
        """All the issue's comments and changelog (the search holds the first of each; the rest are paged)."""
        key = self.ticket_id(issue)
        block = (issue.get("fields") or {}).get("comment") or {}
        comments = list(block.get("comments") or [])
        if block.get("total", len(comments)) > len(comments):
            comments = self.collect(f"/rest/api/3/issue/{key}/comment", _offset(), "comments", {"orderBy": "created"})
        updated = parse_instant((issue.get("fields") or {}).get("updated"))
        if updated is not None:
            self._as_read[key] = AsRead(str(issue.get("id")), updated, frozenset(str(c.get("id")) for c in comments))
        changelog = issue.get("changelog") or {}
        histories = list(reversed(changelog.get("histories") or []))  # embedded: newest first
        wanted = self.settings["status_events"] or self.department_field
        if wanted and not changelog_complete(changelog):
            histories = self.collect(f"/rest/api/3/issue/{key}/changelog", _offset(), "values")  # oldest first
        return {"comments": comments, "histories": histories}

    def _actor(self, user: Mapping[str, Any] | None, reporter: str | None) -> dict[str, Any] | None:
        if not user:
            return None
        uid = str(user.get("accountId"))
        kind = user.get("accountType")
        role = "applicant" if kind == "customer" or uid == reporter else "system" if kind == "app" else "staff"
        return self.mapping.actor(uid, role, user.get("displayName"))

    @staticmethod
    def internal(comment: Mapping[str, Any]) -> bool:
        """True for an internal comment (JSM: not shared with the customer): ``jsdPublic`` false, Jira's own
        word; only where it is absent, the ``sd.public.comment`` property ``{"internal": true}``."""
        if "jsdPublic" in comment:
            return comment["jsdPublic"] is False
        return any(p.get("key") == "sd.public.comment" and (p.get("value") or {}).get("internal") is True
                   for p in comment.get("properties") or [])

    def to_interchange(self, issue: Mapping[str, Any], warnings: list[str], *,
                       comments: Sequence[Mapping[str, Any]] = (),
                       histories: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
        """One Jira issue (with all its comments and changelog) as an interchange ticket dict."""
        m = self.mapping
        f = issue.get("fields") or {}
        view = {**f, "key": issue.get("key"), "id": issue.get("id")}
        view.update((name, plain(f.get(fid))) for name, fid in self.field_ids.items())
        kind = m.kind(plain(m.field(view, "kind")))
        status = f.get("status") or {}
        department = plain(m.field(view, "department")) if m.fields.get("department") else None
        assigned = f.get("assignee")
        out: dict[str, Any] = {
            "id": str(issue.get("key")),
            "kind": kind,
            "channel": m.channel(plain(path_value(view, self.settings["channel_field"])))
            if self.settings["channel_field"] else None,
            "subject": m.field(view, "subject"),
            "status": m.status(status.get("name")) or CATEGORY_STATUSES.get((status.get("statusCategory") or {}).get("key")),
            "created_at": _iso(f.get("created")),
            "department": m.department(department),
            "tags": list(f.get("labels") or []),
            "fields": {name: plain(f.get(fid)) for name, fid in self.field_ids.items()},
            "updated_at": f.get("updated"),
            "jira_id": issue.get("id"),
            "assignee": m.actor(assigned.get("accountId"), "staff", assigned.get("displayName"))
            if isinstance(assigned, dict) and assigned.get("accountId") else None,
            **m.common(view, kind),
        }
        for name in ("accepted_at", "resolved_at", "due_at"):
            if isinstance(out.get(name), str) and len(out[name]) > 10:
                out[name] = _iso(out[name])
        form_defaults(out, self.settings["forms"].get(str(plain(path_value(view, self.settings["form_field"])))))
        reporter = str((f.get("reporter") or {}).get("accountId"))
        events: list[dict[str, Any]] = []
        for c in comments:
            text = adf_text(c.get("body")).rstrip("\n")
            public = not self.internal(c)
            actor = self._actor(c.get("author"), reporter)
            if markers_in(text) and (actor or {}).get("role") != "applicant" \
                    and self.is_api_user((c.get("author") or {}).get("accountId"), "accountId"):
                actor = dict(GOVHALL_ACTOR)  # govhall's own note, internal or not: its markers count
                if public:
                    warnings.append(f"comment {c.get('id')}: govhall's note is visible to customers (make it "
                                    "internal or delete it)")
            self.add_note(events, warnings, f"comment {c.get('id')}", text=text, at=_iso(c.get("created")),
                          actor=actor, public=public, comment_id=c.get("id"))
        for h in histories:
            at, actor = _iso(h.get("created")), self._actor(h.get("author"), reporter)
            by = {"actor": actor} if actor else {}
            for item in h.get("items") or []:
                if item.get("fieldId") == "status" or item.get("field") == "status":
                    spec = self.settings["status_events"].get(str(item.get("toString")))
                    if spec is not None:
                        events.append({**(dict(spec) if isinstance(spec, dict) else {"type": spec}), "at": at, **by})
                elif self.department_field and item.get("fieldId") == self.department_field:
                    events.append({"type": "assignment", "at": at, **by,
                                   "from_department": m.department(item.get("fromString")),
                                   "to_department": m.department(item.get("toString"))})
        out["events"] = events
        return out

    # -------------------------------------------------------------- writing
    def apply(self, writes: Sequence[tuple[Ticket, Patch]]) -> list[WriteOutcome]:
        """Each issue's patch (:meth:`apply_one`), then the versions these writes produced, read back
        (:meth:`remember_own_versions`), so that the next run skips the issues nobody else changed."""
        self._notes_posted.clear()
        outcomes = super().apply(writes)
        self.remember_own_versions([ticket.id for (ticket, _), outcome in zip(writes, outcomes) if outcome.ok])
        return outcomes

    def apply_one(self, ticket: Ticket, patch: Patch) -> None:
        """Labels, fields and assignee in one edit, then every note in one internal comment."""
        edit: dict[str, Any] = {}
        labels = [{"add": t} for t in patch.add_tags] + [{"remove": t} for t in patch.remove_tags]
        if labels:
            edit["update"] = {"labels": labels}
        fields = self.custom_field_ids(patch.fields)
        if patch.assign:
            fields["assignee"] = assignee(self.settings, patch.assign)
        if fields:
            edit["fields"] = fields
        if edit:
            self.request("PUT", f"/rest/api/3/issue/{ticket.id}", json=edit)
        if patch.notes:
            self._notes_posted[ticket.id] = self._note(ticket.id, patch.combined_note())

    def _note(self, key: str, text: str) -> str:
        """One internal comment, read back from Jira's answer: a note it says customers see is an error.

        ``servicedesk``: "Create request comment", ``POST /rest/servicedeskapi/request/{issueIdOrKey}/comment``
        with ``"public": false`` (developer.atlassian.com/cloud/jira/service-desk/rest/api-group-request/), the
        documented way; its answer's ``public`` says what was saved. ``platform``: the platform API documents
        no way to make a comment internal; the ``sd.public.comment`` property is asked for and the answer's
        ``jsdPublic`` checked.
        """
        if self.settings["note_api"] == "servicedesk":
            answer = self.request("POST", f"/rest/servicedeskapi/request/{key}/comment", idempotent=False,
                                  want_json=True, json={"body": wiki_safe(text), "public": False}).body
            visible = answer.get("public") if isinstance(answer, Mapping) else None
        else:
            answer = self.request("POST", f"/rest/api/3/issue/{key}/comment", idempotent=False, want_json=True, json={
                "body": adf_doc(text), "properties": [{"key": "sd.public.comment", "value": {"internal": True}}]}).body
            visible = answer.get("jsdPublic") if isinstance(answer, Mapping) else None
        cid = answer.get("id") if isinstance(answer, Mapping) else None
        if visible is not False:
            raise AdapterError(f"comment {cid} on {key}: Jira {'saved it visible to customers' if visible else 'did not say it is internal'} "
                               "(not written again: make it internal or delete it by hand; note_api = \"servicedesk\" "
                               "is the documented way)")
        return str(cid)

    # -------------------------------------------------------------- what govhall's writes produced
    def remember_own_versions(self, keys: Sequence[str]) -> None:
        """Read back the issues just written and remember the ``updated`` each write produced
        (:meth:`remember_version`), only where nothing but govhall changed the issue since govhall read it.

        Jira's edit answers 204 without a body, so the version is read back: one search per 50 issues
        (``key in (...)`` with ``reconcileIssues``, the documented read-after-write consistency of
        ``/search/jql``), with ``updated``, the comments and the changelog, and for an issue with more comments
        than the search holds, its earlier comments by id (``POST /rest/api/3/comment/list``, up to 1000 a
        request). Only govhall's account (``GET /myself``) may have changed the issue since the ``updated``
        govhall read: each changelog entry and comment made or edited since then is its own, no comment is
        gone, no other was added, and the issue's ``updated`` is the instant of govhall's last change (so a
        change that leaves no entry but moved ``updated`` counts too). An issue that fails any of this, or whose
        read-back fails, is not remembered and is read again next run.
        """
        mine = str(self.api_user().get("accountId") or "")
        if not mine:  # whose changes are govhall's is unknown: nothing is taken for an echo
            return
        known = [key for key in keys if key in self._as_read]
        for start in range(0, len(known), RECONCILE_CAP):
            chunk = known[start:start + RECONCILE_CAP]
            try:
                checks = [self._echo_check(issue, mine) for issue in self._read_back(chunk)
                          if self.ticket_id(issue) in chunk]  # an issue moved meanwhile answers with another key
                self._check_hidden_comments([c for c in checks if c.hidden and not c.doubtful], mine)
            except (AdapterError, ValueError) as exc:
                log.warning("jira: the %d issues just written could not be read back (%s); the next run reads "
                            "them again", len(chunk), exc)
                continue
            for check in checks:
                if check.confirmed():
                    self.remember_version(check.key, check.updated)

    def _read_back(self, keys: Sequence[str]) -> list[Mapping[str, Any]]:
        """The issues ``keys`` as they are now, reconciled with the search (at most 50)."""
        ids = [int(self._as_read[key].issue_id) for key in keys]
        body = {"jql": f"key in ({', '.join(keys)})", "fields": ["updated", "comment"], "expand": "changelog",
                "maxResults": len(keys), "reconcileIssues": ids}
        return self.search(body)

    def _echo_check(self, issue: Mapping[str, Any], mine: str) -> EchoCheck:
        """What the read-back issue shows of the changes since govhall read it (see :meth:`remember_own_versions`)."""
        key = self.ticket_id(issue)
        fields = issue.get("fields") or {}
        check = EchoCheck(key, self._as_read[key], str(fields.get("updated")))
        self._check_changelog(check, issue.get("changelog") or {}, mine)
        block = fields.get("comment") or {}
        expected = set(check.read.comment_ids) | ({self._notes_posted[key]} if key in self._notes_posted else set())
        shown = block.get("comments") or []
        check.doubtful |= block.get("total") != len(expected)  # a comment added or deleted by someone else
        for comment in shown:
            self._check_comment(check, comment, expected, mine)
        check.hidden = expected - {str(c.get("id")) for c in shown}
        return check

    @staticmethod
    def _check_changelog(check: EchoCheck, changelog: Mapping[str, Any], mine: str) -> None:
        """The changelog entries made since the read: all govhall's, and all of them seen (the search embeds
        the newest 40: when each of those is newer than the read, older ones may be missing)."""
        histories = changelog.get("histories") or []
        made = [parse_instant(h.get("created")) for h in histories]
        since = [(h, at) for h, at in zip(histories, made) if at is None or at > check.read.updated]
        check.doubtful |= len(histories) >= CHANGELOG_CAP and len(since) == len(histories)
        for history, at in since:
            check.doubtful |= at is None or str((history.get("author") or {}).get("accountId")) != mine
            check.changed_at.extend([at] if at else [])

    @staticmethod
    def _check_comment(check: EchoCheck, comment: Mapping[str, Any], expected: set[str], mine: str) -> None:
        """One comment of the issue now: one govhall knew of or its own note, and, if made or edited since the
        read, made and last edited by govhall."""
        check.doubtful |= str(comment.get("id")) not in expected
        made, edited = parse_instant(comment.get("created")), parse_instant(comment.get("updated"))
        if made is None or edited is None:
            check.doubtful = True
        elif edited > check.read.updated:
            authors = {str((comment.get(who) or {}).get("accountId")) for who in ("author", "updateAuthor")}
            check.doubtful |= authors != {mine}
            check.changed_at.append(edited)

    def _check_hidden_comments(self, checks: Sequence[EchoCheck], mine: str) -> None:
        """The comments the read-back search did not show, by id ("Get comments by IDs",
        developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-comments/, at most 1000 a request):
        each still there and, if made or edited since the read, govhall's."""
        owner = {cid: check for check in checks for cid in check.hidden}
        ids = sorted(owner)
        for start in range(0, len(ids), COMMENT_IDS_CAP):
            body = self.request("POST", "/rest/api/3/comment/list", idempotent=True, want_json=True,
                                json={"ids": [int(i) for i in ids[start:start + COMMENT_IDS_CAP]]}).body
            for comment in records_at(body, "values"):
                check = owner.get(str(comment.get("id")))
                if check is not None:
                    check.hidden.discard(str(comment.get("id")))
                    self._check_comment(check, comment, {str(comment.get("id"))}, mine)


def changelog_complete(changelog: Mapping[str, Any]) -> bool:
    """Whether the changelog embedded in an issue (``expand=changelog``) is all of it.

    It is capped (40 entries in ``/search/jql``, 100 on ``GET /issue/{key}``), newest first ("a list of
    recent updates to an issue, sorted by date, starting from the most recent",
    developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/), so the oldest entries
    (an acceptance) are the ones lost, and its ``total`` is not to be trusted: only a changelog shorter
    than the search's cap, whose ``total`` it holds, is complete; any other is read from
    ``GET /rest/api/3/issue/{key}/changelog`` to its end.
    """
    found = len(changelog.get("histories") or [])
    total = changelog.get("total") if isinstance(changelog.get("total"), int) else found
    return found < CHANGELOG_CAP and total <= found


def _iso(value: Any) -> Any:
    """Jira's ``2025-01-06T09:30:00.000+0800`` as an ISO instant with a colon in the offset."""
    parsed = parse_instant(value)
    return parsed.isoformat() if parsed else value


def _offset() -> OffsetPaginator:
    return OffsetPaginator(limit=100, offset_param="startAt", limit_param="maxResults", total_key="total")


#: How a Jira Cloud admin webhook saved with a secret signs its call
#: (developer.atlassian.com/cloud/jira/platform/webhooks/, "Secure admin webhooks"):
#: ``X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, body)>`` (WebSub). The body's ``timestamp`` (the event's
#: time, ms since the epoch) is signed with it; ``X-Atlassian-Webhook-Identifier`` names the delivery and
#: stays the same across its retries.
JIRA_WEBHOOKS = WebhookFormat("jira", "X-Hub-Signature", "sha256", "hub", body_timestamp_key="timestamp",
                              delivery_id_header="X-Atlassian-Webhook-Identifier")
#: Jira retries a failed delivery (408, 409, 425, 429, 5xx, timeouts) up to 30 minutes later with the same
#: body, so the event time may be that old (community.developer.atlassian.com/t/30554).
JIRA_WEBHOOK_TOLERANCE = 1800.0


def webhook_verifier(secret: str | bytes, **kw: Any) -> WebhookVerifier:
    """The recommended check of Jira webhook calls: a :class:`~govhall_sdk.rest.webhooks.WebhookVerifier`
    (body cap, signature, the body's ``timestamp`` within ``tolerance``, default 1800 s, replay cache keyed
    by ``X-Atlassian-Webhook-Identifier`` and the signed body); keep one per endpoint. ``kw`` are the
    verifier's options. An unusable secret raises ConfigError."""
    kw.setdefault("tolerance", JIRA_WEBHOOK_TOLERANCE)
    return WebhookVerifier(secret, JIRA_WEBHOOKS, **kw)


def verify_webhook(body: bytes, header: str, secret: str | bytes, *, received_at: datetime | None = None,
                   tolerance: float = JIRA_WEBHOOK_TOLERANCE) -> bool:
    """True when a Jira Cloud admin webhook saved with ``secret`` signed ``body`` (see :data:`JIRA_WEBHOOKS`)
    and the body's ``timestamp``, where it has one, lies within ``tolerance`` seconds of ``received_at``
    (default: now). Malformed input is False. No replay cache: an endpoint uses :func:`webhook_verifier`."""
    return check_once(secret, JIRA_WEBHOOKS, body, header, received_at=received_at, tolerance=tolerance)


@hookimpl
def govhall_register_adapters(register):
    """Jira Service Management."""
    register("jira", JiraAdapter)
