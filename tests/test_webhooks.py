"""Webhook checks: the adapters' boolean ``verify_webhook`` (valid, tampered body, wrong secret, malformed
header; never an exception) and the kit's :class:`WebhookVerifier` behind them (body cap before hashing,
timestamp tolerance, replay cache, secrets that cannot be used), with a fake clock."""
import base64
import hashlib
import hmac
import json
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from govhall_adapters.jira import JiraAdapter, webhook_verifier as jira_verifier, verify_webhook as verify_jira
from govhall_adapters.zammad import ZammadAdapter, webhook_verifier as zammad_verifier, verify_webhook as verify_zammad
from govhall_adapters.zendesk import ZendeskAdapter, webhook_verifier as zendesk_verifier
from govhall_adapters.zendesk import verify_webhook as verify_zendesk
from govhall_sdk.config import ConfigError
from govhall_sdk.rest.signatures import verify_base64_hmac, verify_hub_signature
from govhall_sdk.rest.webhooks import MemoryReplayCache, Reason, WebhookFormat, WebhookVerifier

SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
BODY = '{"ticket":{"id":35436,"status":"open","subject":"不动产登记"}}'.encode("utf-8")
TIMESTAMP = "2025-03-03T01:00:00Z"
AT = datetime(2025, 3, 3, 1, 0, 0, tzinfo=timezone.utc)
UTC = timezone.utc


def zendesk_signature(body=BODY, timestamp=TIMESTAMP, secret=SECRET):
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def hub(body=BODY, secret=SECRET, algorithm="sha256"):
    return f"{algorithm}=" + hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def jira_body(moment=AT, **extra):
    return json.dumps({"timestamp": int(moment.timestamp() * 1000), "webhookEvent": "jira:issue_updated",
                       "issue": {"key": "GOV-1"}, **extra}).encode()


class Clock:
    """A settable clock for the verifiers."""

    def __init__(self, now=AT):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock():
    return Clock()


# ---------------------------------------------------------------- Zendesk (the boolean check)


def test_zendesk_valid():
    assert verify_zendesk(BODY, TIMESTAMP, zendesk_signature(), SECRET, received_at=AT)
    assert verify_zendesk(BODY, TIMESTAMP, zendesk_signature(), SECRET.encode(), received_at=AT)
    assert verify_zendesk(b"", TIMESTAMP, zendesk_signature(body=b""), SECRET, received_at=AT)  # GET/DELETE: no body


def test_zendesk_signs_the_timestamp_too():
    assert not verify_zendesk(BODY, "2025-03-03T01:00:01Z", zendesk_signature(), SECRET, received_at=AT)


def test_zendesk_tampered_body():
    assert not verify_zendesk(BODY.replace(b"open", b"solved"), TIMESTAMP, zendesk_signature(), SECRET, received_at=AT)


def test_zendesk_wrong_secret():
    assert not verify_zendesk(BODY, TIMESTAMP, zendesk_signature(), "another-secret", received_at=AT)


def test_zendesk_a_signed_call_of_long_ago_is_refused_by_default():
    assert not verify_zendesk(BODY, TIMESTAMP, zendesk_signature(), SECRET)  # received now, signed in 2025-03
    now = iso(datetime.now(UTC))
    assert verify_zendesk(BODY, now, zendesk_signature(timestamp=now), SECRET)


@pytest.mark.parametrize("signature", ["", "not base64!", "sha256=abcd", "=" * 8, "€€€", None, 42, b"bytes"])
def test_zendesk_malformed_signature(signature):
    assert verify_zendesk(BODY, TIMESTAMP, signature, SECRET, received_at=AT) is False


@pytest.mark.parametrize("body, timestamp, secret", [
    ("a str body", TIMESTAMP, SECRET), (BODY, None, SECRET), (BODY, TIMESTAMP, ""), (BODY, TIMESTAMP, None),
    (12, TIMESTAMP, SECRET), (BODY, "\ud800", SECRET), (BODY, TIMESTAMP, "   "), (BODY, TIMESTAMP, b" \t"),
])
def test_zendesk_malformed_input_is_false_not_an_error(body, timestamp, secret):
    assert verify_zendesk(body, timestamp, zendesk_signature(), secret, received_at=AT) is False


