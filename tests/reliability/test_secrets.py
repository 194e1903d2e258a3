"""Secrets: a recognisable API key never shows in logs, exceptions, reprs, the audit log, the state file or
the summary, whatever the helpdesk answers; TLS is verified unless the config says otherwise, loudly.

The canary is the key itself and its basic-auth form (``base64(key:X)``, what the
``Authorization`` header carries). The fake echoes both back in its error bodies,
as a badly behaved proxy or debug page would.
"""
import base64
import json
import logging
import socket
import subprocess
import sys
import traceback

import pytest

from govhall_adapters.freshdesk import FreshdeskAdapter
from govhall_sdk.config import ConfigError
from govhall_sdk.http import HTTPError, RetryPolicy
from govhall_sdk.cli.run import print_summary
from govhall_sdk.state import StateStore

from .fake_helpdesk import Fault
from .harness import GOVHALL, NOW, FastFreshdesk, cli_env, config_for, new_fake, run_cli, run_in_process, write_config
from needed import program

TOKEN = "tok-LEAK-CANARY-93b1"
CANARIES = (TOKEN, base64.b64encode(f"{TOKEN}:X".encode()).decode())
#: ``govhall run`` with the root logger at DEBUG (urllib3 then logs every request) and retries that do not
#: sleep (connection refused would otherwise back off for ~15 s); everything else is the real CLI.
DEBUG_CLI = ("import logging, sys; logging.basicConfig(level=logging.DEBUG); "
             "from govhall_sdk import http; http.RetryPolicy.__init__.__defaults__ = (6, 0.0, 0.0, 0.0); "
             "from govhall_sdk.cli import main; sys.exit(main(sys.argv[1:]))")


def leaks(text):
    if isinstance(text, bytes):
        return [c for c in CANARIES if c.encode() in text]
    return [c for c in CANARIES if c in text]


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def state_bytes(tmp_path):
    """Every byte of the state store (the database, its WAL and shared-memory files)."""
    return b"".join(p.read_bytes() for p in sorted(tmp_path.glob("state.sqlite*")))


def scenarios():
    """The failures forced: every request refused, writes failing with the key echoed, nobody listening."""
    return ["401 for a wrong key", "5xx echoing the key and its header", "connection refused",
            "connection refused, the key in the URL's path"]


def setup(name, tmp_path):
    """(the fake or None, the adapter URL) of a scenario."""
    if name == "401 for a wrong key":
        fake = new_fake(api_key="the-key-the-helpdesk-expects", echo_secret_in_errors=True)
        return fake, fake.url
    if name == "5xx echoing the key and its header":
        fake = new_fake(api_key=TOKEN, echo_secret_in_errors=True)
        fake.faults.extend([Fault("500", endpoint="note", times=99), Fault("503", endpoint="update", ticket="103", times=6),
                            Fault("502", endpoint="conversations", skip=2, times=2)])
        return fake, fake.url
    if name == "connection refused":
        return None, f"http://127.0.0.1:{closed_port()}"
    return None, f"http://127.0.0.1:{closed_port()}/{TOKEN}"


