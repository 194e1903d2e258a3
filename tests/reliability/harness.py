"""What the reliability tests share: the ticket corpus, the config, in-process and CLI runs, the ledger."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from govhall_adapters.freshdesk import FreshdeskAdapter
from govhall_sdk.config import build_config
from govhall_sdk.engine import Engine
from govhall_sdk.host import new_plugin_manager
from govhall_sdk.http import RetryPolicy
from govhall_sdk.state import StateStore
from govhall_sdk.sync import Summary, Sync

from .fake_helpdesk import FakeHelpdesk

NOW = datetime.fromisoformat("2025-03-14T16:00:00+08:00")
API_KEY = "fd-reliability-key-1"
GOVHALL = str(Path(sys.executable).with_name("govhall"))
PM = new_plugin_manager()
DEFAULTS = {section: d for section, (_, d) in PM.policies.items()}

PHONE = "13912345678"
RESIDENT_ID = "61020219800101123X"


def adapter_settings(url: str, api_key: str = API_KEY, **extra: Any) -> dict[str, Any]:
    """The ``[adapter]`` section for the fake (``fields`` in ``extra`` are added to the mapped ones)."""
    fields = {"applicant_id": "cf_id_number", "co_departments": "cf_co_departments",
              "lead_department": "cf_lead_department", "promised_working_days": "cf_promised_days",
              "materials": "cf_materials", **extra.pop("fields", {})}
    return {
        "type": "freshdesk", "url": url, "api_key": api_key, "per_page": 4, "start": "2025-01-01T00:00:00Z",
        "departments": {"1": "综合受理窗口", "2": "不动产登记窗口", "3": "市场监管窗口"},
        "agents": {"1001": {"name": "王芳", "rank": 1, "department": "综合受理窗口"},
                   "1002": {"name": "李强", "rank": 2, "department": "不动产登记窗口"}},
        "fields": fields,
        **extra,
    }


def raw_config(state: Path, settings: dict[str, Any]) -> dict[str, Any]:
    return {
        "lang": "zh", "timezone": "Asia/Shanghai",
        "escalation": {"level1": "值班主任", "level2": "政务服务中心督查科",
                       "departments": {"不动产登记窗口": {"level1": "不动产登记窗口首席代表"}},
                       "write": {"field": "govhall_escalated_to", "note": True, "assign": False}},
        "state": {"path": str(state)},
        "adapter": settings,
    }


def toml(doc: dict[str, Any]) -> str:
    """A TOML rendering of a config mapping (strings, numbers, booleans, lists, nested tables)."""
    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, str):
            return json.dumps(v, ensure_ascii=False)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{json.dumps(str(k), ensure_ascii=False)} = {value(x)}" for k, x in v.items()) + "}"
        raise TypeError(v)

    lines: list[str] = []

    def table(prefix: str, d: dict[str, Any]) -> None:
        scalars = {k: v for k, v in d.items() if not isinstance(v, dict) or prefix.count(".") >= 1 and _inline(v)}
        nested = {k: v for k, v in d.items() if k not in scalars}
        if prefix:
            lines.append(f"[{prefix}]")
        for k, v in scalars.items():
            lines.append(f"{json.dumps(str(k), ensure_ascii=False)} = {value(v)}")
        for k, v in nested.items():
            table(f"{prefix}.{json.dumps(str(k), ensure_ascii=False)}" if prefix else k, v)

    table("", doc)
    return "\n".join(lines) + "\n"


def _inline(v: dict[str, Any]) -> bool:
    return all(not isinstance(x, dict) for x in v.values())


# ---------------------------------------------------------------------------- corpus

def _conv(body: str, at: str, *, user: int = 1001, public: bool = True, incoming: bool = False) -> dict[str, Any]:
    return {"body": f"<div>{body}</div>", "created_at": at, "user_id": user, "private": not public,
            "incoming": incoming}


def seed_corpus(fake: FakeHelpdesk, copies: int = 2) -> list[str]:
    """Sixteen tickets (``copies`` of eight shapes) that make every kind of write: tags, fields,
    violation notes, level-1 and level-2 escalations, and tickets with nothing to note.
    Some share an ``updated_at`` (ties across page boundaries)."""
    ids = []
    for c in range(copies):
        base = 101 + 10 * c
        shapes = [
            # an overdue complaint: tl.overdue, escalation level 1
            ({"type": "投诉", "source": 3, "group_id": 1, "subject": f"投诉{c}", "created_at": "2025-01-06T01:00:00Z"},
             [_conv("已登记，正在处理。", "2025-01-06T02:00:00Z")], True),
            # a forbidden phrase in a public staff reply
            ({"type": "投诉", "source": 3, "group_id": 2, "subject": f"态度{c}", "created_at": "2025-03-12T01:00:00Z"},
             [_conv("这个我不知道，你去问别人去。", "2025-03-12T02:00:00Z", user=1002)], False),
            # a fresh web consultation: a running first-reply clock, tags and fields only
            ({"type": "咨询", "source": 2, "group_id": 1, "subject": f"咨询{c}", "created_at": "2025-03-14T06:00:00Z"},
             [], True),
            # a web consultation never answered: first reply overdue
            ({"type": "咨询", "source": 2, "group_id": 3, "subject": f"留言{c}", "created_at": "2025-03-03T01:00:00Z"},
             [], False),
            # a supervision past its due_by
            ({"type": "督办", "source": 1, "group_id": 2, "subject": f"督办{c}", "created_at": "2025-02-20T01:00:00Z",
              "due_by": "2025-03-07T09:00:00Z"}, [_conv("已收到督办件。", "2025-02-20T02:00:00Z")], True),
            # a joint application with no lead department (escalation level 2)
            ({"type": "申请", "source": 2, "group_id": 1, "subject": f"联办{c}", "created_at": "2025-03-10T01:00:00Z",
              "custom_fields": {"cf_co_departments": "税务窗口,市场监管窗口"}},
             [_conv("[受理] 通知书: 是", "2025-03-10T02:00:00Z", public=False)], True),
            # a complaint resolved in time: no note
            ({"type": "投诉", "source": 3, "group_id": 1, "subject": f"已办{c}", "created_at": "2025-03-03T01:00:00Z",
              "status": 4, "stats": {"resolved_at": "2025-03-05T01:00:00Z"}},
             [_conv("已办结，感谢。", "2025-03-05T01:00:00Z")], False),
            # an oral supplement notice on an application
            ({"type": "申请", "source": 3, "group_id": 3, "subject": f"补正{c}", "created_at": "2025-03-04T01:00:00Z",
              "custom_fields": {"cf_materials": "身份证,营业执照"}},
             [_conv("[补正告知] 缺件: 营业执照; 方式: 口头", "2025-03-04T02:00:00Z", public=False)], True),
        ]
        for i, (ticket, convs, tick) in enumerate(shapes):
            ids.append(fake.add_ticket({"id": base + i, **ticket}, convs, tick=tick))
    return ids


def new_fake(api_key: str = API_KEY, copies: int = 2, tls: tuple[str, str] | None = None, **kw: Any) -> FakeHelpdesk:
    """A started fake Freshdesk holding the corpus."""
    fake = FakeHelpdesk(api_key, **kw)
    seed_corpus(fake, copies)
    return fake.start(tls)


# ---------------------------------------------------------------------------- runs

class FastFreshdesk(FreshdeskAdapter):
    """The Freshdesk adapter with a short timeout (the fake's slow answers exceed it quickly)."""

    timeout = 5.0


class HastyFreshdesk(FastFreshdesk):
    """For scenarios that inject timeouts: a slow answer costs a quarter of a second."""

    timeout = 0.25


def config_for(tmp: Path, url: str, api_key: str = API_KEY, **extra: Any):
    return build_config(raw_config(tmp / "state.sqlite", adapter_settings(url, api_key, **extra)), DEFAULTS, tmp)


def run_in_process(config, *, engine: Engine | None = None, hasty: bool = False) -> Summary:
    """One ``govhall run`` in this process: a fresh adapter (retries without sleeping) and state store."""
    cls = HastyFreshdesk if hasty else FastFreshdesk
    adapter = cls(dict(config.adapter), config, retry=RetryPolicy(attempts=6, base=0.0, max_wait=0.0),
                  sleep=lambda s: None)
    state = StateStore(config.state_path)
    try:
        return Sync(engine or Engine(config, PM), adapter, state).run(NOW)
    finally:
        adapter.close()
        state.close()


def write_config(tmp: Path, url: str, api_key: str = API_KEY, **extra: Any) -> Path:
    path = tmp / "govhall.toml"
    path.write_text(toml(raw_config(tmp / "state.sqlite", adapter_settings(url, api_key, **extra))), encoding="utf-8")
    return path


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("GOVHALL_STRICT_PLUGINS", None)
    env["PYTHONWARNINGS"] = "ignore"
    return env


def run_cli(config: Path, *args: str, fake: FakeHelpdesk | None = None, kill_after: float | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess:
    """``govhall run --config F --now NOW --json``; the fake's kill switch (if any) is pointed at it."""
    cmd = [GOVHALL, "run", "--config", str(config), "--now", NOW.isoformat(), "--json", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env())
    if fake is not None and fake.kill is not None:
        fake.kill.pid = lambda: proc.pid
    timer = None
    if kill_after is not None:
        timer = threading.Timer(kill_after, lambda: _kill(proc))
        timer.start()
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        if timer:
            timer.cancel()
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _kill(proc: subprocess.Popen) -> None:
    try:
        proc.send_signal(signal.SIGKILL)
    except ProcessLookupError:
        pass


# ---------------------------------------------------------------------------- the ledger (README figures)

LEDGER: dict[str, dict[str, int]] = {}


def record(row: str, *, faults: int = 0, runs: int = 0, kills: int = 0, lost: int = 0, duplicates: int = 0,
           tickets: int = 0) -> None:
    """Add one scenario's figures to its family's line of the README table."""
    entry = LEDGER.setdefault(row, {"scenarios": 0, "faults": 0, "kills": 0, "runs": 0, "tickets": 0,
                                    "lost": 0, "duplicates": 0})
    entry["scenarios"] += 1
    for key, n in (("faults", faults), ("kills", kills), ("runs", runs), ("tickets", tickets), ("lost", lost),
                   ("duplicates", duplicates)):
        entry[key] += n


def check_final(fake: FakeHelpdesk, reference: dict[str, Any]) -> dict[str, int]:
    """Assert the final state equals the fault-free run's with no duplicate marker; the figures for the ledger."""
    final = fake.snapshot()
    assert fake.duplicates() == {}, f"duplicate markers: {fake.duplicates()}"
    missing = lost(reference, final)
    assert missing == [], {t: (reference[t], final.get(t)) for t in missing}
    return {"tickets": len(final), "lost": len(missing), "duplicates": sum(map(len, fake.duplicates().values()))}


def lost(reference: dict[str, Any], final: dict[str, Any]) -> list[str]:
    """Tickets whose final state differs from the fault-free run's."""
    return sorted(tid for tid, want in reference.items() if final.get(tid) != want)
