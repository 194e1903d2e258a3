"""The ``redmine`` adapter: Redmine issues as govhall tickets, over Redmine's REST API.

Read ``docs/adapters/redmine.md`` for the mapping and ``examples/redmine.toml``
for a full configuration. In short:

- **pull**: ``GET /issues.json?project_id=P&status_id=*&sort=updated_on,id``
  filtered by ``updated_on>=`` the cursor, at most 100 a page, then one
  ``GET /issues/ID.json?include=journals`` per issue (the list endpoint ignores
  ``include=journals``). The walk is the core's keyset walk
  (:class:`govhall_sdk.rest.UpdatedSinceWalk`): every page re-anchors at
  the newest ``updated_on`` taken, so write-backs between pages (each bumps
  ``updated_on``) never shift it; the cursor is a :class:`~govhall_sdk.rest.SyncCursor`
  (the instant and the ids already taken in the second Redmine's ``>=`` re-lists:
  it means ``> T - 1 s``).
- **echo**: a PUT answers 204 with no body, so after a page's PUTs one
  ``GET /issues.json?issue_id=1,2,3&status_id=*&last_updated_by=ME`` reads back the
  ``updated_on`` each write left, kept in the state store (:meth:`RESTAdapter.remember_version`);
  a later pull that lists the issue at that ``updated_on`` skips it (``Page.skipped``)
  without reading it. Kept only when nothing but govhall's write can be behind it (see
  :meth:`RedmineAdapter.apply`; ``docs/adapters/redmine.md``, "Changes made while govhall writes").
- **write**: one list request by id before every 10 PUTs (an issue changed since it
  was read is not written: a conflict, read and evaluated again), then one
  ``PUT /issues/ID.json`` per ticket with the govhall custom
  fields, the full new value of the tags list field, the notes joined into one
  private note, and the assignee; nothing at all when nothing would change
  (Redmine bumps ``updated_on`` even for an empty PUT). A PUT that carries a
  note is never resent blindly (the note would appear twice): after a failure
  the issue is read, and the PUT is sent again only when its markers are missing.

- **provenance**: only a staff member's note records a staff event (an account
  with ``role = "applicant"`` in ``adapter.users`` writes replies, whatever they
  start with); a note is govhall's own only when its journal is by the API user.
- **unreadable values** (a custom field Redmine accepted but govhall cannot read,
  such as year 0 in a date field; an ``[延期]`` note with no readable working
  days) are dropped; the issue is still a ticket, and the problem, naming the
  custom field (name and id) or the journal id, travels as a warning of the
  pulled item (:class:`govhall_sdk.adapter.Pulled`) into the run summary's
  errors for that ticket, every run until fixed (exit status 1).

``govhall redmine setup`` (``adapters/redmine_setup.py``, a command-line plugin
of its own, entry point ``redmine_setup``, so that the adapter never imports the
CLI) creates the custom fields, trackers, statuses and workflows on a
Redmine the integrator administers.
"""
from __future__ import annotations

import logging
import re
import time as clock
from collections import Counter
from datetime import date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterator, Mapping, Sequence

from govhall_sdk import hookimpl
from govhall_sdk.adapter import WriteOutcome, gone
from govhall_sdk.config import ConfigError
from govhall_sdk.mapping import DEFAULT_NOTE_PREFIXES as SHARED_NOTE_PREFIXES
from govhall_sdk.mapping import DEFAULT_GROUP_VALUES, read_note
from govhall_sdk.model import CHANNELS, GROUPS, KINDS, ROLES, STATUSES, Patch, Ticket
from govhall_sdk.parse import Parsed, TicketError
from govhall_sdk.patch import written_markers
from govhall_sdk.privacy import mask_text
from govhall_sdk.rest import (
    GOVHALL_ACTOR, HTTPError, OffsetPaginator, SyncCursor, UpdatedSincePaginator, UpdatedSinceWalk, iso_utc, missing,
    parse_instant,
)

if TYPE_CHECKING:  # pragma: no cover - annotations only: importing the adapter does not import requests itself
    import requests

log = logging.getLogger("govhall.redmine")

INPUT_FIELDS = (
    "channel", "department", "lead_department", "co_departments", "applicant_name", "applicant_phone",
    "applicant_id", "applicant_birth_date", "applicant_groups", "required_materials", "promised_working_days",
)
TAGS = "tags"

