"""``python -m govhall_sdk.cli``: the same as the ``govhall`` script."""
import sys

from .app import main

if __name__ == "__main__":
    sys.exit(main())
