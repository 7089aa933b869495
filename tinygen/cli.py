"""The ``tinygen`` command line: parses arguments, runs one command, maps errors to exit codes.

This is the only module that prints errors or chooses the exit code; the domain modules raise
typed ``TinygenError`` subclasses (tinygen/errors.py).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from types import ModuleType

from tinygen import __version__
from tinygen.commands import COMMANDS
from tinygen.errors import ExitCode, TinygenError

EPILOG = """exit codes:
  0 ok, 1 internal error, 2 usage, 3 bad input (model, board, ELF, dataset),
  4 build failed, 5 over budget, 6 device or emulator failure, 7 dependency (TFLM checkout),
  8 required tool missing (arm-none-eabi-gcc, scons, qemu-system-arm, ...)
"""


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as UsageError instead of exiting by itself."""

    def error(self, message: str) -> None:  # type: ignore[override]
        from tinygen.errors import UsageError

        raise UsageError(message, hint=f"see '{self.prog} --help'")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tinygen",
        description="MLPerf Tiny benchmark firmware from a quantized .tflite model and a board.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"tinygen {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in COMMANDS:
        module.register(sub)
    return parser


def _module_for(args: argparse.Namespace) -> ModuleType | None:
    found: ModuleType | None = getattr(args, "_command_module", None)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Run tinygen with ``argv``; return the process exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        module = _module_for(args)
        if module is None:
            parser.print_help(sys.stderr)
            return int(ExitCode.USAGE)
        return int(module.run(args))
    except TinygenError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {exc.hint}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return int(ExitCode.OK)
