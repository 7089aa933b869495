"""What MODEL is, and the command's answers that need no TensorFlow (run without it too)."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tinygen.cli import main
from tinygen.errors import ExitCode, ModelError
from tinygen.quantize.pipeline import write_atomic
from tinygen.quantize.source import KERAS, SAVED_MODEL, find_source

REPO = Path(__file__).resolve().parents[2]
TEST_DATA = REPO / "tests" / "data"
Capture = pytest.CaptureFixture[str]


def _fake_keras(path: Path) -> Path:
    """A zip named .keras: enough for find_source, which does not load it."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("config.json", "{}")
    return path


def test_keras_and_saved_model(tmp_path: Path) -> None:
    assert find_source(_fake_keras(tmp_path / "m.keras")).kind == KERAS
    (tmp_path / "sm").mkdir()
    (tmp_path / "sm" / "saved_model.pb").write_bytes(b"")
    source = find_source(tmp_path / "sm")
    assert source.kind == SAVED_MODEL and source.description == "SavedModel"


@pytest.mark.parametrize(("name", "content", "message"), [
    ("m.keras", b"not a zip", "not a Keras model file"),
    ("m.h5", b"not hdf5", "not an HDF5 file"),
    ("frozen.pb", b"\x0a\x00", "a frozen GraphDef"),
    ("model.onnx", b"\x08\x07", "unknown model format"),
])
def test_unusable_files(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(ModelError, match=message):
        find_source(tmp_path / name)


def test_missing_and_non_saved_model_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        find_source(tmp_path / "nope.keras")
    with pytest.raises(ModelError, match="not a SavedModel"):
        find_source(tmp_path)


@pytest.mark.parametrize(("model", "message", "hint"), [
    ("float_model.tflite", "is a float .tflite: TensorFlow's converter quantizes the model a "
     ".tflite was made from", "a Keras file"),
    ("int8_float_io.tflite", "is already quantized (int8 compute with float32 input",
     "build it as it is"),
    ("../../models/kws_tiny.tflite", "is already an int8 model; there is nothing to quantize",
     "tinygen build --board BOARD --model"),
])
def test_tflite_files_are_explained(model: str, message: str, hint: str) -> None:
    with pytest.raises(ModelError) as exc:
        find_source(TEST_DATA / model)
    assert message in exc.value.message
    assert exc.value.hint is not None and hint in exc.value.hint


def test_tflite_by_content_whatever_its_name(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes((TEST_DATA / "float_model.tflite").read_bytes())
    with pytest.raises(ModelError, match=r"is a float \.tflite"):
        find_source(path)


def test_corrupt_tflite(tmp_path: Path) -> None:
    path = tmp_path / "m.tflite"
    path.write_bytes(b"garbage")
    with pytest.raises(ModelError, match="not a TensorFlow Lite model"):
        find_source(path)


def _run(capsys: Capture, *argv: object) -> tuple[int, str, str]:
    code = main(["quantize", *(str(a) for a in argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_errors_before_tensorflow(capsys: Capture, tmp_path: Path) -> None:
    model = _fake_keras(tmp_path / "m.keras")
    (tmp_path / "empty").mkdir()
    code, out, err = _run(capsys, model, "--calibration", tmp_path / "empty",
                          "--out", tmp_path / "o.tflite")
    assert code == ExitCode.BAD_INPUT and out == ""
    assert err.startswith("error: empty calibration folder") and "\nhint: " in err
    code, _, err = _run(capsys, TEST_DATA / "float_model.tflite", "--calibration",
                        tmp_path / "empty", "--out", tmp_path / "o.tflite")
    assert code == ExitCode.BAD_INPUT and "is a float .tflite" in err
    code, _, err = _run(capsys, model, "--calibration", tmp_path, "--out", tmp_path)
    assert code == ExitCode.BAD_INPUT and "is a folder" in err
    code, _, err = _run(capsys, model, "--calibration", tmp_path, "--out", tmp_path / "o",
                        "--samples", "0")
    assert code == ExitCode.USAGE and "must be >= 1" in err
    code, _, err = _run(capsys, model, "--out", tmp_path / "o")
    assert code == ExitCode.USAGE and "--calibration" in err
    assert not (tmp_path / "o.tflite").exists()


def test_missing_tensorflow_names_the_extra(capsys: Capture, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # import tensorflow -> ImportError
    model = _fake_keras(tmp_path / "m.keras")
    data = tmp_path / "data"
    data.mkdir()
    for i in range(3):
        np.save(data / f"{i}.npy", np.zeros(4, np.float32))
    code, out, err = _run(capsys, model, "--calibration", data, "--out", tmp_path / "o.tflite",
                          "--samples", "1")
    assert code == ExitCode.TOOL_MISSING and out == ""
    assert "error: TensorFlow is not installed; tinygen quantize uses its converter" in err
    assert "hint: install the quantize extra: pip install 'tinygen[quantize]'" in err
    assert not (tmp_path / "o.tflite").exists()


def test_other_commands_do_not_import_tensorflow() -> None:
    import subprocess

    code = ("import sys, tinygen.cli, tinygen.quantize, tinygen.commands.quantize_cmd; "
            "tinygen.cli.build_parser(); sys.exit('tensorflow' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_write_atomic_replaces_and_leaves_nothing_else(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "m.tflite"
    write_atomic(target, b"one")
    write_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["m.tflite"]
