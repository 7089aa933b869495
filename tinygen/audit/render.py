"""Text and Markdown views of an AuditReport."""

from __future__ import annotations

from collections.abc import Sequence

from tinygen.audit.budget import budget_violations
from tinygen.audit.report import AuditReport, BudgetUsage, RegionUsage, RoleUsage
from tinygen.tables import bar, format_bytes, format_table

EXPANDED_ROLES = ("kernel", "runtime")  # roles whose components get their own rows
_BAR = 20


def _pct(fraction: float | None) -> str:
    return f"{100 * fraction:5.1f}%" if fraction is not None else "     -"


def _bar(fraction: float | None) -> str:
    return bar(min(fraction, 1.0), _BAR) if fraction is not None else ""


def _source(report: AuditReport) -> str:
    how = {"map": f"link map {report.map_path}", "dwarf": "symbols + DWARF compile units",
           "symbols": "symbols", "sections": "section names only"}[report.attribution]
    parts = [f"board {report.board}" if report.board else "no board (regions from the ELF)"]
    if report.elf.cpu:
        parts.append(f"cpu {report.elf.cpu}")
    parts.append(f"roles from {how}")
    return f"{report.elf.path}: " + ", ".join(parts)


def _region_rows(regions: tuple[RegionUsage, ...]) -> list[tuple[str, ...]]:
    return [(r.name, r.kind, f"0x{r.origin:08x}", f"{r.used:,}",
             f"{r.budget:,}" if r.budget is not None else "-", _pct(r.fraction),
             _bar(r.fraction) + (" OVER" if r.over else "")) for r in regions]


def _budget_line(b: BudgetUsage, report: AuditReport) -> str:
    parts = (f"text {report.totals.text:,} + data {report.totals.data:,}" if b.kind == "flash"
             else f"data {report.totals.data:,} + bss {report.totals.bss:,}")
    limit = f" of {b.budget:,} ({_pct(b.fraction).strip()}, {b.source})" if b.budget else ""
    over = f"  OVER by {b.over:,}" if b.over else ""
    return f"{b.kind:<5} {b.used:>11,} bytes ({format_bytes(b.used)}){limit}  = {parts}{over}"


def _role_rows(report: AuditReport) -> list[tuple[str, ...]]:
    flash, ram = report.totals.flash or 1, report.totals.ram or 1
    rows: list[tuple[str, ...]] = []
    for r in report.roles:
        if not (r.flash or r.ram):
            continue
        rows.append((r.label, f"{r.flash:,}", f"{r.ram:,}", _pct(r.flash / flash),
                     _bar(r.flash / flash), _pct(r.ram / ram)))
        if r.role in EXPANDED_ROLES:
            rows.extend((f"  {c.name}", f"{c.flash:,}", f"{c.ram:,}", "", "", "")
                        for c in r.components)
    rows.append(("total", f"{report.totals.flash:,}", f"{report.totals.ram:,}", "", "", ""))
    return rows


def render_text(report: AuditReport, top: int = 10) -> str:
    """The human view: regions with bars, totals as arm-none-eabi-size, roles, top symbols."""
    out = [_source(report), ""]
    out.append(format_table(("region", "kind", "origin", "used", "budget", "use", ""),
                            _region_rows(report.regions), align_right=(3, 4, 5)))
    out.append("")
    out.extend(_budget_line(b, report) for b in report.budgets)
    out.append("")
    out.append(format_table(("role", "flash", "ram", "flash%", "", "ram%"),
                            _role_rows(report), align_right=(1, 2, 3, 5)))
    if top > 0 and report.symbols:
        out.append("")
        out.append(f"top {min(top, len(report.symbols))} symbols")
        rows = [(f"{s.size:,}", s.kind, s.role, s.component, s.name)
                for s in report.symbols[:top]]
        out.append(format_table(("size", "kind", "role", "component", "symbol"), rows,
                                align_right=(0,)))
    if report.notes:
        out.append("")
        out.extend(f"note: {n}" for n in report.notes)
    return "\n".join(out)


def md_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(
        "`", "\\`").replace("*", "\\*").replace("_", "\\_")


def _md_table(headers: tuple[str, ...], rows: Sequence[Sequence[str]], right: int = 1) -> str:
    lines = ["| " + " | ".join(headers) + " |",
             "|" + "|".join("---" if i < right else "---:" for i in range(len(headers))) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return "\n".join(lines)


def _md_roles(roles: tuple[RoleUsage, ...]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for r in roles:
        if r.flash or r.ram:
            rows.append((r.label, f"{r.flash:,}", f"{r.ram:,}"))
            if r.role in EXPANDED_ROLES:
                rows.extend((f"&nbsp;&nbsp;{md_escape(c.name)}", f"{c.flash:,}", f"{c.ram:,}")
                            for c in r.components)
    return rows


def render_markdown(report: AuditReport, top: int = 10) -> str:
    """A CI comment: status, regions, totals, roles, and the top symbols folded away."""
    violations = budget_violations(report)
    name = md_escape(report.elf.path.rsplit("/", 1)[-1])
    status = "over budget" if violations else "within budget"
    out = [f"### Firmware size: `{name}` ({status})", "",
           md_escape(_source(report).split(": ", 1)[1]), ""]
    rows = [(md_escape(r.name), r.kind, f"{r.used:,}",
             f"{r.budget:,}" if r.budget is not None else "-",
             (_pct(r.fraction).strip() + (" :warning:" if r.over else ""))
             if r.fraction is not None else "-") for r in report.regions]
    out.append(_md_table(("region", "kind", "used", "budget", "use"), rows, right=2))
    out.append("")
    t = report.totals
    out.append(f"**flash** {t.flash:,} B (text {t.text:,} + data {t.data:,}) · "
               f"**ram** {t.ram:,} B (data {t.data:,} + bss {t.bss:,})")
    for v in violations:
        out.append(f"\n> :x: {md_escape(v)}")
    out.append("")
    out.append(_md_table(("role", "flash", "ram"), _md_roles(report.roles)))
    if top > 0 and report.symbols:
        out += ["", f"<details><summary>top {min(top, len(report.symbols))} symbols</summary>",
                ""]
        out.append(_md_table(("symbol", "role", "kind", "size"), [
            (f"`{s.name.replace('`', '')}`", md_escape(f"{s.role}: {s.component}"), s.kind,
             f"{s.size:,}") for s in report.symbols[:top]], right=3))
        out += ["", "</details>"]
    if report.notes:
        out.append("")
        out.extend(f"- {md_escape(n)}" for n in report.notes)
    return "\n".join(out) + "\n"
