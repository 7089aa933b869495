"""The memory map to audit against: the board's, the ELF's region symbols, or its segments."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from tinygen.audit.elf import TEXT, ElfImage, Section
from tinygen.board import Board
from tinygen.errors import InputError

# Load ranges of one kind closer than this are one region when we must guess the memory map.
_MERGE_GAP = 16 << 20

SOURCE_BOARD = "board"
SOURCE_SYMBOLS = "elf-symbols"
SOURCE_SEGMENTS = "program-headers"


@dataclass(frozen=True)
class RegionSpec:
    name: str
    kind: str  # "flash" or "ram"
    origin: int
    size: int | None  # None when only the used extent is known (regions guessed from segments)
    source: str

    def contains(self, address: int) -> bool:
        end = self.origin + self.size if self.size is not None else self.origin + (1 << 32)
        return self.origin <= address < end


class RegionMap:
    """Regions sorted by origin, with a lookup by address."""

    def __init__(self, regions: tuple[RegionSpec, ...]) -> None:
        self.regions = tuple(sorted(regions, key=lambda r: (r.origin, r.name)))
        self._origins = [r.origin for r in self.regions]

    def locate(self, address: int) -> RegionSpec | None:
        i = bisect.bisect_right(self._origins, address) - 1
        while i >= 0:
            region = self.regions[i]
            if region.contains(address):
                return region
            if region.size is not None:
                return None
            i -= 1
        return None

    def describe(self) -> str:
        return ", ".join(f"{r.name} 0x{r.origin:08x}+0x{r.size or 0:x}" for r in self.regions)


def holds_load_image(section: Section) -> bool:
    """Whether the section's bytes must be stored in non-volatile memory (its LMA)."""
    return section.has_contents and (section.kind == TEXT or section.lma != section.vma)


def board_region_map(board: Board, elf: ElfImage) -> RegionMap:
    """The board's regions, after checking the ELF was linked for them."""
    names = {r.name: r for r in board.memory}
    for name, (start, end) in sorted(elf.region_symbols.items()):
        region = names.get(name)
        if region is None:
            raise InputError(
                f"{elf.path} was linked for memory region {name!r} "
                f"(__tinygen_{name}_start__), which board {board.name} lacks",
                hint=f"audit with the board it was built for; {board.name} has "
                     f"{', '.join(names)} ({board.path})")
        if (start is not None and start != region.origin) or (
                end is not None and end != region.end):
            raise InputError(
                f"{elf.path}: region {name!r} is 0x{start or 0:08x}..0x{end or 0:08x} in the "
                f"ELF but 0x{region.origin:08x}..0x{region.end:08x} in {board.path}",
                hint="the firmware was linked for another board or an older board file")
    regions = RegionMap(tuple(RegionSpec(r.name, r.kind, r.origin, r.size, SOURCE_BOARD)
                              for r in board.memory))
    for section in elf.sections:
        for address, what in _addresses(section):
            if regions.locate(address) is None:
                raise InputError(
                    f"{elf.path}: section {section.name} ({what} 0x{address:08x}, "
                    f"{section.size} bytes) lies in no memory region of board {board.name}",
                    hint=f"regions: {regions.describe()}; audit with the board the firmware "
                         "was built for")
    return regions


def _addresses(section: Section) -> list[tuple[int, str]]:
    found = [(section.vma, "address")]
    if holds_load_image(section) and section.lma != section.vma:
        found.append((section.lma, "load address"))
    return found


def elf_region_map(elf: ElfImage) -> tuple[RegionMap, list[str]]:
    """Regions from the ELF alone: its ``__tinygen_*`` symbols, else its load segments."""
    notes: list[str] = []
    complete = {n: (s, e) for n, (s, e) in elf.region_symbols.items()
                if s is not None and e is not None and e > s}
    for name in sorted(set(elf.region_symbols) - set(complete)):
        notes.append(f"region symbols of {name!r} are incomplete; ignored")
    if complete:
        regions = RegionMap(tuple(
            RegionSpec(name, _kind_of(elf, start, end), start, end - start, SOURCE_SYMBOLS)
            for name, (start, end) in complete.items()))
        if all(regions.locate(a) for s in elf.sections for a, _ in _addresses(s)):
            return regions, notes
        notes.append("some sections lie outside the ELF's __tinygen_* regions; "
                     "regions guessed from the program headers instead")
    return _segment_regions(elf), notes


def _kind_of(elf: ElfImage, start: int, end: int) -> str:
    for section in elf.sections:
        if holds_load_image(section) and start <= section.lma < end:
            return "flash"
    return "ram"


def _segment_regions(elf: ElfImage) -> RegionMap:
    # Without a board: code and read-only segments are flash (a code segment may be writable
    # too, when .init_array shares it), as are the load images of relocated data; other
    # writable segments are RAM where they run. The sizes stay unknown.
    ranges: dict[str, list[tuple[int, int]]] = {"flash": [], "ram": []}
    for seg in elf.segments:
        if seg.executable or not seg.writable:
            ranges["flash"].append((seg.paddr, seg.paddr + max(seg.filesz, seg.memsz)))
            continue
        if seg.filesz and seg.paddr != seg.vaddr:
            ranges["flash"].append((seg.paddr, seg.paddr + seg.filesz))
        if seg.memsz:
            ranges["ram"].append((seg.vaddr, seg.vaddr + seg.memsz))
    if not elf.segments:
        for section in elf.sections:
            kind = "flash" if holds_load_image(section) else "ram"
            address = section.lma if kind == "flash" else section.vma
            ranges[kind].append((address, address + section.size))
    specs = []
    for kind in ("flash", "ram"):
        merged: list[list[int]] = []
        for start, end in sorted(ranges[kind]):
            if merged and start <= merged[-1][1] + _MERGE_GAP:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        for i, (start, _end) in enumerate(merged):
            specs.append(RegionSpec(kind if i == 0 else f"{kind}_{i}", kind, start, None,
                                    SOURCE_SEGMENTS))
    # A guessed region has no end: lookup gives the nearest region at or below an address.
    return RegionMap(tuple(specs))
