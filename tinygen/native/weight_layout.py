"""Weight layouts in flash, as the kernels read them (templates/native/kernels/tg_dot.h)."""

from __future__ import annotations

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
