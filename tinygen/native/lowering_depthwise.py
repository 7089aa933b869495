"""DEPTHWISE_CONV_2D of depth multiplier 1 on four or more channels: the words that
tg_depthwise_m1_s8 (templates/native/kernels/tg_depthwise_m1.c) reads, group by group."""

from __future__ import annotations

import numpy as np

from tinygen.native.weight_layout import depthwise_stream

INT32_LIMIT = 2**31


def folds_zero_point(bound: int, right: int, zero_point: int) -> bool:
    """Whether tg_requant_round2's sum (the high product, at most the accumulator bound in
    magnitude, plus the rounding term 2^(right-1), the zero point times 2^right and the sign
    correction) stays inside int32."""
    return bound + (1 << (right - 1)) + abs(zero_point) * (1 << right) + 1 < INT32_LIMIT


def depthwise_m1_stream(rows: np.ndarray, bias: tuple[int, ...],
                        multipliers: list[tuple[int, int]], fast: bool, zero_point: int,
                        ) -> tuple[bool, tuple[int, ...]]:
    """(fast, the stream) for a filter ``rows`` [channels, taps], the folded biases and the
    multipliers fast_requant returned (``fast`` as it decided).

    The fast form doubles the filter and the biases (the kernel's accumulator is the 2x that
    SMMLAR multiplies) and gives each channel (multiplier, 2^(right-1) + zero point * 2^right,
    right); it falls back to the generic form, (multiplier, shift, 0) on the filter as it is,
    where that sum could leave int32.
    """
    bound = np.abs(np.asarray(bias, dtype=np.int64)) + 128 * np.abs(
        rows.astype(np.int64)).sum(axis=1)
    fast = fast and all(folds_zero_point(int(b), -s, zero_point)
                        for b, (_, s) in zip(bound, multipliers, strict=True))
    taps = rows.T.astype(np.int64)
    if fast:
        requant = [(m, (1 << (-s - 1)) + zero_point * (1 << -s), -s) for m, s in multipliers]
        return True, depthwise_stream(2 * taps, [2 * b for b in bias], requant)
    return False, depthwise_stream(taps, bias, [(m, s, 0) for m, s in multipliers])
