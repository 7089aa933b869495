"""Every board x the four MLPerf Tiny reference models, with the board's default kernels: does
the firmware build, link and fit the board's budgets, and where a board is emulated, are its
outputs the host TFLM interpreter's and how many instructions does an inference take. Exit 1
if any firmware fails to build, is not bit-exact, compiles with a warning, or has its vector
table off the flash origin or a section outside the board's memory regions.

Flash and RAM are shown as a share of the board's budgets and as a ratio against the emulated
baseline board (mps2_an386, measured in the same run): what a board's own support code, clock
and driver, and its memory placement cost over the baseline.

    python bench/boards.py [--boards all] [--models kws vww ic ad] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys

from reference_models import measure, parse_common  # bench/ is on sys.path when run

from tinygen.board import list_board_names, load_board
from tinygen.errors import TinygenError
from tinygen.tables import format_table

BASELINE = "mps2_an386"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boards", nargs="+", default=["all"])
    args = parse_common(parser, "build/bench-boards")
    if args is None:
        return 0
    boards = list_board_names() if args.boards == ["all"] else args.boards
    boards = [BASELINE, *[b for b in boards if b != BASELINE]]
    rows: list[dict[str, object]] = []
    for name in boards:
        board = load_board(name)
        for model in args.models:
            print(f"{model} on {name}", file=sys.stderr)
            try:
                row = measure(name, model, None, args.out / f"{board.name}-{model}", args.shared)
            except TinygenError as exc:
                row = {"board": name, "model": model, "error": exc.message}
            row["flash_budget"], row["ram_budget"] = board.flash_budget, board.ram_budget
            rows.append(row)
    base = {r["model"]: r for r in rows if r["board"] == BASELINE and "error" not in r}
    table = []
    for r in rows:
        if "error" in r:
            table.append((r["board"], r["model"], "FAILS", str(r["error"])[:60], "", "", "", "",
                          ""))
            continue
        b = base.get(r["model"])
        flash, ram = int(r["flash"]), int(r["ram"])  # type: ignore[call-overload]
        ratio = (f"{flash / int(b['flash']):.3f}x / {ram / int(b['ram']):.3f}x"  # type: ignore[call-overload]
                 if b else "-")
        instr = r.get("instructions")
        table.append((
            r["board"], r["model"],
            f"{flash:,} ({100 * flash / int(r['flash_budget']):.0f}%)",  # type: ignore[call-overload]
            f"{ram:,} ({100 * ram / int(r['ram_budget']):.0f}%)",  # type: ignore[call-overload]
            f"{r['stack']:,} (peak {r['stack_peak'] or 0:,})", ratio,
            f"{instr:,}" if instr else "-",
            {True: "yes", False: "NO", None: "-"}[r.get("bit_exact")],  # type: ignore[index]
            str(r["warnings"])))
    print(format_table(("board", "model", "flash (of budget)", "RAM (of budget)", "stack",
                        f"flash / RAM vs {BASELINE}", "instructions/inf", "bit-exact",
                        "warnings"),
                       table, align_right=(2, 3, 4, 6)))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    for r in rows:
        for problem in r.get("layout_problems", []):  # type: ignore[attr-defined]
            print(f"{r['board']} {r['model']}: {problem}")
    ok = all("error" not in r and r.get("bit_exact", True) and not r["warnings"]
             and not r["layout_problems"] for r in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
