"""The rule plugins stay as clauses: no function in ``plugins/`` over cyclomatic complexity 15 or 60 lines.

Each rule is a per-ticket view built in one pass over the events and a tuple of
small clause functions, one per code or clock of the catalog. These limits keep
it that way: a clause that grows past them should be split, not the limit raised.
Cyclomatic complexity is radon's (``radon cc plugins/``); the length of a
function is its lines in the AST, from ``def`` to its last line (decorators not
counted), docstring included.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
from radon.complexity import cc_visit

import govhall_plugins

MAX_COMPLEXITY = 15
MAX_LINES = 60
PLUGINS = Path(govhall_plugins.__file__).resolve().parent
SOURCES = sorted(PLUGINS.glob("*.py"))


def _blocks(blocks, prefix=""):
    """radon's functions, methods and closures, by qualified name."""
    for block in blocks:
        name = f"{prefix}{block.name}"
        if hasattr(block, "methods"):  # a class: its methods are the functions
            yield from _blocks(block.methods, f"{name}.")
            yield from _blocks(getattr(block, "inner_classes", ()), f"{name}.")
            continue
        yield name, block
        yield from _blocks(block.closures, f"{name}.")


def _lengths(tree):
    """``(name, first line, line count)`` of every function and method in a module's AST."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.name, node.lineno, node.end_lineno - node.lineno + 1


def test_the_plugins_are_checked():
    names = {p.name for p in SOURCES}
    assert {"time_limit.py", "one_time_notice.py", "first_responsibility.py", "proxy_service.py"} <= names


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_function_over_complexity_15(path):
    source = path.read_text(encoding="utf-8")
    over = [f"{path.name}:{block.lineno} {name} CC {block.complexity}"
            for name, block in _blocks(cc_visit(source)) if block.complexity > MAX_COMPLEXITY]
    assert over == [], f"split these into clauses (cyclomatic complexity over {MAX_COMPLEXITY}): {over}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_function_over_60_lines(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    over = [f"{path.name}:{line} {name} {count} lines" for name, line, count in _lengths(tree) if count > MAX_LINES]
    assert over == [], f"split these into clauses (over {MAX_LINES} lines): {over}"


def test_the_checks_catch_a_long_branchy_function():
    """The helpers see what they must: a function with 16 branches over 60 lines fails both limits."""
    body = "".join(f"    if x == {i}:\n        return {i}\n" + "    pass\n" * 2 for i in range(16))
    source = f"def f(x):\n{body}    return None\n"
    [(name, block)] = list(_blocks(cc_visit(source)))
    assert name == "f" and block.complexity == 17 > MAX_COMPLEXITY
    [(_, _, count)] = list(_lengths(ast.parse(source)))
    assert count > MAX_LINES