# ---------------------------------------------------------------- Jira (sha256) and Zammad (sha1)


def test_jira_valid():
    assert verify_jira(BODY, hub(), SECRET)
    assert verify_jira(BODY, hub().upper().replace("SHA256=", "sha256="), SECRET)  # hex case does not matter


def test_jira_tampered_body():
    assert not verify_jira(BODY + b" ", hub(), SECRET)


def test_jira_wrong_secret():
    assert not verify_jira(BODY, hub(), "wrong")


def test_jira_the_signed_body_timestamp_is_held_to_the_tolerance():
    body = jira_body(AT)
    assert verify_jira(body, hub(body), SECRET, received_at=AT + timedelta(minutes=29))
    assert not verify_jira(body, hub(body), SECRET, received_at=AT + timedelta(minutes=31))
    assert not verify_jira(body, hub(body), SECRET)  # received now


def test_zammad_valid():
    assert verify_zammad(BODY, hub(algorithm="sha1"), SECRET)


def test_zammad_tampered_body():
    assert not verify_zammad(BODY.replace(b"35436", b"35437"), hub(algorithm="sha1"), SECRET)


def test_zammad_wrong_secret():
    assert not verify_zammad(BODY, hub(algorithm="sha1", secret="wrong"), SECRET)


def test_the_algorithm_must_match_the_platform():
    assert not verify_jira(BODY, hub(algorithm="sha1"), SECRET)  # a sha1 header is no Jira signature
    assert not verify_zammad(BODY, hub(algorithm="sha256"), SECRET)
    assert not verify_hub_signature(BODY, hub(algorithm="sha256"), SECRET, "md5")


@pytest.mark.parametrize("header", [
    "", "sha256", "sha256=", "sha256=zz", "sha256=" + "0" * 63, "md5=" + "0" * 32, hub()[7:], " = ",
    "sha256=café", None, 7, b"sha256=00",
])
def test_malformed_headers_are_false_not_an_error(header):
    assert verify_jira(BODY, header, SECRET) is False
    assert verify_zammad(BODY, header, SECRET) is False


@pytest.mark.parametrize("body, secret", [("text", SECRET), (None, SECRET), (BODY, ""), (BODY, None), (BODY, 5),
                                          (BODY, " \n "), (BODY, b"   ")])
def test_malformed_body_or_secret_is_false(body, secret):
    assert verify_jira(body, hub(), secret) is False
    assert verify_zammad(body, hub(algorithm="sha1"), secret) is False


def test_a_whitespace_secret_is_no_key_for_the_primitives_either():
    for secret in (" ", "\t\n", b"  ", bytearray(b"\n")):
        key = secret if isinstance(secret, str) else secret.decode()
        assert not verify_hub_signature(BODY, hub(secret=key), secret, "sha256")
        assert not verify_base64_hmac(TIMESTAMP, BODY, zendesk_signature(secret=key), secret)


def test_a_wrong_signature_of_the_right_length_is_compared_in_constant_time(monkeypatch):
    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append((a, b)) or real(a, b))
    wrong = "sha256=" + "0" * 64
    assert not verify_jira(BODY, wrong, SECRET)
    assert not verify_zendesk(BODY, TIMESTAMP, base64.b64encode(b"\0" * 32).decode(), SECRET, received_at=AT)
    assert len(calls) == 2


# ---------------------------------------------------------------- the verifier: timestamps


def zendesk_check(verifier, timestamp, body=BODY, **kw):
    return verifier.verify(body, zendesk_signature(body, timestamp), timestamp=timestamp, **kw)


