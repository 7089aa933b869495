"""Quantization parameters computed at generation time exactly as TFLM computes them in Prepare.

Everything here follows the arithmetic of TFLM (tensorflow/lite/kernels/internal/
quantization_util.cc, kernel_util.cc) at the pinned commit, in the same precision: doubles where
TFLM uses double, float32 where it uses float, so that the generated C needs integers only.
"""

from __future__ import annotations

import math

import numpy as np

INT8_MIN = -128
INT8_MAX = 127

# Fused activation function codes of the TFLite schema (ActivationFunctionType).
ACT_NONE = 0
ACT_RELU = 1
ACT_RELU_N1_TO_1 = 2
ACT_RELU6 = 3


class QuantizationRangeError(ValueError):
    """A multiplier outside the range TFLM accepts for that operator (its Prepare fails)."""


def round_half_away(value: float) -> int:
    """C's round()/roundf(): to nearest, ties away from zero (TfLiteRound), on an exact value."""
    floor = math.floor(value)
    frac = value - floor  # exact for doubles
    if frac > 0.5 or (frac == 0.5 and value > 0):
        return floor + 1
    return floor


def quantize_multiplier(real: float) -> tuple[int, int]:
    """(multiplier, shift) of QuantizeMultiplier: real ~= multiplier * 2^(shift - 31).

    Double-rounding build (TFLITE_SINGLE_ROUNDING unset), as TFLM builds by default.
    """
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = round_half_away(q * float(1 << 31))
    if q_fixed > 1 << 31:
        raise QuantizationRangeError(f"multiplier {real!r} does not round into range")
    if q_fixed == 1 << 31:
        q_fixed //= 2
        shift += 1
    if q_fixed > 2**31 - 1:
        raise QuantizationRangeError(f"multiplier {real!r} does not fit int32")
    if shift < -31:
        return 0, 0
    return q_fixed, shift


def quantize_multiplier_smaller_than_one(real: float) -> tuple[int, int]:
    """QuantizeMultiplierSmallerThanOneExp: 0 < real < 1, shift <= 0."""
    if not 0.0 < real < 1.0:
        raise QuantizationRangeError(f"multiplier {real!r} is not in (0, 1)")
    multiplier, shift = quantize_multiplier(real)
    if shift > 0:
        raise QuantizationRangeError(f"multiplier {real!r} gives a left shift")
    return multiplier, shift


def quantize_multiplier_greater_than_one(real: float) -> tuple[int, int]:
    """QuantizeMultiplierGreaterThanOne: real > 1, shift >= 0."""
    if not real > 1.0:
        raise QuantizationRangeError(f"multiplier {real!r} is not greater than one")
    multiplier, shift = quantize_multiplier(real)
    if shift < 0:
        raise QuantizationRangeError(f"multiplier {real!r} gives a right shift")
    return multiplier, shift


def f32(value: float) -> np.float32:
    return np.float32(value)


def quantize_float(scale: float, zero_point: int, value: float) -> int:
    """kernel_util.cc Quantize(): zero_point + round(value / scale), the division in float32."""
    q = float(f32(value) / f32(scale))
    return zero_point + round_half_away(q)


def activation_range(activation: int, scale: float, zero_point: int,
                     qmin: int = INT8_MIN, qmax: int = INT8_MAX) -> tuple[int, int]:
    """CalculateActivationRangeQuantized for a fused activation on an int8 output."""
    if activation == ACT_RELU:
        return max(qmin, quantize_float(scale, zero_point, 0.0)), qmax
    if activation == ACT_RELU6:
        return (max(qmin, quantize_float(scale, zero_point, 0.0)),
                min(qmax, quantize_float(scale, zero_point, 6.0)))
    if activation == ACT_RELU_N1_TO_1:
        return (max(qmin, quantize_float(scale, zero_point, -1.0)),
                min(qmax, quantize_float(scale, zero_point, 1.0)))
    return qmin, qmax


def conv_channel_multipliers(input_scale: float, filter_scales: tuple[float, ...],
                             output_scale: float, channels: int) -> list[tuple[int, int]]:
    """PopulateConvolutionQuantizationParams: one (multiplier, shift) per output channel.

    A single filter scale is broadcast over the channels. The scales are float32 values; the
    product and quotient are taken in double, in TFLM's order.
    """
    out = []
    for i in range(channels):
        filter_scale = filter_scales[i] if len(filter_scales) > 1 else filter_scales[0]
        effective = float(input_scale) * float(filter_scale) / float(output_scale)
        out.append(quantize_multiplier(effective))
    return out


