"""The native runtime's C, compiled for the host, equals the TFLM interpreter byte for byte.

Every model here runs through tinygen's code generation (graph, lowering, memory plan, kernels)
and the host gcc with UBSan; no TFLM sources or Arm toolchain are needed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REFERENCE
from tests.native.native_host import (
    CC,
    assert_op_model_bit_exact,
    compare,
    compile_folder,
    random_inputs,
    run_host,
    run_interpreter,
    write_sources,
)
from tinygen.model import load_model
from tinygen.native.render import prepare_native

REPO = Path(__file__).resolve().parents[2]
OPS = REPO / "tests" / "data" / "ops"
NATIVE_DATA = REPO / "tests" / "data" / "native"
pytestmark = pytest.mark.skipif(CC is None, reason="no host C compiler")

# Each per-op model and the operators (and fused activation codes) it must contain, so that a
# regenerated model that lost its point fails here instead of passing on something else.
OP_MODELS: dict[str, tuple[str, ...]] = {
    "conv_same_relu": ("CONV_2D/1",),
    "conv_valid_stride2": ("CONV_2D/0",),
    "conv_dilated_relu6": ("CONV_2D/3",),
    "conv_asymmetric_stride": ("CONV_2D/1",),
    "conv_1x1_stride2": ("CONV_2D/1",),
    "conv_odd_channels": ("CONV_2D/0",),
    "depthwise_same_relu": ("DEPTHWISE_CONV_2D/1",),
    "depthwise_stride2_valid": ("DEPTHWISE_CONV_2D/0",),
    "depthwise_multiplier2_relu6": ("DEPTHWISE_CONV_2D/3",),
    "depthwise_dilated": ("DEPTHWISE_CONV_2D/0",),
    "depthwise_5x5_stride2_same": ("DEPTHWISE_CONV_2D/1",),
    "fully_connected_relu": ("FULLY_CONNECTED/1",),
    "fully_connected_batch3": ("FULLY_CONNECTED/0",),
    "fully_connected_per_tensor": ("FULLY_CONNECTED/3",),
    "avg_pool_same_stride2": ("AVERAGE_POOL_2D/0",),
    "avg_pool_valid_2x2": ("AVERAGE_POOL_2D/0",),
    "max_pool_same_stride2": ("MAX_POOL_2D/0",),
    "max_pool_valid_relu": ("MAX_POOL_2D/1",),
    "add_relu": ("ADD/1",),
    "add_broadcast": ("ADD/0", "MEAN"),
    "mul": ("MUL/0",),
    "mul_broadcast_sigmoid": ("MUL/0", "LOGISTIC", "MEAN"),
    "softmax": ("SOFTMAX",),
    "softmax_rows": ("SOFTMAX", "MUL/0"),
    "logistic": ("LOGISTIC",),
    "tanh": ("TANH",),
    "float_io": ("QUANTIZE", "DEQUANTIZE"),
    "requantize_concat": ("QUANTIZE", "CONCATENATION"),
    "relu": ("RELU",),
    "relu6": ("RELU6",),
    "pad": ("PAD",),
    "pad_constant": ("PADV2",),
    "concatenation": ("CONCATENATION",),
    "concatenation_axis1": ("CONCATENATION", "RELU"),
    "mean_hw": ("MEAN",),
    "mean_last_axis": ("MEAN",),
    "reshape_squeeze": ("RESHAPE",),
}


def _assert_equal(native: list[bytes], host: list[bytes]) -> None:
    differing = [i for i, (a, b) in enumerate(zip(native, host, strict=True)) if a != b]
    assert differing == [], f"inputs {differing} differ from the TFLM interpreter"



@pytest.mark.parametrize("name", list(OP_MODELS))
def test_op_model_bit_exact(name: str, tmp_path: Path) -> None:
    path = OPS / f"{name}.tflite"
    assert_op_model_bit_exact(path, OP_MODELS[name], tmp_path)


@pytest.mark.parametrize("name", ["logistic", "tanh"])
def test_sigmoids_on_every_int8_value(name: str, tmp_path: Path) -> None:
    """The model takes 256 values: feed each int8 value once (and reversed)."""
    values = np.arange(-128, 128, dtype=np.int8).reshape(1, 256)
    native, host = compare(OPS / f"{name}.tflite", tmp_path, [values, values[:, ::-1].copy()])
    _assert_equal(native, host)


@pytest.mark.parametrize("name", ["kws_tiny", "ic_tiny", "ad_tiny"])
def test_bundled_models_bit_exact(name: str, tmp_path: Path) -> None:
    native, host = compare(REPO / "models" / f"{name}.tflite", tmp_path, count=5)
    _assert_equal(native, host)
    assert len(set(host)) > 1


def test_float_io_model_bit_exact(tmp_path: Path) -> None:
    native, host = compare(REPO / "tests" / "data" / "int8_float_io.tflite", tmp_path, count=5)
    _assert_equal(native, host)
    assert len(set(host)) > 1


@pytest.mark.parametrize("name", ["float_io_dense_tanh", "float_io_batch3", "float_io_conv",
                                  "float_io_wide"])
def test_float_io_models_bit_exact(name: str, tmp_path: Path) -> None:
    native, host = compare(NATIVE_DATA / f"{name}.tflite", tmp_path, count=5)
    _assert_equal(native, host)
    assert len(set(host)) > 1



@pytest.mark.parametrize("name", list(REFERENCE))
def test_reference_models_bit_exact(name: str, mlperf: Path, tmp_path: Path) -> None:
    filename, sample = REFERENCE[name]
    path = mlperf / "models" / filename
    inputs = random_inputs(prepare_native(load_model(path)), 3, seed=7)
    if sample:
        raw = np.frombuffer((mlperf / sample).read_bytes(), dtype=np.uint8)
        # The port's pre-processing: KWS sends int8 bytes, IC uint8 RGB minus 128.
        values = raw.view(np.int8) if name == "kws" else (raw.astype(np.int16) - 128)
        inputs.insert(0, values.astype(np.int8).reshape(inputs[0].shape))
    native, host = compare(path, tmp_path, inputs)
    _assert_equal(native, host)
    assert len(set(host)) > 1


def test_a_wrong_bias_is_caught(tmp_path: Path) -> None:
    """The comparison is sharp: one bias changed in the generated C changes some output."""
    path = OPS / "conv_same_relu.tflite"
    model = prepare_native(load_model(path))
    write_sources(model, tmp_path)
    data = tmp_path / "src" / "model_data.c"
    text = data.read_text()
    # The first channel's bias: in the packed parameters when the op has them.
    array = "tg_op0_rq[" if "tg_op0_rq[" in text else "tg_op0_bias["
    brace = text.index("{", text.index(array)) + 1
    end = text.index(",", brace)
    data.write_text(f"{text[:brace]}\n    {int(text[brace:end]) + 300}{text[end:]}")
    inputs = random_inputs(model, 4, seed=3)
    out_bytes = model.graph.tensor(model.graph.outputs[0]).nbytes
    assert run_host(compile_folder(tmp_path), inputs, out_bytes) != run_interpreter(path, inputs)
