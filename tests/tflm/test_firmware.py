"""TFLM firmware end to end: build, run in QEMU, compare with the host interpreter bytewise.

Needs TFLM sources (see tests/tflm/support.py); the first run compiles each library variant
(about 11 minutes on 2 cores), later runs reuse tinygen's cache.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import REFERENCE
from tests.tflm.support import tflm_unreachable_reason
from tinygen.board import load_board
from tinygen.build_options import BuildOptions
from tinygen.errors import BuildError, ModelError
from tinygen.firmware import BuildResult, build_firmware
from tinygen.model import load_model
from tinygen.reference import random_payload
from tinygen.verify import verify_firmware

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"
_REASON = tflm_unreachable_reason()
pytestmark = [
    pytest.mark.tflm,
    pytest.mark.skipif(_REASON is not None, reason=_REASON or ""),
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="no qemu-system-arm"),
]


def _build(model: Path, out: Path, board: str = "mps2_an386", **kw: object) -> BuildResult:
    return build_firmware(BuildOptions(board=load_board(board), out_dir=out, model_path=model,
                                       **kw))  # type: ignore[arg-type]


def _assert_bit_exact(result: BuildResult, model: Path, extra: list[bytes] = ()) -> None:
    info = load_model(model)
    inputs = [(f"sample-{i}", data) for i, data in enumerate(extra)]
    inputs += [(f"random-{seed}", random_payload(info, result.benchmark, seed))
               for seed in range(2)]
    checks = verify_firmware(result.board, result.elf, info, result.benchmark, inputs)
    assert [c.label for c in checks if not c.equal] == []


@pytest.mark.parametrize("kernels", ["cmsis-nn", "reference"])
def test_bundled_models_bit_exact(kernels: str, tmp_path: Path) -> None:
    for name in ("kws_tiny", "ic_tiny", "ad_tiny"):
        model = MODELS / f"{name}.tflite"
        result = _build(model, tmp_path / name, kernels=kernels)
        assert result.warnings == ()
        assert result.kernels == kernels
        _assert_bit_exact(result, model)


def test_second_model_reuses_the_library(tmp_path: Path) -> None:
    _build(MODELS / "kws_tiny.tflite", tmp_path / "a")
    second = _build(MODELS / "ic_tiny.tflite", tmp_path / "b")
    assert second.library is not None and not second.library.built


def test_arena_is_the_measured_minimum(tmp_path: Path) -> None:
    model = MODELS / "kws_tiny.tflite"
    result = _build(model, tmp_path / "exact")
    assert result.arena_size is not None and result.arena_source in ("measured", "cached")
    roles = {r["role"]: r for r in result.audit.to_json()["roles"]}
    assert roles["arena"]["ram"] == result.arena_size
    # The model role is the .tflite file plus at most the 16-byte alignment padding.
    assert 0 <= roles["model"]["flash"] - model.stat().st_size < 16
    _assert_bit_exact(result, model)
    # 16 bytes less: the probe firmware itself reports that the model does not fit its arena,
    # so the build stops with that line and leaves no output folder.
    small = result.arena_size - 16
    with pytest.raises(BuildError) as info:
        _build(model, tmp_path / "small", arena_size=small)
    assert info.value.message == ("the tensor arena is too small for the model: "
                                  f"e-[AllocateTensors failed with a {small}-byte arena]")
    assert not (tmp_path / "small").exists()


def test_unsupported_op_fails_before_compiling(unsupported_op_model: Path,
                                               tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="GELU"):
        _build(unsupported_op_model, tmp_path / "fw")
    assert not (tmp_path / "fw").exists()



@pytest.mark.parametrize("kernels", ["cmsis-nn", "reference"])
@pytest.mark.parametrize("name", list(REFERENCE))
def test_reference_models_bit_exact(name: str, kernels: str, mlperf: Path,
                                    tmp_path: Path) -> None:
    filename, sample = REFERENCE[name]
    model = mlperf / "models" / filename
    result = _build(model, tmp_path / "fw", kernels=kernels)
    assert result.benchmark == f"{name}01"
    _assert_bit_exact(result, model, [(mlperf / sample).read_bytes()] if sample else [])


@pytest.mark.parametrize("board", ["disco_f746", "nucleo_l4r5zi"])
@pytest.mark.parametrize("name", list(REFERENCE))
def test_reference_models_fit_real_boards(board: str, name: str, mlperf: Path,
                                          tmp_path: Path) -> None:
    result = _build(mlperf / "models" / REFERENCE[name][0], tmp_path / "fw", board=board)
    assert result.warnings == ()
    assert all(r.used <= r.size for r in result.audit.regions)


def test_kws_accuracy_equals_host_top1(mlperf: Path, tmp_path: Path) -> None:
    """Accuracy mode over the shared KWS inputs gives exactly the host interpreter's top-1."""
    import csv
    import json

    import numpy as np

    from tinygen.cli import main

    model = mlperf / "models" / "kws_ref_model.tflite"
    result = _build(model, tmp_path / "fw")
    out = tmp_path / "accuracy.json"
    code = main(["bench", "--board", "mps2_an386", "--elf", str(result.elf), "--mode",
                 "accuracy", "--dataset", str(mlperf / "datasets"), "--benchmark", "kws01",
                 "--out", str(out)])
    assert code == 0
    document = json.loads(out.read_text())["result"]
    device = {f["file"]: f for f in document["files"]}
    info = load_model(model)
    scale, zero = info.outputs[0].scale, info.outputs[0].zero_point
    assert scale is not None and zero is not None
    folder = mlperf / "datasets" / "kws01"
    correct = 0
    rows = list(csv.reader((folder / "y_labels.csv").open()))
    for name, _, label in rows:
        from tinygen.reference import host_output_bytes
        raw = np.frombuffer(host_output_bytes(info, "kws01", (folder / name).read_bytes()),
                            dtype=np.int8)
        # The firmware prints dequantized scores with 3 decimals; compare like with like.
        scores = np.round((raw.astype(np.float64) - zero) * scale, 3)
        predicted = int(np.argmax(scores / scores.sum()))
        assert device[name]["predicted"] == predicted, name
        correct += predicted == int(label)
    assert len(device) == len(rows) == 200
    host_top1 = 100.0 * correct / len(rows)
    assert document["top1_percent"] == pytest.approx(host_top1)


@pytest.mark.parametrize("name", list(REFERENCE))
def test_performance_instruction_counts_repeat(name: str, mlperf: Path, tmp_path: Path) -> None:
    """Two performance runs of the same firmware give the same instruction counts, exactly."""
    import json

    from tinygen.cli import main

    result = _build(mlperf / "models" / REFERENCE[name][0], tmp_path / "fw")
    runs = []
    for run in range(2):
        out = tmp_path / f"perf{run}.json"
        assert main(["bench", "--board", "mps2_an386", "--elf", str(result.elf), "--mode",
                     "performance", "--out", str(out)]) == 0
        document = json.loads(out.read_text())["result"]
        runs.append(([w["elapsed_us"] for w in document["windows"]],
                     document["instructions_per_inference"]))
    assert runs[0] == runs[1]
    assert len(runs[0][0]) == 5
