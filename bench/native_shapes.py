"""The native runtime against TFLM+CMSIS-NN on varied shapes, measured in one run.

The models (scripts/make_shape_models.py, seeded: depth multipliers, one-channel inputs, odd
channel counts, strides, dilation, 1x1/3x3/5x5 filters, large FULLY_CONNECTED layers, pools,
ADD) are made into build/shape-models/, then the sweep bench/sweeps/native_shapes.yaml builds
each with TFLM+CMSIS-NN and with the native runtime's default kernels for one board and
verifies both against the host TFLM interpreter, byte for byte. Each verified firmware is then
timed in QEMU (-icount shift=0: instructions, not board time) over a window of inferences, and
the table gives native / TFLM+CMSIS-NN per model; a ratio above 1 is marked SLOWER.

    python bench/native_shapes.py [--board mps2_an386] [--only NAME ...] [--out DIR]
                                  [--no-make] [--json F]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tinygen.board import load_board
from tinygen.model import load_model
from tinygen.reference import random_payload
from tinygen.runner.emulator import QemuTransport
from tinygen.runner.protocol import DutClient
from tinygen.tables import format_table

ROOT = Path(__file__).resolve().parents[1]
SWEEP = ROOT / "bench" / "sweeps" / "native_shapes.yaml"
MODELS = ROOT / "build" / "shape-models"
ITERATIONS = 20  # timed inferences per firmware: a resolution of 50 instructions


def _sweep_file(board: str, only: list[str] | None, out: Path) -> Path:
    """The sweep to run: bench/sweeps/native_shapes.yaml itself, or a copy next to ``out``
    for another board or a subset of the models."""
    if board == "mps2_an386" and not only:
        return SWEEP
    spec = yaml.safe_load(SWEEP.read_text())
    spec["boards"] = [board]
    if only:
        spec["models"] = [str(MODELS / f"{name}.tflite") for name in only]
    path = out.with_name(out.name + ".yaml")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def _time(row: dict[str, Any], out: Path) -> int:
    """Instructions per inference of a verified cell's firmware: ITERATIONS timed inferences
    after one warm-up, on a seeded random input."""
    board = load_board(row["board"])
    elf = out / "cells" / row["cell"] / "firmware" / "firmware.elf"
    payload = random_payload(load_model(MODELS / f"{row['model']}.tflite"),
                             row["benchmark_used"], 1)
    with QemuTransport(board, elf) as uart:
        dut = DutClient(uart)
        dut.start()
        dut.load(payload)
        timed = dut.infer(ITERATIONS, 1, timeout=600)
    return int(timed.elapsed_us * 1000 // ITERATIONS)


def _cells(out: Path) -> list[dict[str, Any]]:
    with (out / "results.jsonl").open() as f:
        return [json.loads(line) for line in f if line.strip()]


def table(pairs: dict[str, dict[str, dict[str, Any]]]) -> tuple[str, list[str]]:
    """One line per model (native, TFLM+CMSIS-NN, ratio) and the models where native is
    slower, or a side failed."""
    lines, slower = [], []
    for model, sides in sorted(pairs.items()):
        native, tflm = sides.get("native", {}), sides.get("tflm", {})
        a, b = native.get("timed"), tflm.get("timed")
        ratio = a / b if isinstance(a, int) and isinstance(b, int) and b else None
        exact = all(s.get("bit_exact") is True for s in (native, tflm))
        verdict = ("-" if ratio is None else "SLOWER" if ratio > 1.0 else "ok")
        if ratio is None or ratio > 1.0 or not exact:
            slower.append(model)
        lines.append((model, f"{a:,}" if isinstance(a, int) else native.get("error", "-"),
                      f"{b:,}" if isinstance(b, int) else tflm.get("error", "-"),
                      "-" if ratio is None else f"{ratio:.3f}x", "yes" if exact else "NO",
                      verdict))
    text = format_table(("model", "native", "tflm cmsis-nn", "native / tflm", "bit-exact",
                         "<= 1x"), lines, align_right=(1, 2, 3))
    return text, slower


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", default="mps2_an386")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="these models only")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "bench-native-shapes")
    parser.add_argument("--no-make", action="store_true",
                        help="use the models already in build/shape-models/")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not args.no_make:
        make = [sys.executable, str(ROOT / "scripts" / "make_shape_models.py"), "--out",
                str(ROOT)]
        subprocess.run([*make, *(["--only", *args.only] if args.only else [])], check=True,
                       stdout=sys.stderr)
    out = args.out.resolve()
    sweep = _sweep_file(args.board, args.only, out)
    # One cell at a time: the QEMU timings do not depend on it, the machine's other users do.
    subprocess.run([sys.executable, "-m", "tinygen", "sweep", str(sweep), "--jobs", "1",
                    "--out", str(out)], check=True, stdout=sys.stderr)
    pairs: dict[str, dict[str, dict[str, Any]]] = {}
    for row in _cells(out):
        side = dict(row)
        if row["status"] == "ok" and row.get("bit_exact") is True:
            print(f"timing {row['cell']}", file=sys.stderr)
            side["timed"] = _time(row, out)
        else:
            side["error"] = f"{row['failed_step']}: {row['error_class']}"
        pairs.setdefault(row["model"], {})[row["runtime"]] = side
    text, slower = table(pairs)
    print(f"instructions per inference on {args.board} (QEMU -icount shift=0, "
          f"{ITERATIONS} inferences)")
    print(text)
    print(f"\n{len(pairs) - len(slower)} of {len(pairs)} models: native <= 1x TFLM+CMSIS-NN, "
          "both bit-exact" + (f"; not: {', '.join(slower)}" if slower else ""))
    if args.json:
        args.json.write_text(json.dumps(pairs, indent=2, default=str) + "\n")
    return 1 if slower else 0


if __name__ == "__main__":
    sys.exit(main())
