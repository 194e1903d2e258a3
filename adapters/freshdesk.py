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

The first part of this module is shared with the Zammad adapter (the keyset
paginator over an updated-at filter, and the mapping of a helpdesk's types,
groups, users, fields and note prefixes to the interchange format).
"""
from __future__ import annotations

import base64
import html
import json
import re
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any, Callable, ClassVar, Iterator, Mapping, Sequence

from govhall_sdk import hookimpl
from govhall_sdk.adapter import Adapter, Page
from govhall_sdk.config import ConfigError, check_value
from govhall_sdk.http import HTTPError, RESTAdapter, iso_utc
from govhall_sdk.model import CHANNELS, EVENT_CLASSES, GROUPS, KINDS, ROLES, STATUSES, Patch, Ticket
from govhall_sdk.paginators import LinkHeaderPaginator, PaginationLoop, Paginator
from govhall_sdk.parse import Parsed, TicketError, ticket_from_dict

# ===================================================================== shared

GOVHALL_MARK = "[govhall:"


def parse_instant(value: Any) -> datetime | None:
    """An aware datetime from an ISO 8601 string (``Z`` allowed), or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


class SyncCursor:
    """Where an updated-at walk stands: ``since`` and the ``{id: updated_at}`` seen at or after it.

    Serialised as compact JSON. A plain instant or date (``govhall run --since
    2025-01-01``) is accepted too; a naive one is read in ``tz``.
    """

    def __init__(self, since: datetime, seen: dict[str, str] | None = None):
        self.since, self.seen = since, dict(seen or {})

    @classmethod
    def parse(cls, text: str | None, default: datetime, tz: tzinfo) -> "SyncCursor":
        if not text:
            return cls(default)
        try:
            if text.lstrip().startswith("{"):
                data = json.loads(text)
                since = datetime.fromisoformat(data["since"])
                seen = {str(k): str(v) for k, v in (data.get("seen") or {}).items()}
            else:
                since, seen = datetime.fromisoformat(text.strip()), {}
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ValueError(f"sync cursor {text[:60]!r} is neither an instant nor a govhall cursor") from None
        return cls(since if since.tzinfo else since.replace(tzinfo=tz), seen)

    def dump(self) -> str:
        return json.dumps({"since": self.since.isoformat(), "seen": self.seen}, separators=(",", ":"), sort_keys=True)


