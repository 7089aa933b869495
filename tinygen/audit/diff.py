"""Compare two audits, like ``bloaty NEW -- OLD``: growth per total, region, role and symbol."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from tinygen.audit.render import md_escape
from tinygen.audit.report import SCHEMA, SCHEMA_VERSION, AuditReport
from tinygen.audit.roles import ROLE_LABELS, ROLES
from tinygen.tables import format_table


@dataclass(frozen=True)
class Delta:
    name: str
    old: int
    new: int

    @property
    def delta(self) -> int:
        return self.new - self.old

    @property
    def percent(self) -> float | None:
        return 100.0 * self.delta / self.old if self.old else None


@dataclass(frozen=True)
class RoleDelta:
    role: str
    component: str | None  # None for the role as a whole
    flash: Delta
    ram: Delta

    @property
    def changed(self) -> bool:
        return bool(self.flash.delta or self.ram.delta)


@dataclass(frozen=True)
class SymbolDelta:
    name: str
    role: str
    kind: str
    old: int  # 0 when the symbol is new
    new: int  # 0 when it is gone

    @property
    def delta(self) -> int:
        return self.new - self.old

    @property
    def status(self) -> str:
        return "added" if not self.old else "removed" if not self.new else "changed"


@dataclass(frozen=True)
class AuditDiff:
    new: AuditReport
    old: AuditReport
    totals: tuple[Delta, ...]  # text, data, bss, flash, ram
    regions: tuple[Delta, ...]  # used bytes per region name
    roles: tuple[RoleDelta, ...]  # every role, then changed components after their role
    symbols: tuple[SymbolDelta, ...]  # changed symbols, biggest change first

    def to_json(self, top: int | None = None) -> dict[str, Any]:
        symbols = self.symbols if top is None else self.symbols[:top]

        def delta(d: Delta) -> dict[str, Any]:
            return {"old": d.old, "new": d.new, "delta": d.delta}

        return {
            "schema": SCHEMA + "-diff",
            "schema_version": SCHEMA_VERSION,
            "new": self.new.elf.path,
            "old": self.old.elf.path,
            "totals": {d.name: delta(d) for d in self.totals},
            "regions": {d.name: delta(d) for d in self.regions},
            "roles": [{"role": r.role, "component": r.component, "flash": delta(r.flash),
                       "ram": delta(r.ram)} for r in self.roles],
            "symbols": [{"name": s.name, "role": s.role, "kind": s.kind, "old": s.old,
                         "new": s.new, "delta": s.delta, "status": s.status} for s in symbols],
            "symbols_changed": len(self.symbols),
        }


def diff_reports(new: AuditReport, old: AuditReport) -> AuditDiff:
    """What changed from ``old`` to ``new``."""
    nt, ot = new.totals, old.totals
    totals = tuple(Delta(k, getattr(ot, k), getattr(nt, k))
                   for k in ("text", "data", "bss", "flash", "ram"))
    old_regions = {r.name: r.used for r in old.regions}
    new_regions = {r.name: r.used for r in new.regions}
    regions = tuple(Delta(n, old_regions.get(n, 0), new_regions.get(n, 0))
                    for n in [*new_regions, *(n for n in old_regions if n not in new_regions)])
    roles: list[RoleDelta] = []
    for role in ROLES:
        o, n = old.role(role), new.role(role)
        roles.append(RoleDelta(role, None, Delta("flash", o.flash, n.flash),
                               Delta("ram", o.ram, n.ram)))
        oc = {c.name: c for c in o.components}
        nc = {c.name: c for c in n.components}
        parts = [RoleDelta(role, name,
                           Delta("flash", oc[name].flash if name in oc else 0,
                                 nc[name].flash if name in nc else 0),
                           Delta("ram", oc[name].ram if name in oc else 0,
                                 nc[name].ram if name in nc else 0))
                 for name in sorted(set(oc) | set(nc))]
        changed = [p for p in parts if p.changed]
        if len(changed) == 1 and (changed[0].flash, changed[0].ram) == (
                roles[-1].flash, roles[-1].ram):
            continue  # the role's only component: its line would repeat the role's
        roles.extend(sorted(changed, key=lambda p: (-abs(p.flash.delta) - abs(p.ram.delta),
                                                    p.component or "")))
    return AuditDiff(new, old, totals, regions, tuple(roles), _symbol_deltas(new, old))


def _symbol_deltas(new: AuditReport, old: AuditReport) -> tuple[SymbolDelta, ...]:
    # Keyed by name; file-local symbols sharing a name are summed (bloaty does the same).
    sizes: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    info: dict[str, tuple[str, str]] = {}
    for i, report in enumerate((old, new)):
        for s in report.symbols:
            sizes[s.name][i] += s.size
            info[s.name] = (s.role, s.kind)
    found = [SymbolDelta(name, *info[name], o, n) for name, (o, n) in sizes.items() if o != n]
    return tuple(sorted(found, key=lambda s: (-abs(s.delta), s.name)))


def _signed(n: int) -> str:
    return f"{n:+,}"


def _pct(d: Delta) -> str:
    return f"{d.percent:+.1f}%" if d.percent is not None else ("new" if d.new else "")


def render_diff_text(diff: AuditDiff, top: int = 20) -> str:
    out = [f"{diff.new.elf.path} vs {diff.old.elf.path}", ""]
    rows = [(d.name, f"{d.old:,}", f"{d.new:,}", _signed(d.delta), _pct(d))
            for d in (*diff.totals[3:], *diff.totals[:3])]
    rows += [(f"region {d.name}", f"{d.old:,}", f"{d.new:,}", _signed(d.delta), _pct(d))
             for d in diff.regions]
    out.append(format_table(("", "old", "new", "delta", ""), rows, align_right=(1, 2, 3, 4)))
    out.append("")
    role_rows = []
    for r in diff.roles:
        if not r.changed:
            continue
        label = ROLE_LABELS[r.role] if r.component is None else f"  {r.component}"
        role_rows.append((label, _signed(r.flash.delta), _signed(r.ram.delta),
                          f"{r.flash.new:,}", f"{r.ram.new:,}"))
    if role_rows:
        out.append(format_table(("role", "flash delta", "ram delta", "flash now", "ram now"),
                                role_rows, align_right=(1, 2, 3, 4)))
    else:
        out.append("no role changed size")
    if diff.symbols and top > 0:
        out.append("")
        out.append(f"symbols (biggest {min(top, len(diff.symbols))} of "
                   f"{len(diff.symbols)} changes)")
        out.append(format_table(
            ("delta", "old", "new", "", "role", "symbol"),
            [(_signed(s.delta), f"{s.old:,}", f"{s.new:,}",
              {"added": "[NEW]", "removed": "[DEL]"}.get(s.status, ""), s.role, s.name)
             for s in diff.symbols[:top]], align_right=(0, 1, 2)))
    return "\n".join(out)


def render_diff_markdown(diff: AuditDiff, top: int = 20) -> str:
    flash, ram = diff.totals[3], diff.totals[4]
    out = [f"### Firmware size change: flash {_signed(flash.delta)} B, ram {_signed(ram.delta)} B",
           "", "| | old | new | delta |", "|---|---:|---:|---:|"]
    for d in (*diff.totals[3:], *diff.regions):
        out.append(f"| {md_escape(d.name)} | {d.old:,} | {d.new:,} | {_signed(d.delta)} |")
    changed = [r for r in diff.roles if r.changed]
    if changed:
        out += ["", "| role | flash | ram |", "|---|---:|---:|"]
        for r in changed:
            label = (ROLE_LABELS[r.role] if r.component is None
                     else f"&nbsp;&nbsp;{md_escape(r.component)}")
            out.append(f"| {label} | {_signed(r.flash.delta)} | {_signed(r.ram.delta)} |")
    if diff.symbols and top > 0:
        out += ["", "<details><summary>symbols</summary>", "",
                "| symbol | role | delta | status |", "|---|---|---:|---|"]
        for s in diff.symbols[:top]:
            out.append(f"| `{s.name.replace('`', '')}` | {s.role} | {_signed(s.delta)} | "
                       f"{s.status} |")
        out += ["", "</details>"]
    return "\n".join(out) + "\n"
