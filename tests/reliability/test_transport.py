"""Credentials reach the configured helpdesk and nothing else; a redirected write is a failed write.

Two real servers on loopback: the fake Freshdesk on 127.0.0.1, and a
:class:`Stranger` on 127.0.0.2 that records every byte it receives. The
redirects, pagination links and base URLs of the tests point from the first to
the second; the stranger must receive nothing, and the canary token must not
appear in any output, log, exception, state or audit byte.
"""
import base64
import json
import logging
import subprocess

import pytest

from govhall_adapters.freshdesk import FreshdeskAdapter
from govhall_adapters.jira import JiraAdapter
from govhall_adapters.redmine import RedmineAdapter
from govhall_adapters.zammad import ZammadAdapter
from govhall_adapters.zendesk import ZendeskAdapter
from govhall_sdk.config import ConfigError
from govhall_sdk.http import HTTPError, RetryPolicy

from .fake_helpdesk import Fault, Redirector, Stranger
from .harness import GOVHALL, NOW, cli_env, config_for, new_fake, run_in_process, write_config

TOKEN = "tok-REDIRECT-CANARY-5c2e"
CANARIES = (TOKEN, base64.b64encode(f"{TOKEN}:X".encode()).decode())


def leaks(text):
    if isinstance(text, bytes):
        return [c for c in CANARIES if c.encode() in text]
    return [c for c in CANARIES if c in text]


def state_bytes(tmp_path):
    return b"".join(p.read_bytes() for p in sorted(tmp_path.glob("state.sqlite*")))


@pytest.fixture
def stranger():
    s = Stranger()
    yield s
    s.stop()


@pytest.fixture
def fake():
    f = new_fake(api_key=TOKEN)
    yield f
    f.stop()


