"""A ticket of the common shape is decoded typed (``parse.typed_ticket``, by ``reader.parse_raw``): the same
ticket as the general way (``reader.decode``, then ``ticket_from_dict``) to the type of every value, and
anything else left whole to the general way, with the same errors and warnings."""
import json
import os
import sys
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govhall_sdk import reader
from govhall_sdk.model import CHANNELS, KINDS, STATUSES, Actor
from govhall_sdk.parse import (_ACTOR_KEYS, _APPLICANT_KEYS, _EVENT_FIELDS, _TICKET_KEYS, _Choice, _Problems, _body,
                               _elements, _opt_strings, _public, _rating, _req_strings, _working_days, ticket_from_dict,
                               typed_ticket)
from govhall_sdk.reader import RawTicket, parse_raw

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))
from corpus import corpus  # noqa: E402

AT = "2025-03-03T09:30:00+08:00"
SHANGHAI = ZoneInfo("Asia/Shanghai")
STAFF = {"id": "s1", "name": "王", "rank": 2, "department": "窗口", "role": "staff"}
BASE = {"id": "T-1", "kind": "complaint", "created_at": "2025-03-03T09:00:00+08:00"}
#: A valid value of each typed event field, by its converter's kind.
VALID = {"string": "窗口", "boolean": False, "public": False, "body": "您好", "strings": ["身份证", "申请表"],
         "elements": ["依据", " Time limit ", "materials"], "number": 12, "rating": 4, "working_days": 5,
         "actor": STAFF}


CONVERTERS = {_Problems.string: "string", _Problems.boolean: "boolean", _Problems.number: "number",
              _Problems.actor: "actor", _public: "public", _body: "body", _req_strings: "strings",
              _opt_strings: "strings", _elements: "elements", _rating: "rating", _working_days: "working_days"}


def _kind(convert):
    """The key of :data:`VALID` and :data:`POOLS` of a typed field read by ``convert``."""
    return "choice" if isinstance(convert, _Choice) else CONVERTERS[convert]


def _valid(etype, name):
    convert = _EVENT_FIELDS[etype][name]
    return convert.allowed[-1] if isinstance(convert, _Choice) else VALID[_kind(convert)]


def _shown(parsed):
    """What a :class:`Parsed` says, exactly: the ticket by its repr too (``1`` and ``1.0`` are equal)."""
    error = parsed.error and (parsed.error.ticket_id, parsed.error.problems)
    return parsed.ticket, repr(parsed.ticket), error, parsed.where, parsed.warnings


def _both(data, tz=None, strict=False, depth_checked=False):
    """``parse_raw`` of ``data`` as a JSON Lines ticket, trying the typed way, and the same the general way only."""
    raw = RawTicket("line 3", data, 3, None, depth_checked)
    with mock.patch.object(reader, "typed_ticket", lambda data, tz=None: None):
        general = parse_raw(raw, tz, strict=strict)
    with mock.patch.object(reader, "_misses", 0):
        return _shown(parse_raw(raw, tz, strict=strict)), _shown(general)


def _text(ticket):
    return json.dumps(ticket, ensure_ascii=False).encode()


def test_every_corpus_ticket_is_read_typed_and_is_the_general_way_s_ticket():
    for ticket in corpus(400):
        data = _text(ticket)
        typed = typed_ticket(data)
        assert typed is not None, ticket["id"]
        assert (typed, repr(typed)) == (ticket_from_dict(ticket), repr(ticket_from_dict(ticket)))
        typed_way, general = _both(data + b"\n")
        assert typed_way == general and general[2] is None


