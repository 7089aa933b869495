"""The one root error of tinygen and its typed subclasses, each with a stable exit code."""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path


class ExitCode(IntEnum):
    """Documented process exit codes (README, "Exit codes")."""

    OK = 0
    INTERNAL = 1
    USAGE = 2
    BAD_INPUT = 3
    BUILD_FAILED = 4
    OVER_BUDGET = 5
    DEVICE = 6
    DEPENDENCY = 7
    TOOL_MISSING = 8


class TinygenError(Exception):
    """Root of every error tinygen raises on purpose: a message naming the problem and a hint
    naming the fix, both required (tests/test_errors.py holds every raise site to it)."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, hint: str, kept: Path | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        # A folder kept for inspection: where SCons failed, or a failed build's project
        # (<out>.failed); the CLI names it after the hint.
        self.kept = kept

    def full_hint(self) -> str:
        """The hint, and where the failed project is kept."""
        if self.kept is None:
            return self.hint
        return (f"{self.hint}; the failed project is kept in {self.kept} "
                "(the output folder is unchanged)")


class UsageError(TinygenError):
    """The command line is wrong."""

    exit_code = ExitCode.USAGE


class ConfigurationError(TinygenError):
    """Build options that cannot go together (an arena size for a runtime that plans its own,
    a kernel set of another runtime). The commands name the flags before it comes to this."""

    exit_code = ExitCode.USAGE


class ModelError(TinygenError):
    """The model file is missing, corrupt or unsupported."""

    exit_code = ExitCode.BAD_INPUT


class BoardError(TinygenError):
    """A board description is missing or invalid."""

    exit_code = ExitCode.BAD_INPUT


class InputError(TinygenError):
    """Some other user input (ELF, dataset, option value) is unusable."""

    exit_code = ExitCode.BAD_INPUT


class NotEmulatedError(InputError):
    """A board with no emulator was asked to run in QEMU."""


class BuildError(TinygenError):
    """Code generation, compiling or linking failed."""

    exit_code = ExitCode.BUILD_FAILED


class OverBudgetError(TinygenError):
    """A firmware does not fit the board's flash or RAM budget."""

    exit_code = ExitCode.OVER_BUDGET


class DeviceError(TinygenError):
    """A device or emulator did not answer, or answered wrongly."""

    exit_code = ExitCode.DEVICE


class DependencyError(TinygenError):
    """A pinned third-party checkout (TFLM, CMSIS-NN, ...) is missing or wrong."""

    exit_code = ExitCode.DEPENDENCY


class ToolMissingError(TinygenError):
    """An external program (arm-none-eabi-gcc, scons, qemu-system-arm, ...) is not installed."""

    exit_code = ExitCode.TOOL_MISSING
