"""Lowering: each operator of the graph becomes one kernel call with its parameters computed.

The parameters are computed as TFLM's Prepare computes them (tinygen.native.quant), and the
checks TFLM makes in Prepare are made here, so that a model TFLM would refuse is refused at
generation time, with the operator named, rather than giving different numbers.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tinygen.native import add_forms, lut, quant
from tinygen.native.calls import (
    CTYPES,
    Arg,
    Call,
    Checker,
    ConstArray,
    UnsupportedOpError,
    c_float,
    fields_of,
    int32_wrap,
    params_name,
)
from tinygen.native.conv_lag import ConvShape, overwrite_lag
from tinygen.native.graph import Graph, Op, Tensor
from tinygen.native.lowering_data import lower_data_op
from tinygen.native.lowering_depthwise import depthwise_m1_stream
from tinygen.native.lowering_lstm import lstm
from tinygen.native.lowering_matmul import batch_matmul
from tinygen.native.lowering_move import MOVE_LOWERINGS
from tinygen.native.lowering_svdf import svdf
from tinygen.native.weight_layout import interleave_rows, padded_depth

PADDING_SAME = 0
PADDING_VALID = 1


def out_size_and_padding(padding: int, stride: int, dilation: int, in_size: int,
                         k: int) -> tuple[int, int]:
    """TFLM's ComputeOutSize and ComputePaddingWithOffset (the leading padding)."""
    effective = (k - 1) * dilation + 1
    if padding == PADDING_SAME:
        out = (in_size + stride - 1) // stride
    else:
        out = (in_size + stride - effective) // stride
    total = max((out - 1) * stride + effective - in_size, 0)
    return out, total // 2


def _folded_bias(bias: Tensor | None, weight_sums: np.ndarray, input_zp: int) -> tuple[int, ...]:
    base = np.zeros(len(weight_sums), dtype=np.int64) if bias is None else (
        bias.array().astype(np.int64).reshape(-1))
    return int32_wrap(base - int(input_zp) * weight_sums.astype(np.int64))


def fast_requant(weights: np.ndarray, bias: tuple[int, ...], multipliers: list[tuple[int, int]],
                 output: tuple[int, int, int],
                 ) -> tuple[bool, tuple[int, ...], list[tuple[int, int]]]:
    """Whether the op may use tg_requant_fast (tg_arith.h), with the biases and multipliers to
    use then.

    The fast form needs every shift to be a right shift of 1 to 31 bits and every accumulator
    (folded bias + int8 inputs times the channel's weights, ``weights`` is [channels, taps])
    below 2^29 in magnitude; channels whose outputs do not depend on the input get equivalent
    parameters that fit (quant.tame_channel). ``output`` is (zero point, act_min, act_max).
    """
    reach = 128 * np.abs(weights.astype(np.int64)).sum(axis=1)
    tamed = [quant.tame_channel(b, int(r), m, s, *output)
             for b, r, (m, s) in zip(bias, reach, multipliers, strict=True)]
    ok = all(abs(b) + int(r) < quant.FAST_BOUND and -31 <= s <= -1
             for (b, _, s), r in zip(tamed, reach, strict=True))
    if not ok:
        return False, bias, multipliers
    return True, tuple(b for b, _, _ in tamed), [(m, s) for _, m, s in tamed]


def packed_requant(bias: tuple[int, ...], multipliers: list[tuple[int, int]],
                   zero_point: int) -> list[tuple[int, int, int, int]] | None:
    """The fast form's parameters per output channel for tg_conv.c: (bias, multiplier, right
    shift, 2^(right - 1) + zero_point * 2^right), the rounding term with the output zero point
    folded in (adding zero_point * 2^right before the arithmetic shift adds exactly
    zero_point after it). None when a term could overflow: the sum with the rounded high
    product (below 2^29 in magnitude, as the accumulator) must stay inside int32."""
    channels: list[tuple[int, int, int, int]] = []
    for b, (m, s) in zip(bias, multipliers, strict=True):
        right = -s
        term = (1 << (right - 1)) + zero_point * (1 << right)
        if abs(term) >= 2**30:
            return None
        channels.append((b, m, right, term))
    return channels


