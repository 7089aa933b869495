"""Native-runtime firmware end to end: build, QEMU, protocol, bytewise against the host TFLM.

The first whole-inference tests that need no TFLM sources: only arm-none-eabi-gcc, QEMU and the
PyPI tflite-micro interpreter.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import REFERENCE
from tests.native.test_native_elementwise import ELEMENTWISE_MODELS
from tests.native.test_native_layers import LAYER_MODELS
from tests.native.test_native_move import MOVE_MODELS
from tinygen.board import load_board
from tinygen.build_options import BuildOptions
from tinygen.firmware import BuildResult, build_firmware
from tinygen.model import load_model
from tinygen.native.render import prepare_native
from tinygen.reference import host_output_bytes, random_payload
from tinygen.runner.emulator import QemuTransport
from tinygen.runner.protocol import DutClient
from tinygen.verify import verify_firmware

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"
NATIVE_DATA = REPO / "tests" / "data" / "native"
pytestmark = [
    pytest.mark.qemu,
    pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None,
                       reason="arm-none-eabi-gcc is not installed"),
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="no qemu-system-arm"),
]


def _build(model: Path, out: Path, board: str = "mps2_an386",
           benchmark: str | None = None) -> BuildResult:
    return build_firmware(BuildOptions(board=load_board(board), out_dir=out, model_path=model,
                                       runtime="native", benchmark=benchmark))


def _assert_bit_exact(result: BuildResult, model: Path, extra: list[bytes] | None = None,
                      randoms: int = 2) -> None:
    info = load_model(model)
    inputs = [(f"sample-{i}", data) for i, data in enumerate(extra or [])]
    inputs += [(f"random-{seed}", random_payload(info, result.benchmark, seed))
               for seed in range(randoms)]
    checks = verify_firmware(result.board, result.elf, info, result.benchmark, inputs)
    assert [c.label for c in checks if not c.equal] == []
    assert len({c.host for c in checks}) > 1, "all inputs gave one output: nothing was tested"


@pytest.mark.parametrize("name", ["kws_tiny", "ic_tiny", "ad_tiny"])
def test_bundled_models_bit_exact(name: str, tmp_path: Path) -> None:
    model = MODELS / f"{name}.tflite"
    result = _build(model, tmp_path / name)
    assert result.runtime == "native" and result.library is None
    assert result.warnings == ()
    roles = {r["role"]: r for r in result.audit.to_json()["roles"]}
    assert roles["arena"]["ram"] == result.arena_size
    assert "tflm" not in roles or roles["tflm"]["flash"] == 0
    _assert_bit_exact(result, model)


# Odd shapes for the DSP inner loops (depths and channel counts not multiples of 4, odd pixel
# counts, depth multipliers, batches, per-tensor weights), through the generic port.
DSP_SHAPES = ("conv_odd_channels", "conv_asymmetric_stride", "depthwise_multiplier2_relu6",
              "depthwise_5x5_stride2_same", "fully_connected_batch3",
              "fully_connected_per_tensor", "mul_broadcast_sigmoid", "softmax_rows", "tanh")


@pytest.mark.parametrize("name", DSP_SHAPES)
def test_op_models_on_cortex_m4(name: str, tmp_path: Path) -> None:
    model = REPO / "tests" / "data" / "ops" / f"{name}.tflite"
    _assert_bit_exact(_build(model, tmp_path / "fw", benchmark="generic"), model, randoms=3)


# float32 I/O around int8 compute (QUANTIZE ... DEQUANTIZE), made by
# scripts/make_native_models.py: the generic port sends and returns the float32 bytes.
FLOAT_IO = ("float_io_dense_tanh", "float_io_batch3", "float_io_conv", "float_io_wide")


@pytest.mark.parametrize("name", FLOAT_IO)
def test_float_io_models_bit_exact(name: str, tmp_path: Path) -> None:
    model = NATIVE_DATA / f"{name}.tflite"
    result = _build(model, tmp_path / "fw")
    assert result.benchmark == "generic"
    _assert_bit_exact(result, model, randoms=3)


@pytest.mark.parametrize("name", ["keras_flatten_dynamic_batch", "keras_reshape_dynamic_batch"])
def test_keras_dynamic_batch_models_bit_exact(name: str, tmp_path: Path) -> None:
    """Flatten / Reshape on a dynamic batch: the SHAPE, STRIDED_SLICE, PACK computing the new
    shape are folded at generation time; the firmware runs the rest."""
    model = NATIVE_DATA / f"{name}.tflite"
    result = _build(model, tmp_path / "fw", benchmark="generic")
    _assert_bit_exact(result, model, randoms=3)


# The kernels added for exported models: every model of the host tests of the data-movement,
# elementwise, reduction and layer kernels (scripts/make_native_models.py).
NEW_KERNELS = (*MOVE_MODELS, *ELEMENTWISE_MODELS, *LAYER_MODELS)


@pytest.mark.parametrize("name", NEW_KERNELS)
def test_new_kernels_bit_exact(name: str, tmp_path: Path) -> None:
    model = NATIVE_DATA / f"{name}.tflite"
    _assert_bit_exact(_build(model, tmp_path / "fw", benchmark="generic"), model, randoms=3)


@pytest.mark.parametrize(("board", "kernels"), [("mps2_an386", "native"),
                                               ("mps2_an385", "native"),
                                               ("mps2_an386", "native-portable")])
def test_convolutions_over_their_inputs_bit_exact(board: str, kernels: str,
                                                  tmp_path: Path) -> None:
    """Two convolutions write their outputs over their dying inputs, three rows before them
    (tinygen.native.conv_lag), with the DSP loops and in plain C."""
    model = NATIVE_DATA / "op_conv_over_input.tflite"
    assert prepare_native(load_model(model)).plan.shifted == (2, 4)
    result = build_firmware(BuildOptions(board=load_board(board), out_dir=tmp_path / "fw",
                                         model_path=model, runtime="native", kernels=kernels,
                                         benchmark="generic"))
    assert "over its input" in (tmp_path / "fw" / "src" / "model.c").read_text()
    _assert_bit_exact(result, model, randoms=4)


def test_svdf_model_bit_exact(tmp_path: Path) -> None:
    """Two SVDF layers (int16 state, reset before every inference as the TFLM port does)."""
    model = REPO / "tests" / "data" / "sequence" / "svdf_kws.tflite"
    if not model.is_file():
        pytest.skip(f"{model.name} is not there")
    _assert_bit_exact(_build(model, tmp_path / "fw", benchmark="generic"), model, randoms=3)


def test_unrolled_keras_gru_bit_exact(tmp_path: Path) -> None:
    """A Keras GRU layer, unrolled (scripts/make_gru_model.py): UNPACK, SPLIT, STRIDED_SLICE,
    FULLY_CONNECTED, LOGISTIC, TANH, SUB, MUL and ADD per step."""
    model = REPO / "tests" / "data" / "sequence" / "gru_kws.tflite"
    _assert_bit_exact(_build(model, tmp_path / "fw", benchmark="generic"), model, randoms=3)


def test_portable_kernels_on_a_dsp_core(tmp_path: Path) -> None:
    """--kernels native-portable: the plain C loops on a core that has the DSP extension."""
    model = MODELS / "kws_tiny.tflite"
    result = build_firmware(BuildOptions(board=load_board("mps2_an386"), out_dir=tmp_path / "fw",
                                         model_path=model, runtime="native",
                                         kernels="native-portable"))
    assert result.kernels == "native-portable"
    _assert_bit_exact(result, model)


def test_cortex_m7_board(tmp_path: Path) -> None:
    model = MODELS / "ic_tiny.tflite"
    _assert_bit_exact(_build(model, tmp_path / "fw", board="mps2_an500"), model)


@pytest.mark.parametrize(("name", "port", "board"), [
    ("ad_tiny", "ad01", "mps2_an386"), ("ic_tiny", "ic01", "mps2_an386"),
    ("ad_tiny", "ad01", "mps2_an385"),
])
def test_repeated_inference_keeps_its_input(tmp_path: Path, name: str, port: str,
                                            board: str) -> None:
    """`infer N W` runs th_infer N + W times on one load: every run must see the same input,
    although the plan reuses the input tensor's memory (both models' plans do): the float
    quantization (ad01; on the Cortex-M3, without an FPU, by thresholds instead of a software
    division) and the uint8 flip (ic01) run again before each inference."""
    model = MODELS / f"{name}.tflite"
    assert not prepare_native(load_model(model)).plan.input_kept
    result = _build(model, tmp_path / "fw", board=board)
    assert ("s_thresholds" in (result.out_dir / "src" / "th_model.c").read_text()) == (
        board == "mps2_an385")
    info = load_model(model)
    payload = random_payload(info, port, 5)
    with QemuTransport(result.board, result.elf) as uart:
        dut = DutClient(uart)
        dut.start()
        dut.load(payload)
        dut.infer(3, 2)
        assert dut.outbytes() == host_output_bytes(info, port, payload)


def test_cortex_m3_board(tmp_path: Path) -> None:
    """No DSP instructions, no FPU: the portable kernels and soft-float I/O conversion."""
    model = MODELS / "ad_tiny.tflite"
    _assert_bit_exact(_build(model, tmp_path / "fw", board="mps2_an385"), model, randoms=2)



@pytest.mark.parametrize("name", list(REFERENCE))
def test_reference_models_bit_exact(name: str, mlperf: Path, tmp_path: Path) -> None:
    filename, sample = REFERENCE[name]
    model = mlperf / "models" / filename
    result = _build(model, tmp_path / "fw")
    assert result.benchmark == f"{name}01"
    _assert_bit_exact(result, model, [(mlperf / sample).read_bytes()] if sample else None)
