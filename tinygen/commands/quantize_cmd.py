"""``tinygen quantize``: a float Keras model or SavedModel to the int8 .tflite tinygen builds."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from tinygen.commands.args import positive_int
from tinygen.commands.inspect_cmd import format_report
from tinygen.errors import InputError
from tinygen.outputs import check_writable
from tinygen.quantize import Decoding, QuantizeOptions, QuantizeResult, quantize_model
from tinygen.quantize.calibration import BIN_DTYPES, LABELS_FILE
from tinygen.tables import emit_json, format_bytes, progress

_DESCRIPTION = f"""\
Quantize a float model to full int8 with TensorFlow's converter (post-training, per-channel
weights, int8 input and output unless --float-io), calibrated on DATA, then run the float model
and the int8 model (host TFLM interpreter) on held-back samples of DATA and report how well
they agree. Needs TensorFlow: pip install 'tinygen[quantize]'.

DATA is a folder of .npy/.bin files (one sample each), an MLPerf Tiny dataset folder (its
{LABELS_FILE} names the files and their classes, which give accuracies), or one .npy file of
stacked samples (N, *input shape). Integer samples (MLPerf Tiny kws01 files are int8) are
dequantized with --input-scale/--input-zero-point.
"""


def register(sub: Any) -> None:
    p = sub.add_parser("quantize", help="quantize a float Keras model or SavedModel to int8 "
                                        "and compare it with the float model",
                       description=_DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", type=Path, metavar="MODEL",
                   help="a .keras (or .h5) file or a SavedModel folder")
    p.add_argument("--calibration", type=Path, required=True, metavar="DATA",
                   help="calibration and evaluation samples (see above)")
    p.add_argument("--out", type=Path, required=True, metavar="OUT.tflite",
                   help="the int8 model to write (only if everything worked)")
    p.add_argument("--float-io", action="store_true",
                   help="keep float32 input and output (QUANTIZE/DEQUANTIZE at the ends)")
    p.add_argument("--samples", type=positive_int, default=100, metavar="N",
                   help="calibration samples, drawn with --seed (default 100)")
    p.add_argument("--eval-samples", type=positive_int, default=100, metavar="M",
                   help="held-back samples to compare on, at most (default 100)")
    p.add_argument("--seed", type=int, default=0, help="seed of the draw (default 0)")
    p.add_argument("--bin-dtype", choices=BIN_DTYPES, default="float32",
                   help="element type of .bin samples (default float32)")
    p.add_argument("--input-scale", type=float, metavar="S",
                   help="dequantize integer samples: real = S * (q - Z)")
    p.add_argument("--input-zero-point", type=int, metavar="Z", help="Z for --input-scale "
                                                                     "(default 0)")
    p.add_argument("--labels", type=Path, metavar="FILE",
                   help=f"classes: a CSV like {LABELS_FILE} (file, n_classes, class) for a "
                        "folder, or a .npy of class numbers for a stacked .npy")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(_command_module=sys.modules[__name__])


def options_from(args: argparse.Namespace) -> QuantizeOptions:
    if args.input_zero_point is not None and args.input_scale is None:
        raise InputError("--input-zero-point needs --input-scale",
                         hint="integer data is dequantized as scale * (q - zero_point)")
    if args.input_scale is not None and not (math.isfinite(args.input_scale)
                                             and args.input_scale > 0):
        raise InputError(f"--input-scale: must be a finite number > 0, not {args.input_scale}",
                         hint="e.g. --input-scale 0.0039 (1/255)")
    return QuantizeOptions(
        model=args.model, calibration=args.calibration, out=args.out, float_io=args.float_io,
        samples=args.samples, eval_samples=args.eval_samples, seed=args.seed,
        decoding=Decoding(args.bin_dtype, args.input_scale, args.input_zero_point),
        labels=args.labels)


def _percent(fraction: float | None) -> str:
    return "-" if fraction is None else f"{100 * fraction:.1f} %"


def _number(x: float) -> str:
    return f"{x:.4g}"


def _input_text(result: QuantizeResult) -> str:
    if result.options.float_io:
        return "float32 (a QUANTIZE op at the start converts it)"
    calibrated = result.calibrated_input
    pinned = result.pinned_input
    if pinned is None or calibrated is None:
        q = calibrated or (0.0, 0)
        return f"int8, scale {q[0]:.7g}, zero point {q[1]} (from calibration)"
    text = (f"int8, scale {pinned[0]:.7g}, zero point {pinned[1]}: the data's own "
            "quantization, so its files can be sent to the firmware as they are")
    if result.input_requantized:
        text += (f" (calibration chose {calibrated[0]:.7g} / {calibrated[1]}; a QUANTIZE op "
                 "requantizes)")
    return text


def format_summary(result: QuantizeResult) -> str:
    """The human-readable report: what was done, the agreement, then ``inspect``'s report."""
    o, a = result.options, result.agreement
    d = o.decoding
    data = f"{len(result.calibration)} of {len(result.data.samples)} samples from " \
           f"{result.data.source} (seed {o.seed})"
    if d.scale is not None:
        data += f", dequantized with scale {d.scale:.7g}, zero point {d.zero_point or 0}"
    rows = [
        ("source", f"{result.source.path} ({result.source.description})"),
        ("calibration", data),
        ("quantization", "full int8, per-channel weights, "
                         + ("float32 input and output" if o.float_io else "int8 input and output")),
        ("input", _input_text(result)),
        ("written", f"{result.out} ({result.info.size_bytes:,} B, "
                    f"{format_bytes(result.info.size_bytes)})"),
        ("", ""),
        ("held back", f"{a.samples} samples, not used for calibration"),
    ]
    if a.top1_agreement is not None:
        agreeing = round(a.top1_agreement * a.samples)
        rows.append(("top-1 agreement",
                     f"{_percent(a.top1_agreement)} ({agreeing} of {a.samples})"))
    if a.float_accuracy is not None and a.int8_accuracy is not None:
        rows.append(("accuracy", f"float {_percent(a.float_accuracy)}, "
                                 f"int8 {_percent(a.int8_accuracy)} "
                                 f"(labels: {result.data.labels_file})"))
    rows.append(("output error",
                 f"mean {_number(a.mean_abs_error)}, max {_number(a.max_abs_error)} "
                 f"(|float - int8|; float outputs range {_number(a.float_range[0])} .. "
                 f"{_number(a.float_range[1])})"))
    width = max(len(k) for k, _ in rows)
    lines = [f"{k.ljust(width)}  {v}".rstrip() for k, v in rows]
    return "\n".join(lines) + "\n\n" + format_report(result.info)


def run(args: argparse.Namespace) -> int:
    if args.out.parent.exists():  # (a missing parent is created when the model is written)
        check_writable(args.out, "the quantized model")  # before minutes of calibration
    result = quantize_model(options_from(args), progress)
    if args.json:
        emit_json(result.to_json())
    else:
        print(format_summary(result))
    return 0
