"""The worked example of docs/quantize.md on the MLPerf Tiny KWS data (needs ../shared and TF).

The float KWS model in ../shared is dynamic-range quantized: tinygen refuses it and says why;
its weights rebuilt as a float Keras model (kws_float.py) stand in for its source.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tflite_micro.python.tflite_micro import runtime

from tinygen.cli import main
from tinygen.errors import ExitCode
from tinygen.model import check_buildable, load_model

from .conftest import MLPERF, save_keras
from .kws_float import KWS_FLOAT, rebuild_kws

Capture = pytest.CaptureFixture[str]
KWS01 = MLPERF / "datasets" / "kws01"
# The int8 reference model's input quantization, which the kws01 files were made with.
SCALE, ZERO_POINT = 0.5847029, 83


@pytest.fixture
def kws_data() -> Path:
    if not KWS_FLOAT.is_file() or not (KWS01 / "y_labels.csv").is_file():
        pytest.skip(f"MLPerf Tiny KWS model and data not found under {MLPERF.resolve()}")
    return KWS01


def test_float_kws_tflite_is_refused_with_what_to_do(capsys: Capture, kws_data: Path,
                                                      tmp_path: Path) -> None:
    """Without TensorFlow too: a .tflite is explained before anything is imported."""
    out = tmp_path / "kws_int8.tflite"
    code = main(["quantize", str(KWS_FLOAT), "--calibration", str(kws_data), "--out", str(out)])
    stdout, err = capsys.readouterr()
    assert code == ExitCode.BAD_INPUT and stdout == ""
    assert "is a dynamic-range quantized .tflite (int8 weights, float computation" in err
    assert "cannot quantize a .tflite again" in err
    assert "hint: give tinygen quantize the model the .tflite was converted from" in err
    assert "MLPerf Tiny kws01" in err and "kws_ref_model.tflite" in err
    assert not out.exists()


def test_rebuilt_kws_quantizes_and_keeps_its_accuracy(capsys: Capture, tf: Any,
                                                      kws_data: Path, tmp_path: Path) -> None:
    model = save_keras(rebuild_kws(), tmp_path / "kws_float.keras")
    out = tmp_path / "kws_int8.tflite"
    code = main(["quantize", str(model), "--calibration", str(kws_data), "--out", str(out),
                 "--bin-dtype", "int8", "--input-scale", str(SCALE),
                 "--input-zero-point", str(ZERO_POINT), "--json"])
    stdout, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(stdout)
    ev = data["evaluation"]
    assert ev["samples"] == 100 and len(data["calibration"]["samples"]) == 100
    assert ev["top1_agreement"] >= 0.97
    assert ev["float_accuracy"] >= 0.88
    assert ev["int8_accuracy"] >= ev["float_accuracy"] - 0.02

    info = load_model(out)
    assert info.benchmark == "kws01" and info.quantization == "int8"
    check_buildable(info)
    inp = info.inputs[0]
    assert (np.float32(inp.scale), inp.zero_point) == (np.float32(SCALE), ZERO_POINT)

    # The benchmark runner sends the files' bytes as they are: that gives the same accuracy.
    labels = {row.split(",")[0]: int(row.split(",")[2])
              for row in (kws_data / "y_labels.csv").read_text().split()}
    interpreter = runtime.Interpreter.from_file(str(out))
    right = 0
    for name in ev["held_back"]:
        raw = np.frombuffer((kws_data / name).read_bytes(), dtype=np.int8)
        interpreter.set_input(raw.reshape(inp.shape), 0)
        interpreter.invoke()
        right += int(np.argmax(interpreter.get_output(0)) == labels[name])
    assert right / len(ev["held_back"]) == ev["int8_accuracy"]
