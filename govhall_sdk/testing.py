"""A pytest plugin for govhall plugin and adapter authors (entry point ``pytest11``).

Fixtures:

- ``govhall_pm``: a fresh plugin manager with the installed plugins loaded;
- ``govhall_register``: register a plugin object on ``govhall_pm`` for one test;
- ``make_ticket``: build a :class:`~govhall_sdk.model.Ticket` from interchange
  keyword arguments with sensible defaults (validated like real input);
- ``make_engine``: an :class:`~govhall_sdk.engine.Engine` on ``govhall_pm`` with
  an optional raw config mapping.
"""
from __future__ import annotations

import itertools
from typing import Any, Callable

import pytest

from .config import build_config
from .engine import Engine
from .host import GovhallPluginManager, new_plugin_manager
from .model import Ticket
from .parse import ticket_from_dict

_ids = itertools.count(1)


def build_ticket(**fields: Any) -> Ticket:
    """A ticket from interchange fields; ``id``, ``kind`` and ``created_at`` get defaults."""
    raw = {"id": f"T-{next(_ids)}", "kind": "consultation", "created_at": "2025-01-06T09:00:00+08:00"}
    raw.update(fields)
    return ticket_from_dict(raw)


def build_engine(pm: GovhallPluginManager, raw_config: dict[str, Any] | None = None) -> Engine:
    """An engine on ``pm`` with a config built from a raw TOML-like mapping."""
    defaults = {section: d for section, (_, d) in pm.policies.items()}
    return Engine(build_config(raw_config or {}, defaults), pm)


@pytest.fixture
def govhall_pm() -> GovhallPluginManager:
    """A fresh plugin manager with every installed ``govhall`` entry point loaded."""
    return new_plugin_manager()


@pytest.fixture
def govhall_register(govhall_pm: GovhallPluginManager) -> Callable[..., str | None]:
    """Register a plugin (module or object) on ``govhall_pm`` for this test only."""
    return govhall_pm.register


@pytest.fixture
def make_ticket() -> Callable[..., Ticket]:
    """Build a validated ticket from interchange keyword arguments."""
    return build_ticket


@pytest.fixture
def make_engine(govhall_pm: GovhallPluginManager) -> Callable[..., Engine]:
    """Build an engine on ``govhall_pm``: ``make_engine({"lang": "en"})``."""
    return lambda raw_config=None: build_engine(govhall_pm, raw_config)
