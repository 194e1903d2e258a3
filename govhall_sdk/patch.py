"""What govhall writes back, in one place: tag names, field names, note markers and the patch.

The engine builds each ticket's :class:`~govhall_sdk.model.Patch` here; the
built-in escalation and every adapter use the same names to write it and to
recognise govhall's own writing:

- tags ``govhall_sla_<light>`` and ``govhall_<code with '.' as '_'>``
  (:func:`light_tag`, :func:`finding_tag`); ``govhall_`` tags are govhall's own
  (:func:`is_own_tag`);
- the fields of :data:`FIELDS`;
- one internal note per violation, made idempotent by a marker such as
  ``[govhall:tl.overdue:completion]`` (:func:`note_marker`,
  :func:`escalation_marker`); a marker counts as written only in an internal
  note that the applicant did not write (:func:`written_markers`).
"""
from __future__ import annotations

import functools
import re
from typing import Any

from .model import Clock, Finding, Note, Patch, Ticket
from .privacy import mask_text, mask_unique, none_masked

TAG_PREFIX = "govhall_"
MARKER_PREFIX = "[govhall:"
LIGHT_ORDER = {"green": 1, "yellow": 2, "red": 3}
#: The fields govhall writes, in the order of ``tickets.md``.
FIELDS = ("govhall_light", "govhall_due_at", "govhall_first_inquiry", "govhall_first_handler",
          "govhall_escalation_level")

_MARKER = re.compile(r"\[govhall:[^\[\]\s]+\]")


@functools.lru_cache(maxsize=1024)
def finding_tag(code: str) -> str:
    """The helpdesk tag of a finding code: ``govhall_`` + code with '.' as '_'."""
    return TAG_PREFIX + code.replace(".", "_")


def light_tag(light: str) -> str:
    """The helpdesk tag of a light: ``govhall_sla_<light>``."""
    return f"{TAG_PREFIX}sla_{light}"


def is_own_tag(tag: str) -> bool:
    """Whether a tag is govhall's to add and remove."""
    return tag.startswith(TAG_PREFIX)


def note_marker(finding: Finding) -> str:
    """The marker that identifies a finding's note on the helpdesk."""
    clock, key = finding.clock, finding.key  # the code, then those of the two that are set, ':' between
    if clock:
        return f"{MARKER_PREFIX}{finding.code}:{clock}:{key}]" if key else f"{MARKER_PREFIX}{finding.code}:{clock}]"
    return f"{MARKER_PREFIX}{finding.code}:{key}]" if key else f"{MARKER_PREFIX}{finding.code}]"


def escalation_marker(level: int) -> str:
    """The marker of the built-in escalation's note for one level."""
    return f"{MARKER_PREFIX}escalation:{level}]"


def has_marker(text: str) -> bool:
    """Whether a text carries a govhall marker (govhall's own note, or a copy of one)."""
    return MARKER_PREFIX in text and _MARKER.search(text) is not None


def markers_in(text: str) -> list[str]:
    """The govhall markers in a text, in order."""
    return _MARKER.findall(text) if MARKER_PREFIX in text else []


def written_markers(ticket: Ticket) -> frozenset[str]:
    """The idempotency markers that count as already written on a ticket.

    Only markers in internal notes (``reply`` with ``public`` false) that the
    applicant did not write count: an applicant who pastes a marker into a
    message suppresses nothing. One pass over the events and one regular
    expression per note, so the check is linear in the ticket's text.
    """
    if "reply" not in ticket.event_types:
        return frozenset()
    found: set[str] = set()
    for e in ticket.events:
        if e.type == "reply" and not e.public and MARKER_PREFIX in e.body:
            actor = e.actor
            if actor is None or actor.role != "applicant":
                found.update(_MARKER.findall(e.body))
    return frozenset(found)