class UpdatedSincePaginator(Paginator):
    """Keyset paging over an "updated since" filter ordered by ``updated_at`` ascending.

    After each page the filter is re-anchored at the newest ``updated_at`` taken
    (minus ``slack``, the timestamp resolution, so an inclusive or an exclusive
    filter both work) and the page number goes back to 1. Records already taken
    with the same ``updated_at`` are dropped (the boundary). Only a page made
    entirely of records already taken (more ties at one instant than a page holds)
    moves on to the next page number at the same anchor; ``max_page`` is the
    platform's cap on that number.

    Call :meth:`take` on each page's records before using them; :attr:`cursor`
    is then the cursor to store once they are written. ``settle`` keeps the stored
    cursor that many seconds behind ``now`` (for search indexes that lag behind
    the database); the walk itself is not held back.
    """

    def __init__(self, cursor: SyncCursor, *, per_page: int, set_since: Callable[[dict[str, Any], datetime], None],
                 key: Callable[[Any], tuple[str, str]], slack: float = 1.0, settle: float = 0.0,
                 now: datetime | None = None, page_param: str = "page", size_param: str = "per_page",
                 max_page: int | None = None, **kw: Any):
        super().__init__(**kw)
        self.per_page, self.set_since, self.key = per_page, set_since, key
        self.slack, self.settle, self.now = timedelta(seconds=slack), timedelta(seconds=settle), now
        self.page_param, self.size_param, self.max_page = page_param, size_param, max_page
        self.anchor = self.start = cursor.since
        self.seen = dict(cursor.seen)
        self.page = 1
        self.taken = 0
        self._token: tuple[Any, ...] = ()

    def _set(self, params: dict[str, Any]) -> None:
        if self.max_page is not None and self.page > self.max_page:
            raise PaginationLoop(f"more than {self.per_page * self.max_page} records share updated_at "
                                 f"{self.anchor.isoformat()}; the platform pages no further than {self.max_page}")
        since = self.anchor - self.slack
        self.set_since(params, since)
        params[self.page_param], params[self.size_param] = self.page, self.per_page
        self._token = (since.isoformat(), self.page, self.taken)

    def init_request(self, params: dict[str, Any]) -> None:
        self._set(params)

    def take(self, records: Sequence[Any]) -> list[Any]:
        """The records not taken before; advances the anchor and the page number."""
        fresh = []
        for record in records:
            rid, at = self.key(record)
            if self.seen.get(rid) == at:
                continue
            fresh.append(record)
            self.seen[rid] = at
            when = parse_instant(at)
            if when is not None and when > self.anchor:
                self.anchor = when
        self.taken += len(fresh)
        self.page = 1 if fresh else self.page + 1
        floor = min(self.anchor, self._held()) - self.slack
        self.seen = {k: v for k, v in self.seen.items() if (parse_instant(v) or floor) >= floor}
        return fresh

    def _held(self) -> datetime:
        if self.now is None or not self.settle:
            return self.anchor
        hold = self.now - self.settle
        return self.anchor if hold <= self.start else min(self.anchor, hold)  # a past ``now`` holds nothing

    @property
    def cursor(self) -> str:
        """The cursor that resumes after every record taken so far."""
        since = self._held()
        floor = since - self.slack
        return SyncCursor(since, {k: v for k, v in self.seen.items() if (parse_instant(v) or floor) >= floor}).dump()

    def update_state(self, response: Any, records: list[Any]) -> None:
        self._guard(self._token)
        self.has_next_page = len(records) >= self.per_page

    def update_request(self, request: dict[str, Any]) -> None:
        self._set(request["params"])


# ------------------------------------------------------------ mapping config

#: Words a helpdesk uses for a ticket's type, and the normalized kind.
DEFAULT_KINDS = {
    **{k: k for k in KINDS},
    "咨询": "consultation", "申请": "application", "办件": "application", "登记": "application",
    "许可": "application", "投诉": "complaint", "举报": "complaint", "申诉": "complaint",
    "求助": "complaint", "信访": "complaint", "热线": "complaint", "督办": "supervision",
    "交办": "assignment", "批办": "assignment", "转办": "assignment",
}
#: Values of an applicant-groups field, and the normalized group.
DEFAULT_GROUP_VALUES = {
    **{g: g for g in GROUPS},
    "老年人": "elderly", "老人": "elderly", "残疾人": "disabled", "孕妇": "pregnant", "孕期": "pregnant",
    "病人": "sick", "患病": "sick", "伤病": "sick", "弱势群体": "weak", "困难群众": "weak",
}
#: Note prefixes (a note or reply starting with one) and the event it records.
DEFAULT_NOTE_PREFIXES: dict[str, Any] = {
    "[受理]": "acceptance",
    "[不予受理]": {"type": "rejection", "stage": "before_acceptance"},
    "[不予登记]": {"type": "rejection", "stage": "after_acceptance"},
    "[补正告知]": {"type": "notice", "form": "written"},
    "[一次性告知]": {"type": "notice", "form": "written"},
    "[答复要素]": "notice",
    "[暂缓答复]": "deferral",
    "[转办]": "assignment",
    "[引导]": "referral",
    "[延期]": "extension",
    "[中止]": "suspension_start",
    "[恢复]": "suspension_end",
    "[督促]": "urge",
    "[结果报告]": "result_report",
    "[帮办]": {"type": "proxy_request", "mode": "help"},
    "[代办]": {"type": "proxy_request", "mode": "proxy"},
    "[上门办]": {"type": "proxy_request", "mode": "home"},
    "[帮办告知]": "proxy_offer",
    "[交接]": "handover",
    "[收件]": "submission",
    "[收费]": "fee",
    "[评价]": "evaluation",
    "[回访]": "return_visit",
    "[办结]": "completion",
}
#: Normalized fields an adapter reads from a helpdesk field (``[adapter.fields]``).
FIELD_KEYS = (
    "kind", "subject", "department", "applicant_id", "applicant_name", "applicant_phone",
    "applicant_birth_date", "applicant_groups", "materials", "promised_working_days", "due_at",
    "accepted_at", "resolved_at", "lead_department", "co_departments",
)
_AGENT_KEYS = {"name": str, "rank": int, "department": str, "role": str}

