"""Checks of a model's contents: tensors, buffers, quantization and builtin options.

A file can be a valid flatbuffer whose values are still wrong: weights shorter than their
shape, a scale of 0 or NaN, a zero point outside its type, options of another operator. TFLM
reads such values without checking most of them, and code generation would fail on them in
arbitrary ways, so tinygen.model refuses them when it loads the model. Each check returns what
is wrong, as a phrase, or None.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping, Sequence
from typing import Any

from tinygen.model.dtypes import element_bits, is_known

# Zero point ranges of the integer types; every other type's zero point must fit the int32
# that TFLM keeps it in (TfLiteQuantizationParams).
_INT32 = (-(2**31), 2**31 - 1)
ZERO_POINT_RANGE = {
    "int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767), "uint16": (0, 65535),
    "int4": (-8, 7), "uint4": (0, 15), "int2": (-2, 1),
}
# No tensor of a model tinygen can build comes near this; a shape beyond it is corrupt.
MAX_TENSOR_BYTES = 2**31 - 1

_PADDINGS = (0, 1)  # SAME, VALID
_ACTIVATIONS = range(6)  # NONE, RELU, RELU_N1_TO_1, RELU6, TANH, SIGN_BIT
_FC_WEIGHT_FORMATS = (0,)  # DEFAULT (SHUFFLED4x16INT8 is a uint8-only format TFLM refuses)


def tensor_problem(shape: Sequence[int], dtype: str, data_bytes: int | None,
                   scales: Sequence[float], zero_points: Sequence[int],
                   quantized_dimension: int) -> str | None:
    """What is wrong with one tensor; ``data_bytes`` is its buffer's length (None: no data)."""
    if not is_known(dtype):
        return f"its element type ({dtype}) is not one the schema defines"
    for d in shape:
        if d < 0:
            return f"its shape {list(shape)} has a negative dimension"
    elements = math.prod(shape)
    bits = element_bits(dtype)
    nbytes = (elements * bits + 7) // 8
    if nbytes > MAX_TENSOR_BYTES:
        return f"its shape {list(shape)} ({dtype}) would hold {nbytes:,} bytes"
    if data_bytes is not None and bits:
        # Sub-byte types are packed in the file; older converters stored one per byte.
        allowed = {nbytes, elements} if bits < 8 else {nbytes}
        if data_bytes not in allowed:
            return (f"its buffer holds {data_bytes:,} bytes, but its shape {list(shape)} of "
                    f"{dtype} needs {nbytes:,}")
    return quantization_problem(shape, dtype, scales, zero_points, quantized_dimension)


def quantization_problem(shape: Sequence[int], dtype: str, scales: Sequence[float],
                         zero_points: Sequence[int], quantized_dimension: int) -> str | None:
    if not scales:
        if zero_points:
            return "it has zero points but no scales"
        return None
    for k, s in enumerate(scales):
        if not (math.isfinite(s) and s > 0):
            return f"quantization scale {_at(k, scales)}is {s:.7g}; scales must be finite and > 0"
    # TFLM reads the first zero point for every channel when there is only one.
    if len(zero_points) not in (len(scales), 1):
        return f"it has {len(scales)} quantization scales but {len(zero_points)} zero points"
    low, high = ZERO_POINT_RANGE.get(dtype, _INT32)
    for k, z in enumerate(zero_points):
        if not low <= z <= high:
            return (f"zero point {_at(k, zero_points)}is {z}, outside {dtype}'s "
                    f"{low}..{high}")
    rank = len(shape)
    if not 0 <= quantized_dimension < max(rank, 1):
        return (f"its quantized dimension is {quantized_dimension}, but it has {rank} "
                "dimensions")
    if len(scales) > 1:
        channels = shape[quantized_dimension] if rank else 1
        if len(scales) != channels:
            return (f"it has {len(scales)} per-channel scales, but dimension "
                    f"{quantized_dimension} of its shape {list(shape)} is {channels}")
    return None


def _at(k: int, values: Sequence[Any]) -> str:
    return f"{k} " if len(values) > 1 else ""


