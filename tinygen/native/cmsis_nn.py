"""CMSIS-NN calls for the native runtime (``--kernels cmsis-nn``): parameters, scratch sizes,
sources.

Each operator CMSIS-NN covers becomes one straight call into the pinned CMSIS-NN with its
argument structs (``cmsis_nn_conv_params``, ``cmsis_nn_dims``, ...) as constant data; every
other operator, and every case CMSIS-NN cannot do (broadcasting ADD/MUL), keeps its native
kernel. The parameters are TFLM's, as its CMSIS-NN kernels pass them
(tensorflow/lite/micro/kernels/cmsis_nn/), so the outputs stay the TFLM interpreter's.

The scratch sizes mirror the pinned CMSIS-NN's ``*_get_buffer_size`` for GCC on cores
without Helium (MVE), with and without the DSP extension; the generated firmware asks CMSIS-NN
itself at start-up and reports any operator whose size differs from the plan.
"""

from __future__ import annotations

from dataclasses import dataclass

from tinygen.native import quant
from tinygen.native.calls import Arg, Call, Checker, ConstArray, fields_of, params_name
from tinygen.native.graph import Graph, Op, Tensor
from tinygen.native.lowering import broadcast_fields, out_size_and_padding

# The pinned checkouts (third_party/manifest.yaml) a cmsis-nn build needs.
PINS = ("cmsis-nn", "cmsis")
INCLUDE_DIRS = (("cmsis-nn", "Include"), ("cmsis", "CMSIS/Core/Include"))
# The tinygen header with the per-operator argument structs (templates/native/kernels/).
HEADER = "tg_cmsis_nn.h"
# Cores with Helium: CMSIS-NN takes other paths there, with other scratch sizes (not mirrored).
MVE_CORES = ("cortex-m55", "cortex-m85")

_CONV = "Source/ConvolutionFunctions/"
_SUPPORT = "Source/NNSupportFunctions/"
_FC = "Source/FullyConnectedFunctions/"
_POOL = "Source/PoolingFunctions/"
# The CMSIS-NN sources each entry point needs (its link closure for Cortex-M with and without
# the DSP extension), so that a firmware compiles only those of the functions it calls.
SOURCES: dict[str, tuple[str, ...]] = {
    "arm_convolve_wrapper_s8": tuple(
        [_CONV + f for f in (
            "arm_convolve_wrapper_s8.c", "arm_convolve_get_buffer_sizes_s8.c",
            "arm_convolve_s8.c", "arm_convolve_1x1_s8.c", "arm_convolve_1x1_s8_fast.c",
            "arm_convolve_1_x_n_s8.c", "arm_nn_mat_mult_kernel_s8_s16.c",
            "arm_nn_mat_mult_kernel_row_offset_s8_s16.c")]
        + [_SUPPORT + f for f in (
            "arm_nn_mat_mult_nt_t_s8.c", "arm_q7_to_q15_with_offset.c",
            "arm_s8_to_s16_unordered_with_offset.c")]),
    "arm_depthwise_conv_wrapper_s8": tuple(
        [_CONV + f for f in (
            "arm_depthwise_conv_wrapper_s8.c", "arm_depthwise_conv_get_buffer_sizes_s8.c",
            "arm_convolve_get_buffer_sizes_s8.c", "arm_depthwise_conv_s8.c",
            "arm_depthwise_conv_s8_opt.c", "arm_depthwise_conv_3x3_s8.c")]
        + [_SUPPORT + "arm_q7_to_q15_with_offset.c"]),
    "arm_fully_connected_s8": (
        _FC + "arm_fully_connected_s8.c", _FC + "arm_fully_connected_get_buffer_sizes_s8.c",
        _SUPPORT + "arm_nn_vec_mat_mult_t_s8.c"),
    "arm_fully_connected_per_channel_s8": (
        _FC + "arm_fully_connected_per_channel_s8.c",
        _FC + "arm_fully_connected_get_buffer_sizes_s8.c",
        _SUPPORT + "arm_nn_vec_mat_mult_t_per_ch_s8.c"),
    "arm_avgpool_s8": (_POOL + "arm_avgpool_s8.c", _POOL + "arm_avgpool_get_buffer_sizes_s8.c"),
    "arm_max_pool_s8": (_POOL + "arm_max_pool_s8.c",),
    "arm_softmax_s8": ("Source/SoftmaxFunctions/arm_softmax_s8.c",
                       "Source/SoftmaxFunctions/arm_nn_softmax_common_s8.c"),
    "arm_elementwise_add_s8": ("Source/BasicMathFunctions/arm_elementwise_add_s8.c",),
    "arm_elementwise_mul_s8": ("Source/BasicMathFunctions/arm_elementwise_mul_s8.c",),
}
OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "MAX_POOL_2D",
       "SOFTMAX", "ADD", "MUL")


