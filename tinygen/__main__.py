"""Entry point for ``python -m tinygen``."""

import sys

from tinygen.cli import main

sys.exit(main())
