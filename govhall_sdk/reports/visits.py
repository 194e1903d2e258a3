"""The 抽查回访 list (帮办代办制度 四, 不定期抽查 and 随机回访): who is to be visited, by when, and whether they were.

:func:`build` returns one :class:`~govhall_sdk.reports.tables.Table` (key
``visits``) with a row for

- each **poor evaluation** of a proxy ticket: each ``return_visit`` clock of the
  record, which the rules start at a poor ``evaluation`` (rating <= the policy's
  ``poor_rating``, 2 by default) and stop at the first ``return_visit`` at or
  after it; the row is in the period when the evaluation is;
- each **spot-check draw** (``spot_check``: ``ps.spot_check``) that has no poor
  evaluation, in the period when its resolution is. The catalog gives a spot
  check no deadline, and the row says so (回访期限 reads 不设期限（目录未规定）;
  JSON: ``deadline`` null); a draw that also has a poor evaluation is on the
  evaluation's row, reason 抽查、差评, with that evaluation's deadline.

Columns (JSON key, zh header, en header):

- ``ticket_id`` 工单编号 Ticket; ``subject`` 事项名称 Item;
- ``agent`` 帮办代办员 Agent (``name (id)``);
- ``applicant`` 申请人 Applicant; ``applicant_phone`` 联系电话 Phone (masked unless ``--unmasked``);
- ``reason`` 回访原因 Reason: ``spot_check`` 抽查, ``poor_review`` 差评, ``spot_check+poor_review`` 抽查、差评;
- ``resolved_at`` 办结时间 Completed at;
- ``rating`` 评价 Evaluation (the poor one; for a spot check the latest, or 未评价) and ``evaluated_at`` 评价时间;
- ``deadline`` 回访期限 Visit due by: the ``return_visit`` clock's deadline;
- ``status`` 回访状态 Status, from the clock: ``done`` 已回访 (``met``), ``late`` 逾期回访 (``missed``),
  ``pending`` 待回访 (``green``, ``yellow``, ``paused``), ``overdue`` 逾期未回访 (``red``); a spot check
  without a clock: ``done`` when a ``return_visit`` came at or after its resolution, else ``pending``;
- ``visited_at`` 回访时间 Visited at and ``visit_result`` 回访情况 Result: that return visit.

Ticket text (the subject, the visit's result) is shown with any phone or ID
number in it masked; ``--unmasked`` unmasks only the applicant's phone column.

With ``--department``, the tickets :class:`~govhall_sdk.reports.data.ReportData`
keeps. Rows: overdue first, then pending, late and done; within each, by deadline
(none last) and ticket.
"""
from __future__ import annotations

from datetime import datetime
from operator import itemgetter
from typing import Any, Iterable, Iterator, Mapping

from .data import ReportData, free_text, instant
from .ledger import RATINGS, agent_text, latest_evaluation
from .tables import Column, Table

SPOT_CHECK, POOR_REVIEW = "spot_check", "poor_review"
REASONS: Mapping[Any, tuple[str, str]] = {
    SPOT_CHECK: ("抽查", "spot check"), POOR_REVIEW: ("差评", "poor review"),
    f"{SPOT_CHECK}+{POOR_REVIEW}": ("抽查、差评", "spot check, poor review"),
}
#: A return visit's status, from its clock's status.
STATUS_OF_CLOCK = {"met": "done", "missed": "late", "green": "pending", "yellow": "pending", "paused": "pending",
                   "red": "overdue"}
STATUSES: Mapping[Any, tuple[str, str]] = {
    "done": ("已回访", "visited"), "late": ("逾期回访", "visited late"),
    "pending": ("待回访", "to be visited"), "overdue": ("逾期未回访", "overdue, not visited"),
}
ORDER = {"overdue": 0, "pending": 1, "late": 2, "done": 3}
NO_DEADLINE = {None: ("不设期限（目录未规定）", "none (the catalog sets none)")}
_NAME = itemgetter("name")