@dataclass(frozen=True)
class Dims:
    """cmsis_nn_dims."""

    n: int
    h: int
    w: int
    c: int

    def c_literal(self) -> str:
        return f"{{.n = {self.n}, .h = {self.h}, .w = {self.w}, .c = {self.c}}}"


@dataclass(frozen=True)
class ConvGeometry:
    """What the buffer-size functions read of cmsis_nn_conv_params / cmsis_nn_dw_conv_params."""

    stride_h: int
    stride_w: int
    pad_h: int
    pad_w: int
    dil_h: int
    dil_w: int


def _tile(h: int, w: int) -> str:
    return f"{{.w = {w}, .h = {h}}}"


def _aligned4(n: int) -> int:
    return (n + 3) // 4 * 4


def is_convolve_1x1(g: ConvGeometry, input: Dims, filter: Dims) -> bool:
    """arm_nn_is_convolve_1x1."""
    return (g.pad_w == 0 and g.pad_h == 0 and filter.w == 1 and filter.h == 1
            and g.dil_w == 1 and g.dil_h == 1 and input.c == filter.c)


def is_convolve_1_x_n(g: ConvGeometry, input: Dims, filter: Dims) -> bool:
    """arm_nn_is_convolve_1_x_n."""
    return (input.h == 1 and g.dil_w == 1 and filter.h == 1
            and (g.stride_w * input.c) % 4 == 0 and input.c == filter.c)


def convolve_s8_buffer_size(input: Dims, filter: Dims) -> int:
    """arm_convolve_s8_get_buffer_size without MVE: two int16 columns of aligned depth."""
    return 2 * _aligned4(filter.w * filter.h * input.c) * 2


def conv_wrapper_buffer_size(dsp: bool, g: ConvGeometry, input: Dims, filter: Dims) -> int:
    """arm_convolve_wrapper_s8_get_buffer_size on a core without MVE, compiled with GCC.

    The DSP and plain variants agree with GCC: the fast 1x1 path's buffer is used with Arm
    Compiler 6 only, and the 1xN path falls back to arm_convolve_s8's size.
    """
    del dsp  # the same with and without the DSP extension (see above)
    if is_convolve_1x1(g, input, filter):
        return 0
    return convolve_s8_buffer_size(input, filter)


def depthwise_wrapper_buffer_size(dsp: bool, g: ConvGeometry, input: Dims, filter: Dims,
                                  output: Dims) -> int:
    """arm_depthwise_conv_wrapper_s8_get_buffer_size on a core without MVE."""
    if input.c == output.c and input.n == 1 and g.dil_w == 1 and g.dil_h == 1:
        if filter.w == 3 and filter.h == 3 and g.pad_h <= 1 and g.pad_w <= 1:
            return 0  # arm_depthwise_conv_3x3_s8
        # arm_depthwise_conv_s8_opt: one int16 column of all channels (DSP only).
        return input.c * filter.w * filter.h * 2 if dsp else 0
    return 0


def fully_connected_buffer_size(dsp: bool) -> int:
    """arm_fully_connected_s8_get_buffer_size without MVE (the kernel sums are MVE-only)."""
    del dsp
    return 0


def avgpool_buffer_size(dsp: bool, channels: int) -> int:
    """arm_avgpool_s8_get_buffer_size: one int32 sum per channel on DSP cores."""
    return channels * 4 if dsp else 0


