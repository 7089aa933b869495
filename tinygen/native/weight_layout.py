"""Weight layouts in flash, as the kernels read them (templates/native/kernels/tg_dot.h)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def padded_depth(depth: int) -> int:
    """A row's bytes rounded up to whole groups of four."""
    return (depth + 3) // 4 * 4


def interleave_rows(matrix: np.ndarray, block: int) -> np.ndarray:
    """Rows of ``matrix`` [rows, depth] grouped ``block`` at a time and interleaved by groups
    of four bytes (row 0 bytes 0-3, row 1 bytes 0-3, ..., row 0 bytes 4-7, ...); the rows left
    over after the last whole block follow one after another. Every row is zero-padded to a
    multiple of four bytes. Returns the flat int8 array."""
    rows, depth = matrix.shape
    width = padded_depth(depth)
    padded = np.zeros((rows, width), dtype=np.int8)
    padded[:, :depth] = matrix
    whole = rows // block * block
    blocks = padded[:whole].reshape(rows // block, block, width // 4, 4).transpose(0, 2, 1, 3)
    return np.concatenate([blocks.reshape(-1), padded[whole:].reshape(-1)])


def halfword_pairs(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """int32 words holding two int16 values each, ``low`` in bits 0-15 and ``high`` above."""
    lo = low.astype(np.int64) & 0xFFFF
    hi = high.astype(np.int64) & 0xFFFF
    return (lo | (hi << 16)).astype(np.uint32).astype(np.int32)


def depthwise_stream(taps: np.ndarray, start: Sequence[int],
                     requant: Sequence[tuple[int, int, int]]) -> tuple[int, ...]:
    """The int32 words tg_depthwise_m1.c reads, one run per group of four channels.

    ``taps`` is the filter as [taps, channels] (at least four channels, already scaled as the
    kernel accumulates), ``start`` each channel's accumulator start (the folded bias) and
    ``requant`` its three requantization words. Groups start at channel 0, then (with channels
    % 4 left over) at channels % 4, then every four channels, so that the last one ends at the
    last channel (the first two overlap when the count is not a multiple of four); each
    holds the four start values, then per tap the channels 0/2 and 1/3 halfword pairs (as
    SXTB16 splits four input bytes), then the four channels' requantization words.
    """
    channels = taps.shape[1]
    left = channels % 4
    words: list[int] = []
    for g in [0, *range(left, channels - 3, 4)] if left else range(0, channels, 4):
        words += [int(v) for v in start[g:g + 4]]
        even = halfword_pairs(taps[:, g], taps[:, g + 2])
        odd = halfword_pairs(taps[:, g + 1], taps[:, g + 3])
        words += np.stack([even, odd], axis=1).reshape(-1).tolist()
        for c in range(g, g + 4):
            words += [int(v) for v in requant[c]]
    return tuple(words)
