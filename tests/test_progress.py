"""Progress people can read: retries announced as they happen, progress bars on a terminal only.

- every retry of a helpdesk request is logged at WARNING as it happens
  (``429 from zendesk, waiting 30 s, attempt 2/6``), without the URL;
- ``govhall run`` in a real terminal (a pty) draws a bar with the total, the rate
  and the time left; nothing of it on a pipe, with ``-q`` or with ``TERM=dumb``.
"""
from __future__ import annotations

import logging
from datetime import datetime

import pytest

from fakes_zendesk import TOKEN, ZendeskDriver
from govhall_sdk.rest.retry import HTTPError, failure_kind
from govhall_sdk.testing import build_sync, conformance_tickets

NOW = datetime.fromisoformat("2025-03-03T09:00:00+08:00")


# ---------------------------------------------------------------- retries say so as they happen

def test_each_429_is_announced_with_the_adapter_the_wait_and_the_attempt(govhall_http, govhall_config, govhall_pm,
                                                                          caplog):
    driver = ZendeskDriver(govhall_http)
    driver.seed(conformance_tickets(3))
    driver.fake.throttle("GET", r"incremental", 2, 30)
    config = govhall_config()
    with caplog.at_level(logging.WARNING, logger="govhall"):
        summary = build_sync(config, driver.make_adapter(config), govhall_pm).run(NOW)
    assert summary.ok
    retries = [r for r in caplog.records if "waiting" in r.getMessage()]
    assert [r.getMessage() for r in retries] == ["429 from zendesk, waiting 30 s, attempt 2/6",
                                                 "429 from zendesk, waiting 30 s, attempt 3/6"]
    assert all(r.name == "govhall" and r.levelno == logging.WARNING for r in retries)
    assert not any("http" in r.getMessage() or TOKEN in r.getMessage() for r in caplog.records)


def test_a_5xx_and_a_short_wait_read_as_such(govhall_http, govhall_config, govhall_pm, caplog):
    driver = ZendeskDriver(govhall_http)
    driver.seed(conformance_tickets(1))
    driver.fake.fail("GET", r"incremental", 503, "")
    config = govhall_config()
    with caplog.at_level(logging.WARNING, logger="govhall"):
        assert build_sync(config, driver.make_adapter(config), govhall_pm).run(NOW).ok
    (line,) = [r.getMessage() for r in caplog.records if "waiting" in r.getMessage()]
    assert line.startswith("503 from zendesk, waiting ") and line.endswith(" s, attempt 2/6"), line


@pytest.mark.parametrize("message, kind", [
    ("GET https://x.example/a: ReadTimeout: read timed out", "timeout"),
    ("GET https://x.example/a: ConnectionError: refused", "connection error"),
    ("GET https://x.example/a: malformed JSON: Expecting value", "a malformed or cut-short answer"),
    ("GET https://x.example/a: SSLError: bad", "network error"),
])
def test_a_failure_without_a_status_is_named_by_its_kind(message, kind):
    assert failure_kind(HTTPError(message)) == kind
