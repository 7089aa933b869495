"""Giving an int8 model's input the data's quantization with a QUANTIZE op in front (no TF)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tinygen.model import check_buildable, parse_model
from tinygen.quantize.compare import dequantize_values, quantize_values, run_tflm
from tinygen.quantize.pipeline import float_operators
from tinygen.quantize.requantize import input_quantization, pin_input_quantization

REPO = Path(__file__).resolve().parents[2]
KWS_TINY = REPO / "models" / "kws_tiny.tflite"


def test_same_quantization_changes_nothing() -> None:
    data = KWS_TINY.read_bytes()
    scale, zero_point = input_quantization(data) or (0.0, 0)
    assert pin_input_quantization(data, scale, zero_point) is data


def test_pinned_input_reads_the_data_as_the_calibrated_one_did(tmp_path: Path) -> None:
    data = KWS_TINY.read_bytes()
    old = parse_model(data, KWS_TINY)
    calibrated = input_quantization(data)
    assert calibrated is not None
    pinned = pin_input_quantization(data, calibrated[0] * 1.5, calibrated[1] + 7)
    new = parse_model(pinned, tmp_path / "pinned.tflite")

    assert new.quantization == "int8" and not float_operators(new)
    check_buildable(new)
    assert new.operators[0].name == "QUANTIZE" and len(new.operators) == len(old.operators) + 1
    inp = new.inputs[0]
    assert (inp.name, inp.dtype, inp.shape) == (old.inputs[0].name, "int8", old.inputs[0].shape)
    assert np.float32(inp.scale) == np.float32(calibrated[0] * 1.5)
    assert inp.zero_point == calibrated[1] + 7
    assert input_quantization(pinned) == (inp.scale, inp.zero_point)

    # Same float inputs, each model quantizing them its own way: the same answers, up to the
    # one rounding step the QUANTIZE adds.
    rng = np.random.default_rng(1)
    q = rng.integers(-100, 100, (8, *inp.shape)).astype(np.int8)
    x = dequantize_values(q, inp)
    assert np.array_equal(quantize_values(x, inp), q)
    before = run_tflm(data, old, x)
    after = run_tflm(pinned, new, x)
    assert np.array_equal(np.argmax(before.reshape(8, -1), 1), np.argmax(after.reshape(8, -1), 1))
    assert np.abs(before - after).max() <= 0.05
