"""The HTTP plumbing: retry policy, Retry-After, idempotency, paginators and their loop guard, redaction."""
import logging

import pytest
import requests
import responses

from govhall_sdk.config import default_config
from govhall_sdk.host import get_plugin_manager
from govhall_sdk.rest import HTTPError, RESTAdapter, RetryPolicy, parse_retry_after
from govhall_sdk.rest import (
    PAGINATORS, CursorTokenPaginator, LinkHeaderPaginator, OffsetPaginator, PageNumberPaginator, PaginationLoop,
)

TOKEN = "tok-SECRET-4f9a1c"
URL = "https://helpdesk.example.test"


class Demo(RESTAdapter):
    name = "demo"
    settings_schema = {"url": None, "token": None, "verify_tls": True}
    secret_settings = ("token",)

    def auth_headers(self):
        return {"Authorization": f"Bearer {self.settings['token']}"}


@pytest.fixture
def adapter():
    waits = []
    a = Demo({"url": URL, "token": TOKEN}, default_config(get_plugin_manager()),
             retry=RetryPolicy(attempts=4, base=0.01), sleep=waits.append)
    a.waits = waits
    return a


@responses.activate
def test_429_waits_retry_after_then_succeeds(adapter):
    responses.get(f"{URL}/x", status=429, headers={"Retry-After": "7"})
    responses.get(f"{URL}/x", status=503)
    responses.get(f"{URL}/x", json={"ok": True})
    assert adapter.request("GET", "/x").json() == {"ok": True}
    assert adapter.waits[0] == 7 and len(adapter.waits) == 2 and adapter.requests_made == 3


@responses.activate
def test_retries_are_bounded(adapter):
    responses.get(f"{URL}/x", status=502)
    with pytest.raises(HTTPError) as info:
        adapter.request("GET", "/x")
    assert info.value.status == 502 and adapter.requests_made == 4


@responses.activate
def test_client_errors_are_not_retried(adapter):
    responses.put(f"{URL}/x", status=409, body="conflict")
    with pytest.raises(HTTPError, match="HTTP 409"):
        adapter.request("PUT", "/x", json={})
    assert adapter.requests_made == 1


@responses.activate
def test_post_is_not_retried_unless_declared_idempotent(adapter):
    responses.post(f"{URL}/notes", status=503)
    with pytest.raises(HTTPError):
        adapter.request("POST", "/notes", json={})
    assert adapter.requests_made == 1
    responses.post(f"{URL}/jobs", status=503)
    responses.post(f"{URL}/jobs", json={})
    adapter.request("POST", "/jobs", idempotent=True, json={})
    assert adapter.requests_made == 3


@responses.activate
def test_connection_errors_and_timeouts_are_retried(adapter):
    responses.get(f"{URL}/x", body=requests.ConnectionError("reset"))
    responses.get(f"{URL}/x", body=requests.Timeout("slow"))
    responses.get(f"{URL}/x", json=[])
    assert adapter.request("GET", "/x").json() == []


@responses.activate
def test_the_token_never_appears_in_errors_or_repr(adapter, caplog):
    responses.get(f"{URL}/x", status=401, body=f"bad token {TOKEN}")
    responses.get(f"{URL}/y", body=requests.ConnectionError(f"failed for {URL}/y?key={TOKEN}"))
    for path in ("/x", "/y"):
        with pytest.raises(HTTPError) as info:
            adapter.request("GET", path)
        assert TOKEN not in str(info.value) and "***" in str(info.value)
    assert TOKEN not in repr(adapter) and "***" in repr(adapter)
    assert TOKEN not in caplog.text


def test_tls_verification_off_needs_the_key_and_warns(caplog):
    with caplog.at_level(logging.WARNING, logger="govhall"):
        a = Demo({"url": URL, "token": TOKEN, "verify_tls": False}, default_config(get_plugin_manager()))
    assert a.session.verify is False and "TLS verification is OFF" in caplog.text
    assert Demo({"url": URL, "token": TOKEN}, default_config(get_plugin_manager())).session.verify is True


def test_retry_after_forms():
    assert parse_retry_after("120") == 120
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=lambda: 1445412470.0) == 10
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def _records(body):
    return body["items"]


@responses.activate
def test_offset_paginator_walks_to_the_end(adapter):
    for offset, n in ((0, 2), (2, 2), (4, 1)):
        responses.get(f"{URL}/items", match=[responses.matchers.query_param_matcher({"offset": str(offset), "limit": "2"})],
                      json={"items": list(range(offset, offset + n)), "total_count": 5})
    pages = [r for _, r in adapter.paginate("/items", OffsetPaginator(limit=2), _records)]
    assert pages == [[0, 1], [2, 3], [4]]


@responses.activate
def test_page_number_paginator_stops_on_a_short_page(adapter):
    responses.get(f"{URL}/p", match=[responses.matchers.query_param_matcher({"page": "1", "per_page": "2"})], json={"items": [1, 2]})
    responses.get(f"{URL}/p", match=[responses.matchers.query_param_matcher({"page": "2", "per_page": "2"})], json={"items": [3]})
    assert [r for _, r in adapter.paginate("/p", PageNumberPaginator(per_page=2), _records)] == [[1, 2], [3]]


