"""The adapter interface: how the sync loop talks to a helpdesk.

An adapter pulls pages of tickets changed since a cursor, fetches tickets by id
and applies patches. The adapter kit, :mod:`govhall_sdk.rest`, implements
it for REST helpdesks (auth, paging, retries, per-ticket isolation); a helpdesk
adapter is then mostly mapping code.
"""
from __future__ import annotations

import os
import unicodedata
from typing import Any, ClassVar, Iterator, Mapping, Sequence

import attrs

from .config import Config, ConfigError, check_value
from .model import Patch, Ticket
from .parse import Parsed, TicketError


class AdapterError(RuntimeError):
    """A helpdesk could not be read or written (network, HTTP status, paging); the message is redacted."""


@attrs.frozen
class Page:
    """One page of pulled tickets and the cursor to store once all of it is written.

    ``skipped`` counts tickets the adapter recognised as unchanged since govhall's
    own last write (their echo), which need no evaluation.
    """

    items: list[Parsed]
    cursor: str | None
    skipped: int = 0


#: A ticket read from a helpdesk, with the values the adapter could not read among its ``warnings`` (each
#: naming the helpdesk's own field or note). The name is kept for adapters written against it.
Pulled = Parsed


def with_warnings(item: Parsed, warnings: Sequence[str]) -> Parsed:
    """``item`` carrying ``warnings`` after its own (a ticket that could not be read at all gets them among its
    problems). The sync loop reports them among the run's per-ticket problems (exit status 1) every run until
    someone fixes the value; the rest of the ticket is evaluated and written."""
    if not warnings:
        return item
    if item.ticket is None:
        error = item.error or TicketError(None, [])
        return Parsed(None, TicketError(error.ticket_id, [*error.problems, *warnings]), item.where)
    return Parsed(item.ticket, None, item.where, (*item.warnings, *warnings))


class TicketGone(TicketError):
    """The helpdesk no longer has the ticket (deleted, or merged into another): :meth:`Adapter.fetch` yields
    it for an id it was asked for, and ``govhall run`` drops the ticket from its schedule with one line in the
    summary instead of asking for it again at every run."""


def gone(ticket_id: str, problem: str = "no such ticket") -> Parsed:
    """The item :meth:`Adapter.fetch` yields for an id the helpdesk no longer has."""
    return Parsed(None, TicketGone(ticket_id, [problem]), ticket_id)


@attrs.frozen
class WriteOutcome:
    """The result of writing one ticket's patch; ``error`` says why it failed.

    ``conflict`` means the helpdesk refused the write because the ticket changed after it was read (a safe
    update's conflict): ``govhall run`` then reads the ticket again and evaluates it again, once in the same
    run, instead of sending the same stale patch.

    ``skipped`` (with ``ok``) says that the helpdesk took what it allows of the patch and, by its own rules,
    never takes the rest (a closed Zendesk ticket takes its tags only): the ticket counts as written, its
    notes and escalations do not, and the audit log says what was not taken. Its text is reported in the
    run's summary when not empty (an adapter reports a lasting refusal once, then gives ``""``).
    """

    ticket_id: str
    ok: bool
    error: str | None = None
    conflict: bool = False
    skipped: str | None = None


