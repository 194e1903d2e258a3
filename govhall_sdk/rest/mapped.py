"""Adapters whose mapping is the shared tables of :mod:`govhall_sdk.mapping` (Zendesk, Freshdesk, Jira, Zammad).

:class:`MappedAdapter` adds to the REST base the ``[adapter]`` mapping tables
(kinds, channels, statuses, departments, agents, field paths, applicant groups,
note prefixes, assignees), validated by ordinary inheritance, a
:class:`~govhall_sdk.mapping.HelpdeskMapping` built from them with the
platform's own defaults (the ``channels``, ``statuses`` and ``fields`` class
attributes), and the timeline helpers every such adapter uses.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Mapping

from ..config import ConfigError
from ..mapping import MAPPING_SCHEMA, MAPPING_TYPES, HelpdeskMapping, check_mapping
from ..patch import has_marker
from .base import RESTAdapter
from .cursor import parse_instant

#: The actor of a note govhall wrote itself.
GOVHALL_ACTOR = {"id": "govhall", "name": "govhall", "role": "system"}


class MappedAdapter(RESTAdapter):
    """A REST adapter mapped by the shared tables; a subclass declares the platform's defaults."""

    #: The platform's channel and status values, and where the normalized fields are, by default.
    channels: ClassVar[Mapping[str, str]] = {}
    statuses: ClassVar[Mapping[str, str]] = {}
    fields: ClassVar[Mapping[str, str]] = {}
    #: What to do when a patch names a field ``[adapter.custom_fields]`` has no id for.
    custom_field_hint: ClassVar[str] = "create the field on the helpdesk and map it"
    settings_schema = {"url": None, **MAPPING_SCHEMA}
    settings_types = {"url": str, **MAPPING_TYPES}

    def __init__(self, settings: Mapping[str, Any], config: Any, **kw: Any):
        super().__init__(settings, config, **kw)
        self.mapping = HelpdeskMapping(self.settings, config.timezone, channels=self.channels,
                                       statuses=self.statuses, fields=self.fields)
        #: ``[adapter.custom_fields]``: govhall's name of a field -> the platform's field id.
        self.field_ids = {str(k): str(v) for k, v in (self.settings.get("custom_fields") or {}).items()}

    def custom_field_ids(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """A patch's fields keyed by the platform's field ids; a field without an id fails the ticket's write."""
        missing = [name for name in values if name not in self.field_ids]
        if missing:
            raise ValueError(f"adapter.custom_fields has no id for {', '.join(missing)} ({self.custom_field_hint})")
        return {self.field_ids[name]: value for name, value in values.items()}

    @classmethod
    def validate_settings(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        """The base checks, then the mapping tables', ``per_page`` (by default the platform's largest page,
        ``max_per_page``) and ``start``."""
        out = super().validate_settings(raw)
        if "per_page" not in raw:  # every request at the platform's largest page: fewer requests of its budget
            out["per_page"] = cls.max_per_page
        check_mapping(out)
        if not 1 <= out["per_page"] <= cls.max_per_page:
            raise ConfigError(f"adapter.per_page: expected 1 to {cls.max_per_page}, got {out['per_page']}")
        try:
            parse_instant(out["start"]) or datetime.fromisoformat(out["start"])
        except ValueError:
            raise ConfigError(f"adapter.start: not an ISO 8601 instant: {out['start']!r}") from None
        return out

    # ------------------------------------------------------------------ the timeline
    def add_note(self, events: list[dict[str, Any]], warnings: list[str], where: str, *, text: str, at: Any,
                 actor: Mapping[str, Any] | None, public: bool, **extra: Any) -> None:
        """One comment as a ``reply`` event, then the event its prefix records (a staff note only).

        Values of a prefixed note that cannot be read go to ``warnings``, each
        prefixed with ``where`` (``comment 900123``), the helpdesk's own name for it.
        """
        reply: dict[str, Any] = {"type": "reply", "at": at, "public": public, "body": text, **extra}
        if actor is not None:
            reply["actor"] = actor
        events.append(reply)
        found: list[str] = []
        typed = self.mapping.note_event(text, at, dict(actor) if actor is not None else None, found)
        warnings.extend(f"{where}: {problem}" for problem in found)
        if typed is not None:
            events.append(typed)

    @staticmethod
    def looks_own(text: str, public: bool) -> bool:
        """An internal note carrying a govhall marker: govhall's own when its author is the API user."""
        return not public and has_marker(text)
