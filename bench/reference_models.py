"""Build the MLPerf Tiny reference models for a board and kernel sets; measure and verify each.

For every model x kernel set: flash without the model, RAM, the measured arena, instructions per
inference under QEMU (-icount shift=0, so one instruction per virtual ns: instruction count, not
board time), and whether the firmware's raw outputs equal the host TFLM interpreter's on the
reference sample input and a random one. Ratios are against the reference kernels, measured in
the same run.

    python bench/reference_models.py [--board mps2_an386] [--kernels reference cmsis-nn]
                                     [--models kws vww ic ad] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tinygen.audit.layout import layout_problems
from tinygen.board import load_board
from tinygen.build_options import BuildOptions
from tinygen.firmware import build_firmware
from tinygen.model import load_model
from tinygen.project import payload_bytes
from tinygen.reference import host_output_bytes, random_payload
from tinygen.runner.emulator import QemuTransport
from tinygen.runner.protocol import DutClient
from tinygen.tables import format_table

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "mlperf-tiny"
MODELS = {
    "kws": ("kws_ref_model.tflite", "samples/kws01_kws_input_data_sample0_i8_49x10.bin"),
    "vww": ("vww_96_int8.tflite", None),
    "ic": ("pretrainedResnet_quant.tflite", "samples/ic01_ic_inputs_sample0_u8_32x32x3.bin"),
    "ad": ("ad01_int8.tflite", None),
}
ITERATIONS = 10


def measure(board_name: str, model: str, kernels: str | None, out: Path,
            shared: Path = SHARED, optimize: str = "speed",
            runtime: str = "tflm") -> dict[str, object]:
    """Build one firmware, audit it and, on an emulated board, check and time it in QEMU."""
    filename, sample = MODELS[model]
    path = shared / "models" / filename
    board = load_board(board_name)
    result = build_firmware(
        BuildOptions(board=board, out_dir=out, model_path=path, kernels=kernels,
                     optimize=optimize, runtime=runtime),
        progress=lambda m: print(f"  {m}", file=sys.stderr))
    audit = result.audit.to_json()
    roles = {r["role"]: r for r in audit["roles"]}
    totals = audit["totals"]
    row: dict[str, object] = {
        "model": model, "runtime": runtime, "kernels": kernels, "board": board_name,
        "optimize": optimize, "flash": totals["flash"],
        "model_bytes": roles["model"]["flash"],
        "flash_without_model": totals["flash"] - roles["model"]["flash"],
        "ram": totals["ram"],
        "arena": result.arena_size,
        "stack": result.stack_size,
        "stack_peak": result.stack_peak,
        "warnings": len(result.warnings),
        "layout_problems": layout_problems(result.elf, board),
        "input_buffer": payload_bytes(load_model(path), result.benchmark),
    }
    if board.emulator is None:
        return row
    info = load_model(path)
    inputs = [random_payload(info, result.benchmark, 1)]
    if sample:
        inputs.insert(0, (shared / sample).read_bytes())
    equal = True
    with QemuTransport(board, result.elf) as uart:
        dut = DutClient(uart)
        dut.start()
        for payload in inputs:
            dut.load(payload)
            dut.infer(1, 0)
            equal &= dut.outbytes() == host_output_bytes(info, result.benchmark, payload)
        timed = dut.infer(ITERATIONS, 1, timeout=600)
    row["instructions"] = timed.elapsed_us * 1000 // ITERATIONS
    row["bit_exact"] = equal
    return row


def parse_common(parser: argparse.ArgumentParser, out: str) -> argparse.Namespace | None:
    """Add the options every reference-model bench has (--models, --out, --json, --shared),
    parse; None (after saying so) when the MLPerf Tiny reference data is absent."""
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--out", type=Path, default=Path(out))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--shared", type=Path, default=SHARED,
                        help="the MLPerf Tiny reference data (default ../shared/mlperf-tiny)")
    args = parser.parse_args()
    if not args.shared.is_dir():
        print(f"skipped: {args.shared} (the MLPerf Tiny reference models) is absent",
              file=sys.stderr)
        return None
    return args


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", default="mps2_an386")
    parser.add_argument("--kernels", nargs="+", default=["reference", "cmsis-nn"])
    parser.add_argument("--optimize", choices=("speed", "size"), default="speed")
    args = parse_common(parser, "build/bench")
    if args is None:
        return 0
    rows = []
    for model in args.models:
        for kernels in args.kernels:
            print(f"{model} / {kernels} on {args.board}", file=sys.stderr)
            rows.append(measure(args.board, model, kernels,
                                args.out / f"{args.board}-{model}-{kernels}", args.shared,
                                args.optimize))
    base = {r["model"]: r for r in rows if r["kernels"] == args.kernels[0]}
    table = []
    for r in rows:
        b = base[r["model"]]
        instr = r.get("instructions")
        ratio = (f"{instr / b['instructions']:.2f}x"  # type: ignore[operator]
                 if instr and b.get("instructions") else "-")
        table.append((r["model"], r["kernels"], f"{r['flash_without_model']:,}",
                      f"{r['ram']:,}", f"{r['arena']:,}",
                      f"{instr:,}" if instr else "-", ratio,
                      {True: "yes", False: "NO", None: "-"}[r.get("bit_exact")]))  # type: ignore[index]
    print(format_table(("model", "kernels", "flash w/o model", "RAM", "arena",
                        "instructions/inf", f"vs {args.kernels[0]}", "bit-exact"),
                       table, align_right=(2, 3, 4, 5, 6)))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0 if all(r.get("bit_exact", True) for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
