"""Shape arithmetic folded at generation time, and TFLM's strided-slice index rules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.native.native_host import CC, compare
from tinygen.model import load_model
from tinygen.native.fold import fold_shape_ops
from tinygen.native.graph import graph_of
from tinygen.native.slicing import gather_ranges, strided_slice_ranges

DATA = Path(__file__).resolve().parents[1] / "data" / "native"
SHAPE_OPS = {"SHAPE", "STRIDED_SLICE", "PACK", "GATHER", "CONCATENATION"}
# Keras exports with a dynamic batch, and the shape arithmetic operators each must contain.
DYNAMIC = {
    "keras_flatten_dynamic_batch": {"SHAPE", "STRIDED_SLICE", "PACK"},
    "keras_reshape_dynamic_batch": {"SHAPE", "STRIDED_SLICE", "PACK"},
}


@pytest.mark.parametrize("name", list(DYNAMIC))
def test_shape_arithmetic_leaves_the_graph(name: str) -> None:
    graph = graph_of(load_model(DATA / f"{name}.tflite"))
    assert DYNAMIC[name] <= {op.kind for op in graph.ops}
    folded = fold_shape_ops(graph)
    assert not SHAPE_OPS & {op.kind for op in folded.ops}
    for op in folded.ops:
        if op.kind == "RESHAPE" and len(op.inputs) > 1:
            shape = folded.tensor(op.inputs[1])
            assert shape.is_constant
            # The folded shape is the one the RESHAPE produces (a batch of 1).
            assert list(shape.array()) == list(folded.tensor(op.outputs[0]).shape)


@pytest.mark.skipif(CC is None, reason="no host C compiler")
@pytest.mark.parametrize("name", list(DYNAMIC))
def test_dynamic_batch_models_bit_exact_on_the_host(name: str, tmp_path: Path) -> None:
    native, host = compare(DATA / f"{name}.tflite", tmp_path, count=4)
    assert native == host
    assert len(set(host)) > 1


CASES = [
    # shape, begin, end, strides, begin_mask, end_mask, shrink_mask, the numpy slice
    ((4,), (0,), (1,), (1,), 0, 0, 1, np.s_[0]),
    ((4,), (1,), (0,), (1,), 0, 1, 0, np.s_[1:]),
    ((2, 7, 5), (0, 1, -1), (2, -1, 0), (1, 2, -1), 0, 0, 0, np.s_[0:2, 1:-1:2, -1:0:-1]),
    ((3, 6), (-2, 0), (3, 6), (1, 3), 0, 0, 0, np.s_[-2:3, 0:6:3]),
    ((3, 6), (1, 5), (0, 0), (1, -2), 1, 3, 0, np.s_[:, 5::-2]),
    ((2, 3, 4, 5), (1, 0, 2, 0), (2, 3, 0, 5), (1, 1, 1, 1), 0, 0, 4, np.s_[1:2, :, 2, :]),
    ((5,), (9,), (12,), (1,), 0, 0, 0, np.s_[9:12]),
    ((5,), (-9,), (-12,), (-1,), 0, 0, 0, np.s_[-9:-12:-1]),
]


@pytest.mark.parametrize("case", CASES)
def test_strided_slice_ranges_select_what_numpy_does(case: tuple) -> None:
    shape, begin, end, strides, bmask, emask, smask, expected = case
    values = np.arange(int(np.prod(shape))).reshape(shape)
    ranges = strided_slice_ranges(shape, begin, end, strides, bmask, emask, smask)
    assert list(gather_ranges(values, ranges)) == list(np.asarray(values[expected]).reshape(-1))
