"""Faster exact forms of int8 ADD and SUB, chosen at generation time and checked on every one of
the 65,536 input pairs against TFLM's arithmetic (add.h / sub.h, as tinygen.native.quant has it).

TFLM rescales each input on its own (``(v + offset) << 20``, then MultiplyByQuantizedMultiplier
with that input's multiplier), adds (or subtracts) the two, and requantizes the sum. The forms
here keep that arithmetic and only compute it differently:

- ``FORM_TABLES``: each input's rescaled term depends on its byte alone, so both are tabulated
  (256 int32 entries each, twice the term, negated for SUB's second input); per element two
  lookups, one addition and the output stage.
- ``FORM_DIRECT``: no table. The input of the larger scale has multiplier 2^30 and shift 0,
  so its term is exactly (v + offset) * 2^19; the other's is one rounding multiply-high
  (tg_requant_round's identity, for its right shift of 1 to 31); then the output stage.

The output stage of both takes the doubled sum ``s2``: SMMLAR(s2, mult, round) with the output
zero point folded into ``round`` (2^(right-1) + zp * 2^right; adding a multiple of 2^right
before the shift is adding zp after it), the sign correction of round-half-away, the shift,
and the activation clamp. Whatever the identities say, a form is used only when replaying its
exact 32-bit arithmetic here gives TFLM's byte for every input pair (and nothing overflows).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tinygen.native import quant

FORM_GENERIC, FORM_DIRECT, FORM_TABLES = 0, 1, 2
# Tables cost 2 KB of flash; below this many outputs the direct form (no table) is used.
TABLE_MIN_ELEMENTS = 1024
ADD_LEFT_SHIFT = 20  # the direct form's shift by 21 (tg_elementwise.c) is 2 x this

_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_BYTES = np.arange(-128, 128, dtype=np.int64)  # every int8 value, in order


@dataclass(frozen=True)
class AddArith:
    """The parameters TFLM's Prepare gives an int8 ADD or SUB (``subtract``)."""

    left_shift: int
    in1_offset: int
    in2_offset: int
    mult1: int
    shift1: int
    mult2: int
    shift2: int
    mult: int
    shift: int
    out_zp: int
    act_min: int
    act_max: int
    subtract: bool


@dataclass(frozen=True)
class AddForm:
    """A form and what the kernel needs for it (tables in the order of the byte as uint8)."""

    form: int
    table1: tuple[int, ...] = ()
    table2: tuple[int, ...] = ()
    linear: int = 0  # the direct form's input scaled exactly by 2^19 (1 or 2)
    round_in: int = 0  # the direct form's other input: its rounding term
    round: int = 0  # the output's, with its zero point folded in


def requantize(x: np.ndarray, mult: int, shift: int) -> np.ndarray:
    """quant.multiply_by_quantized_multiplier on an int64 array of int32 values."""
    left, right = max(shift, 0), max(-shift, 0)
    a = _wrap32(x << left)
    high = (a * mult + (1 << 30)) >> 31  # |a * mult| < 2^62: no int64 overflow
    if mult == _INT32_MIN:
        high = np.where(a == _INT32_MIN, _INT32_MAX, high)
    mask = (1 << right) - 1
    threshold = (mask >> 1) + (high < 0)
    return (high >> right) + ((high & mask) > threshold)


def _wrap32(x: np.ndarray) -> np.ndarray:
    return ((x + 2**31) & 0xFFFFFFFF) - 2**31


def input_terms(offset: int, left_shift: int, mult: int, shift: int) -> np.ndarray:
    """One input's rescaled value for every int8 byte (-128..127), as TFLM computes it."""
    return requantize(_wrap32((_BYTES + offset) << left_shift), mult, shift)


def tflm_outputs(p: AddArith) -> np.ndarray:
    """TFLM's int8 output for every input pair: [byte1 + 128, byte2 + 128]."""
    t1 = input_terms(p.in1_offset, p.left_shift, p.mult1, p.shift1)
    t2 = input_terms(p.in2_offset, p.left_shift, p.mult2, p.shift2)
    total = _wrap32(t1[:, None] - t2[None, :] if p.subtract else t1[:, None] + t2[None, :])
    out: np.ndarray = np.clip(requantize(total, p.mult, p.shift) + p.out_zp, p.act_min,
                              p.act_max)
    return out


def _smmlar(x: np.ndarray, mult: int, acc: int) -> np.ndarray | None:
    """SMMLAR's exact result, or None where it would not fit in 32 bits."""
    y = acc + ((x * mult + (1 << 31)) >> 32)
    return y if bool(np.all((y >= _INT32_MIN) & (y <= _INT32_MAX))) else None


