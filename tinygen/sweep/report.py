"""report.html: one self-contained page (inline SVG and a few lines of JS, no network) with the
fit matrix, the Pareto scatter plots and the sortable results table."""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from tinygen.tables import format_bytes

TABLE_COLUMNS = (
    "cell", "model", "board", "runtime", "kernels", "optimize", "status", "error_class",
    "flash", "ram", "flash_share", "ram_share", "fits", "flash_without_model", "arena",
    "stack_peak", "instructions", "latency_ms", "bit_exact", "accuracy", "auc", "error",
)
_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d2330;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
h3{font-size:14px;margin:14px 0 6px;color:#444}
.sub{color:#555;margin-bottom:16px}
table{border-collapse:collapse}td,th{border:1px solid #d0d4dc;padding:4px 8px}
.matrix td{min-width:120px;text-align:center;font-size:12px}
.matrix th{background:#f2f4f8}
.over{background:#c62828;color:#fff;font-weight:600}.fail{background:#9e9e9e;color:#fff}
.results{font-size:12px}.results th{cursor:pointer;background:#f2f4f8;position:sticky;top:0}
.results td:first-child{white-space:nowrap}
.results td.long{min-width:24em;max-width:40em;font-size:11px}
.results td.n{text-align:right;font-variant-numeric:tabular-nums}
.plots{display:flex;flex-wrap:wrap;gap:24px}.legend span{margin-right:14px}
"""
_SCRIPT = """
document.querySelectorAll('table.results th').forEach(function(th, i){
  th.addEventListener('click', function(){
    var body = th.closest('table').tBodies[0], rows = Array.from(body.rows);
    var up = th.dataset.dir !== 'up'; th.dataset.dir = up ? 'up' : 'down';
    rows.sort(function(a, b){
      var x = a.cells[i].dataset.v, y = b.cells[i].dataset.v;
      var nx = parseFloat(x), ny = parseFloat(y), c;
      if (x === '' || y === '') c = (x === '') - (y === '');
      else if (!isNaN(nx) && !isNaN(ny)) c = nx - ny; else c = x < y ? -1 : x > y ? 1 : 0;
      return up ? c : -c;
    });
    rows.forEach(function(r){ body.appendChild(r); });
  });
});
"""
_ERROR_CHARS = 160  # of an error message in the table (the rest in its tooltip)
_PALETTE = ("#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#ad1457", "#5d4037",
            "#283593", "#9e9d24", "#4e342e")


def _config(row: dict[str, Any]) -> str:
    if row.get("runtime") is None:
        return "bring-up firmware"
    parts = [str(row.get("runtime")), str(row.get("kernels") or "default kernels"),
             str(row.get("optimize"))]
    if row.get("benchmark"):
        parts.append(str(row["benchmark"]))
    for key, label in (("arena_size_given", "arena "), ("budget_flash_given", "flash budget "),
                       ("budget_ram_given", "RAM budget ")):
        if isinstance(row.get(key), int):
            parts.append(f"{label}{format_bytes(row[key])}")
    return " · ".join(parts)


def _share_colour(share: float) -> str:
    """Green (plenty left) through yellow to orange (nearly full)."""
    hue = 120 * (1 - min(max(share, 0.0), 1.0))
    return f"hsl({hue:.0f},70%,{78 - 10 * min(share, 1.0):.0f}%)"


def _matrix_cell(row: dict[str, Any] | None) -> str:
    if row is None:
        return "<td></td>"
    flash, ram = row.get("flash"), row.get("ram")
    if row.get("error_class") == "over-budget" or row.get("fits") is False:
        over = [f"+{format_bytes(row[k])} {what}" for k, what in
                (("flash_over", "flash"), ("ram_over", "RAM")) if row.get(k)]
        text = "<br>".join(over) or escape(str(row.get("error") or "over budget"))[:80]
        return f'<td class="over" title="{escape(str(row.get("error") or ""))}">over: {text}</td>'
    if row.get("status") != "ok" and flash is None:
        return (f'<td class="fail" title="{escape(str(row.get("error") or ""))}">'
                f'{escape(str(row.get("error_class")))}</td>')
    shares = [s for s in (row.get("flash_share"), row.get("ram_share")) if s is not None]
    share = max(shares) if shares else 0.0
    mark = "" if row.get("status") == "ok" else f'<br><b>{escape(str(row["error_class"]))}</b>'
    return (f'<td style="background:{_share_colour(share)}" title="tighter budget share '
            f'{share:.1%}">{share:.1%}<br>{format_bytes(flash or 0)} / '
            f'{format_bytes(ram or 0)}{mark}</td>')


def _matrices(rows: Sequence[dict[str, Any]]) -> str:
    configs: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        configs.setdefault(_config(row), []).append(row)
    parts = ['<p class="legend">Each cell: the tighter of flash and RAM as a share of the '
             "board's budget (colour: green = room, orange = nearly full, red = over, with the "
             "overflow), then flash / RAM used.</p>"]
    for config, group in configs.items():
        models = list(dict.fromkeys(r["model"] for r in group))
        boards = list(dict.fromkeys(r["board"] for r in group))
        by = {(r["model"], r["board"]): r for r in group}
        head = "".join(f"<th>{escape(b)}</th>" for b in boards)
        body = "".join(
            f"<tr><th>{escape(m)}</th>" + "".join(_matrix_cell(by.get((m, b))) for b in boards)
            + "</tr>" for m in models)
        parts.append(f"<h3>{escape(config)}</h3><table class=\"matrix\"><tr><th>model \\ board"
                     f"</th>{head}</tr>{body}</table>")
    return "\n".join(parts)


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point beats on both axes (both minimised)."""
    front = []
    for i, (x, y) in enumerate(points):
        if not any((a <= x and b <= y) and (a < x or b < y) for a, b in points):
            front.append(i)
    return sorted(front, key=lambda i: points[i])


def _ticks(hi: float, count: int = 5) -> list[float]:
    """Round tick values from 0 up to the first at or past ``hi``."""
    hi = hi if hi > 0 else 1.0
    step = 10 ** math.floor(math.log10(hi / count))
    for mult in (1, 2, 5, 10):
        if hi / (step * mult) <= count:
            step *= mult
            break
    return [k * step for k in range(math.ceil(hi / step - 1e-9) + 1)]


def _number_text(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _scatter(rows: Sequence[dict[str, Any]], x_key: str, y_key: str, x_label: str,
             y_label: str, x_scale: float = 1.0) -> str:
    pts = [(float(r[x_key]) / x_scale, float(r[y_key]), r) for r in rows
           if isinstance(r.get(x_key), int | float) and isinstance(r.get(y_key), int | float)
           and r.get("status") == "ok"]
    if not pts:
        return ""
    w, h, ml, mb, mt, mr = 520, 340, 78, 46, 14, 14
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    xt, yt = _ticks(max(xs) * 1.02), _ticks(max(ys) * 1.02)
    x_hi, y_hi = xt[-1], yt[-1]

    def sx(v: float) -> float:
        return ml + (w - ml - mr) * v / x_hi

    def sy(v: float) -> float:
        return h - mb - (h - mb - mt) * v / y_hi

    boards = list(dict.fromkeys(p[2]["board"] for p in pts))
    colour = {b: _PALETTE[i % len(_PALETTE)] for i, b in enumerate(boards)}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h + 22}" '
           f'font-size="11" font-family="system-ui,sans-serif">',
           f'<rect x="{ml}" y="{mt}" width="{w - ml - mr}" height="{h - mb - mt}" '
           'fill="#fafbfc" stroke="#ccd"/>']
    for t in xt:
        out.append(f'<line x1="{sx(t):.1f}" y1="{h - mb}" x2="{sx(t):.1f}" y2="{mt}" '
                   f'stroke="#e4e7ec"/><text x="{sx(t):.1f}" y="{h - mb + 14}" '
                   f'text-anchor="middle">{_number_text(t)}</text>')
    for t in yt:
        out.append(f'<line x1="{ml}" y1="{sy(t):.1f}" x2="{w - mr}" y2="{sy(t):.1f}" '
                   f'stroke="#e4e7ec"/><text x="{ml - 6}" y="{sy(t) + 4:.1f}" '
                   f'text-anchor="end">{_number_text(t)}</text>')
    out.append(f'<text x="{(ml + w - mr) / 2}" y="{h - 10}" text-anchor="middle" '
               f'font-size="12">{escape(x_label)}</text>')
    out.append(f'<text transform="translate(14 {(mt + h - mb) / 2}) rotate(-90)" '
               f'text-anchor="middle" font-size="12">{escape(y_label)}</text>')
    front = pareto_front([(p[0], p[1]) for p in pts])
    if len(front) > 1:
        steps = []
        for a, b in itertools.pairwise(front):
            steps += [f"{sx(pts[a][0]):.1f},{sy(pts[a][1]):.1f}",
                      f"{sx(pts[b][0]):.1f},{sy(pts[a][1]):.1f}"]
        steps.append(f"{sx(pts[front[-1]][0]):.1f},{sy(pts[front[-1]][1]):.1f}")
        out.append(f'<polyline points="{" ".join(steps)}" fill="none" stroke="#c62828" '
                   'stroke-width="1.5" stroke-dasharray="5 3"/>')
    for i, (x, y, r) in enumerate(pts):
        on_front = i in front
        tip = escape(f"{r['cell']}: {x_label} {_number_text(x)}, {y_label} {_number_text(y)}"
                     + (" (Pareto front)" if on_front else ""))
        out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="{6 if on_front else 4}" '
                   f'fill="{colour[r["board"]]}" fill-opacity="{0.95 if on_front else 0.45}" '
                   f'stroke="{"#c62828" if on_front else "none"}" stroke-width="2">'
                   f'<title>{tip}</title></circle>')
    legend_x = ml
    for b in boards:
        out.append(f'<circle cx="{legend_x + 5}" cy="{h + 12}" r="5" fill="{colour[b]}"/>'
                   f'<text x="{legend_x + 14}" y="{h + 16}">{escape(b)}</text>')
        legend_x += 24 + 7 * len(b)
    out.append("</svg>")
    return "".join(out)


def _plots(rows: Sequence[dict[str, Any]]) -> str:
    counts = {k: sum(isinstance(r.get(k), int | float) and r.get("status") == "ok"
                     for r in rows) for k in ("instructions", "latency_ms")}
    speed = max(counts, key=lambda k: counts[k])  # the figure most cells have
    if not counts[speed]:
        return "<p>No cell measured its speed (no verify or bench step ran).</p>"
    label = {"latency_ms": "latency (ms)", "instructions": "instructions per inference"}[speed]
    plots = [_scatter(rows, "flash", speed, "flash (KiB)", label, 1024.0),
             _scatter(rows, "ram", speed, "RAM (KiB)", label, 1024.0)]
    return ('<p class="legend">Larger dots with a red ring: the Pareto front (no other cell '
            'is smaller and faster); the dashed line joins them.</p><div class="plots">'
            + "".join(plots) + "</div>")


def _cell_text(key: str, value: Any) -> tuple[str, str, bool]:
    """(shown text, sort value, numeric) of one table cell."""
    if value is None:
        return "", "", False
    if isinstance(value, bool):
        return ("yes" if value else "no"), str(int(value)), False
    if isinstance(value, int | float):
        shown = (f"{value:.1%}" if key.endswith("_share") else
                 f"{value:,}" if isinstance(value, int) else f"{value:.6g}")
        return shown, repr(value), True
    return str(value), str(value), False


def _table(rows: Sequence[dict[str, Any]]) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in TABLE_COLUMNS)
    body = []
    for row in rows:
        tds = []
        for c in TABLE_COLUMNS:
            shown, sort, numeric = _cell_text(c, row.get(c))
            if c == "error" and len(shown) > _ERROR_CHARS:  # all of it in the tooltip
                tds.append(f'<td class="long" data-v="{escape(sort)}" title="{escape(shown)}">'
                           f"{escape(shown[:_ERROR_CHARS - 3])}...</td>")
                continue
            kind = " class=n" if numeric else ' class="long"' if c == "error" else ""
            tds.append(f'<td{kind} data-v="{escape(sort)}">{escape(shown)}</td>')
        body.append("<tr>" + "".join(tds) + "</tr>")
    return (f'<table class="results"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}'
            "</tbody></table>")


def render_report(name: str, rows: Sequence[dict[str, Any]]) -> str:
    failed = sum(r.get("status") != "ok" for r in rows)
    over = sum(r.get("error_class") == "over-budget" for r in rows)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>tinygen sweep {escape(name)}</title><style>{_STYLE}</style></head><body>"
            f"<h1>tinygen sweep: {escape(name)}</h1>"
            f'<div class="sub">{len(rows)} cells: {len(rows) - failed} ok, {failed} failed '
            f"({over} over budget). Click a column heading to sort the table.</div>"
            f"<h2>Fit matrix</h2>{_matrices(rows)}"
            f"<h2>Size against speed</h2>{_plots(rows)}"
            f"<h2>All cells</h2>{_table(rows)}"
            f"<script>{_SCRIPT}</script></body></html>\n")


def write_report(path: Path, name: str, rows: Sequence[dict[str, Any]]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(render_report(name, rows), encoding="utf-8")
    os.replace(tmp, path)
