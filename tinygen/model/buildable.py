"""Whether TFLM (and so tinygen) can build a parsed model: schema, quantization, operators,
subgraphs and the one-input, one-output benchmark interface."""

from __future__ import annotations

from tinygen.errors import ModelError
from tinygen.model.quantization import FLOAT_TYPES, QUANT_TYPES, compute_dtypes
from tinygen.model.tflite import SCHEMA_VERSION, ModelInfo

_QUANTIZE_HINT = (
    "apply post-training int8 quantization: TensorFlow's TFLiteConverter with a representative "
    "dataset, TFLITE_BUILTINS_INT8 ops and int8 input/output types (or 'tinygen quantize')"
)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def check_buildable(info: ModelInfo) -> None:
    """Raise ModelError (with a hint) if tinygen cannot build TFLM firmware for ``info``."""
    where = str(info.path)
    if info.schema_version != SCHEMA_VERSION:
        raise ModelError(
            f"{where}: the model uses flatbuffer schema version {info.schema_version}; "
            f"TFLM reads version {SCHEMA_VERSION}",
            hint="convert the model again with a current TensorFlow")
    if info.quantization == "float":
        raise ModelError(f"{where}: the model is not quantized (it computes in float)",
                         hint=_QUANTIZE_HINT)
    if info.quantization == "hybrid":
        raise ModelError(
            f"{where}: the model is dynamic-range (hybrid) quantized: int8 weights, float "
            "activations; TFLM has no kernels for that", hint=_QUANTIZE_HINT)
    compute = compute_dtypes(info.operators, info.tensors, info.inputs, info.outputs)
    if info.quantization == "mixed" and compute & FLOAT_TYPES and compute & QUANT_TYPES:
        raise ModelError(
            f"{where}: the model mixes float and integer computation in a way TFLM's kernels "
            "do not (float parts are run only between DEQUANTIZE and QUANTIZE, on float "
            "tensors alone)", hint=_QUANTIZE_HINT)
    if info.unsupported_ops:
        names = ", ".join(info.unsupported_ops)
        raise ModelError(
            f"{where}: TFLM has no kernel for: {names}",
            hint="change the model to use operators TFLM supports (tinygen/tflm/ops.py lists "
                 "them), e.g. by converting without SELECT_TF_OPS or custom ops")
    if info.num_subgraphs != 1:
        raise ModelError(
            f"{where}: the model has {info.num_subgraphs} subgraphs; tinygen builds one",
            hint="convert a model without control flow (IF/WHILE) or multiple signatures")
    if len(info.inputs) != 1 or len(info.outputs) != 1:
        raise ModelError(
            f"{where}: the model has {_count(len(info.inputs), 'input')} and "
            f"{_count(len(info.outputs), 'output')}; the MLPerf Tiny benchmark interface takes "
            "exactly one of each",
            hint="concatenate the inputs (or outputs) into one tensor inside the model")
