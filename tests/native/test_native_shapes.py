"""The kernel paths for shapes that were slower than TFLM+CMSIS-NN (bench/native_shapes.py):
depthwise on one input channel as a convolution (into one channel, as a 2-D correlation), the
multiplier-1 depthwise loop with channels left over, pools by four channels. Each is compiled
for the host (plain C) and built for a Cortex-M4 (the SMLABB/SMLATT, SMLAD, SXTAB16 and
SSUB8/SEL paths) and a Cortex-M3 (no DSP), run in QEMU and compared with the TFLM interpreter
byte for byte."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.native.native_host import CC, assert_op_model_bit_exact
from tinygen.board import load_board
from tinygen.build_options import BuildOptions
from tinygen.firmware import build_firmware
from tinygen.model import load_model
from tinygen.native.render import prepare_native
from tinygen.reference import random_payload
from tinygen.verify import verify_firmware

DATA = Path(__file__).resolve().parents[1] / "data" / "native"
# Each model (scripts/make_native_models.py), the operators (/fused activation) it holds and
# the kernel its first operator must lower to.
SHAPE_MODELS: dict[str, tuple[tuple[str, ...], str]] = {
    "op_depthwise_one_channel_m8": (("DEPTHWISE_CONV_2D/1",), "tg_conv_s8"),
    "op_depthwise_one_channel_m2": (("DEPTHWISE_CONV_2D/0",), "tg_depthwise_s8"),
    "op_depthwise_one_channel_m1": (("DEPTHWISE_CONV_2D/1",), "tg_depthwise_c1_s8"),
    "op_depthwise_one_channel_m1_5x5_s2": (("DEPTHWISE_CONV_2D/0",), "tg_depthwise_c1_s8"),
    "op_depthwise_c7_dilated": (("DEPTHWISE_CONV_2D/0",), "tg_depthwise_m1_s8"),
    "op_depthwise_c13_stride2": (("DEPTHWISE_CONV_2D/3",), "tg_depthwise_m1_s8"),
    "op_depthwise_c6_5x5": (("DEPTHWISE_CONV_2D/0",), "tg_depthwise_m1_s8"),
    "op_max_pool_c6": (("CONV_2D", "MAX_POOL_2D"), "tg_max_pool_s8"),
    "op_avg_pool_c5": (("CONV_2D", "AVERAGE_POOL_2D"), "tg_avg_pool_s8"),
}
@pytest.mark.parametrize("name", list(SHAPE_MODELS))
def test_shape_model_lowers_to_its_kernel(name: str) -> None:
    function = SHAPE_MODELS[name][1]
    calls = prepare_native(load_model(DATA / f"{name}.tflite")).calls
    assert function in [c.function for c in calls]


@pytest.mark.skipif(CC is None, reason="no host C compiler")
@pytest.mark.parametrize("name", list(SHAPE_MODELS))
def test_shape_model_bit_exact_on_host(name: str, tmp_path: Path) -> None:
    assert_op_model_bit_exact(DATA / f"{name}.tflite", SHAPE_MODELS[name][0], tmp_path)


@pytest.mark.parametrize("board", ["mps2_an386", "mps2_an385"])
@pytest.mark.parametrize("name", list(SHAPE_MODELS))
@pytest.mark.qemu
@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None,
                    reason="arm-none-eabi-gcc is not installed")
@pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="no qemu-system-arm")
def test_shape_model_bit_exact_in_qemu(name: str, board: str, tmp_path: Path) -> None:
    model = DATA / f"{name}.tflite"
    result = build_firmware(BuildOptions(board=load_board(board), out_dir=tmp_path,
                                         model_path=model, runtime="native"))
    info = load_model(model)
    inputs = [(f"random-{seed}", random_payload(info, result.benchmark, seed))
              for seed in range(3)]
    checks = verify_firmware(result.board, result.elf, info, result.benchmark, inputs)
    assert [c.label for c in checks if not c.equal] == []
    assert len({c.host for c in checks}) > 1, "all inputs gave one output: nothing was tested"
