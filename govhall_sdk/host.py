"""The plugin host: one plugin manager, entry points loaded lazily, once, each isolated.

Environment switches:

- ``GOVHALL_DISABLE_PLUGINS=a,b`` skips those entry points by name;
- ``GOVHALL_STRICT_PLUGINS=1`` makes a plugin that fails to load fatal instead of
  a warning.
"""
from __future__ import annotations

import functools
import os
import warnings
from importlib.metadata import entry_points
from typing import Any, Callable

import attrs
import pluggy

from . import hookspecs

GROUP = "govhall"


class PluginLoadWarning(UserWarning):
    """A plugin could not be loaded and was skipped."""


class PluginError(RuntimeError):
    """A plugin failed to load in strict mode, or two plugins registered the same name."""


@attrs.frozen
class PluginInfo:
    """What ``govhall plugins`` shows for one loaded plugin."""

    name: str
    distribution: str | None
    version: str | None
    hooks: tuple[str, ...]


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
        self.load_failures: dict[str, str] = {}
        self._registries: dict[str, dict[str, tuple[str, Any]]] = {}

    def register(self, plugin: Any, name: str | None = None) -> str | None:
        self._registries.clear()
        return super().register(plugin, name)

    def unregister(self, plugin: Any = None, name: str | None = None) -> Any:
        self._registries.clear()
        return super().unregister(plugin, name)

    def load_entry_points(self) -> None:
        """Import and register every ``govhall`` entry point, each in its own try."""
        strict = os.environ.get("GOVHALL_STRICT_PLUGINS", "") not in ("", "0")
        disabled = _switch("GOVHALL_DISABLE_PLUGINS")
        for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
            if ep.name in disabled or self.has_plugin(ep.name):
                continue
            try:
                self.register(ep.load(), name=ep.name)
            except Exception as exc:  # isolate: a broken plugin must not break the host
                reason = f"{type(exc).__name__}: {exc}"
                if strict:
                    raise PluginError(f"plugin {ep.name!r} failed to load: {reason}") from exc
                self.load_failures[ep.name] = reason
                warnings.warn(f"govhall plugin {ep.name!r} skipped: {reason}", PluginLoadWarning, stacklevel=2)
                continue
            dist = ep.dist
            self.distributions[ep.name] = (dist.name, dist.version) if dist else (None, None)

    def plugin_infos(self) -> list[PluginInfo]:
        """Every registered plugin with its distribution, version and hooks, by name."""
        infos = []
        for name, plugin in sorted(self.list_name_plugin(), key=lambda np: np[0]):
            hooks = tuple(sorted(c.name for c in self.get_hookcallers(plugin) or ()))
            dist, version = self.distributions.get(name, (None, None))
            infos.append(PluginInfo(name, dist, version, hooks))
        return infos

    def _registry(self, hook_name: str, what: str) -> dict[str, tuple[str, Any]]:
        """Call a ``register`` hook plugin by plugin; map each name to (plugin, object)."""
        if hook_name in self._registries:
            return self._registries[hook_name]
        found: dict[str, tuple[str, Any]] = {}
        for impl in getattr(self.hook, hook_name).get_hookimpls():

            def register(name: Any, obj: Any = None, _plugin: str = impl.plugin_name) -> None:
                key = getattr(name, "code", name)
                item = name if obj is None else obj
                if key in found and found[key][0] != _plugin:
                    raise PluginError(f"{what} {key!r} is registered by both {found[key][0]!r} and {_plugin!r}")
                if key in found and isinstance(item, dict):
                    item = {**found[key][1], **item}
                found[key] = (_plugin, item)

            impl.function(register=register)
        self._registries[hook_name] = found
        return found

    @property
    def rules(self) -> dict[str, tuple[str, Any]]:
        """Finding code -> (plugin name, :class:`RuleInfo`)."""
        return self._registry("govhall_register_rules", "finding code")

    @property
    def policies(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """Policy section -> (plugin name, {key: default})."""
        return self._registry("govhall_register_policies", "policy section")

    @property
    def calendars(self) -> dict[str, tuple[str, Callable[[], Any]]]:
        """Calendar name -> (plugin name, factory returning a DaySource)."""
        return self._registry("govhall_register_calendars", "calendar")

    @property
    def adapters(self) -> dict[str, tuple[str, type]]:
        """Adapter name -> (plugin name, adapter class)."""
        return self._registry("govhall_register_adapters", "adapter")


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
