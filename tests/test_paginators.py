"""The paginators stop at ``total``, on a repeated page, or at the cap, whichever comes first (issue 16)."""
import pytest
import responses
from responses import matchers

from govhall_sdk.config import default_config
from govhall_sdk.host import get_plugin_manager
from govhall_sdk.rest import (
    CursorTokenPaginator, LinkHeaderPaginator, OffsetPaginator, PageNumberPaginator, PaginationLoop, RESTAdapter,
    RetryPolicy,
)
from govhall_sdk.rest.paginators import body_value

URL = "https://desk.example.test"


class Desk(RESTAdapter):
    name = "desk"
    settings_schema = {"url": None}


@pytest.fixture
def desk():
    return Desk({"url": URL}, default_config(get_plugin_manager()), retry=RetryPolicy(attempts=1), sleep=lambda s: None)


def walk(desk, path, paginator, records="items"):
    return [page for _, page in desk.paginate(path, paginator, records)]


def serve(path, query, body, **kw):
    responses.get(f"{URL}{path}", match=[matchers.query_param_matcher(query)], json=body, **kw)


# ---------------------------------------------------------------- total

@responses.activate
def test_a_short_page_before_total_goes_on(desk):
    """The platform caps the page size at 50 though 100 were asked: the walk pages on to total."""
    for offset, n in ((0, 50), (50, 50), (100, 20)):
        serve("/i", {"offset": str(offset), "limit": "100"},
              {"items": list(range(offset, offset + n)), "total_count": 120})
    pages = walk(desk, "/i", OffsetPaginator(limit=100))
    assert [len(p) for p in pages] == [50, 50, 20] and desk.requests_made == 3


@responses.activate
def test_a_full_page_reaching_total_is_the_last(desk):
    for offset in (0, 2):
        serve("/i", {"offset": str(offset), "limit": "2"}, {"items": [offset, offset + 1], "total_count": 4})
    assert walk(desk, "/i", OffsetPaginator(limit=2)) == [[0, 1], [2, 3]]
    assert desk.requests_made == 2  # no third request for an empty page


@responses.activate
def test_without_total_a_short_page_is_the_last(desk):
    serve("/i", {"offset": "0", "limit": "2"}, {"items": [0, 1]})
    serve("/i", {"offset": "2", "limit": "2"}, {"items": [2]})
    assert walk(desk, "/i", OffsetPaginator(limit=2, total_key=None)) == [[0, 1], [2]]


@responses.activate
def test_a_nested_total_given_as_text_is_read(desk):
    for page, items in ((1, [1, 2]), (2, [3])):
        serve("/p", {"page": str(page), "size": "5"}, {"data": {"items": items}, "meta": {"total": "3"}})
    paginator = PageNumberPaginator(per_page=5, size_param="size", total_key="meta.total")
    assert walk(desk, "/p", paginator, lambda b: b["data"]["items"]) == [[1, 2], [3]]
    assert paginator.total == 3


@responses.activate
def test_an_empty_page_before_total_ends_the_walk(desk):
    serve("/i", {"offset": "0", "limit": "2"}, {"items": [0, 1], "total_count": 10})
    serve("/i", {"offset": "2", "limit": "2"}, {"items": [], "total_count": 10})
    assert walk(desk, "/i", OffsetPaginator(limit=2)) == [[0, 1], []]
    assert desk.requests_made == 2


@responses.activate
def test_page_numbers_with_a_total_go_on_after_a_short_page(desk):
    serve("/p", {"page": "1", "per_page": "10"}, {"items": [1, 2, 3], "total": 5})
    serve("/p", {"page": "2", "per_page": "10"}, {"items": [4, 5], "total": 5})
    assert walk(desk, "/p", PageNumberPaginator(per_page=10, total_key="total")) == [[1, 2, 3], [4, 5]]


@responses.activate
def test_page_numbers_without_a_total_stop_on_a_short_page(desk):
    serve("/p", {"page": "1", "per_page": "2"}, {"items": [1, 2]})
    serve("/p", {"page": "2", "per_page": "2"}, {"items": [3]})
    assert walk(desk, "/p", PageNumberPaginator(per_page=2)) == [[1, 2], [3]]


