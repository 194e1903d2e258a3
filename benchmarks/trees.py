"""Other commits' source trees, run side by side with this one (the benchmarks' ``--against TREE``).

A tree is a checkout of another commit (``git worktree add /tmp/base <commit>``). Its
packages are imported under their installed names: ``govhall_sdk``, and its
``plugins`` and ``adapters`` folders as ``govhall_plugins`` and
``govhall_adapters`` (``pyproject.toml``'s ``package-dir``), so that the other
commit's rules run, not this one's. The entry points are still the installed
distribution's: a plugin the other commit lacks is skipped with a warning.
"""
from __future__ import annotations

import os

PACKAGES = {"govhall_sdk": "govhall_sdk", "govhall_plugins": "plugins", "govhall_adapters": "adapters"}


def importable(tree: str, folder: str) -> str:
    """A folder made in ``folder`` whose packages are ``tree``'s, under their import names, to put first on
    ``PYTHONPATH``; ``tree`` itself when it already holds them so."""
    if all(os.path.isdir(os.path.join(tree, name)) for name in PACKAGES):
        return tree
    shim = os.path.join(folder, f"tree-{abs(hash(os.path.abspath(tree)))}")
    os.makedirs(shim, exist_ok=True)
    for name, source in PACKAGES.items():
        link = os.path.join(shim, name)
        if not os.path.lexists(link):
            os.symlink(os.path.abspath(os.path.join(tree, source)), link)
    return shim


def tree_env(tree: str, folder: str, env: dict[str, str] | None = None) -> dict[str, str]:
    """``env`` (default: this process's) with ``tree``'s packages first on ``PYTHONPATH``."""
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [importable(tree, folder), env.get("PYTHONPATH")]))
    return env