@pytest.mark.parametrize("etype", sorted(_EVENT_FIELDS))
def test_every_event_type_with_every_field_given_or_none_is_read_typed(etype):
    full = {name: _valid(etype, name) for name in _EVENT_FIELDS[etype]}
    bare = {"working_days": 5} if etype == "extension" else {}
    for fields in (full, bare):
        event = {"type": etype, "at": AT, "actor": STAFF, **fields}
        data = _text({**BASE, "events": [event, {"type": etype, "at": "2025-03-03T09:10:00+08:00", **fields}]})
        assert typed_ticket(data) is not None, fields
        typed_way, general = _both(data)
        assert typed_way == general and general[2] is None


@pytest.mark.parametrize("ticket", [
    {**BASE, "applicant": {"name": "张三", "phone": "13800000000", "birth_date": "1950-03-01",
                           "groups": ["elderly", "weak"], "id": "61010219500301123X"},
     "materials": {"required": ["身份证"]}, "assignee": STAFF, "co_departments": ["a", "b"], "tags": ["t"],
     "channel": "web", "status": "open", "subject": "事项", "department": "d", "lead_department": "l",
     "accepted_at": "2025-03-03T10:00:00Z", "resolved_at": "2025-03-04T10:00:00+08:00", "due_at": AT,
     "promised_working_days": 0, "fields": {"n": 10 ** 30, "f": 0.1, "deep": [[{"a": None}]], "s": "\u0000"}},
    {**BASE, "applicant": {}, "materials": {}, "fields": {}, "events": []},
    {**BASE, "created_at": "2025-03-03T09:00:00.123456+08:00",
     "events": [{"type": "notice", "at": AT, "elements": []}, {"type": "reply", "at": AT, "actor": None}]},
], ids=["every field", "empty objects", "fractions, empty elements, null actor"])
def test_every_ticket_field_of_the_common_shape_is_read_typed(ticket):
    data = _text(ticket)
    assert typed_ticket(data) is not None
    typed_way, general = _both(data)
    assert typed_way == general and general[2] is None


@pytest.mark.parametrize("change", [
    {"subject": 5}, {"channel": "fax"}, {"kind": None}, {"id": ""}, {"id": 7}, {"tags": None}, {"fields": None},
    {"applicant": []}, {"applicant": {"name": 3}}, {"applicant": {"birthdate": "1950-03-01"}},
    {"applicant": {"birth_date": ""}}, {"applicant": {"groups": ["old"]}}, {"materials": {"required": None}},
    {"promised_working_days": -1}, {"promised_working_days": 1.0}, {"promised_working_days": True},
    {"created_at": "2025-03-03T09:00:00"}, {"created_at": "soon"}, {"resolvedAt": AT}, {"x_vendor": 1},
    {"assignee": {**STAFF, "rank": 2.0}}, {"assignee": {**STAFF, "rank": True}}, {"assignee": {"id": 5}},
    {"assignee": {"id": "s", "email": "x"}}, {"assignee": {"id": "s", "role": None}},
    {"events": [{"type": "suspention_start", "at": AT}]}, {"events": [{"type": "reply", "at": AT, "public": None}]},
    {"events": [{"type": "reply", "at": AT, "body": 5}]}, {"events": [{"type": "reply", "at": AT, "colour": 1}]},
    {"events": [{"type": "notice", "at": AT, "elements": ["basis", "rules"]}]},
    {"events": [{"type": "extension", "at": AT}]}, {"events": [{"type": "evaluation", "at": AT, "rating": None}]},
    {"events": [{"type": "fee", "at": AT, "amount": True}]}, {"events": [{"type": "reply", "at": None}]},
    {"events": [{"type": "reply", "at": AT, "actor": {"id": "s1", "rank": "2"}}]}, {"events": [None]},
], ids=repr)
def test_what_the_general_way_converts_warns_about_or_refuses_is_left_whole_to_it(change):
    data = _text({**BASE, **change})
    assert typed_ticket(data) is None
    for strict in (False, True):
        typed_way, general = _both(data, strict=strict)
        assert typed_way == general


