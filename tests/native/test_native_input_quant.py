"""The division-free float32 -> int8 input quantization (tinygen.native.input_quant) against the
reference quantization, on values chosen to hit every threshold and its neighbours."""

from __future__ import annotations

import numpy as np
import pytest

from tinygen.native.input_quant import (
    from_keys,
    keys,
    quantize_by_thresholds,
    quantize_thresholds,
)
from tinygen.reference import quantize_f32


def _probe_values(thresholds: tuple[int, ...], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    finite = np.array([k for k in thresholds if abs(k) < 2**31 - 1], dtype=np.int64)
    edges = np.concatenate([finite - 1, finite, finite + 1])
    values = np.concatenate([
        rng.uniform(-200.0, 200.0, 20000), rng.standard_normal(5000) * 1e-3,
        np.array([0.0, -0.0, np.inf, -np.inf, 3e38, -3e38, 1e-45, -1e-45]),
    ]).astype(np.float32)
    values = np.concatenate([values, from_keys(edges)])
    return values[~np.isnan(values)]


@pytest.mark.parametrize(("scale", "zero_point"), [
    (0.3, 5), (0.0123, -128), (1e-30, 0), (123.4, 127), (0.5, 0), (0.0390625, -20),
])
def test_thresholds_give_the_reference_bytes(scale: float, zero_point: int) -> None:
    thresholds = quantize_thresholds(scale, zero_point)
    assert len(thresholds) == 255 and list(thresholds) == sorted(thresholds)
    values = _probe_values(thresholds, seed=3)
    assert np.array_equal(quantize_by_thresholds(values, thresholds),
                          quantize_f32(values, scale, zero_point))


def test_keys_order_floats() -> None:
    values = np.array([-np.inf, -1e30, -1.0, -1e-40, -0.0, 0.0, 1e-40, 1.0, 1e30, np.inf],
                      dtype=np.float32)
    k = keys(values)
    assert list(k) == sorted(k) and np.array_equal(from_keys(k), values)
    assert np.signbit(from_keys(k)[4])  # -0.0 survives the round trip