def conv_stream(rows: np.ndarray, channels: list[tuple[int, int, int, int]]) -> tuple[int, ...]:
    """One stream of int32 words for tg_conv.c's packed fast form, a block per pair of output
    channels: both biases, the two filter rows interleaved by groups of four bytes (as words,
    little-endian), then each channel's multiplier, right shift and rounding term; a last odd
    channel as its bias, its row, its three parameters. One pointer walks it: a pair's
    accumulators start from one LDRD, the weights follow, the parameters after them."""
    words: list[int] = []

    def row_words(block: np.ndarray) -> list[int]:
        return [int(v) for v in block.astype(np.int8).view("<i4")]

    out_c = rows.shape[0]
    for k in range(0, out_c - 1, 2):
        (b0, *rq0), (b1, *rq1) = channels[k], channels[k + 1]
        words += (b0, b1, *row_words(interleave_rows(rows[k:k + 2], 2)), *rq0, *rq1)
    if out_c % 2:
        b, *rq = channels[-1]
        words += (b, *row_words(interleave_rows(rows[-1:], 2)), *rq)
    return tuple(words)


def _channel_consts(op: Op, multipliers: list[tuple[int, int]]) -> tuple[ConstArray, ...]:
    name = params_name(op)
    return (ConstArray(f"{name}_mult", "int32_t", tuple(m for m, _ in multipliers)),
            ConstArray(f"{name}_shift", "int32_t", tuple(s for _, s in multipliers)))


