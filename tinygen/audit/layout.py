"""Where a firmware's sections landed: the vector table at the flash origin the core boots from,
and every loaded section inside one of the board's memory regions."""

from __future__ import annotations

from pathlib import Path

from elftools.elf.elffile import ELFFile

from tinygen.board import Board

_SHF_ALLOC = 0x2


def layout_problems(elf_path: Path, board: Board) -> list[str]:
    """What is misplaced in ``elf_path`` for ``board``; empty when the layout is right."""
    problems: list[str] = []
    code = board.region(board.code_region)
    with elf_path.open("rb") as f:
        elf = ELFFile(f)
        vectors = elf.get_section_by_name(".vectors")
        if vectors is None:
            problems.append("no .vectors section (the vector table)")
        elif vectors["sh_addr"] != code.origin:
            problems.append(f"the vector table is at 0x{vectors['sh_addr']:08x}, not at the "
                            f"origin of '{code.name}' (0x{code.origin:08x}) the core boots from")
        for section in elf.iter_sections():
            if not section["sh_flags"] & _SHF_ALLOC or not section["sh_size"]:
                continue
            start = section["sh_addr"]
            end = start + section["sh_size"]
            if not any(r.origin <= start and end <= r.end for r in board.memory):
                problems.append(f"{section.name} (0x{start:08x}..0x{end:08x}) is outside every "
                                f"memory region of {board.name}")
    return problems
