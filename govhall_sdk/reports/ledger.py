"""The 《帮办代办工作登记台账》 (帮办代办制度 三(二)): one row per proxy ticket of the period.

:func:`build` returns one :class:`~govhall_sdk.reports.tables.Table` (key
``ledger``). A proxy ticket is a record with ``proxy`` (a ``proxy_request``);
it is on the period's ledger when its request or its acceptance falls in the
period (so a request of late February accepted in March is on both months'
ledgers: neither month misses it). With ``--department``, the tickets
:class:`~govhall_sdk.reports.data.ReportData` keeps (of that department or lead
department, or with a finding it answers for). Rows are in the order of the requests.

Columns (JSON key, zh header, en header); the notice's five are kept under the
notice's own names, and the notice's two "information" columns are split so
that a spreadsheet can sort and filter them:

- ``ticket_id`` 工单编号 Ticket
- ``subject`` **事项名称** Item
- ``mode`` 服务方式 Service mode: ``help`` 帮办, ``proxy`` 代办, ``home`` 上门办, ``assisted`` 协助办
- ``requested_at`` 申请时间 Requested at: the first ``proxy_request``
- ``accepted_at`` **受理时间** Accepted at
- ``resolved_at`` **办结时间** Completed at
- ``agent`` **帮办代办员信息** Agent: ``name (id)`` of the 帮办代办员 (the request's ``agent``)
- ``agent_department`` 帮办代办员部门 Agent's department
- ``applicant`` **申请人信息** Applicant: the applicant's name
- ``applicant_phone`` 申请人电话 Applicant's phone: masked (``139****8847``) unless ``--unmasked``
- ``rating`` 评价 Evaluation: the latest ``evaluation``'s rating, shown with its words (5 非常满意,
  4 满意, 3 基本满意, 2 不满意, 1 非常不满意; 未评价 when there is none); JSON keeps the number or null
- ``evaluated_at`` 评价时间 Evaluated at

A missing value (no acceptance yet, no agent named) is an empty cell: the
ledger shows what is on record, and ``ps.ledger_incomplete`` reports the gaps.
Ticket text (the subject) is shown with any phone or ID number in it masked,
``--unmasked`` or not: only the applicant's phone column is unmasked.
"""
from __future__ import annotations

from operator import methodcaller
from typing import Any, Mapping

from .data import ReportData, free_text, instant
from .tables import Column, Table

#: The 帮办代办 service modes of ``proxy_request`` (帮办代办制度 二).
MODES: Mapping[Any, tuple[str, str]] = {
    "help": ("帮办", "Help"), "proxy": ("代办", "Proxy"), "home": ("上门办", "At home"),
    "assisted": ("协助办", "Assisted"),
}

#: An applicant's rating and its words; None: no evaluation on record.
RATINGS: Mapping[Any, tuple[str, str]] = {
    5: ("5 非常满意", "5 very satisfied"), 4: ("4 满意", "4 satisfied"), 3: ("3 基本满意", "3 fairly satisfied"),
    2: ("2 不满意", "2 dissatisfied"), 1: ("1 非常不满意", "1 very dissatisfied"),
    0: ("未评分", "no rating given"), None: ("未评价", "not evaluated"),
}

_PROXY = methodcaller("get", "proxy")

COLUMNS = (
    Column("ticket_id", "工单编号", "Ticket"),
    Column("subject", "事项名称", "Item"),
    Column("mode", "服务方式", "Service mode", MODES),
    Column("requested_at", "申请时间", "Requested at"),
    Column("accepted_at", "受理时间", "Accepted at"),
    Column("resolved_at", "办结时间", "Completed at"),
    Column("agent", "帮办代办员信息", "Agent"),
    Column("agent_department", "帮办代办员部门", "Agent's department"),
    Column("applicant", "申请人信息", "Applicant"),
    Column("applicant_phone", "申请人电话", "Applicant's phone"),
    Column("rating", "评价", "Evaluation", RATINGS),
    Column("evaluated_at", "评价时间", "Evaluated at"),
)


def agent_text(agent: Mapping[str, Any] | None) -> str | None:
    """The 帮办代办员 as people read them: ``name (id)``, the id alone without a name, None without an agent."""
    if not agent:
        return None
    return f"{agent['name']} ({agent['id']})" if agent.get("name") else agent.get("id")


def latest_evaluation(record: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The record's latest ``evaluation`` (the applicant's last word), or None."""
    evaluations = record.get("evaluations") or ()
    return max(evaluations, key=lambda e: instant(e["at"]), default=None)


def on_ledger(record: Mapping[str, Any], data: ReportData) -> bool:
    """True for a proxy ticket whose request or acceptance falls in the report's period."""
    proxy = record.get("proxy")
    if not proxy:
        return False
    accepted = instant(record.get("accepted_at"))
    return data.period.holds(instant(proxy["requested_at"])) or (accepted is not None and data.period.holds(accepted))


def ledger_row(record: Mapping[str, Any], data: ReportData) -> dict[str, Any]:
    """The ledger row of one proxy ticket."""
    proxy = record["proxy"]
    agent = proxy.get("agent") or {}
    evaluation = latest_evaluation(record) or {}
    return {
        "ticket_id": record["id"], "subject": free_text(record.get("subject")), "mode": proxy.get("mode"),
        "requested_at": data.local(proxy["requested_at"]), "accepted_at": data.local(record.get("accepted_at")),
        "resolved_at": data.local(record.get("resolved_at")), "agent": agent_text(agent),
        "agent_department": agent.get("department"), "applicant": (record.get("applicant") or {}).get("name"),
        "applicant_phone": data.phone(record), "rating": evaluation.get("rating"),
        "evaluated_at": data.local(evaluation.get("at")),
    }


def build(data: ReportData) -> list[Table]:
    """The ledger of ``data``'s period: one table, key ``ledger`` (see the module docstring)."""
    proxy_tickets = filter(_PROXY, data.records)  # in C: most tickets are not proxy tickets
    rows = [ledger_row(r, data) for r in proxy_tickets if on_ledger(r, data)]
    rows.sort(key=lambda row: (row["requested_at"], row["ticket_id"]))
    return [Table("ledger", "帮办代办工作登记台账", "Help and proxy service ledger", COLUMNS, rows, data.lang)]
