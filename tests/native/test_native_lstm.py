"""UNIDIRECTIONAL_SEQUENCE_LSTM on the native runtime (int8, int16 cell state): TFLM's Prepare
arithmetic, refusals, and whole Keras exports byte for byte against the TFLM interpreter,
compiled for the host (UBSan) and in QEMU."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

from tests.native.native_host import CC, compare
from tinygen.board import load_board
from tinygen.build_options import BuildOptions
from tinygen.deps import cached_path, load_manifest
from tinygen.errors import ModelError
from tinygen.firmware import build_firmware
from tinygen.model import load_model
from tinygen.native.calls import UnsupportedOpError
from tinygen.native.graph import graph_of
from tinygen.native.lowering_lstm import (
    SIGMOID_TABLE,
    checked_log2,
    quantized_cell_clip,
    tanh_input,
)
from tinygen.native.render import prepare_native
from tinygen.reference import random_payload
from tinygen.verify import verify_firmware

DATA = Path(__file__).resolve().parents[1] / "data"
# (folder, model): scripts/make_sequence_models.py (sequence/) and scripts/make_lstm_models.py
# (lstm/). lstm_kws: 49 steps, 24 units, last state only; lstm_stacked: a 16-unit layer
# returning its sequence into an 8-unit one; lstm_sequence_out: the sequence is the output;
# lstm_batch2: two sequences; lstm_two_units: 24 steps of two units. And TFLM's own mnist_lstm
# example (28 steps of 28 pixels, 20 units), from the pinned checkout when tinygen's cache has it.
MODELS = (("sequence", "lstm_kws"), ("sequence", "lstm_stacked"), ("lstm", "lstm_sequence_out"),
          ("lstm", "lstm_batch2"), ("lstm", "lstm_two_units"), ("tflm", "mnist_lstm_int8"))
IDS = [name for _, name in MODELS]
TFLM_MNIST_LSTM = "tensorflow/lite/micro/examples/mnist_lstm/trained_lstm_int8.tflite"


def _tflm_checkout() -> Path:
    return cached_path(next(p for p in load_manifest() if p.name == "tflite-micro"))


def _model(folder: str, name: str) -> Path:
    path = _tflm_checkout() / TFLM_MNIST_LSTM if folder == "tflm" else (
        DATA / folder / f"{name}.tflite")
    if not path.is_file():
        pytest.skip(f"{path.name} is not there")
    return path


def _extreme_inputs(shape: tuple[int, ...]) -> list[np.ndarray]:
    """Inputs that drive the gates and the cell state to their limits (saturated sigmoid and
    tanh tables, the cell clip): constant -128 or 127, and the two alternating by step."""
    alternating = np.where(np.arange(shape[1]) % 2 == 0, 127, -128).astype(np.int8)
    return [np.full(shape, -128, np.int8), np.full(shape, 127, np.int8),
            np.broadcast_to(alternating[None, :, None], shape).astype(np.int8)]


# --- Prepare's arithmetic -------------------------------------------------------------------

def test_cell_state_scale_power() -> None:
    # CheckedLog2 in float32; the converter gives the cell state a power-of-two scale.
    assert checked_log2(2.0**-14) == -14
    assert checked_log2(2.0**-15) == -15
    assert checked_log2(3.0517578125e-05) == -15


@pytest.mark.parametrize(("power", "expected"), [
    (-12, (3, 0)),   # the gates' Q3.12: no shift
    (-11, (6, 0)),   # a left shift folds into the multiplier (3 << 1)
    (-14, (3, 2)),   # a right shift keeps the multiplier 3
    (-15, (3, 3)),
])
def test_tanh_input_of_the_cell_state(power: int, expected: tuple[int, int]) -> None:
    assert tanh_input(power) == expected


def test_quantized_cell_clip() -> None:
    assert quantized_cell_clip(10.0, 2.0**-14) == 32767  # clamped to int16
    assert quantized_cell_clip(0.5, 2.0**-14) == 8192
    assert quantized_cell_clip(0.30001, 2.0**-10) == 307  # truncated, not rounded


def test_sigmoid_table_is_tflm_s() -> None:
    """The table the int16 sigmoid and tanh interpolate equals the pinned TFLM's."""
    header = _tflm_checkout() / "tensorflow" / "lite" / "kernels" / "internal" / "common.h"
    if not header.is_file():
        pytest.skip("the pinned TFLM checkout is not in tinygen's cache (tinygen deps)")
    text = header.read_text()
    body = re.search(r"sigmoid_table_uint16\[256\]\s*=\s*\{([^}]*)\}", text)
    assert body is not None
    assert tuple(int(v) for v in body.group(1).split(",")) == SIGMOID_TABLE