# Note fields: "key: value" pairs after the prefix, separated by new lines or semicolons.
_PAIR = re.compile(r"\s*([^:：=;；\n]+?)\s*[:：=]\s*([^;；\n]*)")
_SPLIT = re.compile(r"\s*[,，、;；/]\s*")
_KEY_ALIASES = {
    "缺件": "missing", "缺少材料": "missing", "需补正": "missing", "要素": "elements", "方式": "form",
    "形式": "form", "联系方式": "contact", "转至": "to_department", "接收部门": "to_department",
    "原部门": "from_department", "部门": "to_department", "经办人": "to_staff", "地点": "location",
    "电话": "phone", "通知书": "notice_issued", "原因": "reason", "理由": "reason", "依据": "legal_basis",
    "法律依据": "legal_basis", "工作日": "working_days", "天数": "working_days", "批准人": "approved_by",
    "材料": "items", "金额": "amount", "法定收费": "legally_required", "评分": "rating", "满意度": "rating",
    "结果": "result", "代办员": "agent", "帮办员": "agent", "模式": "mode",
}
_VALUE_ALIASES = {
    "form": {"口头": "oral", "书面": "written", "公开": "public", "公示": "public"},
    "mode": {"帮办": "help", "代办": "proxy", "上门": "home", "上门办": "home", "协助": "assisted", "协助办": "assisted"},
    "stage": {"受理前": "before_acceptance", "受理后": "after_acceptance"},
    "elements": {"依据": "basis", "条件": "conditions", "材料": "materials", "程序": "procedure",
                 "流程": "procedure", "时限": "time_limit"},
}
_LIST_FIELDS = {"missing", "elements", "items"}
_INT_FIELDS = {"working_days", "rating"}
_BOOL_FIELDS = {"notice_issued", "legally_required"}
_ACTOR_FIELDS = {"approved_by", "agent"}
_TRUE = {"true", "yes", "1", "是", "有", "已", "已出具", "已发放"}
_FALSE = {"false", "no", "0", "否", "无", "未", "未出具"}
_TAG = re.compile(r"<[^>]+>")
_BREAK = re.compile(r"<\s*(br|/p|/div|/li)\s*/?>", re.I)


def html_text(value: str) -> str:
    """Plain text of an HTML body: tags dropped, line breaks kept, entities decoded."""
    return html.unescape(_TAG.sub("", _BREAK.sub("\n", value))).strip()


