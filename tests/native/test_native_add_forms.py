"""ADD and SUB's fast forms (tinygen.native.add_forms): the vectorized reference against the
scalar one, the choice of form, and tg_add_s8 / tg_sub_s8 compiled for the host on all 65,536
input pairs (flat and broadcast) in every form, against TFLM's arithmetic."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tests.native.native_host import CC, CFLAGS, assert_op_model_bit_exact
from tinygen.model import load_model
from tinygen.native import add_forms, quant
from tinygen.native.add_forms import FORM_DIRECT, FORM_GENERIC, FORM_TABLES, AddArith, AddForm
from tinygen.native.render import prepare_native
from tinygen.resources import templates_dir

KERNELS = templates_dir() / "native" / "kernels"
DATA = Path(__file__).resolve().parents[1] / "data"
pytestmark = pytest.mark.skipif(CC is None, reason="no host C compiler")

# (kind, scales, zero points, activation range): the ResNet's first ADD's quantization, SUB,
# an input 2 of the larger scale, RELU and RELU6-like ranges, equal scales.
CASES = [
    ("ADD", (0.0781, 0.1329, 0.1406), (-3, 12, -20), (-128, 127)),
    ("SUB", (0.0521, 0.0217, 0.0433), (5, -7, 3), (-128, 127)),
    ("SUB", (0.0217, 0.0521, 0.0433), (-128, 9, -1), (-1, 127)),
    ("ADD", (0.25, 0.0113, 0.19), (0, -128, -128), (-128, 100)),
    ("ADD", (0.05, 0.05, 0.07), (1, 2, 3), (-128, 127)),
]


def _arith(case: tuple[str, tuple[float, float, float], tuple[int, int, int], tuple[int, int]],
           ) -> AddArith:
    kind, scales, zps, act = case
    return add_forms.arith_of(kind, tuple(float(np.float32(s)) for s in scales), zps, act)


def test_vectorized_requantization_is_the_scalar_one() -> None:
    rng = np.random.default_rng(3)
    x = rng.integers(-(2**31), 2**31, 2000, dtype=np.int64)
    for mult, shift in [(1 << 30, 0), (1518500250, -1), (1932735283, -17), (1 << 30, -31),
                        (1431655765, 3)]:
        got = add_forms.requantize(x >> max(shift, 0), mult, shift)
        want = [quant.multiply_by_quantized_multiplier(int(v) >> max(shift, 0), mult, shift)
                for v in x]
        assert got.tolist() == want


def test_the_form_follows_the_size() -> None:
    arith = _arith(CASES[0])
    assert add_forms.choose_form(arith, 16).form == FORM_DIRECT
    big = add_forms.choose_form(arith, add_forms.TABLE_MIN_ELEMENTS)
    assert big.form == FORM_TABLES and len(big.table1) == len(big.table2) == 256
    # Equal scales: both inputs are linear, which the direct form does not take.
    assert add_forms.choose_form(_arith(CASES[4]), 16).form == FORM_GENERIC
    assert add_forms.choose_form(replace(arith, left_shift=19), 4096).form == FORM_GENERIC


_DRIVER = r"""
#include <stdio.h>
#include "tg_kernels.h"
%(tables)s
static const tg_binary_t params[] = {%(params)s};
static void (*const kernels[])(const tg_binary_t *, const int8_t *, const int8_t *,
                               int8_t *) = {%(kernels)s};