# Operator -> the builtin options type its parser reads (the schema's BuiltinOptions names;
# None: it takes none), for the operators tinygen's generators read options or weights of.
OPTIONS: dict[str, str | None] = {
    "CONV_2D": "Conv2DOptions", "DEPTHWISE_CONV_2D": "DepthwiseConv2DOptions",
    "TRANSPOSE_CONV": "TransposeConvOptions",
    "AVERAGE_POOL_2D": "Pool2DOptions", "MAX_POOL_2D": "Pool2DOptions",
    "L2_POOL_2D": "Pool2DOptions", "FULLY_CONNECTED": "FullyConnectedOptions",
    "SOFTMAX": "SoftmaxOptions", "ADD": "AddOptions", "MUL": "MulOptions", "SUB": "SubOptions",
    "CONCATENATION": "ConcatenationOptions", "RESHAPE": "ReshapeOptions", "PAD": "PadOptions",
    "PADV2": "PadV2Options", "MEAN": "ReducerOptions", "SUM": "ReducerOptions",
    "SQUEEZE": "SqueezeOptions", "EXPAND_DIMS": "ExpandDimsOptions",
    "QUANTIZE": "QuantizeOptions", "DEQUANTIZE": "DequantizeOptions",
    "BATCH_MATMUL": "BatchMatMulOptions", "STRIDED_SLICE": "StridedSliceOptions",
    "SLICE": "SliceOptions", "SPLIT": "SplitOptions", "SPLIT_V": "SplitVOptions",
    "PACK": "PackOptions", "UNPACK": "UnpackOptions", "TRANSPOSE": "TransposeOptions",
    "RESIZE_BILINEAR": "ResizeBilinearOptions",
    "RESIZE_NEAREST_NEIGHBOR": "ResizeNearestNeighborOptions",
    "LEAKY_RELU": "LeakyReluOptions", "SVDF": "SVDFOptions", "HARD_SWISH": "HardSwishOptions",
    "MAXIMUM": "MaximumMinimumOptions", "MINIMUM": "MaximumMinimumOptions",
    "SQUARED_DIFFERENCE": "SquaredDifferenceOptions",
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "UnidirectionalSequenceLSTMOptions",
    "LOGISTIC": None, "TANH": None, "RELU": None, "RELU6": None,
}
# Operators whose parameters TFLM leaves zeroed without options (a stride, beta or rank of 0;
# an LSTM cell activation of none, which its kernel aborts on).
REQUIRED_OPTIONS = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV",
                              "AVERAGE_POOL_2D", "MAX_POOL_2D", "L2_POOL_2D", "SOFTMAX", "SVDF",
                              "UNIDIRECTIONAL_SEQUENCE_LSTM"})
# Operator -> (fewest inputs, most inputs, outputs) its kernel takes.
ARITY: dict[str, tuple[int, int, int]] = {
    "CONV_2D": (2, 3, 1), "DEPTHWISE_CONV_2D": (2, 3, 1), "FULLY_CONNECTED": (2, 3, 1),
    "AVERAGE_POOL_2D": (1, 1, 1), "MAX_POOL_2D": (1, 1, 1), "SOFTMAX": (1, 1, 1),
    "ADD": (2, 2, 1), "MUL": (2, 2, 1), "LOGISTIC": (1, 1, 1), "TANH": (1, 1, 1),
    "RELU": (1, 1, 1), "RELU6": (1, 1, 1), "QUANTIZE": (1, 1, 1), "DEQUANTIZE": (1, 1, 1),
}
# Operator -> the dimension of its weights (input 1) that counts its outputs, which its bias
# (input 2) has one value for.
_BIASED = {"CONV_2D": 0, "DEPTHWISE_CONV_2D": 3, "FULLY_CONNECTED": 0}