def note_body(finding: Finding, ctx: Any, marker: str, provisional: bool) -> str:
    """The internal note of a violation, in the context's language, naming the clause and the deadline."""
    due = ctx.fmt(finding.due_at) if finding.due_at else None
    if due and due in finding.message:
        due = None  # the message already names the deadline
    if ctx.lang == "en":
        deadline = f"; due {due}" if due else ""
        caveat = (" The deadline is provisional: a year it spans has no published holiday arrangement yet."
                  if provisional else "")
        return f"[govhall] {finding.message} (clause: {finding.clause}{deadline}){caveat} {marker}"
    deadline = f"；期限：{due}" if due else ""
    caveat = "该期限为暂定期限：所跨年份的节假日安排尚未公布。" if provisional else ""
    return f"【政务服务规则提醒】{finding.message}（依据：{finding.clause}{deadline}）{caveat}{marker}"


def _masked_notes(findings: list[Finding], markers: list[str], provisional: list[bool], ctx: Any) -> list[Note]:
    """The notes of the findings, their markers and whether each deadline is provisional:
    ``mask_text(note_body(...))``, masked by pieces.

    A note is the text before its marker with the marker appended, and a marker begins with ``[``, which
    is neither a digit, a separator nor a check letter (:mod:`govhall_sdk.privacy`): no number, and no
    match of the fast path, spans the two, so the masking of the whole is the masking of each. The text
    before the marker repeats from finding to finding (it depends on the message, the clause, the deadline
    and the caveat only), so it is written and masked once for each; the markers, which do not repeat, are
    kept as they are when none of them holds a number (the usual case, told from their shapes by
    :func:`~govhall_sdk.privacy.none_masked`), else masked one by one. A backslash, which could begin an
    escape across two pieces, masks its note whole.
    """
    plain = [marker for marker in markers if "\\" not in marker and marker.startswith(MARKER_PREFIX)]
    masked = dict(zip(plain, plain)) if none_masked(plain) else {m: mask_unique(m) for m in plain}
    heads: dict[tuple, tuple[str, str | None]] = {}
    notes = []
    for finding, marker, caveat in zip(findings, markers, provisional):
        key = (finding.message, finding.clause, finding.due_at, caveat)
        head = heads.get(key)
        if head is None:
            text = note_body(finding, ctx, "", caveat)
            head = heads[key] = (text, None if "\\" in text else mask_text(text))
        shown = masked.get(marker)
        body = mask_text(head[0] + marker) if shown is None or head[1] is None else head[1] + shown
        notes.append(Note(finding.code, marker, body))
    return notes


def same_value(current: Any, desired: Any) -> bool:
    """Whether a helpdesk field already holds a value (blank and None are the same; ``1`` equals ``"1"``)."""
    if current is None or current == "" or desired is None or desired == "":
        return (current is None or current == "") and (desired is None or desired == "")
    return current == desired or str(current) == str(desired)


def build_patch(ticket: Ticket, ctx: Any, light: str | None, level: int, responsible: dict[str, str | None],
                clocks: list[Clock], findings: list[Finding]) -> Patch:
    """The difference between what the result says and the ticket's current tags, fields and notes."""
    desired = {finding_tag(code) for code in {f.code for f in findings}}
    if light:
        desired.add(light_tag(light))
    current = {t for t in ticket.tags if t.startswith(TAG_PREFIX)} if ticket.tags else set()
    due = None
    for c in clocks:
        if c.status in LIGHT_ORDER and (due is None or c.due_at < due):
            due = c.due_at
    wanted = (light, due.isoformat() if due else None, responsible.get("first_inquiry"),
              responsible.get("first_handler"), level)
    get = ticket.fields.get
    fields = {}
    for k, v in zip(FIELDS, wanted):
        current_value = get(k)
        if not (current_value is None and v is None) and not same_value(current_value, v):
            fields[k] = v
    notes: list[Note] = []
    violations = [f for f in findings if f.severity == "violation"]
    if violations:
        written = written_markers(ticket)
        provisional = {(c.name, c.due_at) for c in clocks if c.provisional}
        seen: set[str] = set()
        noted, markers, caveats = [], [], []
        for f in violations:
            marker = note_marker(f)
            if marker in seen or marker in written:
                continue
            seen.add(marker)
            noted.append(f)
            markers.append(marker)
            caveats.append(bool(provisional) and (f.clock, f.due_at) in provisional)
        notes = _masked_notes(noted, markers, caveats, ctx)
    return Patch(sorted(desired - current), sorted(current - desired), fields, notes)
