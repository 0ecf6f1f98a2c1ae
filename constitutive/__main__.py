"""``python -m constitutive ...``: the command line (the same as the ``constitutive`` script)."""

import sys

from constitutive.cli import main

sys.exit(main())
