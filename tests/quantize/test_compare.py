"""Agreement metrics, (de)quantization and the host TFLM run (no TF)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tinygen.errors import InputError
from tinygen.model import load_model
from tinygen.quantize.compare import (
    class_count,
    compare_outputs,
    dequantize_values,
    is_classifier,
    quantize_values,
    run_tflm,
)
from tinygen.reference import host_output_bytes

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"


def test_quantize_rounds_half_away_from_zero_and_saturates() -> None:
    tensor = replace(load_model(MODELS / "kws_tiny.tflite").inputs[0], scale=0.5, zero_point=-1)
    x = np.array([0.25, -0.25, 0.75, -0.75, 1000.0, -1000.0], np.float32)
    q = quantize_values(x, tensor)
    assert q.dtype == np.int8
    assert q.tolist() == [0, -2, 1, -3, 127, -128]
    assert dequantize_values(q, tensor).tolist() == [0.5, -0.5, 1.0, -1.0, 64.0, -63.5]


def test_metrics_of_a_classifier() -> None:
    f = np.array([[0.7, 0.2, 0.1], [0.1, 0.5, 0.4], [0.3, 0.3, 0.4], [0.0, 0.1, 0.9]],
                 np.float32)
    q = np.array([[0.6, 0.3, 0.1], [0.1, 0.4, 0.5], [0.3, 0.3, 0.4], [0.0, 0.1, 0.9]],
                 np.float32)
    a = compare_outputs(f, q, classifier=True, labels=[0, 1, 2, 1])
    assert a.samples == 4 and a.classifier
    assert a.top1_agreement == 0.75
    assert a.float_accuracy == 0.75 and a.int8_accuracy == 0.5
    assert a.max_abs_error == pytest.approx(0.1)
    assert a.mean_abs_error == pytest.approx(0.4 / 12)
    assert a.float_range[0] == 0.0 and a.float_range[1] == pytest.approx(0.9)
    assert set(a.to_json()) >= {"top1_agreement", "mean_abs_error", "max_abs_error",
                                "float_accuracy", "int8_accuracy"}


def test_metrics_otherwise() -> None:
    f = np.zeros((2, 1, 5), np.float32)
    q = np.full((2, 1, 5), 0.25, np.float32)
    a = compare_outputs(f, q, classifier=False)
    assert a.top1_agreement is None and a.float_accuracy is None
    assert a.mean_abs_error == 0.25 and a.max_abs_error == 0.25
    with pytest.raises(ValueError, match="labels need a classifier"):
        compare_outputs(f, q, classifier=False, labels=[0, 1])
    with pytest.raises(ValueError, match="differ"):
        compare_outputs(f, q[:1], classifier=False)


def test_label_beyond_the_classes() -> None:
    f = np.eye(3, dtype=np.float32)
    with pytest.raises(InputError, match="a label is 5, but the model has 3 classes"):
        compare_outputs(f, f, classifier=True, labels=[0, 1, 5])


def test_which_outputs_are_class_scores() -> None:
    kws = load_model(MODELS / "kws_tiny.tflite")  # ends in SOFTMAX
    ad = load_model(MODELS / "ad_tiny.tflite")  # [1,640] reconstruction
    assert class_count(kws) == 12 and is_classifier(kws, None, None)
    assert class_count(ad) == 640 and not is_classifier(ad, [0, 1], 2)  # MLPerf ad01 labels
    dense = load_model(REPO / "tests" / "data" / "int8_float_io.tflite")  # [1,4], no SOFTMAX
    assert class_count(dense) == 4
    assert not is_classifier(dense, None, None)
    assert is_classifier(dense, [0, 3], 4) and not is_classifier(dense, [0, 1], 2)
    assert is_classifier(dense, [0, 3], None)


@pytest.mark.parametrize("name", ["kws_tiny.tflite", "ad_tiny.tflite"])
def test_run_tflm_matches_the_reference_runner(name: str) -> None:
    path = MODELS / name
    info = load_model(path)
    inp, out = info.inputs[0], info.outputs[0]
    assert inp.scale is not None and inp.zero_point is not None
    rng = np.random.default_rng(0)
    q = rng.integers(-128, 128, (3, *inp.shape)).astype(np.int8)
    x = dequantize_values(q, inp)  # exactly representable: quantizing gives q back
    got = run_tflm(path.read_bytes(), info, x)
    assert got.shape == (3, *out.shape)
    for sample, result in zip(q, got, strict=True):
        raw = host_output_bytes(info, "generic", sample.tobytes())
        expected = dequantize_values(np.frombuffer(raw, np.int8).reshape(out.shape), out)
        assert np.array_equal(result, expected)


def test_run_tflm_with_float_io() -> None:
    path = REPO / "tests" / "data" / "int8_float_io.tflite"
    info = load_model(path)
    out = run_tflm(path.read_bytes(), info, np.zeros((2, 1, 16), np.float32))
    assert out.shape == (2, 1, 4) and out.dtype == np.float32
    assert np.array_equal(out[0], out[1])
