"""An event in the common shape is built by its type's compiled converter: the same event and the same
problems as the fully checked path, whatever the values of its typed fields."""
import itertools

import pytest

from govhall_sdk import parse
from govhall_sdk.model import EMPTY
from govhall_sdk.parse import _EVENT_FIELDS, _Problems, ticket_from_dict

AT = "2025-03-03T09:30:00+08:00"
ACTOR = {"id": "s1", "name": "王", "rank": 2, "department": "窗口", "role": "staff"}
VALUES = [None, "x", "", True, False, 0, 3, -1, 1.5, [], ["a", "依据"], ["basis", 1], {}, {"id": "a"}, "oral",
          "help", ACTOR]


def _both(raw, i=2):
    """(the common-shape converter's event, problems, warnings) and the same by the checked path."""
    fast, checked = _Problems(None), _Problems(None)
    convert = parse._COMMON_SHAPE[raw["type"]]
    built = convert(fast, raw, i)
    return (built, fast.items, fast.warnings), (parse._checked_event(checked, raw, i), checked.items, checked.warnings)


@pytest.mark.parametrize("etype", sorted(_EVENT_FIELDS))
def test_every_value_of_every_typed_field_gives_what_the_checked_path_gives(etype):
    _both({"type": etype, "at": AT, "actor": dict(ACTOR)})  # the actor read once, as the cache needs
    for name in _EVENT_FIELDS[etype]:
        for value in VALUES:
            raw = {"type": etype, "at": AT, "actor": dict(ACTOR), name: value}
            fast, checked = _both(raw)
            assert fast[0] is not None, (name, value)  # the common shape: built by the converter
            assert fast == checked, (name, value)


@pytest.mark.parametrize("etype", sorted(_EVENT_FIELDS))
def test_whatever_else_is_left_to_the_checked_path(etype):
    others = [{"at": "2025-03-03T09:30:00"}, {"at": "soon"}, {"at": 5}, {"at": None},
              {"actor": {"id": f"never-seen-{etype}"}}, {"actor": ["s1"]}, {"actor": {**ACTOR, "rank": 2.0}},
              {"actor": {**ACTOR, "email": "x"}}, {"colour": "red"}]
    for change in others:
        raw = {"type": etype, "at": AT, "actor": dict(ACTOR), **change}
        fast, checked = _both(raw)
        assert fast == (None, [], []), change


def test_tickets_read_the_same_in_any_order_of_fast_and_checked_events():
    events = [{"type": t, "at": f"2025-03-03T09:{m:02d}:00+08:00", "actor": a}
              for m, (t, a) in enumerate(itertools.product(("reply", "notice", "suspention_start"),
                                                           (ACTOR, {"id": "a", "role": "applicant"}, None)))]
    raw = {"id": "T", "kind": "consultation", "created_at": AT, "events": events}
    warnings = []
    ticket = ticket_from_dict(raw, warnings=warnings)
    assert [e.type for e in ticket.events] == [e["type"] for e in events]
    assert all(e.extra is EMPTY for e in ticket.events if e.type != "suspention_start")
    assert warnings == [f"events[{i}].type: unknown event type 'suspention_start' (did you mean 'suspension_start'?), "
                        "ignored by the built-in rules" for i in range(6, 9)]
