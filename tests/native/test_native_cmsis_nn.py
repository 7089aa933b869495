"""--kernels cmsis-nn: scratch sizes as the pinned CMSIS-NN computes them, the calls' parameters,
the generated project (no CMSIS-NN sources needed here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tinygen.board import load_board
from tinygen.model import load_model
from tinygen.native import cmsis_nn, quant
from tinygen.native.cmsis_nn import (
    ConvGeometry,
    Dims,
    avgpool_buffer_size,
    conv_wrapper_buffer_size,
    depthwise_wrapper_buffer_size,
    fully_connected_buffer_size,
)
from tinygen.native.graph import graph_of
from tinygen.native.render import NativeModel, prepare_native, render_native
from tinygen.native.runtime import NativeRuntime

REPO = Path(__file__).resolve().parents[2]
OPS = REPO / "tests" / "data" / "ops"
MODELS = REPO / "models"


def _geometry(**changes: int) -> ConvGeometry:
    values = {"stride_h": 1, "stride_w": 1, "pad_h": 0, "pad_w": 0, "dil_h": 1, "dil_w": 1}
    return ConvGeometry(**(values | changes))


UNIT = _geometry()


@pytest.mark.parametrize("dsp", [True, False])
def test_conv_buffer_sizes(dsp: bool) -> None:
    x = Dims(1, 10, 10, 6)
    # 1x1 without padding or dilation: the 1x1 kernels, no buffer with GCC (stride or not).
    assert conv_wrapper_buffer_size(dsp, UNIT, x, Dims(8, 1, 1, 6)) == 0
    assert conv_wrapper_buffer_size(dsp, _geometry(stride_h=2, stride_w=2), x,
                                    Dims(8, 1, 1, 6)) == 0
    # A padded 1x1 takes the general kernel: two int16 columns of the depth rounded up to 4.
    assert conv_wrapper_buffer_size(dsp, _geometry(pad_h=1), x, Dims(8, 1, 1, 6)) == 2 * 8 * 2
    # 3x3x6 = 54 -> 56.
    assert conv_wrapper_buffer_size(dsp, _geometry(pad_h=1, pad_w=1), x,
                                    Dims(8, 3, 3, 6)) == 2 * 56 * 2
    assert conv_wrapper_buffer_size(dsp, _geometry(dil_h=2, dil_w=2), x,
                                    Dims(8, 3, 3, 6)) == 2 * 56 * 2
    # 1xN (one input row, stride * depth a multiple of 4) has arm_convolve_s8's size.
    assert conv_wrapper_buffer_size(dsp, UNIT, Dims(1, 1, 49, 4), Dims(8, 1, 5, 4)) == 2 * 20 * 2


def test_conv_kind_predicates() -> None:
    x = Dims(1, 1, 16, 3)
    assert cmsis_nn.is_convolve_1x1(UNIT, x, Dims(4, 1, 1, 3))
    assert not cmsis_nn.is_convolve_1x1(_geometry(dil_w=2), x, Dims(4, 1, 1, 3))
    assert not cmsis_nn.is_convolve_1_x_n(UNIT, x, Dims(4, 1, 3, 3))  # 1 * 3 % 4 != 0
    assert cmsis_nn.is_convolve_1_x_n(_geometry(stride_w=4), x, Dims(4, 1, 3, 3))


def test_depthwise_buffer_sizes() -> None:
    x, y = Dims(1, 12, 12, 8), Dims(1, 12, 12, 8)
    # 3x3 with padding <= 1: arm_depthwise_conv_3x3_s8, no buffer.
    assert depthwise_wrapper_buffer_size(True, _geometry(pad_h=1, pad_w=1), x,
                                         Dims(1, 3, 3, 8), y) == 0
    # Otherwise the optimized kernel: an int16 column of every channel's taps (DSP only).
    five = _geometry(pad_h=2, pad_w=2)
    assert depthwise_wrapper_buffer_size(True, five, x, Dims(1, 5, 5, 8), y) == 8 * 25 * 2
    assert depthwise_wrapper_buffer_size(False, five, x, Dims(1, 5, 5, 8), y) == 0
    # A depth multiplier, a batch or a dilation: the generic kernel, no buffer.
    assert depthwise_wrapper_buffer_size(True, five, x, Dims(1, 5, 5, 16),
                                         Dims(1, 12, 12, 16)) == 0
    assert depthwise_wrapper_buffer_size(True, five, Dims(2, 12, 12, 8), Dims(1, 5, 5, 8),
                                         Dims(2, 12, 12, 8)) == 0
    assert depthwise_wrapper_buffer_size(True, _geometry(dil_h=2), x, Dims(1, 5, 5, 8), y) == 0


def test_pool_and_fully_connected_buffer_sizes() -> None:
    assert avgpool_buffer_size(True, 24) == 96
    assert avgpool_buffer_size(False, 24) == 0
    assert fully_connected_buffer_size(True) == fully_connected_buffer_size(False) == 0


def _cmsis(model: Path, dsp: bool = True) -> NativeModel:
    return prepare_native(load_model(model), "cmsis-nn", dsp)


def test_covered_ops_call_cmsis_nn_and_the_rest_stay_native() -> None:
    model = _cmsis(MODELS / "kws_tiny.tflite")
    functions = {c.kind: c.function for c in model.calls if c.function}
    assert functions["CONV_2D"] == "arm_convolve_wrapper_s8"
    assert functions["DEPTHWISE_CONV_2D"] == "arm_depthwise_conv_wrapper_s8"
    assert functions["FULLY_CONNECTED"] in ("arm_fully_connected_s8",
                                            "arm_fully_connected_per_channel_s8")
    assert functions["SOFTMAX"] == "arm_softmax_s8"
    # Only the sources of the functions called, none of the native kernels they replace.
    assert set(model.library_sources) == {
        s for c in model.calls for s in cmsis_nn.SOURCES.get(c.function, ())}
    assert "tg_conv.c" not in model.kernel_sources


@pytest.mark.parametrize(("name", "function"), [
    ("add_relu", "arm_elementwise_add_s8"), ("mul", "arm_elementwise_mul_s8"),
    ("add_broadcast", "tg_add_direct_s8"), ("mul_broadcast_sigmoid", "tg_mul_s8"),
    ("avg_pool_same_stride2", "arm_avgpool_s8"), ("max_pool_valid_relu", "arm_max_pool_s8"),
    ("fully_connected_per_tensor", "arm_fully_connected_s8"),
    ("depthwise_dilated", "arm_depthwise_conv_wrapper_s8"),
    ("logistic", "tg_logistic_s8"),
])
def test_broadcasting_and_uncovered_ops_keep_native_kernels(name: str, function: str) -> None:
    kinds = {c.function for c in _cmsis(OPS / f"{name}.tflite").calls}
    assert function in kinds


def test_conv_parameters_are_tflms() -> None:
    """The raw bias and TFLM's multipliers (not the native kernels' folded or tamed ones)."""
    path = OPS / "conv_same_relu.tflite"
    graph = graph_of(load_model(path))
    call = next(c for c in _cmsis(path).calls if c.kind == "CONV_2D")
    op = graph.ops[call.op_index]
    x, w, y = (graph.tensor(t) for t in (op.inputs[0], op.inputs[1], op.outputs[0]))
    fields = dict(call.fields)
    assert f".input_offset = {-x.zero_point}, .output_offset = {y.zero_point}" in fields["conv"]
    assert ".padding = {.w = 1, .h = 1}" in fields["conv"]
    assert fields["filter"] == f"{{.n = {w.shape[0]}, .h = 3, .w = 3, .c = {w.shape[3]}}}"
    expected = quant.conv_channel_multipliers(x.scale, w.scales, y.scale, w.shape[0])
    consts = {c.name: c.values for c in call.consts}
    assert consts[f"tg_op{op.index}_mult"] == tuple(m for m, _ in expected)
    assert consts[f"tg_op{op.index}_shift"] == tuple(s for _, s in expected)
    # Weights and bias are the model's own tensors, as stored.
    tensors = [a.tensors[0] for a in call.args if a.kind == "tensor"]
    assert tensors == [op.inputs[0], op.inputs[1], op.inputs[2], op.outputs[0]]
    assert call.scratch_bytes == 2 * 2 * ((9 * x.shape[3] + 3) // 4 * 4)


def test_scratch_sizes_follow_the_core() -> None:
    path = OPS / "depthwise_5x5_stride2_same.tflite"
    dsp = next(c for c in _cmsis(path, dsp=True).calls if c.kind == "DEPTHWISE_CONV_2D")
    plain = next(c for c in _cmsis(path, dsp=False).calls if c.kind == "DEPTHWISE_CONV_2D")
    assert plain.scratch_bytes == 0 < dsp.scratch_bytes


def _files(model: Path = MODELS / "kws_tiny.tflite", board: str = "mps2_an386",
           checkouts: dict[str, str] | None = None) -> dict[str, str]:
    runtime = NativeRuntime(load_model(model), _cmsis(model, load_board(board).has_dsp),
                            "generic", kernels="cmsis-nn", checkouts=checkouts or {})
    return runtime.render(load_board(board), runtime.planned_arena).files


def test_project_names_checkouts_not_paths() -> None:
    files = _files(checkouts={"cmsis-nn": "/somewhere/cmsis-nn", "cmsis": "/somewhere/cmsis"})
    assert files == _files(), "the generated files do not depend on where the checkouts are"
    assert not any("/somewhere" in text for text in files.values())
    config = json.loads(files["tinygen_project.json"])
    assert config["dep_include_dirs"] == [list(d) for d in cmsis_nn.INCLUDE_DIRS]
    sources = [s for d, s in config["dep_sources"]]
    assert {d for d, _ in config["dep_sources"]} == {"cmsis-nn"}
    assert sources == sorted(sources) and "Source/ConvolutionFunctions/arm_convolve_s8.c" in sources
    assert ["cmsis-nn/", "-O2"] in config["opt_overrides"]
    assert "src/native/tg_cmsis_nn.h" in files
    assert '#include "tg_cmsis_nn.h"' in files["src/model_data.h"]


def test_generated_code_checks_cmsis_nn_scratch_sizes_at_start_up() -> None:
    files = _files()
    model_c = files["src/model.c"]
    model = _cmsis(MODELS / "kws_tiny.tflite")
    for call in model.calls:
        if call.check:
            expr = call.check.format(p=f"tg_op{call.op_index}")
            assert f"size = {expr};" in model_c
            assert f"if (size > {call.scratch_bytes})" in model_c
    assert "tg_model_check(&needed, &planned)" in files["src/th_model.c"]
    assert "e-[Operator %ld needs %ld scratch bytes" in files["src/th_model.c"]


def test_native_kernels_have_no_library_and_no_checks() -> None:
    model = MODELS / "kws_tiny.tflite"
    info = load_model(model)
    files = render_native(load_board("mps2_an386"), info, prepare_native(info), "kws01").files
    assert "dep_sources" not in json.loads(files["tinygen_project.json"])
    assert "tg_cmsis_nn.h" not in files["src/model_data.h"]
    assert "return -1;" in files["src/model.c"] and "size =" not in files["src/model.c"]
