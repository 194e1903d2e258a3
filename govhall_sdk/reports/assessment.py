"""The 考核 (annual assessment): violations per staff member and department, and who answers for each overdue item.

The notice links the systems to the annual assessment (一次性告知工作制度 第六条),
deals with the directly responsible person (直接责任人) of a missed limit
(限时办结制度 第八条) and grades violations of 首问（办）负责 (第六条). What is
counted: each finding occurrence of the history (``ReportData.history``) whose
code is a ``violation`` in the catalog and whose ``at`` (when its fact
happened: a clock's deadline, an event's instant) is in the period. Warnings and
information are not counted. Each occurrence counts under the finding's
``staff`` and ``department`` (who answers for it, as the rules decide); one
that names nobody counts under 未指明责任人 / 未指明部门 (no one named), never
dropped. A staff member is their id and the name their ticket gives them (``name (id)``): an id that two
tickets name differently (in the demo, ``s-he`` is 何静 of 社会保障窗口 and 何佳 of 税务窗口) is two rows, so
that no one answers for another's violation, and a supervisor sees the clash. With ``--department``, only the occurrences that department answers
for are counted (a proxy agent's finding on a window's ticket counts for the
agent's 帮办代办窗口, not for the window).

:func:`build` returns four tables:

- ``staff`` 人员违规汇总 Violations by staff member: ``staff_id`` 工号, ``person`` 直接责任人 (``name
  (id)``), ``department`` 所属部门 (the staff member's own, from the record), one column per system
  keyed by its rule (``one_time_notice`` 一次性告知制度, ``time_limit`` 限时办结制度,
  ``first_responsibility`` 首问（办）负责制度, ``proxy_service`` 帮办代办制度, then any other plugin's),
  ``total`` 合计; most violations first, no one named last; a totals row in CSV and XLSX;
- ``departments`` 部门违规汇总 Violations by department: ``department`` 部门 and the same counts;
- ``clauses`` 违规明细（按制度、条款） Violations by system and clause: ``department``, ``staff_id``,
  ``person``, ``system``, ``code`` 代码, ``clause`` 条款, ``count`` 次数;
- ``overdue`` 超期件直接责任人 Overdue items: each finding of the records that is a violation of a clock
  that ran out (it names the clock and its deadline: ``tl.overdue``, ``tl.supervision_overdue``,
  ``fr.first_reply_overdue``, ``ps.return_visit_overdue`` ...) and whose deadline is in the period:
  ``ticket_id`` 工单编号, ``subject`` 事项名称, ``code``, ``system``, ``clause``, ``clock`` 时限 (its name
  in words), ``deadline`` 期限, ``clock_status`` 状态 (``red`` 超期未完成, ``missed`` 超期后完成),
  ``staff_id``, ``person`` 直接责任人, ``department`` 责任部门; by deadline.

The subject is shown with any phone or ID number in it masked. In JSON, ``system`` is the rule's key
and an unnamed person or department is null.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from functools import lru_cache
from typing import Any, Iterable, Mapping

from .data import SYSTEMS, Occurrence, ReportData, free_text
from .tables import Column, Table

VIOLATION = "violation"
NOBODY: Mapping[Any, tuple[str, str]] = {None: ("未指明责任人", "no one named")}
NO_DEPARTMENT: Mapping[Any, tuple[str, str]] = {None: ("未指明部门", "no department named")}
#: The clocks of the catalog (``rules.md``), in words.
CLOCKS: Mapping[Any, tuple[str, str]] = {
    "first_reply": ("首次答复", "first reply"), "supplement_notice": ("补正告知", "supplement notice"),
    "deferred_reply": ("延期答复", "deferred reply"), "transfer": ("移交", "transfer"),
    "completion": ("办结", "completion"), "evaluation": ("服务评价", "evaluation"),
    "return_visit": ("差评回访", "return visit"),
}
CLOCK_STATUSES: Mapping[Any, tuple[str, str]] = {
    "red": ("超期未完成", "overdue, not done"), "missed": ("超期后完成", "done late"),
}


def systems(data: ReportData) -> list[str]:
    """The rules that define violations, the notice's four systems first, then any other plugin's by name."""
    rules = {info.rule for info in data.catalog.values() if info.severity == VIOLATION}
    return [r for r in SYSTEMS if r in rules] + sorted(rules - set(SYSTEMS))


def system_labels(rules: Iterable[str]) -> dict[Any, tuple[str, str]]:
    """Each rule's system in words (another plugin's rule: its name)."""
    return {rule: SYSTEMS.get(rule, (rule, rule)) for rule in rules}


def counted(data: ReportData) -> list[Occurrence]:
    """The history's violations of the period (of ``--department``, when given)."""
    found, department = data.violations(), data.department
    return found if department is None else [o for o in found if o.department == department]


