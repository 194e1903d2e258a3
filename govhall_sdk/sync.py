"""``govhall run``: pull, evaluate and write back only what changed, resumably.

One run:

1. pulls the pages of tickets changed since the stored cursor; before a page is
   written its tickets are scheduled ASAP, and once every write of the page is
   done their next instants and the cursor are stored in one transaction — so a
   run killed anywhere re-evaluates the page next time, and because patches are
   differences and notes carry markers, nothing is written twice;
2. fetches the tickets whose scheduled instant has come (a clock turning yellow
   or red by time alone, a failed write to retry, a page cut short by a crash);
3. escalates through the ``govhall_escalate`` hook when a ticket's level rises.

What it never does:

- write a ticket whose evaluation had a plugin error (the result would lack that
  plugin's part and remove its tags): the ticket is reported, rescheduled at
  once and written only once it evaluates clean;
- process a ticket twice in one run, however often the helpdesk's pages repeat it
  (a repeat is read again only when the earlier write failed, on its newer version);
- trust its own echo-skipping when the rules changed: the state keeps a
  fingerprint of everything that decides results (:meth:`Engine.fingerprint`);
  when it differs, when there is no state yet, with ``--since`` or ``--full``,
  the run reads every ticket from the beginning, govhall's own last writes
  included, and says why in its summary.
"""
from __future__ import annotations

import json
import time
from collections import Counter
from datetime import datetime
from typing import Any, Callable, Iterable, Sequence

import attrs

from .adapter import Adapter, AdapterError, TicketGone, WriteOutcome
from .config import Config, ConfigError
from .engine import Context, Engine, Result
from .host import GovhallPluginManager
from .model import Patch, Ticket
from .parse import Parsed
from .redaction import scrub
from .report import patch_dict
from .results import contact_of, record_of
from .state import ASAP, StateStore


