"""The interchange parser: paths in errors, streaming of both formats, isolation of bad tickets."""
import io
import json
from zoneinfo import ZoneInfo

import pytest

from govhall_sdk.model import Notice, Reply
from govhall_sdk.parse import TicketError, iter_tickets, ticket_from_dict

GOOD = {
    "id": "T-1",
    "kind": "application",
    "channel": "counter",
    "created_at": "2025-01-24T10:00:00+08:00",
    "applicant": {"name": "张三", "phone": "13800000000", "birth_date": "1950-03-01", "groups": ["elderly"]},
    "materials": {"required": ["身份证", "申请表"]},
    "events": [
        {"type": "notice", "at": "2025-01-24T11:00:00+08:00", "form": "written", "missing": ["申请表"],
         "actor": {"id": "s1", "rank": 2}},
        {"type": "reply", "at": "2025-01-24T10:30:00+08:00", "body": "您好", "actor": {"id": "s1"}},
        {"type": "custom_thing", "at": "2025-01-24T12:00:00+08:00", "payload": 1},
    ],
    "x_vendor": "kept",
}


def test_valid_ticket_is_converted_with_events_in_time_order():
    ticket = ticket_from_dict(GOOD)
    assert [e.type for e in ticket.events] == ["reply", "notice", "custom_thing"]
    assert isinstance(ticket.events[0], Reply) and ticket.events[0].public is True
    assert isinstance(ticket.events[1], Notice) and ticket.events[1].missing == ("申请表",)
    assert ticket.events[2].extra == {"payload": 1}
    assert ticket.extra == {"x_vendor": "kept"}
    assert ticket.applicant.groups == ("elderly",)
    assert ticket.required_materials == ("身份证", "申请表")


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"created_at": "2025-01-24T10:00:00"}, "created_at: naive timestamp"),
        ({"kind": "question"}, "kind: 'question' is not one of"),
        ({"id": None}, "id: required"),
        ({"promised_working_days": "5"}, "promised_working_days: expected an integer"),
        ({"applicant": {"groups": ["old"]}}, "applicant.groups[0]: 'old' is not one of"),
        ({"events": [{"type": "reply", "at": "2025-01-24T10:00:00"}]}, "events[0].at: naive timestamp"),
        ({"events": [{"type": "evaluation", "at": "2025-01-24T10:00:00+08:00", "rating": 9}]},
         "events[0].rating: expected an integer from 1 to 5"),
        ({"events": [{"type": "reply"}]}, "events[0].at: required"),
        ({"events": [{"at": "2025-01-24T10:00:00+08:00"}]}, "events[0].type: required"),
        ({"events": [{"type": "extension", "at": "2025-01-24T10:00:00+08:00", "approved_by": {"name": "x"}}]},
         "events[0].approved_by.id: required"),
    ],
)
def test_every_problem_is_reported_with_its_path(change, problem):
    with pytest.raises(TicketError) as info:
        ticket_from_dict({**GOOD, **change})
    assert any(p.startswith(problem) for p in info.value.problems), info.value.problems


def test_all_problems_of_a_ticket_are_listed_together():
    bad = {**GOOD, "created_at": "2025-01-24", "events": [{"type": "reply", "at": "nope"}, {"type": "fee", "at": "2025-01-24T10:00:00+08:00", "amount": "x"}]}
    with pytest.raises(TicketError) as info:
        ticket_from_dict(bad)
    paths = [p.split(":")[0] for p in info.value.problems]
    assert paths == ["created_at", "events[0].at", "events[1].amount"]
    assert info.value.ticket_id == "T-1"


def test_naive_timestamps_take_the_helpdesk_timezone_when_configured():
    ticket = ticket_from_dict({**GOOD, "created_at": "2025-01-24T10:00:00"}, default_tz=ZoneInfo("Asia/Shanghai"))
    assert ticket.created_at.utcoffset().total_seconds() == 8 * 3600


def _stream(text):
    return io.StringIO(text)


def test_wrapped_file_streams_and_isolates_a_bad_ticket():
    doc = {"source": "demo", "tickets": [GOOD, {**GOOD, "id": "T-9", "created_at": "x"}, {**GOOD, "id": "T-3"}]}
    items = list(iter_tickets(_stream(json.dumps(doc, indent=2)), "t.json"))
    assert [i.id for i in items] == ["T-1", "T-9", "T-3"]
    assert items[1].ticket is None and "created_at" in str(items[1].error)
    assert items[1].where == "tickets[1]"


def test_json_lines_with_a_broken_line():
    lines = [json.dumps(GOOD), "{not json", json.dumps({**GOOD, "id": "T-2"})]
    items = list(iter_tickets(_stream("\n".join(lines) + "\n"), "t.jsonl"))
    assert [i.id for i in items] == ["T-1", None, "T-2"]
    assert items[1].where == "line 2" and "malformed JSON" in str(items[1].error)


def test_json_lines_detected_without_extension():
    lines = [json.dumps(GOOD), json.dumps({**GOOD, "id": "T-2"})]
    assert [i.id for i in iter_tickets(_stream("\n".join(lines)), "")] == ["T-1", "T-2"]


def test_large_wrapped_file_is_read_in_chunks():
    doc = {"tickets": [{**GOOD, "id": f"T-{i}"} for i in range(300)]}  # larger than one 64 KiB chunk
    text = json.dumps(doc, ensure_ascii=False)
    assert len(text) > 1 << 17
    assert [i.id for i in iter_tickets(_stream(text), "big.json")][-1] == "T-299"


def test_broken_wrapper_raises_value_error_after_the_good_tickets():
    text = json.dumps({"tickets": [GOOD]})[:-2] + ", {broken"
    seen = []
    with pytest.raises(ValueError, match="malformed JSON"):
        for item in iter_tickets(_stream(text), "t.json"):
            seen.append(item.id)
    assert seen == ["T-1"]


def test_adapters_read_every_element_name_the_parser_reads():
    """A note's answer (``[答复] 依据、条件...``) and a ticket file know the same names."""
    from govhall_sdk.mapping import ELEMENT_WORDS
    from govhall_sdk.parse import ELEMENT_NAMES

    assert ELEMENT_NAMES.items() <= ELEMENT_WORDS.items()
    assert set(ELEMENT_NAMES.values()) == {"basis", "conditions", "materials", "procedure", "time_limit"}


def test_warnings_are_collected_only_when_asked_and_never_change_the_ticket():
    raw = {"id": "W-1", "kind": "consultation", "created_at": "2025-03-03T09:00:00+08:00",
           "events": [{"type": "replay", "at": "2025-03-03T10:00:00+08:00", "body": "x"}]}
    found: list[str] = []
    assert ticket_from_dict(raw, warnings=found) == ticket_from_dict(raw)
    assert found == ["events[0].type: unknown event type 'replay' (did you mean 'reply'?), ignored by the built-in rules"]