@pytest.mark.parametrize("name", scenarios())
def test_the_key_never_leaks_in_process(name, tmp_path, caplog, capsys):
    caplog.set_level(logging.DEBUG)  # urllib3 logs every request at DEBUG
    fake, url = setup(name, tmp_path)
    try:
        config = config_for(tmp_path, url, api_key=TOKEN)
        seen = []
        for _ in range(2):  # the second run fetches the tickets the first could not write
            summary = run_in_process(config)
            assert not summary.ok
            seen.append(json.dumps(summary.as_dict(), ensure_ascii=False))
            seen.extend(summary.failed.values())
            seen.extend(summary.errors.values())
            import io

            text = io.StringIO()
            print_summary(summary, text)
            seen.append(text.getvalue())
            if name == "5xx echoing the key and its header":
                assert summary.failed, "the scenario made writes fail"
        seen.append(repr(FreshdeskAdapter(dict(config.adapter), config)))
        adapter = FastFreshdesk(dict(config.adapter), config, retry=RetryPolicy(attempts=2, base=0.0), sleep=lambda s: None)
        with pytest.raises(HTTPError) as raised:  # the exception itself, as a caller or a crash reporter sees it
            adapter.request("POST", "/api/v2/tickets/101/notes", json={"body": "x", "private": True}, idempotent=False)
        seen += [str(raised.value), repr(raised.value), "".join(traceback.format_exception(raised.value))]
        state = StateStore(config.state_path)
        try:
            rows = state.audit_rows()
        finally:
            state.close()
        seen.append(json.dumps(rows, ensure_ascii=False))
        if name == "5xx echoing the key and its header":
            assert any(not r["ok"] and "HTTP 500" in r["error"] for r in rows)
            assert any("***" in r["error"] for r in rows if r["error"]), "the echoed key was redacted, not dropped"
        captured = capsys.readouterr()
        seen += [caplog.text, captured.out, captured.err]
        assert any("127.0.0.1" in r.getMessage() for r in caplog.records) or fake is None
        assert not leaks("\n".join(seen))
        assert not leaks(state_bytes(tmp_path))
    finally:
        if fake is not None:
            fake.stop()


def test_the_repr_hides_the_key_wherever_it_appears(tmp_path):
    config = config_for(tmp_path, f"https://center.example/{TOKEN}/", api_key=TOKEN)
    assert not leaks(repr(FreshdeskAdapter(dict(config.adapter), config)))


def test_a_url_with_a_query_is_refused_without_echoing_it(tmp_path):
    """A base URL cannot carry a query (the paths are appended to it): the key put there is a config error
    that names the setting and never shows the value."""
    config = config_for(tmp_path, f"https://center.example/?api_key={TOKEN}", api_key=TOKEN)
    with pytest.raises(ConfigError) as raised:
        FreshdeskAdapter(dict(config.adapter), config)
    assert "adapter.url" in str(raised.value) and not leaks(str(raised.value))
    config = write_config(tmp_path, f"https://center.example/?api_key={TOKEN}", api_key=TOKEN)
    done = subprocess.run([GOVHALL, "run", "--config", str(config), "--now", NOW.isoformat()], capture_output=True,
                          text=True, env=cli_env(), timeout=120)
    assert done.returncode == 2 and "adapter.url" in done.stderr
    assert not leaks(done.stdout + done.stderr)


CLI_CASES = [(name, False) for name in scenarios() if "refused" not in name] + [(name, True) for name in scenarios()]


@pytest.mark.parametrize("name, debug", CLI_CASES,
                         ids=[f"{n}{' (DEBUG logging)' if d else ''}" for n, d in CLI_CASES])
def test_the_key_never_leaks_from_the_cli(name, debug, tmp_path):
    fake, url = setup(name, tmp_path)
    try:
        config = write_config(tmp_path, url, api_key=TOKEN)
        outputs = []
        for args in (["--json"], []):
            cmd = ([sys.executable, "-c", DEBUG_CLI] if debug else [GOVHALL]) + \
                  ["run", "--config", str(config), "--now", NOW.isoformat(), *args]
            done = subprocess.run(cmd, capture_output=True, text=True, env=cli_env(), timeout=120)
            assert done.returncode == 1, done.stderr  # something could not be read or written
            assert "Traceback" not in done.stderr
            outputs += [done.stdout, done.stderr]
        if debug:
            assert "DEBUG" in "".join(outputs) and "127.0.0.1" in "".join(outputs)
        assert not leaks("\n".join(outputs))
        assert not leaks(state_bytes(tmp_path))
        assert leaks(config.read_text()) == [TOKEN], "the canary is really in play"
    finally:
        if fake is not None:
            fake.stop()