def _fits(x: np.ndarray) -> bool:
    return bool(np.all((x >= _INT32_MIN) & (x <= _INT32_MAX)))


def _output_stage(p: AddArith, s2: np.ndarray) -> tuple[int, np.ndarray] | None:
    """(round, outputs) of the kernels' output stage on the doubled sums, None if it cannot
    run here (a left shift, or some intermediate beyond 32 bits)."""
    right = -p.shift
    if not (1 <= right <= 31 and p.mult >= 0 and _fits(s2)):
        return None
    round_ = (1 << (right - 1)) + p.out_zp * (1 << right)
    if not _INT32_MIN <= round_ <= _INT32_MAX:
        return None
    y = _smmlar(s2, p.mult, round_)
    if y is None or not _fits(y + (s2 >> 31)):
        return None
    return round_, np.clip((y + (s2 >> 31)) >> right, p.act_min, p.act_max)


def _rounded_term(offset: int, mult: int, shift: int) -> tuple[np.ndarray, int] | None:
    """(terms, round) of the direct form's rounded input, None where it does not apply."""
    right = -shift
    if not (1 <= right <= 31 and mult >= 0):
        return None
    x2 = _wrap32((_BYTES + offset) << (ADD_LEFT_SHIFT + 1))
    round_ = 1 << (right - 1)
    y = _smmlar(x2, mult, round_)
    if y is None:
        return None
    return (y + (x2 >> 31)) >> right, round_


def _direct_form(p: AddArith, t1: np.ndarray, t2: np.ndarray,
                 expected: np.ndarray) -> AddForm | None:
    """The direct form with input 1 or 2 (``linear``) scaled exactly by 2^19 (the input of the
    larger scale: multiplier 2^30, shift 0), the other rounded; None if it is not exact."""
    for linear, (t_lin, off_lin), (off, mult, shift) in (
            (1, (t1, p.in1_offset), (p.in2_offset, p.mult2, p.shift2)),
            (2, (t2, p.in2_offset), (p.in1_offset, p.mult1, p.shift1))):
        lin2 = (_BYTES + off_lin) << ADD_LEFT_SHIFT  # twice the term: (v + offset) * 2^20
        if not np.array_equal(2 * t_lin, lin2) or not _fits(lin2):
            continue
        rounded = _rounded_term(off, mult, shift)
        if rounded is None:
            continue
        r2 = 2 * rounded[0]
        if not _fits(r2):
            continue
        if linear == 1:
            s2 = lin2[:, None] + (-r2 if p.subtract else r2)[None, :]
        else:
            s2 = r2[:, None] + (-lin2 if p.subtract else lin2)[None, :]
        stage = _output_stage(p, s2)
        if stage is not None and np.array_equal(stage[1], expected):
            return AddForm(FORM_DIRECT, linear=linear, round_in=rounded[1], round=stage[0])
    return None


def choose_form(p: AddArith, elements: int) -> AddForm:
    """The fastest form that gives TFLM's output for every input pair (FORM_GENERIC if none):
    tables for ``elements`` >= TABLE_MIN_ELEMENTS, else the direct form."""
    if p.left_shift != ADD_LEFT_SHIFT:
        return AddForm(FORM_GENERIC)
    expected = tflm_outputs(p)
    t1 = input_terms(p.in1_offset, p.left_shift, p.mult1, p.shift1)
    t2 = input_terms(p.in2_offset, p.left_shift, p.mult2, p.shift2)
    if elements >= TABLE_MIN_ELEMENTS:
        d1, d2 = 2 * t1, (-2 if p.subtract else 2) * t2
        stage = _output_stage(p, d1[:, None] + d2[None, :])
        if _fits(d1) and _fits(d2) and stage is not None and np.array_equal(stage[1], expected):
            return AddForm(FORM_TABLES, table1=_by_uint8(d1), table2=_by_uint8(d2),
                           round=stage[0])
    return _direct_form(p, t1, t2, expected) or AddForm(FORM_GENERIC)


def _by_uint8(values: np.ndarray) -> tuple[int, ...]:
    """Values per int8 byte (-128..127) reordered to be indexed by the byte read as uint8."""
    return tuple(int(v) for v in np.concatenate([values[128:], values[:128]]))


def arith_of(kind: str, scales: tuple[float, float, float], zero_points: tuple[int, int, int],
             act: tuple[int, int]) -> AddArith:
    """TFLM's Prepare for ADD or SUB: the input and output scales and zero points."""
    params = quant.sub_params if kind == "SUB" else quant.add_params
    left, (m1, s1), (m2, s2), (mo, so) = params(*scales)
    return AddArith(left, -zero_points[0], -zero_points[1], m1, s1, m2, s2, mo, so,
                    zero_points[2], act[0], act[1], kind == "SUB")
