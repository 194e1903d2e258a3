"""Layers that can't rot: the contracts of docs/architecture.md (pyproject.toml, import-linter) and no import cycle."""
import itertools
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).parent.parent


def test_the_import_contracts_are_kept():
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]
    assert len(contracts) >= 10
    out = subprocess.run([sys.executable, "-c", "from importlinter.cli import lint_imports; "
                          "raise SystemExit(lint_imports(config_filename='pyproject.toml'))"],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert f"Contracts: {len(contracts)} kept, 0 broken." in out.stdout


def test_no_import_cycle_in_govhall_sdk():
    graph = grimp.build_graph("govhall_sdk", exclude_type_checking_imports=True)
    modules = sorted(graph.modules)
    cycles = [(a, b) for a, b in itertools.combinations(modules, 2)
              if not (b.startswith(a + ".") or a.startswith(b + "."))  # a package and its own modules
              and graph.chain_exists(a, b) and graph.chain_exists(b, a)]
    assert cycles == []


def test_no_import_cycle_between_adapters_and_their_commands():
    graph = grimp.build_graph("govhall_adapters", "govhall_sdk", exclude_type_checking_imports=True)
    for module in ("govhall_adapters.redmine", "govhall_adapters.local"):
        assert not graph.chain_exists(module, "govhall_sdk.cli"), module
