"""tg_conv_s8's output over its own input (tinygen.native.conv_lag): the kernel's reads and
writes replayed in its order, byte by byte, for every shape up to a size."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from tinygen.native.conv_lag import ConvShape, overwrite_lag
from tinygen.native.lowering import PADDING_SAME, PADDING_VALID, out_size_and_padding

Event = tuple[str, int, int]  # ("read" | "write", first byte, end), input / output offsets


def _field(s: ConvShape, k_w: int, pad_w: int, oy: int, ox: int) -> Iterator[tuple[int, int]]:
    """The input bytes tg_extend_column reads for output pixel (oy, ox): the taps inside the
    image (whole filter rows, gathered taps or the pixel itself, all read exactly)."""
    for ky in range(s.k_h):
        y = oy * s.stride_h - s.pad_h + ky * s.dil_h
        if not 0 <= y < s.in_h:
            continue
        for kx in range(k_w):
            x = ox * s.stride_w - pad_w + kx * s.dil_w
            if 0 <= x < s.in_w:
                at = (y * s.in_w + x) * s.in_c
                yield at, at + s.in_c


def kernel_events(s: ConvShape, k_w: int, pad_w: int, packed: bool) -> Iterator[Event]:
    """tg_conv_s8's accesses to its input and output in order: groups of three pixels with
    the packed parameters (tg_conv_rq), else two (the last one alone when odd); a group's
    receptive fields are all extended into the scratch buffer before its outputs are
    stored."""
    pixels = s.out_h * s.out_w
    group = 3 if packed else 2
    for b in range(s.batches):
        image = b * s.in_h * s.in_w * s.in_c
        dst = b * pixels * s.out_c
        for i in range(0, pixels, group):
            n = min(group, pixels - i)
            for p in range(i, i + n):
                for lo, hi in _field(s, k_w, pad_w, p // s.out_w, p % s.out_w):
                    yield "read", image + lo, image + hi
            # The stores go channel pair by channel pair over the group's pixels: within
            # the group's bytes, after all its reads.
            for p in range(i, i + n):
                yield "write", dst + p * s.out_c, dst + (p + 1) * s.out_c


def safe_lag(events: Iterator[Event]) -> int:
    """The least lag at which no read meets a byte already written: the output at input
    offset -lag clobbers input bytes below (bytes written so far) - lag."""
    written, need = 0, 0
    for kind, lo, hi in events:
        if kind == "write":
            written = max(written, hi)
        else:
            need = max(need, written - lo)
    return need


def _shapes() -> Iterator[tuple[ConvShape, int, int]]:
    for in_h, in_w, c, k_h, k_w, padding, stride in itertools.product(
            range(1, 7), range(1, 7), range(1, 6), (1, 2, 3, 4), (1, 2, 3),
            (PADDING_SAME, PADDING_VALID), (1, 2)):
        out_h, pad_h = out_size_and_padding(padding, stride, 1, in_h, k_h)
        out_w, pad_w = out_size_and_padding(padding, stride, 1, in_w, k_w)
        if out_h < 1 or out_w < 1:
            continue
        yield (ConvShape(1, in_h, in_w, c, out_h, out_w, c, k_h, stride, stride, 1, 1, pad_h),
               k_w, pad_w)


def test_the_lag_is_safe_for_every_shape_it_allows() -> None:
    allowed = 0
    for shape, k_w, pad_w in _shapes():
        lag = overwrite_lag(shape)
        if lag == 0:
            continue
        allowed += 1
        assert lag % 4 == 0 and lag >= 3 * shape.in_w * shape.in_c
        for packed in (True, False):
            need = safe_lag(kernel_events(shape, k_w, pad_w, packed))
            assert need <= lag, (shape, k_w, pad_w, packed, need)
    assert allowed > 500


@pytest.mark.parametrize("change, why", [
    ({"stride_h": 2, "stride_w": 2}, "stride 2"),
    ({"dil_h": 2}, "dilation 2"),
    ({"k_h": 4}, "four filter rows"),
    ({"out_c": 8}, "more output channels"),
    ({"in_w": 2, "out_w": 2}, "two columns"),
    ({"batches": 2}, "two batches"),
])
def test_other_shapes_get_no_lag(change: dict[str, int], why: str) -> None:
    base = ConvShape(1, 6, 6, 4, 6, 6, 4, 3, 1, 1, 1, 1, 1)
    assert overwrite_lag(base) == 3 * 6 * 4
    assert overwrite_lag(ConvShape(**{**base.__dict__, **change})) == 0, why


def test_the_replay_finds_a_lag_too_short() -> None:
    """The replay can fail: a 3x3 SAME convolution clobbers what it still reads when its
    output starts less than one row and a pixel before its input (the row above each pixel is
    read until the next row starts)."""
    shape = ConvShape(1, 5, 5, 3, 5, 5, 3, 3, 1, 1, 1, 1, 1)
    need = safe_lag(kernel_events(shape, 3, 1, True))
    assert 0 < need <= (5 + 1) * 3 < overwrite_lag(shape)
    # Writing in place (lag 0) would be wrong.
    assert safe_lag(kernel_events(shape, 3, 1, False)) > 0
