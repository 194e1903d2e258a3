"""A pytest plugin for govhall plugin and adapter authors (entry point ``pytest11``: installed, it is on).

Plugin managers:

- ``govhall_pm``: a fresh plugin manager with every installed ``govhall`` entry
  point, or only those a ``@pytest.mark.plugins("time_limit", "calendars")``
  marker names (entry-point names, or plugin objects to register);
- ``govhall_pm_with``: the same as a factory, ``govhall_pm_with("time_limit", "calendars", my_plugin)``;
- ``govhall_register``: register a plugin object on ``govhall_pm`` for one test.

Building things:

- ``make_ticket``: a validated :class:`~govhall_sdk.model.Ticket` from interchange
  keyword arguments with defaults (``make_ticket(kind="complaint", events=[...])``);
- ``govhall_config``: a :class:`~govhall_sdk.config.Config` from a dict, with
  ``govhall_pm``'s policy defaults and the state store in the test's ``tmp_path``
  (``govhall_config({"lang": "en", "policy": {"time_limit": {...}}})``);
- ``make_engine``: an :class:`~govhall_sdk.engine.Engine` on ``govhall_pm`` from a
  config dict (``make_engine({"lang": "en"})``).

The command line:

- ``govhall_cli``: run ``govhall`` in this process, ``govhall_cli("rules", "--format",
  "json")``, with stdin optional (``stdin="..."``); returns a :class:`CliResult` with
  ``exit_code``, ``stdout`` and ``stderr``. It calls :func:`govhall_sdk.cli.main`, so it
  sees the installed plugins (the process-wide manager), not ``govhall_pm``.

A fake helpdesk:

- ``govhall_http``: the test's ``responses.RequestsMock`` (nothing leaves the process);
- ``fake_helpdesk``: ``desk = fake_helpdesk("https://desk.example", auth="Bearer t")``
  gives a :class:`FakeHelpdesk` on ``govhall_http``. ``desk.route("GET", r"/tickets/(\\d+)",
  handler)`` (or ``json=...``) serves a path; every request is recorded in
  ``desk.received``; ``desk.fail(...)`` and ``desk.throttle(...)`` inject errors and
  429s. **A route that was never called fails the test** (declare the routes a
  stateful fake merely offers with ``expected=False``). The per-platform fakes of
  this repository's tests (``tests/fakes_*.py``) are built on it.

Adapters:

- :class:`AdapterConformance`: the conformance suite (paging to the end, cursor
  advance, patch round trip, idempotent rerun); subclass it and give it a
  ``helpdesk_driver`` fixture returning a :class:`HelpdeskDriver`;
- :class:`IdMappedAdapter`: an adapter seen through the seeded ids, for helpdesks
  that number tickets themselves;
- :func:`conformance_tickets`, :func:`build_sync`.
"""
from __future__ import annotations

import contextlib
import io
import itertools
import json
import re
import sys
from importlib.metadata import entry_points
from typing import Any, Callable, Iterator, NamedTuple, Sequence
from urllib.parse import parse_qs, urlsplit

import attrs
import pytest

from .adapter import Page, WriteOutcome
from .config import Config, build_config
from .engine import Engine
from .host import GROUP, GovhallPluginManager, new_plugin_manager
from .model import Ticket
from .parse import Parsed, ticket_from_dict

_ids = itertools.count(1)


# ---------------------------------------------------------------------------- plugin managers

def pm_with(*plugins: Any) -> GovhallPluginManager:
    """A fresh plugin manager with only these plugins: ``govhall`` entry-point names, or plugin objects."""
    pm = new_plugin_manager(load_entry_points=False)
    installed = {ep.name: ep for ep in entry_points(group=GROUP)}
    for plugin in plugins:
        if isinstance(plugin, str):
            if plugin not in installed:
                raise ValueError(f"no govhall plugin {plugin!r} is installed (installed: {', '.join(sorted(installed))})")
            pm.register(installed[plugin].load(), name=plugin)
        else:
            pm.register(plugin)
    return pm