def _conv(graph: Graph, op: Op) -> Call:
    ck = Checker(graph, op)
    depthwise = op.kind == "DEPTHWISE_CONV_2D"
    x = ck.tensor(0, rank=4)
    w = ck.tensor(1, constant=True, rank=4)
    y = ck.tensor(-1, rank=4)
    b_id = ck.optional(2)
    bias = ck.tensor(2, ("int32",), constant=True) if b_id is not None else None
    batches, in_h, in_w, in_c = x.shape
    _, out_h, out_w, out_c = y.shape
    o = op.options
    if depthwise:
        _, k_h, k_w, w_c = w.shape
        ck.require(w_c == out_c and out_c % in_c == 0,
                   f"filter {list(w.shape)} does not match input {in_c} / output {out_c}")
    else:
        w_o, k_h, k_w, w_c = w.shape
        ck.require(w_o == out_c, f"filter {list(w.shape)} does not match output {out_c}")
        ck.require(w_c == in_c, "grouped convolution is not supported")
    # Filters as [out_c, taps] (taps in k_h, k_w, in_c order). A depthwise convolution of one
    # input channel is a convolution (output channel m reads input channel 0 at every tap),
    # which the convolution kernel runs as a matrix product without the depthwise kernel's
    # per-channel loop: the same integer sums, so TFLM's outputs.
    rows = w.array().reshape(-1, out_c).T if depthwise else w.array().reshape(out_c, -1)
    as_conv = not depthwise or (in_c == 1 and out_c >= 4)
    # One channel into one: a plain 2-D correlation, with its own kernel (no scratch).
    single = depthwise and in_c == 1 and out_c == 1
    sums = rows.astype(np.int64).sum(axis=1)
    if as_conv:
        # Three columns sign-extended to int16, and one gathered column (1x1 filters read
        # the input in place).
        depth = padded_depth(k_h * k_w * in_c)
        scratch = 6 * depth if k_h == 1 and k_w == 1 else 7 * depth
    elif single:
        scratch = 0
    else:
        # The zero-point pixel, a row pointer table (8-byte aligned) and a tap offset table.
        scratch = in_c + 7 + (8 + 4) * k_h * k_w
    ck.require(len(w.scales) in (1, out_c), "filter scales do not match the output channels")
    ck.require(bias is None or bias.elements == out_c, "bias size does not match the output")
    stride_h, stride_w = int(o["strideH"]), int(o["strideW"])
    dil_h, dil_w = int(o.get("dilationHFactor") or 1), int(o.get("dilationWFactor") or 1)
    exp_h, pad_h = out_size_and_padding(o["padding"], stride_h, dil_h, in_h, k_h)
    exp_w, pad_w = out_size_and_padding(o["padding"], stride_w, dil_w, in_w, k_w)
    ck.require((exp_h, exp_w) == (out_h, out_w),
               f"output {out_h}x{out_w} differs from the computed {exp_h}x{exp_w}")
    act_min, act_max = ck.activation(y)
    multipliers = quant.conv_channel_multipliers(x.scale, w.scales, y.scale, out_c)
    name = params_name(op)
    fast, folded, multipliers = fast_requant(
        rows, _folded_bias(bias, sums, x.zero_point), multipliers,
        (y.zero_point, act_min, act_max))
    args = (Arg("tensor", "int8_t", (x.index,), const=True), Arg("tensor", "int8_t", (y.index,)))
    geometry: dict[str, int] = dict(
        batches=batches, in_h=in_h, in_w=in_w, in_c=in_c, out_h=out_h, out_w=out_w,
        out_c=out_c, k_h=k_h, k_w=k_w, stride_h=stride_h, stride_w=stride_w, dil_h=dil_h,
        dil_w=dil_w, pad_h=pad_h, pad_w=pad_w, in_zp=x.zero_point, out_zp=y.zero_point,
        act_min=act_min, act_max=act_max)
    if depthwise and out_c == in_c >= 4:
        # Multiplier 1 on four channels or more: filter, biases and multipliers in one stream
        # of words, four channels at a time (tinygen.native.lowering_depthwise).
        fast, stream = depthwise_m1_stream(rows, folded, multipliers, fast, y.zero_point)
        fields = fields_of(**geometry, fast_requant=fast)
        return Call(op.index, op.kind, "tg_depthwise_m1_s8", "tg_conv_t", fields,
                    (*args, Arg("scratch", "int8_t")),
                    (ConstArray(f"{name}_stream", "int32_t", stream),), scratch_bytes=scratch,
                    source="tg_depthwise_m1.c", trailing=(f"{name}_stream",))
    # The packed fast form: weights, biases and parameters in one stream (tg_conv.c).
    packed = packed_requant(folded, multipliers, y.zero_point) if fast and as_conv else None
    if packed is None:
        # Depthwise filters are read as stored ([k_h][k_w][out_c]); convolution filters by
        # pairs of output channels, interleaved (tinygen.native.weight_layout).
        weights = interleave_rows(rows, 2) if as_conv else w.array().reshape(-1)
        consts: tuple[ConstArray, ...] = (
            ConstArray(f"{name}_weights", "int8_t", tuple(weights.tolist())),
            ConstArray(f"{name}_bias", "int32_t", folded), *_channel_consts(op, multipliers))
        arrays = {"weights": f"{name}_weights", "bias": f"{name}_bias",
                  "mult": f"{name}_mult", "shift": f"{name}_shift", "rq": "NULL"}
    else:
        consts = (ConstArray(f"{name}_rq", "int32_t", conv_stream(rows, packed)),)
        arrays = {"weights": "NULL", "bias": "NULL", "mult": "NULL", "shift": "NULL",
                  "rq": f"{name}_rq"}
    fields = fields_of(**geometry, fast_requant=fast, **arrays)
    function = ("tg_conv_s8" if as_conv else "tg_depthwise_c1_s8" if single
                else "tg_depthwise_s8")
    # tg_conv_s8's raster order lets some outputs run over their dying input, a few rows back.
    lag = overwrite_lag(ConvShape(batches, in_h, in_w, in_c, out_h, out_w, out_c, k_h, stride_h,
                                  stride_w, dil_h, dil_w, pad_h)) if not depthwise else 0
    return Call(op.index, op.kind, function, "tg_conv_t", fields,
                args if single else (*args, Arg("scratch", "int8_t")),
                consts, scratch_bytes=scratch, lag=lag,
                source=("tg_conv.c" if as_conv else "tg_depthwise_c1.c" if single
                        else "tg_depthwise.c"))