@pytest.mark.parametrize("timestamp, reason", [
    ("1970-01-01T00:00:00Z", Reason.TIMESTAMP_OUTSIDE_TOLERANCE),
    ("2999-01-01T00:00:00Z", Reason.TIMESTAMP_OUTSIDE_TOLERANCE),
    ("", Reason.TIMESTAMP_MISSING),
    ("   ", Reason.TIMESTAMP_MISSING),
    ("not a time", Reason.TIMESTAMP_UNPARSABLE),
    ("2025-03-03 01:00:00Z", Reason.TIMESTAMP_UNPARSABLE),
    ("2025-03-03T01:00:00+00:00", Reason.TIMESTAMP_UNPARSABLE),  # Zendesk sends Z
    ("2025-03-03T01:00:00", Reason.TIMESTAMP_UNPARSABLE),
    ("2025-13-03T01:00:00Z", Reason.TIMESTAMP_UNPARSABLE),
    ("0000-01-01T00:00:00Z", Reason.TIMESTAMP_UNPARSABLE),
    ("２０２５-03-03T01:00:00Z", Reason.TIMESTAMP_UNPARSABLE),  # full-width digits are no digits here
    ("1741000000", Reason.TIMESTAMP_UNPARSABLE),
])
def test_zendesk_timestamps_that_are_refused_though_signed(clock, timestamp, reason):
    verdict = zendesk_check(zendesk_verifier(SECRET, clock=clock), timestamp)
    assert verdict.reason is reason and verdict.status == 401 and not verdict


def test_zendesk_timestamp_missing_or_not_text(clock):
    verifier = zendesk_verifier(SECRET, clock=clock)
    assert verifier.verify(BODY, zendesk_signature(), timestamp=None).reason is Reason.TIMESTAMP_MISSING
    assert verifier.verify(BODY, zendesk_signature(), timestamp=1741000000).reason is Reason.TIMESTAMP_UNPARSABLE


def test_zendesk_fractional_seconds_parse(clock):
    assert zendesk_check(zendesk_verifier(SECRET, clock=clock), "2025-03-03T01:00:00.250Z").accepted


@pytest.mark.parametrize("offset, accepted", [
    (-301, False), (-300, True), (-299, True), (0, True), (299, True), (300, True), (301, False),
])
def test_zendesk_tolerance_on_both_sides(clock, offset, accepted):
    """``offset``: the signed timestamp minus the time of receipt (negative: signed in the past)."""
    verdict = zendesk_check(zendesk_verifier(SECRET, clock=clock), iso(AT + timedelta(seconds=offset)))
    assert verdict.accepted is accepted
    assert verdict.reason is (Reason.ACCEPTED if accepted else Reason.TIMESTAMP_OUTSIDE_TOLERANCE)


def test_received_at_is_the_time_of_receipt_not_the_clock(clock):
    verifier = zendesk_verifier(SECRET, clock=clock, tolerance=60)
    late = AT + timedelta(minutes=10)
    assert zendesk_check(verifier, iso(late)).reason is Reason.TIMESTAMP_OUTSIDE_TOLERANCE
    assert zendesk_check(verifier, iso(late), received_at=late).accepted
    assert zendesk_check(verifier, iso(late), body=b"{}", received_at=late.replace(tzinfo=None)).accepted  # naive: UTC


@pytest.mark.parametrize("value, reason", [
    ("soon", Reason.TIMESTAMP_UNPARSABLE), (True, Reason.TIMESTAMP_UNPARSABLE), (None, Reason.TIMESTAMP_UNPARSABLE),
    (10 ** 30, Reason.TIMESTAMP_UNPARSABLE), (0, Reason.TIMESTAMP_OUTSIDE_TOLERANCE),
    (32503680000000, Reason.TIMESTAMP_OUTSIDE_TOLERANCE),  # 3000-01-01
])
def test_jira_body_timestamps_that_are_refused_though_signed(clock, value, reason):
    body = json.dumps({"timestamp": value, "webhookEvent": "jira:issue_created"}).encode()
    assert jira_verifier(SECRET, clock=clock).verify(body, hub(body)).reason is reason


def test_jira_non_finite_timestamps_are_unparsable(clock):
    for text in (b'{"timestamp": NaN}', b'{"timestamp": Infinity}', b'{"timestamp": 1e400}'):
        assert jira_verifier(SECRET, clock=clock).verify(text, hub(text)).reason is Reason.TIMESTAMP_UNPARSABLE


@pytest.mark.parametrize("body", [BODY, b"not json", b"[1, 2]", b'{"issue": {"timestamp": 0}}', b"", b"\xff\xfe"])
def test_jira_a_body_without_a_top_level_timestamp_is_checked_by_signature_and_replay_only(clock, body):
    assert jira_verifier(SECRET, clock=clock).verify(body, hub(body)).accepted


