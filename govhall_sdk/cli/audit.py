"""``govhall audit``: what govhall wrote, where and when.

Every write ``govhall run`` attempted is in the state store's audit log: the
ticket, the fields set, the tags added and removed, the internal notes (their
finding code and idempotency marker), an assignment, the escalations sent with
it, the finding codes the ticket had, and whether the helpdesk took it. This
command shows that log filtered by ticket, finding code, adapter and time,
every instant with its UTC offset in the config's time zone, as a table or as
JSON. It reads the state store only; it never creates one.
"""
from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone, tzinfo
from typing import Any, Iterable

from ..terminal import shown, shown_json
from .errors import EXIT_OK, EXIT_USAGE
from .options import add_options, command_epilog, config_from_args, open_state
from .period import add_period_options, period_from_args

FORMATS = {"table": "one line per write, for people", "json": "a JSON list of writes, for programs"}


def _instant(key: str, tz: tzinfo) -> datetime:
    """A UTC key of the state store as an instant in ``tz`` (so it prints with its offset)."""
    return datetime.fromisoformat(key).replace(tzinfo=timezone.utc).astimezone(tz)


def _entry(row: dict[str, Any], escalations: dict[tuple[str, str, str], list[dict[str, Any]]],
           tz: tzinfo) -> dict[str, Any]:
    changes = json.loads(row["changes"])
    return {
        "at": _instant(row["at"], tz).isoformat(), "adapter": row["adapter"], "ticket": row["ticket_id"],
        "ok": bool(row["ok"]), "error": row["error"],
        "fields": changes.get("fields", {}), "add_tags": changes.get("add_tags", []),
        "remove_tags": changes.get("remove_tags", []),
        "notes": [{"code": n.get("code"), "marker": n.get("marker"), "body": n.get("body")}
                  for n in changes.get("notes", [])],
        "assign": changes.get("assign"),
        "escalations": [{"level": e["level"], "target": e["target"]}
                        for e in escalations.get((row["adapter"], row["ticket_id"], row["at"]), [])],
        "codes": [c for c in row["codes"].split(",") if c],
    }


def audit_entries(state: Any, tz: tzinfo, *, adapter: str | None = None) -> list[dict[str, Any]]:
    """Every write of the audit log, oldest first, with the escalations recorded with it (same ticket and
    instant; an escalation is recorded only once its write landed)."""
    escalations: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for e in state.escalation_rows(adapter):
        escalations.setdefault((e["adapter"], e["ticket_id"], e["at"]), []).append(e)
    return [_entry(row, escalations, tz) for row in state.audit_rows(adapter)]


def _wanted(entry: dict[str, Any], args: argparse.Namespace, period: Any) -> bool:
    if args.ticket and entry["ticket"] not in args.ticket:
        return False
    if args.code and not set(args.code) & ({*entry["codes"]} | {n["code"] for n in entry["notes"]}):
        return False
    if args.failed and entry["ok"]:
        return False
    return period.holds(datetime.fromisoformat(entry["at"]))


def _what(entry: dict[str, Any]) -> str:
    parts = [f"+{t}" for t in entry["add_tags"]] + [f"-{t}" for t in entry["remove_tags"]]
    parts += [f"{k}={v}" for k, v in sorted(entry["fields"].items())]
    parts += [f"note {n['code']} [{n['marker']}]" for n in entry["notes"]]
    parts += [f"assign {entry['assign']}"] if entry["assign"] else []
    parts += [f"escalation {e['level']} -> {e['target'] or '(no target)'}" for e in entry["escalations"]]
    return "; ".join(parts) or "(nothing)"


def print_table(entries: Iterable[dict[str, Any]]) -> None:
    """One line per write: when, adapter, ticket, whether it landed, what it wrote."""
    for e in entries:
        status = "written" if e["ok"] else f"NOT WRITTEN ({e['error']})"
        print(shown(f"{e['at']}  {e['adapter']}  {e['ticket']}  {status}  {_what(e)}"))


def cmd_audit(args: argparse.Namespace) -> int:
    """Show the audit log of the config's state store, filtered."""
    config = config_from_args(args)
    period = period_from_args(args, config.timezone)
    state = open_state(config)
    try:
        entries = [e for e in audit_entries(state, config.timezone, adapter=args.adapter) if _wanted(e, args, period)]
    finally:
        state.close()
    if args.format == "json":
        print(shown_json(json.dumps(entries, ensure_ascii=False, indent=2)))
    else:
        print_table(entries)
    return EXIT_OK


def add_audit_command(sub: Any) -> None:
    """Register ``govhall audit``."""
    audit = sub.add_parser(
        "audit", help="what govhall wrote, where and when",
        description="Show every write govhall run attempted, from the state store's audit log: when (with its "
                    "UTC offset), the adapter, the ticket, whether the helpdesk took it, the fields, the tags "
                    "added and removed, the internal notes (finding code and marker), an assignment and the "
                    "escalations sent. Reads the state store; creates nothing.",
        epilog=command_epilog(
            {"govhall audit --config govhall.toml --ticket ZX-2025-0031": "every write to one ticket",
             "govhall audit --code tl.overdue --from 2025-03-01 --format json":
                 "the writes since March 1 for tickets with tl.overdue, as JSON",
             "govhall audit --failed": "the writes the helpdesk refused"},
            {EXIT_OK: "the log was shown (also when nothing matched)",
             EXIT_USAGE: "bad usage or config, or no state store yet"}))
    add_options(audit, "config", "format", formats=FORMATS, default_format="table")
    audit.add_argument("--ticket", action="append", metavar="ID", help="only this ticket (repeatable)")
    audit.add_argument("--code", action="append", metavar="CODE",
                       help="only writes for tickets with this finding code, or writing its note (repeatable)")
    audit.add_argument("--adapter", metavar="NAME", help="only writes through this adapter (its type, e.g. local)")
    audit.add_argument("--failed", action="store_true", help="only the writes the helpdesk did not take")
    add_period_options(audit)
    audit.set_defaults(func=cmd_audit)
