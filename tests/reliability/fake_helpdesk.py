"""A fake Freshdesk API v2 on a real HTTP server (127.0.0.1, port 0, a thread), with fault injection.

It speaks the subset the ``freshdesk`` adapter uses, with the documented shapes:

- ``GET /api/v2/tickets?updated_since=&order_by=&order_type=&page=&per_page=&include=``
  (``updated_since`` inclusive, ``per_page`` at most 100, ``page`` at most 300);
- ``GET /api/v2/tickets/{id}`` (``include=requester,stats``);
- ``GET /api/v2/tickets/{id}/conversations?per_page=&page=`` (``Link: <...>; rel="next"``);
- ``POST /api/v2/tickets/{id}/notes`` and ``PUT /api/v2/tickets/{id}`` (tags, custom_fields);

with basic auth (API key as the user, ``X`` as the password), integer ids,
second-resolution ``...Z`` timestamps from a clock that ticks on every change,
and ``X-RateLimit-*`` headers (always plenty left, so the adapter never paces).
State is in memory; :meth:`FakeHelpdesk.snapshot` gives what govhall wrote.

Faults (:class:`Fault`) are chosen per endpoint (``list``, ``view``,
``conversations``, ``note``, ``update``), per ticket and per request count, or at
random from a seed (:class:`RandomFaults`). A write fault may strike before the
write is applied (the helpdesk never saw it) or after (it landed, the answer was
lost) — the case that makes duplicates. :class:`KillSwitch` SIGKILLs a process
when the k-th matching request arrives, before or after applying it.
"""
from __future__ import annotations

import base64
import html
import json
import os
import random
import re
import signal
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlencode, urlsplit

WRITES = frozenset({"note", "update"})
READS = frozenset({"list", "view", "conversations"})
#: Every fault kind and the endpoints it makes sense on.
KINDS: dict[str, frozenset[str]] = {
    "429": READS | WRITES,          # refused before processing, Retry-After
    "500": READS | WRITES,
    "502": READS | WRITES,
    "503": READS | WRITES,
    "timeout": READS | WRITES,      # no answer before the adapter's timeout
    "reset": READS | WRITES,        # the socket is closed with a TCP RST, no answer
    "truncated": READS | WRITES,    # 200, Content-Length of the whole body, half of it sent, then closed
    "malformed": READS | {"update"},  # 200 with a body that is not JSON (the length matches it)
    "409": frozenset({"update"}),   # conflict on PUT
    "redirect": READS | WRITES,     # a 3xx; payload {"status": 301, "location": URL} (None: the same URL)
}
#: Kinds that can strike after a write was applied (the answer is lost, the write is not).
AFTER_KINDS = frozenset({"500", "502", "503", "timeout", "reset", "truncated", "malformed"})
MARKER = re.compile(r"\[govhall:[^\]]+\]")
CUSTOM_FIELDS = ("cf_govhall_light", "cf_govhall_due_at", "cf_govhall_first_inquiry", "cf_govhall_first_handler",
                 "cf_govhall_escalation_level", "cf_govhall_escalated_to", "cf_id_number", "cf_co_departments",
                 "cf_lead_department", "cf_promised_days", "cf_materials")
_TAG = re.compile(r"<[^>]+>")
_BR = re.compile(r"<\s*(br|/p|/div)\s*/?>", re.I)


def fmt(instant: datetime) -> str:
    return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def text_of(body: str) -> str:
    """Freshdesk's ``body_text`` of an HTML body."""
    return html.unescape(_TAG.sub("", _BR.sub("\n", body))).strip()


@dataclass
class Fault:
    """Answer matching requests with ``kind``: let ``skip`` through, then strike ``times`` of them.

    ``endpoint`` and ``ticket`` (a ticket id as text) narrow what matches; None matches any.
    ``after``: apply a write first, then fail its answer. ``payload``: the error body to answer with.
    """

    kind: str
    endpoint: str | None = None
    ticket: str | None = None
    skip: int = 0
    times: int = 1
    after: bool = False
    payload: Any = None
    seen: int = 0

    def strikes(self, endpoint: str, ticket: str | None) -> bool:
        if self.endpoint not in (None, endpoint) or self.ticket not in (None, ticket):
            return False
        if endpoint not in KINDS[self.kind]:
            return False
        self.seen += 1
        return self.skip < self.seen <= self.skip + self.times