static int8_t in1[65536], in2[65536], out[65536];
int main(void)
{
    for (int i = 0; i < 65536; ++i) {
        in1[i] = (int8_t)((i >> 8) - 128);
        in2[i] = (int8_t)((i & 255) - 128);
    }
    for (unsigned k = 0; k < sizeof params / sizeof params[0]; ++k) {
        const tg_binary_t *p = &params[k];
        const int8_t *a = in1, *b = in2;
        if (p->broadcast) {  /* in1 of 256 values along dimension 4, in2 along 5 */
            static int8_t row1[256], row2[256];
            for (int i = 0; i < 256; ++i) {
                row1[i] = row2[i] = (int8_t)(i - 128);
            }
            a = row1;
            b = row2;
        }
        kernels[k](p, a, b, out);
        fwrite(out, 1, sizeof out, stdout);
    }
    return 0;
}
"""


def _c_params(arith: AddArith, form: AddForm, index: int, broadcast: bool) -> str:
    shape = ".size = 65536, .broadcast = 0"
    if broadcast:
        shape = (".size = 65536, .broadcast = 1, .out_shape = {1, 1, 1, 1, 256, 256}, "
                 ".strides1 = {0, 0, 0, 0, 1, 0}, .strides2 = {0, 0, 0, 0, 0, 1}")
    tables = f".table1 = t{index}_1, .table2 = t{index}_2, " if form.form == FORM_TABLES else ""
    return (f"{{{shape}, .in1_offset = {arith.in1_offset}, .in2_offset = {arith.in2_offset}, "
            f".out_zp = {arith.out_zp}, .act_min = {arith.act_min}, .act_max = {arith.act_max}, "
            f".left_shift = {arith.left_shift}, .mult1 = {arith.mult1}, "
            f".shift1 = {arith.shift1}, .mult2 = {arith.mult2}, .shift2 = {arith.shift2}, "
            f".mult = {arith.mult}, .shift = {arith.shift}, "
            f".linear = {form.linear}, .round_in = {form.round_in}, .round = {form.round}, "
            f"{tables}}}")


def _kernel(arith: AddArith, form: AddForm) -> str:
    kind = "sub" if arith.subtract else "add"
    return {FORM_GENERIC: f"tg_{kind}_s8", FORM_DIRECT: f"tg_{kind}_direct_s8",
            FORM_TABLES: "tg_add_tables_s8"}[form.form]


def test_kernels_give_tflm_bytes_on_every_input_pair(tmp_path: Path) -> None:
    """Each case in each form it has (and the generic one), flat and broadcast."""
    runs: list[tuple[AddArith, AddForm, bool]] = []
    for case in CASES:
        arith = _arith(case)
        forms = {add_forms.choose_form(arith, n) for n in (16, add_forms.TABLE_MIN_ELEMENTS)}
        for form in forms | {AddForm(FORM_GENERIC)}:
            runs += [(arith, form, False), (arith, form, True)]
    kinds = {(a.subtract, f.form) for a, f, _ in runs}
    assert {(False, FORM_TABLES), (False, FORM_DIRECT), (True, FORM_TABLES),
            (True, FORM_DIRECT)} <= kinds
    tables = "".join(
        f"static const int32_t t{i}_1[256] = {{{', '.join(map(str, f.table1))}}};\n"
        f"static const int32_t t{i}_2[256] = {{{', '.join(map(str, f.table2))}}};\n"
        for i, (_, f, _) in enumerate(runs) if f.form == FORM_TABLES)
    params = ",\n".join(_c_params(a, f, i, b) for i, (a, f, b) in enumerate(runs))
    kernels = ", ".join(_kernel(a, f) for a, f, _ in runs)
    (tmp_path / "main.c").write_text(_DRIVER % {"tables": tables, "params": params,
                                                "kernels": kernels})
    exe = tmp_path / "adds"
    subprocess.run([str(CC), *CFLAGS, "-I", str(KERNELS), str(tmp_path / "main.c"),
                    str(KERNELS / "tg_elementwise.c"), "-o", str(exe)], check=True)
    out = subprocess.run([str(exe)], capture_output=True, check=True, timeout=300).stdout
    assert len(out) == 65536 * len(runs)
    for i, (arith, form, broadcast) in enumerate(runs):
        got = np.frombuffer(out[i * 65536:(i + 1) * 65536], dtype=np.int8).reshape(256, 256)
        want = add_forms.tflm_outputs(arith)
        assert np.array_equal(got, want), (arith, form.form, broadcast)


@pytest.mark.parametrize(("model", "kinds"), [
    ("ops/add_relu", ("ADD/1",)), ("ops/add_broadcast", ("ADD/0", "MEAN")),
    ("native/op_sub", ("SUB/0",)), ("native/op_sub_broadcast", ("SUB/0", "MEAN")),
])
def test_tables_on_small_models_match_the_interpreter(model: str, kinds: tuple[str, ...],
                                                      tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-op models are too small for tables: with the threshold lowered they take them,
    and still give the interpreter's bytes."""
    monkeypatch.setattr(add_forms, "TABLE_MIN_ELEMENTS", 1)
    native = prepare_native(load_model(DATA / f"{model}.tflite"))
    kernels = [c.function for c in native.calls if c.kind in ("ADD", "SUB")]
    assert kernels and all(k == "tg_add_tables_s8" for k in kernels)
    assert_op_model_bit_exact(DATA / f"{model}.tflite", kinds, tmp_path)
