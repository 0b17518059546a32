"""`python -m confab` is the `confab` command."""

import sys

from confab.cli import main

sys.exit(main())
