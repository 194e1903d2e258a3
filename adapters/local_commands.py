"""``govhall local show ID`` and ``govhall local list``: look inside the embedded local helpdesk.

A command-line plugin of its own (entry point ``local_commands``), in the face
layer: it may use the CLI's public helpers, while the adapter
(:mod:`govhall_adapters.local`) imports nothing of the CLI.
"""
from __future__ import annotations

import json

from govhall_sdk import hookimpl
from govhall_sdk.cli import EXIT_OK, UsageError, add_options, config_from_args
from govhall_sdk.terminal import printable_json, shown, shown_json

from .local import LocalAdapter, LocalHelpdesk


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


@hookimpl
def govhall_add_commands(subparsers):
    """``govhall local show ID`` and ``govhall local list``."""
    local = subparsers.add_parser("local", help="look inside the embedded local helpdesk")
    sub = local.add_subparsers(dest="local_command", required=True, help="what to show")
    show = sub.add_parser("show", help="one ticket with the tags, fields and notes written back")
    show.add_argument("id", help="the ticket id, e.g. TC-2025-0314")
    show.add_argument("--unmasked", action="store_true", help="show phone and ID numbers in full")
    listing = sub.add_parser("list", help="every ticket with its govhall tags")
    for p in (show, listing):
        add_options(p, "config", help={"config": "the govhall.toml whose [adapter] is local"})
        p.set_defaults(func=_show)