def _transpose_conv(graph: Graph, op: Op) -> Call:
    """TRANSPOSE_CONV (output_shape, filter, input, bias): TFLM's Prepare (padding from the
    output size, per-channel multipliers as for CONV_2D) and its reference scatter."""
    ck = Checker(graph, op)
    ck.tensor(0, ("int32",), constant=True)
    w = ck.tensor(1, constant=True, rank=4)
    x = ck.tensor(2, rank=4)
    y = ck.tensor(-1, rank=4)
    b_id = ck.optional(3)
    bias = ck.tensor(3, ("int32",), constant=True) if b_id is not None else None
    batches, in_h, in_w, in_c = x.shape
    _, out_h, out_w, out_c = y.shape
    w_o, k_h, k_w, w_c = w.shape
    ck.require(w_o == out_c and w_c == in_c,
               f"filter {list(w.shape)} does not match input {in_c} / output {out_c}")
    ck.require(len(w.scales) in (1, out_c), "filter scales do not match the output channels")
    ck.require(bias is None or bias.elements == out_c, "bias size does not match the output")
    o = op.options
    stride_h, stride_w = int(o["strideH"]), int(o["strideW"])
    _, pad_h = out_size_and_padding(o["padding"], stride_h, 1, out_h, k_h)
    _, pad_w = out_size_and_padding(o["padding"], stride_w, 1, out_w, k_w)
    act_min, act_max = ck.activation(y)
    multipliers = quant.conv_channel_multipliers(x.scale, w.scales, y.scale, out_c)
    name = params_name(op)
    biases = (0,) * out_c if bias is None else tuple(int(v) for v in bias.array().reshape(-1))
    consts = (ConstArray(f"{name}_weights", "int8_t", tuple(w.array().reshape(-1).tolist())),
              ConstArray(f"{name}_bias", "int32_t", biases), *_channel_consts(op, multipliers))
    fields = fields_of(
        batches=batches, in_h=in_h, in_w=in_w, in_c=in_c, out_h=out_h, out_w=out_w,
        out_c=out_c, k_h=k_h, k_w=k_w, stride_h=stride_h, stride_w=stride_w, dil_h=1,
        dil_w=1, pad_h=pad_h, pad_w=pad_w, in_zp=x.zero_point, out_zp=y.zero_point,
        act_min=act_min, act_max=act_max, weights=f"{name}_weights", bias=f"{name}_bias",
        mult=f"{name}_mult", shift=f"{name}_shift", fast_requant=False)
    return Call(op.index, op.kind, "tg_transpose_conv_s8", "tg_conv_t", fields,
                (Arg("tensor", "int8_t", (x.index,), const=True),
                 Arg("tensor", "int8_t", (y.index,)), Arg("scratch", "int32_t")),
                consts, scratch_bytes=4 * y.elements, source="tg_transpose_conv.c")


def _fully_connected(graph: Graph, op: Op) -> Call:
    ck = Checker(graph, op)
    x = ck.tensor(0)
    w = ck.tensor(1, constant=True, rank=2)
    y = ck.tensor(-1)
    b_id = ck.optional(2)
    bias = ck.tensor(2, ("int32",), constant=True) if b_id is not None else None
    units, depth = w.shape
    ck.require(bool(y.shape) and y.shape[-1] == units, "output does not match the weights")
    batches = y.elements // units
    ck.require(x.elements == batches * depth, "input size does not match the weights")
    ck.require(all(z == 0 for z in w.zero_points), "weights with a zero point other than 0")
    per_channel = len(w.scales) > 1
    ck.require(len(w.scales) in (1, units), "weight scales do not match the units")
    if per_channel:
        multipliers = quant.conv_channel_multipliers(x.scale, w.scales, y.scale, units)
    else:
        multipliers = [quant.fc_tensor_multiplier(x.scale, w.scale, y.scale)]
    act_min, act_max = ck.activation(y)
    sums = w.array().astype(np.int64).sum(axis=1)
    name = params_name(op)
    fast, folded, tamed = fast_requant(
        w.array(), _folded_bias(bias, sums, x.zero_point),
        multipliers if per_channel else multipliers * units, (y.zero_point, act_min, act_max))
    if per_channel or len(set(tamed)) == 1:
        multipliers = tamed if per_channel else tamed[:1]
    else:
        # A per-tensor layer whose channels now differ: give each its own.
        multipliers, per_channel = tamed, True
    consts = (
        ConstArray(f"{name}_weights", "int8_t", tuple(interleave_rows(w.array(), 4).tolist())),
        ConstArray(f"{name}_bias", "int32_t", folded),
        *_channel_consts(op, multipliers),
    )
    fields = fields_of(
        batches=batches, depth=depth, units=units, out_zp=y.zero_point, act_min=act_min,
        act_max=act_max, per_channel=per_channel, weights=f"{name}_weights",
        bias=f"{name}_bias", mult=f"{name}_mult", shift=f"{name}_shift", fast_requant=fast)
    return Call(op.index, op.kind, "tg_fully_connected_s8", "tg_fc_t", fields,
                (Arg("tensor", "int8_t", (x.index,), const=True),
                 Arg("tensor", "int8_t", (y.index,))),
                consts, source="tg_fully_connected.c")


