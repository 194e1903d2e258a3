"""``govhall local show|list|import|reset``: look inside the embedded local helpdesk, fill it, start it over.

A command-line plugin of its own (entry point ``local_commands``), in the face
layer: it may use the CLI's public helpers, while the adapter
(:mod:`govhall_adapters.local`) imports nothing of the CLI.

- ``import FILE`` adds or updates tickets from an interchange file (``{"tickets":
  [...]}`` or JSON Lines) as a person would have entered them, in one
  transaction: a file with a ticket that does not read is refused whole. An
  empty helpdesk is seeded first, as ``govhall run`` would have seeded it.
- ``reset`` deletes the helpdesk file and govhall's state store, then seeds the
  helpdesk again from the config's seed. The state goes too: its cursor is a
  version of the old helpdesk (the new one starts again at 1, so the next run
  would skip every ticket), and its schedules and escalations name the old
  tickets. It asks first, unless ``--yes``; it refuses while a run holds the
  state store.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from govhall_sdk import hookimpl
from govhall_sdk.cli import EXIT_OK, EXIT_USAGE, UsageError, add_options, command_epilog, config_from_args
from govhall_sdk.cli.progress import Progress, wanted
from govhall_sdk.parse import parse_item
from govhall_sdk.terminal import printable_json, shown, shown_json

from .local import LoadRefused, LocalAdapter, LocalHelpdesk


def _section(config):
    """The config's local adapter section: ``[adapter]``, else the first ``[adapters.NAME]`` of type local."""
    sections = [config.adapter, *config.adapters.values()]
    for section in sections:
        if section.get("type", "local") == "local":
            return {k: v for k, v in section.items() if k != "type"}
    raise UsageError(f"the config has no local adapter ([adapter] is {config.adapter.get('type')!r}); "
                     "govhall local works on the embedded helpdesk only")


def _show(args):
    """Print one ticket of the local helpdesk as JSON (phones and ID numbers masked), or list them all.

    Control and invisible characters are escaped even ``--unmasked``
    (:mod:`govhall_sdk.terminal`): the JSON still reads back to the same ticket.
    """
    config = config_from_args(args)
    settings = LocalAdapter.validate_settings({k: v for k, v in config.adapter.items() if k != "type"})
    helpdesk = LocalHelpdesk(config.resolve(settings["path"]))
    try:
        if args.local_command == "list":
            for raw in helpdesk.all():
                tags = " ".join(t for t in raw.get("tags", []) if t.startswith("govhall_"))
                line = f"{raw.get('id'):<12} {raw.get('kind', ''):<13} {raw.get('status') or '':<9} {tags}"
                print(shown(line))
            return EXIT_OK
        raw = helpdesk.get(args.id)
        if raw is None:
            raise UsageError(f"no ticket {args.id!r} in {helpdesk.path}")
        text = json.dumps(raw, ensure_ascii=False, indent=2)
        print(printable_json(text) if args.unmasked else shown_json(text))
        return EXIT_OK
    finally:
        helpdesk.close()


def _adapter(config, bars):
    """The local adapter of the config, showing its seeding on ``bars``."""
    adapter = LocalAdapter(_section(config), config)
    adapter.progress = bars
    return adapter


def _import(args):
    """Add or update the tickets of an interchange file; a file with a ticket that does not read is refused."""
    config = config_from_args(args)
    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    tz = config.adapter_timezone

    def check(where, raw):
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"].strip():
            return f"{where}: a ticket needs a text id"
        error = parse_item(where, raw, tz).error
        return f"{where}: {error}" if error else None

    with Progress(wanted(args)) as bars:
        adapter = _adapter(config, bars)
        try:
            helpdesk = adapter.ready()
            try:
                added, updated = helpdesk.load(path, check=check, progress=bars, what="importing tickets")
            except LoadRefused as exc:
                raise UsageError(str(exc)) from None
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                raise UsageError(f"{path}: {exc}") from None
        finally:
            adapter.close()
    if adapter.seeded:
        print(shown(f"seeded {adapter.seeded} tickets from {config.resolve(adapter.settings['seed'])} first"))
    print(shown(f"imported {added + updated} tickets into {helpdesk.path}: {added} added, {updated} updated"))
    return EXIT_OK


def _files(path: Path) -> list[Path]:
    """An SQLite file with its write-ahead log and shared memory, those that exist."""
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]


