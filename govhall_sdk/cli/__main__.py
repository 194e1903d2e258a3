"""``python -m govhall_sdk.cli``: the same as the ``govhall`` script."""
import sys

from .app import main

sys.exit(main())
