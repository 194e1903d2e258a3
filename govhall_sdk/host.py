"""The plugin host: one plugin manager, entry points loaded lazily, once, each isolated.

:class:`GovhallPluginManager` is the only place that knows pluggy. Every hook is
called through it, with one typed method per hook (``evaluate_ticket``,
``responsibility``, ``adjust_patch``, ``escalate``, ``add_commands``) and one
property per registry (``rules``, ``policies``, ``calendars``, ``adapters``, each
name mapped to a :class:`Registration`). Rule implementations are guarded when
they are registered: an exception or a wrong return type becomes a
:class:`PluginFailure` naming the plugin, for that ticket only, and the other
implementations still run. Wrappers (``wrapper=True`` or ``hookwrapper=True``)
take part in the call as pluggy defines; one that is not a generator is refused
at registration, naming the plugin; one that raises makes the call an error
naming the wrappers. Hook-call monitoring (``add_hookcall_monitoring``) sees
every call.

Environment switches:

- ``GOVHALL_DISABLE_PLUGINS=a,b`` skips those entry points by name;
- ``GOVHALL_STRICT_PLUGINS=1`` makes a plugin that fails to load fatal instead of
  a warning.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import json
import os
import re
import sys
import types
import warnings
from collections.abc import Mapping
from typing import Any, Callable, NamedTuple

import attrs
import pluggy

from . import hookspecs
from .config import PolicyDefaults, cache_dir, policy_ranges
from .model import Clock, Finding, RuleResult

GROUP = "govhall"
#: Part of the key of the installed entry points' cache: a new layout of the file changes it.
ENTRY_POINTS_FORMAT = "entry-points-1"
_ENTRY_POINT_VALUE = re.compile(r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?(\[.*\]\s*)?$")


class InstalledEntryPoint(NamedTuple):
    """A ``govhall`` entry point as installed: its name, its ``module:attr`` value and its distribution."""

    name: str
    value: str
    distribution: str | None
    version: str | None

    def load(self) -> Any:
        """Import the module and return the object the value names (as ``importlib.metadata`` does)."""
        match = _ENTRY_POINT_VALUE.match(self.value)
        if match is None:
            raise ValueError(f"malformed entry point value {self.value!r}")
        obj = importlib.import_module(match.group("module"))
        for part in (match.group("attr") or "").split("."):
            obj = getattr(obj, part) if part else obj
        return obj


def _search_path_key() -> str:
    """A digest of the distributions that can be found: the metadata folders (``*.dist-info``,
    ``*.egg-info``) of every ``sys.path`` entry, with their modification times.

    Installing, upgrading or removing a distribution adds or replaces its metadata folder; other
    files coming and going (in the working directory, on ``sys.path`` when run with ``-m``) change
    nothing. An entry that is not a folder (a zip file) counts by its own modification time.
    """
    digest = hashlib.sha256(f"{ENTRY_POINTS_FORMAT}\0{sys.executable}".encode())
    for entry in sys.path:
        where = os.path.abspath(entry or ".")
        try:
            with os.scandir(where) as found:
                stamps = sorted((e.name, e.stat().st_mtime_ns) for e in found if e.name.endswith(_METADATA_FOLDERS))
        except OSError:
            try:
                stamps = [("", os.stat(where).st_mtime_ns)]
            except OSError:
                stamps = []
        digest.update(f"\0{where}\0{stamps}".encode())
    return digest.hexdigest()


_METADATA_FOLDERS = (".dist-info", ".egg-info")


def _read_installed() -> list[InstalledEntryPoint]:
    """The ``govhall`` entry points from the distributions' metadata, by name (``importlib.metadata``, slow to
    import)."""
    from importlib.metadata import entry_points

    found = []
    read: dict[Any, tuple[str | None, str | None]] = {}
    for ep in entry_points(group=GROUP):
        dist = ep.dist
        key = getattr(dist, "_path", None) or id(dist)
        if key not in read:  # reading a distribution's metadata once
            read[key] = (dist.name, dist.version) if dist else (None, None)
        found.append(InstalledEntryPoint(ep.name, ep.value, *read[key]))
    return sorted(found, key=lambda e: e.name)


def installed_entry_points(key: str = "") -> list[InstalledEntryPoint]:
    """The installed ``govhall`` entry points, by name.

    Kept in a cache file (:func:`~govhall_sdk.config.cache_dir`) under a key of
    :func:`_search_path_key`, since finding them imports ``importlib.metadata``
    and reads every distribution's metadata, more than the check of a ticket
    costs. A file that cannot be read or does not hold what is expected, or any
    problem writing one, means the metadata is read, exactly as without a cache.
    ``key`` is that key when the caller has it already.
    """
    if cache_dir() is None:
        return _read_installed()
    key = key or _search_path_key()
    cached = _read_cache("entry-points", key)
    with contextlib.suppress(KeyError, TypeError):
        if cached is not None and all(_is_entry(v) for v in cached["entry_points"]):
            return [InstalledEntryPoint(*v) for v in cached["entry_points"]]
    found = _read_installed()
    _write_cache("entry-points", key, {"entry_points": found})
    return found


def _cache_path(kind: str, key: str) -> Any:
    """The file of one plugin cache (``entry-points``, ``plugin-hooks``) under ``key``
    (:func:`_search_path_key`), or None when caches are off."""
    folder = cache_dir()
    return None if folder is None else folder / f"{kind}-{key[:32]}.json"


def _read_cache(kind: str, key: str) -> dict[str, Any] | None:
    """A plugin cache's content when it exists, is JSON and holds ``key``; else None."""
    path = _cache_path(kind, key)
    if path is None:
        return None
    try:
        cached = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return cached if isinstance(cached, dict) and cached.get("key") == key else None