def check_mapping(settings: dict[str, Any], kind_words: Mapping[str, str] = DEFAULT_KINDS) -> None:
    """Validate the mapping tables of an adapter section; raise ConfigError naming the key path."""
    def choice(table: str, allowed: Sequence[str]) -> None:
        for key, value in settings.get(table, {}).items():
            if value not in allowed:
                raise ConfigError(f"adapter.{table}.{key}: {value!r} is not one of {', '.join(allowed)}")

    choice("kinds", KINDS)
    choice("channels", CHANNELS)
    choice("statuses", STATUSES)
    choice("applicant_groups", GROUPS)
    if settings.get("default_kind") not in KINDS:
        raise ConfigError(f"adapter.default_kind: {settings.get('default_kind')!r} is not one of {', '.join(KINDS)}")
    for kind in settings.get("due_at_kinds", []):
        if kind not in KINDS:
            raise ConfigError(f"adapter.due_at_kinds: {kind!r} is not one of {', '.join(KINDS)}")
    for key, value in settings.get("departments", {}).items():
        check_value(value, str, f"adapter.departments.{key}")
    for key, value in settings.get("fields", {}).items():
        if key not in FIELD_KEYS:
            raise ConfigError(f"adapter.fields.{key}: unknown field (known: {', '.join(FIELD_KEYS)})")
        check_value(value, str, f"adapter.fields.{key}")
    for who, table in settings.get("agents", {}).items():
        path = f"adapter.agents.{who}"
        check_value(table, dict, path)
        for key, value in table.items():
            if key not in _AGENT_KEYS:
                raise ConfigError(f"{path}.{key}: unknown key (known: {', '.join(sorted(_AGENT_KEYS))})")
            check_value(value, _AGENT_KEYS[key], f"{path}.{key}")
        if table.get("role", "staff") not in ROLES:
            raise ConfigError(f"{path}.role: {table['role']!r} is not one of {', '.join(ROLES)}")
    for prefix, value in settings.get("note_prefixes", {}).items():
        path = f"adapter.note_prefixes.{prefix}"
        etype = value.get("type") if isinstance(value, dict) else value
        if etype not in EVENT_CLASSES:
            raise ConfigError(f"{path}: {etype!r} is not an event type (known: {', '.join(EVENT_CLASSES)})")
    for target, table in settings.get("assignees", {}).items():
        check_value(table, dict, f"adapter.assignees.{target}")


MAPPING_SCHEMA: dict[str, Any] = {
    "start": "2000-01-01T00:00:00Z",
    "per_page": 100,
    "settle_seconds": 0.0,
    "verify_tls": True,
    "default_kind": "consultation",
    "kinds": {},
    "channels": {},
    "statuses": {},
    "departments": {},
    "agents": {},
    "fields": {},
    "due_at_kinds": ["supervision", "assignment"],
    "note_prefixes": {},
    "applicant_groups": {},
    "assignees": {},
}
MAPPING_TYPES: dict[str, Any] = {"due_at_kinds": [str], "settle_seconds": float}


