"""Lowering of the operators that only move elements: STRIDED_SLICE, SLICE, TRANSPOSE, SPLIT,
SPLIT_V, UNPACK, PACK, RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR.

The indices are computed as TFLM computes them (tinygen.native.slicing for STRIDED_SLICE,
GetNearestNeighbor's float32 arithmetic for the resize), and TFLM's Prepare checks are made.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from tinygen.native.calls import Arg, Call, Checker, ConstArray, fields_of, params_name
from tinygen.native.graph import Graph, Op, Tensor
from tinygen.native.quant import trunc_div
from tinygen.native.slicing import AxisRange, element_strides, strided_slice_ranges

# Element types the moving kernels copy (int8 values keep their bytes, as in TFLM).
MOVE_DTYPES = ("int8", "int16", "int32", "float32")
_DIMS = 6


def _ints(t: Tensor) -> list[int]:
    return [int(v) for v in t.array().reshape(-1)]


def _strided_call(op: Op, x: Tensor, y: Tensor, ranges: Sequence[AxisRange],
                 in_strides: Sequence[int]) -> Call:
    """tg_strided_copy reading ``ranges`` (start, stride, count per axis) of ``x``'s elements."""
    pad = _DIMS - len(ranges)
    counts = (1,) * pad + tuple(r.count for r in ranges)
    steps = (0,) * pad + tuple(r.stride * s for r, s in zip(ranges, in_strides, strict=True))
    base = sum(r.start * s for r, s in zip(ranges, in_strides, strict=True))
    fields = fields_of(count=counts, step=steps, base=base, itemsize=x.itemsize)
    return Call(op.index, op.kind, "tg_strided_copy", "tg_strided_t", fields,
                (Arg("tensor", "void", (x.index,), const=True),
                 Arg("tensor", "void", (y.index,))), source="tg_move.c")


def _strided_slice(graph: Graph, op: Op, ck: Checker) -> Call:
    x = ck.tensor(0, MOVE_DTYPES)
    y = ck.tensor(-1, (x.dtype,))
    begin, end, strides = (ck.tensor(i, ("int32",), constant=True) for i in (1, 2, 3))
    rank = len(x.shape)
    ck.require(rank <= 4, "input dim should not exceed 4 (TFLM's limit)")
    o = op.options
    ck.require(not int(o.get("ellipsisMask", 0)) and not int(o.get("newAxisMask", 0)),
               "ellipsis and new-axis masks (TFLM ignores them)")
    steps = _ints(strides)
    ck.require(all(s != 0 for s in steps), "stride value has to be non-zero")
    ck.require(len(_ints(begin)) == rank == len(_ints(end)) == len(steps),
               "begin, end and strides do not match the input's rank")
    ranges = strided_slice_ranges(x.shape, _ints(begin), _ints(end), steps,
                                  int(o.get("beginMask", 0)), int(o.get("endMask", 0)),
                                  int(o.get("shrinkAxisMask", 0)))
    # TFLM's CheckOutputSize: the non-shrunk axes' sizes are the output's shape.
    shrink = int(o.get("shrinkAxisMask", 0)) << (5 - rank)
    expected = [r.count for a, r in enumerate(ranges) if a >= 5 - rank and not shrink & 1 << a]
    ck.require(expected == list(y.shape), f"output {list(y.shape)} differs from the "
               f"computed {expected}")
    return _strided_call(op, x, y, ranges, element_strides((1,) * (5 - rank) + x.shape))


def _slice(graph: Graph, op: Op, ck: Checker) -> Call:
    x = ck.tensor(0, MOVE_DTYPES)
    y = ck.tensor(-1, (x.dtype,))
    begin = _ints(ck.tensor(1, ("int32", "int64"), constant=True))
    size = _ints(ck.tensor(2, ("int32", "int64"), constant=True))
    rank = len(x.shape)
    ck.require(rank <= 5 and len(begin) == rank == len(size),
               "begin and size do not match the input's rank (at most 5)")
    stops = [x.shape[d] if size[d] == -1 else begin[d] + size[d] for d in range(rank)]
    ck.require(all(0 <= b <= s <= n for b, s, n in zip(begin, stops, x.shape, strict=True)),
               "the slice leaves the input")
    ck.require([s - b for b, s in zip(begin, stops, strict=True)] == list(y.shape),
               "output shape differs from the slice's size")
    ranges = [AxisRange(b, s, 1) for b, s in zip(begin, stops, strict=True)]
    return _strided_call(op, x, y, ranges, element_strides(x.shape))


