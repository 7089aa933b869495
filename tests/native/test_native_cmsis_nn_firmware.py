"""--runtime native --kernels cmsis-nn end to end: build, QEMU, bytewise against the host TFLM.

Needs the pinned CMSIS-NN and CMSIS_6 checkouts (see tests/tflm/support.py), the cross
compiler and QEMU; skipped without them.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import MLPERF, REFERENCE
from tests.native.test_native_firmware import _assert_bit_exact
from tests.tflm.support import cmsis_nn_unreachable_reason
from tinygen.board import load_board
from tinygen.build_options import BuildOptions
from tinygen.deps import load_manifest, resolve
from tinygen.firmware import BuildResult, build_firmware
from tinygen.model import load_model
from tinygen.native import cmsis_nn
from tinygen.native.plan import plan_arena
from tinygen.native.render import NativeModel, prepare_native, render_native
from tinygen.reference import random_payload
from tinygen.resources import sconstruct_path
from tinygen.runner.emulator import QemuTransport
from tinygen.runner.protocol import DeviceBootError, DeviceReplyError, DutClient
from tinygen.scons import run_scons

REPO = Path(__file__).resolve().parents[2]
OPS = REPO / "tests" / "data" / "ops"
_REASON = cmsis_nn_unreachable_reason()
pytestmark = [
    pytest.mark.qemu,
    pytest.mark.skipif(_REASON is not None, reason=_REASON or ""),
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="no qemu-system-arm"),
]
# Every per-operator model with an operator CMSIS-NN covers (add_broadcast and
# mul_broadcast_sigmoid check the fallback to the native kernels).
OP_MODELS = sorted(p.stem for p in OPS.glob("*.tflite") if p.stem.startswith(
    ("conv", "depthwise", "fully_connected", "avg_pool", "max_pool", "softmax", "add", "mul")))


def _build(model: Path, out: Path, board: str = "mps2_an386",
           benchmark: str | None = None) -> BuildResult:
    return build_firmware(BuildOptions(board=load_board(board), out_dir=out, model_path=model,
                                       runtime="native", kernels="cmsis-nn",
                                       benchmark=benchmark))


@pytest.mark.parametrize("name", OP_MODELS)
def test_op_models_bit_exact(name: str, tmp_path: Path) -> None:
    model = OPS / f"{name}.tflite"
    result = _build(model, tmp_path / "fw", benchmark="generic")
    assert result.kernels == "cmsis-nn" and result.warnings == ()
    _assert_bit_exact(result, model, randoms=3)


@pytest.fixture(scope="module", params=list(REFERENCE))
def reference_build(request: pytest.FixtureRequest,
                    tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildResult]:
    """One cmsis-nn firmware per MLPerf Tiny reference model, shared by the tests below."""
    if not (MLPERF / "models").is_dir():
        pytest.skip(f"MLPerf Tiny reference data not found at {MLPERF}")
    model = MLPERF / "models" / REFERENCE[request.param][0]
    return model, _build(model, tmp_path_factory.mktemp(request.param) / "fw")


def test_reference_models_bit_exact(reference_build: tuple[Path, BuildResult]) -> None:
    model, result = reference_build
    sample = next(s for f, s in REFERENCE.values() if f == model.name)
    _assert_bit_exact(result, model, [(MLPERF / sample).read_bytes()] if sample else None)


def test_reference_models_link_only_cmsis_nn_code_they_call(
        reference_build: tuple[Path, BuildResult]) -> None:
    result = reference_build[1]
    assert result.warnings == ()
    config = json.loads((result.out_dir / "tinygen_project.json").read_text())
    called = {f for f in cmsis_nn.SOURCES if f in (result.out_dir / "src/model.c").read_text()}
    assert {s for _, s in config["dep_sources"]} == {
        s for f in called for s in cmsis_nn.SOURCES[f]}
    local = json.loads((result.out_dir / "tinygen_local.json").read_text())
    assert set(local["deps"]) == set(cmsis_nn.PINS)


def test_cortex_m3_without_dsp(tmp_path: Path) -> None:
    """CMSIS-NN's plain C paths and their (smaller) scratch sizes."""
    model = REPO / "models" / "ic_tiny.tflite"
    _assert_bit_exact(_build(model, tmp_path / "fw", board="mps2_an385"), model)


def test_too_small_scratch_is_reported_at_start_up(tmp_path: Path) -> None:
    """A plan that gives a call less scratch than CMSIS-NN asks for: the firmware says so when
    it starts and refuses to infer (instead of writing past the buffer)."""
    path = OPS / "conv_same_relu.tflite"
    board = load_board("mps2_an386")
    good = prepare_native(load_model(path), "cmsis-nn", board.has_dsp)
    conv = next(c for c in good.calls if c.kind == "CONV_2D")
    calls = tuple(dataclasses.replace(c, scratch_bytes=4) if c is conv else c
                  for c in good.calls)
    model = NativeModel(good.graph, calls, plan_arena(good.graph, calls))
    info = load_model(path)
    project = render_native(board, info, model, "generic", kernels="cmsis-nn")
    folder = tmp_path / "fw"
    project.write(folder)
    shutil.copy(sconstruct_path(), folder / "SConstruct")
    pins = tuple(p for p in load_manifest() if p.name in cmsis_nn.PINS)
    deps = {n: str(c.path) for n, c in resolve(pins).items()}
    (folder / "tinygen_local.json").write_text(json.dumps({"deps": deps}))
    run_scons(folder, total=None, label="firmware", progress=None)
    with QemuTransport(board, folder / "firmware.elf") as uart:
        dut = DutClient(uart)
        with pytest.raises(DeviceBootError) as err:  # the e- line ends the wait for the banner
            dut.start()
        needed = conv.scratch_bytes
        assert err.value.line == (f"e-[Operator {conv.op_index} needs {needed} scratch bytes, "
                                  f"the memory plan gives it 4]")
        dut.start()  # the rest of the banner: the firmware boots on, and refuses to infer
        dut.load(random_payload(info, "generic", 0))
        with pytest.raises(DeviceReplyError, match="start-up check"):
            dut.infer(1, 0)