class HelpdeskMapping:
    """Maps one helpdesk's values to the interchange format, from the adapter's settings.

    Tables in the settings are merged over the adapter's defaults, so a config
    names only what differs.
    """

    def __init__(self, settings: Mapping[str, Any], tz: tzinfo, *, channels: Mapping[str, str],
                 statuses: Mapping[str, str], fields: Mapping[str, str]):
        self.tz = tz
        self.kinds = {**DEFAULT_KINDS, **settings["kinds"]}
        self.default_kind = settings["default_kind"]
        self.channels = {**channels, **settings["channels"]}
        self.statuses = {**statuses, **settings["statuses"]}
        self.departments = dict(settings["departments"])
        self.agents = {str(k): v for k, v in settings["agents"].items()}
        self.fields = {**fields, **settings["fields"]}
        self.due_at_kinds = set(settings["due_at_kinds"])
        prefixes = {**DEFAULT_NOTE_PREFIXES, **settings["note_prefixes"]}
        self.prefixes = sorted(((p, v if isinstance(v, dict) else {"type": v}) for p, v in prefixes.items()),
                               key=lambda item: -len(item[0]))
        self.group_values = {**DEFAULT_GROUP_VALUES, **settings["applicant_groups"]}

    # -- values
    def field(self, view: Mapping[str, Any], name: str) -> Any:
        """The value at the configured path(s) of ``name`` (``a.b``; alternatives with ``|``)."""
        spec = self.fields.get(name) or ""
        for path in filter(None, (p.strip() for p in spec.split("|"))):
            value: Any = view
            for part in path.split("."):
                value = value.get(part) if isinstance(value, Mapping) else None
            if value not in (None, "", []):
                return value
        return None

    def kind(self, value: Any) -> str:
        return self.kinds.get(str(value).strip(), self.default_kind) if value not in (None, "") else self.default_kind

    def channel(self, value: Any) -> str | None:
        return self.channels.get(str(value)) if value is not None else None

    def status(self, value: Any) -> str | None:
        return self.statuses.get(str(value)) if value is not None else None

    def department(self, value: Any) -> str | None:
        if value in (None, ""):
            return None
        return self.departments.get(str(value), str(value))

    def actor(self, key: Any, role: str = "staff", name: str | None = None) -> dict[str, Any]:
        conf = self.agents.get(str(key), {})
        out = {"id": str(key), "role": conf.get("role", role), "rank": conf.get("rank", 0)}
        if conf.get("name") or name:
            out["name"] = conf.get("name") or name
        if conf.get("department"):
            out["department"] = conf["department"]
        return out

    def strings(self, value: Any) -> list[str]:
        if value in (None, ""):
            return []
        items = value if isinstance(value, list) else _SPLIT.split(str(value))
        return [str(v).strip() for v in items if str(v).strip()]

    def groups(self, value: Any) -> list[str]:
        found = [self.group_values.get(v) for v in self.strings(value)]
        return sorted({g for g in found if g})

    def instant(self, value: Any, end_of_day: bool = False) -> Any:
        """An ISO instant string; a date-only value becomes that day's start (or end) in the policy zone."""
        if isinstance(value, str) and len(value) == 10:
            try:
                day = date.fromisoformat(value)
            except ValueError:
                return value
            return datetime.combine(day, time(23, 59, 59) if end_of_day else time(0), self.tz).isoformat()
        return value

    @staticmethod
    def integer(value: Any) -> Any:
        if isinstance(value, str) and value.strip().isdigit():
            return int(value.strip())
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value

    # -- the parts of a ticket that read configured fields
    def common(self, view: Mapping[str, Any], kind: str) -> dict[str, Any]:
        """``applicant``, ``materials``, ``promised_working_days``, deadlines and departments."""
        out: dict[str, Any] = {}
        applicant = {
            "id": self.field(view, "applicant_id"),
            "name": self.field(view, "applicant_name"),
            "phone": self.field(view, "applicant_phone"),
            "birth_date": (str(self.field(view, "applicant_birth_date") or "")[:10] or None),
            "groups": self.groups(self.field(view, "applicant_groups")),
        }
        applicant = {k: (str(v) if k in ("id", "phone", "name") and v is not None else v)
                     for k, v in applicant.items() if v not in (None, [])}
        if applicant:
            out["applicant"] = applicant
        materials = self.strings(self.field(view, "materials"))
        if materials:
            out["materials"] = {"required": materials}
        promised = self.field(view, "promised_working_days")
        if promised is not None:
            out["promised_working_days"] = self.integer(promised)
        if kind in self.due_at_kinds:
            out["due_at"] = self.instant(self.field(view, "due_at"), end_of_day=True)
        for name in ("accepted_at", "resolved_at"):
            value = self.field(view, name)
            if value is not None:
                out[name] = self.instant(value)
        lead = self.field(view, "lead_department")
        if lead is not None:
            out["lead_department"] = str(lead)
        co = self.strings(self.field(view, "co_departments"))
        if co:
            out["co_departments"] = co
        return out

    # -- note prefixes
    def note_event(self, text: str, at: str, actor: dict[str, Any] | None) -> dict[str, Any] | None:
        """The event a note records when it starts with a configured prefix, else None."""
        stripped = text.lstrip()
        for prefix, preset in self.prefixes:
            if stripped.startswith(prefix):
                break
        else:
            return None
        event: dict[str, Any] = dict(preset)
        etype = event["type"]
        event["at"] = at
        if actor is not None:
            event["actor"] = actor
        rest = stripped[len(prefix):].strip()
        event["note"] = rest
        for raw_key, raw_value in _PAIR.findall(rest):
            key = _KEY_ALIASES.get(raw_key.strip(), raw_key.strip())
            if key in ("type", "at", "actor"):
                continue
            if key == "legal_basis" and etype == "notice":
                key = "elements"
            event[key] = self._note_value(key, raw_value.strip())
        return event

    def _note_value(self, key: str, value: str) -> Any:
        aliases = _VALUE_ALIASES.get(key, {})
        if key in _LIST_FIELDS:
            return [aliases.get(v, v) for v in self.strings(value)]
        if key in _INT_FIELDS:
            digits = re.match(r"\d+", value)
            return int(digits.group()) if digits else value
        if key == "amount":
            try:
                return float(re.sub(r"[^\d.]", "", value))
            except ValueError:
                return value
        if key in _BOOL_FIELDS:
            low = value.lower()
            return True if low in _TRUE else False if low in _FALSE else value
        if key in _ACTOR_FIELDS:
            return self.actor(value) if value else None
        return aliases.get(value, value)


