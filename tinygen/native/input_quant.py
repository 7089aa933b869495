"""The float32 -> int8 input quantization of the benchmark port without a division, for cores
without an FPU, where the port re-quantizes the input before every inference (the memory plan
reuses the input tensor) and a software float division costs hundreds of instructions.

The quantization (tinygen.reference.quantize_f32: x / scale in float32, rounded half away from
zero, plus the zero point, clamped) is a non-decreasing step function of x. Ordered as signed
integers, float32 bit patterns ``b`` become monotonic keys (``b`` for a positive float,
``b ^ 0x7fffffff`` for a negative one), so the int8 result is -128 plus the number of the 255
thresholds -- the smallest key at which the result reaches -127, -126, ..., 127 -- that the
value's key reaches: a binary search of eight integer compares on the device
(templates/native/th_model.c.j2). The thresholds are found here by bisection over the keys,
evaluating the reference function itself, so both give the same byte for every float32 that
is not a NaN (the runner refuses NaN inputs).
"""

from __future__ import annotations

import numpy as np

from tinygen.reference import quantize_f32

_NEG_INF_KEY = int(np.array([-np.inf], dtype="<f4").view("<i4")[0]) ^ 0x7FFFFFFF
_POS_INF_KEY = int(np.array([np.inf], dtype="<f4").view("<i4")[0])


def keys(x: np.ndarray) -> np.ndarray:
    """The ordered integer keys of float32 values."""
    bits = x.astype("<f4").view("<i4").astype(np.int64)
    return np.where(bits < 0, bits ^ 0x7FFFFFFF, bits)


def from_keys(k: np.ndarray) -> np.ndarray:
    """The float32 values of keys."""
    bits = np.where(k < 0, k ^ 0x7FFFFFFF, k).astype("<i4")
    return bits.view("<f4")


def quantize_thresholds(scale: float, zero_point: int) -> tuple[int, ...]:
    """For v = -127 ... 127, the smallest key whose float quantizes to v or more (one past
    +infinity's key if none does, -infinity's if all do)."""
    targets = np.arange(-127, 128, dtype=np.int64)

    def reaches(k: np.ndarray) -> np.ndarray:
        result: np.ndarray = quantize_f32(from_keys(k), scale, zero_point).astype(np.int64)
        return result >= targets

    lo = np.full(targets.shape, _NEG_INF_KEY, dtype=np.int64)
    hi = np.full(targets.shape, _POS_INF_KEY + 1, dtype=np.int64)
    done = reaches(lo)
    hi = np.where(done, lo, hi)
    # Invariant: the result at lo is below the target (unless done), at hi it reaches it (hi
    # one past +infinity standing for "never").
    while True:
        open_ = ~done & (hi - lo > 1)
        if not open_.any():
            break
        mid = (lo + hi) // 2
        up = reaches(np.minimum(mid, _POS_INF_KEY))
        hi = np.where(open_ & up, mid, hi)
        lo = np.where(open_ & ~up, mid, lo)
    return tuple(int(v) for v in hi)


def quantize_by_thresholds(x: np.ndarray, thresholds: tuple[int, ...]) -> np.ndarray:
    """The device's lookup, in numpy: -128 plus the thresholds each value's key reaches."""
    table = np.asarray(thresholds, dtype=np.int64)
    counts: np.ndarray = np.searchsorted(table, keys(x), side="right") - 128
    return counts.astype(np.int8)
