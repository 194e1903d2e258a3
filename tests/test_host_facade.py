"""The host owns pluggy: every hook goes through the plugin manager, each rule plugin isolated per ticket."""
import pytest

from govhall_sdk import hookimpl
from govhall_sdk import RuleResult
from govhall_sdk.host import PluginError, Registration, new_plugin_manager
from govhall_sdk.model import Finding
from govhall_sdk.testing import build_engine, build_ticket

NOW = "2025-03-03T09:00:00+08:00"
OVERDUE = dict(kind="complaint", channel="phone", created_at="2025-01-06T09:00:00+08:00", department="综合窗口")


def at(text):
    from datetime import datetime
    return datetime.fromisoformat(text)


def extra_finding(code="x.extra"):
    return Finding(code=code, rule="x", severity="info", clause="x", message="x")


class Wrapper:
    @hookimpl(wrapper=True)
    def govhall_evaluate_ticket(self, ticket, ctx):
        results = yield
        return [*results, RuleResult(findings=[extra_finding()])]


class OldStyleWrapper:
    @hookimpl(hookwrapper=True)
    def govhall_evaluate_ticket(self, ticket, ctx):
        outcome = yield
        outcome.force_result([*outcome.get_result(), RuleResult(findings=[extra_finding("x.old")])])


class ReturnsDict:
    @hookimpl
    def govhall_evaluate_ticket(self, ticket, ctx):
        return {"clocks": [], "findings": []}


class Raises:
    @hookimpl
    def govhall_evaluate_ticket(self, ticket, ctx):
        raise RuntimeError("boom")


class BadResponsibility:
    @hookimpl(tryfirst=True)
    def govhall_responsibility(self, ticket, ctx):
        return ["s1"]


class RaisingWrapper:
    @hookimpl(wrapper=True)
    def govhall_evaluate_ticket(self, ticket, ctx):
        yield
        raise ValueError("wrapper broke")


class NotAGenerator:
    @hookimpl(wrapper=True)
    def govhall_evaluate_ticket(self, ticket, ctx):
        return None


def evaluate(pm):
    return build_engine(pm).evaluate(build_ticket(**OVERDUE), at(NOW))


@pytest.mark.parametrize("plugin, code", [(Wrapper(), "x.extra"), (OldStyleWrapper(), "x.old")])
def test_wrappers_work(plugin, code):
    pm = new_plugin_manager()
    pm.register(plugin, name="wrapper")
    r = evaluate(pm)
    codes = [f.code for f in r.findings]
    assert code in codes and "tl.overdue" in codes and r.errors == []


@pytest.mark.parametrize("plugin, words", [(ReturnsDict(), "returned dict"), (Raises(), "RuntimeError: boom")])
def test_a_failing_rule_plugin_is_an_error_naming_it_and_the_others_run(plugin, words):
    pm = new_plugin_manager()
    pm.register(plugin, name="bad_rule")
    r = evaluate(pm)
    assert "tl.overdue" in [f.code for f in r.findings]
    assert len(r.errors) == 1 and "'bad_rule'" in r.errors[0] and words in r.errors[0]


def test_a_responsibility_plugin_with_a_wrong_type_is_an_error_naming_it():
    pm = new_plugin_manager()
    pm.register(BadResponsibility(), name="bad_resp")
    r = evaluate(pm)
    assert any("'bad_resp'" in e and "returned list" in e for e in r.errors)
    assert set(r.responsible) >= {"first_inquiry", "first_handler"}


def test_a_raising_wrapper_is_an_error_naming_it():
    pm = new_plugin_manager()
    pm.register(RaisingWrapper(), name="bad_wrapper")
    r = evaluate(pm)
    assert r.findings == [] and len(r.errors) == 1
    assert "'bad_wrapper'" in r.errors[0] and "wrapper broke" in r.errors[0]


def test_a_wrapper_that_is_not_a_generator_is_refused_at_registration():
    pm = new_plugin_manager()
    with pytest.raises(PluginError, match="not_a_generator"):
        pm.register(NotAGenerator(), name="not_a_generator")


def test_hook_call_monitoring_sees_every_evaluation():
    pm = new_plugin_manager()
    seen = []
    pm.add_hookcall_monitoring(lambda name, impls, kwargs: seen.append(name), lambda *a: None)
    evaluate(pm)
    assert "govhall_evaluate_ticket" in seen and "govhall_responsibility" in seen


def test_output_order_does_not_depend_on_registration_order():
    import govhall_plugins.first_responsibility as fr
    import govhall_plugins.time_limit as tl
    import govhall_plugins.calendars as cal
    orders = []
    for plugins in ((tl, fr), (fr, tl)):
        pm = new_plugin_manager(load_entry_points=False)
        pm.register(cal, name="calendars")
        for p in plugins:
            pm.register(p, name=p.__name__.rsplit(".", 1)[1])
        r = build_engine(pm).evaluate(build_ticket(**OVERDUE, events=[
            {"type": "assignment", "at": "2025-01-06T10:00:00+08:00", "from_department": "A", "to_department": "B"},
            {"type": "assignment", "at": "2025-01-06T11:00:00+08:00", "from_department": "B", "to_department": "A"}]),
            at(NOW))
        orders.append(([c.name for c in r.clocks], [f.code for f in r.findings]))
    assert orders[0] == orders[1]


def test_registries_are_named():
    pm = new_plugin_manager()
    reg = pm.rules["tl.overdue"]
    assert isinstance(reg, Registration) and reg.plugin == "time_limit" and reg.obj.code == "tl.overdue"
    assert pm.policies["time_limit"].obj["complaint_working_days"] == 15
    assert pm.adapters["local"].plugin == "local"
