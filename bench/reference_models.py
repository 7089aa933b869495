"""The MLPerf Tiny reference models for a board and kernel sets: bench/sweeps/reference_models.yaml.

For every model x kernel set: flash without the model, RAM, the measured arena, instructions per
inference under QEMU (-icount shift=0, so one instruction per virtual ns: instruction count, not
board time; the sweep's performance step, the median of five timed windows), and whether the
firmware's raw outputs equal the host TFLM interpreter's on the reference sample input (kws,
ic) and a seeded random one. Ratios are against the first kernel set, measured in the same run.

    python bench/reference_models.py [--board mps2_an386] [--kernels reference cmsis-nn]
        [--optimize speed] [--models kws vww ic ad] [--jobs N] [--out DIR] [--json F]
"""

from __future__ import annotations

import argparse
import sys

from reference_sweep import (  # bench/ is on sys.path when run
    Row,
    failures,
    number,
    parse_common,
    ratio,
    run_sweep,
    yes_no,
)

from tinygen.tables import format_table


def table(rows: list[Row], baseline: str) -> str:
    """One line per model and kernel set; instructions against ``baseline``'s."""
    base = {r["model"]: r for r in rows if r["kernels"] == baseline}
    lines = []
    for r in rows:
        b = base.get(r["model"], {})
        lines.append((r["name"], r["kernels"], number(r.get("flash_without_model")),
                      number(r.get("ram")), number(r.get("arena")),
                      number(r.get("instructions")),
                      ratio(r.get("instructions"), b.get("instructions")),
                      yes_no(r.get("bit_exact"))))
    return format_table(("model", "kernels", "flash w/o model", "RAM", "arena",
                         "instructions/inf", f"vs {baseline}", "bit-exact"),
                        lines, align_right=(2, 3, 4, 5, 6))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", default="mps2_an386")
    parser.add_argument("--kernels", nargs="+", default=["reference", "cmsis-nn"])
    parser.add_argument("--optimize", choices=("speed", "size"), default="speed")
    args = parse_common(parser, "reference-models")
    if args is None:
        return 0
    options = {} if args.kernels == ["reference", "cmsis-nn"] else {"kernels": args.kernels}
    if args.optimize != "speed":
        options["optimize"] = args.optimize
    boards = None if args.board == "mps2_an386" else [args.board]
    rows = run_sweep("reference_models", args, boards, options)
    if isinstance(rows, int):
        return rows
    print(table(rows, args.kernels[0]))
    for line in failures(rows):
        print(line)
    return 0 if all(r["status"] == "ok" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
