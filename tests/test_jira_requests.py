"""How many requests the Jira adapter sends, and that counting fewer never skips a person's change (issue 16).

Through the fake Jira (``fakes_jira``): echoes of govhall's own writes are not read again, a change anyone
else made is, pages are asked for at Jira's maximum, one comment carries every note of a run, and the
adapter waits as long as Jira's rate-limit headers say.
"""
from datetime import datetime, timedelta, timezone

import pytest

from fakes_jira import JiraDriver, jira_time
from govhall_sdk.model import Note, Patch
from govhall_sdk.testing import build_sync, conformance_tickets
from test_jira import config  # noqa: F401 (the fixture)

NOW = datetime.fromisoformat("2025-03-03T09:00:00+08:00")


@pytest.fixture
def driver(govhall_http):
    return JiraDriver(govhall_http)


def run(driver, config, pm):
    """One ``govhall run`` on the fake, and the requests it sent by ``(method, path)``."""
    before = len(driver.fake.received)
    adapter = driver.make_adapter(config)
    summary = build_sync(config, adapter, pm, adapter.page_size()).run(NOW)
    return summary, [(c.method, c.path) for c in driver.fake.received[before:]]


def reads_of_issues(sent):
    """The requests of a run that read one issue each (its comments, its changelog, the issue itself)."""
    return [(m, p) for m, p in sent if m == "GET" and "/issue/" in p]


def run_with_change_before_write(driver, config, pm, change):
    """A first run in which ``change(key)`` happens to every issue between govhall's read and its write."""
    adapter = driver.make_adapter(config)
    original = adapter.inner.apply_one

    def apply_one(ticket, patch):
        change(ticket.id)
        original(ticket, patch)

    adapter.inner.apply_one = apply_one
    return build_sync(config, adapter, pm, adapter.page_size()).run(NOW)


def busy(driver, seeded_id, comments=8):
    """Give a seeded issue more comments than the search embeds (the fake embeds 5)."""
    key = driver.ids[seeded_id]
    for i in range(comments):
        driver.fake.add_comment(key, driver.people["s1"], f"第{i}条", at=datetime(2025, 1, 7, 9, i, tzinfo=NOW.tzinfo),
                                bump=False)
    return key


# ---------------------------------------------------------------- echoes


def test_an_idle_rerun_reads_no_issue(driver, config, govhall_pm):
    driver.seed(conformance_tickets(6))
    busy(driver, "C-0002")
    first, _ = run(driver, config, govhall_pm)
    assert first.ok and first.written == 6
    driver.later()
    second, sent = run(driver, config, govhall_pm)
    assert second.ok and (second.pulled, second.skipped, second.written) == (0, 6, 0)
    assert reads_of_issues(sent) == [] and {m for m, _ in sent} == {"POST"}
    assert {p for _, p in sent} == {"/rest/api/3/search/jql"}


def test_the_read_back_costs_one_search_per_50_issues_and_one_comment_list(driver, config, govhall_pm):
    driver.seed(conformance_tickets(60))
    for seeded in ("C-0001", "C-0055"):
        busy(driver, seeded)
    first, sent = run(driver, config, govhall_pm)
    assert first.ok and first.written == 60
    backs = [c.body for c in driver.fake.sent("POST", r"/rest/api/3/search/jql") if "reconcileIssues" in c.body]
    assert [len(b["reconcileIssues"]) for b in backs] == [50, 10]
    assert all(b["jql"].startswith("key in (") and b["fields"] == ["updated", "comment"] for b in backs)
    assert sent.count(("POST", "/rest/api/3/comment/list")) == 2  # one for each read-back with a busy issue


def test_a_persons_comment_right_after_govhalls_write_is_read_next_run(driver, config, govhall_pm):
    driver.seed(conformance_tickets(3))
    first, _ = run(driver, config, govhall_pm)
    assert first.ok and first.written == 3
    key = driver.ids["C-0001"]
    driver.fake.add_comment(key, driver.person({"id": "s2"}, ""), "刚刚补充：已电话联系")  # before any later run
    driver.later()
    second, sent = run(driver, config, govhall_pm)
    assert (second.pulled, second.skipped) == (1, 2)
    assert second.lights and second.evaluated == 1


@pytest.mark.parametrize("change", ["comment", "status", "comment edited", "comment deleted"])
def test_a_persons_change_between_govhalls_read_and_its_write_is_read_next_run(driver, config, govhall_pm, change):
    driver.seed(conformance_tickets(2))
    fake = driver.fake
    person = driver.person({"id": "s2"}, "")
    hidden = {}  # issue key -> a comment beyond what the search embeds
    for seeded in ("C-0000", "C-0001"):
        key = busy(driver, seeded)
        hidden[key] = fake.comments[key][-1]

    def act(key):
        if change == "comment":
            fake.add_comment(key, person, "我来处理")
        elif change == "status":
            fake.transition(key, "pending", person)
        elif change == "comment edited":  # one the search does not show: only "Get comments by IDs" tells
            comment = hidden[key]
            comment["updated"], comment["updateAuthor"] = jira_time(fake.tick()), fake.user_json(person)
            fake.issues[key]["fields"]["updated"] = comment["updated"]
        else:
            fake.comments[key].remove(hidden[key])
            fake.touched(key)

    first = run_with_change_before_write(driver, config, govhall_pm, act)
    assert first.ok and first.written == 2
    driver.later()
    second, _ = run(driver, config, govhall_pm)
    assert (second.pulled, second.skipped) == (2, 0)


