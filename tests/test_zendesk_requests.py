"""What the Zendesk adapter asks for (issue 16): govhall's own echo is not read again, a person's change always is.

Every test runs ``govhall run`` (a :class:`~govhall_sdk.sync.Sync` with its state store) on the fake Zendesk and
counts the requests it received, by endpoint.
"""
import math
from datetime import datetime, timedelta

import pytest

from fakes_zendesk import FIELD_IDS, ZendeskDriver
from govhall_sdk.testing import build_sync, conformance_tickets

NOW = datetime.fromisoformat("2025-03-03T09:00:00+08:00")
EXPORT = "/api/v2/incremental/tickets/cursor.json"
SHOW_MANY = "/api/v2/tickets/show_many.json"
UPDATE_MANY = "/api/v2/tickets/update_many.json"
AGENT = 9101


@pytest.fixture
def driver(govhall_http):
    driver = ZendeskDriver(govhall_http)
    driver.fake.add_user(AGENT, "李四", "agent")
    return driver


@pytest.fixture
def config(govhall_config):
    return govhall_config()


def run(driver, config, pm, page_size=1000):
    """One run of the adapter itself (Zendesk's ids), and the requests the fake received during it."""
    before = len(driver.fake.received)
    summary = build_sync(config, driver.adapter(config), pm, page_size).run(NOW)
    return summary, driver.fake.received[before:]


def seeded(driver, count):
    """``count`` tickets that a first run writes (tags, fields and a note each); their Zendesk ids."""
    driver.seed(conformance_tickets(count))
    return [int(tid) for tid in driver.ids.values()]


def comments_read(sent):
    """The ids of the tickets whose comments a run read."""
    return {int(c.path.split("/")[4]) for c in sent if c.path.endswith("/comments.json")}


def paths(sent, path):
    return [c for c in sent if c.path == path]


def test_an_idle_rerun_reads_nothing_but_the_export(driver, config, govhall_pm):
    ids = seeded(driver, 5)
    first, sent = run(driver, config, govhall_pm)
    assert first.ok and first.written == 5 and comments_read(sent) == set(ids)
    (read_back,) = paths(sent, SHOW_MANY)
    assert read_back.params == {"ids": ",".join(map(str, ids)), "include": "comment_count"}
    idle, sent = run(driver, config, govhall_pm)
    assert idle.ok and (idle.pulled, idle.skipped, idle.written) == (0, 5, 0)
    assert [c.path for c in sent] == [EXPORT]


@pytest.mark.parametrize("n", [1, 100, 101, 250])
def test_n_written_tickets_cost_ceil_n_over_100_read_backs(driver, config, govhall_pm, n):
    seeded(driver, n)
    first, sent = run(driver, config, govhall_pm)
    assert first.written == n
    read_backs = paths(sent, SHOW_MANY)
    assert len(read_backs) == math.ceil(n / 100) and all(len(c.params["ids"].split(",")) <= 100 for c in read_backs)
    _, sent = run(driver, config, govhall_pm)
    assert comments_read(sent) == set()


def test_a_first_run_costs_at_most_1_1_requests_a_ticket_plus_one_update_many_per_100(driver, config, govhall_pm):
    seeded(driver, 250)
    first, sent = run(driver, config, govhall_pm)
    assert first.written == 250
    update_many = len(paths(sent, UPDATE_MANY))
    assert update_many == 3 and len(sent) - update_many <= 1.1 * 250  # issue 16's target


def _comment(fake, tid, same_second=False):
    fake.add_comment(tid, AGENT, "已电话联系申请人，材料明日补齐", same_second=same_second)


def _field(fake, tid, same_second=False):
    fake.set_field(tid, FIELD_IDS["承诺时限"], "3", same_second)


def _status(fake, tid, same_second=False):
    fake.tickets[tid]["status"] = "pending"
    fake.changed(tid, same_second)


def _tag(fake, tid, same_second=False):
    fake.tickets[tid]["tags"].append("vip")
    fake.changed(tid, same_second)


PERSONS_CHANGES = [_comment, _field, _status, _tag]


@pytest.mark.parametrize("change", PERSONS_CHANGES)
def test_a_persons_change_right_after_govhalls_write_is_read_and_evaluated_next_run(
        driver, config, govhall_pm, change):
    ids = seeded(driver, 3)
    fake, changed = driver.fake, ids[1]
    fake.after_jobs.append(lambda: change(fake, changed))  # after the job applied, before govhall reads it back
    first, _ = run(driver, config, govhall_pm)
    assert first.ok and first.written == 3
    second, sent = run(driver, config, govhall_pm)
    assert (second.pulled, second.evaluated, second.skipped) == (1, 1, 2)
    assert comments_read(sent) == {changed}


@pytest.mark.parametrize("change", PERSONS_CHANGES)
def test_a_persons_change_in_the_same_second_as_the_read_back_is_read_next_run(driver, config, govhall_pm, change):
    ids = seeded(driver, 3)
    fake, changed = driver.fake, ids[0]
    run(driver, config, govhall_pm)
    stamp = fake.tickets[changed]["updated_at"]
    change(fake, changed, same_second=True)  # updated_at counts whole seconds: it does not move
    assert fake.tickets[changed]["updated_at"] == stamp
    second, sent = run(driver, config, govhall_pm)
    assert (second.pulled, second.evaluated) == (1, 1) and comments_read(sent) == {changed}


def test_a_change_within_the_exports_last_minute_is_read_by_a_later_run(driver, config, govhall_pm):
    ids = seeded(driver, 2)
    fake = driver.fake
    run(driver, config, govhall_pm)
    _comment(fake, ids[0])
    fake.lag = timedelta(seconds=30)  # the next run asks 30 s after the comment: the export leaves it out
    soon, sent = run(driver, config, govhall_pm)
    assert soon.pulled == 0 and comments_read(sent) == set()
    fake.lag = timedelta(minutes=2)
    later, sent = run(driver, config, govhall_pm)
    assert (later.pulled, later.evaluated) == (1, 1) and comments_read(sent) == {ids[0]}


def test_without_the_comment_count_sideload_nothing_is_taken_for_an_echo(driver, config, govhall_pm, monkeypatch):
    ids = seeded(driver, 3)
    monkeypatch.setattr(driver.fake, "_tickets_json", lambda tickets, include: tickets)  # comment_count not answered
    run(driver, config, govhall_pm)
    again, sent = run(driver, config, govhall_pm)
    assert again.ok and again.pulled == 3 and again.written == 0 and comments_read(sent) == set(ids)


def test_a_failed_read_back_fails_no_write_and_the_tickets_are_read_again(driver, config, govhall_pm):
    ids = seeded(driver, 3)
    driver.fake.fail("GET", SHOW_MANY, 500, {"error": "InternalError"}, times=6)  # every attempt of the read-back
    first, sent = run(driver, config, govhall_pm)
    assert first.ok and first.written == 3 and len(paths(sent, SHOW_MANY)) == 6
    again, sent = run(driver, config, govhall_pm)
    assert again.ok and again.pulled == 3 and again.written == 0 and comments_read(sent) == set(ids)


def test_a_first_run_skips_its_own_echo_when_later_pages_of_the_export_bring_it(driver, config, govhall_pm):
    ids = seeded(driver, 5)
    first, sent = run(driver, config, govhall_pm, page_size=2)  # pages of 2: the first pages' writes come back
    assert first.ok and first.written == 5 and first.skipped == 5
    assert sorted(int(c.path.split("/")[4]) for c in sent if c.path.endswith("/comments.json")) == ids
