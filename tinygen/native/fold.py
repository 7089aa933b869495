"""Generation-time folding of shape arithmetic: ops whose outputs are known before inference.

Keras exports Flatten and Reshape on a dynamic batch as SHAPE, STRIDED_SLICE, PACK (sometimes
GATHER, CONCATENATION, REDUCE_PROD) computing the new shape at run time. Every tensor shape
is fixed when the code is generated, so SHAPE is a constant, and so is anything computed from
constants alone: those ops are evaluated here, their outputs become constant tensors and the
ops leave the graph (a RESHAPE then reads a constant shape, which it ignores).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np

from tinygen.model.dtypes import numpy_dtype
from tinygen.native.graph import Graph, Op, Tensor
from tinygen.native.slicing import gather_ranges, strided_slice_ranges

# Integer tensors only: shape arithmetic never needs float or quantized values, and folding
# those would have to reproduce TFLM's quantized arithmetic.
_FOLD_DTYPES = ("int32", "int64")
_SHAPE_OUT = {2: "int32", 4: "int64"}  # SHAPE's out_type (TensorType) -> dtype


def _axis(axis: int, rank: int) -> int:
    return axis + rank if axis < 0 else axis


def _strided_slice(op: Op, x: list[np.ndarray]) -> np.ndarray:
    o = op.options
    ranges = strided_slice_ranges(
        x[0].shape, x[1].reshape(-1).tolist(), x[2].reshape(-1).tolist(),
        x[3].reshape(-1).tolist(), int(o.get("beginMask", 0)), int(o.get("endMask", 0)),
        int(o.get("shrinkAxisMask", 0)))
    return gather_ranges(x[0], ranges)


def _slice(op: Op, x: list[np.ndarray]) -> np.ndarray:
    begin = x[1].reshape(-1).tolist()
    size = x[2].reshape(-1).tolist()
    index = tuple(slice(b, None if s < 0 else b + s) for b, s in zip(begin, size, strict=True))
    return x[0][index]


def _gather(op: Op, x: list[np.ndarray]) -> np.ndarray:
    axis = _axis(int(op.options.get("axis", 0)), x[0].ndim)
    return np.take(x[0], x[1].astype(np.int64), axis=axis)


def _pack(op: Op, x: list[np.ndarray]) -> np.ndarray:
    return np.stack(x, axis=_axis(int(op.options.get("axis", 0)), x[0].ndim + 1))


def _concatenation(op: Op, x: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(x, axis=_axis(int(op.options.get("axis", 0)), x[0].ndim))


def _reduce_prod(op: Op, x: list[np.ndarray]) -> np.ndarray:
    axes = tuple(sorted({_axis(int(a), x[0].ndim) for a in x[1].reshape(-1)}))
    keep = bool(op.options.get("keepDims", False))
    product: np.ndarray = np.prod(x[0], axis=axes, keepdims=keep)
    return product


_FOLDERS: dict[str, Callable[[Op, list[np.ndarray]], np.ndarray]] = {
    "STRIDED_SLICE": _strided_slice,
    "SLICE": _slice,
    "GATHER": _gather,
    "PACK": _pack,
    "CONCATENATION": _concatenation,
    "REDUCE_PROD": _reduce_prod,
    "RESHAPE": lambda op, x: x[0],
    "SQUEEZE": lambda op, x: x[0],
    "EXPAND_DIMS": lambda op, x: x[0],
    "CAST": lambda op, x: x[0],
}


def _value(graph: Graph, op: Op, tensors: list[Tensor]) -> np.ndarray | None:
    """The op's single output as a constant, or None when it cannot be known before
    inference (or is not shape arithmetic)."""
    if len(op.outputs) != 1 or op.outputs[0] in graph.outputs:
        return None
    out = tensors[op.outputs[0]]
    if out.dtype not in _FOLD_DTYPES:
        return None
    if op.kind == "SHAPE":
        # Shapes are fixed at generation time, a dynamic batch's included (the model's 1).
        return np.asarray(tensors[op.inputs[0]].shape)
    folder = _FOLDERS.get(op.kind)
    ins = [tensors[i] for i in op.inputs if i >= 0]
    if folder is None or not ins or not all(t.is_constant for t in ins):
        return None
    if any(t.dtype not in _FOLD_DTYPES for t in ins):
        return None
    return folder(op, [t.array() for t in ins])


def fold_shape_ops(graph: Graph) -> Graph:
    """The graph with its shape arithmetic evaluated: folded outputs are constants."""
    tensors = list(graph.tensors)
    kept: list[Op] = []
    for op in graph.ops:
        value = _value(graph, op, tensors)
        if value is None:
            kept.append(op)
            continue
        out = tensors[op.outputs[0]]
        data: np.ndarray = np.asarray(value).astype(numpy_dtype(out.dtype))
        if math.prod(out.shape) != data.size:
            kept.append(op)  # the model's shape disagrees: leave it for lowering to refuse
            continue
        tensors[out.index] = dataclasses.replace(out, data=data.tobytes())
    if len(kept) == len(graph.ops):
        return graph
    return dataclasses.replace(graph, tensors=tuple(tensors), ops=tuple(kept))
