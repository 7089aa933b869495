"""When tg_conv_s8 may write its output over its own input, a few rows before it.

A convolution's output cannot simply take its input's place (each output pixel reads its
neighbours), but tg_conv_s8 (templates/native/kernels/tg_conv.c) walks the output pixels in
raster order, a group of three (two without the packed parameters; the last one or two alone)
at a time, and for each group first extends the receptive fields of all its pixels into its
scratch buffer, then writes the group's outputs (every channel of those pixels) from there.
So when the input dies at the convolution, the output may start ``lag`` bytes before the
input and run over it, the lag being three input rows:

- stride 1, dilation 1, ``k_h <= 3``: output pixel (y, x) reads input rows ``y - pad_h`` to
  ``y - pad_h + k_h - 1``, with ``pad_h <= 1`` (SAME padding of a filter of 3 rows or fewer);
- ``in_c == out_c`` and ``in_w == out_w``: output pixel p lands exactly on input pixel p
  shifted up by the lag, i.e. output row y on input row ``y - 3``, same column;
- ``in_w >= 3``: a group of at most three pixels spans at most two rows, so when a group
  whose first pixel is on row r has written its outputs, the input rows overwritten are
  ``<= r + 1 - 3 = r - 2``, while every later group reads rows ``>= r - pad_h >= r - 1``:
  nothing still to be read has been overwritten. A group reads all it needs before its
  first store, so its own outputs cannot clobber it either;
- one batch (the batches would each need the argument, and no model here has two).

The lag is rounded up to the arena's alignment (a longer lag overwrites less, so stays safe).
tests/native/test_native_conv_lag.py replays the kernel's reads and writes byte by byte for
every shape allowed up to a size, and the QEMU tests run such plans bit-exact.
"""

from __future__ import annotations

from dataclasses import dataclass

from tinygen.native.plan import ALIGN

LAG_ROWS = 3


@dataclass(frozen=True)
class ConvShape:
    """What the lag depends on (tg_conv_t's fields)."""

    batches: int
    in_h: int
    in_w: int
    in_c: int
    out_h: int
    out_w: int
    out_c: int
    k_h: int
    stride_h: int
    stride_w: int
    dil_h: int
    dil_w: int
    pad_h: int


def overwrite_lag(s: ConvShape) -> int:
    """Bytes before its input at which tg_conv_s8's output may start when the input dies at
    the call (0: it may not overlap its input)."""
    if not (s.batches == 1 and s.stride_h == s.stride_w == 1 and s.dil_h == s.dil_w == 1
            and s.k_h <= LAG_ROWS and s.pad_h <= 1 and s.in_c == s.out_c
            and s.in_w == s.out_w >= 3 and s.out_h <= s.in_h):
        return 0
    lag = LAG_ROWS * s.in_w * s.in_c
    return (lag + ALIGN - 1) // ALIGN * ALIGN