#: A staff member as counted: the id and ``name (id)`` as the ticket names them; (None, None) is no one named.
Staff = tuple[str | None, str | None]


class _Tally:
    """The counts of one pass over the counted occurrences: by clause (department, staff member and code),
    then, from those, by staff and by department."""

    def __init__(self, data: ReportData) -> None:
        self.data = data
        self.own: dict[Staff, str | None] = {}
        self.clauses: Counter[tuple[str | None, Staff, str]] = Counter(self._clauses(counted(data)))
        self.staff: dict[Staff, Counter[str]] = defaultdict(Counter)
        self.departments: dict[str | None, Counter[str]] = defaultdict(Counter)
        for (department, who, code), n in self.clauses.items():
            rule = data.info(code).rule
            self.staff[who][rule] += n
            self.departments[department][rule] += n

    def _clauses(self, found: Iterable[Occurrence]) -> list[tuple[str | None, Staff, str]]:
        """What each occurrence counts under: its department, its staff member (as its ticket names them) and
        code; each staff member's own department is noted on the way."""
        record_of, person, own = self.data.record, self.data.person, self.own
        clauses = []
        for o in found:
            record = record_of(o.adapter, o.ticket_id)
            who = (o.staff, person(record, o.staff))
            if who not in own:
                own[who] = ((record.get("people") or {}).get(o.staff) or {}).get("department")
            clauses.append((o.department, who, o.code))
        return clauses


def _count_columns(rules: list[str]) -> tuple[Column, ...]:
    """A count column per system, then the total."""
    labels = system_labels(rules)
    return tuple(Column(r, labels[r][0], labels[r][1]) for r in rules) + (Column("total", "合计", "Total"),)


def _counts(counter: Counter[str], rules: list[str]) -> dict[str, int]:
    """The count cells of one row: per system (0 when none) and the total."""
    row = {r: counter.get(r, 0) for r in rules}
    row["total"] = sum(counter.values())
    return row


def _ranked(counts: Mapping[Any, Counter[str]], nobody: Any) -> list[Any]:
    """The keys by most violations, then by key; ``nobody`` (no one named) last."""
    return sorted(counts, key=lambda k: (k == nobody, -sum(counts[k].values()), str(k)))


def staff_table(tally: _Tally, rules: list[str], lang: str) -> Table:
    """Violations by staff member and system, with totals."""
    rows = [{"staff_id": who[0], "person": who[1], "department": tally.own[who], **_counts(tally.staff[who], rules)}
            for who in _ranked(tally.staff, (None, None))]
    columns = (Column("staff_id", "工号", "Staff id"), Column("person", "直接责任人", "Responsible person", NOBODY),
               Column("department", "所属部门", "Department")) + _count_columns(rules)
    return Table("staff", "人员违规汇总", "Violations by staff member", columns, rows, lang, totals=True)


def department_table(tally: _Tally, rules: list[str], lang: str) -> Table:
    """Violations by department and system, with totals."""
    rows = [{"department": d, **_counts(tally.departments[d], rules)} for d in _ranked(tally.departments, None)]
    columns = (Column("department", "部门", "Department", NO_DEPARTMENT),) + _count_columns(rules)
    return Table("departments", "部门违规汇总", "Violations by department", columns, rows, lang, totals=True)


