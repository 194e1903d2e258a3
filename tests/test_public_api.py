"""The public plugin API: a rule plugin needs nothing of ours but ``govhall_sdk`` itself."""
import ast
from pathlib import Path

import govhall_sdk

ROOT = Path(__file__).parent.parent
PLUGIN_FILES = [*sorted((ROOT / "plugins").glob("*.py")), ROOT / "examples" / "sample-plugin" / "govhall_bad_review.py"]


def imports_of(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names)


def test_every_public_name_imports_from_the_package_root():
    for name in govhall_sdk.__all__:
        assert getattr(govhall_sdk, name) is not None, name
    from govhall_sdk import Clock, Context, Finding, RuleInfo, RuleResult, Ticket, completion_clock, hookimpl  # noqa: F401


def test_rule_plugins_import_only_the_package_root():
    for path in PLUGIN_FILES:
        ours = [m for m in imports_of(path) if m.startswith(("govhall_sdk", "govhall_plugins", "govhall_adapters"))]
        assert set(ours) <= {"govhall_sdk"}, (path.name, ours)
