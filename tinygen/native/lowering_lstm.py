"""Lowering of UNIDIRECTIONAL_SEQUENCE_LSTM, full integer (int8 activations and weights, int32
biases, int16 cell state and gate internals): the tensor checks of TFLM's
LstmTensors::ValidateTensorStatus and ValidateTensorSize, and the parameters its
PrepareGateParametersInteger and CreateLstmCellStateInfo compute. The hidden and cell states
are the op's scratch, reset before each inference as the TFLM port resets variable tensors."""

from __future__ import annotations

import math

import numpy as np

from tinygen.native import quant
from tinygen.native.calls import (
    Arg,
    Call,
    Checker,
    ConstArray,
    fields_of,
    int32_wrap,
    params_name,
)
from tinygen.native.graph import Graph, Op, Tensor

# Input positions (lstm_shared.h): the input, then per gate (forget, input, cell, output, the
# order the kernel computes them in) its input weights, recurrent weights and bias.
INPUT = 0
GATE_INPUT_WEIGHTS = (2, 1, 3, 4)
GATE_RECURRENT_WEIGHTS = (6, 5, 7, 8)
GATE_BIAS = (13, 12, 14, 15)
HIDDEN_STATE, CELL_STATE = 18, 19
ABSENT = (9, 10, 11, 16, 17, 20, 21, 22, 23)  # peephole, projection, layer norm
ACT_TANH = 4  # the schema's ActivationFunctionType has no sigmoid for the cell gate

# The fixed scales of PrepareGateParametersInteger: gate FC outputs in Q3.12, activations
# in Q0.15 (both float32 constants in TFLM).
GATE_INPUT_SCALE = float(np.float32(2.0**-12))
GATE_OUTPUT_SCALE = float(np.float32(2.0**-15))

# sigmoid(i / 24) in unsigned 0.16, the table TFLM's int16 Logistic and Tanh interpolate
# (tensorflow/lite/kernels/internal/common.h, sigmoid_table_uint16). Its values are not a
# plain rounding of the function, so they are TFLM's own; tests/native/test_native_lstm.py
# compares them with the pinned checkout when it is there.
SIGMOID_TABLE = (
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498,
    40149, 40794, 41432, 42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255,
    46817, 47369, 47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409, 51865,
    52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174,
    56503, 56823, 57133, 57433, 57724, 58007, 58280, 58544, 58800, 59048, 59288,
    59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110, 61279, 61441,
    61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886,
    62990, 63090, 63186, 63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835,
    63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308, 64357, 64405, 64450,
    64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786, 64816, 64845,
    64873, 64900, 64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079, 65097,
    65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234, 65246, 65258,
    65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360,
    65367, 65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425,
    65429, 65433, 65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465,
    65468, 65471, 65474, 65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491,
    65493, 65495, 65497, 65498, 65500, 65501, 65503, 65504, 65505, 65507, 65508,
    65509, 65510, 65511, 65512, 65513, 65514, 65515, 65516, 65517, 65517, 65518,
    65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524, 65525,
    65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529,
    65529, 65529, 65530, 65530, 65530, 65530, 65531, 65531, 65531, 65531, 65531,
    65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533, 65533, 65533,
    65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534,
    65534, 65534, 65535)
SIGMOID_ARRAY = "tg_sigmoid_table_u16"


def _scale(t: Tensor) -> float:
    """A tensor's scale as TFLM holds it (a float), widened to double."""
    return float(np.float32(t.scale))


def checked_log2(x: float) -> int:
    """CheckedLog2's result (its check is ignored by CreateLstmCellStateInfo): log2 in float32
    (std::log(x) * (1.0f / std::log(2.0f))), rounded half away from zero."""
    f32 = np.float32
    x_log2 = f32(f32(math.log(float(f32(x)))) * f32(f32(1.0) / f32(math.log(2.0))))
    return int(quant.round_half_away(float(x_log2)))


def tanh_input(cell_scale_power: int) -> tuple[int, int]:
    """(multiplier, right shift) that lstm_internal::Tanh and reference_integer_ops::Tanh apply
    to an int16 input whose scale is 2^cell_scale_power."""
    left = 15 + cell_scale_power - 3
    multiplier = 0
    if left < 0:
        left, multiplier = -left, 3
    if multiplier == 0:  # the power-of-two case
        return 3 << left, 0
    return multiplier, left


def quantized_cell_clip(clip: float, cell_scale: float) -> int:
    """CreateLstmCellStateInfo: clip / scale in double, clamped to int16, truncated."""
    value = min(max(float(np.float32(clip)) / cell_scale, -32768.0), 32767.0)
    return int(value)


def _weights(ck: Checker, position: int, rows: int, cols: int) -> Tensor:
    w = ck.tensor(position, constant=True, rank=2)
    ck.require(w.shape == (rows, cols), f"input {position} is {list(w.shape)}, not "
                                        f"[{rows}, {cols}]")
    # TFLM's LSTM reads the per-tensor multiplier only (a per-channel one is left unset).
    ck.require(len(w.scales) == 1, f"input {position} needs per-tensor quantization")
    ck.require(all(z == 0 for z in w.zero_points), f"input {position} has a zero point")
    return w


def _fast(bias: np.ndarray, w: Tensor, multiplier: tuple[int, int]) -> bool:
    """Whether a gate's FC may requantize with tg_requant_fast (tg_arith.h): a right shift of
    1 to 31 bits and every accumulator (folded bias + int8 values times a row) below 2^29."""
    reach = 128 * np.abs(w.array().astype(np.int64)).sum(axis=1)
    return bool(-31 <= multiplier[1] <= -1
                and (np.abs(bias) + reach < quant.FAST_BOUND).all())