#: Values of any type, some of a field's common shape, some not.
VALUES = [None, True, False, 0, 1, 1.0, -1, 6, 0.5, 2 ** 70, "", "x", "nope", "oral", "help", "elderly", AT,
          "2025-03-03", [], ["a"], ["依据", "rules"], [1], {}, {"id": "s1"}, {"required": ["a"]}, STAFF]


@pytest.mark.parametrize("etype", sorted(_EVENT_FIELDS))
def test_any_value_of_any_typed_event_field_reads_the_same_typed_or_the_general_way(etype):
    for name in _EVENT_FIELDS[etype]:
        for value in VALUES:
            event = {"type": etype, "at": AT, "working_days": 5, name: value}
            if etype != "extension":
                del event["working_days"]
            typed_way, general = _both(_text({**BASE, "events": [event]}))
            assert typed_way == general, (name, value)


@pytest.mark.parametrize("name", sorted(_TICKET_KEYS | {f"applicant.{k}" for k in _APPLICANT_KEYS}
                                        | {f"assignee.{k}" for k in _ACTOR_KEYS} | {"materials.required"}))
def test_any_value_of_any_ticket_field_reads_the_same_typed_or_the_general_way(name):
    for value in VALUES:
        ticket = {**BASE, "applicant": {"name": "张三"}, "assignee": {"id": "s1"}, "materials": {}}
        parent, _, key = name.rpartition(".")
        (ticket[parent] if parent else ticket)[key] = value
        typed_way, general = _both(_text(ticket))
        assert typed_way == general, value


@pytest.mark.parametrize("text", [
    b'{"id": "T-1", "kind": "complaint", "created_at": "2025-03-03T09:00:00+08:00", "fields": {"x": NaN}}',
    b'{"id": "T-1", "kind": "complaint", "created_at": "2025-03-03T09:00:00+08:00", "subject": "\\ud800"}',
    b'{"id": "T-1", "kind": "complaint", "created_at": "2025-03-03T09:00:00+08:00", "subject": "\xff"}',
    b'{"id": "T-1", "kind": "complaint", "created_at": "2025-03-03T09:00:00+08:00"} trailing',
    b'{"id": "T-1", "kind": "complaint", "created_at": "2025-03-03T09:00:00+08:00", "events": '
    b'[{"type": "reply", "type": "notice", "at": "2025-03-03T09:30:00+08:00"}]}',
    b'["T-1"]', b'{"id": "T-1", "kind": "complaint", "created_at": "2025-03-03T09:00:00+08:00", "fields": '
    + b'[' * 5000 + b']' * 5000 + b'}',
    b'{"id": "T-1", "kind": "complaint", "created_at": "2025-03-03T09:00:00+08:00", "assignee": {"id": "\xff"}}',
    b'{"id": "T-1", "kind": "complaint", "created_at": "2025-03-03T09:00:00+08:00", "events": [{"type": "reply", '
    b'"at": "2025-03-03T09:30:00+08:00", "actor": {"id": "s1", "x": ' + b'[' * 5000 + b']' * 5000 + b'}}]}',
], ids=["NaN", "lone surrogate", "invalid UTF-8", "trailing data", "two types", "a list", "5000 deep",
        "an actor's invalid UTF-8", "an actor 5000 deep"])
def test_what_only_the_json_module_reads_or_nothing_reads_is_left_whole_to_the_general_way(text):
    assert typed_ticket(text) is None
    typed_way, general = _both(text)
    assert typed_way == general


def test_an_actor_is_the_same_however_its_text_is_spaced_and_its_first_reading_is_kept():
    spellings = [b'{"id": "s1", "rank": 2}', b'{ "id" : "s1" , "rank" : 2 }', b'{"rank":2,"id":"s1"}', b'null']
    for actor in spellings * 2:
        data = (b'{"id": "T-1", "kind": "complaint", "created_at": "2025-03-03T09:00:00+08:00", "assignee": '
                + actor + b', "events": [{"type": "reply", "at": "2025-03-03T09:30:00+08:00", "actor": ' + actor + b"}]}")
        ticket = typed_ticket(data)
        assert ticket.assignee == ticket.events[0].actor == (None if actor == b"null" else Actor("s1", rank=2))
        typed_way, general = _both(data)
        assert typed_way == general