def test_a_key_from_the_environment_stays_out_of_the_config_and_every_output(tmp_path):
    fake = new_fake(api_key=TOKEN, echo_secret_in_errors=True)
    try:
        fake.faults.append(Fault("500", endpoint="note", ticket="101", times=2))
        config = tmp_path / "govhall.toml"
        write_config(tmp_path, fake.url, api_key="placeholder")
        config.write_text(config.read_text().replace('"api_key" = "placeholder"', '"api_key_env" = "GOVHALL_FD_KEY"'))
        env = {**cli_env(), "GOVHALL_FD_KEY": TOKEN}
        done = subprocess.run([GOVHALL, "run", "--config", str(config), "--now", NOW.isoformat(), "--json"],
                              capture_output=True, text=True, env=env, timeout=60)
        assert done.returncode == 1 and "101" in json.loads(done.stdout)["failed"], done.stderr
        assert "***" in json.loads(done.stdout)["failed"]["101"]
        assert not leaks(config.read_text() + done.stdout + done.stderr) and not leaks(state_bytes(tmp_path))
    finally:
        fake.stop()


# ------------------------------------------------------------------------ TLS

def test_tls_is_verified_by_default_and_turning_it_off_warns(tmp_path, caplog):
    config = config_for(tmp_path, "https://center.example", api_key=TOKEN)
    assert FreshdeskAdapter(dict(config.adapter), config).session.verify is True
    caplog.set_level(logging.WARNING, logger="govhall")
    off = config_for(tmp_path, "https://center.example", api_key=TOKEN, verify_tls=False)
    adapter = FreshdeskAdapter(dict(off.adapter), off)
    assert adapter.session.verify is False
    (warning,) = [r for r in caplog.records if "TLS verification is OFF" in r.getMessage()]
    assert warning.levelno == logging.WARNING and "adapter.verify_tls = false" in warning.getMessage()
    assert not leaks(caplog.text)
    with pytest.raises(ConfigError, match=r"adapter\.verify_tls"):
        bad = config_for(tmp_path, "https://center.example", api_key=TOKEN, verify_tls="no")
        FreshdeskAdapter(dict(bad.adapter), bad)


def test_the_cli_warns_on_stderr_when_tls_verification_is_off(tmp_path):
    fake = new_fake(api_key=TOKEN)
    try:
        config = write_config(tmp_path, fake.url, api_key=TOKEN, verify_tls=False)
        done = run_cli(config)
        assert done.returncode == 0
        assert "TLS verification is OFF" in done.stderr and not leaks(done.stderr + done.stdout)
    finally:
        fake.stop()


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory):
    program("openssl")
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(d / "key.pem"),
                    "-out", str(d / "cert.pem"), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return str(d / "cert.pem"), str(d / "key.pem")


def _tls_runs(fake, tmp_path):
    strict = config_for(tmp_path / "strict", fake.url, api_key=TOKEN)
    summary = run_in_process(strict)
    failure = json.dumps(summary.as_dict(), ensure_ascii=False)
    assert list(summary.errors) == ["(pull)"] and summary.written == 0
    assert "CERTIFICATE_VERIFY_FAILED" in failure and not leaks(failure)
    assert fake.log == [], "no request got through the TLS handshake"
    relaxed = config_for(tmp_path / "relaxed", fake.url, api_key=TOKEN, verify_tls=False)
    summary = run_in_process(relaxed)
    assert summary.ok and summary.written == 16


def test_a_self_signed_helpdesk_is_refused_unless_verify_tls_is_false(self_signed, tmp_path, monkeypatch):
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    fake = new_fake(api_key=TOKEN, tls=self_signed)
    try:
        assert fake.url.startswith("https://")
        _tls_runs(fake, tmp_path)
    finally:
        fake.stop()


def test_verify_tls_false_holds_when_a_ca_bundle_is_set_in_the_environment(self_signed, tmp_path, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    fake = new_fake(api_key=TOKEN, tls=self_signed)
    try:
        _tls_runs(fake, tmp_path)
    finally:
        fake.stop()


def test_a_key_cut_by_the_error_detail_limit_is_not_half_shown(tmp_path):
    fake = new_fake(api_key=TOKEN)
    try:
        body = {"pad": "x" * 266, "key": TOKEN}  # the key starts at character 286 of the body
        fake.faults.append(Fault("500", endpoint="note", ticket="101", payload=body))
        summary = run_in_process(config_for(tmp_path, fake.url, api_key=TOKEN))
        message = summary.failed["101"]
        assert "HTTP 500" in message and "xxxxxxxx" in message
        assert TOKEN[:8] not in message, message[-60:]
    finally:
        fake.stop()