class RandomFaults:
    """A seeded random mix: each request fails with probability ``rate``, with a kind drawn from ``kinds``."""

    def __init__(self, seed: int, rate: float = 0.15, kinds: dict[str, frozenset[str]] | None = None):
        self.rng = random.Random(seed)
        self.rate = rate
        self.kinds = dict(KINDS if kinds is None else kinds)  # kind -> the endpoints it may strike

    def draw(self, endpoint: str) -> tuple[str, bool] | None:
        roll, pick, after = self.rng.random(), self.rng.random(), self.rng.random() < 0.5
        if roll >= self.rate:
            return None
        fitting = [k for k, where in self.kinds.items() if endpoint in where and endpoint in KINDS[k]]
        if not fitting:
            return None
        kind = fitting[int(pick * len(fitting))]
        return kind, after and endpoint in WRITES and kind in AFTER_KINDS


@dataclass
class KillSwitch:
    """SIGKILL ``pid()`` when the ``k``-th request to one of ``endpoints`` arrives (before or after applying it)."""

    pid: Callable[[], int | None]
    k: int
    endpoints: frozenset[str] = WRITES
    after: bool = False
    seen: int = 0
    fired: bool = False

    def due(self, endpoint: str) -> bool:
        if self.fired or endpoint not in self.endpoints:
            return False
        self.seen += 1
        return self.seen == self.k