def _reset(args):
    """Delete the helpdesk and the state store (asking first unless --yes), then seed the helpdesk again."""
    from govhall_sdk.state import StateError, StateStore

    config = config_from_args(args)
    settings = LocalAdapter.validate_settings(_section(config))
    helpdesk_path = config.resolve(settings["path"])
    seed = config.resolve(settings["seed"])
    state_path = config.state_path
    others = sorted(name for name, section in config.adapters.items() if section.get("type", "local") != "local")
    if not args.yes:
        lines = [f"govhall local reset deletes the local helpdesk {helpdesk_path} (every ticket, with the tags, "
                 f"fields and notes govhall wrote)",
                 f"and govhall's state store {state_path} (cursor, schedules, audit, escalations sent),",
                 f"then seeds the helpdesk again from {seed}." if seed.is_file() else
                 f"The seed {seed} does not exist: the helpdesk stays empty."]
        if others:
            lines.append(f"The state store also holds what the run knows of [adapters.{others[0]}]"
                         + (f" and {len(others) - 1} more" if len(others) > 1 else "")
                         + ": their next run reads every ticket again.")
        for line in lines:
            print(shown(line), file=sys.stderr)
        if not (sys.stdin and sys.stdin.isatty()):
            raise UsageError("govhall local reset: not a terminal to ask on; give --yes to reset")
        try:
            answer = input("Reset? [y/N] ")
        except EOFError:
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing removed", file=sys.stderr)
            return EXIT_OK
    had_state = _files(state_path)
    try:
        state = StateStore(state_path).lock()  # refused while a run holds it
    except StateError as exc:
        raise UsageError(str(exc)) from None
    try:
        state.db.close()
        removed = [*_files(helpdesk_path), *had_state]
        for path in removed:
            os.remove(path)
        for path in _files(state_path):  # made just now by opening it to take the lock
            os.remove(path)
    finally:
        state.unlock()
    for path in removed:
        print(shown(f"removed {path}"))
    with Progress(wanted(args)) as bars:
        adapter = _adapter(config, bars)
        try:
            adapter.ready()
        finally:
            adapter.close()
    if adapter.seeded:
        print(shown(f"seeded {adapter.seeded} tickets from {seed}; the next govhall run starts from the beginning"))
    else:
        print(shown(f"the helpdesk {helpdesk_path} is empty (no tickets in {seed})"))
    return EXIT_OK


CONFIG = "--config examples/govhall.toml"


@hookimpl
def govhall_add_commands(subparsers):
    """``govhall local show ID``, ``list``, ``import FILE`` and ``reset``."""
    local = subparsers.add_parser(
        "local", help="look inside the embedded local helpdesk, import tickets, start over",
        description="The embedded local helpdesk of the demo: look inside it, add tickets, start it over.",
        epilog=command_epilog({f"govhall local list {CONFIG}": "every ticket with its govhall tags",
                               f"govhall local reset --yes {CONFIG}": "start the demo over"}))
    local.set_defaults(config_required="govhall local")  # the built-in defaults would put a helpdesk in ./.govhall/
    sub = local.add_subparsers(dest="local_command", required=True, help="what to do")
    show = sub.add_parser(
        "show", help="one ticket with the tags, fields and notes written back",
        epilog=command_epilog({f"govhall local show TC-2025-0314 {CONFIG}": "phone and ID numbers masked"},
                              {EXIT_OK: "the ticket was shown", EXIT_USAGE: "no such ticket, or a bad config"}))
    show.add_argument("id", help="the ticket id, e.g. TC-2025-0314")
    show.add_argument("--unmasked", action="store_true", help="show phone and ID numbers in full")
    listing = sub.add_parser("list", help="every ticket with its govhall tags",
                             epilog=command_epilog([f"govhall local list {CONFIG}"]))
    for p in (show, listing):
        add_options(p, "config", help={"config": "the govhall.toml whose [adapter] is local"})
        p.set_defaults(func=_show)
    imports = sub.add_parser(
        "import", help="add or update tickets from an interchange file (JSON or JSON Lines)",
        description="Add or update tickets, as a person would have entered them, from FILE: {\"tickets\": [...]} "
                    "or JSON Lines (.jsonl). A ticket with the id of a stored one replaces it. In one "
                    "transaction: a file with a ticket that does not read is refused whole. An empty helpdesk "
                    "is seeded first, as govhall run would have seeded it.",
        epilog=command_epilog({f"govhall local import more.jsonl {CONFIG}": "add or update its tickets"},
                              {EXIT_OK: "every ticket of the file was stored",
                               EXIT_USAGE: "nothing stored: a ticket did not read, or no such file"}))
    imports.add_argument("file", help="the interchange file, e.g. more-tickets.jsonl")
    add_options(imports, "config", help={"config": "the govhall.toml whose [adapter] is local"})
    imports.set_defaults(func=_import)
    reset = sub.add_parser(
        "reset", help="start the demo over: delete the helpdesk and govhall's state, seed again",
        description="Delete the local helpdesk file and govhall's state store (its cursor points into the old "
                    "helpdesk), then seed the helpdesk again from the config's seed, so that the next govhall "
                    "run starts from the beginning. Asks first unless --yes; refused while a run is going on.",
        epilog=command_epilog({f"govhall local reset {CONFIG}": "asks first",
                               f"govhall local reset --yes {CONFIG}": "in a script"},
                              {EXIT_OK: "reset, or nothing removed when the answer was no",
                               EXIT_USAGE: "a run holds the state store, or no terminal to ask on"}))
    reset.add_argument("--yes", "-y", action="store_true", help="do not ask (for scripts)")
    add_options(reset, "config", help={"config": "the govhall.toml whose [adapter] is local"})
    reset.set_defaults(func=_reset)
