"""A page's tickets read a few at once (``read_concurrency``, ``[adapter] concurrency``): the requests in
flight meet the platform's budget, the order and each ticket's own failure are kept."""
import threading

import pytest
import responses

from govhall_sdk.config import ConfigError, default_config
from govhall_sdk.host import get_plugin_manager
from govhall_sdk.rest import RESTAdapter, RetryPolicy

URL = "https://desk.example"


class Desk(RESTAdapter):
    """Tickets in one list; each ticket's replies in a request of its own."""

    name = "desk"
    settings_schema = {"url": None}
    read_concurrency = 4

    def read_ticket(self, record, page):
        return {"replies": self.get_json(f"/tickets/{record['id']}/replies")}

    def to_interchange(self, record, warnings, replies=()):
        return {"id": str(record["id"]), "kind": "consultation", "created_at": "2025-03-03T09:00:00+08:00",
                "subject": replies[0]["text"], "events": []}


def desk(**settings):
    return Desk({"url": URL, **settings}, default_config(get_plugin_manager()), retry=RetryPolicy(attempts=1),
                sleep=lambda s: None)


def serve_replies(mock, ids, meet=None, broken=()):
    """Each ticket's replies; with ``meet``, a reply is answered only once that many requests are in flight."""
    barrier = threading.Barrier(meet, timeout=30) if meet else None

    def reply(request):
        tid = int(request.url.rsplit("/", 2)[-2])
        if barrier is not None:
            barrier.wait()  # raises BrokenBarrierError, failing the read, when fewer are ever in flight
        if tid in broken:
            return 500, {}, "{}"
        return 200, {"Content-Type": "application/json"}, f'[{{"text": "ticket {tid}"}}]'

    for tid in ids:
        mock.add_callback("GET", f"{URL}/tickets/{tid}/replies", callback=reply)


def test_four_reads_are_in_flight_at_once_and_the_page_keeps_its_order():
    ids = list(range(1, 9))
    with responses.RequestsMock() as mock:
        serve_replies(mock, ids, meet=4)
        items = desk().parse_all([{"id": i} for i in ids])
    assert [i.id for i in items] == [str(i) for i in ids]
    assert [i.ticket.subject for i in items] == [f"ticket {i}" for i in ids]


def test_one_ticket_s_failed_read_is_that_ticket_s_error_only():
    with responses.RequestsMock() as mock:
        serve_replies(mock, range(1, 6), broken={3})
        items = desk().parse_all([{"id": i} for i in range(1, 6)])
    assert [i.ticket is None for i in items] == [False, False, True, False, False]
    assert "cannot be read" in str(items[2].error) and "HTTP 500" in str(items[2].error)


def test_concurrency_one_reads_in_order_one_at_a_time():
    with responses.RequestsMock() as mock:
        serve_replies(mock, range(1, 5))
        desk(concurrency=1).parse_all([{"id": i} for i in range(1, 5)])
        seen = [call.request.url for call in mock.calls]
    assert seen == [f"{URL}/tickets/{i}/replies" for i in range(1, 5)]


@pytest.mark.parametrize("value", [-1, 9, True, "4"])
def test_concurrency_out_of_range_names_the_key(value):
    with pytest.raises(ConfigError, match="adapter.concurrency"):
        desk(concurrency=value)


def test_requests_are_counted_from_every_thread():
    with responses.RequestsMock() as mock:
        serve_replies(mock, range(1, 21))
        adapter = desk()
        adapter.parse_all([{"id": i} for i in range(1, 21)])
    assert adapter.requests_made == 20