@responses.activate
def test_cursor_paginator_guards_against_a_loop(adapter):
    responses.get(f"{URL}/c", json={"items": [1], "next": "A"})
    responses.get(f"{URL}/c", json={"items": [2], "next": "B"})
    responses.get(f"{URL}/c", json={"items": [3], "next": "A"})  # A -> B -> A
    with pytest.raises(PaginationLoop, match="twice"):
        list(adapter.paginate("/c", CursorTokenPaginator(lambda b: b["next"]), _records))


@responses.activate
def test_page_cap_and_empty_page(adapter):
    responses.get(f"{URL}/c", json={"items": [1], "next": "X1"})
    responses.get(f"{URL}/c", json={"items": [2], "next": "X2"})
    responses.get(f"{URL}/c", json={"items": [3], "next": "X3"})
    with pytest.raises(PaginationLoop, match="more than 2 pages"):
        list(adapter.paginate("/c", CursorTokenPaginator(lambda b: b["next"], max_pages=2), _records))
    responses.get(f"{URL}/e", json={"items": [], "next": "Z"})
    assert [r for _, r in adapter.paginate("/e", CursorTokenPaginator(lambda b: b["next"]), _records)] == [[]]


@responses.activate
def test_link_header_paginator(adapter):
    responses.get(f"{URL}/l", json={"items": [1]}, headers={"Link": f'<{URL}/l2>; rel="next"'})
    responses.get(f"{URL}/l2", json={"items": [2]})
    assert [r for _, r in adapter.paginate("/l", LinkHeaderPaginator(), _records)] == [[1], [2]]
    assert set(PAGINATORS) == {"offset", "page_number", "cursor", "link_header"}


@responses.activate
def test_pacing_slows_down_before_the_limit(adapter):
    adapter.remaining_header = "X-RateLimit-Remaining"
    responses.get(f"{URL}/x", json={}, headers={"X-RateLimit-Remaining": "2"})
    responses.get(f"{URL}/x", json={}, headers={"X-RateLimit-Remaining": "80"})
    adapter.request("GET", "/x")
    adapter.request("GET", "/x")
    assert adapter.waits == [adapter.pace_seconds]


@responses.activate
def test_truncated_json_is_retried(adapter):
    responses.get(f"{URL}/items", body='{"items": [1, 2', status=200)
    responses.get(f"{URL}/items", json={"items": [1, 2], "total_count": 2})
    assert [r for _, r in adapter.paginate("/items", OffsetPaginator(limit=5), _records)] == [[1, 2]]
    assert adapter.requests_made == 2


def test_a_secret_can_come_from_the_environment(monkeypatch):
    from govhall_sdk.config import ConfigError

    monkeypatch.setenv("DEMO_TOKEN", TOKEN)
    a = Demo({"url": URL, "token_env": "DEMO_TOKEN"}, default_config(get_plugin_manager()))
    assert a.settings["token"] == TOKEN and TOKEN not in repr(a)
    with pytest.raises(ConfigError, match="adapter.token_env: the environment variable NOPE is not set"):
        Demo({"url": URL, "token_env": "NOPE"}, default_config(get_plugin_manager()))


# ---------------------------------------------------------------- the declarative base (govhall_sdk.rest)

from govhall_sdk.config import ConfigError  # noqa: E402
from govhall_sdk.rest import MappedAdapter  # noqa: E402


class Desk(MappedAdapter):
    """A made-up helpdesk declared the kit's way: a page-numbered list, one ticket by id, its notes."""

    name = "desk"
    tickets_path = "/tickets"
    records_path = "tickets"
    ticket_path = "/tickets/{id}"
    statuses = {"o": "open"}
    settings_schema = {**MappedAdapter.settings_schema, "token": None, "colour": "blue"}
    secret_settings = ("token",)

    @classmethod
    def validate_settings(cls, raw):
        out = super().validate_settings(raw)  # the mapping tables, per_page, start: checked by the bases
        if out["colour"] not in ("blue", "red"):
            raise ConfigError(f"adapter.colour: not a colour: {out['colour']!r}")
        return out

    def new_paginator(self, cursor, page_size):
        return PageNumberPaginator(per_page=2)

    def page_cursor(self, paginator, response):
        return str(paginator.page)

    def read_ticket(self, record, page):
        return {"notes": self.get_json(f"/tickets/{record['id']}/notes")}

    def to_interchange(self, record, warnings, notes=()):
        if record.get("odd"):
            raise TypeError("'str' object has no attribute 'get'")  # what an undocumented payload shape does
        return {"id": str(record["id"]), "kind": "consultation", "status": self.mapping.status(record["s"]),
                "created_at": "2025-01-06T09:00:00+08:00",
                "events": [{"type": "reply", "at": "2025-01-06T10:00:00+08:00", "public": True, "body": n}
                           for n in notes]}


