"""The TOML configuration: defaults, validation with key paths, and typed access.

Unknown keys and values of the wrong type are rejected with the full key path
and the expected type (``policy.time_limit.complaint_working_days: expected an
integer, got 'x'``). Policy sections come from the plugins that are loaded, each
numeric key with the :class:`Range` its plugin declares (``policy.time_limit.
complaint_working_days: expected an integer from 1 to 365, got -15``). Names of
calendars and adapters are checked against the registered ones when the file is
loaded, so a configuration that loads is one that evaluates.
"""
from __future__ import annotations

import json
import os
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any, Collection, Mapping, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

LANGS = ("zh", "en")


def cache_dir() -> Path | None:
    """The folder of govhall's caches (the ``cn`` calendar, the installed plugins), or None when off.

    ``$GOVHALL_CACHE_DIR``, else ``$XDG_CACHE_HOME/govhall``, else ``~/.cache/govhall``;
    ``GOVHALL_CACHE_DIR=""`` turns the caches off.
    """
    configured = os.environ.get("GOVHALL_CACHE_DIR")
    if configured is not None:
        return Path(configured) if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "govhall"


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names the key path."""


_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false", list: "a list", dict: "a table"}


def check_value(value: Any, expected: Any, path: str) -> Any:
    """Validate ``value`` against ``expected`` (a type, or ``[type]`` for a list)."""
    if isinstance(expected, list):
        if not isinstance(value, list):
            raise ConfigError(f"{path}: expected a list, got {value!r}")
        return [check_value(v, expected[0], f"{path}[{i}]") for i, v in enumerate(value)]
    if expected is date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{path}: expected a date (YYYY-MM-DD), got {value!r}") from None
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, bool) != (expected is bool) or not isinstance(value, expected):
        raise ConfigError(f"{path}: expected {_TYPE_NAMES.get(expected, expected.__name__)}, got {value!r}")
    return value


@attrs.frozen
class Range:
    """The values a numeric policy key accepts: ``min <= value <= max``, both bounds included.

    ``None`` leaves that side open. A plugin declares one per numeric key next to
    the defaults: ``register("my_rule", {"days": 5}, ranges={"days": Range(1, 365)})``.
    """

    min: int | float | None = None
    max: int | float | None = None

    def __attrs_post_init__(self) -> None:
        for bound in (self.min, self.max):
            if bound is not None and (isinstance(bound, bool) or not isinstance(bound, (int, float))):
                raise TypeError(f"Range bounds must be numbers or None, got {bound!r}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"Range({self.min!r}, {self.max!r}): min is above max")

    def __contains__(self, value: Any) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)

    def describe(self, integer: bool) -> str:
        """What the range accepts, for a message: ``an integer from 1 to 365``."""
        what = "an integer" if integer else "a number"
        if self.min is not None and self.max is not None:
            return f"{what} from {self.min} to {self.max}"
        if self.min is not None:
            return f"{what} of at least {self.min}"
        if self.max is not None:
            return f"{what} of at most {self.max}"
        return what


class PolicyDefaults(dict):
    """One policy section as registered: ``{key: default}``, with the declared ``ranges`` (``{key: Range}``).

    It is a plain dict of the defaults (what ``[policy.<section>]`` starts from);
    a section registered without ranges checks only the types of its values.
    """

    def __init__(self, defaults: Mapping[str, Any] = (), ranges: Mapping[str, Range] | None = None):
        super().__init__(defaults)
        self.ranges: dict[str, Range] = dict(ranges or {})


def policy_ranges(section: str, defaults: Mapping[str, Any], ranges: Mapping[str, Any] | None) -> dict[str, Range]:
    """A plugin's ``ranges`` checked against its defaults: every key a numeric key of the section,
    every default inside its range; a ``(min, max)`` pair is read as a :class:`Range`.

    :raises ValueError: naming the section and the key.
    """
    out: dict[str, Range] = {}
    for key, spec in (ranges or {}).items():
        where = f"policy section {section!r}, key {key!r}"
        if key not in defaults:
            raise ValueError(f"{where}: a range for a key without a default")
        default = defaults[key]
        if isinstance(default, bool) or not isinstance(default, (int, float)):
            raise ValueError(f"{where}: a range for a key that is not a number")
        spec = spec if isinstance(spec, Range) else Range(*spec)
        if default not in spec:
            raise ValueError(f"{where}: the default {default!r} is outside the range "
                             f"({spec.describe(isinstance(default, int))})")
        out[key] = spec
    return out


def _type_of_default(default: Any) -> Any:
    if isinstance(default, (list, tuple)):
        return [type(default[0]) if default else str]
    return float if isinstance(default, float) else type(default)


def key_path(path: str, key: str) -> str:
    """``path.key``, with the key quoted as TOML would when it is not a bare key."""
    shown = key if _BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)
    return f"{path}.{shown}" if path else shown


def _unknown(table: Mapping[str, Any], known: set[str], path: str) -> None:
    extra = sorted(set(map(str, table)) - known)
    if extra:
        raise ConfigError(f"{key_path(path, extra[0])}: unknown key (known: {', '.join(sorted(known))})")


def _table(raw: Any, path: str) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a table, got {raw!r}")
    return raw


@attrs.frozen
class EscalationTargets:
    """Who receives level 1 (department head / 首席代表) and level 2 (the center)."""

    level1: str | None = None
    level2: str | None = None


@attrs.frozen(eq=False)
class Config:
    """A validated configuration. Build it with :func:`load_config` or :func:`default_config`."""

    lang: str = "zh"
    strict: bool = False
    """``strict = true``: what reading a ticket only warns about (an unknown field or event type, an
    unknown answer element) makes the ticket an error instead (see ``docs/tickets.md``)."""
    timezone: ZoneInfo = ZoneInfo("Asia/Shanghai")
    warn_ratio: float = 0.8
    calendar: str = "cn"
    extra_holidays: tuple[date, ...] = ()
    extra_working_days: tuple[date, ...] = ()
    calendar_file: Path | None = None
    published_years: tuple[int, ...] = ()
    policies: Mapping[str, Mapping[str, Any]] = attrs.Factory(dict)
    escalation_default: EscalationTargets = EscalationTargets()
    escalation_departments: Mapping[str, EscalationTargets] = attrs.Factory(dict)
    escalation_write: Mapping[str, Any] = attrs.Factory(lambda: dict(ESCALATION_WRITE_DEFAULTS))
    adapter: Mapping[str, Any] = attrs.Factory(lambda: {"type": "local"})
    adapters: Mapping[str, Mapping[str, Any]] = attrs.Factory(dict)
    state_path: Path = Path(".govhall/state.sqlite")
    base_dir: Path = Path(".")

    def policy(self, section: str) -> Mapping[str, Any]:
        """The policy keys of one plugin, defaults merged with the file's values."""
        return self.policies.get(section, {})

    def escalation_target(self, department: str | None, level: int) -> str | None:
        """The target for a level at a department, falling back to the default targets."""
        targets = self.escalation_departments.get(department or "", self.escalation_default)
        value = targets.level1 if level == 1 else targets.level2
        if value is None:
            value = self.escalation_default.level1 if level == 1 else self.escalation_default.level2
        return value

    def with_lang(self, lang: str) -> "Config":
        """A copy in another output language."""
        if lang not in LANGS:
            raise ConfigError(f"lang: expected one of {', '.join(LANGS)}, got {lang!r}")
        return attrs.evolve(self, lang=lang)

    def with_strict(self, strict: bool = True) -> "Config":
        """A copy with ``strict`` set (``--strict`` on the command line): ticket warnings become errors."""
        return attrs.evolve(self, strict=bool(strict))

    @property
    def adapter_timezone(self) -> ZoneInfo | None:
        """The helpdesk's time zone for naive timestamps (``[adapter] timezone``), if named."""
        name = self.adapter.get("timezone")
        return ZoneInfo(name) if name else None

    def with_adapter(self, settings: Mapping[str, Any]) -> "Config":
        """A copy that uses another adapter section."""
        return attrs.evolve(self, adapter=settings)

    def resolve(self, path: str | Path) -> Path:
        """A path from the config file, relative to the file's folder."""
        p = Path(path)
        return p if p.is_absolute() else self.base_dir / p


