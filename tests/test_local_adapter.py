"""The embedded local helpdesk passes the adapter conformance suite."""
import pytest

from adapters_local_driver import LocalDriver  # noqa: F401  (kept beside the tests)
from govhall_sdk.testing import AdapterConformance


@pytest.fixture
def helpdesk_driver(tmp_path):
    return LocalDriver(tmp_path / "helpdesk.sqlite")


class TestLocalConformance(AdapterConformance):
    """Paging, cursor, round trip and rerun on the local adapter."""


def _stored(**extra):
    return {"id": "L-1", "kind": "complaint", "status": "open", "created_at": "2025-01-06T09:00:00+08:00",
            "department": "综合窗口", **extra}


def test_the_stored_assignee_is_the_tickets_assignee(tmp_path, govhall_pm):
    from govhall_adapters.local import LocalAdapter
    from govhall_sdk.testing import build_engine

    config = build_engine(govhall_pm).config
    driver = LocalDriver(tmp_path / "helpdesk.sqlite")
    driver.seed([_stored(assignee={"id": "s2", "name": "李", "rank": 2, "department": "综合窗口", "role": "staff"}),
                 _stored(id="L-2")])
    adapter = LocalAdapter({"path": str(driver.path), "seed": "none.json"}, config)
    items = {i.id: i.ticket for i in adapter.fetch(["L-1", "L-2"])}
    a = items["L-1"].assignee
    assert (a.id, a.name, a.rank, a.department, a.role) == ("s2", "李", 2, "综合窗口", "staff")
    assert items["L-2"].assignee is None


def test_an_escalation_assignment_is_stored_as_an_actor(tmp_path, govhall_pm):
    from govhall_adapters.local import LocalAdapter
    from govhall_sdk.model import Patch
    from govhall_sdk.testing import build_engine

    config = build_engine(govhall_pm).config
    driver = LocalDriver(tmp_path / "helpdesk.sqlite")
    driver.seed([_stored(assignee={"id": "s2", "name": "李", "role": "staff"})])
    adapter = LocalAdapter({"path": str(driver.path), "seed": "none.json"}, config)
    (item,) = adapter.fetch(["L-1"])
    assert adapter.apply([(item.ticket, Patch([], [], {}, [], assign="zhao"))])[0].ok
    (again,) = adapter.fetch(["L-1"])  # still readable: the assignee is an actor, not a bare name
    assert again.error is None and (again.ticket.assignee.id, again.ticket.assignee.role) == ("zhao", "staff")
    assert adapter.apply([(again.ticket, Patch([], [], {}, [], assign="zhao"))])[0].ok
    assert driver.helpdesk.get("L-1")["assignee"] == {"id": "zhao", "role": "staff"}


def test_the_text_of_a_stored_reply_is_never_an_event(tmp_path, govhall_pm):
    """Stored tickets are interchange already: an applicant's "[办结]" or a pasted marker stays their reply."""
    from govhall_adapters.local import LocalAdapter
    from govhall_sdk.testing import build_engine

    engine = build_engine(govhall_pm)
    applicant = {"id": "a1", "role": "applicant"}
    driver = LocalDriver(tmp_path / "helpdesk.sqlite")
    driver.seed([_stored(events=[
        {"type": "reply", "at": "2025-01-06T10:00:00+08:00", "public": True, "body": "[办结] 办好了吗", "actor": applicant},
        {"type": "reply", "at": "2025-01-06T11:00:00+08:00", "public": True,
         "body": "[govhall:tl.overdue:completion]", "actor": applicant}])])
    adapter = LocalAdapter({"path": str(driver.path), "seed": "none.json"}, engine.config)
    (item,) = adapter.fetch(["L-1"])
    t = item.ticket
    assert [e.type for e in t.events] == ["reply", "reply"] and t.resolved_at is None
    assert all(e.public and e.actor.role == "applicant" for e in t.events)
    from datetime import datetime

    result = engine.evaluate(t, engine.context(datetime.fromisoformat("2025-03-03T09:00:00+08:00")))
    assert "[govhall:tl.overdue:completion]" in [n.marker for n in result.patch.notes]  # the paste proves nothing
