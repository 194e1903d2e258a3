"""Config: defaults from rules.md, validation with key paths and expected types."""
import pytest

from govhall_sdk.config import ConfigError, build_config, default_config, load_config
from govhall_sdk.host import get_plugin_manager

DEFAULTS = {"time_limit": {"complaint_working_days": 15}, "x": {"phrases": ["a"], "ratio": 0.1}}


def test_defaults():
    c = build_config({}, DEFAULTS)
    assert c.lang == "zh" and str(c.timezone) == "Asia/Shanghai" and c.warn_ratio == 0.8
    assert c.policy("time_limit") == {"complaint_working_days": 15} and c.calendar == "cn"


def test_overrides_and_int_for_float():
    c = build_config({"policy": {"x": {"ratio": 1, "phrases": ["b", "c"]}, "warn_ratio": 0.75}}, DEFAULTS)
    assert c.policy("x") == {"phrases": ["b", "c"], "ratio": 1.0} and c.warn_ratio == 0.75


@pytest.mark.parametrize("raw, message", [
    ({"colour": True}, "colour: unknown key"),
    ({"lang": "fr"}, "lang: expected one of zh, en"),
    ({"timezone": "Mars/Base"}, "timezone: unknown time zone"),
    ({"policy": {"time_limit": {"complaint_working_days": "15"}}},
     "policy.time_limit.complaint_working_days: expected an integer, got '15'"),
    ({"policy": {"time_limit": {"complaint_days": 15}}}, "policy.time_limit.complaint_days: unknown key"),
    ({"policy": {"nope": {}}}, "policy.nope: unknown key"),
    ({"policy": {"x": {"phrases": ["a", 1]}}}, "policy.x.phrases[1]: expected a string, got 1"),
    ({"policy": {"time_limit": {"complaint_working_days": True}}}, "expected an integer, got True"),
    ({"calendar": {"holidays": ["2027-13-01"]}}, "calendar.holidays[0]: expected a date"),
    ({"escalation": {"departments": {"不动产": {"level3": "x"}}}}, 'escalation.departments."不动产".level3: unknown key'),
    ({"policy": {"warn_ratio": 2}}, "policy.warn_ratio: expected a number in (0, 1]"),
])
def test_rejected_with_key_path(raw, message):
    with pytest.raises(ConfigError) as info:
        build_config(raw, DEFAULTS)
    assert message in str(info.value)


def test_escalation_targets_per_department():
    c = build_config({"escalation": {"level1": "值班长", "level2": "中心督查科",
                                     "departments": {"不动产登记": {"level1": "不动产首席代表"}}}}, DEFAULTS)
    assert c.escalation_target("不动产登记", 1) == "不动产首席代表"
    assert c.escalation_target("不动产登记", 2) == "中心督查科"
    assert c.escalation_target("税务", 1) == "值班长"


def test_load_config_reports_toml_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("lang = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad, get_plugin_manager())


def test_calendar_adjustments_from_config(tmp_path):
    from govhall_sdk.engine import Engine

    path = tmp_path / "govhall.toml"
    path.write_text('[calendar]\nholidays = ["2025-01-27"]\nworking_days = ["2025-02-09"]\n')
    engine = Engine(load_config(path, get_plugin_manager()))
    assert not engine.calendar.is_working_day(__import__("datetime").date(2025, 1, 27))
    assert engine.calendar.is_working_day(__import__("datetime").date(2025, 2, 9))


def test_strict_defaults_to_false_and_the_command_line_can_set_it(tmp_path):
    path = tmp_path / "govhall.toml"
    path.write_text("strict = true\n")
    assert load_config(path, get_plugin_manager()).strict is True
    config = default_config(get_plugin_manager())
    assert config.strict is False and config.with_strict().strict is True and config.strict is False
    assert config.with_strict(False).strict is False


def test_the_example_config_loads_with_strict_false():
    from pathlib import Path

    config = load_config(Path(__file__).parents[1] / "examples" / "govhall.toml", get_plugin_manager())
    assert config.strict is False and config.calendar == "cn"
