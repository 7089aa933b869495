"""Lowering of the operators that move data (RESHAPE, PAD, CONCATENATION) and of MEAN, SUM."""

from __future__ import annotations

import math

import numpy as np

from tinygen.native import quant
from tinygen.native.calls import CTYPES, Arg, Call, Checker, ConstArray, fields_of
from tinygen.native.graph import Graph, Op

_ANY = ("int8", "int16", "int32", "float32", "uint8")


def _reshape(graph: Graph, op: Op, ck: Checker) -> Call:
    x = ck.tensor(0, _ANY, constant=None)
    y = ck.tensor(-1, _ANY)
    ck.require(x.dtype == y.dtype and x.nbytes == y.nbytes, "input and output sizes differ")
    ctype = CTYPES[x.dtype]
    args = (Arg("tensor", ctype, (x.index,), const=True), Arg("tensor", ctype, (y.index,)))
    if x.is_constant:
        return Call(op.index, op.kind, "tg_copy", "", (), args, source="tg_shape.c",
                    trailing=(str(x.nbytes),))
    # Same bytes in the same order: the output is the input's memory (no code runs).
    return Call(op.index, op.kind, "", "", (), args, alias=x.index)


def _pad(graph: Graph, op: Op, ck: Checker) -> Call:
    x = ck.tensor(0, ("int8", "int32", "float32"), constant=None)
    y = ck.tensor(-1, ("int8", "int32", "float32"))
    paddings = ck.tensor(1, ("int32", "int64"), constant=True)
    rank = len(x.shape)
    ck.require(rank <= 5, "more than 5 dimensions")
    pads = paddings.array().reshape(-1, 2).astype(np.int64)
    ck.require(pads.shape[0] == rank and bool((pads >= 0).all()), "bad paddings")
    value = 0
    if x.dtype == "int8":
        value = y.zero_point
    if op.kind == "PADV2" and ck.optional(2) is not None:
        const = ck.tensor(2, (x.dtype,), constant=True)
        raw = const.array().reshape(-1)[:1]
        value = int(raw.view(np.int32)[0]) if x.dtype == "float32" else int(raw[0])
    lead = 5 - rank
    in_shape = (1,) * lead + tuple(x.shape)
    before = (0,) * lead + tuple(int(p) for p in pads[:, 0])
    out_shape = tuple(i + int(a) + int(b) for i, (a, b) in zip(x.shape, pads, strict=True))
    ck.require(out_shape == tuple(y.shape), "output shape differs from input + paddings")
    fields = fields_of(dims=5, in_shape=in_shape, out_shape=(1,) * lead + out_shape,
                       before=before, itemsize=x.itemsize, value=value)
    return Call(op.index, op.kind, "tg_pad", "tg_pad_t", fields,
                (Arg("tensor", "void", (x.index,), const=True),
                 Arg("tensor", "void", (y.index,))), source="tg_shape.c")


def _concatenation(graph: Graph, op: Op, ck: Checker) -> Call:
    y = ck.tensor(-1, _ANY)
    rank = len(y.shape)
    axis = int(op.options.get("axis", 0))
    axis = axis + rank if axis < 0 else axis
    ck.require(0 <= axis < rank, f"axis {axis} out of range")
    ck.require(int(op.options.get("fusedActivationFunction", 0) or 0) == 0,
               "a fused activation on CONCATENATION")
    inputs = [ck.tensor(i, (y.dtype,), constant=None) for i in range(len(op.inputs))]
    rows = []
    for t in inputs:
        ck.require(len(t.shape) == rank, "inputs of different ranks")
        if y.dtype == "int8":
            ck.require(np.float32(t.scale) == np.float32(y.scale)
                       and t.zero_point == y.zero_point,
                       "int8 inputs quantized differently from the output (TFLM refuses "
                       "rescaling)")
        rows.append(math.prod(t.shape[axis:]) * t.itemsize)
    outer = math.prod(y.shape[:axis])
    ck.require(sum(rows) * outer == y.nbytes, "input sizes do not add up to the output")
    name = f"tg_op{op.index}_rows"
    fields = fields_of(outer=outer, inputs=len(inputs), out_row=sum(rows), in_row=name)
    return Call(op.index, op.kind, "tg_concat", "tg_concat_t", fields,
                (Arg("tensors", "void", tuple(t.index for t in inputs), const=True),
                 Arg("tensor", "void", (y.index,))),
                (ConstArray(name, "int32_t", tuple(rows)),), source="tg_shape.c")


def _mean(graph: Graph, op: Op, ck: Checker) -> Call:
    x = ck.tensor(0)
    y = ck.tensor(-1)
    axis_t = ck.tensor(1, ("int32",), constant=True)
    rank = len(x.shape)
    ck.require(1 <= rank <= 6, "more than 6 dimensions")
    axes = sorted({int(a) + rank if int(a) < 0 else int(a) for a in axis_t.array().reshape(-1)})
    ck.require(all(0 <= a < rank for a in axes), "axis out of range")
    count = math.prod(x.shape[a] for a in axes)
    ck.require(y.elements * count == x.elements, "output size does not match the axes")
    strides = [0] * rank
    step = 1
    for d in range(rank - 1, -1, -1):
        if d not in axes:
            strides[d] = step
            step *= x.shape[d]
    if op.kind == "SUM":
        # The same reduction without the 1/count folded in (compute_sum in reduce.h).
        mult, shift = quant.quantize_multiplier(float(x.scale) / float(y.scale))
    else:
        mult, shift = quant.mean_multiplier(x.scale, y.scale, count)
    fields = fields_of(in_dims=rank, out_size=y.elements, count=count,
                       in_shape=tuple(x.shape) + (1,) * (6 - rank),
                       out_strides=tuple(strides) + (0,) * (6 - rank),
                       in_zp=x.zero_point, out_zp=y.zero_point, mult=mult, shift=shift)
    return Call(op.index, op.kind, "tg_mean_s8", "tg_mean_t", fields,
                (Arg("tensor", "int8_t", (x.index,), const=True),
                 Arg("tensor", "int8_t", (y.index,)), Arg("scratch", "int32_t")),
                scratch_bytes=4 * y.elements, source="tg_shape.c")


def lower_data_op(graph: Graph, op: Op, ck: Checker) -> Call:
    if op.kind in ("RESHAPE", "SQUEEZE", "EXPAND_DIMS"):
        return _reshape(graph, op, ck)
    if op.kind in ("PAD", "PADV2"):
        return _pad(graph, op, ck)
    if op.kind == "CONCATENATION":
        return _concatenation(graph, op, ck)
    return _mean(graph, op, ck)