@pytest.mark.parametrize("age, accepted", [(-1801, False), (-1799, True), (1799, True), (1801, False)])
def test_jira_tolerance_defaults_to_jiras_30_minutes_of_retries(clock, age, accepted):
    body = jira_body(AT + timedelta(seconds=age))
    assert jira_verifier(SECRET, clock=clock).verify(body, hub(body)).accepted is accepted
    assert jira_verifier(SECRET, clock=clock, tolerance=300).verify(body, hub(body)).accepted is False


def test_jira_the_body_is_read_only_once_its_signature_verified(clock, monkeypatch):
    from govhall_sdk.rest import webhooks
    reads = []
    monkeypatch.setattr(webhooks.json, "loads", lambda raw: reads.append(raw) or {})
    stale = jira_body(datetime(1970, 1, 2, tzinfo=UTC))
    assert jira_verifier(SECRET, clock=clock).verify(stale, hub(stale, secret="wrong")).reason is Reason.BAD_SIGNATURE
    assert reads == []


# ---------------------------------------------------------------- the verifier: replays


def test_zendesk_a_replay_is_refused_within_the_window_and_stale_after_it(clock):
    verifier = zendesk_verifier(SECRET, clock=clock)
    first = zendesk_check(verifier, TIMESTAMP)
    assert first.accepted and first.status == 204 and first.timestamp == AT
    again = zendesk_check(verifier, TIMESTAMP)
    assert again.reason is Reason.REPLAY and again.status == 409
    clock.advance(299)
    assert zendesk_check(verifier, TIMESTAMP).reason is Reason.REPLAY
    clock.advance(2)  # past the tolerance: the timestamp refuses it before the cache is asked
    assert zendesk_check(verifier, TIMESTAMP).reason is Reason.TIMESTAMP_OUTSIDE_TOLERANCE


def test_zendesk_a_timestamp_signed_ahead_is_remembered_until_it_is_stale(clock):
    verifier = zendesk_verifier(SECRET, clock=clock)
    ahead = iso(AT + timedelta(seconds=290))
    assert zendesk_check(verifier, ahead).accepted
    clock.advance(500)  # past the replay window, still within the tolerance of the timestamp
    assert zendesk_check(verifier, ahead).reason is Reason.REPLAY


def test_a_respelled_signature_is_the_same_delivery(clock):
    verifier = zendesk_verifier(SECRET, clock=clock)
    signature = zendesk_signature()
    assert verifier.verify(BODY, signature, timestamp=TIMESTAMP).accepted
    for spelling in (f"  {signature}\t", signature[:-2] + chr(ord(signature[-2]) + 1) + "="):
        assert not verifier.verify(BODY, spelling, timestamp=TIMESTAMP).accepted
    assert not verifier.verify(BODY, signature, timestamp=f" {TIMESTAMP} ").accepted


def test_zendesk_two_calls_with_the_same_body_and_another_timestamp_are_two_deliveries(clock):
    verifier = zendesk_verifier(SECRET, clock=clock)
    assert zendesk_check(verifier, TIMESTAMP).accepted
    assert zendesk_check(verifier, "2025-03-03T01:00:01Z").accepted


def test_jira_a_repeated_identifier_is_a_replay(clock):
    verifier = jira_verifier(SECRET, clock=clock)
    body, other = jira_body(), jira_body(changelog={"id": "2"})
    assert verifier.verify(body, hub(body), delivery_id="7f3c-1").accepted
    assert verifier.verify(body, hub(body), delivery_id="7f3c-1").reason is Reason.REPLAY
    assert verifier.verify(other, hub(other), delivery_id="7f3c-1").reason is Reason.REPLAY
    assert verifier.verify(other, hub(other), delivery_id="7f3c-2").accepted


def test_a_fresh_delivery_id_does_not_launder_a_replay(clock):
    """The id headers are not signed: the signed content is remembered too."""
    for verifier, body, signature in ((jira_verifier(SECRET, clock=clock), jira_body(), hub(jira_body())),
                                      (zammad_verifier(SECRET, clock=clock), BODY, hub(algorithm="sha1"))):
        assert verifier.verify(body, signature, delivery_id="a").accepted
        assert verifier.verify(body, signature, delivery_id="b").reason is Reason.REPLAY
        assert verifier.verify(body, signature).reason is Reason.REPLAY


