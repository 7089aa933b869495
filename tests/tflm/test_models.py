"""The model classes users export, built under TFLM and bit-exact with the host interpreter in
QEMU: full-integer SVDF and UNIDIRECTIONAL_SEQUENCE_LSTM (int16 state; scripts/
make_sequence_models.py and TFLM's own example models), 16x8 and a float island (scripts/
make_quantization_models.py), and one model per int8 operator (section 2 of issue 15).

Needs TFLM sources (see tests/tflm/support.py); the library is the one the other TFLM tests
build for mps2_an386.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.tflm.support import tflm_unreachable_reason
from tinygen.board import load_board
from tinygen.build_options import BuildOptions
from tinygen.deps import load_manifest, resolve
from tinygen.errors import ModelError
from tinygen.firmware import BuildResult, build_firmware
from tinygen.model import load_model
from tinygen.reference import random_payload
from tinygen.verify import verify_firmware

DATA = Path(__file__).resolve().parents[1] / "data"
_REASON = tflm_unreachable_reason()
pytestmark = [
    pytest.mark.tflm,
    pytest.mark.skipif(_REASON is not None, reason=_REASON or ""),
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="no qemu-system-arm"),
]


def _build(model: Path, out: Path, **kw: object) -> BuildResult:
    return build_firmware(BuildOptions(board=load_board("mps2_an386"), out_dir=out,
                                       model_path=model, **kw))  # type: ignore[arg-type]


def _assert_bit_exact(result: BuildResult, model: Path) -> None:
    """Three seeded inputs, then the first again: equal to the host's fresh interpreter each
    time, so a stateful model also starts every inference from its initial state."""
    info = load_model(model)
    inputs = [(f"random-{seed}", random_payload(info, result.benchmark, seed))
              for seed in (0, 1, 2, 0)]
    checks = verify_firmware(result.board, result.elf, info, result.benchmark, inputs)
    assert [c.label for c in checks if not c.equal] == []
    assert checks[0].device == checks[3].device


@pytest.mark.parametrize("name", ["svdf_kws", "lstm_kws", "lstm_stacked", "gru_kws"])
def test_sequence_models_bit_exact(name: str, tmp_path: Path) -> None:
    model = DATA / "sequence" / f"{name}.tflite"
    assert load_model(model).quantization == "int8"
    result = _build(model, tmp_path / "fw")
    assert result.warnings == ()
    _assert_bit_exact(result, model)


# TFLM's own full-integer models with int16 (or int8) state: the keyword benchmark's SVDF
# models and the mnist_lstm example. Before the guarded arena, the arena bisection faulted on
# keyword_scrambled (a bus fault in the greedy memory planner writing 0x8666xxxx).
_TFLM_MODELS = {
    "keyword_scrambled": "tensorflow/lite/micro/models/keyword_scrambled.tflite",
    "keyword_scrambled_8bit": "tensorflow/lite/micro/models/keyword_scrambled_8bit.tflite",
    "mnist_lstm_int8": "tensorflow/lite/micro/examples/mnist_lstm/trained_lstm_int8.tflite",
}


@pytest.mark.parametrize("name", list(_TFLM_MODELS))
def test_tflm_example_models_bit_exact(name: str, tmp_path: Path) -> None:
    tflm = resolve(tuple(p for p in load_manifest() if p.name == "tflite-micro"))
    model = tflm["tflite-micro"].path / _TFLM_MODELS[name]
    if not model.is_file():
        pytest.skip(f"{_TFLM_MODELS[name]} is not in the pinned TFLM")
    result = _build(model, tmp_path / "fw")
    assert result.arena_size is not None and result.arena_source in ("measured", "cached")
    _assert_bit_exact(result, model)


@pytest.mark.parametrize("name, verdict", [
    ("int16x8_conv", "int16x8"),
    ("int16x8_dense_softmax", "int16x8"),
    ("layernorm_island", "int8-float-island"),
])
def test_quantization_classes_bit_exact(name: str, verdict: str, tmp_path: Path) -> None:
    model = DATA / "quantization" / f"{name}.tflite"
    assert load_model(model).quantization == verdict
    result = _build(model, tmp_path / "fw")
    assert result.benchmark == "generic"
    _assert_bit_exact(result, model)


# Float32 I/O around int8 compute (QUANTIZE first, DEQUANTIZE last) and Keras exports with
# Flatten/Reshape on a dynamic batch (SHAPE, STRIDED_SLICE, PACK computing a shape), made by
# scripts/make_native_models.py: TFLM runs them as they are.
@pytest.mark.parametrize("name", ["float_io_dense_tanh", "float_io_batch3", "float_io_conv",
                                  "float_io_wide", "keras_flatten_dynamic_batch",
                                  "keras_reshape_dynamic_batch"])
def test_exported_keras_shapes_bit_exact(name: str, tmp_path: Path) -> None:
    model = DATA / "native" / f"{name}.tflite"
    result = _build(model, tmp_path / "fw")
    _assert_bit_exact(result, model)


def test_hybrid_model_refused_before_compiling(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="dynamic-range") as info:
        _build(DATA / "quantization" / "hybrid_dense.tflite", tmp_path / "fw")
    assert info.value.hint and "quantization" in info.value.hint
    assert not (tmp_path / "fw").exists()


def _one_model_per_operator() -> list[Path]:
    """Few of the per-operator int8 models (tests/data/native/op_*.tflite, and those of the
    operators only TFLM runs, tests/data/tflm_ops) that together hold every operator they
    exercise: greedily the one adding the most operators not yet held (then the smallest).
    The common operators (CONV_2D, POOL, ...) run in the other TFLM tests."""
    paths = [*(DATA / "native").glob("op_*.tflite"), *(DATA / "tflm_ops").glob("*.tflite")]
    ops = {path: set(load_model(path).op_counts) for path in sorted(paths)}
    covered: set[str] = set()
    chosen = []
    while True:
        best = max(ops, key=lambda p: (len(ops[p] - covered), -p.stat().st_size), default=None)
        if best is None or not ops[best] - covered:
            return sorted(chosen)
        covered |= ops.pop(best)
        chosen.append(best)


@pytest.mark.parametrize("model", _one_model_per_operator(), ids=lambda p: p.stem)
def test_every_int8_operator_bit_exact(model: Path, tmp_path: Path) -> None:
    result = _build(model, tmp_path / "fw")
    _assert_bit_exact(result, model)


def test_arena_search_reaches_the_board_ram(tmp_path: Path) -> None:
    """MobileNet-v2 at 224x224 (int8, 300 M MACs, exported from PyTorch; TFLM ships it) needs
    a 2.6 MB arena: more than the probe's old fixed 2 MiB, within mps2_an386's 4 MiB."""
    tflm = resolve(tuple(p for p in load_manifest() if p.name == "tflite-micro"))
    model = (tflm["tflite-micro"].path / "third_party/xtensa/examples/pytorch_to_tflite"
             / "mobilenet_v2_quantized_1x3x224x224.tflite")
    if not model.is_file():
        pytest.skip("the pinned TFLM has no MobileNet-v2 224 example")
    result = _build(model, tmp_path / "fw")
    assert result.arena_size is not None and result.arena_size > 2 * 1024 * 1024
    info = load_model(model)
    payload = random_payload(info, result.benchmark, 0)
    checks = verify_firmware(result.board, result.elf, info, result.benchmark,
                             [("random-0", payload)])
    assert checks[0].equal
