"""Property-based bad input: random and malformed tickets and configs never crash a run;
every error names the ticket and the field; valid tickets beside them are still evaluated."""
import json
import re
from datetime import datetime

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from govhall_sdk.config import ConfigError, build_config
from govhall_sdk.engine import Engine
from govhall_sdk.host import get_plugin_manager
from govhall_sdk.parse import iter_tickets
from govhall_sdk.cli.check_stream import run_check

KEY = r'([A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*")'
KEY_PATH = re.compile(rf"^{KEY}(\.{KEY}|\[\d+\])*: ")
NOW = datetime.fromisoformat("2025-03-14T16:00:00+08:00")
PM = get_plugin_manager()
DEFAULTS = {s: d for s, (_, d) in PM.policies.items()}
ENGINE = Engine(build_config({}, DEFAULTS), PM)

VALID = {"id": "OK-1", "kind": "complaint", "channel": "web", "created_at": "2025-03-03T09:00:00+08:00",
         "department": "综合窗口",
         "events": [{"type": "reply", "at": "2025-03-03T10:00:00+08:00", "public": True, "body": "收到",
                     "actor": {"id": "s1", "rank": 1, "role": "staff"}}]}
EVENT_TYPES = ["submission", "reply", "notice", "deferral", "referral", "assignment", "acceptance", "rejection",
               "extension", "suspension_start", "suspension_end", "urge", "result_report", "proxy_request",
               "proxy_offer", "handover", "fee", "evaluation", "return_visit", "completion", "mystery"]
FIELD_NAMES = ["items", "public", "body", "form", "missing", "elements", "contact", "to_department", "to_staff",
               "location", "phone", "from_department", "notice_issued", "stage", "reason", "legal_basis",
               "working_days", "approved_by", "mode", "agent", "amount", "legally_required", "rating", "result"]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**12), st.floats(allow_nan=True),
                    st.text(max_size=12), st.sampled_from(["2025-03-03T09:00:00+08:00", "2025-03-03T09:00:00",
                                                           "2025-02-30", "yesterday", "13912345678"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=5), inner, max_size=3)),
                      max_leaves=6)
instants = st.one_of(st.sampled_from(["2025-03-03T09:00:00+08:00", "2025-03-10T18:30:00+08:00",
                                      "2025-01-28T10:00:00Z", "2025-03-03T09:00:00", "not a time", ""]), values)
actors = st.one_of(st.none(), values, st.fixed_dictionaries(
    {"id": st.one_of(st.text(min_size=1, max_size=4), values)},
    optional={"rank": st.one_of(st.integers(-3, 9), values), "role": st.sampled_from(["staff", "applicant", "system", "boss"]),
              "department": values}))
events = st.fixed_dictionaries(
    {"type": st.one_of(st.sampled_from(EVENT_TYPES), values), "at": instants},
    optional={"actor": actors, **{name: values for name in FIELD_NAMES}})
tickets = st.fixed_dictionaries(
    {"id": st.one_of(st.text(min_size=1, max_size=6).map(lambda s: "R-" + s), values)},
    optional={
        "kind": st.one_of(st.sampled_from(["consultation", "application", "complaint", "supervision", "assignment"]), values),
        "created_at": instants, "accepted_at": instants, "resolved_at": instants, "due_at": instants,
        "channel": values, "status": values, "promised_working_days": st.one_of(st.integers(-5, 400), values),
        "department": values, "co_departments": values, "lead_department": values,
        "applicant": st.one_of(values, st.fixed_dictionaries({}, optional={
            "birth_date": st.sampled_from(["1950-01-01", "1990-13-01", ""]), "groups": values, "phone": values})),
        "materials": values, "tags": values, "fields": values,
        "events": st.one_of(values, st.lists(events, max_size=6)),
    })


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(tickets, min_size=1, max_size=5))
def test_random_tickets_never_crash_check_and_valid_ones_are_evaluated(batch):
    import io

    doc = {"tickets": [VALID, *batch, {**VALID, "id": "OK-2"}]}
    out = io.StringIO()
    fatal = run_check(io.StringIO(json.dumps(doc, default=str)), "x.json", ENGINE, NOW, "json", out)
    assert fatal is None
    result = json.loads(out.getvalue())
    ids = [t["id"] for t in result["tickets"]]
    assert ids[0] == "OK-1" and ids[-1] == "OK-2"
    assert len(result["tickets"]) + len({e["id"] for e in result["errors"] if "rule plugin" not in e["error"]}) >= 2
    for error in result["errors"]:
        assert "rule plugin" not in error["error"], error  # no plugin crashed on a ticket that passed validation
        # every problem names the field it is about: "path: reason"
        for problem in error["error"].split("; "):
            assert re.match(r"^[a-z_]+(\[\d+\])?(\.[a-z_]+(\[\d+\])?)*: ", problem) or problem.startswith("ticket:"), problem


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=30), st.builds(json.dumps, tickets)), min_size=1, max_size=6))
def test_random_json_lines_never_crash_the_reader(lines):
    import io

    text = "\n".join([json.dumps(VALID), *[l.replace("\n", " ") for l in lines], json.dumps({**VALID, "id": "OK-2"})])
    items = list(iter_tickets(io.StringIO(text), "x.jsonl"))
    assert items[0].id == "OK-1" and items[-1].id == "OK-2" and items[-1].ticket is not None
    for item in items:
        assert (item.ticket is None) != (item.error is None)
        if item.error is not None:
            assert item.where.startswith("line ") and str(item.error)