@attrs.define
class Summary:
    """What a run did, for people (``govhall run``) and machines (``--json``)."""

    adapter: str
    now: datetime
    dry_run: bool = False
    pulled: int = 0
    skipped: int = 0
    due: int = 0
    evaluated: int = 0
    written: int = 0
    notes: int = 0
    escalations: int = 0
    provisional: int = 0
    full_reason: str | None = None
    findings: Counter = attrs.Factory(Counter)
    lights: Counter = attrs.Factory(Counter)
    failed: dict[str, str] = attrs.Factory(dict)
    gone: list[str] = attrs.Factory(list)
    not_taken: dict[str, str] = attrs.Factory(dict)
    errors: dict[str, str] = attrs.Factory(dict)
    patches: list[tuple[str, Patch]] = attrs.Factory(list)
    seconds: float = 0.0
    on_record: int = 0
    lights_on_record: Counter = attrs.Factory(Counter)
    findings_on_record: Counter = attrs.Factory(Counter)

    @property
    def ok(self) -> bool:
        """True when every ticket was read and every write landed."""
        return not self.failed and not self.errors

    def as_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready data."""
        out = {
            "adapter": self.adapter, "now": self.now.isoformat(), "dry_run": self.dry_run,
            "pulled": self.pulled, "skipped_own_writes": self.skipped, "due": self.due,
            "evaluated": self.evaluated, "written": self.written, "notes": self.notes,
            "escalations": self.escalations, "provisional_clocks": self.provisional,
            "full_reason": self.full_reason,
            "findings": dict(sorted(self.findings.items())),
            "lights": dict(sorted(self.lights.items())), "failed": dict(sorted(self.failed.items())),
            "errors": dict(sorted(self.errors.items())), "gone": sorted(self.gone),
            "not_taken": dict(sorted(self.not_taken.items())),
            "seconds": round(self.seconds, 3),
            "on_record": {"tickets": self.on_record, "lights": dict(sorted(self.lights_on_record.items())),
                          "findings": dict(sorted(self.findings_on_record.items()))},
        }
        if self.dry_run:
            out["patches"] = {tid: patch_dict(p) for tid, p in self.patches}
        return out


def _last_of_each(items: Sequence[Parsed]) -> list[Parsed]:
    """The items of a page with each ticket once, its last occurrence (the newest) in its place."""
    ids = [item.id for item in items]
    if len(set(ids)) == len(ids):
        return list(items)
    last = {tid: i for i, tid in enumerate(ids) if tid is not None}
    return [item for i, item in enumerate(items) if item.id is None or last[item.id] == i]


def make_adapter(config: Config, pm: GovhallPluginManager) -> Adapter:
    """The adapter ``[adapter] type`` names, with its settings validated."""
    kind = config.adapter.get("type", "local")
    adapters = pm.adapters
    if kind not in adapters:
        raise ConfigError(f"adapter.type: unknown adapter {kind!r} (installed: {', '.join(sorted(adapters)) or 'none'})")
    return adapters[kind][1](dict(config.adapter), config)


class Sync:
    """One adapter, one engine, one state store: runs ``govhall run``.

    :param fail_after_page: testing aid, raises after that many pages were written
        (simulates a crash between pages).
    """

    def __init__(self, engine: Engine, adapter: Adapter, state: StateStore, *, page_size: int | None = None):
        self.engine = engine
        self.adapter = adapter
        self.state = state
        self.page_size = page_size or adapter.page_size()

    def run(self, now: datetime, *, dry_run: bool = False, limit: int | None = None, since: str | None = None,
            progress: Callable[[int], None] | None = None, full: bool = False,
            stage: Callable[[str, int | None], None] | None = None) -> Summary:
        """Pull changed tickets, then due ones; evaluate; write; return the summary.

        ``full`` reads every ticket from the beginning (as when the rules changed).
        ``progress(n)`` is called after each page with its number of tickets;
        ``stage(what, total)`` before the changed tickets (``"changed"``, the total
        when the adapter's ``pending(cursor)`` tells it, else None) and before the
        tickets due by time (``"due"``).
        """
        started = time.perf_counter()
        name = self.adapter.name
        summary = Summary(name, now, dry_run)
        ctx = self.engine.context(now)
        self.adapter.now = now
        self.adapter.memory = self.state.memory(name)
        seen: set[str] = set()
        fingerprint = self.engine.fingerprint()
        cursor = self._start(summary, fingerprint, since, full, dry_run)
        budget = limit
        if stage:
            pending = getattr(self.adapter, "pending", None)
            total = pending(cursor) if pending else None
            stage("changed", total if total is None or limit is None else min(total, limit))
        for page in self._guarded(self.adapter.pull(cursor, self.page_size), summary, "pull"):
            items = page.items if budget is None else page.items[:budget]
            summary.pulled += len(items)
            summary.skipped += page.skipped
            complete = len(items) == len(page.items)
            self._process(items, ctx, summary, seen, page.cursor if complete else None, dry_run)
            if progress:
                progress(len(items))
            if budget is not None:
                budget -= len(items)
                if budget <= 0:
                    break
        due_ids = [t for t in self.state.due(name, now) if t not in seen]
        if budget is not None:
            due_ids = due_ids[:max(budget, 0)]
        summary.due = len(due_ids)
        if stage:
            stage("due", len(due_ids))
        for start in range(0, len(due_ids), self.page_size):
            chunk = due_ids[start:start + self.page_size]
            fetched = list(self._guarded(self.adapter.fetch(chunk), summary, "fetch"))
            if "(fetch)" in summary.errors:
                break  # the schedule is kept: these tickets are asked for again next run
            self._process(fetched, ctx, summary, seen, None, dry_run, asked=chunk)
            if progress:
                progress(len(chunk))
        pulled_all = "(pull)" not in summary.errors and (budget is None or budget > 0)
        if pulled_all and not dry_run and self.state.meta(f"full_pass:{name}") is not None:
            self.state.finish_full_pass(name, fingerprint)
        summary.on_record, summary.lights_on_record, summary.findings_on_record = self.state.on_record(name)
        summary.seconds = time.perf_counter() - started
        return summary

    def _start(self, summary: Summary, fingerprint: str, since: str | None, full: bool, dry_run: bool) -> str | None:
        """The cursor to pull from, and whether this run reads every ticket (``summary.full_reason``).

        A pass over every ticket is remembered in the state with the adapter's
        echo horizon (its own writes up to then are read, later ones are this
        pass's echo), so a pass cut short by a crash or ``--limit`` continues
        from its cursor instead of starting over.
        """
        name, adapter, state = self.adapter.name, self.adapter, self.state
        adapter.skip_echoes = since is None
        if since is not None:
            return since
        cursor = state.cursor(name)
        pass_raw = state.meta(f"full_pass:{name}")
        in_pass = json.loads(pass_raw) if pass_raw else None
        if full:
            summary.full_reason = "--full"
        elif in_pass and in_pass["fingerprint"] == fingerprint and cursor is not None:
            summary.full_reason = "continuing the pass over every ticket that an earlier run began"
            adapter.skip_echoes, adapter.echo_horizon = False, in_pass["horizon"]
            return cursor
        elif cursor is None:
            summary.full_reason = "no state yet for this adapter"
        elif state.fingerprint(name) != fingerprint:
            summary.full_reason = "the rules, the config, the plugins or the calendar changed since the last complete run"
        else:
            return cursor
        adapter.skip_echoes, adapter.echo_horizon = False, adapter.current_echo_horizon()
        if not dry_run:
            state.begin_full_pass(name, fingerprint, adapter.echo_horizon)
        return None

    @staticmethod
    def _guarded(items: Iterable[Any], summary: Summary, what: str) -> Iterable[Any]:
        """Items of a pull or fetch; a helpdesk failure ends them and is reported as ``(pull)``/``(fetch)``.

        Nothing is lost: the cursor and the schedule only move for pages fully written.
        """
        try:
            yield from items
        except (AdapterError, ValueError) as exc:
            summary.errors[f"({what})"] = scrub(f"{type(exc).__name__}: {exc}")

    def _process(self, items: Sequence[Parsed], ctx: Context, summary: Summary, seen: set[str],
                 cursor: str | None, dry_run: bool, asked: Iterable[str] = (), reread: bool = True) -> None:
        """Evaluate and write one page; then store schedules and the cursor together.

        A write refused for a conflict (the ticket changed since it was read) reads the ticket again and
        evaluates it again, once (``reread``).
        """
        name = self.adapter.name
        schedule: dict[str, datetime | str | None] = {t: None for t in asked}
        writes: list[tuple[Ticket, Patch, Result, list[tuple[int, str | None]]]] = []
        records: list[tuple[dict[str, Any], str | None]] = []
        gone: list[str] = []
        for item in _last_of_each(items):
            if isinstance(item.error, TicketGone):  # deleted or merged: dropped from the schedule, said once
                gone.append(item.id)
                schedule[item.id] = None
                continue
            if item.ticket is None:
                key = item.id or item.where
                summary.errors[key] = scrub(str(item.error))
                if item.id:  # asked again every run until someone fixes it
                    schedule[item.id] = ASAP
                continue
            ticket = item.ticket
            if ticket.id in seen and ticket.id not in summary.failed:
                # a later page repeats it: evaluated once per run (only a failed write is tried again
                # on the newer version); the next run reads it again
                schedule[ticket.id] = ASAP
                continue
            seen.add(ticket.id)
            result = self.engine.evaluate(ticket, ctx)
            summary.evaluated += 1
            summary.findings.update(f.code for f in result.findings)
            summary.lights[result.light or "none"] += 1
            summary.provisional += sum(c.provisional for c in result.clocks)
            warnings = getattr(item, "warnings", ())  # values the adapter dropped: asked again until fixed
            if warnings or result.errors:
                summary.errors[ticket.id] = scrub("; ".join([*warnings, *result.errors]))
            if result.errors:  # nothing partial: a result without a plugin's part is not written
                schedule[ticket.id] = ASAP
                continue
            records.append((record_of(ticket, result, ctx.now), contact_of(ticket)))
            patch = result.patch
            raised = self._escalate(ticket, result, patch, ctx)
            schedule[ticket.id] = ASAP if warnings else result.next_change
            if not patch.empty:
                writes.append((ticket, patch, result, raised))
        summary.gone.extend(gone)
        if dry_run:
            summary.patches.extend((t.id, p) for t, p, _, _ in writes)
            return
        self.state.store_results(name, ctx.now, records)
        self.state.forget_results(name, gone, ctx.now)
        conflicts = self._write(writes, ctx, summary, schedule) if writes else []
        self.state.finish_page(name, list(schedule.items()), cursor, ctx.now)
        if conflicts and reread:
            fetched = list(self._guarded(self.adapter.fetch(conflicts), summary, "fetch"))
            self._process(fetched, ctx, summary, seen, None, dry_run, asked=conflicts, reread=False)

    def _write(self, writes: Sequence[tuple[Ticket, Patch, Result, list[tuple[int, str | None]]]], ctx: Context,
               summary: Summary, schedule: dict[str, datetime | str | None]) -> list[str]:
        """Write a page's patches, count and audit what landed, reschedule what did not; the ids of the writes
        refused for a conflict."""
        name = self.adapter.name
        self.state.mark_in_flight(name, [t.id for t, *_ in writes])
        outcomes = {o.ticket_id: o for o in self.adapter.apply([(t, p) for t, p, _, _ in writes])}
        audit, escalated, conflicts = [], [], []
        for ticket, patch, result, raised in writes:
            outcome = outcomes.get(ticket.id) or WriteOutcome(ticket.id, False, "the adapter reported nothing")
            codes = [f.code for f in result.findings]
            not_taken = None if outcome.skipped is None else \
                f"not taken by the helpdesk: {outcome.skipped or 'as before'}"
            audit.append((ticket.id, patch_dict(patch), codes, outcome.ok, outcome.error or not_taken))
            if outcome.ok:
                summary.written += 1
                summary.failed.pop(ticket.id, None)  # an earlier pass of this run failed, this one landed
                if outcome.skipped:
                    summary.not_taken[ticket.id] = scrub(outcome.skipped)
                if outcome.skipped is None:  # a note the helpdesk never took is not counted as written
                    summary.notes += len(patch.notes)
                    summary.escalations += len(raised)
                escalated.extend((ticket.id, level, target) for level, target in raised)
            else:
                summary.failed[ticket.id] = scrub(outcome.error or "write failed")
                schedule[ticket.id] = ASAP
                if outcome.conflict:
                    conflicts.append(ticket.id)
        self.state.audit(name, ctx.now, audit)
        self.state.record_escalations(name, ctx.now, escalated)
        return conflicts

    def _escalate(self, ticket: Ticket, result: Result, patch: Patch, ctx: Context) -> list[tuple[int, str | None]]:
        """Call the escalate hook for each level reached and not yet sent; merge its changes."""
        if result.escalation_level < 1:
            return []
        sent = self.state.escalated_levels(self.adapter.name, ticket.id)
        raised = []
        for level in range(1, result.escalation_level + 1):
            if level in sent:
                continue
            target = self.engine.config.escalation_target(ticket.lead_department or ticket.department, level)
            extra = self.engine.pm.escalate(ticket, result, level, target, ctx)
            if extra is not None:
                patch.merge(extra)
            raised.append((level, target))
        return raised