_TOP = {"lang", "strict", "timezone", "calendar", "policy", "escalation", "adapter", "adapters", "state"}


def _targets(raw: Any, path: str) -> EscalationTargets:
    table = _table(raw, path)
    _unknown(table, {"level1", "level2"}, path)
    return EscalationTargets(
        level1=check_value(table["level1"], str, f"{path}.level1") if "level1" in table else None,
        level2=check_value(table["level2"], str, f"{path}.level2") if "level2" in table else None,
    )


ESCALATION_WRITE_DEFAULTS = {"field": "govhall_escalated_to", "note": True, "assign": False}


def _escalation_write(raw: Any) -> dict[str, Any]:
    """How the built-in escalation writes: a field, an internal note, an assignment."""
    table = _table(raw, "escalation.write")
    _unknown(table, set(ESCALATION_WRITE_DEFAULTS), "escalation.write")
    out = dict(ESCALATION_WRITE_DEFAULTS)
    for key, value in table.items():
        out[key] = check_value(value, type(ESCALATION_WRITE_DEFAULTS[key]), f"escalation.write.{key}")
    return out


#: The file name ``govhall calendar import`` gives a new calendar file.
CALENDAR_FILE_DEFAULT = "holidays-cn.toml"

_CALENDAR_FILE_HEADER = """\
# Working-day calendar: years imported from the State Council's holiday notices
# by `govhall calendar import NOTICE`. govhall.toml names this file with
# [calendar] file = "...". The command rewrites the file (other years are kept,
# comments are not); put local corrections in govhall.toml's [calendar]
# holidays / working_days, which take precedence over this file.
"""


