"""Cold and warm build times: what the per-variant TFLM library cache saves.

Runs in a fresh, empty tinygen cache (a temporary $TINYGEN_CACHE), all in one run:
  cold     first build: fetch the pinned dependencies, compile the TFLM library variant,
           measure the arena in QEMU, build the firmware
  warm     a second model on the same variant: library reused, arena measured, firmware built
  rebuild  the first model again: library and arena both cached
Ratios are against the cold build.

    python bench/build_times.py [--board mps2_an386] [--kernels cmsis-nn]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from tinygen.board import load_board
from tinygen.build_options import BuildOptions
from tinygen.firmware import build_firmware
from tinygen.tables import format_table

MODELS = Path(__file__).resolve().parents[1] / "models"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", default="mps2_an386")
    parser.add_argument("--kernels", default="cmsis-nn")
    args = parser.parse_args()
    board = load_board(args.board)
    steps = [("cold", "kws_tiny"), ("warm (2nd model)", "ic_tiny"), ("rebuild", "kws_tiny")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="tinygen-bench-") as tmp:
        os.environ["TINYGEN_CACHE"] = str(Path(tmp) / "cache")
        for label, model in steps:
            start = time.monotonic()
            result = build_firmware(
                BuildOptions(board=board, out_dir=Path(tmp) / f"{label}-{model}",
                             model_path=MODELS / f"{model}.tflite", kernels=args.kernels),
                progress=lambda m: print(f"  {m}", file=sys.stderr) if "[" not in m else None)
            seconds = time.monotonic() - start
            lib = result.library
            rows.append((label, model, f"{seconds:.1f}",
                         "compiled" if lib and lib.built else "reused",
                         result.arena_source or "-"))
    cold = float(rows[0][2])
    print(format_table(("build", "model", "seconds", "TFLM library", "arena", "vs cold"),
                       [(*r, f"{float(r[2]) / cold:.3f}x") for r in rows],
                       align_right=(2, 5)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