def _bias(ck: Checker, units: int) -> Tensor | None:
    if ck.optional(2) is None:
        return None
    bias = ck.tensor(2, ("int32",), constant=True)
    ck.require(bias.elements == units, "bias size does not match the output")
    return bias


def _quant_field(name: str) -> str:
    # CMSIS-NN's struct points at non-const arrays but never writes through them.
    return f"{{.multiplier = (int32_t *){name}_mult, .shift = (int32_t *){name}_shift}}"


def _channel_consts(name: str, multipliers: list[tuple[int, int]]) -> tuple[ConstArray, ...]:
    return (ConstArray(f"{name}_mult", "int32_t", tuple(m for m, _ in multipliers)),
            ConstArray(f"{name}_shift", "int32_t", tuple(s for _, s in multipliers)))


def _weighted_args(x: Tensor, w: Tensor, bias: Tensor | None, y: Tensor,
                   head: str) -> tuple[tuple[Arg, ...], str]:
    """The tensor arguments and the argument list of a call of the form
    ``f(ctx, params..., &input, in, &filter, w, &bias, b, &output, out)``."""
    args = [Arg("tensor", "int8_t", (x.index,), const=True),
            Arg("tensor", "int8_t", (w.index,), const=True)]
    if bias is not None:
        args.append(Arg("tensor", "int32_t", (bias.index,), const=True))
    args.append(Arg("tensor", "int8_t", (y.index,)))
    b, out = ("{2}", "{3}") if bias is not None else ("NULL", "{2}")
    fmt = (f"{{ctx}}, {head}, &{{p}}.input, {{0}}, &{{p}}.filter, {{1}}, &{{p}}.bias, {b}, "
           f"&{{p}}.output, {out}")
    return (*args, Arg("scratch", "int8_t")), fmt


def _conv(graph: Graph, op: Op, dsp: bool) -> Call:
    ck = Checker(graph, op)
    depthwise = op.kind == "DEPTHWISE_CONV_2D"
    x, w, y = ck.tensor(0, rank=4), ck.tensor(1, constant=True, rank=4), ck.tensor(-1, rank=4)
    batches, in_h, in_w, in_c = x.shape
    _, out_h, out_w, out_c = y.shape
    _, k_h, k_w, _ = w.shape
    bias = _bias(ck, out_c)
    o = op.options
    stride_h, stride_w = int(o["strideH"]), int(o["strideW"])
    dil_h, dil_w = int(o.get("dilationHFactor") or 1), int(o.get("dilationWFactor") or 1)
    g = ConvGeometry(
        stride_h, stride_w, out_size_and_padding(o["padding"], stride_h, dil_h, in_h, k_h)[1],
        out_size_and_padding(o["padding"], stride_w, dil_w, in_w, k_w)[1], dil_h, dil_w)
    act_min, act_max = ck.activation(y)
    name = params_name(op)
    multipliers = quant.conv_channel_multipliers(x.scale, w.scales, y.scale, out_c)
    input_dims = Dims(batches, in_h, in_w, in_c)
    output_dims = Dims(batches, out_h, out_w, out_c)
    common = (f".stride = {_tile(g.stride_h, g.stride_w)}, "
              f".padding = {_tile(g.pad_h, g.pad_w)}, "
              f".dilation = {_tile(g.dil_h, g.dil_w)}, "
              f".activation = {{.min = {act_min}, .max = {act_max}}}")
    offsets = f".input_offset = {-x.zero_point}, .output_offset = {y.zero_point}"
    if depthwise:
        filter_dims = Dims(1, k_h, k_w, out_c)
        scratch = depthwise_wrapper_buffer_size(dsp, g, input_dims, filter_dims, output_dims)
        conv = f"{{{offsets}, .ch_mult = {out_c // in_c}, {common}}}"
        function, struct = "arm_depthwise_conv_wrapper_s8", "tg_cmsis_dw_conv_t"
    else:
        filter_dims = Dims(out_c, k_h, k_w, in_c)
        scratch = conv_wrapper_buffer_size(dsp, g, input_dims, filter_dims)
        conv = f"{{{offsets}, {common}}}"
        function, struct = "arm_convolve_wrapper_s8", "tg_cmsis_conv_t"
    fields = fields_of(conv=conv, quant=_quant_field(name), input=input_dims.c_literal(),
                       filter=filter_dims.c_literal(), bias=Dims(1, 1, 1, out_c).c_literal(),
                       output=output_dims.c_literal())
    args, fmt = _weighted_args(x, w, bias, y, "&{p}.conv, &{p}.quant")
    check = f"{function}_get_buffer_size(&{{p}}.conv, &{{p}}.input, &{{p}}.filter, &{{p}}.output)"
    return Call(op.index, op.kind, function, struct, fields, args,
                _channel_consts(name, multipliers), scratch_bytes=scratch, arg_format=fmt,
                check=check, library_sources=SOURCES[function])


