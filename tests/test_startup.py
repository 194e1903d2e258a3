"""Start-up of `govhall check`: what it imports and the caches of the `cn` calendar and of the installed plugins
(behaviour, not timings).

Each check runs in a fresh interpreter, since this test process has imported
everything already. The figures are in ``benchmarks/bench_startup.py``.
"""
import json
import os
import subprocess
import sys

import pytest

NOW = "2025-03-14T16:00:00+08:00"
TICKET = {
    "id": "T-1", "kind": "application", "created_at": "2025-03-03T09:00:00+08:00",
    "accepted_at": "2025-03-03T10:00:00+08:00", "promised_working_days": 5, "department": "市场监管窗口",
    "events": [{"type": "reply", "at": "2025-03-03T09:30:00+08:00", "public": True,
                "actor": {"id": "s1", "role": "staff", "department": "市场监管窗口"}, "body": "这事不归我管"}],
}
#: Runs `govhall check ARGS...`, then prints on stderr which of the watched modules it imported.
CHECK = """
import sys
from govhall_sdk.cli import main
code = main(sys.argv[1:])
watched = ("holidays", "requests", "chinese_calendar", "importlib.metadata")
sys.stderr.write("\\nIMPORTED " + ",".join(m for m in watched if m in sys.modules) + "\\n")
sys.exit(code)
"""


def _python(code, *args, cache, check=True, env=None):
    env = {**os.environ, **(env or {}), "GOVHALL_CACHE_DIR": str(cache)}
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, env=env,
                          check=check, timeout=120)


def _check(path, cache, env=None):
    out = _python(CHECK, "check", path, "--now", NOW, "--format", "json", cache=cache, env=env)
    imported = out.stderr.rsplit("IMPORTED ", 1)[1].split()
    return out.stdout, set(imported[0].split(",")) if imported else set()


@pytest.fixture
def ticket_file(tmp_path):
    path = tmp_path / "one.json"
    path.write_text(json.dumps(TICKET, ensure_ascii=False), encoding="utf-8")
    return path


def test_the_core_imports_neither_the_holiday_library_nor_requests(tmp_path):
    code = ("import sys, govhall_sdk.calendar, govhall_sdk.engine, govhall_sdk.host, govhall_sdk.patch, "
            "govhall_sdk.rules; print(sorted(m for m in ('holidays', 'requests') if m in sys.modules))")
    assert _python(code, cache=tmp_path).stdout.strip() == "[]"


def test_a_check_reads_the_cn_calendar_from_its_cache(ticket_file, tmp_path):
    cache = tmp_path / "cache"
    first, imported_first = _check(ticket_file, cache)
    assert "holidays" in imported_first  # nothing cached yet: the library builds the calendar
    assert len(list(cache.glob("cn-*.json"))) == 1
    second, imported_second = _check(ticket_file, cache)
    assert "holidays" not in imported_second
    assert second == first and json.loads(second)["tickets"][0]["clocks"]


def test_a_damaged_or_stale_cache_is_not_used(ticket_file, tmp_path):
    cache = tmp_path / "cache"
    expected, _ = _check(ticket_file, cache)
    (path,) = cache.glob("cn-*.json")
    head, _, body = path.read_bytes().partition(b"\n")
    path.write_bytes(head + b"\n" + body.replace(b'"published_years":[', b'"published_years":[1999,'))
    out, imported = _check(ticket_file, cache)
    assert out == expected and "holidays" in imported  # the digest did not match: the library was asked
    out, imported = _check(ticket_file, cache)
    assert out == expected and "holidays" not in imported  # and the cache was written again


def test_the_cache_can_be_turned_off(ticket_file, tmp_path):
    out, imported = _check(ticket_file, "")
    assert "holidays" in imported and json.loads(out)["tickets"]


def test_the_cached_source_equals_the_library_s(tmp_path, monkeypatch):
    import govhall_plugins.calendars as calendars
    from govhall_sdk.calendar import WorkCalendar, china_holidays_source

    monkeypatch.setenv("GOVHALL_CACHE_DIR", str(tmp_path))
    built = calendars.china_cached_source()
    cached = calendars.china_cached_source()
    library = china_holidays_source()
    assert built == cached == library
    assert list(cached.holiday_names.items()) == list(library.holiday_names.items())
    assert WorkCalendar(cached).fingerprint() == WorkCalendar(library).fingerprint()