def parse_raw(raw: dict[str, Any], ticket_id: str, tz: tzinfo | None) -> Parsed:
    """Validate an interchange dict into a ticket, or a per-ticket error with paths."""
    try:
        return Parsed(ticket_from_dict(raw, tz), None, ticket_id)
    except TicketError as exc:
        exc.ticket_id = exc.ticket_id or ticket_id
        return Parsed(None, exc, ticket_id)


def read_mapping_settings(cls: type[RESTAdapter], raw: Mapping[str, Any]) -> dict[str, Any]:
    """``Adapter.validate_settings`` plus the mapping tables' own checks."""
    out = Adapter.validate_settings.__func__(cls, raw)  # type: ignore[attr-defined]
    check_mapping(out)
    largest = cls.max_per_page  # type: ignore[attr-defined]
    if not 1 <= out["per_page"] <= largest:
        raise ConfigError(f"adapter.per_page: expected 1 to {largest}, got {out['per_page']}")
    try:
        parse_instant(out["start"]) or datetime.fromisoformat(out["start"])
    except ValueError:
        raise ConfigError(f"adapter.start: not an ISO 8601 instant: {out['start']!r}") from None
    return out


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

    def _credential(self) -> str:
        return base64.b64encode(f"{self.settings['api_key']}:X".encode()).decode()

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Basic {self._credential()}"}

    def redact(self, text: str) -> str:
        return super().redact(text).replace(self._credential(), "***")

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
        except HTTPError as exc:
            if exc.status != 404:
                raise
            return Parsed(None, TicketError(tid, ["no such ticket (deleted while reading)"]), tid)
        return parse_raw(self.interchange(raw, conversations), tid, self.config.adapter_timezone)

    def interchange(self, raw: Mapping[str, Any], conversations: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """One Freshdesk ticket (with its conversations) as an interchange ticket dict."""
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
        events: list[dict[str, Any]] = []
        for conv in conversations:
            text = conv.get("body_text") or html_text(conv.get("body") or "")
            user = str(conv.get("user_id"))
            if GOVHALL_MARK in text:
                actor = {"id": "govhall", "name": "govhall", "role": "system"}
            elif user == requester or conv.get("incoming"):
                actor = m.actor(user, "applicant")
            else:
                actor = m.actor(user)
            at = conv.get("created_at")
            events.append({"type": "reply", "at": at, "public": not conv.get("private", False), "body": text,
                           "actor": actor, "conversation_id": conv.get("id")})
            typed = m.note_event(text, at, actor)
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
            target = self.settings["assignees"].get(patch.assign)
            if target is None:
                raise ValueError(f"adapter.assignees has no entry for escalation target {patch.assign!r}")
            update.update(target)
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
