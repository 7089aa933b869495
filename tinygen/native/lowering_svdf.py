"""Lowering of SVDF (int8 with int16 weights_time and state): TFLM's PrepareSvdf checks and
effective scales; the state is the op's scratch, reset before each inference as the TFLM port
resets variable tensors."""

from __future__ import annotations

import numpy as np

from tinygen.native import quant
from tinygen.native.calls import Arg, Call, Checker, ConstArray, fields_of, params_name
from tinygen.native.graph import Graph, Op


def svdf(graph: Graph, op: Op) -> Call:
    ck = Checker(graph, op)
    x = ck.tensor(0, rank=2)
    wf = ck.tensor(1, constant=True, rank=2)
    wt = ck.tensor(2, ("int16",), constant=True, rank=2)
    b_id = ck.optional(3)
    bias = ck.tensor(3, ("int32",), constant=True) if b_id is not None else None
    state = ck.tensor(4, ("int16",), rank=2)
    y = ck.tensor(-1, rank=2)
    rank = int(op.options.get("rank", 1))
    batches, inputs = x.shape
    filters, memory = wt.shape
    ck.require(rank > 0 and filters % rank == 0, "filters not a multiple of the rank")
    units = filters // rank
    ck.require(wf.shape == (filters, inputs), "weights_feature do not match the input")
    ck.require(tuple(y.shape) == (batches, units), "output shape differs from the units")
    ck.require(tuple(state.shape) == (batches, filters * memory), "state shape")
    ck.require(bias is None or bias.elements == units, "bias size differs from the units")
    f32 = np.float32
    if bias is not None:
        ck.require(abs(float(bias.scale) - float(f32(state.scale) * f32(wt.scale))) < 1e-5,
                   "bias scale differs from state scale x weights_time scale")
    scale1 = float(f32(x.scale) * f32(wf.scale) / f32(state.scale))
    scale2 = float(f32(state.scale) * f32(wt.scale) / f32(y.scale))
    (m1, s1), (m2, s2) = quant.quantize_multiplier(scale1), quant.quantize_multiplier(scale2)
    name = params_name(op)
    biases = (0,) * units if bias is None else tuple(int(v) for v in bias.array().reshape(-1))
    consts = (ConstArray(f"{name}_bias", "int32_t", biases),
              ConstArray(f"{name}_wf", "int8_t", tuple(wf.array().reshape(-1).tolist())),
              ConstArray(f"{name}_wt", "int16_t", tuple(wt.array().reshape(-1).tolist())))
    fields = fields_of(batches=batches, inputs=inputs, filters=filters, units=units, rank=rank,
                       memory=memory, in_zp=x.zero_point, state_zp=state.zero_point,
                       out_zp=y.zero_point, mult1=m1, shift1=s1, mult2=m2, shift2=s2,
                       state_reset=0, weights_feature=f"{name}_wf", weights_time=f"{name}_wt",
                       bias=f"{name}_bias")
    n_state = batches * filters * memory
    scratch = 4 * ((n_state + 1) // 2 + batches * filters + batches * units)
    return Call(op.index, op.kind, "tg_svdf_s8", "tg_svdf_t", fields,
                (Arg("tensor", "int8_t", (x.index,), const=True),
                 Arg("tensor", "int8_t", (y.index,)), Arg("scratch", "int32_t")),
                consts, scratch_bytes=scratch, source="tg_svdf.c")