def operator_problem(kind: str, options_type: str, options: Mapping[str, Any] | None,
                     inputs: Sequence[int], outputs: Sequence[int],
                     shapes: Sequence[tuple[int, ...]], scales: Sequence[tuple[float, ...]],
                     zero_points: Sequence[int | None]) -> str | None:
    """What is wrong with one operator of ``kind``: its options (of the schema type named
    ``options_type``, 'NONE' for none, read into ``options``), the number and sizes of its
    operands and their quantization (``shapes``, ``scales``, per-tensor ``zero_points``: every
    tensor's)."""
    if kind not in OPTIONS:
        return None
    expected = OPTIONS[kind]
    if options_type != "NONE" and options_type != expected:
        return (f"its builtin options are {options_type}; {kind} takes "
                f"{expected or 'none'}")
    if options is None and kind in REQUIRED_OPTIONS:
        return f"it has no {expected}"
    if options is not None:
        problem = options_problem(options)
        if problem:
            return f"{expected}: {problem}"
    if kind in ARITY:
        low, high, n_out = ARITY[kind]
        if not low <= len(inputs) <= high or len(outputs) != n_out:
            counts = f"{low}" if low == high else f"{low} to {high}"
            return (f"it has {len(inputs)} inputs and {len(outputs)} outputs; {kind} takes "
                    f"{counts} inputs and {n_out} output")
        if any(i < 0 for i in inputs[:low]):
            return "a required input is omitted (-1)"
    problem = _shape_problem(kind, [shapes[i] for i in inputs if i >= 0],
                             [shapes[i] for i in outputs])
    if problem:
        return problem
    if kind in _BIASED and len(inputs) == 3 and inputs[2] >= 0:
        weights, bias = shapes[inputs[1]], shapes[inputs[2]]
        dim = _BIASED[kind]
        if len(weights) > dim and math.prod(bias) != weights[dim]:
            return (f"its bias has {math.prod(bias)} values for {weights[dim]} output "
                    f"channels (weights {list(weights)})")
    if kind == "DEPTHWISE_CONV_2D" and options is not None:
        x, w = shapes[inputs[0]], shapes[inputs[1]]
        multiplier = options.get("depthMultiplier", 1)
        # TFLM's kernels loop over depth_multiplier per input channel.
        if len(x) == 4 and len(w) == 4 and multiplier * x[3] != w[3]:
            return (f"its depthMultiplier is {multiplier}, but its filter {list(w)} has "
                    f"{w[3]} channels for an input of {x[3]}")
    if kind in _POOLS and inputs[0] >= 0:
        problem = _pool_quantization_problem(scales[inputs[0]], scales[outputs[0]],
                                             zero_points[inputs[0]], zero_points[outputs[0]])
        if problem:
            return problem
    return _multiplier_problem(kind, [scales[i] for i in inputs if i >= 0],
                               [scales[i] for i in outputs])


def options_problem(options: Mapping[str, Any]) -> str | None:
    """Values out of range in builtin options (field names as the schema's object API)."""
    for name in ("strideW", "strideH", "dilationWFactor", "dilationHFactor", "filterWidth",
                 "filterHeight", "rank"):
        if name in options and not options[name] >= 1:
            return f"{name} is {options[name]}; it must be at least 1"
    checks: tuple[tuple[str, Any, str], ...] = (
        ("padding", _PADDINGS, "SAME (0) or VALID (1)"),
        ("fusedActivationFunction", _ACTIVATIONS, "an ActivationFunctionType (0 to 5)"),
        ("weightsFormat", _FC_WEIGHT_FORMATS, "DEFAULT (0) for int8 weights"),
    )
    for name, allowed, meaning in checks:
        if name in options and options[name] not in allowed:
            return f"{name} is {options[name]}; it must be {meaning}"
    if "beta" in options:
        beta = options["beta"]
        if not (math.isfinite(beta) and beta > 0):
            return f"beta is {beta:.7g}; it must be finite and > 0"
    if "alpha" in options and not math.isfinite(options["alpha"]):
        return f"alpha is {options['alpha']:.7g}; it must be finite"
    return None


_SPATIAL = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D"})


def _shape_problem(kind: str, ins: Sequence[tuple[int, ...]],
                   outs: Sequence[tuple[int, ...]]) -> str | None:
    """Operand shapes that contradict each other where TFLM's kernels assume they agree (it
    checks them only in debug builds): the batch of a convolution or pool, the broadcast
    output of ADD and MUL."""
    if not ins or not outs:
        return None
    x, y = ins[0], outs[0]
    if kind in _SPATIAL and len(x) == 4 and len(y) == 4 and x[0] != y[0]:
        return f"its input {list(x)} and output {list(y)} differ in batches"
    if kind in ("ADD", "MUL") and len(ins) == 2:
        expected = _broadcast(ins[0], ins[1])
        if expected is None or tuple(y) != expected:
            return (f"its output {list(y)} is not the broadcast of its inputs {list(ins[0])} "
                    f"and {list(ins[1])}")
    return None