def test_a_check_imports_no_http_retry_state_or_progress_library(tmp_path):
    """Adapters are registered without importing requests or tenacity; the state store and the progress bars
    are imported by the commands that use them."""
    (tmp_path / "one.json").write_text('{"tickets": []}', encoding="utf-8")
    code = ("import sys\nfrom govhall_sdk.cli import main\nmain(['check', " + repr(str(tmp_path / "one.json"))
            + ", '--now', '" + NOW + "'])\nprint([m for m in ('requests', 'urllib3', 'tenacity', 'filelock', 'tqdm') "
            "if m in sys.modules])")
    assert _python(code, cache=tmp_path).stdout.strip().splitlines()[-1] == "[]"


def test_a_check_reads_the_installed_plugins_from_their_cache(ticket_file, tmp_path):
    cache, folder = tmp_path / "cache", tmp_path / "on-the-path"
    folder.mkdir()
    first, imported_first = _check(ticket_file, cache, env={"PYTHONPATH": str(folder)})
    assert "importlib.metadata" in imported_first  # nothing cached yet: the distributions' metadata is read
    (path,) = cache.glob("entry-points-*.json")
    names = [entry[0] for entry in json.loads(path.read_text(encoding="utf-8"))["entry_points"]]
    assert names == sorted(names) and {"time_limit", "calendars", "local"} <= set(names)
    (folder / "notes.txt").write_text("not a distribution", encoding="utf-8")  # the folder changes, not what it offers
    second, imported_second = _check(ticket_file, cache, env={"PYTHONPATH": str(folder)})
    assert "importlib.metadata" not in imported_second
    assert second == first and len(list(cache.glob("entry-points-*.json"))) == 1


def test_a_damaged_plugin_cache_is_not_used(ticket_file, tmp_path):
    cache = tmp_path / "cache"
    expected, _ = _check(ticket_file, cache)
    (path,) = cache.glob("entry-points-*.json")
    for damage in ('{"key": "x", "entry_points": []}', "[1, 2", '{"entry_points": [["time_limit", 3, null, null]]}'):
        path.write_text(damage, encoding="utf-8")
        out, imported = _check(ticket_file, cache)
        assert out == expected and "importlib.metadata" in imported  # the metadata was read again
    out, imported = _check(ticket_file, cache)
    assert out == expected and "importlib.metadata" not in imported  # and the cache was written again


def test_a_plugin_installed_later_is_found(ticket_file, tmp_path):
    """A distribution installed after the cache was written changes the folder it is in, and so the key."""
    cache, site = tmp_path / "cache", tmp_path / "site"
    site.mkdir()
    env = {"PYTHONPATH": str(site)}
    code = ("import sys\nfrom govhall_sdk.host import new_plugin_manager\n"
            "print(new_plugin_manager().has_plugin('later'))")
    assert _python(code, cache=cache, env=env).stdout.strip() == "False"
    (site / "later_rule.py").write_text("", encoding="utf-8")
    info = site / "later_rule-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: later-rule\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[govhall]\nlater = later_rule\n", encoding="utf-8")
    assert _python(code, cache=cache, env=env).stdout.strip() == "True"


#: Runs a check, then prints which adapter modules and whether the REST kit it imported.
CHECK_ADAPTERS = CHECK.replace('watched = ("holidays", "requests", "chinese_calendar", "importlib.metadata")',
                               'watched = [m for m in sys.modules if m.startswith(("govhall_adapters.", '
                               '"govhall_sdk.rest", "later_"))]')


def test_a_check_imports_no_adapter_once_their_hooks_are_cached(ticket_file, tmp_path):
    cache = tmp_path / "cache"
    first = _python(CHECK_ADAPTERS, "check", ticket_file, "--now", NOW, "--format", "json", cache=cache)
    assert "govhall_adapters.zendesk" in first.stderr  # nothing cached yet: every plugin is imported once
    (hooks,) = cache.glob("plugin-hooks-*.json")
    zendesk = json.loads(hooks.read_text(encoding="utf-8"))["plugins"]["zendesk"]
    assert zendesk["hooks"] == ["govhall_register_adapters"] and zendesk["adapters"] == ["zendesk"]
    second = _python(CHECK_ADAPTERS, "check", ticket_file, "--now", NOW, "--format", "json", cache=cache)
    imported = second.stderr.rsplit("IMPORTED ", 1)[1].strip().split(",")
    assert second.stdout == first.stdout
    assert not [m for m in imported if m.startswith("govhall_sdk.rest") or m.split(".")[-1] in
                ("zendesk", "freshdesk", "jira", "zammad", "redmine", "rest_generic")]


