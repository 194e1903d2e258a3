"""Crashes: ``govhall run`` SIGKILLed at seeded points, then run again to completion.

The fake helpdesk itself kills the CLI process when the k-th request of a kind
arrives, which makes every crash point reproducible from its seed:

- before or after the k-th write (a note POST or a ticket PUT): in the middle of
  a page's batch of writes, the write lost or landed;
- on the k-th list request (k >= 2): between pages, after page k-1 was written
  and its cursor stored;
- on the k-th conversations request: while a page is being read.

A few seeds kill after a random delay instead (not reproducible to the request,
but a different kind of moment). Each seed kills one to three times, then runs
until a run exits 0; the helpdesk must then equal the fault-free run's, with no
note or escalation marker twice, and one more run must write nothing.
"""
import json
import random
import signal

import pytest

from .fake_helpdesk import WRITES, KillSwitch
from .harness import check_final, config_for, new_fake, record, run_cli, run_in_process, write_config

KILL_POINTS = {
    "before a write": (WRITES, False),
    "after a write": (WRITES, True),
    "between pages": (frozenset({"list"}), False),
    "while reading a page": (frozenset({"conversations"}), False),
}


def finish(fake, config, tmp_path, reference, kills, runs, row):
    snapshot, _ = reference
    fake.kill = None
    for _ in range(5):
        done = run_cli(config)
        runs += 1
        if done.returncode == 0:
            break
        assert done.returncode == 1, done.stderr  # a ticket the killed run left behind is named, then written
    else:
        pytest.fail(f"no clean run after the crashes: {done.stdout} {done.stderr}")
    figures = check_final(fake, snapshot)
    again = run_in_process(config_for(tmp_path, fake.url))
    assert again.ok and again.written == 0 and again.notes == 0, again.as_dict()
    record(row, kills=kills, runs=runs + 1, **figures)


@pytest.mark.parametrize("seed", range(1, 13))
def test_sigkill_at_a_seeded_request_then_rerun(seed, reference, tmp_path):
    _, requests = reference
    rng = random.Random(seed)
    fake = new_fake()
    try:
        config = write_config(tmp_path, fake.url)
        kills = runs = 0
        for _ in range(rng.randint(1, 3)):
            point = rng.choice(sorted(KILL_POINTS))
            endpoints, after = KILL_POINTS[point]
            k = rng.randint(2 if point == "between pages" else 1, max(2, sum(requests[e] for e in endpoints)))
            fake.kill = KillSwitch(pid=lambda: None, k=k, endpoints=endpoints, after=after)
            done = run_cli(config, fake=fake)
            runs += 1
            if fake.kill.fired:
                assert done.returncode == -signal.SIGKILL, (point, k, done.returncode, done.stderr)
                kills += 1
            else:  # this run needed fewer such requests than k: it finished
                assert done.returncode in (0, 1), done.stderr
                json.loads(done.stdout)
        finish(fake, config, tmp_path, reference, kills, runs, "SIGKILL at a seeded request (CLI)")
    finally:
        fake.stop()


@pytest.mark.parametrize("seed", range(101, 104))
def test_sigkill_after_a_seeded_delay_then_rerun(seed, reference, tmp_path):
    rng = random.Random(seed)
    fake = new_fake()
    try:
        config = write_config(tmp_path, fake.url)
        kills = runs = 0
        for _ in range(2):
            done = run_cli(config, kill_after=rng.uniform(0.35, 0.7))
            runs += 1
            kills += done.returncode == -signal.SIGKILL
        finish(fake, config, tmp_path, reference, kills, runs, "SIGKILL after a seeded delay (CLI)")
    finally:
        fake.stop()