@pytest.fixture
def govhall_pm(request: pytest.FixtureRequest) -> GovhallPluginManager:
    """A fresh plugin manager: every installed ``govhall`` entry point, or those ``@pytest.mark.plugins`` names."""
    marker = request.node.get_closest_marker("plugins")
    return pm_with(*marker.args) if marker is not None else new_plugin_manager()


@pytest.fixture
def govhall_pm_with() -> Callable[..., GovhallPluginManager]:
    """A factory of isolated plugin managers: ``govhall_pm_with("time_limit", "calendars")``."""
    return pm_with


@pytest.fixture
def govhall_register(govhall_pm: GovhallPluginManager) -> Callable[..., str | None]:
    """Register a plugin (module or object) on ``govhall_pm`` for this test only."""
    return govhall_pm.register


# ---------------------------------------------------------------------------- tickets, configs, engines

def build_ticket(**fields: Any) -> Ticket:
    """A ticket from interchange fields; ``id``, ``kind`` and ``created_at`` get defaults."""
    raw = {"id": f"T-{next(_ids)}", "kind": "consultation", "created_at": "2025-01-06T09:00:00+08:00"}
    raw.update(fields)
    return ticket_from_dict(raw)


def config_from_dict(pm: GovhallPluginManager, raw: dict[str, Any] | None = None, base: Any = None) -> Config:
    """A config from a raw TOML-like mapping, with the policy defaults ``pm``'s plugins declare."""
    defaults = {section: d for section, (_, d) in pm.policies.items()}
    return build_config(raw or {}, defaults, base) if base is not None else build_config(raw or {}, defaults)


def build_engine(pm: GovhallPluginManager, raw_config: dict[str, Any] | None = None) -> Engine:
    """An engine on ``pm`` with a config built from a raw TOML-like mapping."""
    return Engine(config_from_dict(pm, raw_config), pm)


def build_sync(config: Config, adapter: Any, pm: GovhallPluginManager | None = None, page_size: int = 100) -> Any:
    """A :class:`~govhall_sdk.sync.Sync` of ``adapter`` with the state store ``config`` names."""
    from .state import StateStore
    from .sync import Sync

    return Sync(Engine(config, pm) if pm is not None else Engine(config), adapter, StateStore(config.state_path),
                page_size=page_size)


@pytest.fixture
def make_ticket() -> Callable[..., Ticket]:
    """Build a validated ticket from interchange keyword arguments."""
    return build_ticket


@pytest.fixture
def govhall_config(govhall_pm: GovhallPluginManager, tmp_path: Any) -> Callable[..., Config]:
    """Build a config from a dict: ``govhall_config({"lang": "en"})``; the state store is in ``tmp_path``."""
    def make(raw: dict[str, Any] | None = None) -> Config:
        raw = dict(raw or {})
        raw.setdefault("state", {"path": str(tmp_path / "state.sqlite")})
        return config_from_dict(govhall_pm, raw, tmp_path)
    return make


@pytest.fixture
def make_engine(govhall_pm: GovhallPluginManager) -> Callable[..., Engine]:
    """Build an engine on ``govhall_pm``: ``make_engine({"lang": "en"})``."""
    return lambda raw_config=None: build_engine(govhall_pm, raw_config)


# ---------------------------------------------------------------------------- the command line

@attrs.frozen
class CliResult:
    """What one ``govhall`` command did: its exit status and what it printed."""

    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """``stdout`` as JSON (for ``--json`` and ``--format json``)."""
        return json.loads(self.stdout)


def run_cli(*args: str, stdin: str | None = None) -> CliResult:
    """Run ``govhall ARGS`` in this process with captured streams (an argparse exit is its status)."""
    from .cli import main

    out, err = io.StringIO(), io.StringIO()
    source = io.TextIOWrapper(io.BytesIO((stdin or "").encode("utf-8")), encoding="utf-8")
    saved = sys.stdin
    sys.stdin = source
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse: --help, bad usage
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    finally:
        sys.stdin = saved
    return CliResult(int(code or 0), out.getvalue(), err.getvalue())


