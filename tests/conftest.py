"""Shared test fixtures: where the bundled and reference models are, and edited model files."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import flatbuffers
import pytest
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

from tinygen.board import load_board
from tinygen.build_options import BuildOptions
from tinygen.firmware import build_firmware

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "models"
TEST_DATA = REPO / "tests" / "data"
MLPERF = REPO / ".." / "shared" / "mlperf-tiny"
# The MLPerf Tiny reference models (in MLPERF/models) and their sample input, when one ships.
REFERENCE = {
    "kws": ("kws_ref_model.tflite", "samples/kws01_kws_input_data_sample0_i8_49x10.bin"),
    "vww": ("vww_96_int8.tflite", None),
    "ic": ("pretrainedResnet_quant.tflite", "samples/ic01_ic_inputs_sample0_u8_32x32x3.bin"),
    "ad": ("ad01_int8.tflite", None),
}


@pytest.fixture
def mlperf() -> Path:
    """The MLPerf Tiny reference data beside the repository (../shared/mlperf-tiny: models/,
    samples/, ...), or a skip."""
    if not (MLPERF / "models").is_dir():
        pytest.skip(f"MLPerf Tiny reference models not found at {(MLPERF / 'models').resolve()}")
    return MLPERF


@pytest.fixture
def mlperf_models(mlperf: Path) -> Path:
    """The MLPerf Tiny reference models (../shared/mlperf-tiny/models), or a skip."""
    return mlperf / "models"


ModelEditor = Callable[[Path, Path, Callable[[Any], None]], Path]


def _edit_model(source: Path, target: Path, edit: Callable[[Any], None]) -> Path:
    """Unpack ``source`` with the schema's object API, apply ``edit`` to it, write ``target``."""
    model = schema.ModelT.InitFromPackedBuf(bytearray(source.read_bytes()), 0)
    edit(model)
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    target.write_bytes(bytes(builder.Output()))
    return target


@pytest.fixture
def edit_model() -> ModelEditor:
    """``edit_model(source, target, edit)``: write ``source`` changed by ``edit(ModelT)``."""
    return _edit_model


@pytest.fixture
def unsupported_op_model(tmp_path: Path) -> Path:
    """ad_tiny with its FULLY_CONNECTED code replaced by GELU, which TFLM has no kernel for."""

    def to_gelu(model: Any) -> None:
        code = model.operatorCodes[0]
        code.builtinCode = schema.BuiltinOperator.GELU
        # Codes above 127 keep the placeholder in the deprecated int8 field.
        code.deprecatedBuiltinCode = schema.BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES

    return _edit_model(MODELS / "ad_tiny.tflite", tmp_path / "gelu.tflite", to_gelu)


@pytest.fixture
def custom_op_model(tmp_path: Path) -> Path:
    """ad_tiny with its operator turned into a custom operator 'MyFancyOp'."""

    def to_custom(model: Any) -> None:
        code = model.operatorCodes[0]
        code.builtinCode = code.deprecatedBuiltinCode = schema.BuiltinOperator.CUSTOM
        code.customCode = "MyFancyOp"

    return _edit_model(MODELS / "ad_tiny.tflite", tmp_path / "custom.tflite", to_custom)


@pytest.fixture
def two_subgraph_model(tmp_path: Path) -> Path:
    """ad_tiny with its subgraph appended a second time."""

    def duplicate(model: Any) -> None:
        model.subgraphs.append(model.subgraphs[0])

    return _edit_model(MODELS / "ad_tiny.tflite", tmp_path / "two_subgraphs.tflite", duplicate)


@pytest.fixture
def truncated_model(tmp_path: Path) -> Path:
    """The first 60% of kws_tiny."""
    data = (MODELS / "kws_tiny.tflite").read_bytes()
    target = tmp_path / "truncated.tflite"
    target.write_bytes(data[: len(data) * 6 // 10])
    return target


TOOLS = ("qemu-system-arm", "arm-none-eabi-gcc")


def require_tools() -> None:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed")


def build_bringup(factory: pytest.TempPathFactory, board: str, benchmark: str) -> Path:
    """Build the bring-up firmware for ``board`` and ``benchmark`` into a fresh folder."""
    require_tools()
    out = factory.mktemp(f"bringup-{board}-{benchmark}") / "fw"
    result = build_firmware(BuildOptions(board=load_board(board), out_dir=out,
                                         benchmark=benchmark))
    return result.elf


@pytest.fixture(scope="session")
def bringup_elf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bring-up firmware (kws01: 490-byte inputs, 12 FNV-1a lanes) for mps2_an386."""
    return build_bringup(tmp_path_factory, "mps2_an386", "kws01")
