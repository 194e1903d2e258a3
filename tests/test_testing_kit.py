"""The pytest plugin ``govhall_sdk.testing``: isolated plugin managers, configs from dicts, the CLI runner,
the fake helpdesk that fails a test when a mocked route was never called."""
import pytest
import requests

from govhall_sdk.testing import FakeHelpdesk, pm_with

pytest_plugins = ["pytester"]

URL = "https://desk.example"


@pytest.mark.plugins("time_limit", "calendars")
def test_the_plugins_marker_loads_only_those(govhall_pm):
    assert set(dict(govhall_pm.list_name_plugin())) == {"time_limit", "calendars"}
    assert all(code.startswith("tl.") for code in govhall_pm.rules)


def test_a_manager_with_chosen_plugins_and_an_object(govhall_pm_with, make_ticket):
    from govhall_sdk import RuleInfo, hookimpl

    class Mine:
        @hookimpl
        def govhall_register_rules(self, register):
            register(RuleInfo("mine.x", "mine", "info", "第一条", "一个测试规则"))

    pm = govhall_pm_with("calendars", Mine())
    assert set(pm.rules) == {"mine.x"} and "time_limit" not in dict(pm.list_name_plugin())
    with pytest.raises(ValueError, match="no govhall plugin 'nope' is installed"):
        pm_with("nope")


def test_a_config_from_a_dict_keeps_state_in_tmp_path(govhall_config, tmp_path):
    config = govhall_config({"lang": "en", "timezone": "Asia/Shanghai"})
    assert config.lang == "en" and str(config.state_path).startswith(str(tmp_path))


@pytest.mark.plugins("time_limit", "calendars")
def test_make_engine_uses_the_chosen_plugins(make_engine, make_ticket):
    from datetime import datetime

    engine = make_engine({"lang": "en"})
    result = engine.evaluate(make_ticket(kind="complaint"), datetime.fromisoformat("2025-03-03T09:00:00+08:00"))
    assert {f.code.split(".")[0] for f in result.findings} <= {"tl"}


def test_the_cli_runner_returns_the_exit_code_and_both_streams(govhall_cli):
    listed = govhall_cli("rules", "--format", "json")
    assert listed.exit_code == 0 and listed.stderr == ""
    assert any(row["code"] == "tl.overdue" for row in listed.json())
    bad = govhall_cli("check", "tickets.json", "--no-such-option")
    assert bad.exit_code == 2 and "--no-such-option" in bad.stderr and bad.stdout == ""


def test_the_cli_runner_feeds_stdin(govhall_cli):
    ticket = '{"id": "T-1", "kind": "consultation", "created_at": "2025-03-03T09:00:00+08:00"}\n'
    result = govhall_cli("check", "-", "--now", "2025-03-03T10:00:00+08:00", "--format", "json", stdin=ticket)
    assert result.exit_code == 0, result.stderr
    assert "T-1" in result.stdout


def test_the_fake_serves_records_and_injects(fake_helpdesk):
    desk = fake_helpdesk(URL, auth="Bearer t")
    desk.route("GET", r"/tickets/(\d+)", lambda call, tid: (200, {"id": int(tid), "q": call.params}))
    desk.throttle("GET", r"/tickets/", times=1, retry_after=3)
    desk.fail("GET", r"/tickets/2", 500, {"error": "boom"})
    session = requests.Session()
    session.headers["Authorization"] = "Bearer t"
    first = session.get(f"{URL}/tickets/1?x=1")
    assert first.status_code == 429 and first.headers["Retry-After"] == "3"
    assert session.get(f"{URL}/tickets/1?x=1").json() == {"id": 1, "q": {"x": "1"}}
    assert session.get(f"{URL}/tickets/2").status_code == 500
    assert requests.get(f"{URL}/tickets/1").status_code == 401
    assert desk.requests("GET", r"/tickets/1") == 3 and [c.path for c in desk.sent("GET", r"/tickets/2")] == ["/tickets/2"]


def test_an_offered_route_may_stay_unused(fake_helpdesk):
    desk = fake_helpdesk(URL)
    desk.route("GET", r"/a", json={"ok": True}, expected=False)


def test_a_mocked_route_never_called_fails_the_test(pytester):
    pytester.makepyfile("""
        def test_unused(fake_helpdesk):
            desk = fake_helpdesk("https://desk.example")
            desk.route("GET", r"/used", json={})
            desk.route("POST", r"/never", json={})
            import requests
            requests.get("https://desk.example/used")

        def test_failing_anyway(fake_helpdesk):
            fake_helpdesk("https://desk.example").route("GET", r"/x", json={})
            assert False, "its own failure"
    """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*mocked routes never called: https://desk.example: POST /never*"])
    assert "GET /x" not in result.stdout.str()  # a test that failed on its own is not also blamed for its routes


def test_a_subclass_is_a_stateful_fake(fake_helpdesk):
    class Counter(FakeHelpdesk):
        unauthorized = {"message": "log in"}

        def __init__(self, base_url, mock):
            super().__init__(base_url, mock, auth="Token token=x")
            self.left = 2
            self.route("GET", r"/n", lambda call: (200, {"left": self.left}))

        def served_headers(self, call, served):
            self.left -= served
            return {"X-Left": str(self.left)}

    fake_helpdesk(URL, cls=Counter)
    answer = requests.get(f"{URL}/n", headers={"Authorization": "Token token=x"})
    assert answer.headers["X-Left"] == "1" and answer.json() == {"left": 1}
    assert requests.get(f"{URL}/n").json() == {"message": "log in"}
