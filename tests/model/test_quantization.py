"""Quantization verdicts (tinygen/model/quantization.py) on models of each class users export, and
which of them a build accepts (model.check_buildable)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

from tests.conftest import ModelEditor
from tinygen.errors import ModelError
from tinygen.model import check_buildable, load_model
from tinygen.model.quantization import VERDICTS, integer_internals

DATA = Path(__file__).resolve().parents[1] / "data"
ROOT = DATA.parent.parent


@pytest.mark.parametrize("path, verdict, internals", [
    ("models/kws_tiny.tflite", "int8", ()),
    ("tests/data/sequence/svdf_kws.tflite", "int8", ("SVDF",)),
    ("tests/data/sequence/lstm_kws.tflite", "int8", ("UNIDIRECTIONAL_SEQUENCE_LSTM",)),
    ("tests/data/tflm_ops/arg_max.tflite", "int8", ()),  # int32 output from ARG_MAX
    ("tests/data/int8_float_io.tflite", "int8-float-io", ()),
    ("tests/data/quantization/int16x8_conv.tflite", "int16x8", ()),
    ("tests/data/quantization/int16x8_dense_softmax.tflite", "int16x8", ()),
    ("tests/data/quantization/layernorm_island.tflite", "int8-float-island", ()),
    ("tests/data/quantization/hybrid_dense.tflite", "hybrid", ()),
    ("tests/data/float_model.tflite", "float", ()),
])
def test_verdicts(path: str, verdict: str, internals: tuple[str, ...]) -> None:
    info = load_model(ROOT / path)
    assert info.quantization == verdict
    assert verdict in VERDICTS
    assert integer_internals(info.operators, info.tensors) == internals


@pytest.mark.parametrize("name", ["sequence/svdf_kws", "sequence/lstm_stacked",
                                  "quantization/int16x8_conv", "quantization/layernorm_island"])
def test_integer_classes_and_float_islands_are_buildable(name: str) -> None:
    check_buildable(load_model(DATA / f"{name}.tflite"))


def test_hybrid_is_refused_with_the_quantize_hint() -> None:
    with pytest.raises(ModelError, match="dynamic-range") as info:
        check_buildable(load_model(DATA / "quantization" / "hybrid_dense.tflite"))
    assert info.value.hint and "representative dataset" in info.value.hint


def test_float_parts_outside_an_island_are_refused(edit_model: ModelEditor,
                                                    tmp_path: Path) -> None:
    """The island's QUANTIZE back to int8 made a float32 -> float32 one: float activations
    then reach FULLY_CONNECTED's int8 weights, which no TFLM kernel takes (hybrid)."""
    source = DATA / "quantization" / "layernorm_island.tflite"
    info = load_model(source)
    quantize = next(op for op in info.operators if op.name == "QUANTIZE")

    def edit(model: Any) -> None:
        model.subgraphs[0].tensors[quantize.outputs[0]].type = schema.TensorType.FLOAT32

    edited = load_model(edit_model(source, tmp_path / "edited.tflite", edit))
    assert edited.quantization in ("hybrid", "mixed")
    with pytest.raises(ModelError):
        check_buildable(edited)
