"""``tinygen quantize`` end to end with TensorFlow: small Keras models built here, quantized,
compared, and the result run on the host TFLM interpreter (skipped without TensorFlow)."""

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
from tinygen.quantize.convert import tensorflow_output

from .conftest import (
    CLASSES,
    build_with,
    make_samples,
    save_keras,
    write_mlperf_folder,
    write_npy_folder,
)

Capture = pytest.CaptureFixture[str]
pytestmark = pytest.mark.usefixtures("tf")


def _quantize(capsys: Capture, *argv: object) -> tuple[int, str, str]:
    code = main(["quantize", *(str(a) for a in argv)])
    out, err = capsys.readouterr()
    return code, out, err


def _json(capsys: Capture, *argv: object) -> dict[str, Any]:
    code, out, err = _quantize(capsys, *argv, "--json")
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)  # stdout holds the JSON and nothing else
    return data


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_classifier_agrees_and_runs_on_host(capsys: Capture, classifier_keras: Path,
                                            npy_folder: tuple[Path, list[int]],
                                            tmp_path: Path) -> None:
    folder, _ = npy_folder
    out = tmp_path / "out" / "classifier_int8.tflite"
    code, text, err = _quantize(capsys, classifier_keras, "--calibration", folder,
                                "--out", out, "--samples", 20)
    assert code == 0, err
    assert "top-1 agreement  100.0 % (20 of 20)" in text
    assert "held back        20 samples, not used for calibration" in text
    assert "int8 input and output" in text
    # The report ends with inspect's summary of the written model.
    assert f"model         {out}" in text and "quantization  int8 (full integer" in text
    assert text.rstrip().endswith("unsupported   none")
    assert "loading TensorFlow" in err and "Saved artifact" not in err  # TF's log held back

    info = load_model(out)
    assert info.quantization == "int8"
    check_buildable(info)
    assert {"CONV_2D", "FULLY_CONNECTED", "SOFTMAX"} <= set(info.op_counts)
    conv_weights = [info.tensors[op.inputs[1]] for op in info.operators if op.name == "CONV_2D"]
    assert conv_weights[0].num_scales == 2  # per-channel

    # The written file runs on the host interpreter and classifies new samples right.
    x, labels = make_samples(10, seed=99)
    inp, outp = info.inputs[0], info.outputs[0]
    assert inp.scale is not None and inp.zero_point is not None
    interpreter = runtime.Interpreter.from_file(str(out))
    right = 0
    for sample, label in zip(x, labels, strict=True):
        q = np.clip(np.round(sample / inp.scale) + inp.zero_point, -128, 127).astype(np.int8)
        interpreter.set_input(q.reshape(inp.shape), 0)
        interpreter.invoke()
        right += int(np.argmax(interpreter.get_output(0)) == label)
    assert right == len(labels)
    assert outp.dtype == "int8"


def test_json_figures_and_labels(capsys: Capture, classifier_keras: Path, tmp_path: Path) -> None:
    scale, zero_point = 0.02, -3
    folder = tmp_path / "mlperf"
    write_mlperf_folder(folder, scale, zero_point, count=40)
    out = tmp_path / "m.tflite"
    data = _json(capsys, classifier_keras, "--calibration", folder, "--out", out,
                 "--samples", 24, "--eval-samples", 10, "--bin-dtype", "int8",
                 "--input-scale", scale, "--input-zero-point", zero_point, "--seed", 7)
    ev = data["evaluation"]
    assert ev["samples"] == 10 and len(ev["held_back"]) == 10
    assert len(data["calibration"]["samples"]) == 24 and data["calibration"]["seed"] == 7
    assert not set(ev["held_back"]) & set(data["calibration"]["samples"])
    assert ev["classifier"] is True and ev["top1_agreement"] == 1.0
    assert ev["float_accuracy"] == 1.0 and ev["int8_accuracy"] == 1.0
    assert ev["labels"] == str(folder / "y_labels.csv")
    assert ev["mean_abs_error"] < 0.02 and ev["max_abs_error"] < 0.1
    assert 0.0 <= ev["float_output_min"] <= ev["float_output_max"] <= 1.0
    # The int8 input takes the files' own quantization, so their bytes go in as they are.
    assert data["input_quantization"]["zero_point"] == zero_point
    assert np.float32(data["input_quantization"]["scale"]) == np.float32(scale)
    assert data["model"]["quantization"] == "int8" and data["sha256"] == load_model(out).sha256


