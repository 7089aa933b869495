"""Whether a firmware ELF can run on a board, checked before it is flashed or started: linked
32-bit ARM, built (by tinygen) for this board, loaded into the board's memory, booting into it."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from tinygen.audit.elf import open_elf
from tinygen.board import Board, MemoryRegion
from tinygen.errors import InputError

BOARD_SECTION = ".tinygen.board"  # templates/board/startup.c.j2: the board's name, not loaded


def built_for(elf: ELFFile) -> str | None:
    """The board a tinygen firmware was built for (its .tinygen.board section), else None."""
    section = elf.get_section_by_name(BOARD_SECTION)
    if section is None:
        return None
    return bytes(section.data()).split(b"\0", 1)[0].decode("ascii", errors="replace")


def _problems(elf: ELFFile, board: Board) -> list[str]:
    flash, memory = board.flash_regions, board.memory

    def inside(regions: Sequence[MemoryRegion], start: int, size: int) -> bool:
        return any(r.origin <= start and start + size <= r.end for r in regions)

    problems = []
    loads = [s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]
    stored = [s for s in loads if s["p_filesz"]]
    if not stored:
        return ["it has no loadable contents"]
    for s in stored:
        if not inside(flash, s["p_paddr"], s["p_filesz"]):
            problems.append(f"it stores 0x{s['p_paddr']:08X}..0x{s['p_paddr'] + s['p_filesz']:08X}"
                            ", outside the board's flash")
    for s in loads:
        if s["p_memsz"] and not inside(memory, s["p_vaddr"], s["p_memsz"]):
            problems.append(f"it runs at 0x{s['p_vaddr']:08X}..0x{s['p_vaddr'] + s['p_memsz']:08X}"
                            ", outside the board's flash and RAM")
    if problems:
        return problems
    # The vector table opens the image: the initial stack pointer, then the reset handler.
    first = min(stored, key=lambda s: s["p_paddr"])
    head = first.data()[:8]
    if len(head) < 8:
        return ["its image is too short to hold a vector table"]
    sp, reset = struct.unpack("<II" if elf.little_endian else ">II", head)
    if not any(r.origin < sp <= r.end for r in board.ram_regions):
        problems.append(f"its vector table's initial stack pointer 0x{sp:08X} is outside the "
                        "board's RAM")
    if not reset & 1 or not inside(flash, reset & ~1, 2):
        problems.append(f"its reset vector 0x{reset:08X} is not Thumb code in the board's flash")
    return problems


def check_firmware_for_board(path: Path, board: Board) -> None:
    """Refuse ``path`` unless it is linked 32-bit ARM firmware that fits ``board``: built for it
    (tinygen firmware names its board), stored in its flash, running in its flash and RAM,
    with a vector table that boots into them."""
    stream, elf = open_elf(path)
    with stream:
        try:
            name = built_for(elf)
            problems = [] if name not in (None, board.name) else _problems(elf, board)
        except (ELFError, struct.error, ValueError) as exc:
            raise InputError(f"{path}: corrupt ELF: {exc}",
                             hint="build the firmware again (tinygen build)") from exc
    if name is not None and name != board.name:
        raise InputError(f"{path} was built for board {name}, not {board.name}",
                         hint=f"build it for this board (tinygen build --board {board.name} "
                              f"...), or pass --board {name}")
    if problems:
        raise InputError(f"{path} does not fit board {board.name}: " + "; ".join(problems),
                         hint=f"build it for this board: tinygen build --board {board.name} ...")