def _pool(graph: Graph, op: Op) -> Call:
    ck = Checker(graph, op)
    x = ck.tensor(0, rank=4)
    y = ck.tensor(-1, rank=4)
    batches, in_h, in_w, channels = x.shape
    _, out_h, out_w, out_c = y.shape
    ck.require(out_c == channels, "output channels differ from the input's")
    o = op.options
    k_h, k_w = int(o["filterHeight"]), int(o["filterWidth"])
    stride_h, stride_w = int(o["strideH"]), int(o["strideW"])
    exp_h, pad_h = out_size_and_padding(o["padding"], stride_h, 1, in_h, k_h)
    exp_w, pad_w = out_size_and_padding(o["padding"], stride_w, 1, in_w, k_w)
    ck.require((exp_h, exp_w) == (out_h, out_w),
               f"output {out_h}x{out_w} differs from the computed {exp_h}x{exp_w}")
    act_min, act_max = ck.activation(y)
    fields = fields_of(
        batches=batches, in_h=in_h, in_w=in_w, channels=channels, out_h=out_h, out_w=out_w,
        k_h=k_h, k_w=k_w, stride_h=stride_h, stride_w=stride_w, pad_h=pad_h, pad_w=pad_w,
        act_min=act_min, act_max=act_max)
    function = "tg_avg_pool_s8" if op.kind == "AVERAGE_POOL_2D" else "tg_max_pool_s8"
    return Call(op.index, op.kind, function, "tg_pool_t", fields,
                (Arg("tensor", "int8_t", (x.index,), const=True),
                 Arg("tensor", "int8_t", (y.index,))), source="tg_pool.c")


def broadcast_fields(a: Tensor, b: Tensor, y: Tensor) -> dict[str, int | tuple[int, ...]]:
    """size/broadcast/out_shape/strides1/strides2 of tg_binary_t (6 dims, leading 1s)."""
    if a.shape == b.shape:
        zeros = (0,) * 6
        return {"size": y.elements, "broadcast": 0, "out_shape": (1,) * 6,
                "strides1": zeros, "strides2": zeros}
    out = (1,) * (6 - len(y.shape)) + tuple(y.shape)

    def strides(t: Tensor) -> tuple[int, ...]:
        shape = (1,) * (6 - len(t.shape)) + tuple(t.shape)
        result, step = [0] * 6, 1
        for d in range(5, -1, -1):
            result[d] = 0 if shape[d] == 1 and out[d] != 1 else step
            step *= shape[d]
        return tuple(result)

    return {"size": y.elements, "broadcast": 1, "out_shape": out,
            "strides1": strides(a), "strides2": strides(b)}


_RESCALED = {"ADD": quant.add_params, "SUB": quant.sub_params,
             "SQUARED_DIFFERENCE": quant.squared_difference_params}


def _binary(graph: Graph, op: Op) -> Call:
    ck = Checker(graph, op)
    a = ck.tensor(0, constant=None)
    b = ck.tensor(1, constant=None)
    y = ck.tensor(-1)
    ck.require(len(y.shape) <= 6, "more than 6 dimensions")
    act_min, act_max = ck.activation(y)
    shape = broadcast_fields(a, b, y)
    consts: tuple[ConstArray, ...] = ()
    if op.kind in _RESCALED:
        left, (m1, s1), (m2, s2), (mo, so) = _RESCALED[op.kind](a.scale, b.scale, y.scale)
        arith: dict[str, int | str] = {
            "left_shift": left, "mult1": m1, "shift1": s1, "mult2": m2, "shift2": s2,
            "mult": mo, "shift": so}
        function = f"tg_{op.kind.lower()}_s8"
        if op.kind in ("ADD", "SUB"):
            function, fast, consts = _add_form(op, a, b, y, (act_min, act_max))
            arith.update(fast)
    elif op.kind in ("MAXIMUM", "MINIMUM"):
        arith = {}  # TFLM compares the stored values, whatever their quantization
        function = f"tg_{op.kind.lower()}_s8"
    else:
        mo, so = quant.quantize_multiplier(float(a.scale) * float(b.scale) / float(y.scale))
        arith = {"mult": mo, "shift": so}
        function = "tg_mul_s8"
    fields = fields_of(**shape, in1_offset=-a.zero_point, in2_offset=-b.zero_point,
                       out_zp=y.zero_point, act_min=act_min, act_max=act_max, **arith)
    return Call(op.index, op.kind, function, "tg_binary_t", fields,
                (Arg("tensor", "int8_t", (a.index,), const=True),
                 Arg("tensor", "int8_t", (b.index,), const=True),
                 Arg("tensor", "int8_t", (y.index,))), consts,
                source="tg_elementwise.c",
                inplace=a.index if shape["broadcast"] == 0 and not a.is_constant else None)


