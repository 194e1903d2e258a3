"""Faults on the wire: every kind, per endpoint and per ticket, and seeded random mixes.

Each scenario runs ``govhall run`` (in process with fast retries, or the real CLI)
against the fake Freshdesk until a run reports nothing unwritten (at most 10 runs)
and asserts that

- after every run, each ticket whose state differs from the fault-free run's is
  named in the summary (``failed`` or ``errors``): nothing is lost silently;
- the final state equals the fault-free run's, and one more run writes nothing;
- no note or escalation marker appears twice on a ticket.
"""
import json

import pytest

from .fake_helpdesk import AFTER_KINDS, KINDS, WRITES, Fault, RandomFaults
from .harness import check_final, config_for, lost, new_fake, record, run_cli, run_in_process, write_config

MAX_RUNS = 10


def converge(fake, config, reference, max_runs=MAX_RUNS, hasty=False):
    """Run until a run reports nothing unwritten; check after each run that nothing is lost unnamed."""
    snapshot, _ = reference
    summaries = []
    for _ in range(max_runs):
        summary = run_in_process(config, hasty=hasty)
        summaries.append(summary)
        unwritten = set(lost(snapshot, fake.snapshot()))
        named = set(summary.failed) | set(summary.errors)
        assert unwritten <= named, (f"run {len(summaries)}: {sorted(unwritten - named)} not written and not named; "
                                    f"summary {summary.as_dict()}")
        if summary.ok:
            return summaries
    pytest.fail(f"still failing after {max_runs} runs: {summaries[-1].as_dict()}")


def settle(fake, config, reference, summaries, row):
    """The final checks of a scenario (same state, no duplicate, a rerun writes nothing) and its ledger line."""
    snapshot, _ = reference
    figures = check_final(fake, snapshot)
    fake.faults.clear()
    fake.random = None
    again = run_in_process(config)
    assert again.ok and again.written == 0 and again.notes == 0, again.as_dict()
    record(row, faults=len(fake.injected), runs=len(summaries) + 1, **figures)


def kind_faults(kind):
    """Two strikes on each endpoint the kind fits (retried, or the ticket fails), and one after a write landed."""
    faults = [Fault(kind, endpoint=e, skip=1, times=2) for e in sorted(KINDS[kind])]
    if kind in AFTER_KINDS:
        faults += [Fault(kind, endpoint=e, skip=4, times=1, after=True) for e in sorted(KINDS[kind] & WRITES)]
    return faults


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "truncated"])
def test_each_fault_kind_loses_nothing_and_writes_nothing_twice(kind, reference, tmp_path):
    fake = new_fake()
    try:
        fake.faults.extend(kind_faults(kind))
        config = config_for(tmp_path, fake.url)
        summaries = converge(fake, config, reference, hasty=kind == "timeout")
        assert fake.injected, "the scenario injected nothing"
        settle(fake, config, reference, summaries, f"{kind} on every endpoint" if kind != "409" else "409 conflict on PUT")
    finally:
        fake.stop()


def test_a_body_cut_short_on_a_write_loses_nothing_and_writes_nothing_twice(reference, tmp_path):
    fake = new_fake()
    try:
        fake.faults.extend([Fault("truncated", endpoint="note", skip=1, times=2),
                            Fault("truncated", endpoint="update", skip=4, times=2)])
        config = config_for(tmp_path, fake.url)
        summaries = converge(fake, config, reference)
        settle(fake, config, reference, summaries, "truncated body on writes")
    finally:
        fake.stop()


@pytest.mark.parametrize("endpoint", ["list", "conversations", "update"])
def test_a_body_cut_short_is_retried_like_a_network_error(endpoint, tmp_path):
    fake = new_fake()
    try:
        fake.faults.append(Fault("truncated", endpoint=endpoint, skip=1, times=2))
        summary = run_in_process(config_for(tmp_path, fake.url))
        assert summary.ok and summary.written == 16, summary.as_dict()
    finally:
        fake.stop()


