"""Tests of ``tinygen inspect``, run in-process through tinygen.cli.main."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tinygen.cli import main
from tinygen.errors import ExitCode

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"
TEST_DATA = REPO / "tests" / "data"

Capture = pytest.CaptureFixture[str]


def _run(capsys: Capture, *argv: str) -> tuple[int, str, str]:
    code = main(["inspect", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_human_report(capsys: Capture) -> None:
    path = MODELS / "kws_tiny.tflite"
    code, out, err = _run(capsys, str(path))
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == f"model         {path}"
    assert "quantization  int8 (full integer: int8 weights and activations)" in out
    assert "benchmark     kws01" in out
    assert "schema        version 3, 1 subgraph" in out
    # operator table: name, count, version, MACs
    conv = next(line for line in lines if line.startswith("CONV_2D "))
    assert conv.split() == ["CONV_2D", "5", "3", f"{25 * 5 * 48 * 40 + 4 * 25 * 5 * 48 * 48:,}"]
    softmax = next(line for line in lines if line.startswith("SOFTMAX "))
    assert softmax.split()[-1] == "-"
    # I/O table: role, name, shape, dtype, scale, zero point
    row = next(line for line in lines if line.startswith("output "))
    assert row.split()[2:] == ["[1,12]", "int8", "0.00390625", "-128"]
    assert "MACs          1.61 M (1,608,576)" in out
    assert "unsupported   none" in out


def test_json_report(capsys: Capture) -> None:
    code, out, err = _run(capsys, str(MODELS / "ic_tiny.tflite"), "--json")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert data["benchmark"] == "ic01"
    assert data["quantization"] == "int8"
    assert data["buildable"] is True and data["problem"] is None
    assert data["ops"]["ADD"] == 1
    assert data["inputs"][0]["shape"] == [1, 32, 32, 3]
    assert data["inputs"][0]["dtype"] == "int8"
    assert data["outputs"][0]["zero_point"] == -128
    assert data["macs"] == sum(data["macs_per_op"].values())
    assert data["unsupported_ops"] == []


@pytest.mark.parametrize(("name", "bench_id", "macs"), [
    ("kws_ref_model.tflite", "kws01", "2.66 M"),
    ("vww_96_int8.tflite", "vww01", "7.49 M"),
    ("pretrainedResnet_quant.tflite", "ic01", "12.50 M"),
    ("ad01_int8.tflite", "ad01", "0.26 M"),
])
def test_reference_models(capsys: Capture, mlperf_models: Path, name: str, bench_id: str,
                          macs: str) -> None:
    # (not named "benchmark": pytest-benchmark owns that fixture name)
    code, out, _ = _run(capsys, str(mlperf_models / name))
    assert code == 0
    assert f"benchmark     {bench_id}" in out
    assert f"MACs          {macs} (" in out

    code, out, _ = _run(capsys, str(mlperf_models / name), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["benchmark"] == bench_id
    assert f"{data['macs'] / 1e6:.2f} M" == macs


def _assert_bad_input(code: int, err: str, *fragments: str) -> None:
    assert code == ExitCode.BAD_INPUT
    assert int(ExitCode.BAD_INPUT) == 3  # the documented code for bad input
    lines = err.splitlines()
    assert len(lines) == 2, err
    assert lines[0].startswith("error: ")
    assert lines[1].startswith("hint: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0]


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_missing_file(capsys: Capture, tmp_path: Path) -> None:
    code, out, err = _run(capsys, str(tmp_path / "missing.tflite"))
    _assert_bad_input(code, err, "does not exist")
    assert out == ""


def test_directory(capsys: Capture, tmp_path: Path) -> None:
    code, _, err = _run(capsys, str(tmp_path))
    _assert_bad_input(code, err, "is not a file")


def test_empty_file(capsys: Capture, tmp_path: Path) -> None:
    code, _, err = _run(capsys, str(_write(tmp_path, "empty.tflite", b"")))
    _assert_bad_input(code, err, "empty")


def test_random_bytes(capsys: Capture, tmp_path: Path) -> None:
    path = _write(tmp_path, "random.tflite", np.random.default_rng(1).bytes(2048))
    code, _, err = _run(capsys, str(path))
    _assert_bad_input(code, err, "not a TensorFlow Lite model")


def test_text_file(capsys: Capture, tmp_path: Path) -> None:
    code, _, err = _run(capsys, str(_write(tmp_path, "model.tflite", b"hello, world\n")))
    _assert_bad_input(code, err, "TFL3")


def test_truncated_model(capsys: Capture, truncated_model: Path) -> None:
    code, out, err = _run(capsys, str(truncated_model))
    _assert_bad_input(code, err, "truncated or corrupt")
    assert out == ""


def test_float_model(capsys: Capture) -> None:
    code, out, err = _run(capsys, str(TEST_DATA / "float_model.tflite"))
    _assert_bad_input(code, err, "not quantized")
    assert "int8 quantization" in err
    # the report still shows what the model holds
    assert "quantization  float (not quantized)" in out
    assert "FULLY_CONNECTED" in out


def test_float_model_json(capsys: Capture) -> None:
    code, out, err = _run(capsys, str(TEST_DATA / "float_model.tflite"), "--json")
    _assert_bad_input(code, err, "not quantized")
    data = json.loads(out)
    assert data["quantization"] == "float"
    assert data["buildable"] is False
    assert "not quantized" in data["problem"]


def test_two_inputs(capsys: Capture) -> None:
    code, out, err = _run(capsys, str(TEST_DATA / "two_inputs.tflite"))
    _assert_bad_input(code, err, "2 inputs")
    assert out.count("\ninput ") == 2


def test_unsupported_op(capsys: Capture, unsupported_op_model: Path) -> None:
    code, out, err = _run(capsys, str(unsupported_op_model))
    _assert_bad_input(code, err, "GELU")
    assert "unsupported   GELU" in out


def test_custom_op(capsys: Capture, custom_op_model: Path) -> None:
    code, _, err = _run(capsys, str(custom_op_model))
    _assert_bad_input(code, err, "CUSTOM:MyFancyOp")


def test_two_subgraphs(capsys: Capture, two_subgraph_model: Path) -> None:
    code, out, err = _run(capsys, str(two_subgraph_model))
    _assert_bad_input(code, err, "2 subgraphs")
    assert "version 3, 2 subgraphs" in out


def test_int8_float_io_is_buildable(capsys: Capture) -> None:
    code, out, _ = _run(capsys, str(TEST_DATA / "int8_float_io.tflite"))
    assert code == 0
    assert "quantization  int8-float-io" in out
    assert "benchmark     none" in out


def test_no_model_argument_is_usage_error(capsys: Capture) -> None:
    code, out, err = _run(capsys)
    assert code == ExitCode.USAGE
    assert err.startswith("error: ") and "hint: " in err
    assert out == ""


def test_listed_in_help(capsys: Capture) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "inspect" in capsys.readouterr().out
