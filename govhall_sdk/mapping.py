"""Mapping a helpdesk's own values to the interchange format, shared by REST adapters.

:class:`HelpdeskMapping` reads an adapter section's tables (kinds, channels,
statuses, departments, agents, field paths, applicant groups, note prefixes) and
turns a helpdesk's ticket view into the parts of an interchange ticket; a note
that starts with a configured prefix (``[受理]``, ``[补正告知] 缺件: 申请表``)
becomes the event it records. Adapters then validate the result with
:func:`govhall_sdk.parse.parse_item`, which gives per-ticket errors with paths.
:class:`govhall_sdk.rest.MappedAdapter` validates the tables (:func:`check_mapping`)
and builds the mapping for an adapter.

Notes (:func:`read_note`, shared with the Redmine adapter):

- only a note by staff records an event (``tickets.md``: "actor.role says who
  acted"); an applicant's or a system's message is a reply whatever it starts with;
- after the prefix, a ``key: value`` pair is a field only when its key, or its
  Chinese alias, is a field of the event type; the rest is the event's ``body``;
  lists end at the first sentence end; answers (``[答复]``) name their elements,
  by their Chinese names too, and a bare answer names none;
- a value that cannot be read is dropped and described in the caller's
  ``problems`` list; an event that cannot stand without it is not recorded. The
  adapter prefixes each problem with the helpdesk's own location (``journal 12:``,
  ``comment 900123:``) and returns it as a warning of its pulled item
  (:func:`govhall_sdk.adapter.with_warnings`); ``govhall run`` reports warnings
  among the ticket's errors (exit status 1) every run until they are fixed, and
  evaluates and writes the rest of the ticket.
"""
from __future__ import annotations

import html
import re
from datetime import date, datetime, time, tzinfo
from typing import Any, Callable, Mapping, Sequence

import attrs