def test_zammad_a_repeated_delivery_is_refused_for_a_day_then_accepted_as_new(clock):
    verifier = zammad_verifier(SECRET, clock=clock)
    signature, delivery = hub(algorithm="sha1"), "9e4c0a32-5b0c-4b7e-8a0a-2f0b7d0c1e55"
    assert verifier.verify(BODY, signature, delivery_id=delivery).accepted
    clock.advance(86_399)
    assert verifier.verify(BODY, signature, delivery_id=delivery).reason is Reason.REPLAY
    clock.advance(2)
    assert verifier.verify(BODY, signature, delivery_id=delivery).accepted  # Zammad signs no time


def test_a_delivery_without_an_id_is_deduplicated_by_its_content(clock):
    verifier = zammad_verifier(SECRET, clock=clock)
    assert verifier.verify(BODY, hub(algorithm="sha1")).accepted
    assert verifier.verify(BODY, hub(algorithm="sha1")).reason is Reason.REPLAY
    strict = zammad_verifier(SECRET, clock=clock, require_delivery_id=True)
    assert strict.verify(BODY, hub(algorithm="sha1")).reason is Reason.MISSING_HEADER
    assert strict.verify(BODY, hub(algorithm="sha1"), delivery_id="  ").reason is Reason.MISSING_HEADER
    assert strict.verify(BODY, hub(algorithm="sha1"), delivery_id="d-1").accepted


def test_a_released_delivery_is_accepted_again(clock):
    verifier = zammad_verifier(SECRET, clock=clock)
    verdict = verifier.verify(BODY, hub(algorithm="sha1"), delivery_id="d-1")
    verifier.release(verdict)  # processing failed: the endpoint answers 500 and Zammad retries
    assert verifier.verify(BODY, hub(algorithm="sha1"), delivery_id="d-1").accepted
    verifier.release(verifier.verify(BODY, hub(algorithm="sha1"), delivery_id="d-1"))  # a refusal holds nothing


def test_a_refused_delivery_is_not_remembered(clock):
    verifier = zammad_verifier(SECRET, clock=clock)
    assert not verifier.verify(BODY, hub(algorithm="sha1", secret="wrong"), delivery_id="d-1")
    assert verifier.verify(BODY, hub(algorithm="sha1"), delivery_id="d-1").accepted


def test_the_same_delivery_in_threads_is_accepted_once():
    verifier = zammad_verifier(SECRET)
    barrier, verdicts = threading.Barrier(8), []

    def deliver():
        barrier.wait()
        verdicts.append(verifier.verify(BODY, hub(algorithm="sha1"), delivery_id="d-1").reason)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(verdicts) == sorted([Reason.ACCEPTED] + [Reason.REPLAY] * 7)


def test_the_memory_cache_is_bounded_and_forgets_what_expired():
    cache = MemoryReplayCache(max_entries=4)
    for n in range(10):
        assert cache.claim([f"k{n}"], now=0.0, expires_at=100.0)
    assert len(cache) == 4 and not cache.claim(["k9"], now=1.0, expires_at=100.0)
    assert cache.claim(["k0"], now=1.0, expires_at=100.0)  # evicted when full
    assert cache.claim(["k9"], now=100.0, expires_at=200.0)  # expired
    assert not cache.claim(["new", "k9"], now=101.0, expires_at=200.0) and cache.claim(["new"], 101.0, 200.0)
    with pytest.raises(ConfigError, match="max_entries"):
        MemoryReplayCache(0)


def test_verifiers_can_share_a_cache_without_mixing_platforms(clock):
    cache = MemoryReplayCache()
    body = jira_body()
    jira = jira_verifier(SECRET, clock=clock, replay_cache=cache)
    zammad = zammad_verifier(SECRET, clock=clock, replay_cache=cache)
    assert jira.verify(body, hub(body), delivery_id="x").accepted
    assert zammad.verify(body, hub(body, algorithm="sha1"), delivery_id="x").accepted


# ---------------------------------------------------------------- the verifier: body cap, headers, garbage


def test_a_body_over_the_cap_is_refused_before_it_is_hashed(clock, monkeypatch):
    verifier, signature = zammad_verifier(SECRET, clock=clock, max_body=1024), hub(b"x" * 1025, algorithm="sha1")
    monkeypatch.setattr(hmac, "new", lambda *a, **kw: pytest.fail("hashed a body over the cap"))
    for body in (b"x" * 1025, bytearray(b"x" * 1025), memoryview(b"x" * 1025)):
        verdict = verifier.verify(body, signature)
        assert verdict.reason is Reason.BODY_TOO_LARGE and verdict.status == 413


