"""The profile as a picture: a bar per operator, as a standalone SVG or an HTML page holding it
and the table. Self-contained (no script, font or style sheet from the network) and
deterministic: the same profile gives the same bytes."""

from __future__ import annotations

from html import escape

from tinygen.profile.report import OpRow, Profile, format_profile

_ROW = 22  # px per operator
_LABEL = 300  # px for "index TYPE shape"
_BARS = 420  # px for the longest bar
_VALUE = 220  # px for the figures after a bar
_TOP = 46  # px for the title and the axis note
_FONT = "font-family:monospace;font-size:12px"
# One colour per operator type, in the order types first appear; cycles when there are more.
_COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1",
            "#ff9da7", "#9c755f", "#bab0ac")


def _label(r: OpRow) -> str:
    shape = "x".join(str(d) for d in r.output_shape)
    return f"{r.index:>3} {r.kind} {shape}"


def _figures(r: OpRow, unit: str) -> str:
    if r.time is None:
        return "folded at generation time"
    text = f"{r.time:,.0f} {unit} ({100 * (r.share or 0):.1f}%)"
    if r.macs_per_unit is not None:
        text += f" {r.macs_per_unit:.2f} MACs/{'instr.' if unit == 'instructions' else 'cycle'}"
    return text


def render_svg(profile: Profile, title: str) -> str:
    """A horizontal bar per operator, its length the operator's time."""
    longest = max((r.time or 0.0 for r in profile.rows), default=0.0) or 1.0
    colours: dict[str, str] = {}
    width = _LABEL + _BARS + _VALUE
    height = _TOP + _ROW * len(profile.rows) + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
           f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
           f'<text x="8" y="18" style="{_FONT};font-weight:bold">{escape(title)}</text>',
           f'<text x="8" y="36" style="{_FONT}" fill="#555555">whole inference '
           f'{profile.total:,.0f} {profile.unit}; operators {profile.operators_total:,.0f}'
           f'</text>']
    for i, r in enumerate(profile.rows):
        y = _TOP + i * _ROW
        colour = colours.setdefault(r.kind, _COLOURS[len(colours) % len(_COLOURS)])
        length = 0.0 if r.time is None else max(1.0, _BARS * r.time / longest)
        out.append(f'<text x="8" y="{y + 15}" style="{_FONT};white-space:pre" '
                   f'xml:space="preserve">{escape(_label(r))}</text>')
        out.append(f'<rect x="{_LABEL}" y="{y + 4}" width="{length:.1f}" height="{_ROW - 8}" '
                   f'fill="{colour}"><title>{escape(_figures(r, profile.unit))}</title></rect>')
        out.append(f'<text x="{_LABEL + length + 6:.1f}" y="{y + 15}" style="{_FONT}">'
                   f'{escape(_figures(r, profile.unit))}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def render_html(profile: Profile, title: str) -> str:
    """One page: the bar chart and the table under it."""
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{escape(title)}</title>",
        "<style>body{font-family:sans-serif;margin:1.5em}"
        "pre{font-family:monospace;font-size:12px}</style>",
        "</head>",
        "<body>",
        f"<h1>{escape(title)}</h1>",
        render_svg(profile, title).rstrip("\n"),
        f"<pre>{escape(format_profile(profile))}</pre>",
        "</body>",
        "</html>",
    ]) + "\n"