def test_one_unreadable_ticket_in_a_page_is_named_and_the_others_are_written(reference, tmp_path):
    snapshot, _ = reference
    fake = new_fake()
    try:
        fake.faults.append(Fault("500", endpoint="conversations", ticket="102", times=10**6))  # for good
        config = config_for(tmp_path, fake.url)
        for _ in range(2):
            summary = run_in_process(config)
            assert list(summary.errors) == ["102"] and not summary.failed, summary.as_dict()
            assert lost(snapshot, fake.snapshot()) == ["102"]
    finally:
        fake.stop()


def test_a_list_endpoint_down_for_good_is_reported_and_the_next_run_catches_up(reference, tmp_path):
    snapshot, _ = reference
    fake = new_fake()
    try:
        fake.faults.append(Fault("503", endpoint="list", skip=1, times=6))  # page 2 never comes this run
        config = config_for(tmp_path, fake.url)
        summary = run_in_process(config)
        assert list(summary.errors) == ["(pull)"] and "HTTP 503" in summary.errors["(pull)"]
        assert summary.written == 4 and not summary.failed  # page 1 was written
        assert len(lost(snapshot, fake.snapshot())) == 12
        fake.faults.append(Fault("503", endpoint="list", times=6))
        done = run_cli(write_config(tmp_path, fake.url))
        assert done.returncode == 1 and "Traceback" not in done.stderr
        assert list(json.loads(done.stdout)["errors"]) == ["(pull)"]
        assert run_in_process(config).ok
        record("list endpoint down for good (reported, then caught up)", faults=len(fake.injected), runs=3,
               **check_final(fake, snapshot))
    finally:
        fake.stop()


def test_per_ticket_failures_within_a_page_fail_only_those_tickets(reference, tmp_path):
    """Freshdesk has no bulk job: a page is written ticket by ticket, and one ticket's failure stays its own."""
    snapshot, _ = reference
    fake = new_fake()
    try:
        fake.faults.extend([
            Fault("409", endpoint="update", ticket="103"),                 # a conflict is not retried
            Fault("500", endpoint="update", ticket="107", times=6),        # retried until the attempts run out
            Fault("503", endpoint="note", ticket="111"),                   # a note POST is never retried blindly
            Fault("reset", endpoint="note", ticket="114"),
        ])
        config = config_for(tmp_path, fake.url)
        summaries = converge(fake, config, reference)
        first = summaries[0]
        assert sorted(first.failed) == ["103", "107", "111", "114"], first.as_dict()
        assert "HTTP 409" in first.failed["103"] and "HTTP 500" in first.failed["107"]
        assert "ConnectionError" in first.failed["114"]
        assert first.written == 12
        assert len(summaries) == 2 and summaries[1].written == 4 and summaries[1].due == 4
        settle(fake, config, reference, summaries, "per-ticket failures within a page")
    finally:
        fake.stop()


def test_a_ticket_written_on_its_second_pass_is_not_reported_failed(reference, tmp_path):
    snapshot, _ = reference
    fake = new_fake()
    try:
        fake.faults.append(Fault("409", endpoint="update", ticket="101"))  # its two notes landed first
        summary = run_in_process(config_for(tmp_path, fake.url))
        assert lost(snapshot, fake.snapshot()) == []
        assert summary.ok, summary.failed
    finally:
        fake.stop()


def test_an_escalation_replayed_after_its_write_landed_keeps_the_level_2_target(reference, tmp_path):
    snapshot, _ = reference
    fake = new_fake()
    try:
        # ticket 105 (page 2) reaches level 2; its PUT lands six times but every answer is lost, and the
        # walk ends after page 2: the ticket is named, its escalations are not recorded as sent
        fake.faults += [Fault("reset", endpoint="update", ticket="105", times=6, after=True),
                        Fault("503", endpoint="list", skip=2, times=6)]
        config = config_for(tmp_path, fake.url)
        first = run_in_process(config)
        assert "105" in first.failed and "(pull)" in first.errors
        assert fake.snapshot()["105"]["fields"]["cf_govhall_escalated_to"] == "政务服务中心督查科"
        second = run_in_process(config)  # replays levels 1 and 2 on 105
        assert second.ok
        assert fake.snapshot()["105"]["fields"]["cf_govhall_escalated_to"] == "政务服务中心督查科"
        assert fake.snapshot() == snapshot
    finally:
        fake.stop()