def _fully_connected(graph: Graph, op: Op, dsp: bool) -> Call:
    ck = Checker(graph, op)
    x, w, y = ck.tensor(0), ck.tensor(1, constant=True, rank=2), ck.tensor(-1)
    units, depth = w.shape
    batches = y.elements // units
    bias = _bias(ck, units)
    act_min, act_max = ck.activation(y)
    name = params_name(op)
    per_channel = len(w.scales) > 1
    if per_channel:
        multipliers = quant.conv_channel_multipliers(x.scale, w.scales, y.scale, units)
        consts = _channel_consts(name, multipliers)
        quant_field = _quant_field(name)
        function, struct = "arm_fully_connected_per_channel_s8", "tg_cmsis_fc_per_channel_t"
    else:
        multiplier, shift = quant.fc_tensor_multiplier(x.scale, w.scale, y.scale)
        consts = ()
        quant_field = f"{{.multiplier = {multiplier}, .shift = {shift}}}"
        function, struct = "arm_fully_connected_s8", "tg_cmsis_fc_t"
    fc = (f"{{.input_offset = {-x.zero_point}, .filter_offset = 0, "
          f".output_offset = {y.zero_point}, .activation = {{.min = {act_min}, "
          f".max = {act_max}}}}}")
    fields = fields_of(fc=fc, quant=quant_field, input=Dims(batches, 1, 1, depth).c_literal(),
                       filter=Dims(depth, 1, 1, units).c_literal(),
                       bias=Dims(1, 1, 1, units).c_literal(),
                       output=Dims(batches, 1, 1, units).c_literal())
    args, fmt = _weighted_args(x, w, bias, y, "&{p}.fc, &{p}.quant")
    return Call(op.index, op.kind, function, struct, fields, args, consts,
                scratch_bytes=fully_connected_buffer_size(dsp), arg_format=fmt,
                check="arm_fully_connected_s8_get_buffer_size(&{p}.filter)",
                library_sources=SOURCES[function])


def _pool(graph: Graph, op: Op, dsp: bool) -> Call:
    ck = Checker(graph, op)
    x, y = ck.tensor(0, rank=4), ck.tensor(-1, rank=4)
    batches, in_h, in_w, channels = x.shape
    _, out_h, out_w, _ = y.shape
    o = op.options
    k_h, k_w = int(o["filterHeight"]), int(o["filterWidth"])
    stride_h, stride_w = int(o["strideH"]), int(o["strideW"])
    pad_h = out_size_and_padding(o["padding"], stride_h, 1, in_h, k_h)[1]
    pad_w = out_size_and_padding(o["padding"], stride_w, 1, in_w, k_w)[1]
    act_min, act_max = ck.activation(y)
    pool = (f"{{.stride = {_tile(stride_h, stride_w)}, .padding = {_tile(pad_h, pad_w)}, "
            f".activation = {{.min = {act_min}, .max = {act_max}}}}}")
    fields = fields_of(pool=pool, input=Dims(batches, in_h, in_w, channels).c_literal(),
                       filter=Dims(1, k_h, k_w, 1).c_literal(),
                       output=Dims(batches, out_h, out_w, channels).c_literal())
    average = op.kind == "AVERAGE_POOL_2D"
    function = "arm_avgpool_s8" if average else "arm_max_pool_s8"
    return Call(op.index, op.kind, function, "tg_cmsis_pool_t", fields,
                (Arg("tensor", "int8_t", (x.index,), const=True),
                 Arg("tensor", "int8_t", (y.index,)), Arg("scratch", "int8_t")),
                scratch_bytes=avgpool_buffer_size(dsp, channels) if average else 0,
                arg_format="{ctx}, &{p}.pool, &{p}.input, {0}, &{p}.filter, &{p}.output, {1}",
                check=f"arm_avgpool_s8_get_buffer_size({out_w}, {channels})" if average else "",
                library_sources=SOURCES[function])