def _write_cache(kind: str, key: str, content: dict[str, Any]) -> None:
    """Write a plugin cache atomically under ``key``; any problem leaves the cache unwritten."""
    path = _cache_path(kind, key)
    if path is None:
        return
    import tempfile  # at first use: a start-up whose caches are fresh writes none

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, aside = tempfile.mkstemp(dir=path.parent, prefix=f".{kind}-", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"key": key, **content}, fh)
        os.replace(aside, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(aside)


#: The hooks whose implementations can wait until they are needed: a plugin implementing nothing else (an
#: adapter, a command) is imported when :attr:`GovhallPluginManager.adapters` or
#: :meth:`GovhallPluginManager.add_commands` first needs it, not at start-up.
DEFERRABLE_HOOKS = frozenset({"govhall_register_adapters", "govhall_add_commands"})


def _module_stamp(plugin: Any) -> list[Any] | None:
    """``[file, mtime_ns]`` of a plugin module's source, or None when it has none."""
    path = getattr(plugin, "__file__", None)
    try:
        return [path, os.stat(path).st_mtime_ns] if path else None
    except OSError:
        return None


def _still_deferrable(known: Any, ep: InstalledEntryPoint) -> bool:
    """Whether what the ``plugin-hooks`` cache says of an entry point still holds: the same value, only
    :data:`DEFERRABLE_HOOKS`, and its module file unchanged since."""
    try:
        if known["value"] != ep.value or not set(known["hooks"]) <= DEFERRABLE_HOOKS:
            return False
        path, stamp = known["stamp"]
        return type(known["adapters"]) is list and os.stat(path).st_mtime_ns == stamp
    except (KeyError, TypeError, ValueError, OSError):
        return False


def _is_entry(value: Any) -> bool:
    """Whether a cached value is an entry point: its name and value strings, its distribution and version
    strings or null."""
    return (type(value) is list and len(value) == 4 and type(value[0]) is str and type(value[1]) is str
            and all(v is None or type(v) is str for v in value[2:]))


class PluginLoadWarning(UserWarning):
    """A plugin could not be loaded and was skipped."""


class PluginError(RuntimeError):
    """A plugin failed to load in strict mode, or two plugins registered the same name."""


class Registration(NamedTuple):
    """One name of a registry (a finding code, a policy section, a calendar, an adapter)."""

    plugin: str
    """The plugin that registered it."""
    obj: Any
    """What it registered: a RuleInfo, a dict of policy defaults, a calendar factory, an adapter class."""


class PluginFailure(NamedTuple):
    """A hook implementation that raised or returned the wrong type, for one call."""

    plugin: str
    hook: str
    reason: str

    def __str__(self) -> str:
        return f"plugin {self.plugin!r} failed in {self.hook}: {self.reason}"


def _rule_result_problem(out: Any) -> str | None:
    """Why ``out`` is not what a rule implementation may return, or None (exact types checked first: it runs per ticket)."""
    if out is None:
        return None
    if type(out) is not RuleResult and not isinstance(out, RuleResult):
        return f"returned {type(out).__name__}, expected a RuleResult or None"
    for c in out.clocks:
        if type(c) is not Clock and not isinstance(c, Clock):
            return f"returned a clock that is a {type(c).__name__}, not a Clock"
    for f in out.findings:
        if type(f) is not Finding and not isinstance(f, Finding):
            return f"returned a finding that is a {type(f).__name__}, not a Finding"
    return None


def _responsibility_problem(out: Any) -> str | None:
    if out is None:
        return None
    if type(out) is dict:  # the common answer, checked without a generator (it runs per ticket)
        for k, v in out.items():
            if type(k) is not str or (v is not None and type(v) is not str):
                break
        else:
            return None
    if not isinstance(out, Mapping):
        return f"returned {type(out).__name__}, expected a mapping or None"
    if not all(isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in out.items()):
        return "returned a mapping that is not role -> actor id or None"
    return None


#: The hooks whose implementations are isolated per call, and how their results are checked.
_GUARDED: dict[str, Callable[[Any], str | None]] = {
    "govhall_evaluate_ticket": _rule_result_problem,
    "govhall_responsibility": _responsibility_problem,
    "govhall_adjust_patch": lambda out: None,
}


def _guard(function: Callable[..., Any], plugin: str, hook: str, problem: Callable[[Any], str | None]) -> Callable[..., Any]:
    """``function`` with its exceptions and wrong results turned into a :class:`PluginFailure`."""

    def guarded(*args: Any) -> Any:
        try:
            out = function(*args)
        except Exception as exc:  # isolate: one plugin's failure is this call's error, not the run's
            return PluginFailure(plugin, hook, f"{type(exc).__name__}: {exc}")
        reason = problem(out)
        return out if reason is None else PluginFailure(plugin, hook, reason)

    guarded.__wrapped__ = function  # type: ignore[attr-defined]
    return guarded


@attrs.frozen
class PluginInfo:
    """What ``govhall plugins`` shows for one loaded plugin."""

    name: str
    distribution: str | None
    version: str | None
    hooks: tuple[str, ...]


def _policy_registry(impls: list[Any]) -> dict[str, Registration]:
    """Call each ``govhall_register_policies`` implementation with ``register(section, defaults, ranges=None)``.

    A section registered twice by one plugin merges (later keys and ranges win);
    by two plugins it is a :class:`PluginError`, as is a range that does not fit
    its default (a key without a default, a key that is not a number, a default
    outside its range), naming the plugin.
    """
    found: dict[str, Registration] = {}
    for impl in impls:

        def register(section: str, defaults: Mapping[str, Any], ranges: Mapping[str, Any] | None = None,
                     _plugin: str = impl.plugin_name) -> None:
            if section in found and found[section].plugin != _plugin:
                raise PluginError(f"policy section {section!r} is registered by both {found[section].plugin!r} "
                                  f"and {_plugin!r}")
            earlier = found[section].obj if section in found else PolicyDefaults()
            merged = {**earlier, **defaults}
            try:
                checked = policy_ranges(section, merged, {**earlier.ranges, **(ranges or {})})
            except (TypeError, ValueError) as exc:
                raise PluginError(f"plugin {_plugin!r}: {exc}") from None
            found[section] = Registration(_plugin, PolicyDefaults(merged, checked))

        impl.function(register=register)
    return found


#: The attribute pluggy's marker sets on a hook implementation, and what pluggy can bind of a module.
_IMPL_MARKER = f"{GROUP}_impl"
_HOOKABLE = (types.FunctionType, types.MethodType, staticmethod, classmethod)


def _switch(name: str) -> set[str]:
    return {p.strip() for p in os.environ.get(name, "").split(",") if p.strip()}


class GovhallPluginManager(pluggy.PluginManager):
    """A pluggy manager with typed access to what plugins register.

    ``rules``, ``policies``, ``calendars`` and ``adapters`` are collected from the
    ``govhall_register_*`` hooks on first use and cached until a plugin is
    registered or unregistered.
    """

    def __init__(self) -> None:
        super().__init__(GROUP)
        self.add_hookspecs(hookspecs)
        self.distributions: dict[str, tuple[str | None, str | None]] = {}
        """Entry point name -> (distribution, version) of each plugin loaded from an entry point."""
        self.load_failures: dict[str, str] = {}
        self.disabled: set[str] = set()  # installed entry points left out by GOVHALL_DISABLE_PLUGINS
        self._registries: dict[str, dict[str, tuple[str, Any]]] = {}
        self._plain_hookexec = self._inner_hookexec  # replaced while hook calls are monitored or traced
        self._direct: dict[str, tuple[Callable[..., Any], ...] | None] = {}
        #: Entry points waiting to be imported (see load_entry_points): each with the hooks it implements and the
        #: adapter names it registers.
        self._deferred: dict[str, tuple[InstalledEntryPoint, frozenset[str], tuple[str, ...]]] = {}

    def register(self, plugin: Any, name: str | None = None) -> str | None:
        """Register a plugin; its rule implementations are guarded (see the module docstring).

        :raises PluginError: a hook implementation pluggy refuses (a wrapper that
            is not a generator, unknown arguments), naming the plugin.
        """
        self._registries.clear()
        self._direct.clear()
        try:
            registered = super().register(plugin, name)
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"plugin {name or self.get_canonical_name(plugin)!r} refused: {exc}") from exc
        if registered is not None:
            for hook_name, problem in _GUARDED.items():
                for impl in getattr(self.hook, hook_name).get_hookimpls():
                    if impl.plugin_name == registered and not (impl.wrapper or impl.hookwrapper):
                        if not hasattr(impl.function, "__wrapped__"):
                            impl.function = _guard(impl.function, registered, hook_name, problem)
        return registered

    def parse_hookimpl_opts(self, plugin: Any, name: str) -> Any:
        """As pluggy's, answering at once for an attribute of a plugin module that is no hook implementation.

        Registering asks this of every name a module holds, most of them imports; pluggy reads each with
        ``inspect.getattr_static``. Of a module's own attributes it binds only functions, methods,
        ``staticmethod`` and ``classmethod`` objects, and a function is an implementation only when it
        carries the marker, so anything else is None here and those are left to pluggy.
        """
        if type(plugin) is types.ModuleType and not hasattr(types.ModuleType, name):
            value = plugin.__dict__.get(name)
            if type(value) is types.FunctionType and _IMPL_MARKER not in value.__dict__:
                return None
            if not isinstance(value, _HOOKABLE):
                return None
        return super().parse_hookimpl_opts(plugin, name)

    def unregister(self, plugin: Any = None, name: str | None = None) -> Any:
        self._registries.clear()
        self._direct.clear()
        return super().unregister(plugin, name)

    def load_entry_points(self) -> None:
        """Import and register every ``govhall`` entry point (:func:`installed_entry_points`), each in its own try.

        An entry point that the ``plugin-hooks`` cache knows to implement only :data:`DEFERRABLE_HOOKS` (an
        adapter, a command), from a module unchanged since, waits: it is imported when :attr:`adapters`,
        :meth:`add_commands`, :meth:`plugin_infos` or :meth:`get_plugin` first needs it, so a ``govhall check``
        never imports the HTTP adapters nor the plugins' commands. What each plugin loaded here implements is
        written to that cache for the next process.
        """
        disabled = _switch("GOVHALL_DISABLE_PLUGINS")
        key = _search_path_key() if cache_dir() is not None else ""
        cached = (_read_cache("plugin-hooks", key) if key else None) or {}
        known = cached["plugins"] if isinstance(cached.get("plugins"), dict) else {}
        learned = {}
        for ep in installed_entry_points(key):
            if ep.name in disabled:
                self.disabled.add(ep.name)
                continue
            if self.has_plugin(ep.name):
                continue
            if _still_deferrable(known.get(ep.name), ep):
                self._deferred[ep.name] = (ep, frozenset(known[ep.name]["hooks"]), tuple(known[ep.name]["adapters"]))
                learned[ep.name] = known[ep.name]
                continue
            plugin = self._load(ep)
            if plugin is not None:
                learned[ep.name] = self._hooks_of(ep, plugin)
        if key and learned != known:
            _write_cache("plugin-hooks", key, {"plugins": learned})

    def _load(self, ep: InstalledEntryPoint) -> Any:
        """Import and register one entry point; a failure is a warning (fatal with ``GOVHALL_STRICT_PLUGINS``)."""
        try:
            plugin = ep.load()
            self.register(plugin, name=ep.name)
        except Exception as exc:  # isolate: a broken plugin must not break the host
            reason = f"{type(exc).__name__}: {exc}"
            if os.environ.get("GOVHALL_STRICT_PLUGINS", "") not in ("", "0"):
                raise PluginError(f"plugin {ep.name!r} failed to load: {reason}") from exc
            self.load_failures[ep.name] = reason
            warnings.warn(f"govhall plugin {ep.name!r} skipped: {reason}", PluginLoadWarning, stacklevel=3)
            return None
        self.distributions[ep.name] = (ep.distribution, ep.version)
        return plugin

    def _hooks_of(self, ep: InstalledEntryPoint, plugin: Any) -> dict[str, Any]:
        """What the ``plugin-hooks`` cache keeps of a loaded plugin: its value, hooks, adapter names and module."""
        adapters: list[str] = []
        for impl in self.hook.govhall_register_adapters.get_hookimpls():
            if impl.plugin_name == ep.name:
                impl.function(register=lambda name, obj=None: adapters.append(str(name)))
        hooks = sorted(c.name for c in self.get_hookcallers(plugin) or ())
        return {"value": ep.value, "hooks": hooks, "adapters": adapters, "stamp": _module_stamp(plugin)}

    def _load_deferred(self, hook_name: str | None = None) -> None:
        """Import the plugins that were left waiting (see :meth:`load_entry_points`): those implementing
        ``hook_name``, or all of them."""
        for name, (ep, hooks, _) in list(self._deferred.items()):
            if hook_name is None or hook_name in hooks:
                del self._deferred[name]
                self._load(ep)

    @property
    def adapter_names(self) -> frozenset[str]:
        """The adapter names registered, those of the plugins still waiting included, without importing them."""
        waiting = {name for _, _, names in self._deferred.values() for name in names}
        return frozenset(self._registry("govhall_register_adapters", "adapter")) | waiting

    def has_plugin(self, name: str) -> bool:
        """Whether a plugin of that name is registered or waiting to be imported."""
        return name in self._deferred or super().has_plugin(name)

    def get_plugin(self, name: str) -> Any:
        """The plugin registered under ``name`` (a waiting one is imported first), or None."""
        if name in self._deferred:
            self._load_deferred()
        return super().get_plugin(name)

    def plugin_infos(self) -> list[PluginInfo]:
        """Every registered plugin with its distribution, version and hooks, by name."""
        self._load_deferred()
        infos = []
        for name, plugin in sorted(self.list_name_plugin(), key=lambda np: np[0]):
            hooks = tuple(sorted(c.name for c in self.get_hookcallers(plugin) or ()))
            dist, version = self.distributions.get(name, (None, None))
            infos.append(PluginInfo(name, dist, version, hooks))
        return infos

    def _registry(self, hook_name: str, what: str) -> dict[str, Registration]:
        """Call a ``register`` hook plugin by plugin; map each name to its :class:`Registration`."""
        if hook_name in self._registries:
            return self._registries[hook_name]
        found: dict[str, Registration] = {}
        for impl in getattr(self.hook, hook_name).get_hookimpls():

            def register(name: Any, obj: Any = None, _plugin: str = impl.plugin_name) -> None:
                key = getattr(name, "code", name)
                item = name if obj is None else obj
                if key in found and found[key][0] != _plugin:
                    raise PluginError(f"{what} {key!r} is registered by both {found[key][0]!r} and {_plugin!r}")
                if key in found and isinstance(item, dict):
                    item = {**found[key][1], **item}
                found[key] = Registration(_plugin, item)

            impl.function(register=register)
        self._registries[hook_name] = found
        return found

    @property
    def rules(self) -> dict[str, Registration]:
        """Finding code -> :class:`Registration` of its :class:`~govhall_sdk.rules.RuleInfo`."""
        return self._registry("govhall_register_rules", "finding code")

    @property
    def policies(self) -> dict[str, Registration]:
        """Policy section -> :class:`Registration` of its :class:`~govhall_sdk.config.PolicyDefaults`
        (``{key: default}`` with the declared ``ranges``)."""
        hook_name = "govhall_register_policies"
        if hook_name not in self._registries:
            self._registries[hook_name] = _policy_registry(getattr(self.hook, hook_name).get_hookimpls())
        return self._registries[hook_name]

    @property
    def calendars(self) -> dict[str, Registration]:
        """Calendar name -> :class:`Registration` of a factory returning a DaySource."""
        return self._registry("govhall_register_calendars", "calendar")

    @property
    def adapters(self) -> dict[str, Registration]:
        """Adapter name -> :class:`Registration` of an adapter class (the plugins still waiting imported first)."""
        self._load_deferred("govhall_register_adapters")
        return self._registry("govhall_register_adapters", "adapter")

    # -- the typed facade: one method per hook --------------------------------------------------
    def _direct_calls(self, hook_name: str, args: tuple[str, ...]) -> tuple[Callable[..., Any], ...] | None:
        """The implementations of a hook in pluggy's call order, to call with ``args`` positionally, or None.

        None, and the call goes through pluggy, when a wrapper takes part, an
        implementation does not take exactly ``args``, or hook calls are
        monitored or traced. Otherwise calling the functions in turn and keeping
        the non-None results is what pluggy's call does, without its per-call
        machinery. Registering or unregistering a plugin starts again.
        """
        if self._inner_hookexec is not self._plain_hookexec:
            return None
        try:
            return self._direct[hook_name]
        except KeyError:
            pass
        impls = getattr(self.hook, hook_name).get_hookimpls()
        direct: tuple[Callable[..., Any], ...] | None = tuple(i.function for i in reversed(impls))
        if any(i.wrapper or i.hookwrapper or i.kwargnames or tuple(i.argnames) != args for i in impls):
            direct = None
        self._direct[hook_name] = direct
        return direct

    def _wrapper_names(self, hook_name: str) -> str:
        names = [i.plugin_name for i in getattr(self.hook, hook_name).get_hookimpls() if i.wrapper or i.hookwrapper]
        return ", ".join(repr(n) for n in names) or "none"

    def evaluate_ticket(self, ticket: Any, ctx: Any) -> tuple[list[RuleResult], list[str]]:
        """Every rule plugin's :class:`RuleResult` for one ticket, and the errors of those that failed.

        A failure (an exception, a wrong return type) names its plugin and
        leaves the other plugins' results; a wrapper that raises makes the whole
        evaluation an error naming the wrappers.
        """
        direct = self._direct_calls("govhall_evaluate_ticket", ("ticket", "ctx"))
        try:
            if direct is None:
                outs = self.hook.govhall_evaluate_ticket(ticket=ticket, ctx=ctx)
            else:
                outs = [out for out in [function(ticket, ctx) for function in direct] if out is not None]
        except Exception as exc:  # only wrappers run unguarded
            return [], [f"a wrapper of govhall_evaluate_ticket ({self._wrapper_names('govhall_evaluate_ticket')}) "
                        f"failed: {type(exc).__name__}: {exc}"]
        results: list[RuleResult] = []
        errors: list[str] = []
        for out in outs:
            if type(out) is RuleResult:
                results.append(out)
            elif isinstance(out, PluginFailure):
                errors.append(f"rule plugin {out.plugin!r} failed: {out.reason}")
            elif out is None:
                continue
            elif _rule_result_problem(out) is None:
                results.append(out)
            else:  # a wrapper put something else into the results
                errors.append(f"a wrapper of govhall_evaluate_ticket ({self._wrapper_names('govhall_evaluate_ticket')}) "
                              f"{_rule_result_problem(out)}")
        return results, errors

    def responsibility(self, ticket: Any, ctx: Any) -> tuple[dict[str, str | None], list[str]]:
        """The responsible staff by role (first non-None value per key in call order), and failures."""
        direct = self._direct_calls("govhall_responsibility", ("ticket", "ctx"))
        try:
            if direct is None:
                outs = self.hook.govhall_responsibility(ticket=ticket, ctx=ctx)
            else:
                outs = [out for out in [function(ticket, ctx) for function in direct] if out is not None]
        except Exception as exc:
            return {}, [f"a wrapper of govhall_responsibility ({self._wrapper_names('govhall_responsibility')}) "
                        f"failed: {type(exc).__name__}: {exc}"]
        merged: dict[str, str | None] = {}
        errors: list[str] = []
        for out in outs:
            if isinstance(out, PluginFailure):
                errors.append(f"responsibility plugin {out.plugin!r} failed: {out.reason}")
                continue
            for key, value in (out or {}).items():
                if merged.get(key) is None:
                    merged[key] = value
        return merged, errors

    def has_patch_adjusters(self) -> bool:
        """Whether any plugin implements ``govhall_adjust_patch``."""
        return bool(self.hook.govhall_adjust_patch.get_hookimpls())

    def adjust_patch(self, ticket: Any, result: Any, patch: Any, ctx: Any) -> list[str]:
        """Let every ``govhall_adjust_patch`` implementation change ``patch``; the failures."""
        try:
            outs = self.hook.govhall_adjust_patch(ticket=ticket, result=result, patch=patch, ctx=ctx)
        except Exception as exc:
            return [f"a wrapper of govhall_adjust_patch ({self._wrapper_names('govhall_adjust_patch')}) "
                    f"failed: {type(exc).__name__}: {exc}"]
        return [f"patch plugin {o.plugin!r} failed: {o.reason}" for o in outs if isinstance(o, PluginFailure)]

    def escalate(self, ticket: Any, result: Any, level: int, target: str | None, ctx: Any) -> Any:
        """The patch that performs one escalation (the first implementation's non-None answer)."""
        return self.hook.govhall_escalate(ticket=ticket, result=result, level=level, target=target, ctx=ctx)

    def add_commands(self, subparsers: Any) -> None:
        """Let plugins add ``govhall`` sub-commands (the plugins still waiting that add some imported first)."""
        self._load_deferred("govhall_add_commands")
        self.hook.govhall_add_commands(subparsers=subparsers)


def new_plugin_manager(load_entry_points: bool = True) -> GovhallPluginManager:
    """A fresh manager; with ``load_entry_points`` it loads every installed plugin."""
    pm = GovhallPluginManager()
    if load_entry_points:
        pm.load_entry_points()
    return pm


@functools.cache
def get_plugin_manager() -> GovhallPluginManager:
    """The process-wide manager, created and loaded on first use."""
    return new_plugin_manager()
