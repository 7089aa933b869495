"""The audit's result: frozen records, and their JSON form (schema in docs/audit-json.md)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tinygen.audit.roles import ROLE_LABELS

SCHEMA = "tinygen-audit"
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class SizeTotals:
    """What ``arm-none-eabi-size`` (Berkeley format) prints for the same ELF."""

    text: int
    data: int
    bss: int

    @property
    def flash(self) -> int:
        return self.text + self.data

    @property
    def ram(self) -> int:
        return self.data + self.bss


class _AgainstBudget:
    """``used`` bytes against an optional ``budget``: the share used and the overflow."""

    used: int
    budget: int | None

    @property
    def fraction(self) -> float | None:
        return self.used / self.budget if self.budget else None

    @property
    def over(self) -> int:
        return max(0, self.used - self.budget) if self.budget is not None else 0


@dataclass(frozen=True)
class RegionUsage(_AgainstBudget):
    name: str
    kind: str  # "flash" or "ram"
    origin: int
    size: int | None  # None when the region was guessed from program headers
    used: int  # bytes occupied: load images at their load address, the rest where they run
    budget: int | None
    source: str  # "board", "elf-symbols" or "program-headers"
    roles: tuple[tuple[str, int], ...]  # (role, bytes) in this region, biggest first


@dataclass(frozen=True)
class BudgetUsage(_AgainstBudget):
    """Flash (text + data) or RAM (data + bss) against the budget for that kind of memory."""

    kind: str
    used: int
    budget: int | None
    source: str | None  # "board", "command line" or None (no budget)
    regions: tuple[str, ...]


@dataclass(frozen=True)
class ComponentUsage:
    name: str
    flash: int
    ram: int


@dataclass(frozen=True)
class RoleUsage:
    role: str
    flash: int
    ram: int
    components: tuple[ComponentUsage, ...]  # biggest first

    @property
    def label(self) -> str:
        return ROLE_LABELS[self.role]


@dataclass(frozen=True)
class SectionUsage:
    name: str
    kind: str  # "text", "data" or "bss", as arm-none-eabi-size classes it
    address: int
    load_address: int
    size: int
    regions: tuple[str, ...]  # the load region first when the section has a load image


@dataclass(frozen=True)
class SymbolUsage:
    name: str
    address: int
    size: int
    kind: str  # the class of its section: "text", "data" or "bss"
    section: str
    role: str
    component: str

    @property
    def flash(self) -> int:
        return self.size if self.kind in ("text", "data") else 0

    @property
    def ram(self) -> int:
        return self.size if self.kind in ("data", "bss") else 0


@dataclass(frozen=True)
class ElfInfo:
    path: str
    sha256: str
    cpu: str | None
    entry: int
    has_symbols: bool
    has_dwarf: bool


@dataclass(frozen=True)
class AuditReport:
    elf: ElfInfo
    board: str | None
    map_path: str | None
    attribution: str  # "map", "dwarf", "symbols" or "sections"
    totals: SizeTotals
    regions: tuple[RegionUsage, ...]
    budgets: tuple[BudgetUsage, ...]  # flash, then ram
    roles: tuple[RoleUsage, ...]  # every role, in the fixed order of ROLE_LABELS
    sections: tuple[SectionUsage, ...]
    symbols: tuple[SymbolUsage, ...]  # biggest first
    notes: tuple[str, ...]

    def moved_to(self, folder: Path) -> AuditReport:
        """The same report for the ELF and map file moved, unchanged, into ``folder``."""
        return replace(
            self, elf=replace(self.elf, path=str(folder / Path(self.elf.path).name)),
            map_path=None if self.map_path is None else str(folder / Path(self.map_path).name))

    def role(self, role: str) -> RoleUsage:
        for r in self.roles:
            if r.role == role:
                return r
        raise KeyError(role)

    def budget(self, kind: str) -> BudgetUsage:
        for b in self.budgets:
            if b.kind == kind:
                return b
        raise KeyError(kind)

    def to_json(self, top: int | None = None) -> dict[str, Any]:
        """The documented JSON form; ``top`` limits the symbol list (all when None)."""
        symbols = self.symbols if top is None else self.symbols[:top]
        return {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "elf": {
                "path": self.elf.path, "sha256": self.elf.sha256, "cpu": self.elf.cpu,
                "entry": self.elf.entry, "has_symbols": self.elf.has_symbols,
                "has_dwarf": self.elf.has_dwarf,
            },
            "board": self.board,
            "map": self.map_path,
            "attribution": self.attribution,
            "totals": {"text": self.totals.text, "data": self.totals.data,
                       "bss": self.totals.bss, "flash": self.totals.flash,
                       "ram": self.totals.ram},
            "budgets": [
                {"kind": b.kind, "used": b.used, "budget": b.budget, "source": b.source,
                 "over": b.over, "regions": list(b.regions)} for b in self.budgets
            ],
            "regions": [
                {"name": r.name, "kind": r.kind, "origin": r.origin, "size": r.size,
                 "used": r.used, "budget": r.budget, "over": r.over, "source": r.source,
                 "roles": {role: n for role, n in r.roles}} for r in self.regions
            ],
            "roles": [
                {"role": r.role, "label": r.label, "flash": r.flash, "ram": r.ram,
                 "components": [{"name": c.name, "flash": c.flash, "ram": c.ram}
                                for c in r.components]}
                for r in self.roles
            ],
            "sections": [
                {"name": s.name, "kind": s.kind, "address": s.address,
                 "load_address": s.load_address, "size": s.size, "regions": list(s.regions)}
                for s in self.sections
            ],
            "symbols": [
                {"name": s.name, "address": s.address, "size": s.size, "kind": s.kind,
                 "section": s.section, "role": s.role, "component": s.component,
                 "flash": s.flash, "ram": s.ram} for s in symbols
            ],
            "symbols_total": len(self.symbols),
            "notes": list(self.notes),
        }
