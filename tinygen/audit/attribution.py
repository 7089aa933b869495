"""Split every byte of every allocated section among roles, from the link map or symbols + DWARF."""

from __future__ import annotations

import bisect
import heapq
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from tinygen.audit.dwarf import UnitRange
from tinygen.audit.elf import ElfImage, Section, Symbol
from tinygen.audit.linkmap import LinkMap
from tinygen.audit.roles import Role, Unit, classify_section, classify_symbol, classify_unit

# Unclaimed runs shorter than this are alignment padding and go to the piece after them (whose
# alignment made them); longer runs are "other". 16 covers the model array's alignment.
PADDING_LIMIT = 16

METHOD_MAP = "map"
METHOD_DWARF = "dwarf"
METHOD_SYMBOLS = "symbols"
METHOD_SECTIONS = "sections"


@dataclass(frozen=True)
class Piece:
    """A run of bytes of one section with one role."""

    section: Section
    vma: int
    size: int
    role: Role

    @property
    def lma(self) -> int:
        return self.section.lma + (self.vma - self.section.vma)


@dataclass(frozen=True)
class Attribution:
    method: str
    pieces: tuple[Piece, ...]  # cover every allocated section exactly, in address order
    symbol_roles: dict[Symbol, Role]
    symbols: tuple[Symbol, ...]  # aliases folded: one symbol per (section, address, size)


_Claim = tuple[int, int, int, int, Role]  # start, end, priority (lower wins), order, role


def check_link_map(link_map: LinkMap, elf: ElfImage) -> str | None:
    """Why ``link_map`` does not describe ``elf`` (None when it does)."""
    if not elf.has_section_headers:
        return "the ELF has no section headers to match it against"
    for section in elf.sections:
        mapped = link_map.sections.get(section.name)
        if mapped is None:
            return f"it has no output section {section.name}"
        if (mapped.address, mapped.size) != (section.vma, section.size):
            return (f"its {section.name} is 0x{mapped.address:08x}+0x{mapped.size:x}, the ELF's "
                    f"0x{section.vma:08x}+0x{section.size:x}")
    return None


def attribute(elf: ElfImage, link_map: LinkMap | None,
              unit_ranges: Sequence[UnitRange]) -> Attribution:
    """Pieces covering every allocated byte, and the role of each symbol."""
    if link_map is not None:
        method = METHOD_MAP
    elif unit_ranges:
        method = METHOD_DWARF
    elif elf.symbols:
        method = METHOD_SYMBOLS
    else:
        method = METHOD_SECTIONS
    symbols = fold_aliases(elf.symbols)
    by_section: dict[int, list[Symbol]] = {}
    for sym in symbols:
        by_section.setdefault(sym.section, []).append(sym)
    range_starts = [r.start for r in unit_ranges]

    pieces: list[Piece] = []
    for section in elf.sections:
        whole = classify_section(section.name)
        if whole is not None:
            pieces.append(Piece(section, section.vma, section.size, whole))
            continue
        if link_map is not None:
            claims = _map_claims(link_map, section)
            filler = Role("other", f"{section.name} (linker-generated)")
        else:
            claims = _symbol_claims(by_section.get(section.index, []), unit_ranges,
                                    range_starts, section)
            filler = Role("other", f"{section.name} (unattributed)")
        pieces.extend(_paint(section, claims, filler))

    roles = _symbol_roles(pieces, symbols)
    return Attribution(method, tuple(pieces), roles, symbols)


def fold_aliases(symbols: Iterable[Symbol]) -> tuple[Symbol, ...]:
    """One symbol per (section, address, size): global over weak over local, then by name."""
    rank = {1: 0, 2: 1, 0: 2}  # STB_GLOBAL, STB_WEAK, STB_LOCAL
    best: dict[tuple[int, int, int], Symbol] = {}
    for sym in symbols:
        key = (sym.section, sym.address, sym.size)
        held = best.get(key)
        if held is None or (rank.get(sym.binding, 3), sym.name) < (
                rank.get(held.binding, 3), held.name):
            best[key] = sym
    return tuple(sorted(best.values(), key=lambda s: (s.address, s.name)))