class CalendarYear(NamedTuple):
    """One year of a calendar file: its days off, make-up working days and source."""

    holidays: tuple[date, ...]
    working_days: tuple[date, ...] = ()
    source: str | None = None


def _year_dates(value: Any, path: str, year: int) -> tuple[date, ...]:
    if isinstance(value, list):
        for i, v in enumerate(value):
            if isinstance(v, datetime):
                raise ConfigError(f"{path}[{i}]: expected a date (YYYY-MM-DD), got a date and time {v.isoformat()}")
    days = check_value(value, [date], path)
    for i, d in enumerate(days):
        if not (d.year == year or (d.year == year - 1 and d.month == 12) or (d.year == year + 1 and d.month == 1)):
            raise ConfigError(
                f"{path}[{i}]: {d.isoformat()} is not in {year} (a year's notice reaches only into "
                f"December of {year - 1} and January of {year + 1})"
            )
    return tuple(sorted(set(days)))


def calendar_years(raw: Mapping[str, Any]) -> dict[int, CalendarYear]:
    """Validate a parsed calendar file: ``[years.YYYY]`` tables of ``holidays``,
    ``working_days`` and ``source``. Raise :class:`ConfigError` naming the key path."""
    _unknown(raw, {"years"}, "")
    out: dict[int, CalendarYear] = {}
    role: dict[date, tuple[str, str]] = {}
    for key, table in _table(raw.get("years"), "years").items():
        path = key_path("years", str(key))
        if not re.fullmatch(r"\d{4}", str(key)):
            raise ConfigError(f"{path}: expected a year (four digits) as the key")
        year = int(key)
        table = _table(table, path)
        _unknown(table, {"holidays", "working_days", "source"}, path)
        if "holidays" not in table:
            raise ConfigError(f"{path}.holidays: missing (the year's days off)")
        entry = CalendarYear(
            holidays=_year_dates(table["holidays"], f"{path}.holidays", year),
            working_days=_year_dates(table.get("working_days", []), f"{path}.working_days", year),
            source=check_value(table["source"], str, f"{path}.source") if "source" in table else None,
        )
        for kind, days in (("holidays", entry.holidays), ("working_days", entry.working_days)):
            for d in days:
                other = role.setdefault(d, (kind, f"{path}.{kind}"))
                if other[0] != kind:
                    raise ConfigError(f"{path}.{kind}: {d.isoformat()} is also in {other[1]}")
        out[year] = entry
    return out


def read_calendar_file(path: str | Path) -> dict[int, CalendarYear]:
    """The years of a calendar file; none when the file does not exist.

    :raises ConfigError: the file exists but cannot be read or is malformed;
        the message names the file and the key path.
    """
    import tomllib  # at first use: a check with the built-in defaults reads no TOML

    path = Path(path)
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"calendar.file: {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"calendar.file: {path}: not valid TOML: {exc}") from None
    try:
        return calendar_years(raw)
    except ConfigError as exc:
        raise ConfigError(f"calendar.file: {path}: {exc}") from None


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_dates(days: tuple[date, ...]) -> str:
    if not days:
        return "[]"
    rows = [", ".join(d.isoformat() for d in days[i : i + 6]) for i in range(0, len(days), 6)]
    return "[\n" + "".join(f"    {row},\n" for row in rows) + "]"