def lstm(graph: Graph, op: Op) -> Call:
    ck = Checker(graph, op)
    ck.require(len(op.inputs) == 24, "it does not have the 24 inputs TFLM's kernel takes")
    for position in ABSENT:
        ck.require(ck.optional(position) is None,
                   "peephole, projection or layer-norm inputs (TFLM runs the plain LSTM only)")
    x = ck.tensor(INPUT, rank=3)
    hidden = ck.tensor(HIDDEN_STATE)
    cell = ck.tensor(CELL_STATE, ("int16",))
    y = ck.tensor(-1, rank=3)
    time_major = bool(op.options.get("timeMajor", False))
    batches, steps = (x.shape[1], x.shape[0]) if time_major else x.shape[:2]
    inputs = x.shape[2]
    ck.require(len(hidden.shape) in (1, 2) and hidden.shape[-1] > 0, "hidden state shape")
    units = hidden.shape[-1]
    ck.require(hidden.elements == batches * units, "hidden state size")
    ck.require(cell.elements == batches * units, "cell state size")
    ck.require(tuple(y.shape) == (*x.shape[:2], units), "output shape")
    activation = int(op.options.get("fusedActivationFunction", 0) or 0)
    # CalculateLstmGate runs sigmoid or tanh only (anything else is TFLITE_ASSERT_FALSE), and
    # a flatbuffer can only say TANH of the two.
    ck.require(activation == ACT_TANH, f"cell activation {activation} (TFLM's kernel takes "
                                       f"TANH, {ACT_TANH})")
    wx = [_weights(ck, p, units, inputs) for p in GATE_INPUT_WEIGHTS]
    wh = [_weights(ck, p, units, units) for p in GATE_RECURRENT_WEIGHTS]
    biases = []
    for p in GATE_BIAS:
        b = ck.tensor(p, ("int32",), constant=True)
        ck.require(b.shape == (units,), f"input {p} is not one bias per unit")
        biases.append(b)
    # CreateGateParams: CalculateOpDataFullyConnected with an int16 output of scale 2^-12, the
    # multipliers in double from the float scales.
    x_q = [quant.quantize_multiplier(_scale(x) * _scale(w) / GATE_INPUT_SCALE) for w in wx]
    h_q = [quant.quantize_multiplier(_scale(hidden) * _scale(w) / GATE_INPUT_SCALE)
           for w in wh]
    cell_scale = _scale(cell)
    forget = quant.quantize_multiplier(GATE_OUTPUT_SCALE * cell_scale / cell_scale)
    input_mul = quant.quantize_multiplier(GATE_OUTPUT_SCALE * GATE_OUTPUT_SCALE / cell_scale)
    output_mul = quant.quantize_multiplier(GATE_OUTPUT_SCALE * GATE_OUTPUT_SCALE
                                           / _scale(hidden))
    clip = float(op.options.get("cellClip", 0.0) or 0.0)
    tanh_mult, tanh_shift = tanh_input(checked_log2(cell_scale))
    # The zero points folded into per-row constants: bias - zp * sum(row) (exact in int32).
    bias_x = [b.array().reshape(-1).astype(np.int64)
              - x.zero_point * w.array().astype(np.int64).sum(axis=1)
              for b, w in zip(biases, wx, strict=True)]
    bias_h = [-hidden.zero_point * w.array().astype(np.int64).sum(axis=1) for w in wh]
    x_fast = [_fast(b, w, q) for b, w, q in zip(bias_x, wx, x_q, strict=True)]
    h_fast = [_fast(b, w, q) for b, w, q in zip(bias_h, wh, h_q, strict=True)]
    name = params_name(op)
    consts = (
        ConstArray(f"{name}_wx", "int8_t",
                   tuple(v for w in wx for v in w.array().reshape(-1).tolist())),
        ConstArray(f"{name}_wh", "int8_t",
                   tuple(v for w in wh for v in w.array().reshape(-1).tolist())),
        ConstArray(f"{name}_bias_x", "int32_t", int32_wrap(np.concatenate(bias_x))),
        ConstArray(f"{name}_bias_h", "int32_t", int32_wrap(np.concatenate(bias_h))),
        ConstArray(SIGMOID_ARRAY, "uint16_t", SIGMOID_TABLE))
    fields = fields_of(
        batches=batches, steps=steps, inputs=inputs, units=units, time_major=time_major,
        hidden_zp=hidden.zero_point,
        x_mult=[m for m, _ in x_q], x_shift=[s for _, s in x_q],
        h_mult=[m for m, _ in h_q], h_shift=[s for _, s in h_q],
        x_fast=[int(f) for f in x_fast], h_fast=[int(f) for f in h_fast],
        forget_mult=forget[0], forget_shift=forget[1], input_mult=input_mul[0],
        input_shift=input_mul[1], output_mult=output_mul[0], output_shift=output_mul[1],
        clip=clip > 0.0, cell_clip=quantized_cell_clip(clip, cell_scale) if clip > 0 else 0,
        tanh_mult=tanh_mult, tanh_shift=tanh_shift,
        weights_x=f"{name}_wx", weights_h=f"{name}_wh", bias_x=f"{name}_bias_x",
        bias_h=f"{name}_bias_h",
        sigmoid=SIGMOID_ARRAY)
    state = batches * units
    scratch = 2 * (state + 4 * units) + state
    return Call(op.index, op.kind, "tg_lstm_s8", "tg_lstm_t", fields,
                (Arg("tensor", "int8_t", (x.index,), const=True),
                 Arg("tensor", "int8_t", (y.index,)), Arg("scratch", "int16_t")),
                consts, scratch_bytes=(scratch + 3) // 4 * 4, source="tg_lstm.c")