def desk():
    return Desk({"url": URL, "token": TOKEN}, default_config(get_plugin_manager()),
                retry=RetryPolicy(attempts=2, base=0), sleep=lambda s: None)


@responses.activate
def test_one_ticket_that_cannot_be_mapped_or_read_is_its_own_error_and_the_page_goes_on():
    responses.get(f"{URL}/tickets", json={"tickets": [{"id": 1, "s": "o"}, {"id": 2, "s": "o", "odd": True}]})
    responses.get(f"{URL}/tickets", json={"tickets": [{"id": 3, "s": "o"}, {"id": 4, "s": "o"}]})
    responses.get(f"{URL}/tickets", json={"tickets": []})
    responses.get(f"{URL}/tickets/1/notes", json=["您好"])
    responses.get(f"{URL}/tickets/2/notes", json=[])
    responses.get(f"{URL}/tickets/3/notes", status=503)
    responses.get(f"{URL}/tickets/4/notes", status=404)
    pages = list(desk().pull(None))
    assert [p.cursor for p in pages] == ["1", "2"]  # the page just read: the paginator moves on after it is yielded
    items = [i for p in pages for i in p.items]
    assert [i.id for i in items] == ["1", "2", "3", "4"]
    assert items[0].ticket.events[0].body == "您好"
    assert items[1].error.problems == ["ticket: cannot be mapped: TypeError: 'str' object has no attribute 'get'"]
    assert items[2].error.problems[0].startswith("ticket: cannot be read: GET ") and "HTTP 503" in items[2].error.problems[0]
    assert items[3].error.problems == ["no such ticket (deleted while reading)"]


@responses.activate
def test_fetch_reads_each_ticket_and_reports_an_unknown_id():
    responses.get(f"{URL}/tickets/7", json={"id": 7, "s": "o"})
    responses.get(f"{URL}/tickets/7/notes", json=[])
    responses.get(f"{URL}/tickets/8", status=404)
    responses.get(f"{URL}/tickets/9", status=400, body=f"bad {TOKEN}")
    seven, eight, nine = desk().fetch(["7", "8", "9"])
    assert seven.ticket.status == "open"
    assert eight.error.problems == ["no such ticket"]
    assert "HTTP 400" in str(nine.error) and TOKEN not in str(nine.error)


def test_settings_are_validated_by_ordinary_inheritance():
    config = default_config(get_plugin_manager())
    with pytest.raises(ConfigError, match="adapter.colour: not a colour"):
        Desk({"url": URL, "token": TOKEN, "colour": "green"}, config)
    with pytest.raises(ConfigError, match="adapter.statuses.x: 'shut' is not one of"):
        Desk({"url": URL, "token": TOKEN, "statuses": {"x": "shut"}}, config)
    with pytest.raises(ConfigError, match="adapter.per_page: expected 1 to 100"):
        Desk({"url": URL, "token": TOKEN, "per_page": 101}, config)
    assert Desk({"url": URL, "token": TOKEN}, config).mapping.status("o") == "open"


@responses.activate
def test_each_page_is_decoded_once(adapter, monkeypatch):
    decoded = []
    real = requests.Response.json
    monkeypatch.setattr(requests.Response, "json", lambda self, **kw: decoded.append(self.url) or real(self, **kw))
    for offset, n in ((0, 2), (2, 1)):
        responses.get(f"{URL}/items", match=[responses.matchers.query_param_matcher({"offset": str(offset), "limit": "2"})],
                      json={"items": list(range(offset, offset + n)), "total_count": 3})
    responses.get(f"{URL}/c", json={"items": [1], "next": "A"})
    responses.get(f"{URL}/c", json={"items": [2], "next": None})
    assert [r for _, r in adapter.paginate("/items", OffsetPaginator(limit=2), "items")] == [[0, 1], [2]]
    assert [r for _, r in adapter.paginate("/c", CursorTokenPaginator(lambda b: b["next"]), "items")] == [[1], [2]]
    assert len(decoded) == 4  # one decode per page, none by the paginators


@responses.activate
def test_retry_after_is_waited_in_full_beyond_the_backoff_cap(adapter):
    """A request sent again before its Retry-After passed is refused again: the wait is not cut to max_wait."""
    adapter.retry = RetryPolicy(attempts=3, base=0.01, max_wait=60)
    responses.get(f"{URL}/x", status=429, headers={"Retry-After": "240"})
    responses.get(f"{URL}/x", json={"ok": True})
    assert adapter.request("GET", "/x").json() == {"ok": True}
    assert adapter.waits == [240]


@responses.activate
def test_a_retry_after_beyond_retry_after_max_fails_at_once_saying_so(adapter):
    adapter.retry = RetryPolicy(attempts=3, base=0.01, retry_after_max=300)
    responses.get(f"{URL}/x", status=429, headers={"Retry-After": "3600"})
    with pytest.raises(HTTPError, match=r"HTTP 429.*asks to wait 3600 s, longer than the 300 s govhall waits: "
                                        r"not retried in this run, tried again by the next") as raised:
        adapter.request("GET", "/x")
    assert adapter.waits == [] and adapter.requests_made == 1 and raised.value.status == 429