def _transpose(graph: Graph, op: Op, ck: Checker) -> Call:
    x = ck.tensor(0, MOVE_DTYPES)
    y = ck.tensor(-1, (x.dtype,))
    perm = _ints(ck.tensor(1, ("int32",), constant=True))
    rank = len(x.shape)
    ck.require(rank <= 5, "more than 5 dimensions (TFLM's limit)")
    ck.require(sorted(perm) == list(range(rank)), f"perm {perm} is not a permutation")
    ck.require([x.shape[p] for p in perm] == list(y.shape),
               "output shape differs from the permuted input")
    strides = element_strides(x.shape)
    ranges = [AxisRange(0, x.shape[p], 1) for p in perm]
    return _strided_call(op, x, y, ranges, [strides[p] for p in perm])


def _split(graph: Graph, op: Op, ck: Checker) -> Call:
    """SPLIT (axis, input), SPLIT_V (input, sizes, axis), UNPACK (input; axis an option)."""
    if op.kind == "SPLIT":
        x = ck.tensor(1, MOVE_DTYPES)
        axis = _ints(ck.tensor(0, ("int32",), constant=True))[0]
    elif op.kind == "SPLIT_V":
        x = ck.tensor(0, MOVE_DTYPES)
        axis = _ints(ck.tensor(2, ("int32",), constant=True))[0]
    else:
        x = ck.tensor(0, MOVE_DTYPES)
        axis = int(op.options.get("axis", 0))
    rank = len(x.shape)
    axis = axis + rank if axis < 0 else axis
    ck.require(0 <= axis < rank, f"axis {axis} out of range")
    outs = [ck.tensor(-1 - i, (x.dtype,)) for i in range(len(op.outputs))]
    sizes = [1 if op.kind == "UNPACK" else t.shape[axis] if len(t.shape) == rank else -1
             for t in outs]
    ck.require(sum(sizes) == x.shape[axis] and all(s >= 0 for s in sizes),
               "the outputs do not add up to the input along the axis")
    inner = math.prod(x.shape[axis + 1:]) * x.itemsize
    rows = [s * inner for s in sizes]
    ck.require(all(r * math.prod(x.shape[:axis]) == t.nbytes
                   for r, t in zip(rows, outs, strict=True)), "output sizes differ")
    name = f"{params_name(op)}_rows"
    fields = fields_of(outer=math.prod(x.shape[:axis]), outputs=len(outs), out_row=name)
    return Call(op.index, op.kind, "tg_split", "tg_split_t", fields,
                (Arg("tensor", "void", (x.index,), const=True),
                 Arg("outputs", "void", tuple(t.index for t in outs))),
                (ConstArray(name, "int32_t", tuple(rows)),), source="tg_move.c")


def _pack(graph: Graph, op: Op, ck: Checker) -> Call:
    """PACK: CONCATENATION along a new axis."""
    y = ck.tensor(-1, MOVE_DTYPES)
    rank = len(y.shape)
    axis = int(op.options.get("axis", 0))
    axis = axis + rank if axis < 0 else axis
    ck.require(0 <= axis < rank, f"axis {axis} out of range")
    inputs = [ck.tensor(i, (y.dtype,), constant=None) for i in range(len(op.inputs))]
    ck.require(len(inputs) == y.shape[axis]
               and all(tuple(t.shape) == y.shape[:axis] + y.shape[axis + 1:] for t in inputs),
               "input shapes do not match the output")
    row = math.prod(y.shape[axis + 1:]) * y.itemsize
    name = f"{params_name(op)}_rows"
    fields = fields_of(outer=math.prod(y.shape[:axis]), inputs=len(inputs),
                       out_row=row * len(inputs), in_row=name)
    return Call(op.index, op.kind, "tg_concat", "tg_concat_t", fields,
                (Arg("tensors", "void", tuple(t.index for t in inputs), const=True),
                 Arg("tensor", "void", (y.index,))),
                (ConstArray(name, "int32_t", (row,) * len(inputs)),), source="tg_shape.c")


