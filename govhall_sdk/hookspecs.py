"""Every govhall hook, with its arguments, return type and how results combine.

Plugins implement these with ``@govhall_sdk.hookimpl`` and are found through the
``govhall`` entry-point group. The built-in rule plugins, calendars and adapters
use exactly these hooks, so a third-party package has the same powers.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import pluggy

if TYPE_CHECKING:  # pragma: no cover - typing only
    from .engine import Context, Result
    from .model import Patch, Ticket
    from .rules import RuleInfo

hookspec = pluggy.HookspecMarker("govhall")


@hookspec
def govhall_register_rules(register: Callable[["RuleInfo"], None]) -> None:
    """Declare the finding codes a plugin can emit.

    :param register: call it once per :class:`govhall_sdk.rules.RuleInfo`
        (code, severity, clause, clause text, what staff should do, clock).
    Duplicated codes across plugins are an error naming both plugins.
    ``govhall rules`` and ``govhall explain`` read these.
    """


@hookspec
def govhall_register_policies(register: Callable[..., None]) -> None:
    """Declare a rule plugin's policy keys, their defaults and the ranges of the numeric ones.

    :param register: call ``register(section, {key: default}, ranges={key: Range(min, max)})``
        (:class:`govhall_sdk.config.Range`, both bounds included, None for an open
        side; a ``(min, max)`` pair is read as one); the keys become
        ``[policy.<section>]`` in the config file. The type of each default is the
        type the config must give; unknown keys in a declared section are rejected;
        a value outside its key's range is rejected with the key path
        (``policy.time_limit.complaint_working_days: expected an integer from 1 to
        365, got -15``). ``ranges`` is optional: a key without one is checked for
        its type only. A range for a key without a default, for a key that is not a
        number, or one its default falls outside of, is an error naming the plugin.
    """


@hookspec
def govhall_evaluate_ticket(ticket: "Ticket", ctx: "Context") -> "Any":
    """Evaluate one ticket: compute clocks and findings.

    :param ticket: the normalized ticket (read only).
    :param ctx: the evaluation context: ``now``, ``config``, ``calendar``, ``lang``,
        ``policy(section)`` and the clock helpers.
    :return: a :class:`govhall_sdk.RuleResult` (clocks and findings) or None
        when the plugin has nothing to say about this ticket.
    All implementations are called, each isolated: one that raises gives an error
    for this ticket only, the others' results are kept. Results are concatenated
    in plugin-name order, so output never depends on registration order.
    """


@hookspec
def govhall_responsibility(ticket: "Ticket", ctx: "Context") -> "dict[str, str | None] | None":
    """Name the responsible staff of a ticket.

    :return: a mapping such as ``{"first_inquiry": "s1", "first_handler": "s2"}``
        (actor ids or None) or None.
    Results are merged key by key; for a key given by several plugins, the first
    non-None value in hook-call order wins (mark an implementation ``tryfirst``
    to override a built-in).
    """


@hookspec
def govhall_register_calendars(register: Callable[[str, Callable[[], Any]], None]) -> None:
    """Offer working-day calendars by name.

    :param register: call ``register(name, factory)`` where ``factory()`` returns a
        :class:`govhall_sdk.calendar.DaySource`. ``[calendar] name`` in the config
        chooses one; the default is ``cn``. Duplicate names are an error.
    """


@hookspec
def govhall_register_adapters(register: Callable[[str, type], None]) -> None:
    """Offer helpdesk adapters by name.

    :param register: call ``register(name, adapter_class)`` with a subclass of
        :class:`govhall_sdk.adapter.Adapter`. ``[adapter] type`` chooses one.
        Duplicate names are an error.
    """


@hookspec
def govhall_adjust_patch(ticket: "Ticket", result: "Result", patch: "Patch", ctx: "Context") -> None:
    """Change what will be written back, before it is written.

    :param patch: a mutable :class:`govhall_sdk.model.Patch`; modify it in place
        (add a field, drop a tag, reword a note).
    Every implementation is called; each sees the previous ones' changes.
    """


@hookspec(firstresult=True)
def govhall_escalate(ticket: "Ticket", result: "Result", level: int, target: "str | None", ctx: "Context") -> "Patch | None":
    """Escalate a ticket to level 1 (department head / 首席代表) or 2 (the center).

    :param level: 1 or 2.
    :param target: who to escalate to, from ``[escalation]`` in the config, or None.
    :return: a :class:`Patch` of extra changes that perform the escalation on the
        helpdesk (a field, a group, a note to the target), or None to let the next
        implementation decide. Stops at the first non-None result; the built-in
        implementation is ``trylast``.
    """


@hookspec
def govhall_add_commands(subparsers: Any) -> None:
    """Add sub-commands to the ``govhall`` command line.

    :param subparsers: the ``argparse`` sub-parsers object of ``govhall``; call
        ``subparsers.add_parser(name, help=...)`` and ``set_defaults(func=...)``
        where ``func(args)`` returns the exit status. ``govhall local`` and
        ``govhall redmine`` are added this way.

    Called when the whole command line is built: for ``govhall --help``,
    ``govhall completion``, a plugin's command or a line that names no
    built-in command. A built-in command (``govhall check ...``) builds its
    own parser only, and a plugin implementing nothing but this hook is then
    not even imported.
    """
