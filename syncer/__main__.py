"""`python -m syncer` runs the pmsync command line."""

import sys

from syncer.cli import main

sys.exit(main())
