"""A real webhook receiver on loopback (``http.server.ThreadingHTTPServer`` on 127.0.0.1, port 0) built as
the adapter docs recommend: it refuses a declared body over the cap before reading it, verifies each
delivery with the platform's ``webhook_verifier`` and answers the verdict's status (204, 401, 409, 413).
Real signed deliveries are posted with ``requests``, then replayed, tampered with, signed with another
secret and sent stale. The canary secret never shows in a response, a log record (DEBUG) or an error."""
import base64
import hashlib
import hmac
import json
import logging
import threading
import traceback
import uuid
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from govhall_adapters import jira, zammad, zendesk

CANARY = "canary-Xr81-webhook-secret-do-not-leak"
SPELLINGS = (CANARY, base64.b64encode(CANARY.encode()).decode(), CANARY.encode().hex())
MAX_BODY = 64 * 1024
log = logging.getLogger("tests.webhook_server")


class Receiver(BaseHTTPRequestHandler):
    """One endpoint per platform; ``/zammad-flaky`` fails to process a delivery's first attempt."""

    protocol_version = "HTTP/1.1"

    def do_POST(self):
        verifier = self.server.verifiers.get(self.path)
        if verifier is None:
            return self.answer(404, "no such endpoint")
        length = self.headers.get("Content-Length")
        refusal = verifier.check_length(length)
        if refusal is not None:
            self.discard(length)
            return self.answer(refusal.status, refusal.reason.value)
        verdict = verifier.verify_request(self.rfile.read(int(length or 0)), self.headers)
        if verdict.accepted and not self.process(verdict):
            verifier.release(verdict)  # not processed: let the platform's retry in
            return self.answer(500, "processing failed")
        self.answer(verdict.status, verdict.reason.value)

    def process(self, verdict):
        first_attempt = self.path == "/zammad-flaky" and verdict.delivery_id not in self.server.failed
        if first_attempt:
            self.server.failed.add(verdict.delivery_id)
            return False
        self.server.processed.append((self.path, verdict.delivery_id))
        return True

    def discard(self, length):
        """Read a refused body away (a test-sized one), so that the client reads the answer, not a reset."""
        left = int(length) if str(length).strip().isdigit() else 0
        while left > 0:
            chunk = self.rfile.read(min(left, 65536))
            left = left - len(chunk) if chunk else 0
        self.close_connection = True

    def answer(self, status, reason):
        payload = b"" if status == 204 else json.dumps({"reason": reason}).encode()
        self.send_response(status)
        if payload:
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format, *args):
        log.debug("receiver: " + format, *args)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        self.errors.append(traceback.format_exc())


@pytest.fixture
def receiver(caplog):
    caplog.set_level(logging.DEBUG)
    server = Server(("127.0.0.1", 0), Receiver)
    server.verifiers = {
        "/zendesk": zendesk.webhook_verifier(CANARY, max_body=MAX_BODY),
        "/jira": jira.webhook_verifier(CANARY, max_body=MAX_BODY),
        "/zammad": zammad.webhook_verifier(CANARY, max_body=MAX_BODY),
        "/zammad-flaky": zammad.webhook_verifier(CANARY, max_body=MAX_BODY),
    }
    server.processed, server.errors, server.failed, server.answers = [], [], set(), []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)
    assert server.errors == []
    logged = "\n".join(record_text(r) for phase in ("setup", "call") for r in caplog.get_records(phase))
    texts = [logged, *server.answers, *(repr(v) for v in server.verifiers.values())]
    assert not [s for s in SPELLINGS for t in texts if s in t]
    if any(answer[:3] in ("401", "409", "413") for answer in server.answers):
        assert "refused delivery" in logged  # the verifier's DEBUG records were there to be read


def record_text(record):
    """All a log record could print: its message, arguments and exception."""
    exception = "".join(traceback.format_exception(*record.exc_info)) if record.exc_info else ""
    return f"{record.getMessage()} {record.args!r} {exception} {record.stack_info or ''}"


