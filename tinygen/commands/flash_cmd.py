"""``tinygen flash``: program a firmware ELF into a board through its debug probe."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

from tinygen.board import load_board
from tinygen.commands.args import add_board_argument
from tinygen.flash import TOOLS, check_elf_for_board, flash_firmware, planned_command
from tinygen.tables import emit_json, progress


def register(sub: Any) -> None:
    p = sub.add_parser(
        "flash", help="program a firmware into a board with pyocd or openocd",
        description="Program FIRMWARE.elf into the board's flash through its debug probe, "
                    "verify it and reset the board, with pyocd or openocd (the first installed "
                    "one the board file names a target for). Exit code 8 when neither tool is "
                    "installed, 6 when no probe answers.")
    p.add_argument("elf", type=Path, metavar="FIRMWARE.elf")
    add_board_argument(p)
    p.add_argument("--tool", choices=TOOLS, help="use this tool (default: the first installed)")
    p.add_argument("--probe", metavar="ID",
                   help="the probe's serial number, when several are connected")
    p.add_argument("--dry-run", action="store_true",
                   help="print the command that would run, and do not run it")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(_command_module=sys.modules[__name__])


def run(args: argparse.Namespace) -> int:
    board = load_board(args.board)
    if args.dry_run:
        check_elf_for_board(args.elf, board)
        tool, cmd = planned_command(board, args.elf, args.tool, args.probe)
        if args.json:
            emit_json({"board": board.name, "tool": tool, "command": cmd, "dry_run": True})
        else:
            print(shlex.join(cmd))
        return 0
    if not args.json:
        progress(f"flashing {args.elf} into {board.name}")
    result = flash_firmware(board, args.elf, args.tool, args.probe)
    if args.json:
        emit_json(result.to_json())
    else:
        print(f"flashed {args.elf} into {board.name} with {result.tool} "
              f"in {result.seconds:.1f} s")
    return 0