def cli_run(config, *args):
    done = subprocess.run([GOVHALL, "run", "--config", str(config), "--now", NOW.isoformat(), *args],
                          capture_output=True, text=True, env=cli_env(), timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    return done


# ------------------------------------------------------------------ writes never follow a redirect

@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("endpoint", ["note", "update"])
def test_a_redirected_write_is_a_failed_write_retried_next_run(status, endpoint, fake, stranger, tmp_path,
                                                              reference):
    tid = next(t for t, got in reference[0].items() if got["notes"])  # a ticket that gets a note and an update
    fake.faults.append(Fault("redirect", endpoint=endpoint, ticket=tid, times=99,
                             payload={"status": status, "location": f"{stranger.url}/api/v2/tickets/{tid}"}))
    config = write_config(tmp_path, fake.url, api_key=TOKEN)
    first = cli_run(config)
    assert first.returncode == 1, first.stdout + first.stderr
    assert f"NOT WRITTEN {tid}" in first.stdout and f"HTTP {status} redirect" in first.stdout
    assert "written 15" in first.stdout  # the other tickets went on
    assert stranger.received == []
    fake.faults.clear()
    second = cli_run(config)
    assert second.returncode == 0, second.stdout + second.stderr
    assert fake.snapshot() == reference[0]  # retried: nothing lost, nothing written twice
    assert fake.duplicates() == {}
    assert not leaks(first.stdout + first.stderr + second.stdout + second.stderr)
    assert not leaks(state_bytes(tmp_path))


# ------------------------------------------------------------------ reads: same origin only

def test_a_read_follows_a_redirect_within_the_helpdesk(fake, tmp_path, reference):
    fake.faults += [Fault("redirect", endpoint="list", times=1, payload={"status": 302}),
                    Fault("redirect", endpoint="conversations", times=2, payload={"status": 307})]
    summary = run_in_process(config_for(tmp_path, fake.url, api_key=TOKEN))
    assert summary.ok, summary.as_dict()
    assert fake.snapshot() == reference[0]
    assert [(k, e) for k, e, *_ in fake.injected] == [("redirect", "list")] + [("redirect", "conversations")] * 2


@pytest.mark.parametrize("endpoint", ["list", "conversations"])
def test_a_read_redirected_to_another_host_is_an_error_naming_both(endpoint, fake, stranger, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    fake.faults.append(Fault("redirect", endpoint=endpoint, times=99,
                             payload={"status": 301, "location": f"{stranger.url}/api/v2/tickets"}))
    summary = run_in_process(config_for(tmp_path, fake.url, api_key=TOKEN))
    assert not summary.ok
    reasons = " ".join([*summary.errors.values(), *summary.failed.values(), *(summary.as_dict().get("fatal") or [])])
    text = json.dumps(summary.as_dict(), ensure_ascii=False)
    assert "127.0.0.2" in text and "127.0.0.1" in text, text
    assert stranger.received == []
    assert not leaks(text + reasons + caplog.text) and not leaks(state_bytes(tmp_path))


def test_a_pagination_link_to_another_host_is_refused(fake, stranger, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    fake.link_base = stranger.url
    fake.add_ticket({"id": 901, "subject": "长对话", "created_at": "2025-03-03T01:00:00Z"},
                    [{"body": f"回复 {i}", "created_at": "2025-03-03T02:00:00Z"} for i in range(101)])  # 2 pages
    config = write_config(tmp_path, fake.url, api_key=TOKEN)
    done = cli_run(config, "--json")
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout + done.stderr
    assert "901" in json.loads(done.stdout)["errors"]
    assert stranger.url.split("//")[1] in out and "is not the configured helpdesk" in out, out
    assert stranger.received == []
    assert not leaks(out) and not leaks(state_bytes(tmp_path))


# ------------------------------------------------------------------ every adapter, every kind of credential

def adapters(url):
    """(adapter class, settings) of every REST adapter pointed at ``url``, each with the canary as its token."""
    mapped = {"statuses": {}, "start": "2025-01-01T00:00:00Z"}
    return [
        (RedmineAdapter, {"url": url, "api_key": TOKEN, "project": "govhall",
                          "custom_fields": {"tags": 1}}),  # X-Redmine-API-Key
        (ZendeskAdapter, {"url": url, "email": "bot@example.com", "api_token": TOKEN, **mapped}),  # basic, email/token
        (FreshdeskAdapter, {"url": url, "api_key": TOKEN, **mapped}),  # basic, key:X
        (JiraAdapter, {"url": url, "email": "bot@example.com", "api_token": TOKEN, "jql": "project = GOV",
                       **mapped}),  # basic, email:token
        (ZammadAdapter, {"url": url, "token": TOKEN, **mapped}),  # Authorization: Token token=
    ]


@pytest.mark.parametrize("status", [301, 307, 308])
@pytest.mark.parametrize("index", range(5), ids=["redmine", "zendesk", "freshdesk", "jira", "zammad"])
def test_no_adapter_sends_a_credential_to_another_host(index, status, stranger, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    redirector = Redirector(stranger.url, status)
    try:
        cls, settings = adapters(redirector.url)[index]
        config = config_for(tmp_path, redirector.url, api_key=TOKEN)
        adapter = cls(settings, config, retry=RetryPolicy(attempts=2, base=0.0), sleep=lambda s: None)
        seen = [repr(adapter)]
        for call in (lambda: list(adapter.pull(None)), lambda: adapter.request("GET", "/anything.json"),
                     lambda: adapter.request("PUT", "/anything.json", json={"x": TOKEN})):
            with pytest.raises(HTTPError) as raised:
                call()
            message = str(raised.value)
            seen.append(message)
            assert "127.0.0.2" in message and "127.0.0.1" in message, message
        assert stranger.received == [], stranger.text()
        assert redirector.seen  # the requests did reach the configured host
        assert not leaks("\n".join(seen) + caplog.text)
    finally:
        redirector.stop()


def test_an_absolute_url_to_another_host_is_never_sent(fake, stranger, tmp_path):
    config = config_for(tmp_path, fake.url, api_key=TOKEN)
    adapter = FreshdeskAdapter(dict(config.adapter), config, retry=RetryPolicy(attempts=1), sleep=lambda s: None)
    for url in (f"{stranger.url}/api/v2/tickets", f"{fake.url.replace('http:', 'https:')}/api/v2/tickets",
                fake.url.rsplit(":", 1)[0] + ":1/api/v2/tickets"):
        with pytest.raises(HTTPError, match="is not the configured helpdesk") as raised:
            adapter.request("GET", url)
        assert not raised.value.retryable
    assert stranger.received == []


# ------------------------------------------------------------------ transport

@pytest.mark.parametrize("url", ["http://helpdesk.example", "http://10.0.0.5:8080", "http://[2001:db8::1]/"])
@pytest.mark.parametrize("index", range(5), ids=["redmine", "zendesk", "freshdesk", "jira", "zammad"])
def test_plain_http_is_refused_unless_loopback_or_allowed(index, url, tmp_path, caplog):
    cls, settings = adapters(url)[index]
    config = config_for(tmp_path, url, api_key=TOKEN)
    with pytest.raises(ConfigError, match=r"adapter\.url: http:// sends the credentials in clear text"):
        cls(settings, config)
    caplog.set_level(logging.WARNING, logger="govhall")
    cls({**settings, "allow_http": True}, config)
    assert "plain http://" in caplog.text and "allow_http" in caplog.text
    caplog.clear()
    cls({**settings, "url": "https://helpdesk.example"}, config)
    cls({**settings, "url": "http://127.0.0.2:3000"}, config)
    cls({**settings, "url": "http://localhost:3000"}, config)
    assert caplog.text == ""


@pytest.mark.parametrize("url, problem", [
    ("https://bot:secret@helpdesk.example", "must not carry a user or password"),
    ("https://helpdesk.example/?key=1", "must not carry a query"),
    ("https://helpdesk.example/\n", "whitespace or a control character"),
    ("ftp://helpdesk.example", "expected an http(s) URL"),
    ("helpdesk.example", "expected an http(s) URL"),
])
def test_a_base_url_that_could_leak_is_refused(url, problem, tmp_path):
    config = config_for(tmp_path, url, api_key=TOKEN)
    with pytest.raises(ConfigError) as raised:
        FreshdeskAdapter(dict(adapters(url)[2][1]), config)
    assert problem in str(raised.value) and "secret" not in str(raised.value)


#: A plain-http helpdesk on no loopback host (so allow_http is needed and warned about) that refuses at once:
#: connecting to 0.0.0.0 reaches this machine, where nothing listens on port 9. An unroutable address
#: (192.0.2.1) is refused at once on some networks and silently dropped on others (30 s a try, 6 tries).
NO_SERVER = "http://0.0.0.0:9"


def test_allow_http_warns_at_every_run(tmp_path):
    config = write_config(tmp_path, NO_SERVER, api_key=TOKEN, allow_http=True)
    for _ in range(2):
        done = subprocess.run([GOVHALL, "run", "--config", str(config), "--now", NOW.isoformat(), "--limit", "1"],
                              capture_output=True, text=True, env=cli_env(), timeout=120)
        assert "govhall: warning: adapter 'freshdesk' sends its credentials over plain http://" in done.stderr
        assert not leaks(done.stdout + done.stderr)


# ------------------------------------------------------------------ secrets from config and environment

def test_a_token_pasted_with_a_newline_is_stripped(fake, tmp_path, reference, monkeypatch):
    monkeypatch.setenv("GOVHALL_FD_KEY", f"  {TOKEN}\n")
    config = config_for(tmp_path, fake.url, api_key=TOKEN)
    settings = {k: v for k, v in config.adapter.items() if k != "api_key"} | {"api_key_env": "GOVHALL_FD_KEY"}
    adapter = FreshdeskAdapter(settings, config)
    assert adapter.settings["api_key"] == TOKEN
    path = write_config(tmp_path, fake.url, api_key=f"{TOKEN}\n")
    done = cli_run(path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert fake.snapshot() == reference[0]
    assert not leaks(done.stdout + done.stderr)


@pytest.mark.parametrize("bad", [f"{TOKEN[:8]}\n{TOKEN[8:]}", f"{TOKEN}\x1b[2K", f"\u202e{TOKEN}", f"{TOKEN}\x00",
                                 f"{TOKEN}\r\nX-Injected: 1"])
def test_a_token_with_a_control_character_is_a_config_error_that_never_echoes_it(bad, tmp_path, monkeypatch):
    config = config_for(tmp_path, "https://helpdesk.example", api_key=bad)
    with pytest.raises(ConfigError, match=r"adapter\.api_key: holds a control character") as raised:
        FreshdeskAdapter(dict(config.adapter), config)
    assert not leaks(str(raised.value)) and TOKEN[:8] not in str(raised.value)
    if "\x00" in bad:
        return  # an environment variable cannot hold a NUL
    path = write_config(tmp_path, "https://helpdesk.example", api_key=TOKEN)
    text = path.read_text(encoding="utf-8").replace(f'"api_key" = "{TOKEN}"', 'api_key_env = "GOVHALL_FD_KEY"')
    path.write_text(text, encoding="utf-8")
    done = subprocess.run([GOVHALL, "run", "--config", str(path), "--now", NOW.isoformat()], capture_output=True,
                          text=True, env={**cli_env(), "GOVHALL_FD_KEY": bad}, timeout=120)
    assert done.returncode == 2 and "adapter.api_key_env ($GOVHALL_FD_KEY): holds a control character" in done.stderr
    assert not leaks(done.stdout + done.stderr) and TOKEN[:8] not in done.stdout + done.stderr


def test_a_non_string_token_is_not_echoed(tmp_path):
    config = config_for(tmp_path, "https://helpdesk.example", api_key=TOKEN)
    with pytest.raises(ConfigError) as raised:
        FreshdeskAdapter({**config.adapter, "api_key": 987654321}, config)
    assert "987654321" not in str(raised.value) and "expected a string" in str(raised.value)


def test_a_header_the_http_library_refuses_is_redacted(stranger, tmp_path, caplog):
    """A token that http.client cannot encode (not latin-1): the error is the request's, redacted."""
    caplog.set_level(logging.DEBUG)
    token = f"令牌-{TOKEN}"
    config = config_for(tmp_path, stranger.url, api_key=token)
    adapter = RedmineAdapter({"url": stranger.url, "api_key": token, "project": "govhall",
                              "custom_fields": {"tags": 1}}, config, retry=RetryPolicy(attempts=3, base=0.0),
                             sleep=lambda s: None)
    with pytest.raises(HTTPError) as raised:
        adapter.request("GET", "/issues.json")
    import traceback

    text = str(raised.value) + "".join(traceback.format_exception(raised.value)) + caplog.text
    assert "UnicodeEncodeError" in text and not leaks(text) and "令牌" not in text
    assert not raised.value.retryable and stranger.received == []


# ------------------------------------------------------------------ logging

@pytest.mark.parametrize("how", [["-vv"], ["--log-level", "debug"], ["-v", "--log-level=DEBUG"], "env"])
def test_debug_logs_are_redacted(how, fake, tmp_path):
    fake.echo_secret_in_errors = True
    fake.faults.append(Fault("500", endpoint="note", ticket="101", times=99))
    config = write_config(tmp_path, fake.url, api_key=TOKEN)
    env = {**cli_env(), "GOVHALL_LOG_LEVEL": "DEBUG"} if how == "env" else cli_env()
    args = [] if how == "env" else how
    done = subprocess.run([GOVHALL, *args, "run", "--config", str(config), "--now", NOW.isoformat()],
                          capture_output=True, text=True, env=env, timeout=180)
    assert done.returncode == 1, done.stderr
    assert "govhall: debug: urllib3" in done.stderr  # the HTTP library's request lines are there
    assert "127.0.0.1" in done.stderr
    assert not leaks(done.stdout + done.stderr) and not leaks(state_bytes(tmp_path))


def test_quiet_and_levels(tmp_path):
    config = write_config(tmp_path, NO_SERVER, api_key=TOKEN, allow_http=True)
    base = ["run", "--config", str(config), "--now", NOW.isoformat(), "--limit", "1", "--dry-run"]
    quiet = subprocess.run([GOVHALL, *base, "-q"], capture_output=True, text=True, env=cli_env(), timeout=120)
    assert "warning" not in quiet.stderr
    bad = subprocess.run([GOVHALL, "rules"], capture_output=True, text=True,
                         env={**cli_env(), "GOVHALL_LOG_LEVEL": "chatty"}, timeout=60)
    assert bad.returncode == 2 and "GOVHALL_LOG_LEVEL: expected one of DEBUG" in bad.stderr