def test_a_waiting_adapter_is_there_when_asked_for_and_a_changed_module_is_read_again(tmp_path):
    cache, site = tmp_path / "cache", tmp_path / "site"
    site.mkdir()
    module = site / "later_desk.py"
    module.write_text("from govhall_sdk import hookimpl\n\nclass Desk:\n    pass\n\n@hookimpl\n"
                      "def govhall_register_adapters(register):\n    register('later-desk', Desk)\n", encoding="utf-8")
    info = site / "later_desk-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: later-desk\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[govhall]\nlater_desk = later_desk\n", encoding="utf-8")
    env = {"PYTHONPATH": str(site)}
    code = ("import sys\nfrom govhall_sdk.host import new_plugin_manager\npm = new_plugin_manager()\n"
            "print('later_desk' in sys.modules, 'later-desk' in pm.adapter_names, 'later.rule' in pm.rules)\nprint(pm.adapters['later-desk'].obj.__name__, 'later_desk' in sys.modules)")
    assert _python(code, cache=cache, env=env).stdout.split() == ["True", "True", "False", "Desk", "True"]
    # cached now: the adapter waits, its name is known, and asking for it imports it
    assert _python(code, cache=cache, env=env).stdout.split() == ["False", "True", "False", "Desk", "True"]
    module.write_text(module.read_text(encoding="utf-8") + (
        "\nfrom govhall_sdk.rules import RuleInfo\n\n@hookimpl\ndef govhall_register_rules(register):\n"
        "    register(RuleInfo('later.rule', 'later', 'info', 'x'))\n"), encoding="utf-8")
    os.utime(module, ns=(os.stat(module).st_atime_ns, os.stat(module).st_mtime_ns + 10**9))
    # the module changed: imported at start-up again, and its new rule hook is seen
    assert _python(code, cache=cache, env=env).stdout.split() == ["True", "True", "True", "Desk", "True"]


#: Runs a check, then prints which of the modules a check does not need it imported.
CHECK_UNNEEDED = CHECK.replace('watched = ("holidays", "requests", "chinese_calendar", "importlib.metadata")',
                               'watched = ("govhall_sdk.cli.run", "govhall_sdk.cli.audit", "govhall_sdk.cli.report", '
                               '"govhall_sdk.cli.period", "govhall_sdk.cli.completion", "govhall_sdk.cli.rules", '
                               '"govhall_sdk.cli.plugins", "govhall_sdk.cli.calendar", "govhall_sdk.cli.progress", '
                               '"govhall_adapters.local_commands", "govhall_adapters.redmine_setup", '
                               '"govhall_adapters.local", "govhall_sdk.storage", "sqlite3", "subprocess", "tempfile")')


def test_a_check_builds_only_its_own_command_and_imports_no_plugin_command(ticket_file, tmp_path):
    """The other commands' modules are imported when they run, the plugins adding commands (``govhall local``,
    ``govhall redmine``) when the whole command line is built (help, completion, their own commands)."""
    cache = tmp_path / "cache"
    first = _python(CHECK_UNNEEDED, "check", ticket_file, "--now", NOW, "--format", "json", cache=cache)
    assert "govhall_adapters.local_commands" in first.stderr  # nothing cached yet: every plugin is imported once
    second = _python(CHECK_UNNEEDED, "check", ticket_file, "--now", NOW, "--format", "json", cache=cache)
    assert second.stdout == first.stdout and json.loads(second.stdout)["tickets"][0]["clocks"]
    assert second.stderr.rsplit("IMPORTED ", 1)[1].strip() == ""
    listed = _python(CHECK_UNNEEDED, "local", "list", "--config", tmp_path / "govhall.toml", cache=cache, check=False)
    assert "govhall_adapters.local_commands" in listed.stderr.rsplit("IMPORTED ", 1)[1]


