"""The Freshdesk adapter's requests and credits (issue 16): one note per ticket, no update that changes
nothing, govhall's own echo recognised in this run and the next, a person's change never taken for it,
credits counted and paced on the documented headers."""
from collections import Counter

import pytest
from fakes_freshdesk import FreshdeskDriver
from govhall_sdk.model import Note, Patch
from govhall_sdk.patch import markers_in
from govhall_sdk.testing import build_sync, conformance_tickets
from test_freshdesk import DOC_TICKET, NOW, config, fake  # noqa: F401 (the fixtures)

CONVERSATIONS = "GET /api/v2/tickets/{id}/conversations"
FIRST, SECOND = "[govhall:tl.overdue:completion]", "[govhall:escalation:1]"
NOTES = [Note("tl.overdue", FIRST, f"超时 {FIRST}"), Note("escalation", SECOND, f"升级 {SECOND}")]


@pytest.fixture
def driver(fake):
    return FreshdeskDriver(fake)


class Memory:
    """What the state store keeps for an adapter across runs (:class:`govhall_sdk.state.AdapterMemory`)."""

    def __init__(self):
        self.kept = {}

    def get(self, key):
        return self.kept.get(key)

    def set(self, key, value):
        self.kept[key] = value

    def delete(self, key):
        self.kept.pop(key, None)

    def items(self, prefix=""):
        return {k: v for k, v in self.kept.items() if k.startswith(prefix)}


def requests_by_endpoint(fake, since=0):
    """``METHOD path`` of every request after the first ``since``, each ticket id as ``{id}``."""
    return Counter(f"{method} {endpoint(path)}" for method, path, _ in fake.log[since:])


def endpoint(path):
    """A path with its ticket id (the fifth part, ``/api/v2/tickets/{id}...``) as ``{id}``."""
    parts = path.split("/")
    return "/".join(parts[:4] + ["{id}"] + parts[5:]) if len(parts) > 4 else path


def sync_run(driver, config, pm):
    """One ``govhall run`` of a new adapter on the test's state store; its summary."""
    return build_sync(config, driver.make_adapter(config), pm, 10).run(NOW)


def read_then_pull(fake, driver, config, memory=None):
    """An adapter that has pulled ticket 5 (a documented ticket), the ticket, and the cursor after that pull."""
    fake.add_ticket({**DOC_TICKET, "id": 5, "custom_fields": {}, "updated_at": fake.tick()})
    adapter = driver.make_adapter(config)
    adapter.memory = memory
    (page,) = list(adapter.pull(None, 10))
    return adapter, page.items[0].ticket, page.cursor


def pulled_again(adapter, cursor):
    """(ids evaluated, echoes skipped) of pulling from ``cursor``."""
    pages = list(adapter.pull(cursor, 10))
    return [i.id for p in pages for i in p.items], sum(p.skipped for p in pages)


# ------------------------------------------------------------------ one note, no empty update

def test_the_notes_of_a_patch_are_one_private_note_and_only_notes_send_no_update(fake, driver, config):
    adapter, ticket, _ = read_then_pull(fake, driver, config)
    before = len(fake.log)
    assert adapter.apply([(ticket, Patch(notes=NOTES))])[0].ok
    assert requests_by_endpoint(fake, before) == {"POST /api/v2/tickets/{id}/notes": 1, CONVERSATIONS: 1}
    (note,) = fake.conversations["5"]
    assert note["private"] and markers_in(note["body_text"]) == [FIRST, SECOND]


def test_tags_already_as_the_patch_leaves_them_send_no_update(fake, driver, config):
    adapter, ticket, _ = read_then_pull(fake, driver, config)
    before = len(fake.log)
    assert adapter.apply([(ticket, Patch(add_tags=["窗口A"]))])[0].ok  # the ticket has it already
    assert fake.log[before:] == []
    adapter.apply([(ticket, Patch(add_tags=["govhall_sla_red"]))])
    assert requests_by_endpoint(fake, before) == {"PUT /api/v2/tickets/{id}": 1, CONVERSATIONS: 1}


def test_many_tickets_are_written_one_update_each_never_by_the_asynchronous_bulk_update(fake, driver, config,
                                                                                        govhall_pm):
    driver.seed(conformance_tickets(12))
    summary = sync_run(driver, config, govhall_pm)
    counts = requests_by_endpoint(fake)
    assert summary.ok and summary.written == 12
    assert counts["PUT /api/v2/tickets/{id}"] == counts["POST /api/v2/tickets/{id}/notes"] == 12
    assert not any("bulk_update" in path for _, path, _ in fake.log)


# ------------------------------------------------------------------ govhall's echo, this run and the next

def test_the_echo_of_a_note_and_an_update_is_skipped_in_this_run_and_the_next(fake, driver, config, govhall_pm):
    driver.seed(conformance_tickets(12))
    first = sync_run(driver, config, govhall_pm)
    assert first.written == 12 and first.skipped == 12, "this run's echo: pulled back, not read again"
    before = len(fake.log)
    idle = sync_run(driver, config, govhall_pm)
    assert idle.ok and idle.pulled == 0 and idle.written == 0
    assert requests_by_endpoint(fake, before) == {"GET /api/v2/tickets": 1}


