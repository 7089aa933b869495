"""Compiler flags for a board's core and FPU, and the cross toolchain's presence."""

from __future__ import annotations

import functools
import shutil
import subprocess

from tinygen.board import Board
from tinygen.errors import ToolMissingError

PREFIX = "arm-none-eabi-"
APT_PACKAGES = "gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib"


def cpu_flags(core: str, fpu: str) -> list[str]:
    """-mcpu/-mthumb/-mfpu/-mfloat-abi for a core; hard float whenever there is an FPU."""
    flags = [f"-mcpu={core}", "-mthumb"]
    if fpu == "none":
        flags.append("-mfloat-abi=soft")
    else:
        flags += [f"-mfpu={fpu}", "-mfloat-abi=hard"]
    return flags


def board_cpu_flags(board: Board) -> list[str]:
    return cpu_flags(board.core, board.fpu)


def require_toolchain() -> None:
    """Raise ToolMissingError unless arm-none-eabi-gcc, g++, objcopy and size are on PATH."""
    missing = [t for t in ("gcc", "g++", "objcopy", "size") if shutil.which(PREFIX + t) is None]
    if missing:
        raise ToolMissingError(
            f"the Arm cross toolchain is missing ({', '.join(PREFIX + m for m in missing)})",
            hint=f"install it: apt-get install {APT_PACKAGES}",
        )


@functools.cache
def compiler_version() -> str:
    """The cross compiler's version line (what compiled code depends on besides its flags)."""
    result = subprocess.run([PREFIX + "gcc", "--version"], capture_output=True, text=True,
                            check=False)
    return result.stdout.splitlines()[0] if result.returncode == 0 and result.stdout else ""