def test_a_body_at_the_cap_is_checked(clock):
    verifier = zammad_verifier(SECRET, clock=clock, max_body=1024)
    body = b"x" * 1024
    assert verifier.verify(body, hub(body, algorithm="sha1")).accepted
    assert verifier.verify(memoryview(b"y" * 1024), hub(b"y" * 1024, algorithm="sha1")).accepted


def test_a_huge_body_costs_nothing():
    huge = bytes(64 * 1024 * 1024)
    verifier = zendesk_verifier(SECRET)
    start = time.perf_counter()
    for _ in range(100):
        assert verifier.verify(huge, zendesk_signature(), timestamp=TIMESTAMP).reason is Reason.BODY_TOO_LARGE
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize("length, reason", [("1025", Reason.BODY_TOO_LARGE), ("abc", Reason.MALFORMED),
                                            ("-1", Reason.MALFORMED), ("1_000", Reason.MALFORMED),
                                            ("10" * 40, Reason.BODY_TOO_LARGE), ("9" * 5000, Reason.BODY_TOO_LARGE)])
def test_a_declared_length_over_the_cap_is_refused_before_reading(length, reason):
    verdict = zammad_verifier(SECRET, max_body=1024).check_length(length)
    assert verdict.reason is reason and verdict.status == reason.status


@pytest.mark.parametrize("length", [None, "0", "1024", " 12 ", 12, "0" * 5000 + "12"])
def test_a_declared_length_within_the_cap_may_be_read(length):
    assert zammad_verifier(SECRET, max_body=1024).check_length(length) is None


def test_headers_are_read_whatever_their_case(clock):
    import email.message
    verifier = zendesk_verifier(SECRET, clock=clock)
    headers = {"x-zendesk-webhook-signature": zendesk_signature(), "X-ZENDESK-WEBHOOK-SIGNATURE-TIMESTAMP": TIMESTAMP}
    assert verifier.verify_request(BODY, headers).accepted
    message = email.message.Message()
    message["X-Hub-Signature"], message["x-zammad-delivery"] = hub(algorithm="sha1"), "d-9"
    verdict = zammad_verifier(SECRET, clock=clock).verify_request(BODY, message)
    assert verdict.accepted and verdict.delivery_id == "d-9"


@pytest.mark.parametrize("headers", [None, 42, {}, [], {"X-Hub-Signature": None}, {"X-Hub-Signature": b"sha1=00"},
                                     {"X-Hub-Signature": "   "}, {7: "x"}, "X-Hub-Signature: sha1=00"])
def test_garbage_headers_are_refusals(clock, headers):
    verdict = zammad_verifier(SECRET, clock=clock).verify_request(BODY, headers)
    assert verdict.reason in (Reason.MISSING_HEADER, Reason.BAD_SIGNATURE) and verdict.status == 401


@pytest.mark.parametrize("body", ["text", 12, object(), ["list"], {"a": 1}])
def test_a_body_that_is_not_bytes_is_malformed(clock, body):
    verdict = jira_verifier(SECRET, clock=clock).verify(body, hub())
    assert verdict.reason is Reason.MALFORMED and verdict.status == 400


@pytest.mark.parametrize("signature", ["", None, "   "])
def test_a_missing_signature_is_a_missing_header(clock, signature):
    verdict = zendesk_verifier(SECRET, clock=clock).verify(BODY, signature, timestamp=TIMESTAMP)
    assert verdict.reason is Reason.MISSING_HEADER and verdict.status == 401


def test_garbage_delivery_ids_are_refusals_or_keys_not_errors(clock):
    verifier = zammad_verifier(SECRET, clock=clock)
    for n, ident in enumerate(["\ud800", "x" * 100_000, "\x00\r\n", 42, b"bytes"]):
        body = f'{{"n": {n}}}'.encode()
        assert verifier.verify(body, hub(body, algorithm="sha1"), delivery_id=ident).accepted


# ---------------------------------------------------------------- secrets and settings


CANARY = "canary-7Qm2-webhook-secret"