COLUMNS = (
    Column("ticket_id", "工单编号", "Ticket"),
    Column("subject", "事项名称", "Item"),
    Column("agent", "帮办代办员", "Agent"),
    Column("applicant", "申请人", "Applicant"),
    Column("applicant_phone", "联系电话", "Phone"),
    Column("reason", "回访原因", "Reason", REASONS),
    Column("resolved_at", "办结时间", "Completed at"),
    Column("rating", "评价", "Evaluation", RATINGS),
    Column("evaluated_at", "评价时间", "Evaluated at"),
    Column("deadline", "回访期限", "Visit due by", NO_DEADLINE),
    Column("status", "回访状态", "Status", STATUSES),
    Column("visited_at", "回访时间", "Visited at"),
    Column("visit_result", "回访情况", "Result"),
)


def first_visit(record: Mapping[str, Any], since: datetime | None) -> Mapping[str, Any]:
    """The record's first ``return_visit`` at or after ``since`` (any, when None), or an empty mapping."""
    visits = [v for v in record.get("return_visits") or () if since is None or instant(v["at"]) >= since]
    return min(visits, key=lambda v: instant(v["at"]), default={})


def _base(record: Mapping[str, Any], data: ReportData, reason: str) -> dict[str, Any]:
    """The columns every row of a record shares."""
    return {
        "ticket_id": record["id"], "subject": free_text(record.get("subject")),
        "agent": agent_text((record.get("proxy") or {}).get("agent")),
        "applicant": (record.get("applicant") or {}).get("name"), "applicant_phone": data.phone(record),
        "reason": reason, "resolved_at": data.local(record.get("resolved_at")),
    }


def _visit(row: dict[str, Any], visit: Mapping[str, Any], data: ReportData) -> dict[str, Any]:
    """``row`` with the return visit's time and result."""
    row["visited_at"] = data.local(visit.get("at"))
    row["visit_result"] = free_text(visit.get("result"))
    return row


def poor_review_rows(record: Mapping[str, Any], data: ReportData) -> Iterator[dict[str, Any]]:
    """One row per ``return_visit`` clock (a poor evaluation) of the record whose evaluation is in the period."""
    reason = f"{SPOT_CHECK}+{POOR_REVIEW}" if record.get("spot_check") else POOR_REVIEW
    ratings = {instant(e["at"]): e.get("rating") for e in record.get("evaluations") or ()}
    for clock in record.get("clocks") or ():
        start = instant(clock["start"])
        if clock["name"] != "return_visit" or not data.period.holds(start):
            continue
        row = _base(record, data, reason)
        row.update(rating=ratings.get(start), evaluated_at=start.astimezone(data.tz),
                   deadline=data.local(clock["due_at"]), status=STATUS_OF_CLOCK.get(clock["status"], "pending"))
        yield _visit(row, first_visit(record, start), data)


def spot_check_row(record: Mapping[str, Any], data: ReportData) -> dict[str, Any] | None:
    """The row of a spot-check draw with no poor evaluation, when its resolution is in the period."""
    resolved = instant(record.get("resolved_at"))
    if not data.period.holds(resolved):
        return None
    evaluation = latest_evaluation(record) or {}
    visit = first_visit(record, resolved)
    row = _base(record, data, SPOT_CHECK)
    row.update(rating=evaluation.get("rating"), evaluated_at=data.local(evaluation.get("at")), deadline=None,
               status="done" if visit else "pending")
    return _visit(row, visit, data)


def visit_rows(records: Iterable[Mapping[str, Any]], data: ReportData) -> list[dict[str, Any]]:
    """The rows of the records, in order: for each, its poor evaluations, else its spot-check draw, else none.

    One loop with no call for a record that has neither (most of them)."""
    rows: list[dict[str, Any]] = []
    for record in records:
        if "return_visit" in map(_NAME, record.get("clocks") or ()):
            rows.extend(poor_review_rows(record, data))
        elif record.get("spot_check"):
            row = spot_check_row(record, data)
            if row is not None:
                rows.append(row)
    return rows


def _order(row: Mapping[str, Any]) -> tuple[Any, ...]:
    """Overdue, pending, late, done; then by deadline (none last) and ticket."""
    deadline = row["deadline"]
    return ORDER[row["status"]], deadline is None, deadline.timestamp() if deadline else 0, row["ticket_id"]


def build(data: ReportData) -> list[Table]:
    """The return-visit list of ``data``'s period: one table, key ``visits`` (see the module docstring)."""
    rows = visit_rows(data.records, data)
    rows.sort(key=_order)
    return [Table("visits", "抽查回访清单", "Spot checks and return visits", COLUMNS, rows, data.lang)]
