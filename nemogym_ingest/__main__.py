"""`python -m nemogym_ingest` runs the command line."""

import sys

from .cli import main

sys.exit(main())
