"""int8 -> int8 operators whose output depends on one input value: HARD_SWISH and RSQRT.

Each is TFLM's integer arithmetic (reference hard_swish.h, elementwise.cc's RSQRT with
GetInvSqrtQuantizedMultiplierExp and gemmlowp's fixed point) replayed here in exact Python
integers for all 256 input values; the firmware looks the result up (tg_lut_s8). The tables
are tested against the TFLM interpreter on every int8 value.
"""

from __future__ import annotations

import numpy as np

from tinygen.native.quant import (
    QuantizationRangeError,
    f32,
    multiply_by_quantized_multiplier,
    quantize_multiplier,
    rdbpot,
    srdhm,
    trunc_div,
    wrap,
)

INT16_MIN, INT16_MAX = -(2**15), 2**15 - 1
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1






def sat_pot(x: int, exponent: int) -> int:
    """gemmlowp's SaturatingRoundingMultiplyByPOT<exponent> on an int32 raw value."""
    if exponent == 0:
        return x
    if exponent < 0:
        return rdbpot(x, -exponent)
    threshold = (1 << (31 - exponent)) - 1
    if x > threshold:
        return INT32_MAX
    if x < -threshold:
        return INT32_MIN
    return wrap(x << exponent, 32)


def inv_sqrt_multiplier(value: int) -> tuple[int, int]:
    """GetInvSqrtQuantizedMultiplierExp(value, kReverseShift): (multiplier, left shift)."""
    if value <= 1:
        return INT32_MAX, 0
    shift = 11
    while value >= 1 << 29:
        value //= 4
        shift += 1
    clz = 32 - value.bit_length()
    pairs = (clz - 1) // 2 - 1
    shift -= pairs
    value <<= 2 * pairs
    # F3 raw values: 3 integer bits. A product of F(a) and F(b) is F(a + b); Rescale<3> of
    # F(n) multiplies the raw value by 2^(n - 3), saturating.
    half_input = rdbpot(value >> 1, 1)
    half_three = (1 << 28) + (1 << 27)
    x = 1 << 28  # F3::One()
    for _ in range(5):
        x3 = sat_pot(srdhm(srdhm(x, x), x), 9 - 3)
        x = sat_pot(wrap(srdhm(half_three, x) - srdhm(half_input, x3), 32), 6 - 3)
    x = srdhm(x, 1518500250)  # sqrt(2) / 2 in F0
    if shift < 0:
        x = wrap(x << -shift, 32)
        shift = 0
    return x, -shift


def rsqrt_table(input_scale: float, input_zp: int, output_scale: float,
                output_zp: int) -> tuple[int, ...]:
    """int8 RSQRT for every stored value -128..127 (elementwise.cc's RsqrtEvalQuantized).

    TFLM refuses inputs below the zero point at run time ("only defined for positive
    values"); their entries hold the largest output, as for the zero input."""
    # 1 / (sqrtf(input_scale) * output_scale): the square root and product in float32.
    real = 1.0 / float(np.sqrt(f32(input_scale)) * f32(output_scale))
    multiplier, shift = quantize_multiplier(real)
    table = []
    for q in range(-128, 128):
        value = q - input_zp
        if value <= 0:
            table.append(127)
            continue
        inv_mult, inv_shift = inv_sqrt_multiplier(value)
        data = multiply_by_quantized_multiplier(1, inv_mult, inv_shift + 20)
        out = multiply_by_quantized_multiplier(data, multiplier, shift - 20) + output_zp
        table.append(min(max(out, -128), 127))
    return tuple(table)


def _down_scale_int16(multiplier: int) -> int:
    """DownScaleInt32ToInt16Multiplier."""
    if multiplier >= INT32_MAX - (1 << 15):
        return INT16_MAX
    return (multiplier + (1 << 15)) >> 16


def _sat_shl16(value: int, amount: int) -> int:
    return min(max(value * (1 << amount), INT16_MIN), INT16_MAX)


def hard_swish_table(input_scale: float, input_zp: int, output_scale: float,
                     output_zp: int) -> tuple[int, ...]:
    """int8 HARD_SWISH for every stored value -128..127 (reference hard_swish.h), with the
    parameters of HardSwishPrepare (float32 quotients, int16 fixed-point multipliers)."""
    hires_scale = f32(1.0 / 128.0) * f32(input_scale)
    out_mult32, out_exp = quantize_multiplier(float(hires_scale / f32(output_scale)))
    if out_exp > 0:
        raise QuantizationRangeError(f"output multiplier exponent {out_exp} > 0")
    out_mult = _down_scale_int16(out_mult32)
    relu_mult32, relu_exp = quantize_multiplier(float(hires_scale / f32(3.0 / 32768.0)))
    relu_mult = _down_scale_int16(relu_mult32)
    table = []
    for q in range(-128, 128):
        value = wrap(q - input_zp, 16)
        hires = wrap(value * 128, 16)
        preshift = srdhm(hires, out_mult, 16)
        reluish = hires
        if relu_exp > 0:
            reluish = _sat_shl16(reluish, relu_exp - 1)
        reluish = srdhm(reluish, relu_mult, 16)
        if relu_exp > 0:
            reluish = _sat_shl16(reluish, 1)
        if relu_exp < 0:
            reluish = rdbpot(reluish, -relu_exp, 16)
        reluish = wrap((reluish + (1 << 15)) >> 1, 16)
        # SaturatingDoublingHighMul: truncating, not rounding.
        if reluish == preshift == INT16_MIN:
            product = INT16_MAX
        else:
            product = wrap(trunc_div(reluish * preshift, 1 << 15), 16)
        out = rdbpot(product, -out_exp, 16) + output_zp
        table.append(min(max(out, -128), 127))
    return tuple(table)
