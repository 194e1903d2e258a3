"""The README's first command works from a fresh checkout, and a second run writes nothing."""
import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def first_command() -> list[str]:
    return first_commands()[0]


def first_commands() -> list[list[str]]:
    """The govhall commands of the README's first line: the run, then the report."""
    block = re.search(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S).group(1)
    line = next(l for l in block.splitlines() if l and not l.startswith("#"))
    install, commands = line.split(" && ")[:3], line.split(" && ")[3:]
    assert install == ["python3 -m venv .venv", ". .venv/bin/activate", "pip install -e ."]
    return [shlex.split(c) for c in commands]


def test_readme_first_command_from_a_fresh_checkout(tmp_path):
    shutil.copytree(ROOT / "examples", tmp_path / "examples", ignore=shutil.ignore_patterns(".govhall"))
    argv = first_command()
    assert argv[:2] == ["govhall", "run"]
    cmd = [sys.executable, "-m", "govhall_sdk.cli", *argv[1:]]
    first = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert "pulled 52" in first.stdout and "written 52" in first.stdout
    assert "tl.overdue" in first.stdout and "lights:" in first.stdout
    assert (tmp_path / "examples" / ".govhall" / "helpdesk.sqlite").exists()
    second = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
    assert second.returncode == 0 and "written 0" in second.stdout
    show = subprocess.run([sys.executable, "-m", "govhall_sdk.cli", "local", "show", "TC-2025-0314",
                           "--config", "examples/govhall.toml"], cwd=tmp_path, capture_output=True, text=True)
    assert show.returncode == 0
    tags = json.loads(show.stdout)["tags"]
    assert "govhall_sla_red" in tags and "govhall_sla_green" not in tags and "急件" in tags


def test_readme_first_command_leaves_the_reports_where_it_says(tmp_path):
    shutil.copytree(ROOT / "examples", tmp_path / "examples", ignore=shutil.ignore_patterns(".govhall", "report"))
    run, report = first_commands()
    assert report[:2] == ["govhall", "report"]
    for argv in (run, report):
        done = subprocess.run([sys.executable, "-m", "govhall_sdk.cli", *argv[1:]], cwd=tmp_path,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    folder = tmp_path / "examples" / "report"
    assert "examples/report/dashboard.html" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert (folder / "dashboard.html").stat().st_size > 10_000
    assert {"ledger.xlsx", "ledger.csv", "assessment.xlsx", "visits.xlsx"} <= {p.name for p in folder.iterdir()}