DEFAULT_TRACKERS = {
    "Consultation": "consultation", "Application": "application", "Complaint": "complaint",
    "Supervision": "supervision", "Assignment": "assignment",
}
DEFAULT_STATUSES = {
    "New": "new", "Open": "open", "Pending": "pending", "Accepted": "accepted",
    "Resolved": "resolved", "Closed": "closed", "Rejected": "rejected",
}
DEFAULT_STATUS_EVENTS = {"accepted": "acceptance", "resolved": "completion", "closed": "completion", "rejected": "rejection"}
# The note prefixes every govhall adapter knows (govhall_sdk.mapping), plus a few
# shorthands; [adapter.note_prefixes] is merged over these.
DEFAULT_NOTE_PREFIXES: dict[str, Any] = {
    **SHARED_NOTE_PREFIXES,
    "[受理通知书]": {"type": "acceptance", "notice_issued": True},
    "[不予受理通知书]": {"type": "rejection", "stage": "before_acceptance", "notice_issued": True},
    "[口头告知]": {"type": "notice", "form": "oral"},
    "[批准延期]": {"type": "extension", "approved": True},
    "[acceptance]": "acceptance", "[supplement]": {"type": "notice", "form": "written"},
    "[answer]": {"type": "notice", "text": "elements"}, "[deferral]": "deferral", "[rejection]": "rejection",
    "[extension]": "extension", "[completion]": "completion",
}
# Which event field the text after a note prefix fills, by event type.
TEXT_INTO = {
    "submission": "items", "notice": "missing", "handover": "items", "deferral": "contact",
    "referral": "to_department", "assignment": "to_department", "urge": "to_department",
    "rejection": "reason", "suspension_start": "reason", "suspension_end": "reason",
    "return_visit": "result", "extension": "working_days", "evaluation": "rating", "fee": "amount",
    "proxy_request": "mode", "proxy_offer": "mode", "reply": "body",
}
SPEC_KEYS = frozenset({"type", "text", "approved"})
_SPLIT = re.compile(r"[,，、;；\n]+")
_REDMINE_TIME = "%Y-%m-%dT%H:%M:%SZ"
#: Redmine's largest page: ``limit`` above 100 is served as 100 (``api_offset_and_limit`` in Redmine's
#: ApplicationController; redmine.org/projects/redmine/wiki/Rest_api, "Collection resources and pagination").
REDMINE_MAX_LIMIT = 100
#: Writes sent after one check that their issues did not change since govhall read them (see
#: :meth:`RedmineAdapter.apply`): a person's change in the time of the PUTs before a write is not seen.
CHECK_EVERY = 10
#: Why a write was not sent: the issue's ``updated_on`` moved between govhall's read and its write.
CHANGED_SINCE_READ = "changed in Redmine since govhall read it (another updated_on): read again, not written"


def _rm_time(text: str) -> datetime:
    """A Redmine timestamp (``2025-01-24T02:00:00Z``) as an aware UTC datetime."""
    return datetime.strptime(text, _REDMINE_TIME).replace(tzinfo=timezone.utc)


def _split(value: Any) -> list[str]:
    """A list field's items: a Redmine multi-value list, or text separated by , ， 、 ; or new lines."""
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in _SPLIT.split(str(value)) if part.strip()]


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _whole(value: Any) -> int | None:
    """A whole number of days from a Redmine integer or text field (``"5"``, ``5``), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    text = str(value).strip()
    return int(text) if text.isdigit() else None


def _iso_date(value: Any) -> str | None:
    """A date field's ``YYYY-MM-DD``, else None."""
    try:
        return date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        return None


def _groups(value: Any, warnings: list[str], label: str) -> list[str]:
    """Applicant groups from a multi-value list or text (老年人 -> elderly); unknown words are reported."""
    found, unknown = [], []
    for word in _split(value):
        group = DEFAULT_GROUP_VALUES.get(word) or DEFAULT_GROUP_VALUES.get(word.lower())
        (found if group else unknown).append(group or word)
    if unknown:
        warnings.append(f"{label}: {', '.join(repr(w[:20]) for w in unknown)} is not an applicant group "
                        f"({', '.join(GROUPS)}, or 老年人, 残疾人, 孕妇, 病人, 困难群众...); ignored")
    return sorted(set(found))


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or None
    return str(value).strip()


# ---------------------------------------------------------------- the walk

class IssueWalk(UpdatedSincePaginator):
    """The core keyset walk over ``/issues.json``, plus one more page after a short one
    when govhall wrote meanwhile: its own write-backs come back at the end of the
    order, and seeing them now (as echoes) moves the cursor past them.

    :param written: the adapter's list of issue ids written so far.
    """

    def __init__(self, cursor: SyncCursor, written: list[int], **kw: Any):
        super().__init__(cursor, **kw)
        self.written = written
        self._mark = len(written)

    def init_request(self, params: dict[str, Any]) -> None:
        super().init_request(params)
        self._mark = len(self.written)

    def update_state(self, response: requests.Response, records: list[Any]) -> None:
        super().update_state(response, records)
        if records and len(self.written) > self._mark:
            self.has_next_page = True

    def update_request(self, request: dict[str, Any]) -> None:
        super().update_request(request)
        self._mark = len(self.written)


# ---------------------------------------------------------------- settings

