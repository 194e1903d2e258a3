"""Exit statuses and the usage error of the ``govhall`` command line."""
from __future__ import annotations

from ..terminal import shown

#: The command ran (findings are not errors).
EXIT_OK = 0
#: The command ran but could not do everything (``govhall run``: something was not read or written).
EXIT_INCOMPLETE = 1
#: Bad usage, a bad config or an unreadable file.
EXIT_USAGE = 2


class UsageError(Exception):
    """Bad usage, config or input file: printed as one line, exit status 2.

    Its text is :func:`~govhall_sdk.terminal.shown`: a value it quotes (a file's
    line, a ticket id) can neither break the line nor hide or redraw anything.
    """

    def __str__(self) -> str:
        """The message, scrubbed and with its control and invisible characters escaped."""
        return shown(super().__str__())