def render_calendar_file(years: Mapping[int, CalendarYear]) -> str:
    """The TOML text of a calendar file (years in order); :func:`read_calendar_file` reads it back."""
    parts = [_CALENDAR_FILE_HEADER]
    for year in sorted(years):
        entry = years[year]
        parts.append(f"\n[years.{year}]\n")
        if entry.source is not None:
            parts.append(f"source = {toml_string(entry.source)}\n")
        parts.append(f"holidays = {_toml_dates(tuple(sorted(entry.holidays)))}\n")
        parts.append(f"working_days = {_toml_dates(tuple(sorted(entry.working_days)))}\n")
    return "".join(parts)


def check_name(value: str, known: Collection[str] | None, path: str, what: str,
               unavailable: Mapping[str, str] | None = None) -> str:
    """A registered name (a calendar, an adapter): ConfigError naming ``path``, the known names and
    the closest one, and the plugins that are installed but not loaded (which may be the ones that
    offer it). With ``known`` None only an empty or blank name is refused."""
    known_list = ", ".join(sorted(known)) if known else "none"
    not_loaded = "".join(f"; plugin {name!r} {why}" for name, why in sorted((unavailable or {}).items()))
    if not value.strip():
        shown = f" (known: {known_list}{not_loaded})" if known is not None else ""
        raise ConfigError(f"{path}: expected the name of {what}, got an empty name{shown}")
    if known is not None and value not in known:
        import difflib  # at first use: only a mistake needs it

        close = difflib.get_close_matches(value, list(known), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ConfigError(f"{path}: unknown {what.split(' ', 1)[-1]} {value!r} ({hint}known: {known_list}{not_loaded})")
    return value


def _adapter_table(raw: Any, path: str, default_type: str, adapters: Collection[str] | None = None,
                   unavailable: Mapping[str, str] | None = None) -> dict[str, Any]:
    """An adapter section: ``type`` (a registered adapter, when the section is given) and ``timezone``
    checked here, the rest by the adapter."""
    table = dict(_table(raw, path))
    check_value(table.setdefault("type", default_type), str, f"{path}.type")
    check_name(table["type"], adapters if raw is not None else None, f"{path}.type", "an adapter", unavailable)
    if "timezone" in table:
        try:
            ZoneInfo(check_value(table["timezone"], str, f"{path}.timezone"))
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"{path}.timezone: unknown time zone {table['timezone']!r}") from None
    return table


