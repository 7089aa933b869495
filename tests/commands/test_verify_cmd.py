"""``tinygen verify``: inputs the firmware and the host cannot agree on are refused before the
build, and no numpy warning reaches stderr."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from cli_support import run_cli

from tinygen.errors import ExitCode

MODELS = Path(__file__).resolve().parents[2] / "models"


@pytest.mark.parametrize(("model", "size"), [("kws_tiny.tflite", 490), ("ad_tiny.tflite", 2560)])
@pytest.mark.parametrize("delta", [-1, 1, -100])
def test_a_wrong_size_input_is_refused_before_building(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, model: str, size: int,
        delta: int) -> None:
    data = tmp_path / "in.bin"
    data.write_bytes(bytes(size + delta))
    code, _, err = run_cli(capsys, "verify", "--board", "mps2_an386", "--model",
                           str(MODELS / model), "--out", str(tmp_path / "fw"), "--input",
                           str(data))
    assert code == ExitCode.BAD_INPUT, err
    assert f"--input {data} is {size + delta} bytes; one input of this model" in err
    assert f"is {size} bytes" in err and "hint: " in err
    assert not any(p.name.startswith("fw") for p in tmp_path.iterdir())  # nothing built


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf, 1e30])
def test_an_ad_input_the_port_cannot_quantize_is_refused_without_warnings(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, value: float) -> None:
    data = tmp_path / "in.bin"
    values = np.zeros(640, dtype="<f4")
    values[7] = value
    values.tofile(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning would fail the test
        code, _, err = run_cli(capsys, "verify", "--board", "mps2_an386", "--model",
                               str(MODELS / "ad_tiny.tflite"), "--out", str(tmp_path / "fw"),
                               "--input", str(data))
    assert code == ExitCode.BAD_INPUT, err
    assert "input value 7 is" in err and "undefined in C" in err and "hint: " in err
    assert "Warning" not in err
    assert not (tmp_path / "fw").exists()
