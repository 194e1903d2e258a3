"""govhall-sdk: a government service center's service rules, applied inside its helpdesk.

The public plugin API: everything a rule plugin needs is importable from here::

    from govhall_sdk import hookimpl, RuleInfo, RuleResult, Finding, Clock, Ticket, Context

plus the clock helpers (``compute_clock``, ``suspension_spans``,
``completion_clock``) and the helpers that name who answers for a finding
(``staff_id``, ``actor_department``, ``department_at``), and ``cache_dir``, the folder a plugin keeps
what it computed once in (as the ``cn`` calendar does). The names are loaded on first use, so
importing the package stays cheap and free of import cycles.
"""
import importlib

import pluggy

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("govhall")
"""Marker for hook implementations: ``@hookimpl def govhall_evaluate_ticket(...)``."""

#: Public name -> the module that defines it.
_PUBLIC = {
    "Actor": "model", "Clock": "model", "Event": "model", "Finding": "model", "Note": "model", "Patch": "model",
    "RuleResult": "model", "Ticket": "model",
    "RuleInfo": "rules", "actor_department": "rules", "clause_findings": "rules", "department_at": "rules", "staff_id": "rules",
    "Context": "engine", "Result": "engine",
    "compute_clock": "clocks", "completion_clock": "clocks", "suspension_spans": "clocks",
    "WorkCalendar": "calendar", "DaySource": "calendar", "china_holidays_source": "calendar",
    "chinesecalendar_source": "calendar",
    "cache_dir": "config",
}

__all__ = ["hookimpl", "__version__", *_PUBLIC]


def __getattr__(name: str):
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'govhall_sdk' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(__all__)
