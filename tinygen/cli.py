"""The ``tinygen`` command line: parses arguments, runs one command, maps errors to exit codes.

This is the only module that prints errors or chooses the exit code; the domain modules raise
typed ``TinygenError`` subclasses (tinygen/errors.py).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any, TextIO

from tinygen import __version__
from tinygen.errors import ExitCode, TinygenError
from tinygen.outputs import os_error
from tinygen.process import Terminated, signals_handled

EPILOG = """exit codes:
  0 ok, 1 internal error, 2 usage, 3 bad input (model, board, ELF, dataset),
  4 build failed, 5 over budget, 6 device or emulator failure, 7 dependency (TFLM checkout),
  8 required tool missing (arm-none-eabi-gcc, scons, qemu-system-arm, ...),
  129/130/143 stopped by SIGHUP / Ctrl-C / SIGTERM (children stopped, partial output removed)
"""


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as UsageError instead of exiting by itself."""

    def error(self, message: str) -> None:  # type: ignore[override]
        from tinygen.errors import UsageError

        raise UsageError(message, hint=f"see '{self.prog} --help'")


def build_parser() -> argparse.ArgumentParser:
    from tinygen.commands import COMMANDS  # here, not at import: Ctrl-C during it is handled

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


class _Stdout:
    """stdout, noting whether a command wrote to it (then its JSON is the one document there)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.written = False

    def write(self, text: str) -> int:
        self.written = self.written or bool(text)
        return self.stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def _report(wants_json: bool, code: int, message: str, hint: str | None,
            stdout_used: bool = False) -> int:
    """One ``error:`` line and a ``hint:`` line on stderr; with --json also the error as one
    JSON object on stdout, where a tool driving tinygen reads the results, unless the command
    already printed its own JSON there (an audit over budget, an inspected float model)."""
    print(f"error: {message}", file=sys.stderr)
    if hint:
        print(f"hint: {hint}", file=sys.stderr)
    if wants_json and not stdout_used:
        # stdout may be the file that failed (full disk, closed pipe): stderr has the error.
        with contextlib.suppress(OSError):
            print(json.dumps({"error": message, "hint": hint, "exit_code": code}), flush=True)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run tinygen with ``argv``; return the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    stdout = _Stdout(sys.stdout)
    sys.stdout = stdout
    try:
        return _main(argv, stdout)
    finally:
        sys.stdout = stdout.stream


def _main(argv: list[str], stdout: _Stdout) -> int:
    wants_json = "--json" in argv  # until the command line is parsed (a usage error)
    try:
        with signals_handled():
            parser = build_parser()
            args = parser.parse_args(argv)
            wants_json = bool(getattr(args, "json", False))
            module = _module_for(args)
            if module is None:
                parser.print_help(sys.stderr)
                return int(ExitCode.USAGE)
            try:
                return int(module.run(args))
            except OSError as exc:
                if isinstance(exc, BrokenPipeError):
                    raise
                # A file the environment refused (disk full, read-only, no such folder, ...):
                # the user's to fix, so one error with a hint, not a traceback.
                raise os_error(exc, writing=False) from exc
    except TinygenError as exc:
        return _report(wants_json, int(exc.exit_code), exc.message, exc.full_hint(),
                       stdout.written)
    except KeyboardInterrupt:
        return _report(wants_json, 130, "interrupted", None, stdout.written)
    except Terminated as exc:
        return _report(wants_json, exc.exit_code, str(exc), None, stdout.written)
    except BrokenPipeError:
        return int(ExitCode.OK)
