"""Index arithmetic of the data-movement operators, as TFLM computes it in Prepare and Eval.

STRIDED_SLICE follows TFLM's strided_slice_logic.h (the indices padded to five dimensions,
StridedSliceStartForAxis / StridedSliceEndForAxis, no ellipsis or new axes, no ``offset``);
the same ranges serve the generation-time folding of shape arithmetic and the kernel's
parameters, so both read exactly the elements TFLM reads.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SLICE_DIMS = 5


def _clamp(v: int, lo: int, hi: int) -> int:
    return hi if v > hi else lo if v < lo else v


@dataclass(frozen=True)
class AxisRange:
    start: int
    stop: int
    stride: int

    @property
    def count(self) -> int:
        """How many indices TFLM's loop visits (``index < stop`` or ``index > stop``)."""
        span = self.stop - self.start if self.stride > 0 else self.start - self.stop
        return max(0, -(-span // abs(self.stride)))


def strided_slice_ranges(shape: Sequence[int], begin: Sequence[int], end: Sequence[int],
                         strides: Sequence[int], begin_mask: int, end_mask: int,
                         shrink_mask: int) -> tuple[AxisRange, ...]:
    """The five per-axis ranges of TFLM's reference StridedSlice (leading axes padded)."""
    rank = len(shape)
    pad = SLICE_DIMS - rank
    dims = (1,) * pad + tuple(shape)
    starts = (0,) * pad + tuple(begin)
    stops = (1,) * pad + tuple(end)
    steps = (1,) * pad + tuple(strides)
    full = (1 << pad) - 1
    begin_mask = (begin_mask << pad) | full
    end_mask = (end_mask << pad) | full
    shrink_mask <<= pad
    ranges = []
    for axis in range(SLICE_DIMS):
        size, stride = dims[axis], steps[axis]
        start = starts[axis] + (size if starts[axis] < 0 else 0)
        start = _clamp(start, 0, size) if stride > 0 else _clamp(start, -1, size - 1)
        if begin_mask & (1 << axis):
            start = 0 if stride > 0 else size - 1
        if shrink_mask & (1 << axis):
            stop = start if start >= size else start + 1
        else:
            stop = stops[axis] + (size if stops[axis] < 0 else 0)
            stop = _clamp(stop, 0, size) if stride > 0 else _clamp(stop, -1, size - 1)
            if end_mask & (1 << axis):
                stop = size if stride > 0 else -1
        ranges.append(AxisRange(start, stop, stride))
    return tuple(ranges)


def gather_ranges(values: np.ndarray, ranges: Sequence[AxisRange]) -> np.ndarray:
    """The elements the ranges select, in TFLM's order (a flat array)."""
    padded = values.reshape((1,) * (len(ranges) - values.ndim) + values.shape)
    index = tuple(np.arange(r.start, r.stop, r.stride)[:r.count] for r in ranges)
    return np.asarray(padded[np.ix_(*index)]).reshape(-1)


def element_strides(shape: Sequence[int]) -> tuple[int, ...]:
    """Row-major strides in elements."""
    return tuple(math.prod(shape[i + 1:]) for i in range(len(shape)))