# --- What the lowering refuses ---------------------------------------------------------------

def _lstm_op(model: Any) -> Any:
    return next(op for op in model.subgraphs[0].operators if len(op.inputs) == 24)


def _with_peephole(model: Any) -> None:
    op = _lstm_op(model)
    op.inputs[9] = op.inputs[1]  # a cell-to-input (peephole) weight


def _with_relu_cell(model: Any) -> None:
    _lstm_op(model).builtinOptions.fusedActivationFunction = 1


def _with_per_channel_weights(model: Any) -> None:
    op = _lstm_op(model)
    weights = model.subgraphs[0].tensors[op.inputs[2]]
    q, rows = weights.quantization, int(weights.shape[0])
    q.scale = [float(q.scale[0])] * rows
    q.zeroPoint = [0] * rows
    q.quantizedDimension = 0


@pytest.mark.parametrize(("edit", "fragment"), [
    (_with_peephole, "peephole, projection or layer-norm inputs"),
    (_with_relu_cell, "cell activation 1 (TFLM's kernel takes TANH, 4)"),
    (_with_per_channel_weights, "input 2 needs per-tensor quantization"),
])
def test_refused_lstm_variants(tmp_path: Path, edit_model: Any, edit: Any,
                               fragment: str) -> None:
    path = edit_model(_model("sequence", "lstm_kws"), tmp_path / "edited.tflite", edit)
    with pytest.raises(UnsupportedOpError) as caught:
        prepare_native(load_model(path))
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in str(caught.value)
    assert fragment in str(caught.value)
    assert "--runtime tflm" in (caught.value.hint or "")


def _without_options(model: Any) -> None:
    op = _lstm_op(model)
    op.builtinOptionsType, op.builtinOptions = 0, None


def _with_fc_options(model: Any) -> None:
    ops = model.subgraphs[0].operators
    fc = next(o for o in ops if o.builtinOptionsType == schema.BuiltinOptions.FullyConnectedOptions)
    _lstm_op(model).builtinOptionsType = fc.builtinOptionsType
    _lstm_op(model).builtinOptions = fc.builtinOptions


@pytest.mark.parametrize(("edit", "fragment"), [
    # TFLM would run the cell gate with no activation: its kernel aborts (TFLITE_ASSERT_FALSE).
    (_without_options, "it has no UnidirectionalSequenceLSTMOptions"),
    (_with_fc_options, "options are FullyConnectedOptions; UNIDIRECTIONAL_SEQUENCE_LSTM takes "
                       "UnidirectionalSequenceLSTMOptions"),
])
def test_lstm_options_checked_at_load(tmp_path: Path, edit_model: Any, edit: Any,
                                      fragment: str) -> None:
    path = edit_model(_model("sequence", "lstm_kws"), tmp_path / "edited.tflite", edit)
    with pytest.raises(ModelError) as caught:
        load_model(path)
    assert "operator 0 (UNIDIRECTIONAL_SEQUENCE_LSTM)" in caught.value.message
    assert fragment in caught.value.message
    assert caught.value.hint


# --- Whole models, host ----------------------------------------------------------------------

@pytest.mark.skipif(CC is None, reason="no host C compiler")
@pytest.mark.parametrize(("folder", "name"), MODELS, ids=IDS)
def test_lstm_model_bit_exact_on_the_host(folder: str, name: str, tmp_path: Path) -> None:
    """Random inputs over the whole int8 range and saturating ones; the states start from
    TFLM's reset for every input (native_host resets the interpreter's variables)."""
    path = _model(folder, name)
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in [op.kind for op in graph_of(load_model(path)).ops]
    graph = graph_of(load_model(path))
    shape = graph.tensor(graph.inputs[0]).shape
    rng = np.random.default_rng(len(name))
    inputs = [rng.integers(-128, 128, shape).astype(np.int8) for _ in range(12)]
    inputs += _extreme_inputs(shape)
    native, host = compare(path, tmp_path, inputs=inputs)
    assert native == host
    assert len(set(host)) > 1


# --- Edited models: the limits the exports do not reach --------------------------------------

