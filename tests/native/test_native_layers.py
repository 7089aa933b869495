"""The layer kernels added for exported models (TRANSPOSE_CONV, BATCH_MATMUL, SVDF; a
convolution over its own input) compiled for the host, byte for byte against the TFLM
interpreter."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.native.native_host import CC, assert_op_model_bit_exact, compare
from tinygen.model import load_model
from tinygen.native.graph import graph_of

DATA = Path(__file__).resolve().parents[1] / "data" / "native"
pytestmark = pytest.mark.skipif(CC is None, reason="no host C compiler")
# Each model (scripts/make_native_models.py) and the operators (/fused activation) it holds.
LAYER_MODELS: dict[str, tuple[str, ...]] = {
    "op_transpose_conv_same": ("TRANSPOSE_CONV/1",),
    "op_transpose_conv_valid": ("TRANSPOSE_CONV/0",),
    "op_transpose_conv_stride1": ("TRANSPOSE_CONV/0",),
    "op_batch_matmul_adj_y": ("BATCH_MATMUL",),
    "op_batch_matmul_batched": ("BATCH_MATMUL",),
    "op_batch_matmul_broadcast": ("BATCH_MATMUL",),
    # two convolutions write over their dying inputs (tinygen.native.conv_lag)
    "op_conv_over_input": ("CONV_2D/0", "CONV_2D/1", "ADD/1"),
}



@pytest.mark.parametrize("name", list(LAYER_MODELS))
def test_layer_model_bit_exact(name: str, tmp_path: Path) -> None:
    path = DATA / f"{name}.tflite"
    assert_op_model_bit_exact(path, LAYER_MODELS[name], tmp_path)


SEQUENCE = Path(__file__).resolve().parents[1] / "data" / "sequence"


def test_svdf_model_bit_exact(tmp_path: Path) -> None:
    """SVDF of rank 1 and 2 (int8, int16 weights_time and state; made by
    scripts/make_sequence_models.py); the state starts from TFLM's reset for every input."""
    path = SEQUENCE / "svdf_kws.tflite"
    if not path.is_file():
        pytest.skip(f"{path.name} is not there")
    assert [op.kind for op in graph_of(load_model(path)).ops].count("SVDF") == 2
    native, host = compare(path, tmp_path, count=6, seed=5)
    assert native == host
    assert len(set(host)) > 1


def test_unrolled_gru_model_bit_exact(tmp_path: Path) -> None:
    """A Keras GRU layer, unrolled as exported (scripts/make_gru_model.py)."""
    path = SEQUENCE / "gru_kws.tflite"
    kinds = [op.kind for op in graph_of(load_model(path)).ops]
    assert {"UNPACK", "SPLIT", "STRIDED_SLICE", "LOGISTIC", "TANH"} <= set(kinds)
    native, host = compare(path, tmp_path, count=6, seed=7)
    assert native == host
    assert len(set(host)) > 1