def _literal_call(op: Op, function: str, inputs: tuple[Tensor, ...], y: Tensor, fmt: str,
                  inplace: int | None = None) -> Call:
    """A call whose parameters are all literal arguments (no struct)."""
    args = tuple(Arg("tensor", "int8_t", (t.index,), const=True) for t in inputs)
    return Call(op.index, op.kind, function, "", (), (*args, Arg("tensor", "int8_t", (y.index,))),
                arg_format=fmt, inplace=inplace, library_sources=SOURCES[function])


def _softmax(graph: Graph, op: Op) -> Call:
    ck = Checker(graph, op)
    x, y = ck.tensor(0), ck.tensor(-1)
    depth = x.shape[-1]
    mult, shift, diff_min = quant.softmax_params(float(op.options.get("beta", 1.0)), x.scale)
    return _literal_call(op, "arm_softmax_s8", (x,), y,
                         f"{{0}}, {x.elements // depth}, {depth}, {mult}, {shift}, {diff_min}, "
                         f"{{1}}")


def _binary(graph: Graph, op: Op) -> Call | None:
    ck = Checker(graph, op)
    a, b = ck.tensor(0, constant=None), ck.tensor(1, constant=None)
    y = ck.tensor(-1)
    if broadcast_fields(a, b, y)["broadcast"]:
        return None  # CMSIS-NN's int8 ADD/MUL take equal shapes only
    act_min, act_max = ck.activation(y)
    inplace = None if a.is_constant else a.index
    if op.kind == "ADD":
        left, (m1, s1), (m2, s2), (mo, so) = quant.add_params(a.scale, b.scale, y.scale)
        fmt = (f"{{0}}, {{1}}, {-a.zero_point}, {m1}, {s1}, {-b.zero_point}, {m2}, {s2}, {left}, "
               f"{{2}}, {y.zero_point}, {mo}, {so}, {act_min}, {act_max}, {y.elements}")
        return _literal_call(op, "arm_elementwise_add_s8", (a, b), y, fmt, inplace)
    mo, so = quant.quantize_multiplier(float(a.scale) * float(b.scale) / float(y.scale))
    fmt = (f"{{0}}, {{1}}, {-a.zero_point}, {-b.zero_point}, {{2}}, {y.zero_point}, {mo}, {so}, "
           f"{act_min}, {act_max}, {y.elements}")
    return _literal_call(op, "arm_elementwise_mul_s8", (a, b), y, fmt, inplace)


def lower_cmsis_op(graph: Graph, op: Op, dsp: bool) -> Call | None:
    """The CMSIS-NN call for ``op``, or None where the native kernel stays.

    The op has passed the native lowering's checks (TFLM's Prepare) already.
    """
    if op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        return _conv(graph, op, dsp)
    if op.kind == "FULLY_CONNECTED":
        return _fully_connected(graph, op, dsp)
    if op.kind in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        return _pool(graph, op, dsp)
    if op.kind == "SOFTMAX":
        return _softmax(graph, op)
    if op.kind in ("ADD", "MUL"):
        return _binary(graph, op)
    return None


def context_arg(offset: int | None, size: int) -> str:
    """The ``const cmsis_nn_context *`` argument: the op's planned scratch, or none."""
    if offset is None or size == 0:
        return "&(const cmsis_nn_context){NULL, 0}"
    return f"&(const cmsis_nn_context){{TG_AT(void, {offset}), {size}}}"