from .config import ConfigError, check_value
from .model import CHANNELS, EVENT_CLASSES, GROUPS, KINDS, ROLES, STATUSES
from .parse import ELEMENT_NAMES
from .privacy import mask_text

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
#: Note prefixes (a note or reply starting with one) and the event it records. A table
#: gives fixed fields; its ``text`` names the field the free text after the prefix fills
#: (``[答复] 依据、条件、时限`` lists the elements of an answer).
DEFAULT_NOTE_PREFIXES: dict[str, Any] = {
    "[受理]": "acceptance",
    "[不予受理]": {"type": "rejection", "stage": "before_acceptance"},
    "[不予登记]": {"type": "rejection", "stage": "after_acceptance"},
    "[补正告知]": {"type": "notice", "form": "written"},
    "[一次性告知]": {"type": "notice", "form": "written"},
    "[答复]": {"type": "notice", "text": "elements"},
    "[答复要素]": {"type": "notice", "text": "elements"},
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
#: The elements of an answer to a consultation (一次性告知: 依据、条件、材料、办事程序、办理时限).
ELEMENTS = ("basis", "conditions", "materials", "procedure", "time_limit")
#: The names of the elements as staff write them (the interchange's Chinese names, and a few more), and the
#: normalized element.
ELEMENT_WORDS = {**ELEMENT_NAMES, "time limit": "time_limit", "期限": "time_limit", "办理期限": "time_limit"}
#: Proxy service modes as staff write them.
MODE_WORDS = {
    "help": "help", "proxy": "proxy", "home": "home", "assisted": "assisted",
    "帮办": "help", "代办": "proxy", "上门办": "home", "上门": "home", "协助办": "assisted", "协助": "assisted",
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
_ELEMENT_SPLIT = re.compile(r"\s*(?:[,，、;；/]|以及|和|及|与|\band\b)\s*")
# A list after a prefix (or a key) ends at the first sentence end; what follows is body text.
_SENTENCE_END = re.compile(r"[。！？!?\n]|\.(?=\s|$)")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_EDGES = " \t\r\n;；,，、"
_KEY_ALIASES = {
    "缺件": "missing", "缺少材料": "missing", "需补正": "missing", "要素": "elements", "方式": "form",
    "形式": "form", "联系方式": "contact", "转至": "to_department", "接收部门": "to_department",
    "原部门": "from_department", "部门": "to_department", "经办人": "to_staff", "地点": "location",
    "电话": "phone", "通知书": "notice_issued", "原因": "reason", "理由": "reason", "依据": "legal_basis",
    "法律依据": "legal_basis", "工作日": "working_days", "天数": "working_days", "批准人": "approved_by",
    "材料": "items", "金额": "amount", "法定收费": "legally_required", "评分": "rating", "满意度": "rating",
    "结果": "result", "代办员": "agent", "帮办员": "agent", "模式": "mode",
}
_CHOICES = {
    "form": {"oral": "oral", "written": "written", "public": "public",
             "口头": "oral", "书面": "written", "公开": "public", "公示": "public"},
    "mode": MODE_WORDS,
    "stage": {"before_acceptance": "before_acceptance", "after_acceptance": "after_acceptance",
              "受理前": "before_acceptance", "受理后": "after_acceptance"},
}
_LIST_FIELDS = {"missing", "elements", "items"}
_INT_FIELDS = {"working_days": (1, None), "rating": (1, 5)}
_BOOL_FIELDS = {"notice_issued", "legally_required"}
_ACTOR_FIELDS = {"approved_by", "agent"}
_COMMON_KEYS = {"type", "at", "actor", "extra"}
#: Event types that cannot stand without a field: a note that gives no readable value is not that event.
_NEEDS = {"extension": "working_days", "evaluation": "rating"}
_TRUE = {"true", "yes", "1", "是", "有", "已", "已出具", "已发放"}
_FALSE = {"false", "no", "0", "否", "无", "未", "未出具"}
_BAD = object()
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
        if isinstance(value, dict) and value.get("text") not in (None, *(event_fields(etype) or ())):
            raise ConfigError(f"{path}.text: {value['text']!r} is not a field of {etype}")
        if isinstance(value, dict) and not isinstance(value.get("approved", False), bool):
            raise ConfigError(f"{path}.approved: expected true or false, got {value['approved']!r}")
    for target, table in settings.get("assignees", {}).items():
        check_value(table, dict, f"adapter.assignees.{target}")


MAPPING_SCHEMA: dict[str, Any] = {
    "start": "2000-01-01T00:00:00Z",
    "per_page": 100,
    "settle_seconds": 0.0,
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


def path_value(view: Mapping[str, Any], spec: str) -> Any:
    """The value at ``a.b`` in ``view``; alternatives with ``|`` (the first that is set)."""
    for path in filter(None, (p.strip() for p in (spec or "").split("|"))):
        value: Any = view
        for part in path.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if value not in (None, "", []):
            return value
    return None


def assignee(settings: Mapping[str, Any], target: str) -> dict[str, Any]:
    """The platform's assignment for an escalation target, from ``[adapter.assignees]``."""
    found = settings["assignees"].get(target)
    if found is None:
        raise ValueError(f"adapter.assignees has no entry for escalation target {target!r}")
    return dict(found)


#: The keys of one ``[adapter.forms.<form>]`` table.
FORM_KEYS = {"promised_working_days": int, "materials": [str]}


def check_forms(forms: Mapping[str, Any]) -> None:
    """``[adapter.forms.<form>]``: per form (a Zendesk ticket form, a Jira request type), the
    ``promised_working_days`` and ``materials`` its tickets have when no field says."""
    for form, table in forms.items():
        check_value(table, dict, f"adapter.forms.{form}")
        for key, value in table.items():
            if key not in FORM_KEYS:
                raise ConfigError(f"adapter.forms.{form}.{key}: unknown key (known: {', '.join(FORM_KEYS)})")
            check_value(value, FORM_KEYS[key], f"adapter.forms.{form}.{key}")


def form_defaults(raw: dict[str, Any], defaults: Mapping[str, Any] | None) -> None:
    """Fill what a ticket's form promises when no field said it."""
    if not defaults:
        return
    if raw.get("promised_working_days") is None and "promised_working_days" in defaults:
        raw["promised_working_days"] = defaults["promised_working_days"]
    if not (raw.get("materials") or {}).get("required") and defaults.get("materials"):
        raw["materials"] = {"required": list(defaults["materials"])}


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
        self.prefixes = sorted(((p, note_spec(v)) for p, v in prefixes.items()), key=lambda item: -len(item[0]))
        self.group_values = {**DEFAULT_GROUP_VALUES, **settings["applicant_groups"]}

    # -- values
    def field(self, view: Mapping[str, Any], name: str) -> Any:
        """The value at the configured path(s) of ``name`` (``a.b``; alternatives with ``|``)."""
        return path_value(view, self.fields.get(name) or "")

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
    def note_event(self, text: str, at: str, actor: dict[str, Any] | None,
                   problems: list[str] | None = None) -> dict[str, Any] | None:
        """The event a staff note records when it starts with a configured prefix, else None.

        Only a note by staff (``actor.role == "staff"``) records an event: an
        applicant's or a system's message that starts with a prefix is a reply
        and nothing more. ``problems`` collects the values that could not be read
        (the value is dropped; an extension without readable working days is no
        extension at all).
        """
        if actor is None or actor.get("role") != "staff":
            return None
        stripped = text.lstrip()
        for prefix, spec in self.prefixes:
            if stripped.startswith(prefix):
                break
        else:
            return None
        rest = stripped[len(prefix):].strip()
        event = read_note(prefix, spec, rest, problems if problems is not None else [],
                          actor=actor, actor_for=self.actor)
        if event is None:
            return None
        event["at"] = at
        event["actor"] = actor
        event["note"] = rest
        return event


def note_spec(value: Any) -> dict[str, Any]:
    """A note prefix's event as ``{type, text, approved, fixed}`` (from ``"type"`` or a table)."""
    table = dict(value) if isinstance(value, Mapping) else {"type": value}
    return {"type": table.pop("type", None), "text": table.pop("text", None),
            "approved": bool(table.pop("approved", False)), "fixed": table}


def event_fields(etype: str) -> frozenset[str] | None:
    """The interchange fields of an event type (None for a type the model does not know)."""
    cls = EVENT_CLASSES.get(etype)
    if cls is None:
        return None
    return frozenset(f.name for f in attrs.fields(cls)) - _COMMON_KEYS


def element(word: str) -> str | None:
    """The normalized element an answer names (``依据`` -> ``basis``), or None."""
    word = word.strip()
    return ELEMENT_WORDS.get(word) or ELEMENT_WORDS.get(word.lower())


def first_sentence(text: str) -> tuple[str, str]:
    """``text`` cut at its first sentence end (。！？, a new line): the sentence and what follows."""
    found = _SENTENCE_END.search(text)
    if found is None:
        return text.strip(), ""
    return text[:found.start()].strip(), text[found.end():].strip()


def _clean(text: str) -> str:
    lines = (line.strip(_EDGES) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def read_note(prefix: str, spec: Mapping[str, Any], rest: str, problems: list[str], *,
              actor: dict[str, Any] | None = None,
              actor_for: Callable[[str], dict[str, Any]] | None = None) -> dict[str, Any] | None:
    """The event a prefixed note records: ``spec``'s type and fixed fields, the note's fields, its body.

    After the prefix, ``key: value`` pairs are fields only when the key (or its
    Chinese alias, ``工作日``) is a field of the event type; any other text, pairs
    with other keys included, is the note's ``body``. The field ``spec["text"]``
    names (a list of items, the number of days, a contact...) is then read from
    that body when no pair gave it: a list ends at the first sentence end. An
    answer (``text = "elements"``) names the elements told before its first
    sentence end (``依据、条件、材料、程序、时限。您好…``), or by keys such as
    ``依据: …``; a bare answer names none (``elements: []``).

    A value that cannot be read is dropped and described in ``problems``; None
    when the event cannot stand without it (an extension's working days, an
    evaluation's rating).
    """
    etype = spec["type"]
    known = event_fields(etype)
    into = spec.get("text")
    answer = into == "elements" or "elements" in spec["fixed"]
    fields: dict[str, Any] = {}
    told: list[str] = []
    bad: set[str] = set()
    kept: list[str] = []
    last = 0
    for pair in _PAIR.finditer(rest):
        raw_key, raw_value = pair.group(1).strip(), pair.group(2).strip()
        if answer and element(raw_key):
            told.append(element(raw_key))  # "依据: 《社会保险法》第十九条": the basis was told
            continue
        key = _KEY_ALIASES.get(raw_key, raw_key)
        if key in _COMMON_KEYS or (known is not None and key not in known):
            continue  # free text that happens to hold a colon: part of the body
        kept.append(rest[last:pair.start()])
        last = pair.end()
        value, after = _pair_value(key, raw_value, actor_for)
        if after:
            kept.append("\n" + after + "\n")
        if value is _BAD:
            bad.add(key)
            problems.append(_unreadable(prefix, etype, raw_key, raw_value))
        else:
            fields[key] = value
    kept.append(rest[last:])
    body = _clean("\n".join(kept))
    if into and into not in fields and into not in spec["fixed"] and into not in bad and body:
        source = body
        value, body = _text_value(into, body, actor_for)
        if value is _BAD:
            bad.add(into)
            problems.append(_unreadable(prefix, etype, into, source))
        elif value is not None:
            fields[into] = value
    if answer:
        named = [*_elements(spec["fixed"].get("elements")), *(fields.get("elements") or []), *told]
        fields["elements"] = list(dict.fromkeys(named))
    need = _NEEDS.get(etype)
    if need and need not in fields and need not in spec["fixed"]:
        if need not in bad:
            problems.append(f"{prefix}: no {need.replace('_', ' ')} given; not counted as {etype}")
        return None
    event: dict[str, Any] = {"type": etype, **spec["fixed"], **fields}
    if "elements" in event:
        event["elements"] = _elements(event["elements"])
    if spec.get("approved") and actor is not None:
        event.setdefault("approved_by", actor)
    if body:
        event["body"] = body
    return event


def _elements(value: Any) -> list[str]:
    items = value if isinstance(value, list) else _ELEMENT_SPLIT.split(str(value)) if value else []
    return [element(str(v)) or str(v).strip() for v in items if str(v).strip()]


def _unreadable(prefix: str, etype: str, key: str, value: str) -> str:
    need = _NEEDS.get(etype)
    what = f"not counted as {etype}" if need == _KEY_ALIASES.get(key, key) else "ignored"
    hint = {"working_days": "a positive whole number of working days", "rating": "a whole number from 1 to 5",
            "amount": "a number", "notice_issued": "yes or no", "legally_required": "yes or no",
            "form": "口头, 书面 or 公开", "mode": "帮办, 代办, 上门办 or 协助办",
            "stage": "受理前 or 受理后"}.get(_KEY_ALIASES.get(key, key), "a readable value")
    return f"{prefix} {key}: {mask_text(value)[:40]!r} is not {hint}; {what}"  # masked, then cut


def _pair_value(key: str, value: str, actor_for: Callable[[str], dict[str, Any]] | None) -> tuple[Any, str]:
    """The value of a ``key: value`` pair (``_BAD`` when unreadable), and any text after a list's end."""
    if key in _LIST_FIELDS:
        head, after = first_sentence(value)
        items = _elements(head) if key == "elements" else [v for v in _SPLIT.split(head) if v]
        return items, after
    return _scalar(key, value, actor_for), ""


def _scalar(key: str, value: str, actor_for: Callable[[str], dict[str, Any]] | None) -> Any:
    if key in _INT_FIELDS:
        found = _NUMBER.match(value)
        low, high = _INT_FIELDS[key]
        if found is None or "." in found.group():
            return _BAD
        number = int(found.group())
        return number if number >= low and (high is None or number <= high) else _BAD
    if key == "amount":
        found = _NUMBER.search(value.replace(",", ""))
        return float(found.group()) if found else _BAD
    if key in _BOOL_FIELDS:
        low = value.lower()
        return True if low in _TRUE else False if low in _FALSE else _BAD
    if key in _ACTOR_FIELDS:
        return (actor_for(value) if actor_for else {"id": value, "role": "staff"}) if value else None
    if key in _CHOICES:
        return _CHOICES[key].get(value, _BAD) if value else None
    return value


def _text_value(into: str, text: str, actor_for: Callable[[str], dict[str, Any]] | None) -> tuple[Any, str]:
    """The shorthand: the free text after a prefix read into one field; the value and the body left."""
    if into in _LIST_FIELDS:
        head, after = first_sentence(text)
        items = [v for v in (_ELEMENT_SPLIT if into == "elements" else _SPLIT).split(head) if v]
        if into == "elements":
            names = [element(i) for i in items]
            if not items or not all(names):
                return [n for n in names if n], text  # prose, not a list of elements: all of it is body
            return names, after
        return items, after
    if into in _INT_FIELDS or into == "amount":
        found = _NUMBER.search(text)
        if found is None:
            return _BAD, text
        value = _scalar(into, found.group(), actor_for)
        return value, "" if text.strip() == found.group() else text
    if into in _CHOICES:
        word = re.split(r"[\s,，、;；。]+", text, maxsplit=1)
        value = _CHOICES[into].get(word[0])
        return (value, word[1] if len(word) > 1 else "") if value else (None, text)
    if into in _BOOL_FIELDS or into in _ACTOR_FIELDS:
        value = _scalar(into, text, actor_for)
        return value, ""
    return text, ""