def _add_form(op: Op, a: Tensor, b: Tensor, y: Tensor, act: tuple[int, int],
              ) -> tuple[str, dict[str, int | str], tuple[ConstArray, ...]]:
    """ADD or SUB's kernel for its fastest exact form (tinygen.native.add_forms), the fields
    of that form and its tables."""
    arith = add_forms.arith_of(op.kind, (a.scale, b.scale, y.scale),
                               (a.zero_point, b.zero_point, y.zero_point), act)
    form = add_forms.choose_form(arith, y.elements)
    kind = op.kind.lower()
    if form.form == add_forms.FORM_GENERIC:
        return f"tg_{kind}_s8", {}, ()
    if form.form == add_forms.FORM_DIRECT:
        return (f"tg_{kind}_direct_s8",
                {"linear": form.linear, "round_in": form.round_in, "round": form.round}, ())
    name = params_name(op)
    consts = (ConstArray(f"{name}_table1", "int32_t", form.table1),
              ConstArray(f"{name}_table2", "int32_t", form.table2))
    return ("tg_add_tables_s8",
            {"round": form.round, "table1": consts[0].name, "table2": consts[1].name}, consts)


def _activation_op(graph: Graph, op: Op) -> Call:
    ck = Checker(graph, op)
    x = ck.tensor(0)
    y = ck.tensor(-1)
    ck.require(x.elements == y.elements, "input and output sizes differ")
    if op.kind == "SOFTMAX":
        ck.require(y.zero_point == -128 and np.float32(y.scale) == np.float32(1.0 / 256),
                   "an int8 output must have scale 1/256 and zero point -128")
        ck.require(bool(x.shape), "a scalar input")
        depth = x.shape[-1]
        mult, shift, diff_min = quant.softmax_params(float(op.options.get("beta", 1.0)),
                                                     x.scale)
        fields = fields_of(rows=x.elements // depth, depth=depth, input_mult=mult,
                           input_left_shift=shift, diff_min=diff_min)
        return Call(op.index, op.kind, "tg_softmax_s8", "tg_softmax_t", fields,
                    (Arg("tensor", "int8_t", (x.index,), const=True),
                     Arg("tensor", "int8_t", (y.index,))), source="tg_activation.c")
    if op.kind == "LOGISTIC":
        ck.require(y.zero_point == -128, "an int8 output must have zero point -128")
    mult, shift, radius = quant.sigmoid_params(x.scale)
    fields = fields_of(size=x.elements, in_zp=x.zero_point, range_radius=radius,
                       input_mult=mult, input_left_shift=shift)
    function = "tg_logistic_s8" if op.kind == "LOGISTIC" else "tg_tanh_s8"
    return Call(op.index, op.kind, function, "tg_sigmoid_t", fields,
                (Arg("tensor", "int8_t", (x.index,), const=True),
                 Arg("tensor", "int8_t", (y.index,))),
                source="tg_activation.c", inplace=x.index)


