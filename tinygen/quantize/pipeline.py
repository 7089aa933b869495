"""``quantize_model``: float model + calibration data -> checked int8 .tflite, written last."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tinygen.errors import InputError, ModelError
from tinygen.model import ModelInfo, check_buildable, parse_model
from tinygen.outputs import os_error
from tinygen.quantize.calibration import (
    Decoding,
    SampleRef,
    SampleSet,
    read_samples,
    scan_samples,
    split_samples,
    stored_dtype,
)
from tinygen.quantize.compare import Agreement, compare_outputs, is_classifier, run_tflm
from tinygen.quantize.convert import convert_to_int8, load_float_model
from tinygen.quantize.requantize import input_quantization, pin_input_quantization
from tinygen.quantize.source import SourceModel, find_source

Progress = Callable[[str], None]
_IO_OPS = ("QUANTIZE", "DEQUANTIZE")
_FLOAT_TYPES = ("float32", "float16")


@dataclass(frozen=True)
class QuantizeOptions:
    model: Path
    calibration: Path
    out: Path
    float_io: bool = False
    samples: int = 100  # calibration samples
    eval_samples: int = 100  # held-back samples to compare on (at most)
    seed: int = 0
    decoding: Decoding = field(default_factory=Decoding)
    labels: Path | None = None


@dataclass(frozen=True)
class QuantizeResult:
    source: SourceModel
    out: Path
    info: ModelInfo
    data: SampleSet
    calibration: tuple[SampleRef, ...]
    held_back: tuple[SampleRef, ...]
    agreement: Agreement
    labels_used: bool
    options: QuantizeOptions
    calibrated_input: tuple[float, int] | None  # the converter's int8 input (scale, zero point)
    pinned_input: tuple[float, int] | None  # the data's, which the written model takes

    @property
    def input_requantized(self) -> bool:
        """Whether a QUANTIZE op was put in front to take the data's quantization."""
        return self.pinned_input is not None and self.calibrated_input is not None and not (
            np.float32(self.pinned_input[0]) == np.float32(self.calibrated_input[0])
            and self.pinned_input[1] == self.calibrated_input[1])

    def to_json(self) -> dict[str, Any]:
        o = self.options
        return {
            "source": {"path": str(self.source.path), "kind": self.source.kind},
            "out": str(self.out),
            "sha256": self.info.sha256,
            "size_bytes": self.info.size_bytes,
            "io": "float32" if o.float_io else "int8",
            "input_quantization": _pair(self.pinned_input or self.calibrated_input),
            "calibrated_input_quantization": _pair(self.calibrated_input),
            "input_requantized": self.input_requantized,
            "calibration": {
                "data": str(self.data.source), "layout": self.data.layout,
                "available": len(self.data.samples), "seed": o.seed,
                "bin_dtype": o.decoding.bin_dtype, "input_scale": o.decoding.scale,
                "input_zero_point": o.decoding.zero_point,
                "samples": [s.name for s in self.calibration],
            },
            "evaluation": {
                **self.agreement.to_json(),
                "labels": str(self.data.labels_file) if self.labels_used else None,
                "held_back": [s.name for s in self.held_back],
            },
            "model": self.info.to_json(),
        }


def _pair(q: tuple[float, int] | None) -> dict[str, float | int] | None:
    return None if q is None else {"scale": q[0], "zero_point": q[1]}


