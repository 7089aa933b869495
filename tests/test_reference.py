"""The host reference: inputs fed as the firmware port feeds them, and only defined ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tinygen.errors import InputError
from tinygen.model import load_model
from tinygen.reference import float_input_range, input_tensor, random_payload

FLOAT_IO = Path(__file__).resolve().parent / "data" / "native" / "float_io_dense_tanh.tflite"


def test_random_float_inputs_are_finite_and_around_the_quantization_range() -> None:
    """Random bit patterns as float32 hold NaN and values past int32 once quantized, where
    TFLM's conversion is undefined and the host's outputs are no device's (issue 15)."""
    info = load_model(FLOAT_IO)
    low, high = float_input_range(info)
    assert low < -1.0 and high > 1.0
    for seed in range(3):
        values = np.frombuffer(random_payload(info, "generic", seed), dtype="<f4")
        assert values.size == 16 and np.isfinite(values).all()
        assert low <= values.min() and values.max() <= high
        input_tensor(info, "generic", values.tobytes())  # accepted


@pytest.mark.parametrize("bad", [np.nan, np.inf, 3.0e12])
def test_float_inputs_tflm_leaves_undefined_are_refused(bad: float) -> None:
    info = load_model(FLOAT_IO)
    values = np.zeros(16, dtype="<f4")
    values[5] = bad
    with pytest.raises(InputError, match="input value 5") as err:
        input_tensor(info, "generic", values.tobytes())
    assert err.value.hint and "input range" in err.value.hint
