"""The ``rest`` adapter: a helpdesk declared entirely in TOML (``[adapter] type = "rest"``).

For the many custom 12345 and service-hall platforms that no built-in adapter
knows. ``docs/adapters/rest.md`` explains every key; ``examples/rest-redmine.toml``
and ``examples/rest-12345.toml`` are complete configurations. In short:

- ``[adapter.auth]``: a header with a token, a bearer token or basic auth; secrets
  may come from the environment (``token_env``, ``password_env``) and are
  redacted from every output;
- ``[adapter.list]``: the list a pull walks, its records path, its paginator
  (``offset``, ``page``, ``cursor``, ``link``: :mod:`govhall_sdk.rest.paginators`)
  and its "updated since" filter (``[adapter.list.since]``). The list must be
  sorted by the updated time ascending; the stored cursor is the kit's
  :class:`~govhall_sdk.rest.SyncCursor` (the newest updated time taken and the
  ids taken at it);
- ``[adapter.ticket]``: one ticket by id (``fetch``);
- ``[adapter.map]`` and ``[adapter.values]``: dotted paths from a record to the
  interchange ticket (``a.b``, ``list[key=value].c``, ``list.0``) and value maps
  for its enumerations;
- ``[adapter.events]``: a sub-resource per ticket (or a list inside the record)
  mapped to events, with the event type and the author's role mapped; only an
  author the config makes staff is staff, and an applicant's text is a reply;
- ``[adapter.write]``: the requests that write fields, tags and the internal
  note (method, path template with ``{id}``, JSON body template with
  ``{{placeholder}}`` values substituted as JSON values, never as text).

A mapping that fails is that ticket's error with the path of each problem; the
run goes on.
"""
from __future__ import annotations

import json
import logging
import re
import string
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator, Mapping, Sequence
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from govhall_sdk import hookimpl
from govhall_sdk.adapter import Page, env_secret, gone, secret_value
from govhall_sdk.config import ConfigError
from govhall_sdk.mapping import DEFAULT_KINDS, HelpdeskMapping, check_mapping
from govhall_sdk.model import CHANNELS, KINDS, ROLES, STATUSES, Patch, Ticket
from govhall_sdk.parse import Parsed, TicketError
from govhall_sdk.patch import has_marker, written_markers
from govhall_sdk.redaction import register_secret
from govhall_sdk.rest import (
    DEFAULT_START, GOVHALL_ACTOR, CursorTokenPaginator, HTTPError, LinkHeaderPaginator, OffsetPaginator,
    PageNumberPaginator, Paginator, RESTAdapter, SyncCursor, iso_utc, missing, parse_instant,
)
from govhall_sdk.rest.paginators import body_value

log = logging.getLogger("govhall.rest")
_MISSING = object()


# ---------------------------------------------------------------- reading the TOML with key paths

class Section:
    """One TOML table being read: every value checked by type, every error naming its key path."""

    def __init__(self, raw: Any, path: str):
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{path}: expected a table, got {raw!r}")
        self.raw, self.path, self.read = dict(raw), path, set()

    def get(self, key: str, kind: Any, default: Any = _MISSING) -> Any:
        """The value of ``key`` as ``kind`` (a type or a tuple of types); ``_MISSING`` default: required."""
        self.read.add(key)
        if key not in self.raw:
            if default is _MISSING:
                raise ConfigError(f"{self.path}.{key}: required")
            return default
        value = self.raw[key]
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise ConfigError(f"{self.path}.{key}: expected {_kind_name(kind)}, got {value!r}")
        if not isinstance(value, kind):
            raise ConfigError(f"{self.path}.{key}: expected {_kind_name(kind)}, got {value!r}")
        return value

    def choice(self, key: str, allowed: Sequence[str], default: Any = _MISSING) -> str:
        """A string among ``allowed``."""
        value = self.get(key, str, default)
        if value not in allowed:
            raise ConfigError(f"{self.path}.{key}: {value!r} is not one of {', '.join(allowed)}")
        return value

    def section(self, key: str, required: bool = False) -> Section | None:
        """The sub-table ``key`` (None when absent and not required)."""
        raw = self.get(key, dict, _MISSING if required else None)
        return None if raw is None else Section(raw, f"{self.path}.{key}")

    def path_of(self, key: str, required: bool = False) -> RecordPath | None:
        """A dotted record path at ``key``."""
        text = self.get(key, str, _MISSING if required else None)
        return None if text is None else RecordPath.parse(text, f"{self.path}.{key}")

    def close(self) -> None:
        """Refuse a key nobody read (a typo), naming the keys this table knows."""
        for key in self.raw:
            if key not in self.read:
                raise ConfigError(f"{self.path}.{key}: unknown key (known: {', '.join(sorted(self.read))})")