def nearest_indices(in_size: int, out_size: int, align_corners: bool,
                    half_pixel: bool) -> tuple[int, ...]:
    """TFLM's GetNearestNeighbor for every output index, in its float32 arithmetic."""
    f32 = np.float32
    if align_corners and out_size > 1:
        scale = f32(in_size - 1) / f32(out_size - 1)
    else:
        scale = f32(in_size) / f32(out_size)
    offset = f32(0.5) if half_pixel else f32(0.0)
    found = []
    for i in range(out_size):
        v = (f32(i) + offset) * scale
        # TfLiteRound rounds half away from zero; floor otherwise.
        n = int(np.sign(v) * np.floor(abs(v) + f32(0.5))) if align_corners else int(np.floor(v))
        n = min(n, in_size - 1)
        found.append(max(0, n) if half_pixel else n)
    return tuple(found)


def _resize(op: Op, ck: Checker, dtypes: tuple[str, ...],
            indices: Callable[[int, int, bool, bool], tuple[int, ...]],
            function: str, ctype: str) -> Call:
    """RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR: the output size from the constant input,
    the source rows and columns (and weights) per output index computed here."""
    x = ck.tensor(0, dtypes, rank=4)
    y = ck.tensor(-1, (x.dtype,), rank=4)
    size = _ints(ck.tensor(1, ("int32",), constant=True))
    ck.require(len(size) == 2, "size must hold 2 values")
    batches, in_h, in_w, depth = x.shape
    ck.require(tuple(y.shape) == (batches, size[0], size[1], depth),
               "output shape differs from the size")
    align = bool(op.options.get("alignCorners", False))
    half = bool(op.options.get("halfPixelCenters", False))
    name = params_name(op)
    consts = (ConstArray(f"{name}_ys", "int32_t", indices(in_h, size[0], align, half)),
              ConstArray(f"{name}_xs", "int32_t", indices(in_w, size[1], align, half)))
    fields = fields_of(batches=batches, in_h=in_h, in_w=in_w, depth=depth, out_h=size[0],
                       out_w=size[1], itemsize=x.itemsize, ys=f"{name}_ys", xs=f"{name}_xs")
    return Call(op.index, op.kind, function, "tg_resize_t", fields,
                (Arg("tensor", ctype, (x.index,), const=True),
                 Arg("tensor", ctype, (y.index,))), consts, source="tg_move.c")


def _resize_nearest(graph: Graph, op: Op, ck: Checker) -> Call:
    return _resize(op, ck, ("int8", "int16"), nearest_indices, "tg_resize_nearest", "void")


def bilinear_indices(in_size: int, out_size: int, align_corners: bool,
                     half_pixel: bool) -> tuple[int, ...]:
    """(first index, second index, 10-bit weight of the second) per output index, as TFLM's
    ResizeBilinearInteger and ComputeInterpolationValuesInteger compute them."""
    scale = (1024 * in_size + out_size // 2) // out_size
    if align_corners and out_size > 1:
        scale = (1024 * (in_size - 1) + (out_size - 1) // 2) // (out_size - 1)
    found: list[int] = []
    for i in range(out_size):
        scaled = i * scale + scale // 2 - 512 if half_pixel else i * scale
        lower = max(trunc_div(scaled, 1024), 0)
        upper = min(trunc_div(scaled + 1023, 1024), in_size - 1)
        found += (lower, upper, scaled - 1024 * lower)
    return tuple(found)


def _resize_bilinear(graph: Graph, op: Op, ck: Checker) -> Call:
    align = bool(op.options.get("alignCorners", False))
    half = bool(op.options.get("halfPixelCenters", False))
    ck.require(not (align and half), "If half_pixel_centers is True, align_corners must be False.")
    return _resize(op, ck, ("int8",), bilinear_indices, "tg_resize_bilinear_s8", "int8_t")


MOVE_LOWERINGS: dict[str, Callable[[Graph, Op, Checker], Call]] = {
    "STRIDED_SLICE": _strided_slice,
    "SLICE": _slice,
    "TRANSPOSE": _transpose,
    "SPLIT": _split,
    "SPLIT_V": _split,
    "UNPACK": _split,
    "PACK": _pack,
    "RESIZE_NEAREST_NEIGHBOR": _resize_nearest,
    "RESIZE_BILINEAR": _resize_bilinear,
}