def fc_tensor_multiplier(input_scale: float, filter_scale: float,
                         output_scale: float) -> tuple[int, int]:
    """GetQuantizedConvolutionMultipler: the scale product in float32, the quotient in double."""
    product = float(f32(input_scale) * f32(filter_scale))
    return quantize_multiplier(product / float(output_scale))


def input_radius(integer_bits: int, left_shift: int, total_signed_bits: int = 31) -> int:
    """CalculateInputRadius (the floating-point variant)."""
    value = (1.0 * ((1 << integer_bits) - 1) * float(1 << (total_signed_bits - integer_bits))
             / float(1 << left_shift))
    return math.floor(value)


def softmax_params(beta: float, input_scale: float) -> tuple[int, int, int]:
    """(input_multiplier, input_left_shift, diff_min) of int8 SOFTMAX (softmax_common.cc)."""
    scaled_diff_integer_bits = 5
    real = min(float(beta) * float(input_scale) * float(1 << (31 - scaled_diff_integer_bits)),
               float((1 << 31) - 1))
    multiplier, left_shift = quantize_multiplier_greater_than_one(real)
    diff_min = -input_radius(scaled_diff_integer_bits, left_shift)
    return multiplier, left_shift, diff_min


def sigmoid_params(input_scale: float) -> tuple[int, int, int]:
    """(input_multiplier, input_left_shift, input_range_radius) of int8 LOGISTIC and TANH.

    Both use frexp directly rather than QuantizeMultiplier, with 4 integer bits.
    """
    input_integer_bits = 4
    real = float(input_scale) * float(1 << (31 - input_integer_bits))
    q, left_shift = math.frexp(real)
    multiplier = round_half_away(q * float(1 << 31))
    if multiplier > 2**31 - 1:
        raise QuantizationRangeError(f"input scale {input_scale!r} overflows the multiplier")
    return multiplier, left_shift, input_radius(input_integer_bits, left_shift)


def add_params(scale1: float, scale2: float, output_scale: float,
               ) -> tuple[int, tuple[int, int], tuple[int, int], tuple[int, int]]:
    """(left_shift, input1, input2, output (multiplier, shift)) of int8 ADD (add_common.cc)."""
    left_shift = 20
    twice_max = 2.0 * float(max(f32(scale1), f32(scale2)))
    real1 = float(scale1) / twice_max
    real2 = float(scale2) / twice_max
    real_out = twice_max / (float(1 << left_shift) * float(output_scale))
    return (left_shift, quantize_multiplier_smaller_than_one(real1),
            quantize_multiplier_smaller_than_one(real2),
            quantize_multiplier_smaller_than_one(real_out))


def mean_multiplier(input_scale: float, output_scale: float, count: int) -> tuple[int, int]:
    """The (multiplier, shift) QuantizedMeanOrSum uses for an int8 mean over ``count`` values."""
    multiplier, shift = quantize_multiplier(float(input_scale) / float(output_scale))
    if count <= 0:
        return multiplier, shift
    # Fold 1/count into the multiplier, as TFLM does at run time (shift kept >= -31).
    extra = min(count.bit_length() - 1, 32, 31 + shift)
    folded = (multiplier << extra) // count
    return int(np.array(folded, dtype=np.int64).astype(np.int32)), shift - extra


def wrap_int32(value: int) -> int:
    return wrap(value, 32)


def wrap(value: int, bits: int) -> int:
    """``value`` wrapped to a two's complement integer of ``bits`` bits."""
    half = 1 << (bits - 1)
    return (value + half) % (1 << bits) - half

def trunc_div(a: int, b: int) -> int:
    """C's integer division (toward zero), for b > 0."""
    q = abs(a) // b
    return q if a >= 0 else -q

def srdhm(a: int, b: int, bits: int = 32) -> int:
    """gemmlowp's SaturatingRoundingDoublingHighMul for int32 (or int16) values."""
    low = -(1 << (bits - 1))
    if a == b == low:
        return -low - 1
    ab = a * b
    nudge = (1 << (bits - 2)) if ab >= 0 else 1 - (1 << (bits - 2))
    return wrap(trunc_div(ab + nudge, 1 << (bits - 1)), bits)

def rdbpot(x: int, exponent: int, bits: int = 32) -> int:
    """gemmlowp's RoundingDivideByPOT in the given integer width."""
    mask = wrap((1 << exponent) - 1, bits)
    remainder = wrap(x & mask, bits)
    threshold = wrap((mask >> 1) + (1 if x < 0 else 0), bits)
    return wrap((x >> exponent) + (1 if remainder > threshold else 0), bits)