def secret_value(value: Any, path: str) -> str:
    """A token as given, stripped of the whitespace around it (a pasted newline); ConfigError, never
    echoing the value, when it is not a string or holds a control character."""
    if not isinstance(value, str):
        raise ConfigError(f"{path}: expected a string, got a {type(value).__name__} (the value is not shown)")
    value = value.strip()
    bad = next((i for i, c in enumerate(value) if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")), None)
    if bad is not None:
        raise ConfigError(f"{path}: holds a control character at position {bad + 1} (the value is not shown); "
                          "copy the token again")
    if not value:
        raise ConfigError(f"{path}: is empty")
    return value


def env_secret(variable: str, path: str) -> str:
    """The secret held by environment variable ``variable``, named in the config at ``path`` (a
    ``<name>_env`` setting); ConfigError when it is not set or not a usable token (see :func:`secret_value`)."""
    if variable not in os.environ:
        raise ConfigError(f"{path}: the environment variable {variable} is not set")
    return secret_value(os.environ[variable], f"{path} (${variable})")


class Adapter:
    """Base class of helpdesk adapters.

    Subclasses set ``name`` and ``settings_schema`` (key -> default; ``None`` as a
    default means required, typed by ``settings_types``) and implement
    :meth:`pull`, :meth:`fetch` and :meth:`apply_one` (or :meth:`apply` for bulk).
    """

    name: ClassVar[str] = "base"
    skip_echoes: bool = True
    """Whether :meth:`pull` may leave out tickets whose last change is govhall's own write.

    The sync loop sets it to False when every ticket must be read again (no state
    yet, the rules changed, ``--since``, ``--full``).
    """
    echo_horizon: str | None = None
    """With ``skip_echoes`` False: govhall's own writes up to this horizon (from
    :meth:`current_echo_horizon` when the pass began) are read, later ones are
    the pass's own echo. None: every own write is read."""
    memory: Any = None
    """What the adapter keeps across runs in the state store (a
    :class:`~govhall_sdk.state.AdapterMemory`: ``get``, ``set``, ``delete``,
    ``items``; each change committed at once), set by the sync before it pulls;
    None outside ``govhall run``. For state of the helpdesk's own that outlives
    a run, such as the id of an asynchronous job still queued there."""
    settings_schema: ClassVar[Mapping[str, Any]] = {}
    settings_types: ClassVar[Mapping[str, Any]] = {}
    secret_settings: ClassVar[tuple[str, ...]] = ()

    def __init__(self, settings: Mapping[str, Any], config: Config):
        self.config = config
        self.settings = self.validate_settings(settings)

    @classmethod
    def validate_settings(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Check ``[adapter]`` keys against ``settings_schema``; raise ConfigError with the key path.

        A secret setting may be given as ``<name>_env``, the name of an environment
        variable that holds it, so that tokens stay out of the config file.
        """
        raw = dict(raw)
        for key in cls.secret_settings:
            env_key = f"{key}_env"
            if env_key in raw:
                raw[key] = env_secret(check_value(raw.pop(env_key), str, f"adapter.{env_key}"), f"adapter.{env_key}")
            elif key in raw:
                raw[key] = secret_value(raw[key], f"adapter.{key}")
        known = {"type", "timezone", *cls.settings_schema}
        for key in raw:
            if key not in known:
                raise ConfigError(f"adapter.{key}: unknown key for adapter {cls.name!r} (known: {', '.join(sorted(known))})")
        out: dict[str, Any] = {}
        for key, default in cls.settings_schema.items():
            if key not in raw:
                if default is None:
                    raise ConfigError(f"adapter.{key}: required for adapter {cls.name!r}")
                out[key] = default
                continue
            expected = cls.settings_types.get(key) or (type(default) if default is not None else str)
            out[key] = check_value(raw[key], expected, f"adapter.{key}")
        return out

    def __repr__(self) -> str:
        shown = {k: ("***" if k in self.secret_settings else v) for k, v in self.settings.items()}
        text = f"{type(self).__name__}({shown})"
        for key in self.secret_settings:  # a secret may also sit inside another setting (a URL's query)
            if self.settings.get(key):
                text = text.replace(str(self.settings[key]), "***")
        return text

    def pull(self, cursor: str | None, page_size: int = 100) -> Iterator[Page]:
        """Pages of tickets changed after ``cursor`` (None: from the beginning), oldest first."""
        raise NotImplementedError

    def page_size(self) -> int:
        """The tickets of one page of :meth:`pull` when ``govhall run`` sets none: 100 by default; a REST adapter
        pulls at its ``per_page`` setting, the platform's largest page unless the config says otherwise."""
        return 100

    def fetch(self, ids: Sequence[str]) -> Iterator[Parsed]:
        """The current state of the tickets with these ids: for an id the helpdesk no longer has (deleted,
        merged), :func:`gone`; for one it cannot read, that ticket's error."""
        raise NotImplementedError

    def apply_one(self, ticket: Ticket, patch: Patch) -> None:
        """Write one patch; raise an exception to report a failure."""
        raise NotImplementedError

    def apply(self, writes: Sequence[tuple[Ticket, Patch]]) -> list[WriteOutcome]:
        """Write patches; the default writes them one by one. Override to batch."""
        outcomes = []
        for ticket, patch in writes:
            try:
                self.apply_one(ticket, patch)
            except Exception as exc:  # reported per ticket, never dropped
                outcomes.append(WriteOutcome(ticket.id, False, f"{type(exc).__name__}: {exc}",
                                             conflict=self.is_conflict(exc)))
            else:
                outcomes.append(WriteOutcome(ticket.id, True))
        return outcomes

    def is_conflict(self, exc: Exception) -> bool:
        """Whether :meth:`apply_one`'s exception is the helpdesk refusing a write because the ticket changed
        since it was read (:attr:`WriteOutcome.conflict`); never, by default."""
        return False

    def current_echo_horizon(self) -> str | None:
        """An opaque mark of "now" in the helpdesk's change history, for :attr:`echo_horizon`; None by default."""
        return None

    def close(self) -> None:
        """Release connections and files."""
