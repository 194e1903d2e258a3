"""The built-in escalation (a ``trylast`` plugin: any other escalate hook wins).

It writes what ``[escalation.write]`` says: the target's name into a field
(``field``), an internal note addressed to the target (``note``), and the
ticket's assignment to the target (``assign``). The note carries a marker per
level, so an escalation is never written twice.
"""
from __future__ import annotations

from . import hookimpl
from .model import Note, Patch
from .patch import escalation_marker, written_markers

LEVEL_ZH = {1: "部门负责人/首席代表", 2: "政务服务中心"}
LEVEL_EN = {1: "department head / chief representative", 2: "the service center"}


@hookimpl(trylast=True)
def govhall_escalate(ticket, result, level, target, ctx):
    """Escalate by field, note and/or assignment, as configured."""
    write = ctx.config.escalation_write
    patch = Patch()
    if write.get("field") and target:
        # only the highest level with a target names it: when levels are replayed (a write that landed
        # unacknowledged, a crash before the run recorded it), a lower level must not set it back
        department = ticket.lead_department or ticket.department
        top = max((n for n in range(1, result.escalation_level + 1)
                   if ctx.config.escalation_target(department, n)), default=level)
        if level >= top and ticket.fields.get(write["field"]) != target:
            patch.fields[write["field"]] = target
    if write.get("note"):
        marker = escalation_marker(level)
        if marker not in written_markers(ticket):
            codes = ", ".join(sorted({f.code for f in result.findings if f.severity == "violation" or f.escalation >= level}))
            who = target or (LEVEL_EN if ctx.lang == "en" else LEVEL_ZH)[level]
            body = (f"[govhall] Escalated to level {level} ({who}): {codes}. {marker}" if ctx.lang == "en"
                    else f"【督办升级】已升级至第{level}级（{who}）：{codes}。{marker}")
            patch.notes.append(Note("escalation", marker, body))
    if write.get("assign") and target:
        patch.assign = target
    return patch
