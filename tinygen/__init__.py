"""tinygen: MLPerf Tiny benchmark firmware from a quantized model and a board description."""

import sys

__version__ = "0.1.0"


def run() -> None:
    """The ``tinygen`` program: the CLI, imported here so that a Ctrl-C while Python loads it
    ends the program quietly (exit 130) instead of with a traceback."""
    try:
        from tinygen.cli import main
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(main())
