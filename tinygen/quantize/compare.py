"""The int8 model on the host TFLM interpreter, and how well it agrees with the float model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinygen.errors import InputError, ModelError
from tinygen.model import ModelInfo, TensorInfo
from tinygen.reference import host_arena_size

Floats = np.ndarray[Any, np.dtype[np.float32]]
_INT_RANGES = {"int8": (-128, 127), "int16": (-32768, 32767)}


@dataclass(frozen=True)
class Agreement:
    """Float model vs int8 model on the same held-back samples.

    Errors are over every output value of every sample, in the float model's output units
    (the int8 outputs dequantized). Top-1 figures are set for classifiers only, accuracies only
    when labels are known.
    """

    samples: int
    classifier: bool
    top1_agreement: float | None
    mean_abs_error: float
    max_abs_error: float
    float_range: tuple[float, float]
    float_accuracy: float | None
    int8_accuracy: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "samples": self.samples, "classifier": self.classifier,
            "top1_agreement": self.top1_agreement, "mean_abs_error": self.mean_abs_error,
            "max_abs_error": self.max_abs_error, "float_output_min": self.float_range[0],
            "float_output_max": self.float_range[1], "float_accuracy": self.float_accuracy,
            "int8_accuracy": self.int8_accuracy,
        }


def quantize_values(x: Floats, tensor: TensorInfo) -> np.ndarray[Any, Any]:
    """What TFLite's QUANTIZE makes of ``x`` for an int8/int16 tensor: float32 division,
    rounding half away from zero, plus the zero point, saturated."""
    assert tensor.scale is not None and tensor.zero_point is not None
    low, high = _INT_RANGES[tensor.dtype]
    v = (x.astype(np.float32) / np.float32(tensor.scale)).astype(np.float64)
    q = np.sign(v) * np.floor(np.abs(v) + 0.5) + tensor.zero_point
    result: np.ndarray[Any, Any] = np.clip(q, low, high).astype(tensor.dtype)
    return result


def dequantize_values(q: np.ndarray[Any, Any], tensor: TensorInfo) -> Floats:
    assert tensor.scale is not None and tensor.zero_point is not None
    return ((q.astype(np.float32) - np.float32(tensor.zero_point))
            * np.float32(tensor.scale)).astype(np.float32)


def run_tflm(model: bytes, info: ModelInfo, inputs: Floats) -> Floats:
    """Float outputs of the quantized model on the host TFLM interpreter, one per input."""
    from tflite_micro.python.tflite_micro import runtime

    inp, out = info.inputs[0], info.outputs[0]
    for t in (inp, out):
        if t.dtype != "float32" and (t.dtype not in _INT_RANGES or t.scale is None):
            raise ModelError(f"{info.path}: the quantized model's {t.name} is {t.dtype} without "
                             "one scale and zero point",
                             hint="quantize the model again (tinygen quantize), with int8 input "
                                  "and output")
    results = np.empty((len(inputs), *out.shape), dtype=np.float32)
    try:
        interpreter = runtime.Interpreter.from_bytes(model, arena_size=host_arena_size(info))
        for i, x in enumerate(inputs):
            x = x.reshape(inp.shape)
            interpreter.set_input(x if inp.dtype == "float32" else quantize_values(x, inp), 0)
            interpreter.invoke()
            y = np.asarray(interpreter.get_output(0)).reshape(out.shape)
            results[i] = y if out.dtype == "float32" else dequantize_values(y, out)
    except (RuntimeError, ValueError) as exc:
        raise ModelError(f"the host TFLM interpreter cannot run the quantized model: {exc}",
                         hint="the model uses an operator or type TFLM's kernels lack; "
                              "'tinygen inspect' on a saved copy shows its operators") from exc
    return results


def _producer(info: ModelInfo, tensor: int) -> str | None:
    """The operator writing ``tensor``, looking through a final DEQUANTIZE or QUANTIZE."""
    for op in info.operators:
        if tensor in op.outputs:
            if op.name in ("DEQUANTIZE", "QUANTIZE") and op.inputs and op.inputs[0] >= 0:
                return _producer(info, op.inputs[0]) or op.name
            return op.name
    return None


def class_count(info: ModelInfo) -> int | None:
    """K if the output is one vector of K >= 2 values ([K] or [1, K]), else None."""
    shape = info.outputs[0].shape
    if len(shape) == 1 or (len(shape) == 2 and shape[0] == 1):
        k = shape[-1]
        return k if k >= 2 else None
    return None


def is_classifier(info: ModelInfo, labels: Sequence[int] | None,
                  n_classes: int | None) -> bool:
    """A vector output that ends in SOFTMAX, or that labels with as many classes describe."""
    k = class_count(info)
    if k is None:
        return False
    if _producer(info, info.outputs[0].index) == "SOFTMAX":
        return True
    if labels is None:
        return False
    return n_classes == k if n_classes is not None else max(labels) < k


def compare_outputs(float_out: Floats, int8_out: Floats, classifier: bool,
                    labels: Sequence[int] | None = None) -> Agreement:
    """Agreement of two output sets of equal shape (N, ...); ``labels`` need ``classifier``."""
    if float_out.shape != int8_out.shape or len(float_out) == 0:
        raise ValueError(f"output shapes differ or are empty: {float_out.shape} vs "
                         f"{int8_out.shape}")
    n = len(float_out)
    diff = np.abs(float_out.astype(np.float64) - int8_out.astype(np.float64))
    top1 = float_acc = int8_acc = None
    if classifier:
        f_top = np.argmax(float_out.reshape(n, -1), axis=1)
        q_top = np.argmax(int8_out.reshape(n, -1), axis=1)
        top1 = float(np.mean(f_top == q_top))
        if labels is not None:
            if len(labels) != n:
                raise ValueError(f"{len(labels)} labels for {n} samples")
            truth = np.asarray(labels)
            k = float_out.reshape(n, -1).shape[1]
            if truth.max() >= k:
                raise InputError(f"a label is {int(truth.max())}, but the model has {k} "
                                 "classes", hint="are the labels for this model?")
            float_acc = float(np.mean(f_top == truth))
            int8_acc = float(np.mean(q_top == truth))
    elif labels is not None:
        raise ValueError("labels need a classifier")
    return Agreement(
        samples=n, classifier=classifier, top1_agreement=top1,
        mean_abs_error=float(diff.mean()), max_abs_error=float(diff.max()),
        float_range=(float(float_out.min()), float(float_out.max())),
        float_accuracy=float_acc, int8_accuracy=int8_acc)
