"""A self-contained HTML page with squarified treemaps (inline SVG, no scripts) of flash and RAM."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path

from tinygen import __version__
from tinygen.audit.report import AuditReport
from tinygen.outputs import writing

Rect = tuple[float, float, float, float]  # x, y, width, height

COLOURS = {
    "model": "#4e79a7", "arena": "#76b7b2", "tflm": "#f28e2b", "kernel": "#e15759",
    "cmsis_nn": "#b07aa1", "harness": "#59a14f", "port": "#8cd17d", "board": "#edc948",
    "runtime": "#9c755f", "stack": "#bab0ac", "heap": "#d4a6c8", "other": "#79706e",
}
WIDTH, HEIGHT, HEADER = 960, 520, 18
_CHAR_WIDTH = 6.5  # px per character of the 11px label font, to decide whether a label fits


def _worst(row: Sequence[float], side: float) -> float:
    total = sum(row)
    if total <= 0 or side <= 0:
        return float("inf")
    return max(max(side * side * a / (total * total), total * total / (side * side * a))
               for a in row)


def squarify(values: Sequence[float], rect: Rect) -> list[Rect]:
    """Rectangles of areas proportional to ``values`` (sorted biggest first) tiling ``rect``.

    The squarified layout of Bruls, Huizing and van Wijk (2000): fill a row along the shorter
    side while that makes the row's worst aspect ratio better, then start the next row.
    """
    x, y, w, h = rect
    total = sum(values)
    if total <= 0 or w <= 0 or h <= 0:
        return [(x, y, 0.0, 0.0) for _ in values]
    areas = [v * w * h / total for v in values]
    out: list[Rect] = []
    i = 0
    while i < len(areas):
        side = min(w, h)
        row = [areas[i]]
        j = i + 1
        while j < len(areas) and _worst([*row, areas[j]], side) <= _worst(row, side):
            row.append(areas[j])
            j += 1
        s = sum(row)
        if w >= h:  # a column on the left
            cw = s / h
            yy = y
            for a in row:
                out.append((x, yy, cw, a / cw))
                yy += a / cw
            x, w = x + cw, w - cw
        else:  # a row on top
            rh = s / w
            xx = x
            for a in row:
                out.append((xx, y, a / rh, rh))
                xx += a / rh
            y, h = y + rh, h - rh
        i = j
    return out


def _label(text: str, r: Rect, y_offset: float = 12) -> str:
    x, y, w, h = r
    max_chars = int((w - 6) / _CHAR_WIDTH)
    if max_chars < 3 or h < 14:
        return ""
    if len(text) > max_chars:
        text = text[: max_chars - 1] + "…"
    return f'<text x="{x + 3:.1f}" y="{y + y_offset:.1f}">{escape(text)}</text>'


def _svg(report: AuditReport, kind: str) -> str:
    total = report.totals.flash if kind == "flash" else report.totals.ram
    roles = sorted((r for r in report.roles if getattr(r, kind) > 0),
                   key=lambda r: -int(getattr(r, kind)))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{kind} treemap">']
    role_rects = squarify([getattr(r, kind) for r in roles], (0, 0, WIDTH, HEIGHT))
    for role, rr in zip(roles, role_rects, strict=True):
        size = int(getattr(role, kind))
        colour = COLOURS[role.role]
        x, y, w, h = rr
        title = f"{role.label}: {size:,} bytes ({100 * size / total:.1f}% of {kind})"
        parts.append(f'<g><title>{escape(title)}</title>'
                     f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
                     f'fill="{colour}" class="role"/>{_label(role.label, rr)}</g>')
        inner = (x + 2, y + HEADER, w - 4, h - HEADER - 2)
        if inner[2] < 8 or inner[3] < 8:
            continue
        comps = [c for c in role.components if getattr(c, kind) > 0]
        comps.sort(key=lambda c: -int(getattr(c, kind)))
        for comp, cr in zip(comps, squarify([getattr(c, kind) for c in comps], inner),
                            strict=True):
            n = int(getattr(comp, kind))
            ctitle = f"{role.label} / {comp.name}: {n:,} bytes ({100 * n / total:.1f}%)"
            parts.append(f'<g><title>{escape(ctitle)}</title>'
                         f'<rect x="{cr[0]:.1f}" y="{cr[1]:.1f}" width="{cr[2]:.1f}" '
                         f'height="{cr[3]:.1f}" fill="{colour}" class="part"/>'
                         f'{_label(comp.name, cr)}</g>')
    parts.append("</svg>")
    return "\n".join(parts)


def _legend(report: AuditReport) -> str:
    rows = []
    for r in report.roles:
        if r.flash or r.ram:
            rows.append(f'<tr><td><span class="swatch" style="background:{COLOURS[r.role]}">'
                        f'</span>{escape(r.label)}</td><td>{r.flash:,}</td><td>{r.ram:,}</td>'
                        "</tr>")
    return ('<table><tr><th>role</th><th>flash bytes</th><th>ram bytes</th></tr>'
            + "".join(rows) + "</table>")


_STYLE = """
body { font: 13px system-ui, sans-serif; margin: 1.5em; color: #222; }
svg text { font: 11px system-ui, sans-serif; fill: #111; pointer-events: none; }
rect.role { stroke: #fff; stroke-width: 2; }
rect.part { stroke: #fff; stroke-width: 0.6; fill-opacity: 0.75; }
g:hover > rect { fill-opacity: 1; stroke: #000; }
table { border-collapse: collapse; margin: 1em 0; }
td, th { padding: 2px 10px; text-align: right; }
td:first-child, th:first-child { text-align: left; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 6px; }
"""


def render_treemap_html(report: AuditReport) -> str:
    """The page as a string (deterministic: the same report gives the same bytes)."""
    name = report.elf.path.rsplit("/", 1)[-1]
    t = report.totals
    sections = []
    for kind, total in (("flash", t.flash), ("ram", t.ram)):
        if total:
            sections.append(f"<h2>{kind}: {total:,} bytes</h2>\n{_svg(report, kind)}")
    board = f" on {escape(report.board)}" if report.board else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{escape(name)}: where the flash goes</title><style>{_STYLE}</style></head>\n"
        f"<body><h1>{escape(name)}{board}</h1>\n"
        f"<p>text {t.text:,} + data {t.data:,} = flash {t.flash:,} bytes; data {t.data:,} + "
        f"bss {t.bss:,} = ram {t.ram:,} bytes. Hover a box for its size. "
        f"Generated by tinygen {escape(__version__)} audit.</p>\n"
        f"{_legend(report)}\n" + "\n".join(sections) + "\n</body></html>\n")


def write_treemap_html(report: AuditReport, path: Path) -> None:
    """Write the treemap page for ``report`` to ``path``."""
    with writing(path, "the treemap"):
        path.write_text(render_treemap_html(report), encoding="utf-8")