def _kind_name(kind: Any) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {str: "a string", int: "an integer", bool: "true or false", dict: "a table", list: "a list",
             float: "a number"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


# ---------------------------------------------------------------- paths into records

_SEGMENT = re.compile(r"^([^\[\]]+)(?:\[([^=\[\]]+)=([^\[\]]*)\])?$")


@attrs.frozen
class RecordPath:
    """A dotted path into a record: ``a.b``, ``list.0`` (an index), ``list[key=value].c`` (the first
    element of a list whose ``key`` is ``value``, compared as text). Alternatives with ``|``: the first set."""

    text: str
    alternatives: tuple[tuple[tuple[str, str | None, str | None], ...], ...]

    @classmethod
    def parse(cls, text: str, where: str) -> RecordPath:
        """Compile ``text``; a malformed path is a ConfigError at ``where``."""
        alternatives = []
        for alternative in text.split("|"):
            steps = []
            for part in alternative.strip().split("."):
                found = _SEGMENT.match(part.strip())
                if not found:
                    raise ConfigError(f"{where}: {text!r} is not a record path (a.b, list.0, list[key=value].c)")
                steps.append((found.group(1), found.group(2), found.group(3)))
            alternatives.append(tuple(steps))
        return cls(text, tuple(alternatives))

    def __call__(self, record: Any) -> Any:
        """The value at the path, or None when a step is missing."""
        for steps in self.alternatives:
            value = _walk(record, steps)
            if value not in (None, "", []):
                return value
        return None


def _walk(value: Any, steps: tuple[tuple[str, str | None, str | None], ...]) -> Any:
    for name, key, wanted in steps:
        value = _step(value, name)
        if key is not None:
            value = next((v for v in value if isinstance(v, Mapping) and _text(v.get(key)) == wanted), None) \
                if isinstance(value, list) else None
    return value


def _step(value: Any, name: str) -> Any:
    if isinstance(value, Mapping):
        return value.get(name)
    if isinstance(value, list) and name.isdigit() and int(name) < len(value):
        return value[int(name)]
    return None


def epoch_text(value: Any) -> Any:
    """An epoch number (seconds, or milliseconds from 10^11 on, as Java back ends write them) as an ISO
    instant in UTC; any other value as it is (ISO 8601 text is read by the interchange's parser)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    seconds = value / 1000 if abs(value) >= 1e11 else value
    try:
        return datetime.fromtimestamp(seconds, timezone.utc).isoformat()
    except (OverflowError, OSError, ValueError):
        return str(value)


def _text(value: Any) -> str:
    """A value as the text a value map is keyed by (``true``/``false`` for booleans, as JSON spells them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# ---------------------------------------------------------------- JSON body templates

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_][a-z_.]*)\s*\}\}")
_SENTINEL = "\u0000govhall:"


@attrs.frozen
class BodyTemplate:
    """A JSON document whose ``{{name}}`` placeholders stand where a JSON value may: each is replaced by
    its value as JSON (a string, a list, an object), never pasted into text, so no value can change the
    document's structure."""

    text: str
    data: Any

    @classmethod
    def parse(cls, text: str, allowed: Sequence[str], where: str) -> BodyTemplate:
        """Check ``text`` (JSON once the placeholders are set aside) and its placeholder names."""
        for name in _PLACEHOLDER.findall(text):
            if name not in allowed:
                raise ConfigError(f"{where}: unknown placeholder {{{{{name}}}}} (here: "
                                  f"{', '.join('{{' + a + '}}' for a in allowed)})")
        marked = _PLACEHOLDER.sub(lambda m: json.dumps(_SENTINEL + m.group(1)), text)
        try:
            data = json.loads(marked)
        except ValueError as exc:
            raise ConfigError(f"{where}: not JSON once each {{{{placeholder}}}} stands for a value ({exc}); "
                              "a placeholder is a whole JSON value, never inside a string") from None
        return cls(text, data)

    def render(self, values: Mapping[str, Any]) -> Any:
        """The document with every placeholder replaced by its value."""
        return _fill(self.data, values)


