"""Flashing a firmware ELF onto a board through a debug probe, with pyocd or openocd."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tinygen.audit.target import check_firmware_for_board
from tinygen.board import Board
from tinygen.errors import BoardError, DeviceError, InputError, ToolMissingError

TOOLS = ("pyocd", "openocd")
INSTALL = {
    "pyocd": "pip install pyocd (CMSIS-DAP, ST-LINK and J-Link probes)",
    "openocd": "apt-get install openocd",
}
FLASH_TIMEOUT_S = 300.0
# What the tools print when no probe answers (pyocd 0.36, openocd 0.12).
_NO_PROBE = (
    "no connected debug probes", "no available debug probes", "no matching probe",
    "open failed", "unable to find a matching cmsis-dap device", "no j-link device found",
    "no device found", "libusb_open() failed", "unable to open cmsis-dap device",
)

Which = Callable[[str], str | None]


@dataclass(frozen=True)
class FlashResult:
    board: str
    tool: str
    command: tuple[str, ...]
    seconds: float

    def to_json(self) -> dict[str, object]:
        return {"board": self.board, "tool": self.tool, "command": list(self.command),
                "seconds": round(self.seconds, 1)}


def _target(board: Board, tool: str) -> str | None:
    return board.pyocd_target if tool == "pyocd" else board.openocd_config


def flash_command(tool: str, board: Board, elf: Path, probe: str | None = None,
                  exe: str | None = None) -> list[str]:
    """The command line that programs ``elf``, verifies it and resets the board into it."""
    target = _target(board, tool)
    if target is None:
        key = "pyocd_target" if tool == "pyocd" else "openocd_config"
        raise BoardError(f"{board.path}: debug: no {key} for {tool}", hint=_target_hint(tool))
    if tool == "pyocd":
        cmd = [exe or "pyocd", "flash", "--target", target]
        if probe:
            cmd += ["--uid", probe]
        return [*cmd, str(elf)]
    if tool == "openocd":
        cmd = [exe or "openocd"]
        if board.openocd_interface:
            cmd += ["-f", board.openocd_interface]
        cmd += ["-f", target]
        if probe:
            cmd += ["-c", f"adapter serial {probe}"]
        # Braces keep a path with spaces one Tcl word.
        return [*cmd, "-c", f"program {{{elf}}} verify reset exit"]
    raise InputError(f"unknown flashing tool {tool!r}", hint=f"use one of {', '.join(TOOLS)}")


def _target_hint(tool: str) -> str:
    if tool == "pyocd":
        return "add debug: {pyocd_target: NAME} to the board file ('pyocd list --targets')"
    return "add debug: {openocd_config: board/....cfg} to the board file (openocd's scripts)"


def choose_tool(board: Board, requested: str | None = None,
                which: Which = shutil.which) -> tuple[str, str]:
    """(tool, executable): the requested tool, or the first installed one the board names a
    target for. Raises BoardError when the board names none, ToolMissingError when none is
    installed."""
    candidates = [requested] if requested else [t for t in TOOLS if _target(board, t)]
    if requested and _target(board, requested) is None:
        key = "pyocd_target" if requested == "pyocd" else "openocd_config"
        raise BoardError(f"{board.path}: debug: no {key} for {requested}",
                         hint=_target_hint(requested))
    if not candidates:
        if board.emulator is not None:
            raise BoardError(f"board {board.name} is emulated by QEMU and has no debug probe",
                             hint=f"run it instead: tinygen run --board {board.name} FIRMWARE.elf")
        raise BoardError(f"{board.path}: debug: the board names no pyocd_target or "
                         "openocd_config", hint=_target_hint("pyocd"))
    for tool in candidates:
        exe = which(tool)
        if exe is not None:
            return tool, exe
    names = " or ".join(candidates)
    raise ToolMissingError(f"no flashing tool: {names} is not installed",
                           hint="install it: " + ", or: ".join(INSTALL[t] for t in candidates))


def check_elf_for_board(elf: Path, board: Board) -> None:
    """Refuse an ELF that is missing, not linked 32-bit ARM, built for another board, or would
    load or boot outside the board's memory (tinygen.audit.target)."""
    if not elf.is_file():
        raise InputError(f"{elf} does not exist",
                         hint=f"build it first: tinygen build --board {board.name} ...")
    check_firmware_for_board(elf, board)


def _explain_failure(tool: str, output: str, board: Board) -> DeviceError:
    lower = output.lower()
    last = "; ".join(line.strip() for line in output.strip().splitlines()[-3:]) or "no output"
    if any(marker in lower for marker in _NO_PROBE):
        return DeviceError(
            f"{tool} found no debug probe for {board.name} ({last})",
            hint="connect the board's debug USB port (ST-LINK, J-Link or CMSIS-DAP), check the "
                 "cable and the udev rules (permission to open the probe), then try again")
    return DeviceError(f"{tool} could not flash {board.name}: {last}",
                       hint="run the command shown with --dry-run by hand to see all of its output")


def flash_firmware(board: Board, elf: Path, tool: str | None = None, probe: str | None = None,
                   timeout: float = FLASH_TIMEOUT_S, which: Which = shutil.which) -> FlashResult:
    """Program ``elf`` into ``board`` with pyocd or openocd, verify it, reset the board."""
    check_elf_for_board(elf, board)
    chosen, exe = choose_tool(board, tool, which)
    cmd = flash_command(chosen, board, elf, probe, exe)
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise DeviceError(f"{chosen} did not finish within {timeout:g} s",
                          hint="check the probe's connection and the board's power") from exc
    if proc.returncode != 0:
        raise _explain_failure(chosen, proc.stdout + proc.stderr, board)
    return FlashResult(board.name, chosen, tuple(cmd), time.monotonic() - start)


def planned_command(board: Board, elf: Path, tool: str | None = None, probe: str | None = None,
                    which: Which = shutil.which) -> tuple[str, list[str]]:
    """What flash_firmware would run, without running it (and without needing the tool)."""
    try:
        chosen, exe = choose_tool(board, tool, which)
    except ToolMissingError:
        chosen = tool or next(t for t in TOOLS if _target(board, t))
        exe = chosen
    return chosen, flash_command(chosen, board, elf, probe, exe)
