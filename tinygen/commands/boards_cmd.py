"""``tinygen boards``: list the board descriptions tinygen ships."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tinygen.board import Board, list_board_names, load_board
from tinygen.tables import emit_json, format_bytes, format_table


def register(sub: Any) -> None:
    p = sub.add_parser("boards", help="list the known boards")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(_command_module=sys.modules[__name__])


def board_summary(b: Board) -> dict[str, Any]:
    return {
        "name": b.name,
        "description": b.description,
        "mcu": b.mcu,
        "core": b.core,
        "fpu": b.fpu,
        "clock_hz": b.clock_hz,
        "flash_bytes": b.flash_size,
        "ram_bytes": b.ram_size,
        "flash_budget": b.flash_budget,
        "ram_budget": b.ram_budget,
        "emulated": b.emulator is not None,
        "qemu_machine": b.emulator.qemu_machine if b.emulator else None,
    }


def run(args: argparse.Namespace) -> int:
    boards = [load_board(n) for n in list_board_names()]
    if args.json:
        emit_json([board_summary(b) for b in boards])
        return 0
    rows = [
        (b.name, b.core + ("F" if b.fpu != "none" else ""), f"{b.clock_hz / 1e6:g} MHz",
         format_bytes(b.flash_size), format_bytes(b.ram_size),
         f"yes ({b.emulator.qemu_machine})" if b.emulator else "no")
        for b in boards
    ]
    print(format_table(("board", "core", "clock", "flash", "ram", "emulated"), rows,
                       align_right=(2, 3, 4)))
    return 0
