"""The Zammad adapter's own echo (issue 16): the version govhall's write produced is remembered only when the
write's answer shows nothing but that write changed the ticket since it was read, so a rerun reads nothing per
ticket, and a person's change made between or right after govhall's requests is read and evaluated."""
from datetime import datetime

import pytest

from fakes_zammad import ZammadDriver
from govhall_sdk.model import Patch
from govhall_sdk.testing import build_sync, conformance_tickets
from test_zammad import config, fake  # noqa: F401 (the fixtures)

NOW = datetime.fromisoformat("2025-03-03T09:00:00+08:00")
TICKET = "C-0003"
BY_TICKET = f"/api/v1/ticket_articles/by_ticket/{TICKET}"


@pytest.fixture
def driver(fake):
    driver = ZammadDriver(fake)
    driver.seed(conformance_tickets(6))
    return driver


def run(driver, config, pm):
    return build_sync(config, driver.make_adapter(config), pm, 10).run(NOW)


def reads_of(fake, path=BY_TICKET):
    return len(fake.requests_to("GET", path))


def reply(fake, text="请问办好了吗？"):
    """A person's public reply (the applicant's), which moves the ticket's ``updated_at``."""
    return lambda: fake.add_article(TICKET, {"body": text, "type": "web", "sender": "Customer",
                                             "created_by": "customer@example.com", "created_by_id": 20})


def test_a_rerun_where_nothing_changed_reads_nothing_per_ticket(fake, driver, config, govhall_pm):
    first = run(driver, config, govhall_pm)
    assert first.ok and first.written == 6
    before = len(fake.received)
    second = run(driver, config, govhall_pm)
    assert second.ok and second.evaluated == 0 and second.written == 0
    paths = {c.path for c in fake.received[before:]}
    assert paths == {"/api/v1/tickets", "/api/v1/tickets/search"}  # the start-up check and the search only


def test_the_remembered_version_is_the_one_after_the_last_request_of_the_write(fake, driver, config, govhall_pm):
    run(driver, config, govhall_pm)
    own = [c for c in fake.received if c.method != "GET" and (TICKET in c.path or (c.body or {}).get("o_id") == TICKET)]
    assert [c.method for c in own] == ["POST", "POST", "PUT"]  # its tags, then the PUT with attributes and note
    memory = build_sync(config, driver.make_adapter(config), govhall_pm).state.memory("zammad")
    assert memory.items("echo:")[f"echo:{TICKET}"] == fake.tickets[TICKET]["updated_at"]


@pytest.mark.parametrize("method, path, o_id", [("POST", "/api/v1/tags/add", TICKET),  # its first write
                                                ("PUT", rf"/api/v1/tickets/{TICKET}$", None)])  # its last
def test_a_persons_reply_between_govhalls_read_and_its_last_request_is_evaluated_next_run(
        fake, driver, config, govhall_pm, method, path, o_id):
    fake.before_next(method, path, reply(fake, "[办结] 办好了吗？"), o_id=o_id)
    run(driver, config, govhall_pm)
    assert not fake.meanwhile, "the person acted"
    reads = reads_of(fake)
    second = run(driver, config, govhall_pm)
    assert reads_of(fake) == reads + 1 and second.evaluated == 1, "the ticket is read again and evaluated"
    third = run(driver, config, govhall_pm)
    assert third.evaluated == 0, "once evaluated, its own echo is skipped again"


def test_a_persons_reply_right_after_govhalls_write_is_read_next_run(fake, driver, config, govhall_pm):
    # a page is read whole, then written ticket by ticket: C-0004's first tag request follows C-0003's PUT
    fake.before_next("POST", "/api/v1/tags/add", reply(fake), o_id="C-0004")
    run(driver, config, govhall_pm)
    reads = reads_of(fake)
    second = run(driver, config, govhall_pm)
    assert reads_of(fake) == reads + 1 and second.evaluated == 1


def test_a_persons_tag_before_govhalls_put_is_not_taken_for_the_echo(fake, driver, config, govhall_pm):
    fake.before_next("PUT", rf"/api/v1/tickets/{TICKET}$", lambda: fake.tags[TICKET].append("加急"))
    run(driver, config, govhall_pm)
    reads = reads_of(fake)
    second = run(driver, config, govhall_pm)
    assert reads_of(fake) == reads + 1 and second.evaluated == 1


def test_a_persons_status_change_before_govhalls_put_is_not_taken_for_the_echo(fake, driver, config, govhall_pm):
    def close():
        fake.tickets[TICKET].update({"state_id": 4, "state": "closed"})

    fake.before_next("PUT", rf"/api/v1/tickets/{TICKET}$", close)
    run(driver, config, govhall_pm)
    reads = reads_of(fake)
    second = run(driver, config, govhall_pm)
    assert reads_of(fake) == reads + 1 and second.evaluated == 1


def test_a_write_zammad_did_not_store_is_not_remembered(fake, driver, config, govhall_pm):
    fake.attributes = ("govhall_light",)  # the other govhall_* attributes were never created
    fake.tickets.clear()
    driver.seed(conformance_tickets(2))
    first = run(driver, config, govhall_pm)
    assert len(first.failed) == 2
    reads = reads_of(fake, "/api/v1/ticket_articles/by_ticket/C-0000")
    run(driver, config, govhall_pm)
    assert reads_of(fake, "/api/v1/ticket_articles/by_ticket/C-0000") == reads + 1


def test_a_write_of_tags_alone_ends_with_an_empty_put_whose_version_is_remembered(fake, config):
    fake.add_ticket({"id": 40}, tags=["govhall_sla_green"])
    adapter = ZammadDriver(fake).make_adapter(config)
    (item,) = adapter.fetch(["40"])
    (outcome,) = adapter.apply([(item.ticket, Patch(["govhall_sla_red"], ["govhall_sla_green"]))])
    assert outcome.ok
    ((query, put),) = fake.requests_to("PUT", "/api/v1/tickets/40")
    assert (query, put) == ({"all": ["true"]}, {})
    assert adapter.is_echo(fake.tickets["40"]), "the version after the last tag request and the PUT"
    fake.tags["40"].append("加急")  # a person's tag: a newer version
    fake.tickets["40"]["updated_at"] = fake.tick()
    assert not adapter.is_echo(fake.tickets["40"])
