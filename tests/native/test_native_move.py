"""The data-movement kernels (STRIDED_SLICE, SLICE, TRANSPOSE, SPLIT, SPLIT_V, UNPACK, PACK,
RESIZE_NEAREST_NEIGHBOR) and RESIZE_BILINEAR compiled for the host, byte for byte against the
TFLM interpreter."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.native.native_host import CC, compare
from tinygen.model import load_model
from tinygen.native.graph import graph_of
from tinygen.native.lowering_move import nearest_indices

DATA = Path(__file__).resolve().parents[1] / "data" / "native"
# Each model (scripts/make_native_models.py) and the operators it must contain.
MOVE_MODELS: dict[str, tuple[str, ...]] = {
    "op_strided_slice": ("STRIDED_SLICE",),
    "op_strided_slice_shrink": ("STRIDED_SLICE",),
    "op_slice": ("SLICE",),
    "op_split": ("SPLIT",),
    "op_split_v": ("SPLIT_V",),
    "op_transpose": ("TRANSPOSE",),
    "op_transpose_3d": ("TRANSPOSE",),
    "op_unpack": ("UNPACK",),
    "op_pack": ("PACK", "STRIDED_SLICE"),
    "op_resize_nearest_half_pixel": ("RESIZE_NEAREST_NEIGHBOR",),
    "op_resize_nearest_align_corners": ("RESIZE_NEAREST_NEIGHBOR",),
    "op_resize_nearest_2x": ("RESIZE_NEAREST_NEIGHBOR",),
    "op_resize_bilinear_half_pixel": ("RESIZE_BILINEAR",),
    "op_resize_bilinear_align_corners": ("RESIZE_BILINEAR",),
    "op_resize_bilinear_down": ("RESIZE_BILINEAR",),
}


@pytest.mark.skipif(CC is None, reason="no host C compiler")
@pytest.mark.parametrize("name", list(MOVE_MODELS))
def test_move_model_bit_exact(name: str, tmp_path: Path) -> None:
    path = DATA / f"{name}.tflite"
    kinds = {op.kind for op in graph_of(load_model(path)).ops}
    assert set(MOVE_MODELS[name]) <= kinds, "the model does not exercise its operator"
    native, host = compare(path, tmp_path, count=5, seed=len(name))
    assert native == host
    assert len(set(host)) > 1


def test_nearest_indices_follow_tflm() -> None:
    # Upscaling 2x without options repeats each index; half-pixel centres shift by half.
    assert nearest_indices(3, 6, False, False) == (0, 0, 1, 1, 2, 2)
    assert nearest_indices(4, 6, False, True) == (0, 1, 1, 2, 3, 3)
    assert nearest_indices(4, 9, True, False) == (0, 0, 1, 1, 2, 2, 2, 3, 3)