def _fill(node: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(node, str) and node.startswith(_SENTINEL):
        return values[node[len(_SENTINEL):]]
    if isinstance(node, list):
        return [_fill(v, values) for v in node]
    if isinstance(node, dict):
        return {k: _fill(v, values) for k, v in node.items()}
    return node


@attrs.frozen
class RequestSpec:
    """One write request: method, path template (``{id}``: the ticket's id, URL-quoted) and JSON body."""

    method: str
    path: str
    body: BodyTemplate | None

    @classmethod
    def read(cls, section: Section, placeholders: Sequence[str]) -> RequestSpec:
        """``method``, ``path`` and ``body`` of a ``[adapter.write.*]`` table."""
        method = section.choice("method", ("POST", "PUT", "PATCH", "DELETE"), "PUT")
        path = section.get("path", str)
        fields = {f for _, f, _, _ in string.Formatter().parse(path) if f is not None}
        if fields - {"id"}:
            raise ConfigError(f"{section.path}.path: only {{id}} may stand in the path, not {sorted(fields - {'id'})}")
        body = section.get("body", str, None)
        return cls(method, path, None if body is None else
                   BodyTemplate.parse(body, placeholders, f"{section.path}.body"))

    def send(self, adapter: RESTAdapter, ticket_id: str, values: Mapping[str, Any], idempotent: bool | None) -> Any:
        """Send the request for one ticket; the answer's body when it is JSON."""
        path = self.path.format(id=quote(str(ticket_id), safe=""))
        kwargs = {} if self.body is None else {"json": self.body.render({"ticket.id": ticket_id, **values})}
        return adapter.request(self.method, path, idempotent=idempotent, **kwargs)


# ---------------------------------------------------------------- auth, list, since

@attrs.frozen
class Auth:
    """How requests authenticate; the secrets are never shown (``repr`` leaves them out)."""

    scheme: str
    header: str = "Authorization"
    user: str | None = None
    token: str | None = attrs.field(default=None, repr=False)
    password: str | None = attrs.field(default=None, repr=False)

    @classmethod
    def read(cls, section: Section | None) -> Auth:
        """``[adapter.auth]``: ``type`` = ``header`` (``header`` + ``token``), ``bearer``, ``basic``, ``none``."""
        if section is None:
            raise ConfigError("adapter.auth: required (type = \"header\", \"bearer\", \"basic\" or \"none\")")
        scheme = section.choice("type", ("header", "bearer", "basic", "none"))
        header = section.get("header", str, "Authorization") if scheme == "header" else "Authorization"
        token = _secret(section, "token") if scheme in ("header", "bearer") else None
        user = section.get("user", str) if scheme == "basic" else None
        password = _secret(section, "password") if scheme == "basic" else None
        section.close()
        return cls(scheme, header, user, token, password)

    def headers(self) -> dict[str, str]:
        """The headers of a token scheme."""
        if self.scheme == "bearer":
            return {"Authorization": f"Bearer {self.token}"}
        return {self.header: str(self.token)} if self.scheme == "header" else {}


def _secret(section: Section, key: str) -> str:
    """A secret given as ``key`` or as ``key_env`` (the environment variable holding it)."""
    env = section.get(f"{key}_env", str, None)
    if env is None:
        return secret_value(section.get(key, str), f"{section.path}.{key}")
    section.read.add(key)
    if key in section.raw:
        raise ConfigError(f"{section.path}.{key}: give {key} or {key}_env, not both")
    return env_secret(env, f"{section.path}.{key}_env")


_SINCE_FORMATS = ("iso", "iso_utc", "epoch", "epoch_ms")


@attrs.frozen
class Since:
    """The "updated since" filter: ``param`` = ``prefix`` + the instant in ``format``."""

    param: str
    format: str
    prefix: str
    zone: Any
    slack: float

    @classmethod
    def read(cls, section: Section) -> Since:
        """``[adapter.list.since]``."""
        fmt = section.get("format", str, "iso_utc")
        if fmt not in _SINCE_FORMATS and "%" not in fmt:
            raise ConfigError(f"{section.path}.format: {fmt!r} is none of {', '.join(_SINCE_FORMATS)} "
                              "nor a strftime pattern such as \"%Y-%m-%d %H:%M:%S\"")
        zone = _zone(section.get("timezone", str, "UTC"), f"{section.path}.timezone")
        since = cls(section.get("param", str), fmt, section.get("prefix", str, ""), zone,
                    float(section.get("slack_seconds", (int, float), 1)))
        section.close()
        return since

    def write(self, params: dict[str, Any], since: datetime) -> None:
        """Set the filter in a query to "updated at or after ``since`` less the slack"."""
        params[self.param] = self.prefix + self.text(since - timedelta(seconds=self.slack))

    def text(self, instant: datetime) -> str:
        """An instant as the filter writes it."""
        if self.format == "iso_utc":
            return iso_utc(instant)
        if self.format in ("epoch", "epoch_ms"):
            return str(int(instant.timestamp() * (1000 if self.format == "epoch_ms" else 1)))
        local = instant.astimezone(self.zone)
        return local.isoformat() if self.format == "iso" else local.strftime(self.format)


def _zone(name: str, where: str) -> Any:
    if name.upper() == "UTC":
        return timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}: unknown time zone {name!r}") from None


_PAGINATOR_KEYS = {
    "offset": {"offset_param": "offset", "limit_param": "limit", "total": None},
    "page": {"page_param": "page", "size_param": "per_page", "first_page": 1, "total": None},
    "cursor": {"param": "cursor", "token": None, "last": None, "more": None, "size_param": None, "drop": []},
    "link": {"size_param": None},
    "none": {},
}


@attrs.frozen
class PaginatorSpec:
    """A paginator by name with its parameters (``[adapter.list.paginator]``, ``[adapter.events.paginator]``)."""

    kind: str
    options: Mapping[str, Any]
    max_pages: int

    @classmethod
    def read(cls, section: Section | None) -> PaginatorSpec:
        """``type`` (offset, page, cursor, link, none) and that paginator's keys."""
        if section is None:
            return cls("none", {}, 1)
        kind = section.choice("type", tuple(_PAGINATOR_KEYS))
        options = {}
        for key, default in _PAGINATOR_KEYS[kind].items():
            expected = type(default) if default is not None else str
            options[key] = section.get(key, expected, default)
        if kind == "cursor" and options["token"] is None:
            raise ConfigError(f"{section.path}.token: required: the path of the next cursor in the body")
        max_pages = section.get("max_pages", int, 100_000)
        section.close()
        return cls(kind, options, max_pages)

    def make(self, page_size: int) -> Paginator:
        """A fresh paginator for one walk."""
        o, cap = self.options, {"max_pages": self.max_pages}
        if self.kind == "offset":
            return OffsetPaginator(page_size, o["offset_param"], o["limit_param"], o["total"], **cap)
        if self.kind == "page":
            return PageNumberPaginator(page_size, o["page_param"], o["size_param"], o["first_page"], o["total"], **cap)
        if self.kind == "cursor":
            return CursorTokenPaginator(lambda b: body_value(b, o["token"]), o["param"], done_when=self._last,
                                        drop=o["drop"], **cap)
        return LinkHeaderPaginator(**cap)

    def _last(self, body: Any) -> bool:
        o = self.options
        return (bool(o["last"]) and body_value(body, o["last"]) is True) or \
            (bool(o["more"]) and body_value(body, o["more"]) is False)

    def size_params(self, page_size: int) -> dict[str, Any]:
        """The page size of a cursor or Link walk (the other paginators set their own)."""
        name = self.options.get("size_param") if self.kind in ("cursor", "link") else None
        return {name: page_size} if name else {}


def _query(section: Section, key: str = "params") -> dict[str, Any]:
    params = section.get(key, dict, {})
    for name, value in params.items():
        if not isinstance(value, (str, int, float, bool)):
            raise ConfigError(f"{section.path}.{key}.{name}: expected a string or a number, got {value!r}")
    return params


