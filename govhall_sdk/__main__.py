"""``python -m govhall_sdk``: the same as the ``govhall`` script."""
import sys

from .cli.app import main

if __name__ == "__main__":
    sys.exit(main())