def _quantize(graph: Graph, op: Op) -> Call:
    ck = Checker(graph, op)
    x = ck.tensor(0, ("int8", "float32"))
    y = ck.tensor(-1, ("int8", "float32"))
    ck.require(x.elements == y.elements, "input and output sizes differ")
    args = (Arg("tensor", CTYPES[x.dtype], (x.index,), const=True),
            Arg("tensor", CTYPES[y.dtype], (y.index,)))
    if op.kind == "DEQUANTIZE":
        ck.require((x.dtype, y.dtype) == ("int8", "float32"), "only int8 -> float32")
        fields = fields_of(size=x.elements, in_zp=x.zero_point, scale=c_float(x.scale))
        return Call(op.index, op.kind, "tg_dequantize_s8_f32", "tg_quant_t", fields, args,
                    source="tg_quantize.c")
    ck.require(y.dtype == "int8", "only int8 outputs")
    ck.require(len(y.scales) == 1, "per-channel output quantization")
    if x.dtype == "float32":
        fields = fields_of(size=x.elements, out_zp=y.zero_point, scale=c_float(y.scale))
        return Call(op.index, op.kind, "tg_quantize_f32_s8", "tg_quant_t", fields, args,
                    source="tg_quantize.c")
    mult, shift = quant.quantize_multiplier(float(x.scale) / float(y.scale))
    fields = fields_of(size=x.elements, in_zp=x.zero_point, out_zp=y.zero_point, mult=mult,
                       shift=shift, act_min=quant.INT8_MIN, act_max=quant.INT8_MAX)
    return Call(op.index, op.kind, "tg_requantize_s8", "tg_quant_t", fields, args,
                source="tg_quantize.c", inplace=x.index)


def _relu(graph: Graph, op: Op) -> Call:
    """Standalone int8 RELU (requantized, clamped at the output zero point) and RELU6 (the
    input clamped to [zero point, 6], no requantization), as TFLM's activations.cc."""
    ck = Checker(graph, op)
    x = ck.tensor(0)
    y = ck.tensor(-1)
    ck.require(x.elements == y.elements, "input and output sizes differ")
    if op.kind == "RELU":
        # TFLM divides the scales in float32 here.
        mult, shift = quant.quantize_multiplier(float(np.float32(x.scale) / np.float32(y.scale)))
        fields = fields_of(size=x.elements, in_zp=x.zero_point, out_zp=y.zero_point, mult=mult,
                           shift=shift, act_min=max(quant.INT8_MIN, y.zero_point),
                           act_max=quant.INT8_MAX)
    else:
        six = min(max(quant.quantize_float(x.scale, x.zero_point, 6.0), quant.INT8_MIN),
                  quant.INT8_MAX)
        # An identity requantization (2^30 * 2^1 / 2^31) and the clamp.
        fields = fields_of(size=x.elements, in_zp=0, out_zp=0, mult=1 << 30, shift=1,
                           act_min=x.zero_point, act_max=six)
    return Call(op.index, op.kind, "tg_requantize_s8", "tg_quant_t", fields,
                (Arg("tensor", "int8_t", (x.index,), const=True),
                 Arg("tensor", "int8_t", (y.index,))), source="tg_quantize.c", inplace=x.index)


def _leaky_relu(graph: Graph, op: Op) -> Call:
    ck = Checker(graph, op)
    x = ck.tensor(0)
    y = ck.tensor(-1)
    ck.require(x.elements == y.elements, "input and output sizes differ")
    (mi, si), (ma, sa) = quant.leaky_relu_params(x.scale, y.scale,
                                                 float(op.options.get("alpha", 0.0)))
    fields = fields_of(size=x.elements, in_zp=x.zero_point, out_zp=y.zero_point,
                       identity_mult=mi, identity_shift=si, alpha_mult=ma, alpha_shift=sa)
    return Call(op.index, op.kind, "tg_leaky_relu_s8", "tg_leaky_relu_t", fields,
                (Arg("tensor", "int8_t", (x.index,), const=True),
                 Arg("tensor", "int8_t", (y.index,))), source="tg_elementwise.c",
                inplace=x.index)


def _lut(graph: Graph, op: Op) -> Call:
    """HARD_SWISH, RSQRT: a 256-entry table of TFLM's results (tinygen.native.lut)."""
    ck = Checker(graph, op)
    x = ck.tensor(0)
    y = ck.tensor(-1)
    ck.require(x.elements == y.elements, "input and output sizes differ")
    make = lut.hard_swish_table if op.kind == "HARD_SWISH" else lut.rsqrt_table
    table = make(x.scale, x.zero_point, y.scale, y.zero_point)
    name = f"{params_name(op)}_table"
    # Stored by the input byte read as uint8: 0..127, then -128..-1.
    consts = (ConstArray(name, "int8_t", table[128:] + table[:128]),)
    return Call(op.index, op.kind, "tg_lut_s8", "tg_lut_t",
                fields_of(size=x.elements, table=name),
                (Arg("tensor", "int8_t", (x.index,), const=True),
                 Arg("tensor", "int8_t", (y.index,))), consts, source="tg_elementwise.c",
                inplace=x.index)