class FakeHelpdesk:
    """The helpdesk's state, its clock, the request log, faults and the HTTP server."""

    def __init__(self, api_key: str, *, slow: float = 0.6, retry_after: str = "0",
                 start: str = "2025-03-10T00:00:00+00:00", echo_secret_in_errors: bool = False):
        self.api_key = api_key
        self.tickets: dict[str, dict[str, Any]] = {}
        self.conversations: dict[str, list[dict[str, Any]]] = {}
        self.clock = datetime.fromisoformat(start)
        self.next_conversation = 1
        self.slow, self.retry_after = slow, retry_after
        self.echo_secret_in_errors = echo_secret_in_errors
        self.faults: list[Fault] = []
        self.random: RandomFaults | None = None
        self.kill: KillSwitch | None = None
        self.lock = threading.RLock()
        self.log: list[tuple[str, str, str | None]] = []   # (method, endpoint, ticket)
        self.injected: list[tuple[str, str, str | None, bool]] = []   # (kind, endpoint, ticket, after)
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None
        self.scheme = "http"
        #: Where the ``Link`` headers of pages point (None: this server); another host tests link refusal.
        self.link_base: str | None = None

    # ------------------------------------------------------------ state
    def tick(self) -> str:
        self.clock += timedelta(seconds=1)
        return fmt(self.clock)

    def add_ticket(self, ticket: dict[str, Any], conversations: list[dict[str, Any]] = (), *, tick: bool = True) -> str:
        """Store a ticket shaped like the API's; ``tick=False`` gives it the previous one's ``updated_at`` (a tie)."""
        tid = str(ticket["id"])
        at = self.tick() if tick else fmt(self.clock)
        full = {"id": ticket["id"], "subject": "", "type": None, "source": 2, "status": 2, "priority": 1,
                "group_id": None, "requester_id": 5001, "responder_id": None, "due_by": None, "fr_due_by": None,
                "is_escalated": False, "spam": False, "tags": [], "cc_emails": [], "fwd_emails": [],
                "reply_cc_emails": [], "to_emails": None, "product_id": None, "company_id": None,
                "email_config_id": None, "fr_escalated": False, "attachments": [],
                "created_at": at, "updated_at": at}
        full.update(ticket)
        custom = ticket.get("custom_fields")
        if custom is None or isinstance(custom, dict):  # any other shape is stored as it is (bad-input tests)
            full["custom_fields"] = {**{k: None for k in CUSTOM_FIELDS}, **(custom or {})}
        full["updated_at"] = at
        self.tickets[tid] = full
        self.conversations[tid] = []
        for conv in conversations:
            self._conversation(tid, conv)
        return tid

    def _conversation(self, tid: str, conv: dict[str, Any]) -> dict[str, Any]:
        body = conv.get("body", "")
        full = {"body": body, "body_text": text_of(body) if isinstance(body, str) else None, "id": self.next_conversation, "incoming": False,
                "private": False, "user_id": 1001, "support_email": None, "source": 0, "ticket_id": int(tid)
                if tid.isdigit() else tid, "to_emails": [], "from_email": None, "cc_emails": [], "bcc_emails": [],
                "created_at": conv.get("created_at") or fmt(self.clock), "attachments": []}
        full.update({k: v for k, v in conv.items() if k != "body"})
        full["updated_at"] = full["created_at"]
        self.next_conversation += 1
        self.conversations[tid].append(full)
        return full

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """Per ticket: sorted tags, the custom fields, the sorted bodies of private notes."""
        with self.lock:
            return {tid: {"tags": sorted(t["tags"]), "fields": dict(t["custom_fields"]),
                          "notes": sorted(str(c["body_text"]) for c in self.conversations[tid] if c["private"] is True)}
                    for tid, t in sorted(self.tickets.items())}

    def duplicates(self) -> dict[str, list[str]]:
        """Markers that appear in more than one note of a ticket (must be empty)."""
        out = {}
        with self.lock:
            for tid, convs in self.conversations.items():
                counts = Counter(m for c in convs for m in set(MARKER.findall(str(c["body_text"]))))
                twice = sorted(m for m, n in counts.items() if n > 1)
                if twice:
                    out[tid] = twice
        return out

    def writes(self) -> int:
        """Write requests received so far."""
        return sum(1 for _, endpoint, _ in self.log if endpoint in WRITES)

    # ------------------------------------------------------------ server
    def start(self, tls: tuple[str, str] | None = None, host: str = "127.0.0.1") -> "FakeHelpdesk":
        """Serve on ``host`` (a free port); ``tls`` = (certificate file, key file) serves HTTPS."""
        fake = self

        class Handler(_Handler):
            helpdesk = fake

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.scheme = "http"
        if tls is not None:
            import ssl

            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{self.scheme}://{host}:{port}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self) -> "FakeHelpdesk":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ------------------------------------------------------------ routing
    def route(self, method: str, path: str) -> tuple[str | None, str | None]:
        """(endpoint, ticket id) of a request, or (None, None)."""
        if method == "GET" and path == "/api/v2/tickets":
            return "list", None
        m = re.fullmatch(r"/api/v2/tickets/([^/]+)(/conversations|/notes)?", path)
        if not m:
            return None, None
        tail = m.group(2)
        endpoint = {("GET", None): "view", ("GET", "/conversations"): "conversations", ("POST", "/notes"): "note",
                    ("PUT", None): "update"}.get((method, tail))
        return endpoint, m.group(1)

    def choose_fault(self, endpoint: str, ticket: str | None) -> tuple[str, bool, Any] | None:
        with self.lock:
            for fault in self.faults:
                if fault.strikes(endpoint, ticket):
                    return fault.kind, fault.after and endpoint in WRITES, fault.payload
            if self.random is not None:
                drawn = self.random.draw(endpoint)
                return None if drawn is None else (*drawn, None)
        return None

    def answer(self, method: str, endpoint: str | None, ticket: str | None, query: dict[str, list[str]],
               body: Any, headers: Any) -> tuple[int, dict[str, str], Any]:
        """The normal answer (and its effect on the state) of one request."""
        expected = "Basic " + base64.b64encode(f"{self.api_key}:X".encode()).decode()
        if headers.get("Authorization") != expected:
            message = {"code": "invalid_credentials", "message": "You have to be logged in to perform this action."}
            if self.echo_secret_in_errors:
                message["received"] = headers.get("Authorization")
                message["expected"] = expected
            return 401, {}, message
        with self.lock:
            if endpoint == "list":
                return self._list(query)
            if endpoint is None or ticket not in self.tickets:
                return 404, {}, None
            if endpoint == "view":
                return 200, {}, self._view(self.tickets[ticket], query)
            if endpoint == "conversations":
                return self._conversation_page(ticket, query)
            if endpoint == "note":
                if not isinstance(body, dict) or not isinstance(body.get("body"), str):
                    return 400, {}, {"description": "Validation failed", "errors": [{"field": "body"}]}
                note = self._conversation(ticket, {"body": body["body"], "private": bool(body.get("private", True)),
                                                   "user_id": 1999, "source": 2, "created_at": self.tick()})
                self.tickets[ticket]["updated_at"] = note["created_at"]
                return 201, {}, note
            if endpoint == "update":
                return self._update(ticket, body)
        return 405, {}, None

    def _list(self, query):
        per_page = int(query.get("per_page", ["30"])[0])
        page = int(query.get("page", ["1"])[0])
        if per_page > 100 or page > 300:
            return 400, {}, {"description": "Validation failed", "errors": [{"field": "page"}]}
        tickets = list(self.tickets.values())
        if "updated_since" in query:
            since = datetime.fromisoformat(query["updated_since"][0].replace("Z", "+00:00"))
            tickets = [t for t in tickets if datetime.fromisoformat(t["updated_at"].replace("Z", "+00:00")) >= since]
        key = query.get("order_by", ["created_at"])[0]
        tickets.sort(key=lambda t: (t[key], t["id"]), reverse=query.get("order_type", ["desc"])[0] == "desc")
        chunk = tickets[(page - 1) * per_page: page * per_page]
        headers = {}
        if len(chunk) == per_page:
            nxt = {k: v[0] for k, v in query.items()} | {"page": page + 1}
            headers["Link"] = f'<{self.link_base or self.url}/api/v2/tickets?{urlencode(nxt)}>; rel="next"'
        return 200, headers, [self._view(t, query) for t in chunk]

    def _view(self, ticket, query):
        out = {k: v for k, v in ticket.items() if k not in ("requester", "stats")}
        out["custom_fields"] = dict(ticket["custom_fields"]) if isinstance(ticket["custom_fields"], dict) \
            else ticket["custom_fields"]
        out["tags"] = list(ticket["tags"]) if isinstance(ticket["tags"], list) else ticket["tags"]
        include = set(",".join(query.get("include", [""])).split(","))
        if "requester" in include:
            out["requester"] = ticket.get("requester") or {"id": ticket["requester_id"], "name": "张三",
                                                          "email": "zhangsan@example.com", "mobile": None, "phone": None}
        if "stats" in include:
            out["stats"] = ticket.get("stats") or {"resolved_at": None, "closed_at": None, "first_responded_at": None}
        return out

    def _conversation_page(self, tid, query):
        per_page = min(int(query.get("per_page", ["30"])[0]), 100)
        page = int(query.get("page", ["1"])[0])
        items = self.conversations[tid]
        headers = {}
        if len(items) > page * per_page:
            headers["Link"] = f'<{self.link_base or self.url}/api/v2/tickets/{tid}/conversations?per_page={per_page}&page={page + 1}>; rel="next"'
        return 200, headers, items[(page - 1) * per_page: page * per_page]

    def _update(self, tid, body):
        ticket = self.tickets[tid]
        if not isinstance(body, dict):
            return 400, {}, {"description": "Validation failed"}
        for key in body:
            if key not in ticket or key in ("id", "created_at", "updated_at"):
                return 400, {}, {"description": "Validation failed", "errors": [{"field": key, "code": "invalid_field"}]}
        for key in body.get("custom_fields") or {}:
            if key not in CUSTOM_FIELDS:
                return 400, {}, {"description": "Validation failed", "errors": [{"field": key, "code": "invalid_field"}]}
        for key, value in body.items():
            if key == "custom_fields":
                if not isinstance(ticket["custom_fields"], dict):
                    ticket["custom_fields"] = {}
                ticket["custom_fields"].update(value)
            else:
                ticket[key] = value
        ticket["updated_at"] = self.tick()
        return 200, {}, self._view(ticket, {})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    helpdesk: FakeHelpdesk

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_DELETE = do_GET

    def _handle(self) -> None:
        hd = self.helpdesk
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        endpoint, ticket = hd.route(self.command, url.path)
        with hd.lock:
            hd.log.append((self.command, endpoint or "?", ticket))
        kill = hd.kill
        if kill is not None and endpoint is not None:
            with hd.lock:
                due = kill.due(endpoint)
                if due:
                    kill.fired = True
            if due:
                if kill.after:
                    hd.answer(self.command, endpoint, ticket, query, body, self.headers)
                pid = kill.pid()
                if pid:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                self._reset()
                return
        fault = hd.choose_fault(endpoint, ticket) if endpoint is not None else None
        if fault is None:
            self._send(*hd.answer(self.command, endpoint, ticket, query, body, self.headers))
            return
        kind, after, error_body = fault
        if kind in ("truncated", "malformed"):  # a garbled 200: the request was processed
            after = True
        with hd.lock:
            hd.injected.append((kind, endpoint, ticket, after and endpoint in WRITES))
        status, headers, payload = (hd.answer(self.command, endpoint, ticket, query, body, self.headers)
                                    if after else (200, {}, None))
        if kind == "redirect":
            spec = error_body or {}
            self._send(int(spec.get("status", 301)), {"Location": spec.get("location") or f"{hd.url}{self.path}"},
                       None)
        elif kind == "429":
            self._send(429, {"Retry-After": hd.retry_after},
                       error_body or {"code": "rate_limited", "message": "Too many requests"})
        elif kind in ("500", "502", "503"):
            message = error_body or {"code": "server_error", "message": f"upstream failed ({kind})"}
            if hd.echo_secret_in_errors:
                message = {"debug": {"api_key": hd.api_key, "authorization": self.headers.get("Authorization"),
                                     "url": f"{hd.url}{self.path}?api_key={hd.api_key}"}, **message}
            self._send(int(kind), {"Retry-After": hd.retry_after}, message)
        elif kind == "409":
            self._send(409, {}, error_body or {"code": "conflict", "message": "The ticket was updated by someone else"})
        elif kind == "timeout":
            time.sleep(hd.slow)
            self._reset()
        elif kind == "reset":
            self._reset()
        elif kind == "truncated":
            data = json.dumps(payload, ensure_ascii=False).encode()
            self._raw(status, headers, data, data[: max(1, len(data) // 2)])
        elif kind == "malformed":
            data = json.dumps(payload, ensure_ascii=False).encode()
            cut = data[: max(1, len(data) // 2)] if len(data) > 2 else b"<html>Bad Gateway</html>"
            self._raw(status, headers, cut, cut)

    # ------------------------------------------------------------ wire
    def _send(self, status: int, headers: dict[str, str], payload: Any) -> None:
        data = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        self._raw(status, headers, data, data)

    def _raw(self, status: int, headers: dict[str, str], declared: bytes, sent: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(declared)))
            self.send_header("X-RateLimit-Total", "5000")
            self.send_header("X-RateLimit-Remaining", "4999")
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(sent)
            self.wfile.flush()
        except OSError:
            self.close_connection = True
            return
        if len(sent) < len(declared):
            self._reset()

    def _reset(self) -> None:
        """Close the connection with a TCP RST, answering nothing (more)."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass


class _Loopback:
    """A threaded HTTP server on ``host`` (a free port) answering every method with :meth:`answer`."""

    def __init__(self, host: str):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                status, headers, body = owner.answer(self.command, self.path, dict(self.headers),
                                                     self.rfile.read(length) if length else b"")
                self.send_response(status)
                for key, value in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        raise NotImplementedError

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Stranger(_Loopback):
    """Another host (127.0.0.2 by default): it records every request it gets, whole, and answers 200 ``[]``.

    Whatever an adapter sends here has left the configured helpdesk: the tests
    assert it received nothing, and search what it did receive for credentials.
    """

    def __init__(self, host: str = "127.0.0.2"):
        self.received: list[dict[str, Any]] = []
        super().__init__(host)

    def answer(self, method, path, headers, body):
        self.received.append({"method": method, "path": path, "headers": headers, "body": body})
        return 200, {"Content-Type": "application/json"}, b"[]"

    def text(self) -> str:
        """Everything received, as one text (for searching credentials in it)."""
        return json.dumps([{**r, "body": r["body"].decode("utf-8", "replace")} for r in self.received])


class Redirector(_Loopback):
    """A helpdesk that answers every request with ``status`` and ``Location: target + path``."""

    def __init__(self, target: str, status: int = 301, host: str = "127.0.0.1"):
        self.target, self.status = target, status
        self.seen: list[str] = []
        super().__init__(host)

    def answer(self, method, path, headers, body):
        self.seen.append(f"{method} {path}")
        return self.status, {"Location": self.target + path}, b""