@pytest.fixture
def govhall_cli() -> Callable[..., CliResult]:
    """Run ``govhall`` in process: ``result = govhall_cli("rules", "--format", "json")``."""
    return run_cli


# ---------------------------------------------------------------------------- a fake helpdesk on responses

class Call(NamedTuple):
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    headers: Any

    @property
    def params(self) -> dict[str, str]:
        """The query with the last value of each parameter."""
        return {k: v[-1] for k, v in self.query.items()}


@attrs.define
class Route:
    """A method and path (a regular expression, its groups passed to the handler) the fake serves."""

    method: str
    pattern: re.Pattern[str]
    handler: Callable[..., Any]
    expected: bool
    calls: int = 0

    def __str__(self) -> str:
        return f"{self.method} {self.pattern.pattern}"


class FakeHelpdesk:
    """A helpdesk on ``responses``: routes, a log of what it received, injected failures and 429s.

    :param base_url: the root every route is under.
    :param mock: a ``responses.RequestsMock`` (the ``fake_helpdesk`` fixture brings one), or None
        and :meth:`install` later.
    :param auth: the ``Authorization`` header every request must carry (None: not checked);
        override :meth:`expected_auth` when it can change during a test.

    A handler takes the :class:`Call` and the path's groups and returns ``(status,
    payload)`` or ``(status, payload, headers)``; a payload that is not a str is sent
    as JSON. Before a handler runs: an injected failure, then a throttle, then the
    auth check (``unauthorized`` is the 401's body). :meth:`served_headers` adds
    headers to every answer (rate limits).
    """

    #: The body of a 401, and of an injected 429 by default.
    unauthorized: Any = {"error": "unauthorized"}
    throttled: Any = None

    def __init__(self, base_url: str, mock: Any = None, *, auth: str | None = None):
        self.base_url = base_url.rstrip("/")
        self.mock = None
        self.auth = auth
        self.received: list[Call] = []
        self.routes: list[Route] = []
        self.failures: list[dict[str, Any]] = []
        self.throttles: list[dict[str, Any]] = []
        self._installed: set[str] = set()
        if mock is not None:
            self.install(mock)

    def install(self, mock: Any) -> None:
        """Answer on ``mock`` (a ``responses.RequestsMock``) the routes declared so far and later."""
        self.mock = mock
        for method in sorted({r.method for r in self.routes}):
            self._listen(method)

    def _listen(self, method: str) -> None:
        if self.mock is not None and method not in self._installed:
            self._installed.add(method)
            self.mock.add_callback(method, re.compile(re.escape(self.base_url) + r"(/[^?#]*)?(\?.*)?$"),
                                   callback=self._answer)

    # -- declaring
    def route(self, method: str, path: str, handler: Callable[..., Any] | None = None, *, json: Any = None,
              status: int = 200, headers: dict[str, str] | None = None, expected: bool = True) -> Route:
        """Serve ``method path`` (a regular expression of the URL path, matched whole); the first route wins."""
        if handler is None:
            def handler(call: Call, *groups: str) -> Any:
                return status, json, dict(headers or {})
        route = Route(method.upper(), re.compile(path), handler, expected)
        self.routes.append(route)
        self._listen(route.method)
        return route

    def fail(self, method: str, path: str, status: int, body: Any = None, *, times: int = 1,
             headers: dict[str, str] | None = None) -> None:
        """The next ``times`` requests whose path matches ``path`` (searched) get ``status`` and ``body``
        (a str, JSON data, or a function of the ``requests`` request returning the text)."""
        self.failures.append({"method": method.upper(), "path": re.compile(path), "times": times, "status": status,
                              "body": body, "headers": dict(headers or {})})

    def throttle(self, method: str, path: str, times: int, retry_after: int, body: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        """The next ``times`` matching requests get 429 with ``Retry-After``."""
        self.throttles.append({"method": method.upper(), "path": re.compile(path), "times": times,
                               "headers": {"Retry-After": str(retry_after), **(headers or {})},
                               "body": self.throttled if body is None else body})

    # -- reading what happened
    @property
    def calls(self) -> list[tuple[str, str, Any]]:
        """``(method, path, JSON body)`` of every request received."""
        return [(c.method, c.path, c.body) for c in self.received]

    def requests(self, method: str, path: str) -> int:
        """How many requests of ``method`` had a path matching ``path`` (searched; 429s and failures included)."""
        return sum(1 for c in self.received if c.method == method.upper() and re.search(path, c.path))

    def sent(self, method: str, path: str) -> list[Call]:
        """The requests of ``method`` whose path is ``path`` (a regular expression matched whole)."""
        return [c for c in self.received if c.method == method.upper() and re.fullmatch(path, c.path)]

    def never_called(self) -> list[Route]:
        """The expected routes no request reached."""
        return [r for r in self.routes if r.expected and not r.calls]

    # -- what a subclass may change
    def expected_auth(self) -> str | None:
        """The ``Authorization`` header a request must carry (None: any)."""
        return self.auth

    def served_headers(self, call: Call, served: bool) -> dict[str, str]:
        """Headers of every answer; ``served`` is False for an injected failure, a 429 or a 401."""
        return {}

    # -- answering
    def _answer(self, request: Any) -> tuple[int, dict[str, str], str]:
        url = urlsplit(request.url)
        try:
            body = json.loads(request.body) if request.body else None
        except ValueError:
            body = request.body
        call = Call(request.method.upper(), url.path, parse_qs(url.query, keep_blank_values=True), body, request.headers)
        self.received.append(call)
        for kind in (self.failures, self.throttles):
            for rule in kind:
                if rule["times"] and rule["method"] == call.method and rule["path"].search(call.path):
                    rule["times"] -= 1
                    text = rule["body"](request) if callable(rule["body"]) else rule["body"]
                    status = rule.get("status", 429)
                    return status, {**self.served_headers(call, False), **rule["headers"]}, _text(text)
        expected = self.expected_auth()
        if expected is not None and request.headers.get("Authorization") != expected:
            return 401, self.served_headers(call, False), _text(self.unauthorized)
        for route in self.routes:
            found = route.method == call.method and route.pattern.fullmatch(call.path)
            if found:
                route.calls += 1
                served = self.served_headers(call, True)
                status, payload, *more = route.handler(call, *found.groups())
                headers = {"Content-Type": "application/json", **served, **(more[0] if more else {})}
                return status, headers, _text(payload)
        return 404, {"Content-Type": "application/json"}, _text({"error": f"no route for {call.method} {call.path}"})


def _text(payload: Any) -> str:
    if payload is None:
        return ""
    return payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)


