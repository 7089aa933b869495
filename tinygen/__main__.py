"""Entry point for ``python -m tinygen``."""

from tinygen import run

run()