def clause_table(tally: _Tally, rules: list[str], lang: str) -> Table:
    """Violations by department, staff member, system and clause (one row per code), with totals."""
    data = tally.data
    rows = [{"department": d, "staff_id": who[0], "person": who[1], "system": data.info(code).rule,
             "code": code, "clause": data.info(code).clause, "count": n}
            for (d, who, code), n in tally.clauses.items()]
    rows.sort(key=lambda r: (r["department"] is None, r["department"] or "", r["staff_id"] is None,
                             r["staff_id"] or "", r["person"] or "", r["code"]))
    labels = system_labels(set(rules) | {r["system"] for r in rows})
    columns = (Column("department", "部门", "Department", NO_DEPARTMENT), Column("staff_id", "工号", "Staff id"),
               Column("person", "直接责任人", "Responsible person", NOBODY),
               Column("system", "制度", "System", labels), Column("code", "代码", "Code"),
               Column("clause", "条款", "Clause"), Column("count", "次数", "Count"))
    return Table("clauses", "违规明细（按制度、条款）", "Violations by system and clause", columns, rows, lang,
                 totals=True)


def overdue_rows(data: ReportData) -> list[dict[str, Any]]:
    """The overdue items of the records, in record order: each finding that is a violation of a clock that ran
    out (it names the clock and the deadline) whose deadline is in the period and, with ``--department``, that
    the department answers for; each with its clock's status and who answers for it.

    One loop, with what it reads of the data looked up once: it reads every finding of 100,000 records."""
    violations = {code for code, info in data.catalog.items() if info.severity == VIOLATION}
    period, department, local, person = data.period, data.department, data.local, data.person
    unbounded = period.unbounded
    rows = []
    for record in data.records:
        status = None
        for f in record.get("findings") or ():
            if not (f.get("clock") and f.get("due_at")) or f["code"] not in violations \
                    or not (unbounded or period.holds_text(f["due_at"])) \
                    or (department is not None and f.get("department") != department):
                continue
            if status is None:  # the record's first overdue item
                status = {(c["name"], c["due_at"]): c["status"] for c in record.get("clocks") or ()}
                ticket_id, subject = record["id"], free_text(record.get("subject"))
            code, clock, due_at, staff = f["code"], f["clock"], f["due_at"], f.get("staff")
            info = data.catalog[code]
            rows.append({"ticket_id": ticket_id, "subject": subject, "code": code, "system": info.rule,
                         "clause": info.clause, "clock": clock, "deadline": local(due_at),
                         "clock_status": status.get((clock, due_at)), "staff_id": staff,
                         "person": person(record, staff), "department": f.get("department")})
    return rows


def overdue_table(data: ReportData, rules: list[str]) -> Table:
    """Each overdue item of the period with its directly responsible person and department."""
    rows = overdue_rows(data)
    order = lru_cache(maxsize=None)(datetime.timestamp)  # the deadlines are the ends of a few hundred days
    rows.sort(key=lambda r: (order(r["deadline"]), r["ticket_id"], r["code"]))
    columns = (Column("ticket_id", "工单编号", "Ticket"), Column("subject", "事项名称", "Item"),
               Column("code", "代码", "Code"),
               Column("system", "制度", "System", system_labels(set(rules) | {r["system"] for r in rows})),
               Column("clause", "条款", "Clause"), Column("clock", "时限", "Clock", CLOCKS),
               Column("deadline", "期限", "Deadline"), Column("clock_status", "状态", "Status", CLOCK_STATUSES),
               Column("staff_id", "工号", "Staff id"), Column("person", "直接责任人", "Responsible person", NOBODY),
               Column("department", "责任部门", "Department", NO_DEPARTMENT))
    return Table("overdue", "超期件直接责任人", "Overdue items and who answers", columns, rows, data.lang)


def build(data: ReportData) -> list[Table]:
    """The assessment of ``data``'s period: the tables ``staff``, ``departments``, ``clauses`` and ``overdue``
    (see the module docstring)."""
    rules = systems(data)
    tally = _Tally(data)
    return [staff_table(tally, rules, data.lang), department_table(tally, rules, data.lang),
            clause_table(tally, rules, data.lang), overdue_table(data, rules)]