@cache
def _unit_role(unit: Unit) -> Role:
    return classify_unit(unit)


def _map_claims(link_map: LinkMap, section: Section) -> list[_Claim]:
    mapped = link_map.sections[section.name]
    return [(i.address, i.address + i.size, 0, n, _unit_role(i.unit))
            for n, i in enumerate(mapped.inputs)]


def _symbol_claims(symbols: list[Symbol], unit_ranges: Sequence[UnitRange],
                   range_starts: list[int], section: Section) -> list[_Claim]:
    # Well-known symbols first, then compile units' code ranges, then any other symbol (so that
    # its bytes are not mistaken for padding of a neighbour).
    claims: list[_Claim] = []
    unknown = Role("other", f"{section.name} (unattributed)")
    for n, sym in enumerate(symbols):
        known = classify_symbol(sym.name)
        claims.append((sym.address, sym.address + sym.size, 0 if known else 2, n,
                       known or unknown))
    end = section.vma + section.size
    i = max(0, bisect.bisect_right(range_starts, section.vma) - 1)
    while i < len(unit_ranges) and unit_ranges[i].start < end:
        r = unit_ranges[i]
        if r.end > section.vma:
            claims.append((r.start, r.end, 1, len(claims), _unit_role(r.unit)))
        i += 1
    return claims


def _paint(section: Section, claims: list[_Claim], filler: Role) -> list[Piece]:
    start, end = section.vma, section.vma + section.size
    clipped = sorted((max(a, start), min(b, end), p, n, role)
                     for a, b, p, n, role in claims if a < end and b > start and b > a)
    points = sorted({start, end, *(c[0] for c in clipped), *(c[1] for c in clipped)})
    runs: list[list[object]] = []  # [lo, hi, role or None]
    active: list[tuple[int, int, int, Role]] = []
    ci = 0
    for lo, hi in itertools.pairwise(points):
        while ci < len(clipped) and clipped[ci][0] <= lo:
            _, b, p, n, role = clipped[ci]
            heapq.heappush(active, (p, n, b, role))
            ci += 1
        while active and active[0][2] <= lo:
            heapq.heappop(active)
        role_here = active[0][3] if active else None
        if runs and runs[-1][2] == role_here:
            runs[-1][1] = hi
        else:
            runs.append([lo, hi, role_here])
    return _fill_gaps(section, runs, filler)


def _fill_gaps(section: Section, runs: list[list[object]], filler: Role) -> list[Piece]:
    resolved: list[tuple[int, int, Role]] = []
    for i, (lo, hi, role) in enumerate(runs):
        assert isinstance(lo, int) and isinstance(hi, int)
        if isinstance(role, Role):
            resolved.append((lo, hi, role))
            continue
        nxt = runs[i + 1][2] if i + 1 < len(runs) else None
        if hi - lo < PADDING_LIMIT and isinstance(nxt, Role):
            resolved.append((lo, hi, nxt))
        elif hi - lo < PADDING_LIMIT and resolved:
            resolved.append((lo, hi, resolved[-1][2]))
        else:
            resolved.append((lo, hi, filler))
    pieces: list[Piece] = []
    for lo, hi, role in resolved:
        if pieces and pieces[-1].role == role:
            last = pieces[-1]
            pieces[-1] = Piece(section, last.vma, hi - last.vma, role)
        else:
            pieces.append(Piece(section, lo, hi - lo, role))
    return pieces


def _symbol_roles(pieces: list[Piece], symbols: tuple[Symbol, ...]) -> dict[Symbol, Role]:
    by_section: dict[int, list[Piece]] = {}
    for piece in pieces:
        by_section.setdefault(piece.section.index, []).append(piece)
    starts = {k: [p.vma for p in v] for k, v in by_section.items()}
    roles: dict[Symbol, Role] = {}
    for sym in symbols:
        in_section = by_section.get(sym.section)
        if not in_section:
            continue
        i = bisect.bisect_right(starts[sym.section], sym.address) - 1
        roles[sym] = in_section[max(i, 0)].role
    return roles
