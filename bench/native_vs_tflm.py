"""The native runtime against TFLM on the MLPerf Tiny reference models, measured in one run.

For every model: the TFLM firmware with the reference and the CMSIS-NN kernels, and the native
firmware with tinygen's kernels in plain C (native-portable) and with their DSP-extension inner
loops (native, the default on cores that have them). Each is built for the same board, audited
and run in QEMU (-icount shift=0: instructions, not board time); its raw outputs are compared
with the host TFLM interpreter on the reference sample input and a seeded random one. Ratios
are native / TFLM within a kernel family (portable C / reference, DSP / CMSIS-NN), this run:

  flash w/o model  every flash byte but the model's (the .tflite array for TFLM; the weights,
                   folded biases, multipliers and operator parameters for native)
  RAM              data + bss: arena, stack, heap, harness buffers
  arena            TFLM: the minimum AllocateTensors accepts; native: the planned peak
  instructions     per inference, a timed window of 10 inferences

    python bench/native_vs_tflm.py [--board mps2_an386] [--models kws vww ic ad] [--json F]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tinygen.board import load_board
from tinygen.emulator import QemuTransport
from tinygen.firmware import BuildOptions, build_firmware
from tinygen.model import load_model
from tinygen.reference import host_output_bytes, random_payload
from tinygen.report import format_table
from tinygen.runner.protocol import DutClient

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "mlperf-tiny"
MODELS = {
    "kws": ("kws_ref_model.tflite", "samples/kws01_kws_input_data_sample0_i8_49x10.bin"),
    "vww": ("vww_96_int8.tflite", None),
    "ic": ("pretrainedResnet_quant.tflite", "samples/ic01_ic_inputs_sample0_u8_32x32x3.bin"),
    "ad": ("ad01_int8.tflite", None),
}
# (label, runtime, kernel set); each native set is compared with the TFLM set of its family.
VARIANTS = (("tflm reference", "tflm", "reference"), ("tflm cmsis-nn", "tflm", "cmsis-nn"),
            ("native portable", "native", "native-portable"), ("native", "native", "native"))
FAMILIES = (("native-portable", "reference"), ("native", "cmsis-nn"))
ITERATIONS = 10


def measure(board_name: str, model: str, runtime: str, kernels: str | None, out: Path,
            shared: Path) -> dict[str, object]:
    filename, sample = MODELS[model]
    path = shared / "models" / filename
    board = load_board(board_name)
    result = build_firmware(
        BuildOptions(board=board, out_dir=out, model_path=path, kernels=kernels,
                     runtime=runtime),
        progress=lambda m: print(f"  {m}", file=sys.stderr))
    audit = result.audit.to_json()
    roles = {r["role"]: r for r in audit["roles"]}
    totals = audit["totals"]
    row: dict[str, object] = {
        "model": model, "runtime": runtime, "kernels": kernels, "board": board_name,
        "flash": totals["flash"],
        "model_bytes": roles["model"]["flash"],
        "flash_without_model": totals["flash"] - roles["model"]["flash"],
        "ram": totals["ram"],
        "arena": result.arena_size,
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
            equal &= dut.outbytes() == host_output_bytes(path, info, result.benchmark, payload)
        timed = dut.infer(ITERATIONS, 1, timeout=600)
    row["instructions"] = timed.elapsed_us * 1000 // ITERATIONS
    row["bit_exact"] = equal
    return row


def _ratio(value: object, base: object) -> str:
    if not isinstance(value, int) or not isinstance(base, int) or base == 0:
        return "-"
    return f"{value / base:.2f}x"


def _yes_no(value: object) -> str:
    return "yes" if value is True else "NO" if value is False else "-"


def table(rows: list[dict[str, object]]) -> str:
    """One line per model and variant, then the ratios of each native kernel set to the TFLM
    set of the same family (portable C to reference, DSP paths to CMSIS-NN)."""
    lines = []
    for model in dict.fromkeys(str(r["model"]) for r in rows):
        mine = {str(r["kernels"]): r for r in rows if r["model"] == model}
        for label, row in mine.items():
            instr = row.get("instructions")
            lines.append((
                model, label if label.startswith("native") else f"tflm {label}",
                f"{row['flash_without_model']:,}", f"{row['ram']:,}", f"{row['arena']:,}",
                f"{instr:,}" if isinstance(instr, int) else "-",
                _yes_no(row.get("bit_exact")),
            ))
        for ours, theirs in FAMILIES:
            native, base = mine.get(ours), mine.get(theirs)
            if native is None or base is None:
                continue
            lines.append((
                model, f"{ours} / tflm {theirs}",
                _ratio(native["flash_without_model"], base["flash_without_model"]),
                _ratio(native["ram"], base["ram"]), _ratio(native["arena"], base["arena"]),
                _ratio(native.get("instructions"), base.get("instructions")), ""))
    return format_table(("model", "firmware", "flash w/o model", "RAM", "arena",
                         "instructions/inf", "bit-exact"), lines, align_right=(2, 3, 4, 5))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", default="mps2_an386")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--variants", nargs="+", default=[v[0] for v in VARIANTS],
                        choices=[v[0] for v in VARIANTS])
    parser.add_argument("--out", type=Path, default=Path("build/bench-native"))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--shared", type=Path, default=SHARED,
                        help="the MLPerf Tiny reference data (default ../shared/mlperf-tiny)")
    args = parser.parse_args()
    if not args.shared.is_dir():
        print(f"skipped: {args.shared} (the MLPerf Tiny reference models) is absent",
              file=sys.stderr)
        return 0
    rows = []
    for model in args.models:
        for label, runtime, kernels in VARIANTS:
            if label not in args.variants:
                continue
            print(f"{model} / {label} on {args.board}", file=sys.stderr)
            out = args.out / f"{args.board}-{model}-{label.replace(' ', '-')}"
            rows.append(measure(args.board, model, runtime, kernels, out, args.shared))
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0 if all(r.get("bit_exact", True) for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
