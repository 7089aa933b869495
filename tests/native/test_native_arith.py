"""The kernels' integer arithmetic (tg_arith.h) against exact integer definitions in Python, and
the generic requantization path of whole models (the fast one is what they use by default)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.native.native_host import (
    CC,
    CFLAGS,
    compile_folder,
    random_inputs,
    run_host,
    run_interpreter,
    write_sources,
)
from tinygen.model import load_model
from tinygen.native import lowering, quant
from tinygen.native.render import prepare_native
from tinygen.resources import templates_dir

REPO = Path(__file__).resolve().parents[2]
KERNELS = templates_dir() / "native" / "kernels"
pytestmark = pytest.mark.skipif(CC is None, reason="no host C compiler")

_DRIVER = r"""
#include <stdio.h>
#include "tg_arith.h"
int main(void)
{
    long x, m, s;
    while (scanf("%ld %ld %ld", &x, &m, &s) == 3) {
        long slow = tg_requant((int32_t)x, (int32_t)m, (int32_t)s);
        long fast = s < 0 && x > -(1L << 29) && x < (1L << 29)
            ? tg_requant_fast((int32_t)x, (int32_t)m, (int32_t)-s) : slow;
        long round = s < 0 && x > -(1L << 29) && x < (1L << 29)
            ? tg_requant_round((int32_t)x, (int32_t)m, (int32_t)-s, (int32_t)(1L << (-s - 1)))
            : slow;
        if (round != fast) {
            return 1;
        }
        printf("%ld %ld %d\n", slow, fast, tg_srdhm((int32_t)x, (int32_t)m));
    }
    return 0;
}
"""


@pytest.fixture(scope="module")
def arith(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("arith")
    (folder / "main.c").write_text(_DRIVER)
    exe = folder / "arith"
    subprocess.run([str(CC), *CFLAGS, "-I", str(KERNELS), str(folder / "main.c"), "-o",
                    str(exe)], check=True)
    return exe


def _srdhm(a: int, b: int) -> int:
    """gemmlowp's definition: nudge, then divide by 2^31 truncating toward zero."""
    if a == b == -(2**31):
        return 2**31 - 1
    ab = a * b
    nudged = ab + (1 << 30 if ab >= 0 else 1 - (1 << 30))
    return nudged // 2**31 if nudged >= 0 else -((-nudged) // 2**31)


def test_requantization_matches_the_definitions(arith: Path) -> None:
    rng = np.random.default_rng(11)
    cases = [(2**31 - 1, 2**31 - 1, 0), (-(2**31), 2**31 - 1, -31), (-(2**31), 2**30, 0),
             (12345, 1 << 30, -1), (-12345, 1 << 30, -1), (3, 1 << 30, -2), (-3, 1 << 30, -2),
             (2**28, 1518500250, -7), (-(2**28), 1518500250, -31), (7, 1 << 30, 5)]
    for _ in range(3000):
        shift = int(rng.integers(-31, 8))
        x = int(rng.integers(-(2**31), 2**31)) >> int(rng.integers(0, 31))
        if shift > 0:
            x >>= shift  # TFLM's callers keep x << shift in range
        cases.append((x, int(rng.integers(1 << 30, 2**31)), shift))
    text = "".join(f"{x} {m} {s}\n" for x, m, s in cases)
    out = subprocess.run([str(arith)], input=text, capture_output=True, text=True,
                         check=True).stdout.split("\n")
    for (x, m, s), line in zip(cases, out, strict=False):
        slow, fast, high = (int(v) for v in line.split())
        assert high == _srdhm(x, m), (x, m)
        assert slow == quant.multiply_by_quantized_multiplier(x, m, s), (x, m, s)
        if s < 0 and abs(x) < quant.FAST_BOUND:
            assert fast == slow, (x, m, s)


def test_a_dead_channel_keeps_its_constant_output() -> None:
    """A channel with no weights and a huge bias (as in the VWW reference model) gets small
    parameters giving the same output."""
    m, s = 1320764593, -27
    bias = 1073741760
    want = quant.multiply_by_quantized_multiplier(bias, m, s) - 128
    b2, m2, s2 = quant.tame_channel(bias, 0, m, s, -128, -128, 127)
    assert abs(b2) < quant.FAST_BOUND and -31 <= s2 <= -1
    assert quant.multiply_by_quantized_multiplier(b2, m2, s2) - 128 == want


def test_a_saturated_channel_keeps_saturating() -> None:
    m, s, reach = 1 << 30, -3, 1000
    bias = 2**30  # every accumulator gives far above 127
    b2, m2, s2 = quant.tame_channel(bias, reach, m, s, 0, -128, 127)
    assert (m2, s2) == (m, s) and abs(b2) + reach < quant.FAST_BOUND
    for acc in range(b2 - reach, b2 + reach + 1, 97):
        assert quant.multiply_by_quantized_multiplier(acc, m, s) >= 127


