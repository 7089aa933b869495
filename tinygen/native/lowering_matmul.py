"""Lowering of BATCH_MATMUL: TFLM's Prepare (the multiplier from a float32 scale product, the
int8 range, no fused activation) and the strides that stand for its transposes."""

from __future__ import annotations

import math

from tinygen.native import quant
from tinygen.native.calls import Arg, Call, Checker, fields_of
from tinygen.native.graph import Graph, Op


def batch_matmul(graph: Graph, op: Op) -> Call:
    ck = Checker(graph, op)
    lhs = ck.tensor(0, constant=None)
    rhs = ck.tensor(1, constant=None)
    y = ck.tensor(-1)
    ck.require(2 <= len(lhs.shape) <= 5 and 2 <= len(rhs.shape) <= 5,
               "inputs of 2 to 5 dimensions")
    adj_x = bool(op.options.get("adjX", False))
    adj_y = bool(op.options.get("adjY", False))
    rows, depth = lhs.shape[-1:-3:-1] if adj_x else lhs.shape[-2:]
    r_depth, cols = rhs.shape[-1:-3:-1] if adj_y else rhs.shape[-2:]
    ck.require(depth == r_depth, f"inner dimensions differ ({depth} and {r_depth})")
    lhs_b = (1,) * (5 - len(lhs.shape)) + tuple(lhs.shape[:-2])
    rhs_b = (1,) * (5 - len(rhs.shape)) + tuple(rhs.shape[:-2])
    lhs_b, rhs_b = lhs_b[-3:], rhs_b[-3:]
    ck.require(all(a == b or 1 in (a, b) for a, b in zip(lhs_b, rhs_b, strict=True)),
               "batch dimensions do not broadcast")
    batch = tuple(max(a, b) for a, b in zip(lhs_b, rhs_b, strict=True))
    ck.require(math.prod(batch) * rows * cols == y.elements,
               "output size differs from the product's")

    def strides(dims: tuple[int, ...], matrix: int) -> tuple[int, ...]:
        found, step = [0, 0, 0], matrix
        for d in (2, 1, 0):
            found[d] = 0 if dims[d] == 1 else step
            step *= dims[d]
        return tuple(found)

    mult, shift = quant.fc_tensor_multiplier(lhs.scale, rhs.scale, y.scale)
    lhs_row, lhs_depth = (1, rows) if adj_x else (depth, 1)
    rhs_depth, rhs_col = (1, depth) if adj_y else (cols, 1)
    fields = fields_of(batch=batch, lhs_batch=strides(lhs_b, rows * depth),
                       rhs_batch=strides(rhs_b, depth * cols), rows=rows, depth=depth,
                       cols=cols, lhs_row=lhs_row, lhs_depth=lhs_depth, rhs_depth=rhs_depth,
                       rhs_col=rhs_col, lhs_zp=lhs.zero_point, rhs_zp=rhs.zero_point,
                       out_zp=y.zero_point, mult=mult, shift=shift)
    return Call(op.index, op.kind, "tg_batch_matmul_s8", "tg_matmul_t", fields,
                (Arg("tensor", "int8_t", (lhs.index,), const=True),
                 Arg("tensor", "int8_t", (rhs.index,), const=True),
                 Arg("tensor", "int8_t", (y.index,))), source="tg_batch_matmul.c")
