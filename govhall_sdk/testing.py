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


class HelpdeskDriver:
    """What the adapter conformance suite needs to drive a helpdesk (real or fake).

    Implement it for your adapter and return it from a ``helpdesk_driver`` fixture.
    """

    def make_adapter(self, config: Any) -> Any:
        """A fresh adapter instance talking to the helpdesk."""
        raise NotImplementedError

    def seed(self, tickets: list[dict[str, Any]]) -> None:
        """Create these interchange tickets on the helpdesk, as a person would."""
        raise NotImplementedError

    def touch(self, ticket_id: str) -> None:
        """Make a change to one ticket as a person (e.g. a public reply)."""
        raise NotImplementedError

    def read(self, ticket_id: str) -> dict[str, Any]:
        """``{"tags": set, "fields": dict, "notes": [body, ...]}`` as the helpdesk shows them now."""
        raise NotImplementedError

    def ticket_id(self, seeded_id: str) -> str:
        """The helpdesk's own id of a seeded ticket (Zendesk numbers, Jira keys); by default the same."""
        return seeded_id


def conformance_tickets(count: int) -> list[dict[str, Any]]:
    """``count`` overdue complaints (each yields tags, fields and a note) with distinct ids."""
    return [
        {"id": f"C-{i:04d}", "kind": "complaint", "channel": "phone", "subject": f"投诉 {i}",
         "status": "open", "created_at": "2025-01-06T09:00:00+08:00", "department": "综合窗口",
         "events": [{"type": "reply", "at": "2025-01-06T09:30:00+08:00", "public": True, "body": "已登记",
                     "actor": {"id": "s1", "name": "王", "rank": 1, "role": "staff"}}]}
        for i in range(count)
    ]


class AdapterConformance:
    """The adapter conformance suite: subclass it in a test module and provide a
    ``helpdesk_driver`` fixture returning a :class:`HelpdeskDriver`.

    It checks paging to the end, cursor advance, a patch round trip and an
    idempotent rerun through :class:`govhall_sdk.sync.Sync`.
    """

    ticket_count = 25
    page_size = 10
    now = "2025-03-03T09:00:00+08:00"

    @pytest.fixture
    def conformance_config(self, tmp_path, govhall_pm):
        defaults = {section: d for section, (_, d) in govhall_pm.policies.items()}
        return build_config({"state": {"path": str(tmp_path / "state.sqlite")}}, defaults, tmp_path)

    def _sync(self, driver: HelpdeskDriver, config: Any, pm: Any) -> Any:
        from .state import StateStore
        from .sync import Sync

        return Sync(Engine(config, pm), driver.make_adapter(config), StateStore(config.state_path), page_size=self.page_size)

    def _now(self):
        from datetime import datetime

        return datetime.fromisoformat(self.now)

    def test_pages_to_the_end(self, helpdesk_driver, conformance_config):
        helpdesk_driver.seed(conformance_tickets(self.ticket_count))
        adapter = helpdesk_driver.make_adapter(conformance_config)
        ids = [item.id for page in adapter.pull(None, self.page_size) for item in page.items]
        assert sorted(ids) == sorted(helpdesk_driver.ticket_id(t["id"]) for t in conformance_tickets(self.ticket_count))
        assert len(ids) == len(set(ids)), "a ticket came twice"

    def test_cursor_advances(self, helpdesk_driver, conformance_config):
        helpdesk_driver.seed(conformance_tickets(self.ticket_count))
        adapter = helpdesk_driver.make_adapter(conformance_config)
        pages = list(adapter.pull(None, self.page_size))
        assert pages and all(p.cursor is not None for p in pages)
        last = pages[-1].cursor
        assert [i.id for p in adapter.pull(last, self.page_size) for i in p.items] == []
        helpdesk_driver.touch("C-0003")
        assert [i.id for p in adapter.pull(last, self.page_size) for i in p.items] == [helpdesk_driver.ticket_id("C-0003")]

    def test_patch_round_trip(self, helpdesk_driver, conformance_config):
        from .model import Note, Patch

        helpdesk_driver.seed(conformance_tickets(1))
        adapter = helpdesk_driver.make_adapter(conformance_config)
        (item,) = [i for p in adapter.pull(None, self.page_size) for i in p.items]
        patch = Patch(["govhall_sla_red", "govhall_tl_overdue"], [], {"govhall_light": "red", "govhall_escalation_level": 1},
                      [Note("tl.overdue", "[govhall:tl.overdue:completion]", "超时 [govhall:tl.overdue:completion]")])
        assert all(o.ok for o in adapter.apply([(item.ticket, patch)]))
        seen = helpdesk_driver.read("C-0000")
        assert {"govhall_sla_red", "govhall_tl_overdue"} <= set(seen["tags"])
        assert seen["fields"]["govhall_light"] == "red" and str(seen["fields"]["govhall_escalation_level"]) == "1"
        assert [n for n in seen["notes"] if "[govhall:tl.overdue:completion]" in n]
        (again,) = list(adapter.fetch([helpdesk_driver.ticket_id("C-0000")]))
        assert "govhall_tl_overdue" in again.ticket.tags

    def test_idempotent_rerun(self, helpdesk_driver, conformance_config, govhall_pm):
        helpdesk_driver.seed(conformance_tickets(self.ticket_count))
        first = self._sync(helpdesk_driver, conformance_config, govhall_pm).run(self._now())
        assert first.ok and first.written == self.ticket_count
        notes_before = {t: helpdesk_driver.read(t)["notes"] for t in ("C-0000", "C-0001")}
        second = self._sync(helpdesk_driver, conformance_config, govhall_pm).run(self._now())
        assert second.ok and second.written == 0 and second.notes == 0
        assert {t: helpdesk_driver.read(t)["notes"] for t in notes_before} == notes_before
