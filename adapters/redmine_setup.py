"""``govhall redmine setup``: prepare a Redmine the integrator administers for the ``redmine`` adapter.

The REST API cannot create custom fields, so the command runs
``redmine_setup.rb`` (beside this module) with ``bin/rails runner`` in the
Redmine root: it creates the custom fields, trackers, statuses and workflows
the adapter maps, with the tag list built from the loaded rule plugins, and
prints the JSON of ids (and, for tests, API keys) that :func:`config_snippet`
turns into the ``[adapter]`` section. Idempotent: run it again after installing
a plugin. The command is a plugin of its own (entry point ``redmine_setup``), so the
adapter never imports the command line.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from govhall_sdk import hookimpl
from govhall_sdk.patch import LIGHT_ORDER, finding_tag, light_tag

SETUP_FIELD_NAMES = {
    "Channel": "channel", "Department": "department", "Lead department": "lead_department",
    "Co-departments": "co_departments", "Applicant name": "applicant_name", "Applicant phone": "applicant_phone",
    "Applicant ID": "applicant_id", "Applicant birth date": "applicant_birth_date",
    "Applicant groups": "applicant_groups", "Required materials": "required_materials",
    "Promised working days": "promised_working_days", "govhall_tags": "tags",
}
"""The custom fields ``redmine_setup.rb`` creates, by name, as ``adapter.custom_fields`` keys."""


def setup_tags(codes: Sequence[str]) -> list[str]:
    """Every tag govhall can write for these finding codes: the lights, then one per code."""
    return [light_tag(light) for light in LIGHT_ORDER] + [finding_tag(code) for code in sorted(codes)]


def settings_from_setup(info: Mapping[str, Any]) -> dict[str, Any]:
    """``[adapter]`` settings (without the key) from the JSON ``redmine_setup.rb`` prints."""
    from .redmine import DEFAULT_STATUSES, DEFAULT_TRACKERS  # the adapter imports this module: not at the top

    return {
        "type": "redmine",
        "url": info.get("url") or "http://127.0.0.1:3000",
        "project": info.get("project_identifier") or str(info.get("project_id")),
        "trackers": {name: DEFAULT_TRACKERS.get(name, name.lower()) for name in info.get("trackers", {})},
        "statuses": {name: DEFAULT_STATUSES.get(name, name.lower()) for name in info.get("statuses", {})},
        "custom_fields": {SETUP_FIELD_NAMES.get(name, name): fid for name, fid in info.get("custom_fields", {}).items()},
        "users": {login: {"rank": 1} for login in info.get("users", {})},
    }


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(str(value), ensure_ascii=False)


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def config_snippet(info: Mapping[str, Any]) -> str:
    """The ``[adapter]`` section for a Redmine set up by ``redmine_setup.rb`` (no secrets in it)."""
    s = settings_from_setup(info)
    lines = [
        "# govhall.toml: the Redmine set up by `govhall redmine setup`",
        "[adapter]",
        'type = "redmine"',
        f"url = {_toml_value(s['url'])}",
        f"project = {_toml_value(s['project'])}",
        "# the API key of govhall's own Redmine user: put it in the environment, not here",
        'api_key_env = "GOVHALL_REDMINE_API_KEY"',
    ]
    for table in ("trackers", "statuses", "custom_fields"):
        lines += ["", f"[adapter.{table}]"] + [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in s[table].items()]
    lines += ["", "[adapter.users]  # add each person's department; a higher rank is more senior"]
    lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in s["users"].items()]
    return "\n".join(lines) + "\n"


def setup_script() -> Path:
    """The path of ``redmine_setup.rb`` as installed with this package (beside this module)."""
    return Path(__file__).with_name("redmine_setup.rb")


def setup_command(root: str | Path, codes: Sequence[str], url: str | None = None,
                  rails_env: str = "production") -> tuple[list[str], dict[str, str]]:
    """The argv and extra environment that run the setup script in a Redmine root."""
    env = {"RAILS_ENV": rails_env, "GOVHALL_TAGS": ",".join(setup_tags(codes))}
    if url:
        env["GOVHALL_REDMINE_URL"] = url
    return ["bin/rails", "runner", str(setup_script())], env


def run_setup(root: str | Path, codes: Sequence[str], url: str | None = None, rails_env: str = "production",
              runner: Callable[..., subprocess.CompletedProcess] | None = None) -> dict[str, Any]:
    """Run ``redmine_setup.rb`` with ``bin/rails runner`` in ``root``; return the JSON it prints.

    :raises RuntimeError: the runner failed or printed no JSON (the message has its output's tail).
    """
    argv, extra = setup_command(root, codes, url, rails_env)
    proc = (runner or subprocess.run)(argv, cwd=str(root), env={**os.environ, **extra}, capture_output=True, text=True)
    tail = "\n".join(((proc.stdout or "") + "\n" + (proc.stderr or "")).strip().splitlines()[-15:])
    if proc.returncode != 0:
        raise RuntimeError(f"bin/rails runner exited with status {proc.returncode}:\n{tail}")
    found = [line for line in (proc.stdout or "").splitlines() if line.startswith("{")]
    if not found:
        raise RuntimeError(f"bin/rails runner printed no JSON:\n{tail}")
    return json.loads(found[-1])


def _cmd_setup(args: Any) -> int:
    """``govhall redmine setup``: create what the adapter needs, print the config."""
    from govhall_sdk.cli import EXIT_INCOMPLETE, EXIT_OK, UsageError  # only when the command runs
    from govhall_sdk.host import get_plugin_manager

    codes = sorted(get_plugin_manager().rules)
    root = Path(args.redmine_root)
    argv, extra = setup_command(root, codes, args.url, args.rails_env)
    if args.print_command:
        env = " ".join(f"{k}={json.dumps(v)}" for k, v in extra.items())
        print(f"cd {root} && {env} {' '.join(argv)}")
        return EXIT_OK
    if not (root / "bin" / "rails").exists():
        raise UsageError(f"--redmine-root {root}: no bin/rails there (Debian: /usr/share/redmine)")
    try:
        info = run_setup(root, codes, args.url, args.rails_env)
    except (RuntimeError, ValueError, OSError) as exc:
        print(f"govhall: error: redmine setup failed: {exc}")
        return EXIT_INCOMPLETE
    if args.info:
        path = Path(args.info)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(info, fh, ensure_ascii=False, indent=2)
        print(f"# ids and API keys written to {path} (mode 600)")
    print(config_snippet(info), end="")
    return EXIT_OK


_SETUP_EPILOG = """examples:
  # as a user that can write the Redmine database (here: www-data)
  sudo -u www-data govhall redmine setup --url https://rm.example > rm.toml
  # see what would run
  govhall redmine setup --redmine-root /srv/redmine --print-command

exit status:
  0    set up (or the command printed), the config on standard output
  1    the setup script failed (its output's last lines are shown)
  2    bad usage, or no bin/rails in --redmine-root
  130  interrupted (Ctrl-C or SIGTERM)"""


@hookimpl
def govhall_add_commands(subparsers):
    """``govhall redmine setup``."""
    redmine = subparsers.add_parser(
        "redmine", help="set up a Redmine for govhall",
        description="Prepare a Redmine you administer for the redmine adapter.",
        epilog=_SETUP_EPILOG)
    sub = redmine.add_subparsers(dest="redmine_command", required=True, metavar="ACTION", help="what to do")
    setup = sub.add_parser(
        "setup", help="create the custom fields, trackers, statuses and workflows (bin/rails runner), print the config",
        description="Runs redmine_setup.rb with \"RAILS_ENV=production bin/rails runner\" in the Redmine root "
                    "(as a user that can write its database), with the tag list built from the loaded rule plugins, "
                    "then prints the [adapter] section of govhall.toml. "
                    "Idempotent: run it again after installing a plugin.",
        epilog=_SETUP_EPILOG)
    setup.add_argument("--redmine-root", default="/usr/share/redmine", metavar="DIR",
                       help="the Redmine installation (default: %(default)s)")
    setup.add_argument("--url", help="the Redmine URL to put into the printed config, e.g. https://redmine.example")
    setup.add_argument("--rails-env", default="production", metavar="ENV",
                       help="the Rails environment, RAILS_ENV (default: %(default)s)")
    setup.add_argument("--info", metavar="FILE", help="also write the full JSON (ids and API keys) to FILE, mode 600")
    setup.add_argument("--print-command", action="store_true", help="print the command instead of running it")
    setup.set_defaults(func=_cmd_setup)
