"""A model whose weights alone overflow the board's flash is over budget (exit 5) before
anything is fetched, compiled or run, on both runtimes."""

from __future__ import annotations

from pathlib import Path

import flatbuffers
import numpy as np
import pytest
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

from tests.commands.cli_support import needs_gcc, run_cli

DENSE = Path(__file__).resolve().parents[1] / "data" / "ops" / "fully_connected_relu.tflite"
UNITS, DEPTH = 1536, 1024  # 1.5 MiB of int8 weights


@pytest.fixture(scope="module")
def big_dense(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """fully_connected_relu.tflite with a 1536x1024 int8 weight matrix (seeded values)."""
    model = schema.ModelT.InitFromPackedBuf(DENSE.read_bytes(), 0)
    graph = model.subgraphs[0]
    op = next(o for o in graph.operators
              if model.operatorCodes[o.opcodeIndex].builtinCode
              == schema.BuiltinOperator.FULLY_CONNECTED)
    x, weights, bias = (graph.tensors[i] for i in op.inputs)
    out = graph.tensors[op.outputs[0]]
    x.shape, weights.shape, bias.shape, out.shape = [1, DEPTH], [UNITS, DEPTH], [UNITS], [1, UNITS]
    rng = np.random.default_rng(15)
    model.buffers[weights.buffer].data = rng.integers(-127, 128, UNITS * DEPTH, dtype=np.int8
                                                      ).view(np.uint8)
    model.buffers[bias.buffer].data = np.zeros(UNITS, dtype=np.int32).view(np.uint8)
    weights.quantization.scale = [0.01] * UNITS
    weights.quantization.zeroPoint = [0] * UNITS
    bias.quantization.scale = [0.01 * x.quantization.scale[0]] * UNITS
    bias.quantization.zeroPoint = [0] * UNITS
    builder = flatbuffers.Builder(UNITS * DEPTH + 65536)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    path = tmp_path_factory.mktemp("big") / "big_dense.tflite"
    path.write_bytes(bytes(builder.Output()))
    return path


@needs_gcc
@pytest.mark.parametrize("runtime", ["tflm", "native"])
def test_model_over_the_flash_is_over_budget_before_any_build(
        runtime: str, big_dense: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    # An empty --deps-dir: fetching TFLM or CMSIS-NN (the first step of a build) fills it.
    empty = tmp_path / "no-deps"
    empty.mkdir()
    out = tmp_path / "fw"
    code, _, err = run_cli(capsys, "build", "--board", "disco_f746", "--model", str(big_dense),
                           "--runtime", runtime, "--kernels", "cmsis-nn" if runtime == "tflm"
                           else "native", "--deps-dir", str(empty), "--out", str(out))
    assert code == 5, err
    size = big_dense.stat().st_size if runtime == "tflm" else UNITS * DEPTH + 4 * UNITS
    assert f"takes {size:,} bytes; disco_f746 has 1,048,576 bytes of flash" in err
    assert "hint:" in err
    assert not out.exists() and not any(empty.iterdir())


@needs_gcc
def test_flash_budget_option_counts(big_dense: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "build", "--board", "mps2_an386", "--model", str(big_dense),
                           "--budget-flash", "1000000", "--deps-dir", str(tmp_path),
                           "--out", str(tmp_path / "fw"))
    assert code == 5, err
    assert "1,000,000 bytes of flash for code and model (--budget-flash)" in err