config_values = st.recursive(
    st.one_of(st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8)
config_docs = st.fixed_dictionaries({}, optional={
    "lang": config_values, "timezone": config_values,
    "calendar": st.one_of(config_values, st.fixed_dictionaries({}, optional={"holidays": config_values, "name": config_values})),
    "policy": st.one_of(config_values, st.fixed_dictionaries({}, optional={
        "warn_ratio": config_values,
        "time_limit": st.one_of(config_values, st.fixed_dictionaries({}, optional={"complaint_working_days": config_values})),
        "proxy_service": st.dictionaries(st.sampled_from(["special_age", "spot_check_ratio", "nope"]), config_values)})),
    "escalation": config_values, "adapter": config_values, "state": config_values, "extra": config_values,
})


@settings(max_examples=300, deadline=None)
@given(config_docs)
def test_random_configs_are_accepted_or_rejected_with_a_key_path(doc):
    try:
        config = build_config(doc, DEFAULTS)
    except ConfigError as exc:
        message = str(exc)
        assert KEY_PATH.match(message), message  # "key.path: reason"
        return
    Engine(config, PM).evaluate(iter_one(), NOW)  # an accepted config evaluates


def iter_one():
    import io

    return next(iter_tickets(io.StringIO(json.dumps({"tickets": [VALID]})), "x.json")).ticket


# ---------------------------------------------------------------- helpdesk payloads through an adapter's mapping

FD_VALID = {"id": 1, "type": "投诉", "source": 3, "status": 2, "group_id": 1, "subject": "投诉",
            "created_at": "2025-01-06T01:00:00Z"}
fd_values = st.one_of(scalars, st.lists(scalars, max_size=3), st.dictionaries(st.text(max_size=6), scalars, max_size=3))
fd_tickets = st.fixed_dictionaries({}, optional={
    "type": fd_values, "source": fd_values, "status": fd_values, "group_id": fd_values, "subject": fd_values,
    "created_at": st.one_of(st.sampled_from(["2025-03-03T01:00:00Z", "2025-03-03", "not a time"]), fd_values),
    "due_by": fd_values, "tags": fd_values, "requester": fd_values, "stats": fd_values, "requester_id": fd_values,
    "custom_fields": st.one_of(fd_values, st.fixed_dictionaries({}, optional={
        "cf_promised_days": fd_values, "cf_materials": fd_values, "cf_co_departments": fd_values,
        "cf_id_number": fd_values, "cf_govhall_light": fd_values})),
})
fd_conversations = st.lists(st.fixed_dictionaries({}, optional={
    "body": st.one_of(st.text(max_size=30).map(lambda s: f"<div>{s}</div>"), fd_values),
    "body_text": fd_values, "user_id": fd_values, "incoming": fd_values, "private": fd_values,
    "created_at": st.one_of(st.sampled_from(["2025-03-03T02:00:00Z", "2025-13-03T02:00:00Z"]), fd_values),
}), max_size=3)


@pytest.fixture(scope="module")
def freshdesk_fake():
    from .fake_helpdesk import FakeHelpdesk

    fake = FakeHelpdesk("bad-input-key").start()
    yield fake
    fake.stop()


@settings(max_examples=60, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(fd_tickets, fd_conversations), min_size=1, max_size=3))
def test_random_freshdesk_payloads_never_crash_the_run(freshdesk_fake, tmp_path_factory, batch):
    from .harness import config_for, run_in_process

    fake = freshdesk_fake
    with fake.lock:
        fake.tickets.clear()
        fake.conversations.clear()
        fake.faults.clear()
        fake.add_ticket(FD_VALID, [{"body": "<div>已登记</div>", "created_at": "2025-01-06T02:00:00Z"}])
        for n, (raw, convs) in enumerate(batch, start=2):
            fake.add_ticket({**raw, "id": n}, [dict(c) for c in convs])
    config = config_for(tmp_path_factory.mktemp("fd"), fake.url, api_key="bad-input-key")
    summary = run_in_process(config)  # must not raise
    assert "govhall_tl_overdue" in fake.tickets["1"]["tags"], "the valid ticket of the page was written"
    assert set(summary.errors) <= {str(n) for n in range(2, len(batch) + 2)} and not summary.failed
    for tid, message in summary.errors.items():
        for problem in message.split("; "):
            assert re.match(r"^[a-z_]+(\[\d+\])?(\.[a-z_]+(\[\d+\])?)*: ", problem) or problem.startswith("ticket:"), problem
