"""The model classes the parser builds (events, tickets, actors, applicants) keep attrs' behaviour: constructors,
equality, repr, frozen-ness."""
import inspect
from datetime import datetime, timedelta, timezone

import attrs
import pytest

from govhall_sdk.model import (EMPTY, EVENT_CLASSES, Actor, Applicant, Clock, Completion, Event, Finding, Note, Reply,
                               ResultReport, RuleResult, Ticket)

AT = datetime(2025, 3, 3, 9, 0, tzinfo=timezone(timedelta(hours=8)))


@pytest.mark.parametrize("cls", [Event, *EVENT_CLASSES.values()], ids=lambda c: c.__name__)
def test_every_event_class_takes_its_fields_by_name_and_in_order(cls):
    fields = attrs.fields(cls)
    params = inspect.signature(cls).parameters
    assert list(params) == [a.name for a in fields]
    assert [p.default for p in params.values()][2:] == [a.default for a in fields][2:]
    by_name = cls(type="x", at=AT)
    assert by_name == cls("x", AT) and by_name.extra is EMPTY
    values = [getattr(by_name, a.name) for a in fields]
    assert cls(*values) == by_name and attrs.evolve(by_name) == by_name


def test_equality_is_per_class_and_over_every_field():
    staff = Actor("s1", department="窗口")
    reply = Reply("reply", AT, staff, EMPTY, False, "好")
    assert reply == Reply("reply", AT, Actor("s1", department="窗口"), public=False, body="好")
    assert reply != Reply("reply", AT, staff, EMPTY, False, "不好")
    assert reply != Reply("reply", AT, staff, EMPTY, True, "好")
    assert Completion("completion", AT) != ResultReport("completion", AT)  # the same fields, another class
    assert Completion("completion", AT) != Event("completion", AT)
    assert (Reply("reply", AT) == "reply") is False


def test_repr_and_frozen_as_attrs_makes_them():
    reply = Reply("reply", AT, body="x")
    assert repr(reply) == (f"Reply(type='reply', at={AT!r}, actor=None, extra=mappingproxy({{}}), public=True, "
                           "body='x')")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        reply.body = "y"
    with pytest.raises(TypeError, match="at"):
        Reply("reply")
    assert attrs.evolve(reply, body="y").body == "y" and reply.body == "x"


def test_hash_follows_equality():
    a = Completion("completion", AT, extra=None)
    assert hash(a) == hash(Completion("completion", AT, extra=None))
    later = Completion("completion", AT + timedelta(1), extra=None)
    assert len({a, Completion("completion", AT, extra=None), later}) == 2


def test_a_plugin_s_subclass_compares_as_its_base_does():
    class Note(Reply):
        pass

    @attrs.frozen
    class Rated(Reply):
        stars: int = 0

    assert Note("reply", AT, body="x") == Note("reply", AT, body="x") != Reply("reply", AT, body="x")
    assert Rated("reply", AT, stars=2) != Rated("reply", AT, stars=3)
    assert repr(Note("reply", AT)).startswith("Note(type='reply', ")


@pytest.mark.parametrize("cls", [Actor, Applicant, Ticket, Clock, Finding, RuleResult, Note], ids=lambda c: c.__name__)
def test_the_model_classes_with_compiled_inits_take_their_fields_as_attrs_defines_them(cls):
    fields = [a for a in attrs.fields(cls) if a.init]
    params = inspect.signature(cls).parameters
    assert list(params) == [a.name for a in fields]
    assert [p.default for p in params.values() if p.default is not inspect.Parameter.empty] == \
        [a.default for a in fields if a.default is not attrs.NOTHING]
    with pytest.raises(TypeError):
        cls(*(None for _ in range(len(fields) + 1)))


def test_a_ticket_s_event_types_follow_its_events_however_it_is_made():
    events = (Reply("reply", AT), Completion("completion", AT), Reply("reply", AT))
    ticket = Ticket("T-1", "complaint", AT, events=events)
    assert ticket.event_types == frozenset({"reply", "completion"})
    assert ticket == Ticket("T-1", "complaint", AT, None, None, None, None, None, None, None, None, None, (), None,
                            Applicant(), (), (), EMPTY, events, EMPTY)
    later = attrs.evolve(ticket, events=events[:1])
    assert later.event_types == frozenset({"reply"}) and later != ticket
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        ticket.events = ()
    assert repr(Actor("s1")) == "Actor(id='s1', name=None, rank=0, department=None, role='staff')"


def test_clocks_and_findings_made_by_position_or_by_name_are_equal_frozen_and_shown_as_attrs_shows_them():
    clock = Clock("completion", "time_limit", AT, 15, AT.date(), AT, "green")
    assert clock == Clock(name="completion", rule="time_limit", start=AT, working_days=15, due_date=AT.date(),
                          due_at=AT, status="green", stopped_at=None, next_change=None, provisional=False)
    assert clock.late_extensions == () and attrs.evolve(clock, status="red").late
    finding = Finding("tl.overdue", "time_limit", "violation", "限时办结制度 第一条", "m", staff="s1")
    assert finding.answered_by("s2", "窗口") == attrs.evolve(finding, staff="s2", department="窗口")
    assert repr(Note("c", "[govhall:c]", "b")) == "Note(code='c', marker='[govhall:c]', body='b')"
    for made in (clock, finding, RuleResult([clock], [finding]), Note("c", "m", "b")):
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            made.rule = "x"
    assert hash(clock) == hash(attrs.evolve(clock)) and hash(finding) == hash(attrs.evolve(finding))