def build_config(raw: Mapping[str, Any], policy_defaults: Mapping[str, Mapping[str, Any]], base_dir: Path = Path("."),
                 unavailable: Mapping[str, str] | None = None, *, calendars: Collection[str] | None = None,
                 adapters: Collection[str] | None = None) -> Config:
    """Validate a parsed TOML document against the known keys and the plugins' policies.

    ``unavailable`` maps the names of plugins that are installed but not loaded
    to why ("failed to load: ...", "is disabled ..."): a ``[policy.<name>]``
    section of theirs is refused with that reason instead of "unknown key".
    A section's numeric keys are checked against the ranges of its
    :class:`PolicyDefaults`. ``calendars`` and ``adapters`` are the registered
    names (:func:`load_config` passes the plugin manager's): ``[calendar] name``
    and the ``type`` of an adapter section the file gives must be one of them;
    without them only an empty name is refused.
    """
    _unknown(raw, _TOP, "")
    strict = check_value(raw.get("strict", False), bool, "strict")
    lang = check_value(raw.get("lang", "zh"), str, "lang")
    if lang not in LANGS:
        raise ConfigError(f"lang: expected one of {', '.join(LANGS)}, got {lang!r}")
    tz_name = check_value(raw.get("timezone", "Asia/Shanghai"), str, "timezone")
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"timezone: unknown time zone {tz_name!r}") from None

    cal = _table(raw.get("calendar"), "calendar")
    _unknown(cal, {"name", "holidays", "working_days", "file"}, "calendar")
    calendar = check_name(check_value(cal.get("name", "cn"), str, "calendar.name"),
                          calendars if "name" in cal else None, "calendar.name", "a calendar", unavailable)
    extra_holidays = check_value(cal.get("holidays", []), [date], "calendar.holidays")
    extra_working_days = check_value(cal.get("working_days", []), [date], "calendar.working_days")
    calendar_file: Path | None = None
    published_years: tuple[int, ...] = ()
    if "file" in cal:
        calendar_file = Path(check_value(cal["file"], str, "calendar.file"))
        if not calendar_file.is_absolute():
            calendar_file = base_dir / calendar_file
        years = read_calendar_file(calendar_file)
        published_years = tuple(sorted(years))
        file_holidays = {d for y in years.values() for d in y.holidays}
        file_working = {d for y in years.values() for d in y.working_days}
        # The config's own dates are local corrections: they win over the file's.
        own_holidays, own_working = set(extra_holidays), set(extra_working_days)
        extra_holidays = sorted(own_holidays | (file_holidays - own_working))
        extra_working_days = sorted(own_working | (file_working - own_holidays))

    policy_raw = _table(raw.get("policy"), "policy")
    for section in policy_raw:
        if section not in policy_defaults and section in (unavailable or {}):
            raise ConfigError(f"{key_path('policy', section)}: declared by plugin {section!r}, which "
                              f"{unavailable[section]}")
    _unknown(policy_raw, {"warn_ratio", *policy_defaults}, "policy")
    warn_ratio = check_value(policy_raw.get("warn_ratio", 0.8), float, "policy.warn_ratio")
    if not 0 < warn_ratio <= 1:
        raise ConfigError(f"policy.warn_ratio: expected a number in (0, 1], got {warn_ratio!r}")
    policies: dict[str, dict[str, Any]] = {}
    for section, defaults in policy_defaults.items():
        given = _table(policy_raw.get(section), f"policy.{section}")
        _unknown(given, set(defaults), f"policy.{section}")
        merged = dict(defaults)
        ranges = getattr(defaults, "ranges", {})
        for key, value in given.items():
            path = key_path(f"policy.{section}", key)
            merged[key] = check_value(value, _type_of_default(defaults[key]), path)
            if key in ranges and merged[key] not in ranges[key]:
                raise ConfigError(f"{path}: expected {ranges[key].describe(isinstance(defaults[key], int))}, "
                                  f"got {value!r}")
        policies[section] = merged

    esc = _table(raw.get("escalation"), "escalation")
    _unknown(esc, {"level1", "level2", "departments", "write"}, "escalation")
    departments = {
        name: _targets(t, key_path("escalation.departments", name))
        for name, t in _table(esc.get("departments"), "escalation.departments").items()
    }
    default = _targets({k: v for k, v in esc.items() if k in ("level1", "level2")}, "escalation")

    adapter = _adapter_table(raw.get("adapter"), "adapter", "local", adapters, unavailable)
    adapter_sections = {
        name: _adapter_table(_table(t, key_path("adapters", name)), key_path("adapters", name), name, adapters,
                             unavailable)
        for name, t in _table(raw.get("adapters"), "adapters").items()
    }
    state = _table(raw.get("state"), "state")
    _unknown(state, {"path"}, "state")
    state_path = Path(check_value(state.get("path", ".govhall/state.sqlite"), str, "state.path"))

    return Config(
        lang=lang,
        strict=strict,
        timezone=tz,
        warn_ratio=warn_ratio,
        calendar=calendar,
        extra_holidays=tuple(extra_holidays),
        extra_working_days=tuple(extra_working_days),
        calendar_file=calendar_file,
        published_years=published_years,
        policies=policies,
        escalation_default=default,
        escalation_departments=departments,
        escalation_write=_escalation_write(esc.get("write")),
        adapter=adapter,
        adapters=adapter_sections,
        state_path=state_path if state_path.is_absolute() else base_dir / state_path,
        base_dir=base_dir,
    )


def _policy_defaults(pm: Any) -> dict[str, dict[str, Any]]:
    return {section: defaults for section, (_, defaults) in pm.policies.items()}


def _unavailable(pm: Any) -> dict[str, str]:
    """Installed plugins that are not loaded, and why."""
    out = {name: f"failed to load ({error})" for name, error in getattr(pm, "load_failures", {}).items()}
    out.update({name: "is disabled (GOVHALL_DISABLE_PLUGINS)" for name in getattr(pm, "disabled", ())})
    return out


def load_config(path: str | Path, pm: Any) -> Config:
    """Read and validate a TOML file; raise :class:`ConfigError` naming the key path."""
    import tomllib  # at first use: a check with the built-in defaults reads no TOML

    path = Path(path)
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return build_config(raw, _policy_defaults(pm), path.resolve().parent, _unavailable(pm), **_names(pm))


def _names(pm: Any) -> dict[str, Collection[str] | None]:
    """The registered calendars and adapters of ``pm`` (None for a manager without those registries)."""
    adapters = getattr(pm, "adapter_names", None)  # names only: the adapters' modules are imported when used
    if adapters is None:
        adapters = getattr(pm, "adapters", None)
    return {"calendars": getattr(pm, "calendars", None), "adapters": adapters}


def default_config(pm: Any) -> Config:
    """The configuration with every default of the loaded plugins."""
    return build_config({}, _policy_defaults(pm), **_names(pm))