def _host_matches_interpreter(path: Path, folder: Path, seed: int, generic: bool) -> str:
    """Generates the model's C into folder (every fast_requant flag switched off when
    ``generic``), asserts the host build's outputs are the interpreter's on four random inputs
    and returns the generated model_data.c as generated."""
    native = prepare_native(load_model(path))
    write_sources(native, folder)
    data = folder / "src" / "model_data.c"
    text = data.read_text()
    if generic:
        data.write_text(text.replace(".fast_requant = 1,", ".fast_requant = 0,"))
    inputs = random_inputs(native, 4, seed=seed)
    out_bytes = native.graph.tensor(native.graph.outputs[0]).nbytes
    assert run_host(compile_folder(folder), inputs, out_bytes) == run_interpreter(path, inputs)
    return text


def _generic_depthwise(monkeypatch: pytest.MonkeyPatch) -> None:
    """The multiplier-1 depthwise kernel's form is laid out in its stream of words, not a
    flag: generate it in the generic form."""
    generated = lowering.depthwise_m1_stream
    monkeypatch.setattr(lowering, "depthwise_m1_stream",
                        lambda rows, bias, mults, fast, zp: generated(rows, bias, mults, False, zp))


@pytest.mark.parametrize("model", [
    "tests/data/ops/conv_same_relu.tflite", "tests/data/ops/conv_odd_channels.tflite",
    "tests/data/ops/depthwise_dilated.tflite", "tests/data/ops/fully_connected_batch3.tflite",
    "tests/data/ops/fully_connected_per_tensor.tflite", "models/kws_tiny.tflite",
])
def test_generic_requantization_path_is_bit_exact(model: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Every op of these models takes the fast path; switched off, the generic one must give
    the same bytes. The flag is switched in the generated C, but for the multiplier-1
    depthwise kernel, whose form is laid out in its stream of words: that one is generated in
    the generic form."""
    _generic_depthwise(monkeypatch)
    text = _host_matches_interpreter(REPO / model, tmp_path, seed=5, generic=True)
    # Something was switched: a flag, or the depthwise kernel's stream (generated generic).
    assert ".fast_requant = 1," in text or "tg_depthwise_m1_s8" in (
        tmp_path / "src" / "model.c").read_text()


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("model", [
    "tests/data/ops/conv_same_relu.tflite", "tests/data/ops/conv_odd_channels.tflite",
    "models/kws_tiny.tflite",
])
def test_unpacked_convolution_paths_are_bit_exact(model: str, fast: bool, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A convolution whose packed parameters would overflow (lowering.packed_requant gives
    None) keeps its bias, multiplier and shift arrays and takes the two-column paths: the fast
    one, and the generic one when that is switched off. Both must give TFLM's bytes."""
    monkeypatch.setattr(lowering, "packed_requant", lambda *args: None)
    if not fast:
        _generic_depthwise(monkeypatch)
    text = _host_matches_interpreter(REPO / model, tmp_path, seed=11, generic=not fast)
    assert ".rq = NULL," in text and "_rq[" not in text


def test_packed_requantization_refuses_an_overflowing_term() -> None:
    """The rounding term with the zero point folded in must stay below 2^30."""
    assert lowering.packed_requant((5, -7), [(1 << 30, -3), (3 << 29, -10)], -128) == [
        (5, 1 << 30, 3, 4 - 128 * 8), (-7, 3 << 29, 10, 512 - 128 * 1024)]
    assert lowering.packed_requant((0,), [(1 << 30, -24)], 127) is None
    assert lowering.packed_requant((0,), [(1 << 30, -24)], 0) is not None


def test_conv_stream_layout() -> None:
    """Per channel pair: both biases, the rows interleaved by four bytes (little-endian words),
    each channel's three parameters; a last odd channel alone."""
    rows = np.arange(-15, 0, dtype=np.int8).reshape(3, 5)  # depth 5: two groups, padded
    channels = [(10, 11, 12, 13), (20, 21, 22, 23), (30, 31, 32, 33)]

    def word(*b: int) -> int:
        return int(np.array(b, dtype=np.int8).view("<i4")[0])

    assert lowering.conv_stream(rows, channels) == (
        10, 20, word(-15, -14, -13, -12), word(-10, -9, -8, -7), word(-11, 0, 0, 0),
        word(-6, 0, 0, 0), 11, 12, 13, 21, 22, 23,
        30, word(-5, -4, -3, -2), word(-1, 0, 0, 0), 31, 32, 33)
