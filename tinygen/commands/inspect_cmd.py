"""``tinygen inspect``: what a .tflite model holds and whether tinygen can build it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tinygen.errors import ModelError
from tinygen.model import ModelInfo, TensorInfo, check_buildable, load_model
from tinygen.model.quantization import integer_internals
from tinygen.tables import emit_json, format_bytes, format_table


def register(sub: Any) -> None:
    p = sub.add_parser(
        "inspect", help="show a model's operators, I/O, MACs and quantization",
        description="Show what a .tflite model holds. Exits 3 if tinygen cannot build it "
                    "(after printing the report).")
    p.add_argument("model", type=Path, metavar="MODEL.tflite", help="the model to inspect")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(_command_module=sys.modules[__name__])


_VERDICTS = {
    "int8": "int8 (full integer: int8 weights and activations)",
    "int16x8": "int16x8 (int16 activations, int8 weights: TFLM's 16x8 kernels)",
    "int8-float-io": "int8-float-io (float I/O, QUANTIZE/DEQUANTIZE around int8 compute)",
    "int8-float-island": "int8-float-island (int8 compute with a float part between DEQUANTIZE "
                         "and QUANTIZE, run by TFLM's float kernels)",
    "hybrid": "hybrid (dynamic-range: int8 weights, float activations; TFLM does not run it)",
    "float": "float (not quantized)",
    "mixed": "mixed (computes with more than one numeric type)",
}


def _verdict(info: ModelInfo) -> str:
    text = _VERDICTS.get(info.quantization, info.quantization)
    internals = integer_internals(info.operators, info.tensors)
    if internals:
        text += f"; with the int16 internals (state) TFLM's int8 kernels keep in " \
                f"{', '.join(internals)}"
    return text


def _mega(n: int) -> str:
    return f"{n / 1e6:.2f} M"


def _size(n: int) -> str:
    return f"{n} B" if n < 1024 else f"{n} B ({format_bytes(n)})"


def _shape(shape: tuple[int, ...]) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


def _quant(t: TensorInfo) -> tuple[str, str]:
    if t.scale is not None:
        return f"{t.scale:.6g}", str(t.zero_point)
    if t.num_scales > 1:
        return f"per-channel ({t.num_scales})", "-"
    return "-", "-"


def format_report(info: ModelInfo) -> str:
    """The human-readable report of ``inspect`` (stdout)."""
    header = [
        ("model", str(info.path)),
        ("sha256", info.sha256),
        ("size", _size(info.size_bytes)),
        ("schema", f"version {info.schema_version}, {info.num_subgraphs} subgraph"
                   + ("s" if info.num_subgraphs != 1 else "")),
        ("quantization", _verdict(info)),
        ("benchmark", info.benchmark or "none (the I/O matches no MLPerf Tiny benchmark)"),
    ]
    width = max(len(k) for k, _ in header)
    lines = [f"{k.ljust(width)}  {v}" for k, v in header]

    macs = info.macs_per_op
    op_rows = [
        (name, count, ",".join(str(v) for v in info.op_versions(name)),
         f"{macs[name]:,}" if macs[name] else "-")
        for name, count in info.op_counts.items()
    ]
    lines += ["", format_table(("operator", "count", "version", "MACs"), op_rows,
                               align_right=(1, 3))]

    io_rows = [
        (role, t.name, _shape(t.shape), t.dtype, *_quant(t))
        for role, tensors in (("input", info.inputs), ("output", info.outputs))
        for t in tensors
    ]
    lines += ["", format_table(("", "tensor", "shape", "dtype", "scale", "zero point"),
                               io_rows, align_right=(5,))]

    unsupported = ", ".join(info.unsupported_ops) or "none"
    lines += [
        "",
        f"{'MACs'.ljust(width)}  {_mega(info.macs)} ({info.macs:,})",
        f"{'weights'.ljust(width)}  {_size(info.weights_bytes)}",
        f"{'unsupported'.ljust(width)}  {unsupported}",
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    info = load_model(args.model)
    problem: ModelError | None = None
    try:
        check_buildable(info)
    except ModelError as exc:
        problem = exc
    if args.json:
        data = info.to_json()
        data["buildable"] = problem is None
        data["problem"] = problem.message if problem else None
        emit_json(data)
    else:
        print(format_report(info))
    if problem is not None:
        # The report is printed first so the user sees what the model holds; the CLI then
        # prints the error and its hint and exits with the bad-input code.
        raise problem
    return 0
