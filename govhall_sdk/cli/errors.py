"""Exit statuses and the usage error of the ``govhall`` command line."""
from __future__ import annotations

from ..terminal import shown

#: The command ran (findings are not errors).
EXIT_OK = 0
#: The command ran but could not do everything (``govhall run``: something was not read or written).
EXIT_INCOMPLETE = 1
#: Bad usage, a bad config or an unreadable file.
EXIT_USAGE = 2
#: Interrupted: Ctrl-C (SIGINT) or SIGTERM, as 128 + SIGINT (``govhall: interrupted``).
EXIT_INTERRUPTED = 130
#: The reader of the output went away (``govhall rules | head -1``): 128 + SIGPIPE, as a tool killed by it.
EXIT_BROKEN_PIPE = 141

#: What each exit status means, for the help of every command (:func:`~govhall_sdk.cli.options.command_epilog`).
EXIT_MEANINGS = {
    EXIT_OK: "the command ran (findings are not errors)",
    EXIT_INCOMPLETE: "it ran but could not do everything",
    EXIT_USAGE: "bad usage, a bad config or an unreadable file",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C or SIGTERM)",
    EXIT_BROKEN_PIPE: "the output was closed early (e.g. | head): nothing more was written",
}


class UsageError(Exception):
    """Bad usage, config or input file: printed as one line, exit status 2.

    Its text is :func:`~govhall_sdk.terminal.shown`: a value it quotes (a file's
    line, a ticket id) can neither break the line nor hide or redraw anything.
    """

    def __str__(self) -> str:
        """The message, scrubbed and with its control and invisible characters escaped."""
        return shown(super().__str__())