def _scaled_weights(factor: float, clip: float | None = None) -> Any:
    """Weight scales times ``factor`` (the gates' sums saturate int16 and the sigmoid and tanh
    tables their ends; the cell state runs into int16's limits) and, if given, a cell clip."""

    def edit(model: Any) -> None:
        op = _lstm_op(model)
        for position in range(1, 9):
            q = model.subgraphs[0].tensors[op.inputs[position]].quantization
            q.scale = [float(np.float32(v * factor)) for v in q.scale]
        if clip is not None:
            op.builtinOptions.cellClip = clip
    return edit


STRESS = {
    "saturated gates, clip 10": _scaled_weights(40.0),
    "saturated gates, no clip": _scaled_weights(40.0, clip=0.0),
    "clip 0.3": _scaled_weights(4.0, clip=0.3),
    "moderate gates, clip 1.5": _scaled_weights(6.0, clip=1.5),
}


@pytest.mark.skipif(CC is None, reason="no host C compiler")
@pytest.mark.parametrize("case", sorted(STRESS))
@pytest.mark.parametrize(("folder", "name"), MODELS[:2], ids=IDS[:2])
def test_lstm_limits_bit_exact_on_the_host(folder: str, name: str, case: str, tmp_path: Path,
                                           edit_model: Any) -> None:
    """Saturating gate sums, the ends of the sigmoid and tanh interpolations, the cell state at
    -32768 (clipped to -32767 under a clip) and small clips: byte for byte with TFLM."""
    path = edit_model(_model(folder, name), tmp_path / "edited.tflite", STRESS[case])
    graph = graph_of(load_model(path))
    shape = graph.tensor(graph.inputs[0]).shape
    rng = np.random.default_rng(7)
    inputs = [rng.integers(-128, 128, shape).astype(np.int8) for _ in range(8)]
    inputs += _extreme_inputs(shape)
    native, host = compare(path, tmp_path / "host", inputs=inputs)
    assert native == host
    assert len(set(host)) > 1


def _time_major(model: Any) -> None:
    """lstm_batch2 read time-major: its [2, 10, 4] input is 2 steps of 10 sequences (the
    states widened to 10 rows; the layers after it see the same shapes)."""
    op = _lstm_op(model)
    op.builtinOptions.timeMajor = True
    tensors = model.subgraphs[0].tensors
    units = int(tensors[op.inputs[18]].shape[-1])
    for position in (18, 19):
        tensors[op.inputs[position]].shape = [10, units]


@pytest.mark.skipif(CC is None, reason="no host C compiler")
def test_time_major_lstm_bit_exact_on_the_host(tmp_path: Path, edit_model: Any) -> None:
    path = edit_model(_model("lstm", "lstm_batch2"), tmp_path / "time_major.tflite", _time_major)
    ops = graph_of(load_model(path)).ops
    lstm_op = next(op for op in ops if op.kind.startswith("UNIDIRECTIONAL"))
    assert lstm_op.options["timeMajor"]
    shape = (2, 10, 4)
    rng = np.random.default_rng(11)
    inputs = [rng.integers(-128, 128, shape).astype(np.int8) for _ in range(8)]
    native, host = compare(path, tmp_path / "host", inputs=inputs + _extreme_inputs(shape))
    assert native == host
    assert len(set(host)) > 1


# --- Whole models, QEMU ----------------------------------------------------------------------

@pytest.mark.qemu
@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None,
                    reason="arm-none-eabi-gcc is not installed")
@pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="no qemu-system-arm")
@pytest.mark.parametrize(("folder", "name"), MODELS, ids=IDS)
def test_lstm_model_bit_exact_in_qemu(folder: str, name: str, tmp_path: Path) -> None:
    path = _model(folder, name)
    result = build_firmware(BuildOptions(board=load_board("mps2_an386"), out_dir=tmp_path,
                                         model_path=path, runtime="native"))
    assert result.runtime == "native"
    info = load_model(path)
    shape = info.inputs[0].shape
    inputs = [(f"extreme-{i}", x.tobytes()) for i, x in enumerate(_extreme_inputs(shape))]
    inputs += [(f"random-{seed}", random_payload(info, result.benchmark, seed))
               for seed in range(3)]
    checks = verify_firmware(result.board, result.elf, info, result.benchmark, inputs)
    assert [c.label for c in checks if not c.equal] == []
    assert len({c.host for c in checks}) > 1