def _broadcast(a: Sequence[int], b: Sequence[int]) -> tuple[int, ...] | None:
    """NumPy's (and TFLite's) broadcast of two shapes, or None if they do not broadcast."""
    rank = max(len(a), len(b))
    a = (1,) * (rank - len(a)) + tuple(a)
    b = (1,) * (rank - len(b)) + tuple(b)
    out = []
    for m, n in zip(a, b, strict=True):
        if m != n and 1 not in (m, n):
            return None
        out.append(n if m == 1 else m)
    return tuple(out)


# TFLM requantizes with a left shift of up to log2(multiplier) bits of an int32 (its
# MultiplyByQuantizedMultiplier): from 2^30 on, the shift is undefined behaviour in C.
MAX_MULTIPLIER = 2.0**30
_REQUANTIZED = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"})
_RESCALED = frozenset({"QUANTIZE", "RELU", "MEAN"})


def _multiplier_problem(kind: str, ins: Sequence[tuple[float, ...]],
                        outs: Sequence[tuple[float, ...]]) -> str | None:
    """A requantization multiplier (input scale x filter scale / output scale, as TFLM's
    Prepare computes it) too large for TFLM's integer arithmetic."""
    if not ins or not outs or len(outs[0]) != 1 or not ins[0]:
        return None
    x, y = ins[0][0], outs[0][0]
    if kind in _REQUANTIZED and len(ins) >= 2 and ins[1]:
        multiplier, what = x * max(ins[1]) / y, "input scale x filter scale / output scale"
    elif kind in _RESCALED:
        multiplier, what = x / y, "input scale / output scale"
    else:
        return None
    if multiplier >= MAX_MULTIPLIER:
        return (f"its requantization multiplier ({what}) is {multiplier:.4g}; TFLM's integer "
                "arithmetic needs it below 2^30")
    return None


_POOLS = frozenset({"AVERAGE_POOL_2D", "MAX_POOL_2D"})


def _float32(value: float) -> float:
    return float(struct.unpack("<f", struct.pack("<f", value))[0])


def _pool_quantization_problem(in_scales: tuple[float, ...], out_scales: tuple[float, ...],
                               in_zp: int | None, out_zp: int | None) -> str | None:
    """TFLM's pooling Prepare: a quantized pool keeps its input's scale (to 1e-6, the float32
    difference) and zero point."""
    if len(in_scales) != 1 or len(out_scales) != 1:
        return None
    diff = abs(_float32(in_scales[0] - out_scales[0]))
    if diff > 1.0e-6 or in_zp != out_zp:
        return (f"its input is quantized as (scale {in_scales[0]:.7g}, zero point {in_zp}) "
                f"and its output as ({out_scales[0]:.7g}, {out_zp}); a pool keeps its input's "
                "quantization")
    return None


def dataflow_problem(operators: Sequence[tuple[Sequence[int], Sequence[int]]],
                     names: Sequence[str], constant: Sequence[bool], variables: set[int],
                     inputs: Sequence[int], outputs: Sequence[int],
                     ) -> tuple[str, int, str] | None:
    """Operators (their input and output tensors) run in file order, as in TFLM: every tensor
    an operator reads is a constant, a variable, the model's input or an earlier operator's
    output; every tensor is written once, never over a constant; every model output is
    written. What is wrong, as ('operator' or 'tensor', its index, the problem)."""
    written = {i: "the model's input" for i in inputs}
    for index, (reads, writes) in enumerate(operators):
        for i in reads:
            if i >= 0 and i not in written and i not in variables and not constant[i]:
                return ("operator", index, f"it reads tensor {i} ({names[i]}), which neither "
                        "the model's input nor an earlier operator writes")
        for i in writes:
            if constant[i]:
                return ("tensor", i, f"it is operator {index}'s output but holds constant data")
            if i in written:
                return ("tensor", i, f"both {written[i]} and operator {index} write it")
            written[i] = f"operator {index}"
    for i in inputs:
        if constant[i]:
            return ("tensor", i, "it is the model's input but holds constant data")
    for i in outputs:
        if i not in written:
            return ("tensor", i, "it is the model's output, but no operator writes it")
    return None