def test_a_calendar_indexes_the_other_years_when_first_reached():
    """A new calendar indexes the published years and INDEX_YEARS_AHEAD after them; a computation reaching
    before or past them gives what a day-by-day count gives, and the calendar's limits stand."""
    import warnings
    from datetime import date, timedelta

    from govhall_sdk.calendar import INDEX_YEARS_AHEAD, WorkCalendar, china_holidays_source

    source = china_holidays_source()
    edge = date(max(source.published_years) + INDEX_YEARS_AHEAD, 12, 31)
    day = timedelta(days=1)

    def counted(cal, a, b):
        return sum(cal.is_working_day(a + k * day) for k in range(1, (b - a).days + 1))

    def added(cal, d, n):
        while n:
            d += day
            n -= cal.is_working_day(d)
        return d

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for d, n in [(edge - 3 * day, 5), (edge, 1), (edge + day, 0), (date(1990, 1, 1), 3), (edge - 40 * day, 60)]:
            assert WorkCalendar(source).add_working_days(d, n) == added(WorkCalendar(source), d, n), (d, n)
        for a, b in [(date(2024, 12, 20), date(2026, 1, 10)), (date(1999, 12, 1), date(2001, 2, 1)),
                     (edge - 10 * day, edge + 10 * day),
                     (date(2025, 1, 1), date(2100, 1, 1))]:
            assert WorkCalendar(source).count_working_days(a, b) == counted(WorkCalendar(source), a, b), (a, b)
        cal = WorkCalendar(source)
        assert cal.add_working_days(date(2025, 3, 14), 5) == date(2025, 3, 21)  # within the first years
        with pytest.raises(ValueError, match="past the calendar's last year"):
            cal.add_working_days(date(2150, 12, 1), 60)
        assert cal.add_working_days(date(2150, 12, 1), 5) == added(cal, date(2150, 12, 1), 5)


def test_a_check_of_plain_text_compiles_no_escaping_pattern(ticket_file, tmp_path):
    """The terminal's escaping patterns are compiled for the first text that needs them, not at import."""
    code = ("import sys\nfrom govhall_sdk.cli import main\nfrom govhall_sdk import terminal\n"
            "main(sys.argv[1:])\nprint(terminal._patterns.cache_info().currsize)\n"
            "print(terminal.printable('a\\rb'), terminal._patterns.cache_info().currsize)")
    out = _python(code, "check", ticket_file, "--now", NOW, "--format", "json", cache=tmp_path)
    assert out.stdout.splitlines()[-2:] == ["0", "a\\rb 1"]


def _tickets_file(path, n):
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps({**TICKET, "id": f"T-{i}"}, ensure_ascii=False) + "\n")
    return path


def test_a_short_file_is_read_without_msgspec_a_long_one_with_it(tmp_path):
    from govhall_sdk.cli.check_stream import TYPED_AFTER

    code = CHECK.replace('watched = ("holidays", "requests", "chinese_calendar", "importlib.metadata")',
                         'watched = ("msgspec",)')
    short = _python(code, "check", _tickets_file(tmp_path / "short.jsonl", TYPED_AFTER), "--now", NOW, cache=tmp_path)
    assert short.stderr.rsplit("IMPORTED ", 1)[1].strip() == ""
    long = _python(code, "check", _tickets_file(tmp_path / "long.jsonl", TYPED_AFTER + 1), "--now", NOW, cache=tmp_path)
    assert long.stderr.rsplit("IMPORTED ", 1)[1].strip() == "msgspec"


def test_the_tickets_read_before_and_after_the_typed_way_starts_give_the_same_output(tmp_path, monkeypatch, capsys):
    from govhall_sdk import reader
    from govhall_sdk.cli import check_stream, main

    path = _tickets_file(tmp_path / "tickets.jsonl", 40)
    typed = []
    monkeypatch.setattr(reader, "typed_ticket", lambda data, tz=None, _read=reader.typed_ticket: typed.append(1)
                        or _read(data, tz))
    outputs = []
    for after, expected in ((0, 40), (20, 20), (10 ** 9, 0)):
        typed.clear()
        monkeypatch.setattr(reader, "_misses", 0)  # tickets read earlier in this process decide nothing here
        monkeypatch.setattr(check_stream, "TYPED_AFTER", after)
        assert main(["check", str(path), "--now", NOW, "--format", "json"]) == 0
        outputs.append(capsys.readouterr().out)
        assert len(typed) == expected
    assert outputs[0] == outputs[1] == outputs[2] and len(json.loads(outputs[0])["tickets"]) == 40
