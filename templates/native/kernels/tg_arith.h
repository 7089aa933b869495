/*
 * tinygen native runtime: the fixed-point primitives of TFLM's integer kernels (its double-
 * rounding MultiplyByQuantizedMultiplier and gemmlowp's saturating, rounding operations),
 * written for tinygen from their definitions. Wrapping arithmetic goes through uint32_t so
 * that C's signed overflow rules never apply; right shifts of negative values are arithmetic
 * (as GCC and every Arm compiler define them).
 */
#ifndef TG_ARITH_H
#define TG_ARITH_H

#include <stdint.h>

/* TG_PORTABLE=1 (--kernels native-portable) keeps to plain C on every core. */
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && !(defined(TG_PORTABLE) && TG_PORTABLE)
#include <arm_acle.h>
#define TG_DSP 1
#else
#define TG_DSP 0
#endif

/* (a * b * 2) / 2^32 rounded to nearest (ties upward), saturating the one overflow: gemmlowp's
 * SaturatingRoundingDoublingHighMul. Its nudge-and-truncate rounding equals flooring
 * (a * b + 2^30) / 2^31: for a negative product, truncating (p + 1 - 2^30) / 2^31 toward zero
 * is taking the ceiling, which is the floor of (p + 1 - 2^30 + 2^31 - 1) / 2^31. */
static inline int32_t tg_srdhm(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    return (int32_t)(((int64_t)a * (int64_t)b + (INT64_C(1) << 30)) >> 31);
}

/* x / 2^exponent rounded to nearest, ties away from zero; 0 <= exponent <= 31. */
static inline int32_t tg_rdbpot(int32_t x, int32_t exponent)
{
    const int32_t mask = (int32_t)((UINT32_C(1) << exponent) - 1u);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

static inline int32_t tg_shl(int32_t x, int32_t n)
{
    return (int32_t)((uint32_t)x << n);
}

/* MultiplyByQuantizedMultiplier (double rounding): x * mult * 2^(shift - 31), for the
 * multipliers QuantizeMultiplier makes (mult >= 0, so the doubling product cannot overflow). */
static inline int32_t tg_requant(int32_t x, int32_t mult, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    const int64_t product = (int64_t)tg_shl(x, left) * (int64_t)mult;
    return tg_rdbpot((int32_t)((product + (INT64_C(1) << 30)) >> 31), right);
}

/* tg_requant for the case tinygen checks at generation time (the op's fast_requant flag): a
 * right shift only (1 <= right <= 31, right = -shift) and |x| < 2^29. Then gemmlowp's doubling
 * high multiply, floor((x * mult + 2^30) / 2^31), is floor((2x * mult + 2^31) / 2^32): one
 * rounding multiply-high of 2x (SMMULR); and rounding half away from zero by 2^right is
 * floor((y + 2^(right-1) - [y < 0]) / 2^right), with no overflow since |y| <= |x|. */
static inline int32_t tg_requant_fast(int32_t x, int32_t mult, int32_t right)
{
#if TG_DSP
    int32_t y;
    __asm__("smmulr %0, %1, %2" : "=r"(y) : "r"(x * 2), "r"(mult));
#else
    const int32_t y = (int32_t)(((int64_t)(x * 2) * mult + INT64_C(0x80000000)) >> 32);
#endif
    return (y + (int32_t)(UINT32_C(1) << (right - 1)) + (y >> 31)) >> right;
}

/* SMMLAR: acc + x * y / 2^32 rounded to nearest (ties upward), for the operands tinygen checks
 * at generation time (the result fits in 32 bits). */
static inline int32_t tg_smmlar(int32_t x, int32_t y, int32_t acc)
{
#if TG_DSP
    int32_t r;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(x), "r"(y), "r"(acc));
    return r;
#else
    return acc + (int32_t)(((int64_t)x * y + INT64_C(0x80000000)) >> 32);
#endif
}

/* The fast requantization from the doubled accumulator x2 = 2x (doubled by the caller, or in
 * a table, or in the weights and bias; tg_requant_round below doubles it itself), round the
 * rounding term 2^(right - 1); with zp * 2^right added to it (computed once per
 * channel), adding zp * 2^right before the floor shift is adding zp after it, provided the sum
 * stays in int32 (|y| <= |x| as mult < 2^31; tinygen checks it at generation time). */
static inline int32_t tg_requant_round2(int32_t x2, int32_t mult, int32_t right, int32_t round)
{
    return (tg_smmlar(x2, mult, round) + (x2 >> 31)) >> right;
}

/* tg_requant_fast with its rounding term given (round = 2^(right - 1), computed once per
 * channel) and one instruction fewer with the DSP extension: SMMLAR adds round to the rounded
 * high product exactly (round << 32 is a multiple of 2^32), and the sign taken from x instead
 * of y = SMMULR(2x, mult) changes nothing: mult > 0, so y < 0 implies x < 0, and x < 0 with
 * y >= 0 means y = 0, where (round - 1) >> right and round >> right are both 0. */
static inline int32_t tg_requant_round(int32_t x, int32_t mult, int32_t right, int32_t round)
{
    return tg_requant_round2(x * 2, mult, right, round);  /* 2x has x's sign */
}

/* x clamped to int8's range (SSAT where the core has it). */
static inline int32_t tg_sat8(int32_t x)
{
#if defined(__ARM_FEATURE_SAT) && __ARM_FEATURE_SAT && !(defined(TG_PORTABLE) && TG_PORTABLE)
    int32_t r;
    __asm__("ssat %0, #8, %1" : "=r"(r) : "r"(x));
    return r;
#else
    return x < -128 ? -128 : (x > 127 ? 127 : x);
#endif
}

static inline int32_t tg_clamp(int32_t x, int32_t lo, int32_t hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

static inline int32_t tg_add_wrap(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

static inline int32_t tg_sub_wrap(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a - (uint32_t)b);
}

/* SaturatingRoundingMultiplyByPOT with a positive exponent: a saturating left shift. */
static inline int32_t tg_sat_shl(int32_t x, int32_t exponent)
{
    const int32_t threshold = (int32_t)((UINT32_C(1) << (31 - exponent)) - 1u);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return tg_shl(x, exponent);
}

/* One int8 output: requantized (the fast form when the op allows it), offset, clamped. */
static inline int8_t tg_output(int32_t acc, int32_t mult, int32_t shift, int fast, int32_t zp,
                               int32_t lo, int32_t hi)
{
    const int32_t v = fast ? tg_requant_fast(acc, mult, -shift) : tg_requant(acc, mult, shift);
    return (int8_t)tg_clamp(v + zp, lo, hi);
}

/* roundf/lroundf (to nearest, ties away from zero) without a library call, for the result
 * clamped to int8 afterwards: v - trunc(v) is exact in float (Sterbenz), and any |v| >= 2^23
 * is already an integer, returned as a value beyond the int8 range. */
static inline int32_t tg_round_f32(float v)
{
    if (v >= 8388608.0f) {
        return 8388608;
    }
    if (v <= -8388608.0f) {
        return -8388608;
    }
    int32_t i = (int32_t)v;
    const float frac = v - (float)i;
    if (frac >= 0.5f) {
        ++i;
    } else if (frac <= -0.5f) {
        --i;
    }
    return i;
}

#endif