def test_a_repeated_key_is_read_as_the_json_module_reads_it_the_last_one():
    data = b'{"id": "T-0", "kind": "complaint", "id": "T-1", "created_at": "2025-03-03T09:00:00+08:00"}'
    assert typed_ticket(data).id == "T-1"
    typed_way, general = _both(data)
    assert typed_way == general


def test_naive_instants_are_read_typed_in_the_helpdesk_zone_and_left_to_the_general_way_without_one():
    data = _text({**BASE, "created_at": "2025-03-03T09:00:00", "events": [{"type": "reply", "at": "2025-03-03 09:30"}]})
    assert typed_ticket(data) is None and typed_ticket(data, SHANGHAI) is not None
    for tz in (None, SHANGHAI):
        typed_way, general = _both(data, tz)
        assert typed_way == general


@pytest.mark.parametrize("depth_checked", [False, True])
def test_fields_nested_deeper_than_the_limit_are_still_an_error(depth_checked):
    deep = [[]]
    for _ in range(reader.MAX_DEPTH):
        deep = [deep]
    data = _text({**BASE, "fields": {"x": deep}})
    assert typed_ticket(data) is not None  # msgspec reads it: the reader's limit is checked after
    typed_way, general = _both(data)
    assert typed_way == general and general[2] == (None, [f"line 3: nested deeper than {reader.MAX_DEPTH}"])


def test_after_tickets_in_a_row_not_of_the_common_shape_the_typed_way_is_tried_now_and_then():
    plain, extended = _text(BASE), _text({**BASE, "x_vendor": 1})
    tried = []

    def typed(data, tz=None):
        tried.append(data)
        return typed_ticket(data, tz)

    with mock.patch.object(reader, "typed_ticket", typed), mock.patch.object(reader, "_misses", 0):
        items = [parse_raw(RawTicket(f"line {i}", extended, i)) for i in range(1, 1 + reader.TYPED_RETRY * 2)]
        assert len(tried) == reader.TYPED_MISSES + 1  # the first ones, then one in TYPED_RETRY
        assert all(item.ticket.extra == {"x_vendor": 1} for item in items)
        tried.clear()
        reader._misses = reader.TYPED_RETRY * 2 + 1  # not a retry: even a plain ticket is read the general way
        assert parse_raw(RawTicket("line 200", plain, 200)).ticket == ticket_from_dict(BASE) and tried == []
        reader._misses = reader.TYPED_RETRY * 3  # a retry: read the typed way, so tried on every ticket again
        for i in range(3):
            assert parse_raw(RawTicket("line 1", plain, 1)).ticket == ticket_from_dict(BASE)
        assert len(tried) == 3 and reader._misses == 0


# ---------------------------------------------------------------- any ticket, of the common shape or near it

ODD = [None, True, 0, 1, 1.0, -1, 2 ** 70, "", "x", "2025-03-03", [], ["a"], {}, {"id": "s1"}]
odd = st.sampled_from(ODD)


def _near(common):
    """Values of the common shape, or else any odd value (a quarter of the time)."""
    return st.one_of(common, common, common, odd)


def _pick(common, *values):
    """``values`` when ``common``, else the same or odd."""
    return st.sampled_from(values) if common else _near(st.sampled_from(values))


def _actors(common):
    return st.fixed_dictionaries({"id": _pick(common, "s1", "s2", "")}, optional={
        "name": _pick(common, "王", None), "rank": _pick(common, 0, 2, 10 ** 20, None),
        "department": _pick(common, "窗口"), "role": _pick(common, "staff", "applicant", "system"),
        **({} if common else {"email": st.just("x")})})