def quantize_model(options: QuantizeOptions, progress: Progress) -> QuantizeResult:
    """Quantize, check and compare; write ``options.out`` only when all of that worked."""
    out = Path(options.out)
    if out.is_dir():
        raise InputError(f"--out {out} is a folder", hint="name the .tflite file to write")
    source = find_source(options.model)
    options.decoding.check()
    data = scan_samples(options.calibration, options.labels)
    calibration, held_back = split_samples(data.samples, options.samples,
                                           options.eval_samples, options.seed, data.source)
    progress("loading TensorFlow and the float model")
    float_model = load_float_model(source)
    x_calibration = read_samples(calibration, float_model.input_shape, options.decoding)
    x_held_back = read_samples(held_back, float_model.input_shape, options.decoding)

    progress(f"converting to int8 with {len(calibration)} calibration samples "
             f"(seed {options.seed})")
    tflite = convert_to_int8(float_model, x_calibration, options.float_io)
    calibrated_input = input_quantization(tflite)
    pinned = _data_quantization(options, calibration)
    if pinned is not None:
        tflite = pin_input_quantization(tflite, *pinned)
    info = parse_model(tflite, out)
    _check_result(info, options.float_io, out)

    progress(f"comparing the float and int8 models on {len(held_back)} held-back samples")
    float_out = float_model.predict(x_held_back)
    int8_out = run_tflm(tflite, info, x_held_back)
    labels = [s.label for s in held_back if s.label is not None] if data.has_labels else None
    classifier = is_classifier(info, labels, data.n_classes)
    _check_labels(options, data, info, classifier)
    agreement = compare_outputs(float_out, int8_out, classifier,
                                labels if classifier else None)
    write_atomic(out, tflite)
    return QuantizeResult(source, out, info, data, calibration, held_back, agreement,
                          classifier and labels is not None, options, calibrated_input,
                          pinned)


def _check_labels(options: QuantizeOptions, data: SampleSet, info: ModelInfo,
                  classifier: bool) -> None:
    """Labels given on purpose must fit the model; a dataset's own are skipped if they don't."""
    output = list(info.outputs[0].shape)
    if options.labels is not None and not classifier:
        raise InputError(f"--labels {options.labels}: the model's output {output} is not a "
                         "vector of class scores",
                         hint="leave out --labels for models that are not classifiers")
    if classifier and data.has_labels and data.n_classes not in (None, output[-1]):
        raise InputError(f"{data.labels_file}: {data.n_classes} classes, but the model's "
                         f"output {output} scores {output[-1]}",
                         hint="are the data and labels for this model?")


def _data_quantization(options: QuantizeOptions,
                       samples: tuple[SampleRef, ...]) -> tuple[float, int] | None:
    """The int8 input quantization the stored samples already have, if they are int8 or uint8
    with --input-scale (uint8 as the MLPerf Tiny ports send it: value - 128), for int8 I/O."""
    d = options.decoding
    if options.float_io or d.scale is None:
        return None
    stored = {stored_dtype(s, d) for s in samples}
    zero_point = d.zero_point or 0
    if stored == {"uint8"}:
        zero_point -= 128
    elif stored != {"int8"}:
        return None
    return (d.scale, zero_point) if -128 <= zero_point <= 127 else None


def float_operators(info: ModelInfo) -> list[str]:
    """Operators left computing in float, apart from the QUANTIZE/DEQUANTIZE at the model's I/O.

    The converter leaves an operator it cannot quantize in float between a DEQUANTIZE and a
    QUANTIZE instead of failing, which TFLM would then run slowly in float, or not at all.
    """
    found: dict[str, None] = {}
    for op in info.operators:
        if op.name in _IO_OPS:
            continue  # conversions: at the I/O (float I/O) or around the float operators
        ids = [i for i in (*op.inputs, *op.outputs) if i >= 0]
        if any(info.tensors[i].dtype in _FLOAT_TYPES for i in ids):
            found[op.name] = None
    return list(found)


def _check_result(info: ModelInfo, float_io: bool, out: Path) -> None:
    """The converter's output must be fully int8 and buildable; nothing is written otherwise."""
    not_written = f"({out} was not written)"
    floats = float_operators(info)
    if floats:
        raise ModelError(
            f"the int8 converter could not quantize {', '.join(floats)}: it left "
            f"{'it' if len(floats) == 1 else 'them'} computing in float {not_written}",
            hint="replace those operations with ones that have int8 kernels in TensorFlow "
                 "Lite and TFLM (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, ADD, pooling, "
                 "RELU, SOFTMAX, ...)")
    expected = "int8-float-io" if float_io else "int8"
    if info.quantization != expected:
        raise ModelError(f"the converted model is '{info.quantization}', not '{expected}' "
                         f"{not_written}",
                         hint="'tinygen inspect' on the model shows the types it computes with")
    try:
        check_buildable(info)
    except ModelError as exc:
        raise ModelError(f"{exc.message} {not_written}", hint=exc.hint) from exc


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise os_error(exc, "the model", path) from exc
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise os_error(exc, "the model", path) from exc
        raise