def test_the_echo_of_a_note_alone_is_the_notes_version_and_kept_for_the_next_run(fake, driver, config):
    memory = Memory()
    adapter, ticket, cursor = read_then_pull(fake, driver, config, memory)
    adapter.apply([(ticket, Patch(notes=NOTES))])
    assert fake.tickets["5"]["updated_at"] == fake.conversations["5"][-1]["created_at"]
    assert pulled_again(adapter, cursor) == ([], 1)
    next_run = driver.make_adapter(config)
    next_run.memory = memory
    assert pulled_again(next_run, cursor) == ([], 1), "the next run skips it too, reading no conversation"
    assert len(fake.requests_to("GET", "/api/v2/tickets/5/conversations")) == 2  # the read, the write's proof


def test_a_persons_reply_right_after_govhalls_write_is_read_next_run(fake, driver, config, govhall_pm):
    driver.seed(conformance_tickets(3))
    sync_run(driver, config, govhall_pm)
    driver.touch("C-0001")  # the applicant answers a second after govhall's note and update
    before = len(fake.log)
    summary = sync_run(driver, config, govhall_pm)
    assert summary.ok and summary.pulled == 1 and summary.evaluated == 1
    assert requests_by_endpoint(fake, before)["GET /api/v2/tickets/{id}/conversations"] == 1
    assert "补充说明" in [c["body_text"] for c in fake.conversations["C-0001"]][-1]


def test_a_persons_change_in_the_same_second_as_govhalls_write_is_read(fake, driver, config):
    adapter, ticket, cursor = read_then_pull(fake, driver, config)
    adapter.apply([(ticket, Patch(add_tags=["govhall_sla_red"], notes=NOTES))])
    assert pulled_again(adapter, cursor) == ([], 1)
    fake.tickets["5"]["status"] = 3  # an agent sets it pending within the second: updated_at does not move
    assert pulled_again(adapter, cursor) == (["5"], 0)


def test_a_persons_change_between_govhalls_read_and_its_write_is_read(fake, driver, config):
    adapter, ticket, cursor = read_then_pull(fake, driver, config)
    fake.tickets["5"].update(priority=3, updated_at=fake.tick())  # the write's answer shows it
    adapter.apply([(ticket, Patch(add_tags=["govhall_sla_red"], notes=NOTES))])
    assert pulled_again(adapter, cursor) == (["5"], 0)


def test_an_agents_private_note_between_govhalls_read_and_its_write_is_read(fake, driver, config):
    adapter, ticket, cursor = read_then_pull(fake, driver, config)
    fake.add_conversation("5", {"body": "<div>[受理] 通知书: 是</div>", "private": True})  # no property moves
    adapter.apply([(ticket, Patch(add_tags=["govhall_sla_red"]))])
    assert pulled_again(adapter, cursor) == (["5"], 0)


def test_a_persons_note_between_govhalls_note_and_its_update_is_read(fake, driver, config):
    adapter, ticket, cursor = read_then_pull(fake, driver, config)
    update = fake._update

    def a_note_lands_first(tid, body):  # an agent's note lands between govhall's two requests
        fake.add_conversation(tid, {"body": "<div>已电话联系申请人</div>", "private": True})
        return update(tid, body)

    fake._update = a_note_lands_first
    adapter.apply([(ticket, Patch(add_tags=["govhall_sla_red"], notes=NOTES))])
    assert pulled_again(adapter, cursor) == (["5"], 0)


def test_a_conversation_edited_before_govhalls_write_is_read(fake, driver, config):
    fake.add_ticket({**DOC_TICKET, "id": 5, "custom_fields": {}, "updated_at": fake.tick()},
                    [{"body": "<div>[受理] 通知书: 否</div>", "private": True}])
    adapter = driver.make_adapter(config)
    ((ticket, cursor),) = [(p.items[0].ticket, p.cursor) for p in adapter.pull(None, 10)]
    fake.conversations["5"][0].update(body="<div>[受理] 通知书: 是</div>", updated_at=fake.tick())
    adapter.apply([(ticket, Patch(add_tags=["govhall_sla_red"]))])
    assert pulled_again(adapter, cursor) == (["5"], 0)


def test_a_failed_proof_leaves_the_write_done_and_the_ticket_to_be_read_again(fake, driver, config):
    adapter, ticket, cursor = read_then_pull(fake, driver, config)
    fake.fail("GET", "/api/v2/tickets/5/conversations", status=500, times=6)
    (outcome,) = adapter.apply([(ticket, Patch(add_tags=["govhall_sla_red"]))])
    assert outcome.ok and "govhall_sla_red" in fake.tickets["5"]["tags"]
    assert pulled_again(adapter, cursor) == (["5"], 0)


def test_a_write_of_a_ticket_not_read_by_this_adapter_remembers_nothing(fake, driver, config):
    adapter, ticket, cursor = read_then_pull(fake, driver, config)
    writer = driver.make_adapter(config)  # never read ticket 5: what nobody else changed is unknown
    writer.apply([(ticket, Patch(add_tags=["govhall_sla_red"]))])
    assert pulled_again(writer, cursor) == (["5"], 0)


# ------------------------------------------------------------------ credits

def test_credits_are_charged_and_counted_as_documented(fake, driver, config):
    fake.add_ticket({**DOC_TICKET, "id": 5})
    adapter = driver.make_adapter(config)
    list(adapter.pull(None, 10))  # a list page with include=requester,stats (5), the conversations (1)
    list(adapter.fetch(["5"]))  # the view with include=requester,stats (3), the conversations (1)
    assert adapter.credits_used == fake.credits_used == 10
    assert fake.rate_left == 700 - 10
