"""``python -m minigan ...``: the same as the ``minigan`` command (see :mod:`minigan.cli`)."""
import sys

from .cli import main

sys.exit(main())