def test_raw_mlperf_bytes_match_the_report(capsys: Capture, classifier_keras: Path,
                                           tmp_path: Path) -> None:
    """The int8 accuracy the report gives is what the firmware sees from the raw files."""
    scale, zero_point = 0.03, 10
    folder = tmp_path / "mlperf"
    files, labels = write_mlperf_folder(folder, scale, zero_point, count=30, seed=5)
    out = tmp_path / "m.tflite"
    data = _json(capsys, classifier_keras, "--calibration", folder, "--out", out,
                 "--samples", 15, "--bin-dtype", "int8", "--input-scale", scale,
                 "--input-zero-point", zero_point)
    info = load_model(out)
    assert info.operators[0].name == "QUANTIZE" or data["input_requantized"] is False
    interpreter = runtime.Interpreter.from_file(str(out))
    by_name = dict(zip((f.name for f in files), labels, strict=True))
    right = 0
    for name in data["evaluation"]["held_back"]:
        raw = np.frombuffer((folder / name).read_bytes(), dtype=np.int8)
        interpreter.set_input(raw.reshape(info.inputs[0].shape), 0)
        interpreter.invoke()
        right += int(np.argmax(interpreter.get_output(0)) == by_name[name])
    assert right / len(data["evaluation"]["held_back"]) == data["evaluation"]["int8_accuracy"]


def test_float_io(capsys: Capture, classifier_keras: Path,
                  npy_folder: tuple[Path, list[int]], tmp_path: Path) -> None:
    out = tmp_path / "float_io.tflite"
    data = _json(capsys, classifier_keras, "--calibration", npy_folder[0], "--out", out,
                 "--samples", 20, "--float-io")
    assert data["io"] == "float32"
    assert data["model"]["quantization"] == "int8-float-io"
    assert data["evaluation"]["top1_agreement"] == 1.0
    check_buildable(load_model(out))


def test_saved_model(capsys: Capture, classifier_saved_model: Path,
                     npy_folder: tuple[Path, list[int]], tmp_path: Path) -> None:
    out = tmp_path / "sm.tflite"
    data = _json(capsys, classifier_saved_model, "--calibration", npy_folder[0], "--out", out,
                 "--samples", 20)
    assert data["source"]["kind"] == "savedmodel"
    assert data["evaluation"]["top1_agreement"] == 1.0
    # Batch fixed to 1: no SHAPE/PACK ops computing Flatten's shape at run time.
    assert set(data["model"]["ops"]) == {"CONV_2D", "RESHAPE", "FULLY_CONNECTED", "SOFTMAX"}


def test_stacked_npy_with_npy_labels(capsys: Capture, classifier_keras: Path,
                                     tmp_path: Path) -> None:
    x, labels = make_samples(30, seed=3)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", np.array(labels, dtype=np.int64))
    data = _json(capsys, classifier_keras, "--calibration", tmp_path / "x.npy",
                 "--labels", tmp_path / "y.npy", "--out", tmp_path / "m.tflite",
                 "--samples", 10)
    assert data["calibration"]["layout"] == "npy"
    assert data["evaluation"]["samples"] == 20
    assert data["evaluation"]["int8_accuracy"] == 1.0


def test_reproducible(capsys: Capture, classifier_keras: Path,
                      npy_folder: tuple[Path, list[int]], tmp_path: Path) -> None:
    args = (classifier_keras, "--calibration", npy_folder[0], "--samples", 20)
    a = _json(capsys, *args, "--out", tmp_path / "a.tflite")
    b = _json(capsys, *args, "--out", tmp_path / "b.tflite")
    c = _json(capsys, *args, "--out", tmp_path / "c.tflite", "--seed", 1)
    assert (tmp_path / "a.tflite").read_bytes() == (tmp_path / "b.tflite").read_bytes()
    assert a["calibration"]["samples"] == b["calibration"]["samples"]
    assert a["calibration"]["samples"] != c["calibration"]["samples"]