def _records_path(section: Section, key: str = "records") -> RecordPath | None:
    text = section.get(key, str, "")
    return RecordPath.parse(text, f"{section.path}.{key}") if text else None


@attrs.frozen
class ListSpec:
    """``[adapter.list]``: the list a pull walks."""

    path: str
    params: Mapping[str, Any]
    records: RecordPath | None
    page_size: int
    paginator: PaginatorSpec
    since: Since

    @classmethod
    def read(cls, section: Section) -> ListSpec:
        size = section.get("page_size", int, 100)
        if not 1 <= size <= 10_000:
            raise ConfigError(f"{section.path}.page_size: expected 1 to 10000, got {size}")
        spec = cls(section.get("path", str), _query(section), _records_path(section), size,
                   PaginatorSpec.read(section.section("paginator", required=True)),
                   Since.read(section.section("since", required=True)))
        if spec.paginator.kind == "none":
            raise ConfigError(f"{section.path}.paginator.type: the list needs a paginator (offset, page, cursor, link)")
        section.close()
        return spec


def records_of(body: Any, path: RecordPath | None, where: str) -> list[Any]:
    """The list of records in a body (``path``; None: the body is the list)."""
    found = body if path is None else path(body)
    if found is None:
        return []
    if not isinstance(found, list):
        raise ValueError(f"{where}: expected a list at {path.text if path else 'the body'!r}, "
                         f"got {type(found).__name__}")
    return found


# ---------------------------------------------------------------- the mapping

_SCALARS = ("subject", "created_at", "accepted_at", "resolved_at", "due_at", "department", "lead_department",
            "promised_working_days")
_LISTS = ("tags", "co_departments", "materials")
_ENUMS = {"kind": KINDS, "status": STATUSES, "channel": CHANNELS}
_TABLES = {"applicant": ("id", "name", "phone", "birth_date", "groups"), "assignee": ("id", "name")}
_EVENT_KEYS = ("type", "at", "body", "public")
_EVENT_TYPES = ("reply", "submission", "notice", "deferral", "referral", "assignment", "acceptance", "rejection",
                "extension", "suspension_start", "suspension_end", "urge", "result_report", "proxy_request",
                "proxy_offer", "handover", "fee", "evaluation", "return_visit", "completion")


def _path_table(section: Section | None, keys: Sequence[str]) -> dict[str, RecordPath]:
    if section is None:
        return {}
    out = {key: section.path_of(key) for key in keys}
    section.close()
    return {k: v for k, v in out.items() if v is not None}


@attrs.frozen
class FieldMap:
    """``[adapter.map]``: interchange field -> record path; ``fields`` and the tables ``applicant``/``assignee``."""

    id: RecordPath
    version: RecordPath
    paths: Mapping[str, RecordPath]
    tables: Mapping[str, Mapping[str, RecordPath]]
    fields: Mapping[str, RecordPath]

    @classmethod
    def read(cls, section: Section) -> FieldMap:
        paths = {k: section.path_of(k) for k in (*_SCALARS, *_LISTS, *_ENUMS)}
        tables = {name: _path_table(section.section(name), keys) for name, keys in _TABLES.items()}
        custom = section.section("fields")
        fields = {name: custom.path_of(name, True) for name in custom.raw} if custom else {}
        out = cls(section.path_of("id", True), section.path_of("version", True),
                  {k: v for k, v in paths.items() if v is not None}, tables, fields)
        for key in ("kind", "created_at"):
            if key not in out.paths:
                raise ConfigError(f"{section.path}.{key}: required (the ticket's {key})")
        section.close()
        return out