#: Every kind on every endpoint it fits.
MIX = KINDS


@pytest.mark.parametrize("seed", range(1, 9))
def test_a_seeded_random_mix_of_faults_loses_nothing(seed, reference, tmp_path):
    fake = new_fake()
    try:
        fake.random = RandomFaults(seed, rate=0.2, kinds=MIX)
        config = config_for(tmp_path, fake.url)
        summaries = converge(fake, config, reference, hasty=True)
        settle(fake, config, reference, summaries, "seeded random mix, 20 % of requests (in process)")
    finally:
        fake.stop()


# ------------------------------------------------------------------------ the real CLI

def test_the_cli_names_every_unwritten_ticket_and_exits_1(reference, tmp_path):
    snapshot, _ = reference
    fake = new_fake()
    try:
        fake.faults.extend([
            Fault("429", endpoint="list", times=2),
            Fault("503", endpoint="conversations", skip=3),
            Fault("malformed", endpoint="conversations", skip=6),
            Fault("409", endpoint="update", ticket="103"),
            Fault("502", endpoint="note", ticket="105"),
            Fault("malformed", endpoint="update", ticket="111"),
            Fault("reset", endpoint="note", ticket="112"),
        ])
        config = write_config(tmp_path, fake.url)
        first = run_cli(config)
        assert first.returncode == 1, first.stderr
        summary = json.loads(first.stdout)
        assert sorted(summary["failed"]) == ["103", "105", "112"] and not summary["errors"]
        assert lost(snapshot, fake.snapshot()) == ["103", "105", "112"]
        second = run_cli(config)
        assert second.returncode == 0, second.stdout + second.stderr
        assert json.loads(second.stdout)["written"] == 3
        third = run_cli(config)  # nothing left to do
        assert third.returncode == 0 and json.loads(third.stdout)["written"] == 0
        record("named faults through the CLI (exit 1, then 0)", faults=len(fake.injected), runs=3,
               **check_final(fake, snapshot))
    finally:
        fake.stop()


def test_the_cli_prints_not_written_for_people(tmp_path):
    import subprocess

    from .harness import GOVHALL, NOW, cli_env

    fake = new_fake()
    try:
        fake.faults.append(Fault("409", endpoint="update", ticket="103"))
        config = write_config(tmp_path, fake.url)
        done = subprocess.run([GOVHALL, "run", "--config", str(config), "--now", NOW.isoformat()],
                              capture_output=True, text=True, env=cli_env(), timeout=60)
        assert done.returncode == 1
        (line,) = [l for l in done.stdout.splitlines() if "NOT WRITTEN" in l]
        assert line.startswith("  NOT WRITTEN 103: ") and "HTTP 409" in line
    finally:
        fake.stop()


#: The real CLI waits its real timeout (30 s) and backoff (0.25 s doubling) on timeouts and resets; 429 and
#: 5xx come with Retry-After: 0.
CLI_MIX = {k: w for k, w in MIX.items() if k not in ("timeout", "reset")}


@pytest.mark.parametrize("seed", [11, 12])
def test_a_seeded_random_mix_through_the_cli(seed, reference, tmp_path):
    snapshot, _ = reference
    fake = new_fake()
    try:
        fake.random = RandomFaults(seed, rate=0.2, kinds=CLI_MIX)
        config = write_config(tmp_path, fake.url)
        for runs in range(1, MAX_RUNS + 1):
            done = run_cli(config)
            summary = json.loads(done.stdout)
            named = set(summary["failed"]) | set(summary["errors"])
            assert done.returncode == (1 if named else 0), done.stderr
            assert set(lost(snapshot, fake.snapshot())) <= named
            if not named:
                break
        else:
            pytest.fail("the CLI runs did not converge")
        record("seeded random mix, 20 % of requests (CLI)", faults=len(fake.injected), runs=runs,
               **check_final(fake, snapshot))
    finally:
        fake.stop()