def test_regressor_reports_errors_not_top1(capsys: Capture, regressor_keras: Path,
                                           tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    folder = tmp_path / "data"
    folder.mkdir()
    for i in range(30):
        rng.standard_normal(16).astype("<f4").tofile(folder / f"{i:02d}.bin")
    out = tmp_path / "ae.tflite"
    code, text, err = _quantize(capsys, regressor_keras, "--calibration", folder, "--out", out,
                                "--samples", 20)
    assert code == 0, err
    assert "top-1 agreement" not in text and "accuracy" not in text
    line = next(t for t in text.splitlines() if t.startswith("output error"))
    mean, worst = (float(line.split()[i].rstrip(",")) for i in (3, 5))
    low, high = (float(v) for v in line.rstrip(")").split("range ")[1].split(" .. "))
    # Held-back inputs may leave the calibrated ranges: errors stay small but not tiny.
    assert 0 < mean < 0.03 * (high - low) and mean <= worst < 0.25 * (high - low)

    # Labels make no sense for it: a clear error, and nothing written.
    labels = tmp_path / "labels.csv"
    labels.write_text("".join(f"{i:02d}.bin,2,0\n" for i in range(30)))
    out.unlink()
    code, _, err = _quantize(capsys, regressor_keras, "--calibration", folder, "--out", out,
                             "--samples", 20, "--labels", labels)
    assert code == ExitCode.BAD_INPUT
    assert "is not a vector of class scores" in err
    assert not out.exists() and _leftovers(tmp_path / "data") == sorted(
        f"{i:02d}.bin" for i in range(30))


@pytest.mark.parametrize(("op", "expected"), [
    ("sin", "the int8 converter could not quantize SIN"),
    ("erf", "TensorFlow Lite has no built-in operator for tf.Erf"),
])
def test_operator_the_converter_cannot_quantize(capsys: Capture, tf: Any, tmp_path: Path,
                                                op: str, expected: str) -> None:
    fn = {"sin": tf.math.sin, "erf": tf.math.erf}[op]
    model = tmp_path / f"{op}_saved_model"
    with tensorflow_output():  # export prints the signature
        build_with(tf, fn).export(str(model))
    folder = tmp_path / "data"
    folder.mkdir()
    for i in range(6):
        np.save(folder / f"{i}.npy", np.full((8,), i / 6, np.float32))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    code, out, err = _quantize(capsys, model, "--calibration", folder,
                               "--out", out_dir / "m.tflite", "--samples", 3)
    assert code == ExitCode.BAD_INPUT
    assert out == ""
    assert expected in err and "hint:" in err
    assert _leftovers(out_dir) == []  # nothing half written


def test_calibration_of_the_wrong_shape(capsys: Capture, classifier_keras: Path,
                                        tmp_path: Path) -> None:
    folder = tmp_path / "data"
    write_npy_folder(folder, count=4)
    np.save(folder / "s002.npy", np.zeros((8, 8), np.float32))
    code, _, err = _quantize(capsys, classifier_keras, "--calibration", folder,
                             "--out", tmp_path / "m.tflite", "--samples", 2)
    assert code == ExitCode.BAD_INPUT
    assert "s002.npy: shape (8, 8), but the model's input is [1, 8, 8, 1]" in err
    assert not (tmp_path / "m.tflite").exists()


def test_int8_data_without_a_scale(capsys: Capture, classifier_keras: Path,
                                   tmp_path: Path) -> None:
    folder = tmp_path / "mlperf"
    write_mlperf_folder(folder, 0.02, 0, count=6)
    code, _, err = _quantize(capsys, classifier_keras, "--calibration", folder,
                             "--out", tmp_path / "m.tflite", "--samples", 3)
    assert code == ExitCode.BAD_INPUT
    assert "64 bytes, but one float32 input [1, 8, 8, 1] is 256 bytes" in err
    assert "--bin-dtype int8" in err
    code, _, err = _quantize(capsys, classifier_keras, "--calibration", folder,
                             "--out", tmp_path / "m.tflite", "--samples", 3,
                             "--bin-dtype", "int8")
    assert code == ExitCode.BAD_INPUT
    assert "holds int8 values, but the float model takes float32" in err
    assert "--input-scale" in err


def test_unreadable_keras_file(capsys: Capture, tmp_path: Path,
                               npy_folder: tuple[Path, list[int]]) -> None:
    model = tmp_path / "broken.keras"
    model.write_bytes(b"PK\x03\x04" + b"\x00" * 64)  # a zip header and nothing after it
    code, _, err = _quantize(capsys, model, "--calibration", npy_folder[0],
                             "--out", tmp_path / "m.tflite", "--samples", 20)
    assert code == ExitCode.BAD_INPUT
    assert "TensorFlow could not load the Keras model" in err


def test_keras_file_with_code_in_it(capsys: Capture, tf: Any, tmp_path: Path,
                                    npy_folder: tuple[Path, list[int]]) -> None:
    """Keras will not run a Lambda's code from a file (safe mode): say so, and what to do."""
    model = tmp_path / "lambda.keras"
    save_keras(build_with(tf, tf.math.sin), model)
    code, _, err = _quantize(capsys, model, "--calibration", npy_folder[0],
                             "--out", tmp_path / "m.tflite", "--samples", 20)
    assert code == ExitCode.BAD_INPUT
    assert "Could not locate function 'sin'" in err
    assert "hint: " in err and "model.export('DIR')" in err


def test_two_inputs(capsys: Capture, tf: Any, tmp_path: Path,
                    npy_folder: tuple[Path, list[int]]) -> None:
    keras = tf.keras
    a, b = keras.Input((4,)), keras.Input((4,))
    model = keras.Model([a, b], keras.layers.Dense(2)(keras.layers.Concatenate()([a, b])))
    save_keras(model, tmp_path / "two.keras")
    code, _, err = _quantize(capsys, tmp_path / "two.keras", "--calibration", npy_folder[0],
                             "--out", tmp_path / "m.tflite", "--samples", 20)
    assert code == ExitCode.BAD_INPUT
    assert "the model has 2 input(s) and 1 output(s)" in err


def test_classes_from_labels_without_softmax(capsys: Capture, tf: Any, tmp_path: Path) -> None:
    """Logits (no SOFTMAX) count as class scores when the labels have as many classes."""
    from .conftest import build_classifier

    full = build_classifier(tf)
    logits = tf.keras.Model(full.inputs, full.get_layer("match").output)
    save_keras(logits, tmp_path / "logits.keras")
    folder = tmp_path / "mlperf"
    write_mlperf_folder(folder, 0.02, 0, count=20)
    data = _json(capsys, tmp_path / "logits.keras", "--calibration", folder,
                 "--out", tmp_path / "m.tflite", "--samples", 10, "--bin-dtype", "int8",
                 "--input-scale", 0.02)
    assert data["evaluation"]["classifier"] is True
    assert data["evaluation"]["float_accuracy"] == 1.0
    assert "SOFTMAX" not in data["model"]["ops"]
    assert data["model"]["outputs"][0]["shape"][-1] == CLASSES


def test_labels_with_another_class_count(capsys: Capture, classifier_keras: Path,
                                         tmp_path: Path) -> None:
    folder = tmp_path / "mlperf"
    write_mlperf_folder(folder, 0.02, 0, count=8)
    rows = (folder / "y_labels.csv").read_text().replace(f",{CLASSES},", ",5,")
    (folder / "y_labels.csv").write_text(rows)
    code, _, err = _quantize(capsys, classifier_keras, "--calibration", folder,
                             "--out", tmp_path / "m.tflite", "--samples", 4, "--bin-dtype",
                             "int8", "--input-scale", 0.02)
    assert code == ExitCode.BAD_INPUT
    assert "y_labels.csv: 5 classes, but the model's output [1, 4] scores 4" in err
    assert not (tmp_path / "m.tflite").exists()
