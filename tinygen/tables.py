"""Presentation helpers shared by the commands: JSON on stdout, plain tables, bars, sizes."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO


def emit_json(data: Any, out: TextIO | None = None) -> None:
    stream = out or sys.stdout
    json.dump(data, stream, indent=2, sort_keys=False)
    stream.write("\n")


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]],
                 align_right: Sequence[int] = ()) -> str:
    """A plain fixed-width table; columns listed in ``align_right`` are right-aligned."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        parts = []
        for i, c in enumerate(row):
            parts.append(c.rjust(widths[i]) if i in align_right else c.ljust(widths[i]))
        return "  ".join(parts).rstrip()

    out = [line(cells[0]), "  ".join("-" * w for w in widths)]
    out.extend(line(r) for r in cells[1:])
    return "\n".join(out)


def format_bytes(n: int) -> str:
    """Human size with one decimal: 1536 -> '1.5 KiB'."""
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n / (1024 * 1024):.2f} MiB"


def bar(fraction: float, width: int = 20) -> str:
    """A PlatformIO-style bar: [====      ]."""
    filled = max(0, min(width, round(fraction * width)))
    return "[" + "=" * filled + " " * (width - filled) + "]"


def progress(message: str) -> None:
    """A diagnostic line on stderr (results go to stdout)."""
    print(message, file=sys.stderr, flush=True)
