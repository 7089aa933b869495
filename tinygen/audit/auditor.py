"""``audit_elf``: read a firmware ELF (and its link map), place and attribute every byte."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from pathlib import Path

from tinygen.audit.attribution import METHOD_MAP, Attribution, attribute, check_link_map
from tinygen.audit.dwarf import UnitRange, read_unit_ranges
from tinygen.audit.elf import BSS, DATA, TEXT, ElfImage, Section, read_elf
from tinygen.audit.linkmap import LinkMap, read_link_map
from tinygen.audit.regions import (
    SOURCE_SEGMENTS,
    RegionMap,
    RegionSpec,
    board_region_map,
    elf_region_map,
    holds_load_image,
)
from tinygen.audit.report import (
    AuditReport,
    BudgetUsage,
    ComponentUsage,
    ElfInfo,
    RegionUsage,
    RoleUsage,
    SectionUsage,
    SizeTotals,
    SymbolUsage,
)
from tinygen.audit.roles import ROLES
from tinygen.board import Board
from tinygen.errors import InputError

MAP_NAMES = ("{stem}.map", "firmware.map")  # looked for next to the ELF


def audit_elf(elf_path: Path, board: Board | None = None, *, map_path: Path | None = None,
              budget_flash: int | None = None, budget_ram: int | None = None) -> AuditReport:
    """Audit ``elf_path`` against ``board`` (or the ELF's own memory map when None).

    ``map_path`` defaults to ``<stem>.map`` or ``firmware.map`` next to the ELF; a map that
    does not describe this ELF is an error when given, and ignored (with a note) when found.
    Budgets given here override the board's.
    """
    for name, value in (("flash", budget_flash), ("ram", budget_ram)):
        if value is not None and value <= 0:
            raise InputError(f"the {name} budget must be > 0 bytes, not {value}",
                             hint=f"give --budget-{name} as a size, e.g. 256K")
    elf = read_elf(elf_path)
    notes: list[str] = []
    if board is not None:
        regions = board_region_map(board, elf)
    else:
        regions, region_notes = elf_region_map(elf)
        notes.extend(region_notes)
    link_map = _find_link_map(elf, map_path, notes)
    unit_ranges: tuple[UnitRange, ...] = ()
    if link_map is None and elf.has_dwarf:
        unit_ranges = read_unit_ranges(elf_path)
    attribution = attribute(elf, link_map, unit_ranges)
    notes.extend(_attribution_notes(elf, attribution))

    totals = SizeTotals(*(sum(s.size for s in elf.sections if s.kind == k)
                          for k in (TEXT, DATA, BSS)))
    region_usage = _region_usage(elf, regions, attribution, board, budget_flash, budget_ram)
    budgets = _budgets(totals, regions, board, budget_flash, budget_ram)
    notes.extend(_occupancy_notes(elf, regions))
    return AuditReport(
        elf=ElfInfo(str(elf_path), _sha256(elf_path), elf.cpu, elf.entry, bool(elf.symbols),
                    elf.has_dwarf),
        board=board.name if board is not None else None,
        map_path=str(link_map.path) if link_map is not None else None,
        attribution=attribution.method,
        totals=totals,
        regions=region_usage,
        budgets=budgets,
        roles=_role_usage(attribution),
        sections=tuple(
            SectionUsage(s.name, s.kind, s.vma, s.lma, s.size,
                         tuple(r.name for r in _section_regions(s, regions)))
            for s in elf.sections),
        symbols=_symbol_usage(elf, attribution),
        notes=tuple(notes),
    )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _find_link_map(elf: ElfImage, map_path: Path | None, notes: list[str]) -> LinkMap | None:
    wanted = {s.name for s in elf.sections}
    if map_path is not None:
        if not map_path.is_file():
            raise InputError(f"link map {map_path} does not exist",
                             hint="the linker writes it beside the ELF (firmware.map); or leave "
                                  "out --map")
        link_map = read_link_map(map_path, wanted)
        problem = check_link_map(link_map, elf)
        if problem:
            raise InputError(f"{map_path} is not the link map of {elf.path}: {problem}",
                             hint="relink, or pass the map written with this ELF")
        return link_map
    for pattern in MAP_NAMES:
        candidate = elf.path.with_name(pattern.format(stem=elf.path.stem))
        if not candidate.is_file():
            continue
        try:
            link_map = read_link_map(candidate, wanted)
        except InputError as exc:
            notes.append(f"ignored {candidate}: {exc.message}")
            continue
        problem = check_link_map(link_map, elf)
        if problem is None:
            return link_map
        notes.append(f"ignored {candidate}, which does not match this ELF ({problem})")
    return None


def _attribution_notes(elf: ElfImage, attribution: Attribution) -> list[str]:
    notes = []
    if not elf.has_section_headers:
        notes.append("the ELF has no section headers: sizes come from its program headers, "
                     "which arm-none-eabi-size does not read, and roles are unknown")
    if not elf.has_symtab:
        notes.append("the ELF is stripped (no symbol table): no symbol list"
                     + ("" if attribution.method == METHOD_MAP else
                        "; roles need symbols or the link map (--map), so most bytes are "
                        "'other'"))
    elif attribution.method != METHOD_MAP:
        notes.append("no link map: roles come from symbols"
                     + (" and DWARF compile units" if attribution.method == "dwarf" else "")
                     + "; data without a known compile unit is 'other' (pass --map for all)")
    return notes


def _section_regions(section: Section, regions: RegionMap) -> list[RegionSpec]:
    """Regions the section occupies: its load image's region, then the one it runs in."""
    found: list[RegionSpec] = []
    if holds_load_image(section):
        load = regions.locate(section.lma)
        if load is not None:
            found.append(load)
    run = regions.locate(section.vma)
    if run is not None and run not in found:
        found.append(run)
    return found


def _region_usage(elf: ElfImage, regions: RegionMap, attribution: Attribution,
                  board: Board | None, budget_flash: int | None, budget_ram: int | None,
                  ) -> tuple[RegionUsage, ...]:
    used: dict[str, int] = defaultdict(int)
    roles: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    placements = {s.index: _section_regions(s, regions) for s in elf.sections}
    for piece in attribution.pieces:
        for region in placements[piece.section.index]:
            used[region.name] += piece.size
            roles[region.name][piece.role.role] += piece.size
    kind_budget = {"flash": budget_flash if budget_flash is not None else
                   (board.flash_budget if board else None),
                   "ram": budget_ram if budget_ram is not None else
                   (board.ram_budget if board else None)}
    per_kind: dict[str, int] = defaultdict(int)
    for r in regions.regions:
        per_kind[r.kind] += 1
    result = []
    for r in regions.regions:
        budget = r.size
        if per_kind[r.kind] == 1 and kind_budget[r.kind] is not None:
            budget = kind_budget[r.kind]
        if r.source == SOURCE_SEGMENTS and not used[r.name]:
            continue
        result.append(RegionUsage(
            r.name, r.kind, r.origin, r.size, used[r.name], budget, r.source,
            tuple(sorted(((k, v) for k, v in roles[r.name].items() if v),
                         key=lambda kv: (-kv[1], ROLES.index(kv[0]))))))
    return tuple(result)


def _budgets(totals: SizeTotals, regions: RegionMap, board: Board | None,
             budget_flash: int | None, budget_ram: int | None) -> tuple[BudgetUsage, ...]:
    result = []
    for kind, used, given, from_board in (
            ("flash", totals.flash, budget_flash, board.flash_budget if board else None),
            ("ram", totals.ram, budget_ram, board.ram_budget if board else None)):
        of_kind = [r for r in regions.regions if r.kind == kind]
        sizes = [r.size for r in of_kind]
        budget: int | None
        source: str | None
        if given is not None:
            budget, source = given, "command line"
        elif from_board is not None:
            budget, source = from_board, "board"
        elif of_kind and all(sizes):
            budget, source = sum(s or 0 for s in sizes), "region sizes"
        else:
            budget, source = None, None
        names = tuple(r.name for r in of_kind)
        result.append(BudgetUsage(kind, used, budget, source, names))
    return tuple(result)


def _occupancy_notes(elf: ElfImage, regions: RegionMap) -> list[str]:
    """Explain sections that make region occupancy differ from arm-none-eabi-size's totals."""
    notes = []
    for kind in ("flash", "ram"):
        placed = {s.index: any(r.kind == kind for r in _section_regions(s, regions))
                  for s in elf.sections}
        counted = {s.index: s.in_flash_total if kind == "flash" else s.in_ram_total
                   for s in elf.sections}
        extra = [s for s in elf.sections if counted[s.index] and not placed[s.index]]
        missing = [s for s in elf.sections if placed[s.index] and not counted[s.index]]
        if extra:
            notes.append(f"the {kind} total counts {_listing(extra)} as arm-none-eabi-size "
                         f"does, though no {kind} region holds them")
        if missing:
            notes.append(f"{_listing(missing)} occupy {kind} regions but are not in the "
                         f"{kind} total (arm-none-eabi-size counts them elsewhere)")
    return notes


def _listing(sections: list[Section]) -> str:
    return ", ".join(f"{s.name} ({s.size:,} B, {s.kind})" for s in sections)


def _role_usage(attribution: Attribution) -> tuple[RoleUsage, ...]:
    flash: dict[str, dict[str, int]] = {r: defaultdict(int) for r in ROLES}
    ram: dict[str, dict[str, int]] = {r: defaultdict(int) for r in ROLES}
    for piece in attribution.pieces:
        role, component = piece.role.role, piece.role.component
        if piece.section.in_flash_total:
            flash[role][component] += piece.size
        if piece.section.in_ram_total:
            ram[role][component] += piece.size
    result = []
    for role in ROLES:
        names = set(flash[role]) | set(ram[role])
        components = sorted(
            (ComponentUsage(n, flash[role].get(n, 0), ram[role].get(n, 0)) for n in names),
            key=lambda c: (-(c.flash + c.ram), c.name))
        result.append(RoleUsage(role, sum(flash[role].values()), sum(ram[role].values()),
                                tuple(components)))
    return tuple(result)


def _symbol_usage(elf: ElfImage, attribution: Attribution) -> tuple[SymbolUsage, ...]:
    sections = {s.index: s for s in elf.sections}
    result = []
    for sym in attribution.symbols:
        role = attribution.symbol_roles.get(sym)
        section = sections.get(sym.section)
        if role is None or section is None:
            continue
        result.append(SymbolUsage(sym.name, sym.address, sym.size, section.kind, section.name,
                                  role.role, role.component))
    return tuple(sorted(result, key=lambda s: (-s.size, s.name, s.address)))
