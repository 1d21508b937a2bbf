"""``python -m drillkit``: the same command line as the ``drillkit`` script."""

import sys

from .cli import main

sys.exit(main())
