"""The report input of the demo tickets, as ``govhall report examples/tickets.json --now NOW`` builds it,
and as ``govhall run`` leaves it in a state store after two runs (the second one week later)."""
from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import pytest

from govhall_sdk.config import default_config
from govhall_sdk.engine import Engine
from govhall_sdk.host import get_plugin_manager
from govhall_sdk.reader import iter_tickets
from govhall_sdk.reports.data import Period, ReportData, catalog_of, from_evaluations, from_store
from govhall_sdk.state import StateStore

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOW = datetime.fromisoformat("2025-03-14T16:00:00+08:00")
LATER = datetime.fromisoformat("2025-03-21T16:00:00+08:00")


def evaluated(now: datetime = NOW, path: Path = EXAMPLES / "tickets.json") -> list[tuple[Any, Any]]:
    """(ticket, result) of every demo ticket at ``now``."""
    pm = get_plugin_manager()
    engine = Engine(default_config(pm), pm)
    with open(path, "rb") as stream:
        return [(p.ticket, engine.evaluate(p.ticket, now)) for p in iter_tickets(stream, path.name) if p.ticket]


@pytest.fixture
def demo_data() -> Callable[..., ReportData]:
    """``demo_data(lang="en", period=Period(...), department=..., unmasked=True)``: the demo tickets at NOW."""
    pm = get_plugin_manager()
    tz = default_config(pm).timezone

    def make(**kwargs: Any) -> ReportData:
        kwargs.setdefault("period", Period())
        return from_evaluations(evaluated(), NOW, catalog_of(pm.rules), tz=tz, **kwargs)
    return make


@pytest.fixture
def demo_store(tmp_path: Path, govhall_cli: Any) -> StateStore:
    """A state store after ``govhall run`` on the demo helpdesk at NOW and again at LATER."""
    shutil.copy(EXAMPLES / "tickets.json", tmp_path / "tickets.json")
    (tmp_path / "govhall.toml").write_text(
        '[adapter]\ntype = "local"\npath = "helpdesk.sqlite"\nseed = "tickets.json"\n'
        '[state]\npath = "state.sqlite"\n', encoding="utf-8")
    for now in (NOW, LATER):
        result = govhall_cli("run", "--config", str(tmp_path / "govhall.toml"), "--now", now.isoformat(), "-q")
        assert result.exit_code == 0, result.stdout + result.stderr
    store = StateStore(tmp_path / "state.sqlite")
    yield store
    store.close()


@pytest.fixture
def store_data(demo_store: StateStore) -> Callable[..., ReportData]:
    """``store_data(**kwargs)``: the report input from ``demo_store``."""
    pm = get_plugin_manager()
    tz = default_config(pm).timezone

    def make(**kwargs: Any) -> ReportData:
        kwargs.setdefault("period", Period())
        return from_store(demo_store, catalog_of(pm.rules), tz=tz, **kwargs)
    return make