# ---------------------------------------------------------------- a repeated page

@responses.activate
def test_an_endpoint_that_ignores_the_offset_is_stopped_on_the_second_page(desk):
    """Jira's trap: ``startAt`` ignored, the first page again and again, a total never reached."""
    responses.get(f"{URL}/search", json={"issues": [{"key": "A-1"}, {"key": "A-2"}], "total": 1000})
    paginator = OffsetPaginator(limit=2, offset_param="startAt", limit_param="maxResults", total_key="total")
    with pytest.raises(PaginationLoop, match=r"/search answered page 2 with the same 2 records as page 1: "
                                             r"it ignores the paging parameters"):
        walk(desk, "/search", paginator, "issues")
    assert desk.requests_made == 2


@responses.activate
def test_an_endpoint_that_ignores_the_page_number_is_stopped(desk):
    responses.get(f"{URL}/p", json={"items": [1, 2]})
    with pytest.raises(PaginationLoop, match="same 2 records"):
        walk(desk, "/p", PageNumberPaginator(per_page=2))
    assert desk.requests_made == 2


@responses.activate
def test_the_same_cursor_as_the_previous_page_is_stopped(desk):
    responses.get(f"{URL}/c", json={"items": [1], "next": "A"})
    responses.get(f"{URL}/c", json={"items": [2], "next": "A"})
    with pytest.raises(PaginationLoop, match="/c sent the page token 'A' twice"):
        walk(desk, "/c", CursorTokenPaginator(lambda b: b["next"]))
    assert desk.requests_made == 2


@responses.activate
def test_the_same_next_link_is_stopped(desk):
    responses.get(f"{URL}/l", json={"items": [1]}, headers={"Link": f'<{URL}/l?page=2>; rel="next"'})
    with pytest.raises(PaginationLoop, match="twice"):
        walk(desk, "/l", LinkHeaderPaginator())
    assert desk.requests_made == 2


@responses.activate
def test_distinct_pages_of_equal_size_are_not_a_repeat(desk):
    for offset in (0, 2, 4):
        serve("/i", {"offset": str(offset), "limit": "2"}, {"items": [{"id": offset}, {"id": offset + 1}],
                                                             "total_count": 6})
    assert len(walk(desk, "/i", OffsetPaginator(limit=2))) == 3


# ---------------------------------------------------------------- the cap

@responses.activate
def test_the_cap_stops_an_endless_walk_with_a_clear_error(desk):
    for offset in range(0, 10):
        serve("/i", {"offset": str(offset), "limit": "1"}, {"items": [offset], "total_count": 10 ** 9})
    with pytest.raises(PaginationLoop, match=r"/i: more than 3 pages \(the cap\); stopping"):
        walk(desk, "/i", OffsetPaginator(limit=1, max_pages=3))
    assert desk.requests_made == 3


@responses.activate
def test_a_walk_that_ends_on_the_cap_page_is_complete(desk):
    for offset in range(3):
        serve("/i", {"offset": str(offset), "limit": "1"}, {"items": [offset], "total_count": 3})
    assert walk(desk, "/i", OffsetPaginator(limit=1, max_pages=3)) == [[0], [1], [2]]


@responses.activate
def test_total_repeat_or_cap_whichever_comes_first(desk):
    """A total of 6 and a cap of 10; the endpoint repeats its second page: the repeat comes first."""
    serve("/i", {"offset": "0", "limit": "2"}, {"items": [0, 1], "total_count": 6})
    serve("/i", {"offset": "2", "limit": "2"}, {"items": [2, 3], "total_count": 6})
    serve("/i", {"offset": "4", "limit": "2"}, {"items": [2, 3], "total_count": 6})
    with pytest.raises(PaginationLoop, match="page 3 with the same 2 records as page 2"):
        walk(desk, "/i", OffsetPaginator(limit=2, max_pages=10))


def test_body_value_reads_dotted_paths():
    assert body_value({"a": {"b": 3}}, "a.b") == 3
    assert body_value({"a": [1]}, "a.b") is None and body_value({}, None) is None
