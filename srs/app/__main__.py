"""``python -m srs.app`` runs the ``srs`` command line (as the console script does)."""

import sys

from srs.app.cli import main

sys.exit(main())