@pytest.fixture
def govhall_http() -> Iterator[Any]:
    """The test's ``responses.RequestsMock``: no request leaves the process; ``fake_helpdesk`` answers on it."""
    import responses

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def fake_helpdesk(govhall_http: Any) -> Callable[..., FakeHelpdesk]:
    """``desk = fake_helpdesk(base_url, auth=...)``: a :class:`FakeHelpdesk` on ``govhall_http`` for this test.

    When the test has passed, an expected route that no request reached fails it.
    """
    def make(base_url: str, *, cls: type[FakeHelpdesk] = FakeHelpdesk, **kw: Any) -> FakeHelpdesk:
        desk = cls(base_url, govhall_http, **kw)
        make.made.append(desk)  # type: ignore[attr-defined]
        return desk
    make.made = []  # type: ignore[attr-defined]
    return make


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("markers", "plugins(*names): govhall_pm loads only these govhall plugins "
                                       "(entry-point names or plugin objects)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: Any) -> Any:
    outcome = yield  # raises when the test failed on its own: its routes are then not blamed too
    factory = getattr(item, "funcargs", {}).get("fake_helpdesk")
    unused = [f"{desk.base_url}: {route}" for desk in getattr(factory, "made", ()) for route in desk.never_called()]
    if unused:
        pytest.fail("mocked routes never called: " + "; ".join(unused), pytrace=False)
    return outcome


# ---------------------------------------------------------------------------- adapters

class HelpdeskDriver:
    """What the adapter conformance suite needs to drive a helpdesk (real or fake).

    Implement it for your adapter and return it from a ``helpdesk_driver`` fixture.
    """

    def make_adapter(self, config: Any) -> Any:
        """A fresh adapter instance talking to the helpdesk."""
        raise NotImplementedError

    def seed(self, tickets: list[dict[str, Any]]) -> None:
        """Create these interchange tickets on the helpdesk, as a person would."""
        raise NotImplementedError

    def touch(self, ticket_id: str) -> None:
        """Make a change to one ticket as a person (e.g. a public reply)."""
        raise NotImplementedError

    def read(self, ticket_id: str) -> dict[str, Any]:
        """``{"tags": set, "fields": dict, "notes": [body, ...]}`` as the helpdesk shows them now."""
        raise NotImplementedError

    def ticket_id(self, seeded_id: str) -> str:
        """The helpdesk's own id of a seeded ticket (Zendesk numbers, Jira keys); by default the same."""
        return seeded_id


class IdMappedAdapter:
    """An adapter seen through the seeded ids: the helpdesk's ids out, the seeded ids in.

    The conformance suite compares the ids an adapter reports with the ids of the
    interchange tickets it seeded; a real helpdesk assigns its own ids (Zendesk
    numbers, Jira keys). This wrapper translates both ways and leaves everything
    else (HTTP, paging, mapping, writing) to the wrapped adapter; what the sync
    loop sets on an adapter is set on the wrapped one.
    """

    FORWARDED = frozenset({"now", "skip_echoes", "echo_horizon", "memory"})

    def __init__(self, inner: Any, ids: dict[str, str]):
        object.__setattr__(self, "inner", inner)
        object.__setattr__(self, "ids", ids)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self.FORWARDED:
            setattr(self.inner, name, value)
        else:
            object.__setattr__(self, name, value)

    def _out(self, item: Parsed) -> Parsed:
        back = {v: k for k, v in self.ids.items()}
        if item.ticket is not None:
            return attrs.evolve(item, ticket=attrs.evolve(item.ticket, id=back.get(item.ticket.id, item.ticket.id)))
        item.error.ticket_id = back.get(item.error.ticket_id, item.error.ticket_id)
        return item

    def pull(self, cursor: Any, page_size: int = 100) -> Iterator[Page]:
        for page in self.inner.pull(cursor, page_size):
            yield Page([self._out(i) for i in page.items], page.cursor, page.skipped)

    def fetch(self, ids: Sequence[str]) -> list[Parsed]:
        return [self._out(i) for i in self.inner.fetch([self.ids.get(i, i) for i in ids])]

    def apply(self, writes: Sequence[tuple[Ticket, Any]]) -> list[WriteOutcome]:
        back = {v: k for k, v in self.ids.items()}
        inner = [(attrs.evolve(t, id=self.ids.get(t.id, t.id)), p) for t, p in writes]
        return [attrs.evolve(o, ticket_id=back.get(o.ticket_id, o.ticket_id)) for o in self.inner.apply(inner)]

    def close(self) -> None:
        self.inner.close()


def conformance_tickets(count: int) -> list[dict[str, Any]]:
    """``count`` overdue complaints (each yields tags, fields and a note) with distinct ids."""
    return [
        {"id": f"C-{i:04d}", "kind": "complaint", "channel": "phone", "subject": f"投诉 {i}",
         "status": "open", "created_at": "2025-01-06T09:00:00+08:00", "department": "综合窗口",
         "events": [{"type": "reply", "at": "2025-01-06T09:30:00+08:00", "public": True, "body": "已登记",
                     "actor": {"id": "s1", "name": "王", "rank": 1, "role": "staff"}}]}
        for i in range(count)
    ]


class AdapterConformance:
    """The adapter conformance suite: subclass it in a test module and provide a
    ``helpdesk_driver`` fixture returning a :class:`HelpdeskDriver`.

    It checks paging to the end, cursor advance, a patch round trip and an
    idempotent rerun through :class:`govhall_sdk.sync.Sync`.
    """

    ticket_count = 25
    page_size = 10
    now = "2025-03-03T09:00:00+08:00"

    @pytest.fixture
    def conformance_config(self, govhall_config):
        return govhall_config()

    def _sync(self, driver: HelpdeskDriver, config: Any, pm: Any) -> Any:
        return build_sync(config, driver.make_adapter(config), pm, self.page_size)

    def _now(self):
        from datetime import datetime

        return datetime.fromisoformat(self.now)

    def test_pages_to_the_end(self, helpdesk_driver, conformance_config):
        helpdesk_driver.seed(conformance_tickets(self.ticket_count))
        adapter = helpdesk_driver.make_adapter(conformance_config)
        ids = [item.id for page in adapter.pull(None, self.page_size) for item in page.items]
        assert sorted(ids) == sorted(helpdesk_driver.ticket_id(t["id"]) for t in conformance_tickets(self.ticket_count))
        assert len(ids) == len(set(ids)), "a ticket came twice"

    def test_cursor_advances(self, helpdesk_driver, conformance_config):
        helpdesk_driver.seed(conformance_tickets(self.ticket_count))
        adapter = helpdesk_driver.make_adapter(conformance_config)
        pages = list(adapter.pull(None, self.page_size))
        assert pages and all(p.cursor is not None for p in pages)
        last = pages[-1].cursor
        assert [i.id for p in adapter.pull(last, self.page_size) for i in p.items] == []
        helpdesk_driver.touch("C-0003")
        assert [i.id for p in adapter.pull(last, self.page_size) for i in p.items] == [helpdesk_driver.ticket_id("C-0003")]

    def test_patch_round_trip(self, helpdesk_driver, conformance_config):
        from .model import Note, Patch

        helpdesk_driver.seed(conformance_tickets(1))
        adapter = helpdesk_driver.make_adapter(conformance_config)
        (item,) = [i for p in adapter.pull(None, self.page_size) for i in p.items]
        patch = Patch(["govhall_sla_red", "govhall_tl_overdue"], [], {"govhall_light": "red", "govhall_escalation_level": 1},
                      [Note("tl.overdue", "[govhall:tl.overdue:completion]", "超时 [govhall:tl.overdue:completion]")])
        assert all(o.ok for o in adapter.apply([(item.ticket, patch)]))
        seen = helpdesk_driver.read("C-0000")
        assert {"govhall_sla_red", "govhall_tl_overdue"} <= set(seen["tags"])
        assert seen["fields"]["govhall_light"] == "red" and str(seen["fields"]["govhall_escalation_level"]) == "1"
        assert [n for n in seen["notes"] if "[govhall:tl.overdue:completion]" in n]
        (again,) = list(adapter.fetch([helpdesk_driver.ticket_id("C-0000")]))
        assert "govhall_tl_overdue" in again.ticket.tags

    def test_idempotent_rerun(self, helpdesk_driver, conformance_config, govhall_pm):
        helpdesk_driver.seed(conformance_tickets(self.ticket_count))
        first = self._sync(helpdesk_driver, conformance_config, govhall_pm).run(self._now())
        assert first.ok and first.written == self.ticket_count
        notes_before = {t: helpdesk_driver.read(t)["notes"] for t in ("C-0000", "C-0001")}
        second = self._sync(helpdesk_driver, conformance_config, govhall_pm).run(self._now())
        assert second.ok and second.written == 0 and second.notes == 0
        assert {t: helpdesk_driver.read(t)["notes"] for t in notes_before} == notes_before
