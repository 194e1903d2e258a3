"""Fixtures of the reliability suite, and the figures of the README's "Reliability" table.

``GOVHALL_RELIABILITY_TABLE=1 python -m pytest tests/reliability`` prints, at the
end of the session, per scenario family: faults injected, kills, runs made,
tickets checked, tickets lost and duplicates (``GOVHALL_RELIABILITY_JSON=path``
also writes them as JSON).
"""
import json
import os
import tempfile
from collections import Counter
from pathlib import Path

import pytest

from .harness import LEDGER, config_for, new_fake, record, run_in_process


@pytest.fixture(scope="session")
def reference():
    """The helpdesk after one fault-free run: (snapshot, requests per endpoint)."""
    fake = new_fake()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            summary = run_in_process(config_for(Path(tmp), fake.url))
        assert summary.ok and summary.written == 16, summary.as_dict()
        record("no fault (reference)", runs=1, tickets=len(fake.tickets))
        return fake.snapshot(), Counter(endpoint for _, endpoint, _ in fake.log)
    finally:
        fake.stop()


def pytest_terminal_summary(terminalreporter):
    if not LEDGER or not (os.environ.get("GOVHALL_RELIABILITY_TABLE") or os.environ.get("GOVHALL_RELIABILITY_JSON")):
        return
    if os.environ.get("GOVHALL_RELIABILITY_JSON"):
        Path(os.environ["GOVHALL_RELIABILITY_JSON"]).write_text(json.dumps(LEDGER, indent=2, ensure_ascii=False))
    write = terminalreporter.write_line
    write("")
    write("| scenario | scenarios | faults injected | kills | runs made | tickets | tickets lost | duplicates |")
    write("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in LEDGER.items():
        write(f"| {name} | {r['scenarios']} | {r['faults']} | {r['kills']} | {r['runs']} | {r['tickets']} | "
              f"{r['lost']} | {r['duplicates']} |")