def multiply_by_quantized_multiplier(x: int, multiplier: int, shift: int) -> int:
    """MultiplyByQuantizedMultiplier (double rounding), in exact integers, for int32 x."""
    left, right = max(shift, 0), max(-shift, 0)
    a = wrap_int32(x << left)
    # gemmlowp's nudge-and-truncate is the floor of (a * m + 2^30) / 2^31 (and saturates the
    # one product that overflows).
    saturated = a == multiplier == -(2**31)
    high = 2**31 - 1 if saturated else (a * multiplier + 2**30) >> 31
    mask = (1 << right) - 1
    threshold = (mask >> 1) + (1 if high < 0 else 0)
    return (high >> right) + (1 if (high & mask) > threshold else 0)


FAST_BOUND = 2**29


def tame_channel(bias: int, reach: int, multiplier: int, shift: int, zero_point: int,
                 act_min: int, act_max: int) -> tuple[int, int, int]:
    """(bias, multiplier, shift) giving the same outputs as the given ones for every
    accumulator in [bias - reach, bias + reach], with the bias kept below FAST_BOUND - reach in
    magnitude where that is possible. The requantization is monotonic, so:

    - a channel with no weights (reach 0: every accumulator is the bias, as for a pruned channel
      some converters give a huge bias) outputs one constant k, which bias 4 (k - zero_point)
      with multiplier 2^30 and shift -1 (a quarter, exactly) reproduces;
    - a channel that saturates whatever the input keeps saturating with the smallest bias that
      still does.

    Other channels are returned as they are.
    """
    if abs(bias) + reach < FAST_BOUND:
        return bias, multiplier, shift

    def out(acc: int) -> int:
        return multiply_by_quantized_multiplier(acc, multiplier, shift) + zero_point

    if reach == 0:
        constant = min(max(out(bias), act_min), act_max)
        return 4 * (constant - zero_point), 1 << 30, -1
    if out(bias - reach) >= act_max:
        lo, hi = 0, bias - reach  # the smallest accumulator that still gives act_max
        while lo < hi:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if out(mid) >= act_max else (mid + 1, hi)
        return lo + reach, multiplier, shift
    if out(bias + reach) <= act_min:
        lo, hi = bias + reach, 0  # the largest accumulator that still gives act_min
        while lo < hi:
            mid = (lo + hi + 1) // 2
            lo, hi = (mid, hi) if out(mid) <= act_min else (lo, mid - 1)
        return lo - reach, multiplier, shift
    return bias, multiplier, shift


def sub_params(scale1: float, scale2: float, output_scale: float,
               ) -> tuple[int, tuple[int, int], tuple[int, int], tuple[int, int]]:
    """(left_shift, input1, input2, output (multiplier, shift)) of int8 SUB (sub_common.cc):
    ADD's parameters, but the divisions are made in float32 before widening to double."""
    left_shift = 20
    twice_max = f32(2) * max(f32(scale1), f32(scale2))
    real1 = float(f32(scale1) / twice_max)
    real2 = float(f32(scale2) / twice_max)
    real_out = float(twice_max / (f32(1 << left_shift) * f32(output_scale)))
    return (left_shift, quantize_multiplier_smaller_than_one(real1),
            quantize_multiplier_smaller_than_one(real2),
            quantize_multiplier_smaller_than_one(real_out))


def squared_difference_params(scale1: float, scale2: float, output_scale: float,
                              ) -> tuple[int, tuple[int, int], tuple[int, int], tuple[int, int]]:
    """int8 SQUARED_DIFFERENCE's PrepareQuantized: left shift 7, the inputs scaled to twice the
    larger scale in double, the output multiplier (a general one) over 2^14 * output scale."""
    left_shift = 7
    twice_max = 2.0 * float(max(f32(scale1), f32(scale2)))
    real1 = float(f32(scale1)) / twice_max
    real2 = float(f32(scale2)) / twice_max
    # (1 << 14) * float scale is a float32 product in TFLM.
    real_out = twice_max * twice_max / float(f32(1 << (2 * left_shift)) * f32(output_scale))
    return (left_shift, quantize_multiplier_smaller_than_one(real1),
            quantize_multiplier_smaller_than_one(real2), quantize_multiplier(real_out))


def leaky_relu_params(input_scale: float, output_scale: float, alpha: float,
                      ) -> tuple[tuple[int, int], tuple[int, int]]:
    """(identity, alpha) (multiplier, shift) of int8 LEAKY_RELU, from float32 quotients."""
    alpha_real = float(f32(input_scale) * f32(alpha) / f32(output_scale))
    identity_real = float(f32(input_scale) / f32(output_scale))
    return quantize_multiplier(identity_real), quantize_multiplier(alpha_real)