def test_an_issue_that_cannot_be_read_back_is_read_again(driver, config, govhall_pm):
    driver.seed(conformance_tickets(2))
    adapter = driver.adapter(config)
    (page,) = list(adapter.pull(None))
    driver.fake.fail("POST", r"search/jql", 400, {"errorMessages": ["x"]})
    patch = Patch(["govhall_sla_red"], [], {"govhall_light": "red"}, [])
    outcomes = adapter.apply([(item.ticket, patch) for item in page.items])
    assert [o.ok for o in outcomes] == [True, True]  # the writes landed; only their versions are unknown
    driver.later()
    again = [i.id for p in adapter.pull(None) for i in p.items]
    assert sorted(again) == sorted(driver.ids.values())


def test_this_runs_own_echo_is_skipped_and_forgotten_once_someone_changes_it(driver, config):
    driver.seed(conformance_tickets(2))
    adapter = driver.adapter(config)
    (page,) = list(adapter.pull(None))
    patch = Patch(["govhall_sla_red"], [], {"govhall_light": "red"}, [Note("a", "[govhall:a]", "甲 [govhall:a]")])
    assert all(o.ok for o in adapter.apply([(item.ticket, patch) for item in page.items]))
    driver.later()
    (echo,) = list(adapter.pull(page.cursor))
    assert (echo.items, echo.skipped) == ([], 2)
    driver.touch("C-0000")
    assert [i.id for p in adapter.pull(page.cursor) for i in p.items] == [driver.ids["C-0000"]]


# ---------------------------------------------------------------- pages and notes


def test_the_search_asks_for_jiras_largest_page_and_follows_the_smaller_one_it_gets(driver, config, govhall_pm):
    driver.seed(conformance_tickets(130))
    summary, _ = run(driver, config, govhall_pm)
    searches = [c.body for c in driver.fake.sent("POST", r"/rest/api/3/search/jql") if "reconcileIssues" not in c.body]
    assert {b["maxResults"] for b in searches} == {5000} and len(searches) == 2  # Jira answers 100 a page
    assert summary.ok and summary.pulled == 130


def test_every_note_of_a_run_goes_in_one_comment_per_issue(driver, config, govhall_pm):
    tickets = conformance_tickets(3)
    for t in tickets:
        t["events"] = []  # no reply at all: the first reply and the completion are both overdue
    driver.seed(tickets)
    summary, sent = run(driver, config, govhall_pm)
    posts = [p for m, p in sent if m == "POST" and p.endswith("/comment")]
    assert summary.ok and summary.notes > len(tickets)  # more notes than issues...
    assert sorted(posts) == sorted(f"/rest/servicedeskapi/request/{k}/comment" for k in driver.ids.values())


# ---------------------------------------------------------------- pacing


def throttled_sleeps(driver, config, headers):
    """What the adapter sleeps when Jira refuses its first search with a 429 and ``headers`` (or the headers
    ``headers(now)`` gives, ``now`` the fake's clock once it is seeded)."""
    driver.seed(conformance_tickets(1))
    headers = headers(driver.fake.clock) if callable(headers) else headers
    driver.fake.fail("POST", r"search/jql", 429, {"errorMessages": ["Rate limit exceeded."]},
                     headers={"RateLimit-Reason": "jira-burst-based", **headers})
    adapter = driver.adapter(config)
    driver.sleeps.clear()
    assert [i.id for p in adapter.pull(None) for i in p.items] == [driver.ids["C-0000"]]
    return driver.sleeps


def test_a_retry_after_beyond_the_retry_policys_cap_is_waited_in_full(driver, config):
    assert sum(throttled_sleeps(driver, config, {"Retry-After": "150"})) == 150


def test_a_429_without_retry_after_waits_until_x_ratelimit_reset(driver, config):
    def reset_in_ten_minutes(now):  # yyyy-MM-ddTHH:mmZ, to the minute
        return {"X-RateLimit-Reset": (now + timedelta(seconds=600)).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%MZ")}

    sleeps = throttled_sleeps(driver, config, reset_in_ten_minutes)
    reset = datetime.fromisoformat(reset_in_ten_minutes(driver.fake.clock)["X-RateLimit-Reset"].replace("Z", "+00:00"))
    assert sleeps[0] == (reset - driver.fake.clock).total_seconds() and 540 <= sleeps[0] <= 600


def test_a_429_with_only_beta_retry_after_waits_it(driver, config):
    assert throttled_sleeps(driver, config, {"Beta-Retry-After": "30"})[0] == 30


def test_pauses_only_when_jira_says_the_budget_is_nearly_spent(driver, config):
    driver.seed(conformance_tickets(2))
    adapter = driver.adapter(config)
    driver.sleeps.clear()
    list(adapter.pull(None))
    assert driver.sleeps == []  # the budget is far from spent: no pause
    driver.fake.remaining = 15  # below 20 % of 100: X-RateLimit-NearLimit: true
    list(adapter.pull(None))
    assert driver.sleeps == [adapter.pace_seconds]