INSTANTS = [AT, "2025-03-03T01:30:00Z", "2025-03-03T09:30:00", "2025-03-03 09:30+08:00",
            "2025-03-03T09:30:00.1234567+08:00", "20250303T093000+0800"]
#: Per kind of typed field, values of the common shape (with a naive instant, an unknown element, a rating
#: of 6: left to the general way when typed_ticket checks them).
POOLS = {"string": st.sampled_from(["窗口", None]), "boolean": st.booleans(), "public": st.booleans(),
         "body": st.sampled_from(["", "您好"]), "strings": st.sampled_from([[], ["身份证"], ["a", "b"]]),
         "number": st.sampled_from([0, 12, 1.5, 1e300]),
         "elements": st.lists(st.sampled_from(["basis", "依据", " Time limit ", "conditions", "rules"]), max_size=3),
         "rating": st.integers(1, 6), "working_days": st.integers(0, 6)}


def _events(common):
    def of_type(etype):
        fields = {}
        for name, convert in _EVENT_FIELDS.get(etype, {}).items():
            kind = _kind(convert)
            valid = (st.sampled_from(convert.allowed) if kind == "choice" else
                     st.one_of(st.none(), _actors(True)) if kind == "actor" else POOLS[kind])
            fields[name] = valid if common else _near(valid)
        optional = {"actor": st.one_of(st.none(), _actors(common)), **fields}
        if not common:
            optional.update(colour=st.just(1), resolvedAt=st.just(AT))
        return st.fixed_dictionaries({"type": st.just(etype), "at": _pick(common, *INSTANTS)}, optional=optional)

    return st.sampled_from([*sorted(_EVENT_FIELDS), *([] if common else ["suspention_start"])]).flatmap(of_type)


def _tickets(common):
    optional = {
        "channel": _pick(common, *CHANNELS), "status": _pick(common, *STATUSES),
        "subject": _pick(common, "事项", None), "accepted_at": _pick(common, *INSTANTS),
        "resolved_at": _pick(common, *INSTANTS, None), "promised_working_days": _pick(common, 0, 5, None),
        "assignee": st.one_of(st.none(), _actors(common)), "tags": _pick(common, [], ["t"]),
        "co_departments": _pick(common, ["a"]),
        "applicant": st.fixed_dictionaries({}, optional={
            "name": _pick(common, "张三"), "birth_date": _pick(common, "1950-03-01", "1950-13-01"),
            "groups": st.lists(st.sampled_from(["elderly", "weak"] if common else ["elderly", "old"]), max_size=2)}),
        "materials": st.fixed_dictionaries({}, optional={"required": _pick(common, ["身份证"])}),
        "fields": st.dictionaries(st.sampled_from(["a", "b"]), odd, max_size=2),
        "events": st.lists(st.one_of(_events(True), _events(common)), max_size=5)}
    if not common:
        optional.update(x_vendor=odd, resolvedAt=st.just(AT))
    return st.fixed_dictionaries({"id": _pick(common, "T-1"), "kind": _pick(common, *KINDS),
                                  "created_at": _pick(common, *INSTANTS)}, optional=optional)


#: A key written before the ticket's own (a repeated key: the last one counts).
leads = st.sampled_from([b"", b"", b'"id": "T-0", ', b'"kind": "nope", ', b'"events": [], ', b'"x": NaN, '])


@settings(max_examples=400)
@given(st.one_of(_tickets(True), _tickets(False)), leads, st.sampled_from([None, SHANGHAI]), st.booleans(),
       st.booleans())
def test_any_ticket_reads_the_same_typed_or_the_general_way(ticket, lead, tz, strict, ascii_only):
    data = b"{" + lead + json.dumps(ticket, ensure_ascii=ascii_only).encode()[1:]
    typed_way, general = _both(data, tz, strict)
    assert typed_way == general