def _value_map(section: Section | None, allowed: Sequence[Any] | None, base: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    if section is None:
        return out
    for key, value in section.raw.items():
        section.read.add(key)
        if allowed is not None and value not in allowed:
            raise ConfigError(f"{section.path}.{key}: {value!r} is not one of {', '.join(map(str, allowed))}")
        out[str(key)] = value
    return out


def read_values(section: Section | None) -> dict[str, dict[str, Any]]:
    """``[adapter.values]``: per enumeration, the platform's value -> the interchange value."""
    tables = {"kind": DEFAULT_KINDS, "status": {}, "channel": {}}
    out = {name: _value_map(section.section(name) if section else None, _ENUMS[name], base)
           for name, base in tables.items()}
    if section is not None:
        section.close()
    return out


@attrs.frozen
class EventSpec:
    """``[adapter.events]``: a ticket's timeline from a sub-resource (``path``) or from the record itself."""

    path: str | None
    params: Mapping[str, Any]
    records: RecordPath | None
    paginator: PaginatorSpec
    paths: Mapping[str, RecordPath]
    actor: Mapping[str, RecordPath]
    types: Mapping[str, str]
    roles: Mapping[str, str]
    public: Mapping[str, bool]
    default_role: str
    require: tuple[str, ...]

    @classmethod
    def read(cls, section: Section | None) -> EventSpec | None:
        """``[adapter.events]``: ``path`` or ``records``, ``map``, ``values``, ``default_role``, ``require``."""
        if section is None:
            return None
        path = section.get("path", str, None)
        if path is not None and {f for _, f, _, _ in string.Formatter().parse(path) if f} - {"id"}:
            raise ConfigError(f"{section.path}.path: only {{id}} may stand in the path")
        records = _records_path(section)
        if path is None and records is None:
            raise ConfigError(f"{section.path}: give path (a sub-resource per ticket) or records "
                              "(a list in the record)")
        paths, actor = _event_map(section.section("map", required=True))
        types, roles, public = _event_values(section.section("values"))
        spec = cls(path, _query(section), records, PaginatorSpec.read(section.section("paginator")), paths, actor,
                   types, roles, public, section.choice("default_role", ROLES, "applicant"),
                   tuple(str(k) for k in section.get("require", list, [])))
        for key in spec.require:
            if key not in spec.paths:
                raise ConfigError(f"{section.path}.require: {key!r} is not mapped in {section.path}.map")
        section.close()
        return spec


    def value(self, raw: Mapping[str, Any], key: str) -> Any:
        """The value of an event's mapped ``key`` (None when it is not mapped)."""
        path = self.paths.get(key)
        return None if path is None else path(raw)

    def author(self, raw: Mapping[str, Any], key: str) -> Any:
        """The value of the author's mapped ``key`` (None when it is not mapped)."""
        path = self.actor.get(key)
        return None if path is None else path(raw)


def _event_map(mapped: Section) -> tuple[dict[str, RecordPath], dict[str, RecordPath]]:
    """``[adapter.events.map]``: the event's own paths and its ``actor`` table."""
    paths = {k: mapped.path_of(k) for k in _EVENT_KEYS}
    actor = _path_table(mapped.section("actor"), ("id", "name", "role", "department"))
    mapped.close()
    if paths["at"] is None:
        raise ConfigError(f"{mapped.path}.at: required (the event's time)")
    return {k: v for k, v in paths.items() if v is not None}, actor


def _event_values(values: Section | None) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """``[adapter.events.values]``: the maps of ``type``, ``role`` and ``public``."""
    if values is None:
        return {}, {}, {}
    out = (_value_map(values.section("type"), ("", *_EVENT_TYPES), {}),
           _value_map(values.section("role"), ROLES, {}),
           _value_map(values.section("public"), (True, False), {}))
    values.close()
    return out


_WRITES = {
    "fields": ("ticket.id", "fields"),
    "tags": ("ticket.id", "tags", "tags.add", "tags.remove"),
    "add_tags": ("ticket.id", "tags", "tags.add", "tags.remove"),
    "remove_tags": ("ticket.id", "tags", "tags.add", "tags.remove"),
    "note": ("ticket.id", "note.body"),
    "assign": ("ticket.id", "assignee"),
}
_ITEM = ("field.name", "field.id", "field.value", "field.text")


@attrs.frozen
class WriteSpec:
    """``[adapter.write]``: the requests of a write-back; ``fields.item`` and ``fields.ids`` shape ``{{fields}}``."""

    requests: Mapping[str, RequestSpec]
    item: BodyTemplate | None
    ids: Mapping[str, Any]
    conflicts: tuple[int, ...]

    @classmethod
    def read(cls, section: Section) -> WriteSpec:
        requests, item, ids = {}, None, {}
        for name, placeholders in _WRITES.items():
            table = section.section(name)
            if table is None:
                continue
            requests[name] = RequestSpec.read(table, placeholders)
            if name == "fields":
                text = table.get("item", str, None)
                item = None if text is None else BodyTemplate.parse(text, _ITEM, f"{table.path}.item")
                ids = table.get("ids", dict, {})
            table.close()
        for need in ("fields", "note"):
            if need not in requests:
                raise ConfigError(f"{section.path}.{need}: required (how govhall writes its {need})")
        if "tags" not in requests and not {"add_tags", "remove_tags"} <= set(requests):
            raise ConfigError(f"{section.path}.tags: required (the whole new list), or both add_tags and remove_tags")
        conflicts = tuple(section.get("conflict_statuses", list, [409, 412]))
        if not all(isinstance(c, int) and not isinstance(c, bool) for c in conflicts):
            raise ConfigError(f"{section.path}.conflict_statuses: expected a list of HTTP statuses, "
                              f"got {list(conflicts)}")
        section.close()
        return cls(requests, item, ids, conflicts)


# ---------------------------------------------------------------- the walk

def read_instant(value: Any, zone: Any) -> datetime | None:
    """ISO 8601 text or an epoch number as an aware instant (a naive time in ``zone``), else None."""
    value = epoch_text(value)
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return parsed.replace(tzinfo=zone) if parsed and parsed.tzinfo is None else parsed


class UpdatedWalk:
    """Where a pull stands over the "updated since" list: the anchor (newest version taken) and the ids
    taken at it. A list that turns out not to be sorted ascending keeps the stored cursor at the walk's
    start until the walk ends, so a run cut short never skips a record."""

    def __init__(self, cursor: SyncCursor, slack: float, zone: Any):
        self.start, self.slack, self.zone = cursor, timedelta(seconds=slack), zone
        self.anchor, self.seen, self.ordered = cursor.since, dict(cursor.seen), True

    def instant(self, version: Any) -> datetime | None:
        """A record's version as an aware instant (a naive one in the adapter's zone)."""
        return read_instant(version, self.zone)

    def take(self, records: Sequence[Any], key: Callable[[Any], tuple[str, Any]]) -> list[Any]:
        """The records not taken before; moves the anchor."""
        fresh = []
        for record in records:
            rid, version = key(record)
            when = self.instant(version)
            if self.seen.get(rid) == str(version) or (when is not None and when < self.start.since - self.slack):
                continue  # taken before, or older than the filter asked for (a filter the endpoint ignores)
            fresh.append(record)
            self.seen[rid] = str(version)
            if when is None:
                continue
            if when < self.anchor - self.slack and self.ordered:
                self.ordered = False
                log.warning("rest: the list is not sorted by its updated time ascending (ticket %s); the cursor "
                            "moves only when the walk ends: sort it in adapter.list.params", rid)
            self.anchor = max(self.anchor, when)
        return fresh

    def cursor(self, final: bool = False) -> str:
        """The cursor to store now (after the walk's end when ``final``)."""
        if not (self.ordered or final):
            return self.start.dump()
        floor = self.anchor - self.slack
        kept = {k: v for k, v in self.seen.items() if (self.instant(v) or floor) >= floor}
        return SyncCursor(self.anchor, kept).dump()


# ---------------------------------------------------------------- the adapter

class GenericRESTAdapter(RESTAdapter):
    """A REST helpdesk declared in ``[adapter]`` (see the module docstring and ``docs/adapters/rest.md``)."""

    name = "rest"
    settings_schema = {"url": None, "start": "2000-01-01T00:00:00Z", "auth": None, "list": None, "ticket": None,
                       "map": None, "values": {}, "events": {}, "agents": {}, "note_prefixes": {}, "write": None}
    settings_types = {"auth": dict, "list": dict, "ticket": dict, "map": dict, "write": dict}

    @classmethod
    def validate_settings(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        """The transport's checks, then every table, each error with its key path."""
        s = super().validate_settings(raw)
        if parse_instant(s["start"]) is None:
            raise ConfigError(f"adapter.start: expected an ISO 8601 instant with its offset, got {s['start']!r}")
        s["auth"] = Auth.read(Section(s["auth"], "adapter.auth"))
        s["list"] = ListSpec.read(Section(s["list"], "adapter.list"))
        ticket = Section(s["ticket"], "adapter.ticket")
        s["ticket"] = (ticket.get("path", str), _query(ticket), _records_path(ticket, "record"))
        ticket.close()
        s["map"] = FieldMap.read(Section(s["map"], "adapter.map"))
        s["values"] = read_values(Section(s["values"], "adapter.values"))
        s["events"] = EventSpec.read(Section(s["events"], "adapter.events") if s["events"] else None)
        s["write"] = WriteSpec.read(Section(s["write"], "adapter.write"))
        check_mapping({"agents": s["agents"], "note_prefixes": s["note_prefixes"], "default_kind": "consultation"})
        return s

    def __init__(self, settings: Mapping[str, Any], config: Any, **kw: Any):
        super().__init__(settings, config, **kw)
        auth: Auth = self.settings["auth"]
        for secret in (auth.token, auth.password):
            register_secret(secret)
        self.mapping = HelpdeskMapping(
            {"kinds": {}, "default_kind": "consultation", "channels": {}, "statuses": {}, "departments": {},
             "agents": self.settings["agents"], "fields": {}, "due_at_kinds": [],
             "note_prefixes": self.settings["note_prefixes"], "applicant_groups": {}},
            config.timezone, channels={}, statuses={}, fields={})

    def basic_credentials(self) -> tuple[str, str] | None:
        """``(user, password)`` when ``[adapter.auth] type = "basic"``."""
        auth: Auth = self.settings["auth"]
        return (str(auth.user), str(auth.password)) if auth.scheme == "basic" else None

    def auth_headers(self) -> dict[str, str]:
        """The token header of ``header`` and ``bearer`` auth (basic auth: the kit's)."""
        auth: Auth = self.settings["auth"]
        register_secret(auth.token)
        return super().auth_headers() if auth.scheme == "basic" else {**auth.headers(), "Accept": "application/json"}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={self.base_url!r}, auth={self.settings['auth']!r})"

    # ---------------------------------------------------------- reading
    def ticket_id(self, record: Mapping[str, Any]) -> str:
        """The record's id (``[adapter.map] id``)."""
        value = self.settings["map"].id(record)
        return "" if value is None else str(value)

    def pull(self, cursor: str | None, page_size: int = 100) -> Iterator[Page]:
        """Pages of tickets updated since ``cursor``, each with the cursor to store once it is written.

        After a page that moved the anchor the walk starts again from it (the filter re-anchored, the
        paginator afresh), so govhall's own writes between pages, which move a ticket to the end of the
        order, never make an offset or page number skip one; a page of records all taken before (more
        ties at one instant than a page holds) follows the paginator. The paginator reads each answer
        before its page is yielded, so a repeated page is refused before its records are used.
        """
        spec: ListSpec = self.settings["list"]
        size = min(page_size, spec.page_size)
        zone = self.interchange_zone() or timezone.utc
        start = parse_instant(self.settings["start"]) or DEFAULT_START
        walk = UpdatedWalk(SyncCursor.parse(cursor, start, zone), spec.since.slack, zone)
        request, paginator = self._list_request(walk, size)
        while True:
            response = self.request("GET", request["url"], params=request["params"], want_json=True)
            records = records_of(response.body, spec.records, spec.path)
            paginator.update_state(response, records)
            more = paginator.has_next_page and bool(records)
            before = walk.anchor
            items, skipped = self.page_items(walk.take(records, self._version_key), response.body)
            yield Page(items, walk.cursor(final=not more), skipped)
            if not more:
                return
            if walk.ordered and walk.anchor > before:
                request, paginator = self._list_request(walk, size)
            else:
                paginator.update_request(request)

    def _list_request(self, walk: UpdatedWalk, size: int) -> tuple[dict[str, Any], Paginator]:
        """The first request of a walk from the walk's anchor, and its paginator."""
        spec: ListSpec = self.settings["list"]
        params = {**spec.params, **spec.paginator.size_params(size)}
        spec.since.write(params, walk.anchor)
        paginator = spec.paginator.make(size)
        paginator.init_request(params)
        return {"url": spec.path, "params": params}, paginator

    def _version_key(self, record: Any) -> tuple[str, Any]:
        return self.ticket_id(record), self.settings["map"].version(record)

    def fetch(self, ids: Sequence[str]) -> Iterator[Parsed]:
        """Each ticket read afresh from ``[adapter.ticket]``; an id the helpdesk no longer has is gone."""
        path, params, record = self.settings["ticket"]
        for tid in map(str, ids):
            try:
                body = self.request("GET", path.format(id=quote(tid, safe="")), params=dict(params),
                                    want_json=True).body
            except HTTPError as exc:
                yield gone(tid) if exc.status in (404, 410) else missing(tid, f"ticket: cannot be read: {exc}")
                continue
            found = body if record is None else record(body)
            yield self.parsed(found) if isinstance(found, Mapping) else gone(tid)

    def read_ticket(self, record: Mapping[str, Any], page: Mapping[str, Any]) -> dict[str, Any]:
        """The ticket's event records: its sub-resource walked to the end, or the list inside the record."""
        spec: EventSpec | None = self.settings["events"]
        if spec is None:
            return {"events": []}
        if spec.path is None:
            return {"events": records_of(record, spec.records, "the record")}
        path = spec.path.format(id=quote(self.ticket_id(record), safe=""))
        pick = lambda b: records_of(b, spec.records, path)  # noqa: E731
        if spec.paginator.kind == "none":
            return {"events": pick(self.get_json(path, **spec.params))}
        size = self.settings["list"].page_size
        params = {**spec.params, **spec.paginator.size_params(size)}
        return {"events": self.collect(path, spec.paginator.make(size), pick, params)}

    def to_interchange(self, record: Mapping[str, Any], warnings: list[str], *,
                       events: Sequence[Any] = ()) -> dict[str, Any]:
        """One record and its event records as an interchange ticket; each problem is named by its path.

        :raises TicketError: listing every value that could not be mapped (a value missing from a value map,
            a required value absent), each with the record path it was read from.
        """
        tid, problems = self.ticket_id(record), []
        fmap: FieldMap = self.settings["map"]
        out: dict[str, Any] = {"id": tid, "updated_at": fmap.version(record)}
        for key, path in fmap.paths.items():
            value = path(record)
            if key in _ENUMS:
                value = self._enum(key, value, path, problems)
            elif key in _LISTS:
                value = self.mapping.strings(value)
            out[key] = value
        if out.get("materials"):
            out["materials"] = {"required": out["materials"]}
        self._tables(out, record, fmap)
        out["fields"] = {name: path(record) for name, path in fmap.fields.items()}
        out["events"] = self._events(events, problems, warnings)
        self._dates(out)
        if read_instant(out["updated_at"], timezone.utc) is None:
            problems.append(f"version: {str(out['updated_at'])[:40]!r} at {fmap.version.text!r} is not a time "
                            "(ISO 8601 text or an epoch number; adapter.map.version)")
        if problems:
            raise TicketError(tid, problems)
        return out

    def _enum(self, key: str, value: Any, path: RecordPath, problems: list[str]) -> Any:
        if value is None:
            return None
        table = self.settings["values"][key]
        text = _text(value).strip()
        if text in table:
            return table[text]
        if text in _ENUMS[key]:
            return text
        problems.append(f"{key}: {text[:40]!r} at {path.text!r} is not in adapter.values.{key} "
                        f"(nor one of {', '.join(_ENUMS[key])})")
        return None

    def _tables(self, out: dict[str, Any], record: Mapping[str, Any], fmap: FieldMap) -> None:
        applicant = {k: p(record) for k, p in fmap.tables["applicant"].items()}
        applicant = {k: (self.mapping.groups(v) if k == "groups" else str(v)) for k, v in applicant.items()
                     if v is not None}
        if applicant:
            out["applicant"] = applicant
        who = {k: p(record) for k, p in fmap.tables["assignee"].items()}
        if who.get("id") is not None:
            out["assignee"] = self.mapping.actor(who["id"], "staff", None if who.get("name") is None
                                                 else str(who["name"]))

    def _dates(self, out: dict[str, Any]) -> None:
        """A date-only deadline ends its day; the first acceptance event stands for a missing ``accepted_at``."""
        if out.get("due_at") is not None:
            out["due_at"] = self.mapping.instant(str(epoch_text(out["due_at"])), end_of_day=True)
        for key in ("accepted_at", "resolved_at", "created_at"):
            if out.get(key) is not None:
                out[key] = self.mapping.instant(str(epoch_text(out[key])))
        if out.get("promised_working_days") is not None:
            out["promised_working_days"] = self.mapping.integer(out["promised_working_days"])
        if out.get("accepted_at") is None:
            out["accepted_at"] = next((e["at"] for e in out["events"] if e["type"] == "acceptance"), None)

    # ---------------------------------------------------------- events and provenance
    def _events(self, records: Sequence[Any], problems: list[str], warnings: list[str]) -> list[dict[str, Any]]:
        spec: EventSpec | None = self.settings["events"]
        out: list[dict[str, Any]] = []
        for index, raw in enumerate(records):
            if spec is None or not isinstance(raw, Mapping):
                problems.append(f"events[{index}]: expected an object, got {type(raw).__name__}")
                continue
            if any(spec.paths[k](raw) in (None, "", []) for k in spec.require):
                continue  # a record of the timeline that is no event (a field change without text, say)
            out.extend(self._event(spec, raw, f"events[{index}]", problems, warnings))
        return out

    def _event(self, spec: EventSpec, raw: Mapping[str, Any], where: str, problems: list[str],
               warnings: list[str]) -> list[dict[str, Any]]:
        etype = self._event_type(spec, raw, where, problems)
        if not etype:
            return []
        body, at = spec.value(raw, "body"), spec.value(raw, "at")
        public = self._public(spec, raw, where, problems)
        if at is None:
            problems.append(f"{where}.at: no value at {spec.paths['at'].text!r}")
            return []
        event: dict[str, Any] = {"type": etype, "at": self.mapping.instant(str(epoch_text(at)))}
        if etype == "reply":
            event.update(public=public, body="" if body is None else str(body))
        elif body is not None:
            event["note"] = str(body)
        actor = self._actor(spec, raw, etype == "reply" and not public and has_marker(str(body or "")))
        if actor is not None:
            event["actor"] = actor
        typed = None
        if etype == "reply" and body:
            found: list[str] = []
            typed = self.mapping.note_event(str(body), event["at"], actor, found)
            warnings.extend(f"{where}: {problem}" for problem in found)
        return [event] if typed is None else [event, typed]

    def _event_type(self, spec: EventSpec, raw: Mapping[str, Any], where: str, problems: list[str]) -> str | None:
        if "type" not in spec.paths:
            return "reply"
        value = spec.paths["type"](raw)
        text = "" if value is None else _text(value)
        if text in spec.types:
            return spec.types[text] or None  # "" in the map: not an event govhall reads
        if not spec.types and text in _EVENT_TYPES:
            return text
        problems.append(f"{where}.type: {text[:40]!r} at {spec.paths['type'].text!r} is not in "
                        "adapter.events.values.type (map it, or to \"\" to leave such records out)")
        return None

    def _public(self, spec: EventSpec, raw: Mapping[str, Any], where: str, problems: list[str]) -> bool:
        if "public" not in spec.paths:
            return True
        value = spec.paths["public"](raw)
        if isinstance(value, bool) and not spec.public:
            return value
        text = _text(value)
        if text in spec.public:
            return spec.public[text]
        problems.append(f"{where}.public: {text[:40]!r} at {spec.paths['public'].text!r} is not in "
                        "adapter.events.values.public")
        return False

    def _actor(self, spec: EventSpec, raw: Mapping[str, Any], own_note: bool) -> dict[str, Any] | None:
        """The author: staff only when the config says so (the role map, or ``[adapter.agents]``, where a
        listed person is staff unless the entry gives another role).

        An author neither names is ``default_role`` (an applicant unless configured), except that an
        internal note carrying a govhall marker by such an author is govhall's own.
        """
        ident, role_raw = spec.author(raw, "id"), spec.author(raw, "role")
        if ident is None:
            return None
        role = None if role_raw is None else spec.roles.get(_text(role_raw))
        agent = self.mapping.agents.get(str(ident))
        if role is None and agent is not None:
            role = agent.get("role", "staff")  # a person [adapter.agents] lists is staff unless it says otherwise
        if own_note and role is None:
            return dict(GOVHALL_ACTOR)
        name, department = spec.author(raw, "name"), spec.author(raw, "department")
        actor = self.mapping.actor(ident, role or spec.default_role, None if name is None else str(name))
        if department is not None and "department" not in actor:
            actor["department"] = str(department)
        return actor

    # ---------------------------------------------------------- writing
    def is_conflict(self, exc: Exception) -> bool:
        """A refusal with one of ``[adapter.write] conflict_statuses`` (the ticket is read again)."""
        return isinstance(exc, HTTPError) and exc.status in self.settings["write"].conflicts

    def apply_one(self, ticket: Ticket, patch: Patch) -> None:
        """Fields, then tags, then one internal note with every new note (never resent blindly)."""
        spec: WriteSpec = self.settings["write"]
        if patch.fields:
            spec.requests["fields"].send(self, ticket.id, {"fields": self._fields(patch.fields)}, None)
        self._write_tags(ticket, patch)
        notes = patch.combined_note(written_markers(ticket))
        if notes:
            spec.requests["note"].send(self, ticket.id, {"note.body": notes}, False)
        if patch.assign:
            self._assign(ticket, patch.assign)

    def _fields(self, values: Mapping[str, Any]) -> Any:
        """``{{fields}}``: an object by the platform's keys, or a list of ``item`` documents."""
        spec: WriteSpec = self.settings["write"]
        if spec.item is None:
            return {str(spec.ids.get(name, name)): value for name, value in values.items()}
        return [spec.item.render({"field.name": name, "field.id": spec.ids.get(name, name), "field.value": value,
                                  "field.text": "" if value is None else str(value)})
                for name, value in values.items()]

    def _write_tags(self, ticket: Ticket, patch: Patch) -> None:
        if not (patch.add_tags or patch.remove_tags):
            return
        requests = self.settings["write"].requests
        kept = [t for t in ticket.tags if t not in patch.remove_tags]
        values = {"tags": kept + [t for t in patch.add_tags if t not in kept], "tags.add": list(patch.add_tags),
                  "tags.remove": list(patch.remove_tags)}
        if "tags" in requests:
            requests["tags"].send(self, ticket.id, values, None)
            return
        if patch.add_tags:
            requests["add_tags"].send(self, ticket.id, values, None)
        if patch.remove_tags:
            requests["remove_tags"].send(self, ticket.id, values, None)

    def _assign(self, ticket: Ticket, target: str) -> None:
        request = self.settings["write"].requests.get("assign")
        if request is None:
            log.warning("ticket %s: escalation asks to assign it to %r; adapter.write.assign is not configured, "
                        "so it is not assigned", ticket.id, target)
            return
        request.send(self, ticket.id, {"assignee": target}, None)


@hookimpl
def govhall_register_adapters(register):
    """A REST helpdesk declared in TOML."""
    register("rest", GenericRESTAdapter)