def _event_spec(value: Any, path: str) -> dict[str, Any]:
    """A note prefix or status event: ``"type"`` or ``{type = ..., text = field, approved = bool, <fixed fields>}``."""
    if isinstance(value, str):
        value = {"type": value}
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: expected an event type or a table with `type`, got {value!r}")
    etype = value.get("type")
    if not isinstance(etype, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", etype):
        raise ConfigError(f"{path}.type: expected an event type such as \"acceptance\", got {etype!r}")
    text = value.get("text", TEXT_INTO.get(etype))
    if text is not None and not isinstance(text, str):
        raise ConfigError(f"{path}.text: expected the name of an event field, got {text!r}")
    approved = value.get("approved", False)
    if not isinstance(approved, bool):
        raise ConfigError(f"{path}.approved: expected true or false, got {approved!r}")
    fixed = {k: v for k, v in value.items() if k not in SPEC_KEYS}
    return {"type": etype, "text": text, "approved": approved, "fixed": fixed}


def _choices(raw: Mapping[str, Any], path: str, allowed: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for key, value in raw.items():
        if value not in allowed:
            raise ConfigError(f"{path}.{key}: {value!r} is not one of {', '.join(allowed)}")
        out[str(key)] = value
    return out


class RedmineAdapter(UpdatedSinceWalk):
    """Redmine issues of one project (``[adapter] type = "redmine"``).

    Settings (see ``examples/redmine.toml``): ``url``; ``api_key`` (or
    ``api_key_env``, the environment variable holding it); ``project``
    (identifier or id); ``include_subprojects``; ``start`` (the first run reads
    issues updated since then); ``trackers`` (tracker name -> kind);
    ``statuses`` (status name -> normalized status); ``status_events``
    (normalized status -> event type of a journal that changes to it);
    ``custom_fields`` (normalized name -> custom field id; ``tags`` is the
    multi-value list field holding the govhall tags); ``users`` (login or id ->
    ``{rank, department, role, name}``); ``note_prefixes`` (note prefix ->
    event). The ``trackers``, ``statuses``, ``status_events`` and
    ``note_prefixes`` tables are merged over the defaults.
    """

    name = "redmine"
    auth_header: ClassVar[str] = "X-Redmine-API-Key"
    tickets_path = "/issues.json"
    records_path = "issues"
    ticket_path = "/issues/{id}.json"
    ticket_record_path = "issue"
    version_key = "updated_on"
    size_param = "limit"
    walk = IssueWalk
    missing_ticket = "no such issue (deleted, or not visible to the API user)"
    fetch_isolated = False
    secret_settings = ("api_key",)
    settings_schema = {
        "url": None,
        "api_key": None,
        "project": None,
        "include_subprojects": True,
        "start": "2000-01-01T00:00:00Z",
        "trackers": {},
        "statuses": {},
        "status_events": {},
        "custom_fields": None,
        "users": {},
        "note_prefixes": {},
    }
    settings_types = {"custom_fields": dict, "project": str, "api_key": str}

    @classmethod
    def validate_settings(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        """The base checks, then every nested table with its key path."""
        s = super().validate_settings(raw)
        if not str(s["project"]).strip():
            raise ConfigError("adapter.project: expected a project identifier or id")
        s["project"] = str(s["project"])
        if parse_instant(s["start"]) is None:
            raise ConfigError(f"adapter.start: expected an ISO 8601 instant, got {s['start']!r}")
        s["trackers"] = {**DEFAULT_TRACKERS, **_choices(s["trackers"], "adapter.trackers", KINDS)}
        s["statuses"] = {**DEFAULT_STATUSES, **_choices(s["statuses"], "adapter.statuses", STATUSES)}
        events = {k: _event_spec(v, f"adapter.status_events.{k}") for k, v in DEFAULT_STATUS_EVENTS.items()}
        for status, spec in s["status_events"].items():
            if status not in STATUSES:
                raise ConfigError(f"adapter.status_events.{status}: not a normalized status ({', '.join(STATUSES)})")
            events[status] = _event_spec(spec, f"adapter.status_events.{status}")
        s["status_events"] = events
        fields = {}
        for name, fid in s["custom_fields"].items():
            if isinstance(fid, bool) or not isinstance(fid, int) or fid <= 0:
                raise ConfigError(f"adapter.custom_fields.{name}: expected a custom field id (a positive integer), got {fid!r}")
            fields[name] = fid
        if TAGS not in fields:
            raise ConfigError("adapter.custom_fields.tags: required: the id of the multi-value list field that holds the govhall tags")
        s["custom_fields"] = fields
        users = {}
        for key, entry in s["users"].items():
            path = f"adapter.users.{key}"
            if not isinstance(entry, dict):
                raise ConfigError(f"{path}: expected a table such as {{ rank = 1, department = \"...\" }}, got {entry!r}")
            unknown = set(entry) - {"rank", "department", "role", "name"}
            if unknown:
                raise ConfigError(f"{path}.{sorted(unknown)[0]}: unknown key (known: department, name, rank, role)")
            rank = entry.get("rank", 0)
            if isinstance(rank, bool) or not isinstance(rank, int):
                raise ConfigError(f"{path}.rank: expected an integer, got {rank!r}")
            for k in ("department", "name"):
                if k in entry and not isinstance(entry[k], str):
                    raise ConfigError(f"{path}.{k}: expected a string, got {entry[k]!r}")
            role = entry.get("role", "staff")
            if role not in ROLES:
                raise ConfigError(f"{path}.role: {role!r} is not one of {', '.join(ROLES)}")
            users[str(key)] = {"rank": rank, "department": entry.get("department"), "role": role, "name": entry.get("name")}
        s["users"] = users
        prefixes = {p.strip(): _event_spec(v, "default") for p, v in DEFAULT_NOTE_PREFIXES.items()}
        for prefix, spec in s["note_prefixes"].items():
            if not prefix.strip():
                raise ConfigError("adapter.note_prefixes: an empty prefix")
            prefixes[prefix.strip()] = _event_spec(spec, f"adapter.note_prefixes.{prefix!r}")
        # longest first, so "[受理通知书]" wins over a prefix of it
        s["note_prefixes"] = dict(sorted(prefixes.items(), key=lambda kv: -len(kv[0])))
        return s

    def __init__(self, settings: Mapping[str, Any], config: Any, **kw: Any):
        super().__init__(settings, config, **kw)
        self.tz = config.timezone
        s = self.settings
        self.trackers: dict[str, str] = s["trackers"]
        self.statuses: dict[str, str] = s["statuses"]
        self.fields: dict[str, int] = s["custom_fields"]
        self.prefixes: dict[str, dict[str, Any]] = s["note_prefixes"]
        self.stats: Counter = Counter()
        self.avoided_puts = 0
        self._me: dict[str, Any] | None = None
        self._users: dict[int, dict[str, Any]] = {}
        self._user_ids: dict[str, int] = {}
        self._logins: dict[int, str] = {}
        self._status_names: dict[int, str] = {}
        self._status_lookup_done = False
        self._written: list[int] = []
        self._read_at: dict[str, float] = {}  # issue id -> when its read with journals was sent (monotonic)
        self._put_at: dict[str, float] = {}  # issue id -> when govhall's PUT of it was answered (monotonic)

    # ---------------------------------------------------------- plumbing

    def auth_headers(self) -> dict[str, str]:
        """``X-Redmine-API-Key``; JSON both ways."""
        return {self.auth_header: str(self.settings["api_key"]), "Accept": "application/json"}

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """:meth:`RESTAdapter.request`, counted by kind for the run's figures."""
        kind = ("list" if path.startswith("/issues.json") else "issue" if path.startswith("/issues/") else "meta")
        if kind == "list" and "issue_id" in (kwargs.get("params") or {}):
            kind = "list by id"
        self.stats[f"{method.upper()} {kind}"] += 1
        return super().request(method, path, **kwargs)

    def close(self) -> None:
        """Log the run's requests, then close the session."""
        log.info("redmine: %d requests (%s); %d no-op PUTs avoided", self.requests_made,
                 ", ".join(f"{k} {v}" for k, v in sorted(self.stats.items())), self.avoided_puts)
        self.session.close()

    def _ensure_meta(self) -> None:
        """Once per adapter: who govhall is here (``/users/current.json``) and the users map's ids."""
        if self._me is not None:
            return
        me = self.request("GET", "/users/current.json", want_json=True).body["user"]
        self._me = {"id": me["id"], "login": me.get("login"), "admin": bool(me.get("admin"))}
        warn_of_mail(me)
        logins: dict[str, int] = {}
        wanted = [k for k in self.settings["users"] if not k.isdigit()]
        if me.get("login"):
            logins[me["login"]] = me["id"]
        if set(wanted) - set(logins):
            if not self._me["admin"]:
                raise ConfigError("adapter.users: logins can only be resolved with an admin API key; "
                                  "key the users by their numeric Redmine id instead")
            users = self.collect("/users.json", OffsetPaginator(limit=100), "users", {"status": ""})
            logins.update({u["login"]: u["id"] for u in users if u.get("login")})
        self._logins = {uid: login for login, uid in logins.items()}
        for key, entry in self.settings["users"].items():
            uid = int(key) if key.isdigit() else logins.get(key)
            if uid is None:
                log.warning("adapter.users.%s: no such Redmine login; ignored", key)
                continue
            self._users[uid] = {**entry, "login": self._logins.get(uid)}
            self._user_ids[key] = uid
            self._user_ids[str(uid)] = uid

    def _status_name(self, status_id: Any) -> str | None:
        """A status id from a journal detail as its name (``/issue_statuses.json`` once, only when needed)."""
        try:
            sid = int(status_id)
        except (TypeError, ValueError):
            return None
        if sid not in self._status_names and not self._status_lookup_done:
            self._status_lookup_done = True
            body = self.request("GET", "/issue_statuses.json", want_json=True).body
            self._status_names.update({s["id"]: s["name"] for s in body.get("issue_statuses", [])})
        return self._status_names.get(sid)

    def _read_issue(self, issue_id: Any) -> dict[str, Any] | None:
        """:meth:`_get_issue` for an evaluation, noting when the read was sent
        (for :meth:`_read_long_after_a_change`)."""
        self._read_at[str(issue_id)] = clock.monotonic()
        return self._get_issue(issue_id)

    def _get_issue(self, issue_id: Any) -> dict[str, Any] | None:
        """One issue with its journals, or None when it is gone (404)."""
        try:
            body = self.request("GET", f"/issues/{issue_id}.json", params={"include": "journals"}, want_json=True).body
        except HTTPError as exc:
            if exc.status == 404:
                return None
            raise
        issue = body["issue"]
        status = issue.get("status") or {}
        if "id" in status:
            self._status_names[status["id"]] = status.get("name")
        return issue

    # ---------------------------------------------------------- mapping

    def _actor(self, user: Mapping[str, Any] | None) -> dict[str, Any] | None:
        if not user or "id" not in user:
            return None
        if self._me and user["id"] == self._me["id"]:
            return dict(GOVHALL_ACTOR)
        entry = self._users.get(user["id"], {})
        actor = {"id": self._logins.get(user["id"]) or str(user["id"]), "name": entry.get("name") or user.get("name"),
                 "rank": entry.get("rank", 0), "role": entry.get("role", "staff")}
        if entry.get("department"):
            actor["department"] = entry["department"]
        return actor

    def _cf(self, cfs: Mapping[int, Any], name: str) -> Any:
        fid = self.fields.get(name)
        return cfs.get(fid) if fid is not None else None

    def _named(self, who: str) -> dict[str, Any]:
        """The actor a note names (``批准人: zhao``): a user of ``adapter.users`` by login or id, else that name."""
        uid = self.user_id(who)
        if uid is not None and (uid in self._users or uid in self._logins):
            return self._actor({"id": uid}) or {"id": who, "rank": 0, "role": "staff"}
        return {"id": who, "rank": 0, "role": "staff"}

    def _note_event(self, notes: str, public: bool, actor: dict[str, Any] | None, at: str,
                    problems: list[str]) -> dict[str, Any]:
        """A note as an event: its prefix's event when a staff member wrote it, else a reply.

        After the prefix, ``key: value`` pairs whose key is a field of the event
        (``缺件: 身份证、申请表``, see :func:`govhall_sdk.mapping.read_note`) and
        free text for the type's main field (``身份证、申请表``); the rest is the
        event's ``body``. An applicant's (or a system's) note is a reply whatever
        it starts with; so is a staff note whose event cannot be read (an
        extension with no working days), reported in ``problems``.
        """
        reply = {"type": "reply", "public": public, "body": notes}
        if actor is None or actor.get("role") != "staff":
            return reply
        stripped = notes.strip()
        folded = stripped.casefold()
        for prefix, spec in self.prefixes.items():
            if not folded.startswith(prefix.casefold()):
                continue
            event = read_note(stripped[:len(prefix)], spec, stripped[len(prefix):].strip(), problems,
                              actor=actor, actor_for=self._named)
            if event is None:
                return reply
            event.setdefault("public", public)
            event["note"] = stripped
            return event
        return reply

    def _status_event(self, status: str | None, at: str, actor: Any, reason: str | None) -> dict[str, Any] | None:
        spec = self.settings["status_events"].get(status) if status else None
        if spec is None:
            return None
        event = {"type": spec["type"], "at": at, "actor": actor, **spec["fixed"]}
        if spec["type"] == "rejection" and reason and "reason" not in event:
            event["reason"] = reason
        if spec.get("approved") and actor is not None:
            event["approved_by"] = actor
        return event

    def to_interchange(self, issue: Mapping[str, Any], warnings: list[str] | None = None) -> dict[str, Any]:
        """An issue with its journals as an interchange ticket (``tickets.md``), not yet validated.

        A value that cannot be read (a custom field, a prefixed note's field) is
        dropped and described in ``warnings``, naming the custom field or the
        journal: the rest of the issue is still a ticket.

        :raises TicketError: when the tracker or the status is not mapped.
        """
        warnings = [] if warnings is None else warnings
        iid = str(issue["id"])
        problems = []
        tracker = (issue.get("tracker") or {}).get("name")
        kind = self.trackers.get(tracker)
        if kind is None:
            problems.append(f"kind: tracker {tracker!r} is not mapped in adapter.trackers")
        status_name = (issue.get("status") or {}).get("name")
        status = self.statuses.get(status_name)
        if status is None:
            problems.append(f"status: Redmine status {status_name!r} is not mapped in adapter.statuses")
        if problems:
            raise TicketError(iid, problems)
        cfs = {c["id"]: c.get("value") for c in issue.get("custom_fields") or []}
        cf_names = {c["id"]: c.get("name") for c in issue.get("custom_fields") or []}
        journals = sorted(issue.get("journals") or [], key=lambda j: (j.get("created_on") or "", j.get("id") or 0))
        me = self._me["id"] if self._me else None
        dept_fid = self.fields.get("department")
        events: list[dict[str, Any]] = []
        initial: str | None = status  # the status the issue was created in, until a journal says otherwise
        status_changed = False
        for j in journals:
            at = j.get("created_on")
            actor = self._actor(j.get("user"))
            notes = j.get("notes") or ""
            public = not j.get("private_notes", False)
            if me is not None and (j.get("user") or {}).get("id") == me:
                if notes.strip():  # govhall's own note: back as an internal reply, markers and all
                    events.append({"type": "reply", "at": at, "actor": actor, "public": False, "body": notes,
                                   "journal": j.get("id")})
                continue
            found: list[str] = []
            note_event = self._note_event(notes, public, actor, at, found) if notes.strip() else None
            warnings.extend(f"journal {j.get('id')}: {problem}" for problem in found)
            if note_event is not None:
                note_event.update(at=at, actor=actor, journal=j.get("id"))
            details = j.get("details") or []
            dept_moved = dept_fid is not None and any(
                d.get("property") == "cf" and str(d.get("name")) == str(dept_fid) for d in details)
            for d in details:
                prop, name = d.get("property"), d.get("name")
                if prop == "attr" and name == "status_id":
                    if not status_changed:
                        status_changed = True
                        initial = self.statuses.get(self._status_name(d.get("old_value")))
                    new = self.statuses.get(self._status_name(d.get("new_value")))
                    reason = notes.strip() if note_event and note_event["type"] == "reply" else None
                    event = self._status_event(new, at, actor, reason)
                    if event and not (note_event and note_event["type"] == event["type"]):
                        event["journal"] = j.get("id")
                        events.append(event)
                elif prop == "cf" and dept_moved and str(name) == str(dept_fid):
                    # the Department field changed: the ticket moved between departments
                    events.append({"type": "assignment", "at": at, "actor": actor, "journal": j.get("id"),
                                   "from_department": _text(d.get("old_value")),
                                   "to_department": _text(d.get("new_value"))})
                elif prop == "attr" and name == "assigned_to_id" and not dept_moved:
                    # from an assignee of one department to one of another (both in adapter.users): a move too
                    old_dept = self._users.get(_int(d.get("old_value")), {}).get("department")
                    new_dept = self._users.get(_int(d.get("new_value")), {}).get("department")
                    if old_dept and new_dept and old_dept != new_dept:
                        events.append({"type": "assignment", "at": at, "actor": actor, "journal": j.get("id"),
                                       "from_department": old_dept, "to_department": new_dept})
            if note_event is not None:
                events.append(note_event)
        # The status the issue was created in (before any journal changed it) may itself be an event.
        created = self._status_event(initial, issue["created_on"], self._actor(issue.get("author")), None)
        if created:
            events.insert(0, created)

        def first(etype: str) -> str | None:
            return next((e["at"] for e in events if e["type"] == etype), None)

        resolved_at = None
        if status in ("resolved", "closed"):
            completions = [e["at"] for e in events if e["type"] == "completion"]
            resolved_at = issue.get("closed_on") or (completions[-1] if completions else None)
        due_at = None
        if issue.get("due_date"):
            try:
                due_at = datetime.combine(date.fromisoformat(issue["due_date"]), time(23, 59, 59), self.tz).isoformat()
            except ValueError:
                due_at = issue["due_date"]  # reported by the parser with its path
        assignee = issue.get("assigned_to") or {}
        department = _text(self._cf(cfs, "department"))
        if department is None and assignee.get("id") in self._users:
            department = self._users[assignee["id"]].get("department")
        def read(name: str, reader: Callable[[Any], Any], expected: str, quote: bool = True) -> Any:
            """A custom field's value; one that cannot be read is dropped and reported by the field's name and id."""
            fid = self.fields.get(name)
            raw = cfs.get(fid) if fid is not None else None
            if raw is None or raw == "" or raw == []:
                return None
            value = reader(raw)
            if value is None:
                shown = f"{mask_text(str(raw))[:40]!r} " if quote else "the value "  # masked, then cut
                warnings.append(f"custom field {cf_names.get(fid) or name!r} (id {fid}): {shown}is not {expected}; "
                                "ignored")
            return value

        groups = read("applicant_groups", lambda v: _groups(v, warnings, self._cf_label(cf_names, "applicant_groups")),
                      "a list of applicant groups")
        applicant = {k: v for k, v in {
            "name": _text(self._cf(cfs, "applicant_name")),
            "phone": _text(self._cf(cfs, "applicant_phone")),
            "id": _text(self._cf(cfs, "applicant_id")),
            "birth_date": read("applicant_birth_date", _iso_date, "a date (YYYY-MM-DD)", quote=False),
            "groups": groups or None,
        }.items() if v is not None}
        tags = cfs.get(self.fields[TAGS])
        fields = {name: cfs.get(fid) for name, fid in self.fields.items() if name != TAGS and name not in INPUT_FIELDS}
        return {
            "id": iid,
            "kind": kind,
            "channel": read("channel", lambda v: _text(v) if _text(v) in CHANNELS else None,
                            f"one of {', '.join(CHANNELS)}"),
            "subject": issue.get("subject"),
            "status": status,
            "created_at": issue.get("created_on"),
            "accepted_at": first("acceptance"),
            "resolved_at": resolved_at,
            "promised_working_days": read("promised_working_days", _whole, "a whole number of working days"),
            "assignee": self._actor(issue.get("assigned_to")),
            "due_at": due_at,
            "department": department,
            "co_departments": _split(self._cf(cfs, "co_departments")),
            "lead_department": _text(self._cf(cfs, "lead_department")),
            "applicant": applicant,
            "materials": {"required": _split(self._cf(cfs, "required_materials"))},
            "tags": _split(tags),
            "fields": fields,
            "events": events,
            "redmine": {
                "updated_on": issue.get("updated_on"),
                "assigned_to_id": assignee.get("id"),
                "project": (issue.get("project") or {}).get("id"),
                "custom_field_ids": sorted(cfs),
            },
        }

    def interchange_zone(self) -> Any:
        return timezone.utc  # Redmine's instants are UTC with a Z

    def _cf_label(self, cf_names: Mapping[int, Any], name: str) -> str:
        fid = self.fields.get(name)
        return f"custom field {cf_names.get(fid) or name!r} (id {fid})"

    # ---------------------------------------------------------- adapter API

    def list_params(self, cursor: str | None, page_size: int) -> dict[str, Any]:
        params: dict[str, Any] = {"project_id": self.settings["project"], "status_id": "*", "sort": "updated_on,id"}
        if not self.settings["include_subprojects"]:
            params["subproject_id"] = "!*"
        return params

    @staticmethod
    def set_since(params: dict[str, Any], since: datetime) -> None:
        """Redmine's ``updated_on>=T`` means ``> T - 1 s``: ask for ``>= since + 1 s`` to get ``> since``."""
        params["updated_on"] = ">=" + iso_utc(since + timedelta(seconds=1))

    def per_page(self, page_size: int) -> int:
        return max(1, min(page_size, REDMINE_MAX_LIMIT))

    def new_paginator(self, cursor: str | None, page_size: int, **extra: Any) -> UpdatedSincePaginator:
        return super().new_paginator(cursor, page_size, written=self._written)

    def pull(self, cursor: str | None, page_size: int = 100) -> Iterator[Any]:
        """Issues updated since ``cursor``, oldest first; govhall's own echoes counted in ``skipped``."""
        self._ensure_meta()
        yield from super().pull(cursor, page_size)

    def page_items(self, records: Sequence[Mapping[str, Any]], page: Any) -> tuple[list[Parsed], int]:
        """Each issue of the page read with its journals (the list has none), unless the list shows it at the
        version govhall's own write left (:meth:`RESTAdapter.is_echo`, kept by :meth:`apply`); other
        trackers' issues are left out."""
        items: list[Parsed] = []
        skipped = 0
        for record in records:
            if (record.get("tracker") or {}).get("name") not in self.trackers:
                continue  # another tracker in the same project: not a govhall ticket
            if self.is_echo(record):
                skipped += 1
                continue
            self.forget_version(str(record["id"]))
            try:
                issue = self._read_issue(record["id"])
            except HTTPError as exc:  # this issue's error, not the page's: the others are still written
                items.append(missing(str(record["id"]), f"ticket: cannot be read: {exc}"))
                continue
            if issue is not None:
                items.append(self.parsed(issue))
        return items, skipped

    def fetch(self, ids: Sequence[str]) -> Iterator[Parsed]:
        """The issues with these ids, one request each; a missing one is an error."""
        self._ensure_meta()
        for tid in map(str, ids):
            if not tid.isdigit():
                yield missing(tid, "id: not a Redmine issue id")
                continue
            issue = self._read_issue(tid)
            yield gone(tid, self.missing_ticket) if issue is None else self.parsed(issue)

    def user_id(self, who: str | None) -> int | None:
        """A Redmine user id for a login or id named in ``adapter.users`` (or any numeric id)."""
        if not who:
            return None
        if who in self._user_ids:
            return self._user_ids[who]
        by_login = {login: uid for uid, login in self._logins.items()}
        if who in by_login:
            return by_login[who]
        return int(who) if str(who).isdigit() else None

    def build_update(self, ticket: Ticket, patch: Patch) -> dict[str, Any]:
        """The ``issue`` body of the PUT for a patch: only what differs from the issue now (``{}``: nothing)."""
        rm = ticket.extra.get("redmine") or {}
        enabled = set(rm.get("custom_field_ids") or [])
        body: dict[str, Any] = {}
        cfs: list[dict[str, Any]] = []
        tag_fid = self.fields[TAGS]
        current = list(ticket.tags)
        wanted = [t for t in current if t not in patch.remove_tags]
        wanted += [t for t in patch.add_tags if t not in wanted]
        if set(wanted) != set(current):
            if enabled and tag_fid not in enabled:
                log.warning("issue %s: the tags field %s is not enabled for its project or tracker; tags not written",
                            ticket.id, tag_fid)
            else:
                cfs.append({"id": tag_fid, "value": wanted})
        for name, value in patch.fields.items():
            fid = self.fields.get(name)
            if fid is None or (enabled and fid not in enabled):
                log.debug("issue %s: field %s has no enabled custom field; not written", ticket.id, name)
                continue
            want = "" if value is None else str(value)
            have = ticket.fields.get(name)
            if want != ("" if have is None else str(have)):
                cfs.append({"id": fid, "value": want})
        if cfs:
            body["custom_fields"] = cfs
        # a marker counts as written only in an internal note not by the applicant (the engine's rule: an
        # applicant who pastes "[govhall:...]" into a reply must not keep govhall's own note from being written)
        notes = patch.combined_note(written_markers(ticket))
        if notes:
            body["notes"] = notes
            body["private_notes"] = True
        if patch.assign:
            uid = self.user_id(patch.assign)
            if uid is None:
                log.warning("issue %s: cannot assign to %r: not a Redmine user id or a login in adapter.users",
                            ticket.id, patch.assign)
            elif uid != rm.get("assigned_to_id"):
                body["assigned_to_id"] = uid
        return body

    def apply_one(self, ticket: Ticket, patch: Patch) -> None:
        """One PUT with every change, or none when nothing would change."""
        self._ensure_meta()
        body = self.build_update(ticket, patch)
        if not body:
            self.avoided_puts += 1
            return
        path = f"/issues/{ticket.id}.json"
        if "notes" not in body:  # fields and assignee only: idempotent, the retry policy applies
            self.request("PUT", path, json={"issue": body})
        else:
            markers = [n.marker for n in patch.notes if n.marker in body["notes"]]
            self._put_with_note(ticket.id, path, body, markers)
        self._put_at[ticket.id] = clock.monotonic()
        self._written.append(int(ticket.id))

    def apply(self, writes: Sequence[tuple[Ticket, Patch]]) -> list[WriteOutcome]:
        """A page's PUTs (:meth:`apply_one`), each ``CHECK_EVERY`` of them after a read of the issue list by id,
        and one read of the list by id after them all.

        Before: an issue that needs a PUT and whose ``updated_on`` moved since govhall read it is not written;
        its outcome is a conflict, so ``govhall run`` reads and evaluates it again (Redmine's REST API has no
        conditional update: a PUT overwrites whatever changed meanwhile). After: the version each write left is
        kept (:meth:`_remember_writes`), so the next pull knows govhall's echo from the list alone.
        """
        self._ensure_meta()
        outcomes: dict[str, WriteOutcome] = {}
        mark = len(self._written)
        for start in range(0, len(writes), CHECK_EVERY):
            outcomes.update(self._apply_checked(writes[start:start + CHECK_EVERY]))
        self._remember_writes({t.id: t for t, _ in writes}, [str(i) for i in self._written[mark:]])
        return [outcomes.get(t.id) or WriteOutcome(t.id, False, CHANGED_SINCE_READ, conflict=True) for t, _ in writes]

    def _apply_checked(self, writes: Sequence[tuple[Ticket, Patch]]) -> dict[str, WriteOutcome]:
        """The outcomes of the writes of issues not changed since govhall read them (checked in one request)."""
        try:
            changed = self._changed_since_read([ticket for ticket, patch in writes if self.build_update(ticket, patch)])
        except HTTPError as exc:  # not checked, not written: each is tried again at the next run
            return {ticket.id: WriteOutcome(ticket.id, False, f"HTTPError: {exc}") for ticket, _ in writes}
        return {o.ticket_id: o for o in super().apply([(t, p) for t, p in writes if t.id not in changed])}

    def _listed_versions(self, ids: Sequence[str], **filters: Any) -> dict[str, str]:
        """``updated_on`` by issue id as the issue list shows them, ``filters`` applied: one request per 100 ids
        (the list's ``issue_id`` filter takes ids separated by commas, redmine.org/projects/redmine/wiki/Rest_Issues,
        "Listing issues"; ``status_id=*``: closed issues too)."""
        versions: dict[str, str] = {}
        for start in range(0, len(ids), REDMINE_MAX_LIMIT):
            chunk = ids[start:start + REDMINE_MAX_LIMIT]
            body = self.get_json(self.tickets_path, issue_id=",".join(chunk), status_id="*", limit=len(chunk),
                                 **filters)
            versions.update({str(r["id"]): str(r["updated_on"]) for r in self.records(body)})
        return versions

    def _changed_since_read(self, tickets: Sequence[Ticket]) -> set[str]:
        """The ids of the issues whose ``updated_on`` is no longer the one govhall read."""
        read = {t.id: str((t.extra.get("redmine") or {}).get("updated_on")) for t in tickets}
        if not read:
            return set()
        return {tid for tid, version in self._listed_versions(list(read)).items() if version != read[tid]}

    def _remember_writes(self, tickets: Mapping[str, Ticket], written: Sequence[str]) -> None:
        """Keep the ``updated_on`` govhall's writes left (:meth:`RESTAdapter.remember_version`), read back with
        one list request per 100 issues, for the issues that certainly changed by govhall's write alone.

        Only issues whose last journal is govhall's are listed (the ``last_updated_by`` filter of Redmine 3.4+,
        Feature #17720: the user of the issue's newest journal), so a person's journal after the write is read
        next run. The read-back waits until a second has passed since the last PUT: a person's later change
        then has another ``updated_on`` (Redmine shows whole seconds). A failed read-back keeps nothing: those
        echoes are read.
        """
        if not written:
            return
        self.sleep(max(0.0, 1.0 - (clock.monotonic() - max(self._put_at[tid] for tid in written))))
        try:
            versions = self._listed_versions(list(written), last_updated_by=self._me["id"])
        except HTTPError as exc:
            log.info("redmine: the versions govhall's writes left could not be read back (%s); read next run", exc)
            return
        for tid, version in versions.items():
            if self._read_long_after_a_change(tickets[tid], version):
                self.remember_version(tid, version)

    def _read_long_after_a_change(self, ticket: Ticket, written_version: str) -> bool:
        """Whether govhall read the issue at least a second after its last change before the read, bounded from
        the issue's ``updated_on`` before and after the write and the time between the read and the PUT's
        answer: a person's change in the second of the old ``updated_on``, after the read, would show the same
        ``updated_on`` to :meth:`_changed_since_read`. When it cannot be told, nothing is kept (read again)."""
        read_version = (ticket.extra.get("redmine") or {}).get("updated_on")
        read_at, put_at = self._read_at.get(ticket.id), self._put_at.get(ticket.id)
        if not read_version or read_at is None or put_at is None:
            return False
        lead = (_rm_time(written_version) - _rm_time(str(read_version))).total_seconds()
        return lead >= 1.0 + (put_at - read_at)

    def _put_with_note(self, issue_id: str, path: str, body: dict[str, Any], markers: list[str]) -> None:
        """A PUT that posts a note is never resent blindly (the note would appear twice).

        After a 5xx or a network error it reads the issue: Redmine saves the note
        and the fields in one transaction, so when the note's markers are there the
        whole PUT landed; otherwise it is sent again, within the retry policy's attempts.
        """
        for attempt in range(1, self.retry.attempts + 1):
            try:
                self.request("PUT", path, json={"issue": body}, idempotent=False)
                return
            except HTTPError as exc:
                if not exc.retryable or attempt == self.retry.attempts:
                    raise
                self.stats["PUT failed, checked"] += 1
                self.sleep(min(self.retry.max_wait, self.retry.base * 2 ** (attempt - 1)))
                issue = self._get_issue(issue_id)
                if issue is None:
                    raise
                mine = "\n".join(j.get("notes") or "" for j in issue.get("journals") or []
                                  if (j.get("user") or {}).get("id") == self._me["id"])
                if markers and all(m in mine for m in markers):
                    log.info("issue %s: the note landed despite %s", issue_id, exc)
                    return


def warn_of_mail(me: Mapping[str, Any]) -> None:
    """Warn, once per adapter, when the account govhall writes with would get Redmine's notification mail.

    Redmine shows a user's ``mail_notification`` (``all``, ``selected``, ``only_my_events``,
    ``only_assigned``, ``only_owner``, ``none``; redmine.org/projects/redmine/wiki/RedmineAccounts,
    "Mail notifications") and ``no_self_notified`` only where its API does (Redmine 5's
    ``/users/current.json`` and ``/my/account.json`` do not): where it is not shown, nothing is said
    here and ``docs/adapters/redmine.md`` says how to set it. The mail Redmine sends *other* users
    about govhall's journals is the administrator's setting (Administration, Settings, Email
    notifications), which the REST API does not show.
    """
    mode = me.get("mail_notification") or (me.get("preferences") or {}).get("mail_notification")
    if mode is not None and mode != "none":
        log.warning("redmine: the account govhall writes with (%s) has mail notifications %r: every journal "
                    "it writes may mail it; set them to 'No events' (docs/adapters/redmine.md, \"Notification mail\")",
                    me.get("login"), mode)


@hookimpl
def govhall_register_adapters(register):
    """Redmine (REST API)."""
    register("redmine", RedmineAdapter)