def post(server, path, body, headers):
    """POST ``body`` with ``headers``; (status, reason) of the answer, whose text is kept for the leak check."""
    with requests.Session() as session:
        session.trust_env = False  # no proxy between the test and loopback
        response = session.post(f"http://127.0.0.1:{server.server_address[1]}{path}", data=body,
                                headers=headers, timeout=10)
    server.answers.append(f"{response.status_code} {response.headers} {response.text}")
    return response.status_code, response.json()["reason"] if response.content else None


def now():
    return datetime.now(timezone.utc)


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def zendesk_headers(body, timestamp=None, secret=CANARY):
    timestamp = iso(now()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return {"X-Zendesk-Webhook-Signature": base64.b64encode(digest).decode(),
            "X-Zendesk-Webhook-Signature-Timestamp": timestamp, "Content-Type": "application/json"}


def hub_headers(body, algorithm, id_header, delivery=None, secret=CANARY):
    signature = f"{algorithm}=" + hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()
    headers = {"X-Hub-Signature": signature, "Content-Type": "application/json"}
    if delivery is not None:
        headers[id_header] = delivery
    return headers


def jira_headers(body, delivery=None, secret=CANARY):
    return hub_headers(body, "sha256", "X-Atlassian-Webhook-Identifier", delivery or str(uuid.uuid4()), secret)


def zammad_headers(body, delivery=None, secret=CANARY, algorithm="sha1"):
    return hub_headers(body, algorithm, "X-Zammad-Delivery", delivery, secret)


def jira_body(moment=None, key="GOV-1"):
    moment = now() if moment is None else moment
    return json.dumps({"timestamp": int(moment.timestamp() * 1000), "webhookEvent": "jira:issue_updated",
                       "issue": {"key": key}}).encode()


def ticket(n):
    return json.dumps({"ticket": {"id": n, "title": "不动产登记", "updated_at": iso(now())}}).encode()


# ---------------------------------------------------------------- Zendesk


def test_zendesk_a_signed_delivery_is_accepted_once(receiver):
    body, headers = ticket(1), zendesk_headers(ticket(1))
    assert post(receiver, "/zendesk", body, headers) == (204, None)
    assert post(receiver, "/zendesk", body, headers) == (409, "replay")
    assert receiver.processed == [("/zendesk", None)]


@pytest.mark.parametrize("change, answer", [
    (lambda b, h: (b.replace(b'"id": 2', b'"id": 3'), h), (401, "bad_signature")),
    (lambda b, h: (b, zendesk_headers(b, secret="another-secret")), (401, "bad_signature")),
    (lambda b, h: (b, zendesk_headers(b, iso(now() - timedelta(minutes=10)))), (401, "timestamp_outside_tolerance")),
    (lambda b, h: (b, zendesk_headers(b, "2999-01-01T00:00:00Z")), (401, "timestamp_outside_tolerance")),
    (lambda b, h: (b, zendesk_headers(b, "1970-01-01T00:00:00Z")), (401, "timestamp_outside_tolerance")),
    (lambda b, h: (b, zendesk_headers(b, "not a time")), (401, "timestamp_unparsable")),
    (lambda b, h: (b, {**h, "X-Zendesk-Webhook-Signature-Timestamp": iso(now() + timedelta(seconds=1))}),
     (401, "bad_signature")),
    (lambda b, h: (b, {k: v for k, v in h.items() if "Timestamp" not in k}), (401, "timestamp_missing")),
    (lambda b, h: (b, {k: v for k, v in h.items() if k != "X-Zendesk-Webhook-Signature"}), (401, "missing_header")),
], ids=["tampered", "other-secret", "stale", "year-2999", "year-1970", "not-a-time", "timestamp-changed",
        "no-timestamp", "no-signature"])
def test_zendesk_refusals(receiver, change, answer):
    body, headers = change(ticket(2), zendesk_headers(ticket(2)))
    assert post(receiver, "/zendesk", body, headers) == answer
    assert receiver.processed == []


# ---------------------------------------------------------------- Jira


def test_jira_a_delivery_is_accepted_once_whatever_identifier_comes_with_it(receiver):
    body, delivery = jira_body(), str(uuid.uuid4())
    assert post(receiver, "/jira", body, jira_headers(body, delivery)) == (204, None)
    assert post(receiver, "/jira", body, jira_headers(body, delivery)) == (409, "replay")
    assert post(receiver, "/jira", body, jira_headers(body)) == (409, "replay")  # a fresh, unsigned id
    other = jira_body(key="GOV-2")
    assert post(receiver, "/jira", other, jira_headers(other, delivery)) == (409, "replay")  # a repeated id
    assert post(receiver, "/jira", other, jira_headers(other)) == (204, None)
    assert [path for path, _ in receiver.processed] == ["/jira", "/jira"]


def test_jira_refusals(receiver):
    stale = jira_body(now() - timedelta(hours=2))
    assert post(receiver, "/jira", stale, jira_headers(stale)) == (401, "timestamp_outside_tolerance")
    body = jira_body()
    assert post(receiver, "/jira", body + b" ", jira_headers(body)) == (401, "bad_signature")
    assert post(receiver, "/jira", body, jira_headers(body, secret="wrong")) == (401, "bad_signature")
    assert post(receiver, "/jira", body, hub_headers(body, "sha1", "X-Atlassian-Webhook-Identifier", "d")) \
        == (401, "bad_signature")
    assert post(receiver, "/jira", body, {"Content-Type": "application/json"}) == (401, "missing_header")
    assert receiver.processed == []


# ---------------------------------------------------------------- Zammad


def test_zammad_a_delivery_is_accepted_once(receiver):
    body, delivery = ticket(3), str(uuid.uuid4())
    assert post(receiver, "/zammad", body, zammad_headers(body, delivery)) == (204, None)
    assert post(receiver, "/zammad", body, zammad_headers(body, delivery)) == (409, "replay")
    assert post(receiver, "/zammad", body, zammad_headers(body, str(uuid.uuid4()))) == (409, "replay")
    assert post(receiver, "/zammad", body, zammad_headers(body)) == (409, "replay")  # without an id
    assert post(receiver, "/zammad", ticket(4), zammad_headers(ticket(4))) == (204, None)
    assert post(receiver, "/zammad", ticket(4), zammad_headers(ticket(5))) == (401, "bad_signature")
    assert post(receiver, "/zammad", ticket(5), zammad_headers(ticket(5), algorithm="sha256")) \
        == (401, "bad_signature")
    assert receiver.processed == [("/zammad", delivery), ("/zammad", None)]


def test_a_delivery_that_failed_to_process_is_accepted_when_retried(receiver):
    body, delivery = ticket(6), str(uuid.uuid4())
    assert post(receiver, "/zammad-flaky", body, zammad_headers(body, delivery)) == (500, "processing failed")
    assert post(receiver, "/zammad-flaky", body, zammad_headers(body, delivery)) == (204, None)
    assert post(receiver, "/zammad-flaky", body, zammad_headers(body, delivery)) == (409, "replay")
    assert receiver.processed == [("/zammad-flaky", delivery)]


def test_concurrent_copies_of_a_delivery_are_accepted_once(receiver):
    body, delivery, answers = ticket(7), str(uuid.uuid4()), []
    barrier = threading.Barrier(6)

    def deliver():
        barrier.wait()
        answers.append(post(receiver, "/zammad", body, zammad_headers(body, delivery))[0])

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    assert sorted(answers) == [204, 409, 409, 409, 409, 409]
    assert receiver.processed == [("/zammad", delivery)]


# ---------------------------------------------------------------- every platform


@pytest.mark.parametrize("path, headers", [
    ("/zendesk", zendesk_headers), ("/jira", jira_headers), ("/zammad", zammad_headers),
])
def test_a_body_over_the_cap_is_413_and_the_receiver_goes_on(receiver, path, headers):
    big = b'{"pad": "' + b"x" * MAX_BODY + b'"}'
    assert post(receiver, path, big, headers(big)) == (413, "body_too_large")
    small = jira_body(key="GOV-9") if path == "/jira" else ticket(9)
    assert post(receiver, path, small, headers(small)) == (204, None)
    assert len(receiver.processed) == 1


def test_an_unknown_endpoint_is_404(receiver):
    assert post(receiver, "/nowhere", b"{}", {}) == (404, "no such endpoint")
