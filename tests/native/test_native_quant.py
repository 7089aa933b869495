"""Generation-time quantization arithmetic, against values worked out from TFLM's definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tinygen.native import quant


@pytest.mark.parametrize("value,expected", [
    (2.5, 3), (-2.5, -3), (2.4999999, 2), (-2.6, -3), (0.5, 1), (-0.5, -1), (0.0, 0),
    (1.5, 2), (-1.5, -2), (4503599627370495.5, 4503599627370496),
])
def test_round_half_away_from_zero(value: float, expected: int) -> None:
    assert quant.round_half_away(value) == expected


@pytest.mark.parametrize("real,expected", [
    (0.0, (0, 0)),
    (0.5, (1 << 30, 0)),
    (1.0, (1 << 30, 1)),
    (0.75, (3 << 29, 0)),
    (2.0 ** -31, (1 << 30, -30)),
    (2.0 ** -40, (0, 0)),  # shift below -31: flushed to zero
    (1.0 - 2.0 ** -33, (1 << 30, 1)),  # rounds up to 2^31: halved, shift + 1
    (0.5 + 2.0 ** -33, (1 << 30, 0)),  # rounds down
    (0.5 + 3 * 2.0 ** -33, (2 ** 30 + 1, 0)),  # 2^30 + 0.75 rounds up
])
def test_quantize_multiplier(real: float, expected: tuple[int, int]) -> None:
    assert quant.quantize_multiplier(real) == expected


def test_quantize_multiplier_is_close_for_random_scales() -> None:
    rng = np.random.default_rng(1)
    for real in rng.uniform(1e-6, 4.0, 500):
        m, shift = quant.quantize_multiplier(float(real))
        assert 1 << 30 <= m < 1 << 31
        assert math.isclose(m * 2.0 ** (shift - 31), real, rel_tol=2.0 ** -30)


def test_activation_ranges() -> None:
    # RELU6 with scale 6/255 and zero point -128: 0 -> -128, 6 -> 127.
    scale = float(np.float32(6.0 / 255.0))
    assert quant.activation_range(quant.ACT_RELU6, scale, -128) == (-128, 127)
    assert quant.activation_range(quant.ACT_RELU, 0.1, 5) == (5, 127)
    assert quant.activation_range(quant.ACT_NONE, 0.1, 5) == (-128, 127)
    # RELU_N1_TO_1 at scale 1/64, zero point 0: [-64, 64].
    assert quant.activation_range(quant.ACT_RELU_N1_TO_1, 1 / 64, 0) == (-64, 64)


def test_fc_multiplier_takes_the_scale_product_in_float32() -> None:
    # Scales whose float32 product differs from their double product.
    a, b, out = 0.1, 0.3, 0.7
    a32, b32 = float(np.float32(a)), float(np.float32(b))
    double_product = quant.quantize_multiplier(a32 * b32 / float(np.float32(out)))
    got = quant.fc_tensor_multiplier(a32, b32, float(np.float32(out)))
    assert got == quant.quantize_multiplier(float(np.float32(a32) * np.float32(b32))
                                            / float(np.float32(out)))
    assert got != double_product


def test_softmax_params_for_a_typical_scale() -> None:
    mult, shift, diff_min = quant.softmax_params(1.0, 0.125)
    # beta * scale * 2^26 = 2^23: multiplier 2^30 with a left shift of 24.
    assert (mult, shift) == (1 << 30, 24)
    assert diff_min == -math.floor(31 * 2.0 ** 26 / 2.0 ** 24)


def test_add_multipliers_are_below_one() -> None:
    left, (m1, s1), (m2, s2), (mo, so) = quant.add_params(0.125, 0.25, 0.5)
    assert left == 20
    assert (m1, s1) == (1 << 30, -1)  # 0.125 / (2 * 0.25) = 0.25
    assert (m2, s2) == (1 << 30, 0)  # 0.25 / 0.5 = 0.5
    assert (mo, so) == (1 << 30, -19)  # 0.5 / (2^20 * 0.5) = 2^-20


def test_mean_folds_the_count_into_the_multiplier() -> None:
    m, s = quant.mean_multiplier(0.5, 0.5, 16)
    # multiplier 2^30 shift 1 (1.0); / 16 with a 4-bit extra shift: 2^30 * 16 / 16.
    assert (m, s) == (1 << 30, 1 - 4)
    m3, s3 = quant.mean_multiplier(0.5, 0.5, 3)
    assert (m3, s3) == ((1 << 31) // 3, 0)