def _prelu(graph: Graph, op: Op) -> Call:
    ck = Checker(graph, op)
    x = ck.tensor(0)
    alpha = ck.tensor(1, constant=None)
    y = ck.tensor(-1)
    ck.require(len(y.shape) <= 4, "more than 4 dimensions")
    ck.require(len(alpha.scales) == 1, "alpha needs per-tensor quantization")
    # prelu_common.cc: both multipliers in double.
    identity = quant.quantize_multiplier(float(x.scale) / float(y.scale))
    scaled = quant.quantize_multiplier(float(x.scale) * float(alpha.scale) / float(y.scale))
    fields = fields_of(**broadcast_fields(x, alpha, y), in1_offset=-x.zero_point,
                       in2_offset=-alpha.zero_point, out_zp=y.zero_point,
                       mult1=identity[0], shift1=identity[1], mult2=scaled[0],
                       shift2=scaled[1])
    return Call(op.index, op.kind, "tg_prelu_s8", "tg_binary_t", fields,
                (Arg("tensor", "int8_t", (x.index,), const=True),
                 Arg("tensor", "int8_t", (alpha.index,), const=True),
                 Arg("tensor", "int8_t", (y.index,))), source="tg_elementwise.c")


_LOWERINGS: dict[str, Callable[[Graph, Op], Call]] = {
    "CONV_2D": _conv,
    "DEPTHWISE_CONV_2D": _conv,
    "TRANSPOSE_CONV": _transpose_conv,
    "BATCH_MATMUL": batch_matmul,
    "SVDF": svdf,
    "UNIDIRECTIONAL_SEQUENCE_LSTM": lstm,
    "FULLY_CONNECTED": _fully_connected,
    "AVERAGE_POOL_2D": _pool,
    "MAX_POOL_2D": _pool,
    "ADD": _binary,
    "MUL": _binary,
    "SUB": _binary,
    "SQUARED_DIFFERENCE": _binary,
    "MAXIMUM": _binary,
    "MINIMUM": _binary,
    "LEAKY_RELU": _leaky_relu,
    "PRELU": _prelu,
    "HARD_SWISH": _lut,
    "RSQRT": _lut,
    "SOFTMAX": _activation_op,
    "LOGISTIC": _activation_op,
    "TANH": _activation_op,
    "QUANTIZE": _quantize,
    "DEQUANTIZE": _quantize,
    "RELU": _relu,
    "RELU6": _relu,
}
DATA_OPS = ("RESHAPE", "SQUEEZE", "EXPAND_DIMS", "PAD", "PADV2", "CONCATENATION", "MEAN",
            "SUM")
SUPPORTED = tuple(sorted((*_LOWERINGS, *DATA_OPS, *MOVE_LOWERINGS)))


def lower_op(graph: Graph, op: Op) -> Call:
    if op.kind in _LOWERINGS:
        try:
            return _LOWERINGS[op.kind](graph, op)
        except quant.QuantizationRangeError as exc:
            raise Checker(graph, op).fail(f"quantization TFLM refuses too: {exc}") from exc
    if op.kind in DATA_OPS:
        return lower_data_op(graph, op, Checker(graph, op))
    if op.kind in MOVE_LOWERINGS:
        return MOVE_LOWERINGS[op.kind](graph, op, Checker(graph, op))
    raise UnsupportedOpError(
        f"{graph.describe(op)}: the native runtime has no kernel for {op.kind} "
        f"(it has {', '.join(SUPPORTED)})")


def lower_graph(graph: Graph) -> list[Call]:
    """One call per operator, in execution order; raises UnsupportedOpError on the first op
    the native runtime cannot run."""
    unknown = sorted({op.kind for op in graph.ops} - set(SUPPORTED))
    if unknown:
        first = next(op for op in graph.ops if op.kind in unknown)
        raise UnsupportedOpError(
            f"{graph.path}: the native runtime has no kernel for {', '.join(unknown)} "
            f"(first: operator {first.index}); it has {', '.join(SUPPORTED)}")
    return [lower_op(graph, op) for op in graph.ops]
