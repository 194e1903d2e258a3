"""Webhook signature checks (the adapters' ``verify_webhook``, on the kit's HMAC checks): valid, tampered
body, wrong secret, malformed header; never an exception."""
import base64
import hashlib
import hmac

import pytest

from govhall_adapters.jira import verify_webhook as verify_jira
from govhall_adapters.zammad import verify_webhook as verify_zammad
from govhall_adapters.zendesk import verify_webhook as verify_zendesk
from govhall_sdk.rest.signatures import verify_hub_signature

SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
BODY = '{"ticket":{"id":35436,"status":"open","subject":"不动产登记"}}'.encode("utf-8")
TIMESTAMP = "2025-03-03T01:00:00Z"


def zendesk_signature(body=BODY, timestamp=TIMESTAMP, secret=SECRET):
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def hub(body=BODY, secret=SECRET, algorithm="sha256"):
    return f"{algorithm}=" + hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()


# ---------------------------------------------------------------- Zendesk


def test_zendesk_valid():
    assert verify_zendesk(BODY, TIMESTAMP, zendesk_signature(), SECRET)
    assert verify_zendesk(BODY, TIMESTAMP, zendesk_signature(), SECRET.encode())
    assert verify_zendesk(b"", TIMESTAMP, zendesk_signature(body=b""), SECRET)  # GET/DELETE webhooks have no body


def test_zendesk_signs_the_timestamp_too():
    assert not verify_zendesk(BODY, "2025-03-03T01:00:01Z", zendesk_signature(), SECRET)


def test_zendesk_tampered_body():
    assert not verify_zendesk(BODY.replace(b"open", b"solved"), TIMESTAMP, zendesk_signature(), SECRET)


def test_zendesk_wrong_secret():
    assert not verify_zendesk(BODY, TIMESTAMP, zendesk_signature(), "another-secret")


@pytest.mark.parametrize("signature", ["", "not base64!", "sha256=abcd", "=" * 8, "€€€", None, 42, b"bytes"])
def test_zendesk_malformed_signature(signature):
    assert verify_zendesk(BODY, TIMESTAMP, signature, SECRET) is False


@pytest.mark.parametrize("body, timestamp, secret", [
    ("a str body", TIMESTAMP, SECRET), (BODY, None, SECRET), (BODY, TIMESTAMP, ""), (BODY, TIMESTAMP, None),
    (12, TIMESTAMP, SECRET), (BODY, "\ud800", SECRET),
])
def test_zendesk_malformed_input_is_false_not_an_error(body, timestamp, secret):
    assert verify_zendesk(body, timestamp, zendesk_signature(), secret) is False


# ---------------------------------------------------------------- Jira (sha256) and Zammad (sha1)


def test_jira_valid():
    assert verify_jira(BODY, hub(), SECRET)
    assert verify_jira(BODY, hub().upper().replace("SHA256=", "sha256="), SECRET)  # hex case does not matter


def test_jira_tampered_body():
    assert not verify_jira(BODY + b" ", hub(), SECRET)


def test_jira_wrong_secret():
    assert not verify_jira(BODY, hub(), "wrong")


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


@pytest.mark.parametrize("body, secret", [("text", SECRET), (None, SECRET), (BODY, ""), (BODY, None), (BODY, 5)])
def test_malformed_body_or_secret_is_false(body, secret):
    assert verify_jira(body, hub(), secret) is False
    assert verify_zammad(body, hub(algorithm="sha1"), secret) is False


def test_a_wrong_signature_of_the_right_length_is_compared_in_constant_time(monkeypatch):
    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append((a, b)) or real(a, b))
    wrong = "sha256=" + "0" * 64
    assert not verify_jira(BODY, wrong, SECRET)
    assert not verify_zendesk(BODY, TIMESTAMP, base64.b64encode(b"\0" * 32).decode(), SECRET)
    assert len(calls) == 2