@pytest.mark.parametrize("secret", ["", "\t\u3000\t", "\u2003\u00a0", "\n\r\n", b"", b" \t ", bytearray(b"\n\n"),
                                    None, 1234567, [CANARY], {CANARY: 1}, 3.25])
def test_an_unusable_secret_is_a_config_error_that_does_not_show_it(secret):
    with pytest.raises(ConfigError) as raised:
        WebhookVerifier(secret, WebhookFormat("x", "X-Sig"))
    message = str(raised.value)
    assert message.startswith("webhook secret: ")
    assert CANARY not in message and "1234567" not in message and "3.25" not in message
    if secret and isinstance(secret, (str, bytes, bytearray)):  # the whitespace itself is not shown
        assert (secret if isinstance(secret, str) else secret.decode()) not in message


@pytest.mark.parametrize("make", [zendesk_verifier, jira_verifier, zammad_verifier])
def test_each_platform_refuses_an_unusable_secret(make):
    for secret in ("", "   ", b"  "):
        with pytest.raises(ConfigError, match="webhook secret"):
            make(secret)


def test_the_verifier_never_shows_its_secret():
    verifier = zendesk_verifier(CANARY)
    assert CANARY not in repr(verifier) and CANARY not in str(vars(verifier))


@pytest.mark.parametrize("option", [{"tolerance": 0}, {"tolerance": -5}, {"tolerance": float("nan")},
                                    {"tolerance": "300"}, {"max_body": -1}, {"max_body": 1.5},
                                    {"replay_window": 0}])
def test_unusable_options_are_config_errors(option):
    with pytest.raises(ConfigError, match="webhook "):
        zammad_verifier(SECRET, **option)


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError):
        WebhookFormat("x", "X-Sig", algorithm="md5")
    with pytest.raises(ValueError):
        WebhookFormat("x", "X-Sig", encoding="hex")


ADAPTERS = [
    (ZendeskAdapter, {"url": "https://gov.zendesk.com", "email": "a@gov.cn", "api_token": "zd-token"}),
    (JiraAdapter, {"url": "https://gov.atlassian.net", "email": "a@gov.cn", "api_token": "jr-token", "jql": "x"}),
    (ZammadAdapter, {"url": "https://zammad.gov.cn", "token": "zm-token"}),
]


@pytest.mark.parametrize("cls, settings", ADAPTERS)
def test_the_verifier_from_the_webhook_secret_setting(govhall_config, cls, settings):
    adapter = cls({**settings, "webhook_secret": CANARY}, govhall_config())
    verifier = adapter.webhook_verifier(tolerance=120, max_body=2048)
    assert verifier.format.name == cls.name and verifier.tolerance == 120 and verifier.max_body == 2048
    assert CANARY not in repr(adapter) and CANARY not in repr(verifier)


@pytest.mark.parametrize("cls, settings", ADAPTERS)
def test_the_webhook_secret_can_come_from_the_environment(govhall_config, monkeypatch, cls, settings):
    monkeypatch.setenv("GOVHALL_TEST_WEBHOOK_SECRET", CANARY)
    adapter = cls({**settings, "webhook_secret_env": "GOVHALL_TEST_WEBHOOK_SECRET"}, govhall_config())
    assert adapter.settings["webhook_secret"] == CANARY and adapter.webhook_verifier()


@pytest.mark.parametrize("cls, settings", ADAPTERS)
@pytest.mark.parametrize("secret", [None, "", "  \t "])
def test_no_verifier_without_a_webhook_secret(govhall_config, cls, settings, secret):
    """An empty setting may be refused as the adapter is built (secret settings are checked there) or when
    the verifier is asked for; either way the error names the setting."""
    raw = dict(settings) if secret is None else {**settings, "webhook_secret": secret}
    with pytest.raises(ConfigError, match=r"^adapter\.webhook_secret: ") as raised:
        cls(raw, govhall_config()).webhook_verifier()
    assert settings.get("api_token", settings.get("token")) not in str(raised.value)


@pytest.mark.parametrize("cls, settings", ADAPTERS)
def test_the_webhook_secret_must_be_a_string(govhall_config, cls, settings):
    with pytest.raises(ConfigError, match="adapter.webhook_secret: expected a string"):
        cls({**settings, "webhook_secret": 12}, govhall_config())
