"""``python -m xnn``: the xnn command line (see :mod:`xnn.cli`)."""

import sys

from .cli import main

sys.exit(main())
