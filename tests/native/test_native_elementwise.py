"""The elementwise and reduction kernels added for exported models (SUB, SQUARED_DIFFERENCE,
MAXIMUM, MINIMUM, LEAKY_RELU, PRELU, HARD_SWISH, RSQRT, SUM) compiled for the host, byte for
byte against the TFLM interpreter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.native.native_host import CC, assert_op_model_bit_exact, compare
from tinygen.native import quant

DATA = Path(__file__).resolve().parents[1] / "data" / "native"
pytestmark = pytest.mark.skipif(CC is None, reason="no host C compiler")
# Each model (scripts/make_native_models.py) and the operators (/fused activation) it holds.
ELEMENTWISE_MODELS: dict[str, tuple[str, ...]] = {
    "op_sub": ("SUB/0",),
    "op_sub_relu": ("SUB/1",),
    "op_sub_broadcast": ("SUB/0", "MEAN"),
    "op_squared_difference": ("SQUARED_DIFFERENCE",),
    "op_squared_difference_broadcast": ("SQUARED_DIFFERENCE", "MEAN"),
    "op_maximum": ("MAXIMUM",),
    "op_maximum_broadcast": ("MAXIMUM", "MEAN"),
    "op_minimum": ("MINIMUM",),
    "op_leaky_relu": ("LEAKY_RELU",),
    "op_leaky_relu_input": ("LEAKY_RELU",),
    "op_hard_swish": ("HARD_SWISH",),
    "op_hard_swish_input": ("HARD_SWISH",),
    "op_rsqrt": ("RSQRT",),
    "op_prelu": ("PRELU",),
    "op_prelu_full_alpha": ("PRELU",),
    "op_sum_hw": ("SUM",),
    "op_sum_last_axis": ("SUM",),
    "op_sum_all_but_channels": ("SUM",),
}



@pytest.mark.parametrize("name", list(ELEMENTWISE_MODELS))
def test_elementwise_model_bit_exact(name: str, tmp_path: Path) -> None:
    path = DATA / f"{name}.tflite"
    assert_op_model_bit_exact(path, ELEMENTWISE_MODELS[name], tmp_path)


@pytest.mark.parametrize(("name", "width"), [("op_leaky_relu_input", 64),
                                           ("op_hard_swish_input", 128)])
def test_unary_ops_on_every_int8_value(name: str, width: int, tmp_path: Path) -> None:
    values = np.arange(-128, 128, dtype=np.int8)
    inputs = [values[i:i + width].reshape(1, width) for i in range(0, 256, width)]
    inputs += [x[:, ::-1].copy() for x in inputs]
    native, host = compare(DATA / f"{name}.tflite", tmp_path, inputs)
    assert native == host


def test_rsqrt_on_every_int8_value_it_accepts(tmp_path: Path) -> None:
    """RSQRT's input (after RELU and ADD) is never below its zero point, where TFLM stops
    with an error: feed the model every int8 input; the RSQRT sees the values above."""
    values = np.arange(-128, 128, dtype=np.int8)
    inputs = [values[i:i + 64].reshape(1, 64) for i in range(0, 256, 64)]
    native, host = compare(DATA / "op_rsqrt.tflite", tmp_path, inputs)
    assert native == host


def test_sub_divides_in_float32_where_add_uses_double() -> None:
    """sub_common.cc divides the scales in float32 before widening; the parameters must come
    from that arithmetic (they differ from ADD's for some scales)."""
    scales = np.random.default_rng(1).uniform(0.001, 0.2, size=(400, 3)).astype(np.float32)
    differ = sum(quant.sub_params(*map(float, s)) != quant.add_params(*map(float, s))
                 for s in scales)
    assert differ > 0
