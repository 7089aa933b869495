"""Entry point for ``python -m tinygen``."""

from tinygen import run

if __name__ == "__main__":  # not when a spawned worker (tinygen sweep) imports it
    run()
