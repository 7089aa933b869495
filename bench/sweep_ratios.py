"""Ratios between two configurations of a sweep's results, per model: what the bench scripts
print, read from any sweep's results.jsonl (bench/sweeps/*.yaml).

    python bench/sweep_ratios.py OUT_DIR --base runtime=tflm,kernels=reference \
        --vs runtime=native,kernels=native-portable [--figures flash_without_model ram ...]

A configuration is column=value pairs; rows matching it are paired by model (and by board
when the board is not one of the pairs). A ratio is vs / base: below 1 is smaller or faster.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tinygen.tables import format_table

FIGURES = ("flash_without_model", "ram", "arena", "instructions", "latency_ms")


def _config(text: str) -> dict[str, str]:
    pairs = [p.split("=", 1) for p in text.split(",") if p]
    if any(len(p) != 2 for p in pairs):
        raise argparse.ArgumentTypeError(f"{text!r}: give column=value[,column=value]")
    return dict((k, v) for k, v in pairs)


def _matches(row: dict[str, Any], config: dict[str, str]) -> bool:
    return all(str(row.get(k)) == v for k, v in config.items())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="a sweep's --out folder")
    parser.add_argument("--base", type=_config, required=True)
    parser.add_argument("--vs", type=_config, required=True)
    parser.add_argument("--figures", nargs="+", default=list(FIGURES))
    args = parser.parse_args()
    with (args.out / "results.jsonl").open() as f:
        rows = [json.loads(line) for line in f if line.strip()]
    same = [k for k in ("model", "board") if k not in args.base and k not in args.vs]

    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(row.get(k) for k in same)

    base = {key(r): r for r in rows if _matches(r, args.base) and r["status"] == "ok"}
    table = []
    for row in rows:
        if not _matches(row, args.vs) or row["status"] != "ok" or key(row) not in base:
            continue
        ref = base[key(row)]
        ratios = []
        for figure in args.figures:
            a, b = ref.get(figure), row.get(figure)
            ratios.append(f"{b / a:.2f}" if isinstance(a, int | float) and a
                          and isinstance(b, int | float) else "-")
        table.append([*key(row), *ratios])
    if not table:
        print("no pair of ok cells matches --base and --vs", file=sys.stderr)
        return 1
    def text(config: dict[str, str]) -> str:
        return ",".join(f"{k}={v}" for k, v in config.items())

    print(f"vs / base: {text(args.vs)} / {text(args.base)}")
    print(format_table([*same, *args.figures], table,
                       align_right=tuple(range(len(same), len(same) + len(args.figures)))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
