"""Every board x the four MLPerf Tiny reference models, with the board's default kernels
(bench/sweeps/boards.yaml): does the firmware build, link and fit the board's budgets, and where
a board is emulated, are its outputs the host TFLM interpreter's (on the reference sample input
of kws and ic and a seeded random one) and how many instructions does an inference take (the
sweep's performance step on the MPS2 boards, its verify run on the others). Exit 1 if any
firmware fails to build or fit, is not bit-exact, compiles with a warning, or has its vector
table off the flash origin or a section outside the board's memory regions.

Flash and RAM are shown as a share of the board's budgets and as a ratio against the emulated
baseline board (mps2_an386, measured in the same run): what a board's own support code, clock
and driver, and its memory placement cost over the baseline.

    python bench/boards.py [--boards all | NAME|FILE.yaml ...] [--models kws vww ic ad]
        [--jobs N] [--out DIR] [--json F]
"""

from __future__ import annotations

import argparse
import sys

from reference_sweep import Row, failures, number, parse_common, run_sweep, yes_no

from tinygen.tables import format_table

BASELINE = "mps2_an386"


def _share(value: object, budget: object) -> str:
    if not isinstance(value, int):
        return "-"
    return f"{value:,} ({100 * value / budget:.0f}%)" if isinstance(budget, int) and budget \
        else f"{value:,}"


def table(rows: list[Row]) -> str:
    """One line per board and model; flash and RAM against the baseline board's."""
    base = {r["model"]: r for r in rows if r["board"] == BASELINE and r["status"] == "ok"}
    boards = list(dict.fromkeys(r["board"] for r in rows))  # the sweep's cells: model-major
    lines = []
    for r in sorted(rows, key=lambda r: boards.index(r["board"])):  # stable: models in order
        if r["status"] != "ok" and r.get("flash") is None:  # nothing linked: no figures
            lines.append((r["board"], r["name"], "FAILS", str(r.get("error"))[:60], "", "", "",
                          "", ""))
            continue
        b = base.get(r["model"])
        ratios = (f"{r['flash'] / b['flash']:.3f}x / {r['ram'] / b['ram']:.3f}x" if b else "-")
        lines.append((r["board"], r["name"], _share(r["flash"], r.get("flash_budget")),
                      _share(r["ram"], r.get("ram_budget")),
                      f"{number(r.get('stack'))} (peak {number(r.get('stack_peak') or 0)})",
                      ratios, number(r.get("instructions")), yes_no(r.get("bit_exact")),
                      number(r.get("warnings"))))
    return format_table(("board", "model", "flash (of budget)", "RAM (of budget)", "stack",
                         f"flash / RAM vs {BASELINE}", "instructions/inf", "bit-exact",
                         "warnings"), lines, align_right=(2, 3, 4, 6))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boards", nargs="+", default=["all"],
                        help="board names or board files (default: every shipped board, as "
                             "bench/sweeps/boards.yaml lists them)")
    args = parse_common(parser, "boards")
    if args is None:
        return 0
    boards = None
    if args.boards != ["all"]:
        boards = [BASELINE, *[b for b in args.boards if b != BASELINE]]
    rows = run_sweep("boards", args, boards)
    if isinstance(rows, int):
        return rows
    print(table(rows))
    problems = [f"{r['board']} {r['name']}: {p}" for r in rows
                for p in r.get("layout_problems") or []]
    problems += failures(rows)
    for line in problems:
        print(line)
    return 0 if not problems and not any(r.get("warnings") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
