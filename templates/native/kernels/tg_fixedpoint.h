/*
 * tinygen native runtime: gemmlowp-style fixed-point exp, 1/(1+x) and (1-x)/(1+x), as TFLM's
 * int8 SOFTMAX, LOGISTIC and TANH use them; written for tinygen from the published algorithm
 * (a Taylor expansion around -1/8, a barrel shifter of exp(-2^k) factors, Newton-Raphson
 * division), reproducing its rounding step by step. Q-formats are named by integer bits: a
 * raw int32 with k integer bits has 31 - k fractional bits.
 */
#ifndef TG_FIXEDPOINT_H
#define TG_FIXEDPOINT_H

#include <stdint.h>

#include "tg_arith.h"

/* exp(a) for a in [-1/4, 0), a and the result with 0 integer bits. */
static inline int32_t tg_fp_exp_quarter(int32_t a)
{
    const int32_t exp_minus_one_eighth = 1895147668;
    const int32_t one_third = 715827883;
    const int32_t x = tg_add_wrap(a, 1 << 28);
    const int32_t x2 = tg_srdhm(x, x);
    const int32_t x3 = tg_srdhm(x2, x);
    const int32_t x4 = tg_srdhm(x2, x2);
    const int32_t x4_over_4 = tg_rdbpot(x4, 2);
    const int32_t poly = tg_rdbpot(
        tg_add_wrap(tg_srdhm(tg_add_wrap(x4_over_4, x3), one_third), x2), 1);
    return tg_add_wrap(exp_minus_one_eighth,
                       tg_srdhm(exp_minus_one_eighth, tg_add_wrap(x, poly)));
}

/* exp(a) for a <= 0 with `integer_bits` (4 or 5) integer bits; result with 0 integer bits. */
static inline int32_t tg_fp_exp_negative(int32_t a, int32_t integer_bits)
{
    static const int32_t factors[7] = {
        1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242,
    };
    const int32_t fractional_bits = 31 - integer_bits;
    const int32_t one_quarter = 1 << (fractional_bits - 2);
    const int32_t mod_minus_quarter = tg_sub_wrap(a & (one_quarter - 1), one_quarter);
    int32_t result = tg_fp_exp_quarter(tg_sat_shl(mod_minus_quarter, integer_bits));
    const int32_t remainder = tg_sub_wrap(mod_minus_quarter, a);
    /* Factor k stands for exp(-2^(k-2)); it applies while integer_bits > k - 2. */
    for (int32_t k = 0; k < 7 && integer_bits > k - 2; ++k) {
        if (remainder & (int32_t)(UINT32_C(1) << (fractional_bits + k - 2))) {
            result = tg_srdhm(result, factors[k]);
        }
    }
    return a == 0 ? INT32_MAX : result;
}

/* (a + b) / 2 rounded half away from zero, in 64 bits. */
static inline int32_t tg_fp_half_sum(int32_t a, int32_t b)
{
    const int64_t sum = (int64_t)a + (int64_t)b;
    return (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
}

/* Newton-Raphson for 1 / (1 + a), a in (0, 1) with 0 integer bits; result with 2. */
static inline int32_t tg_fp_newton_reciprocal(int32_t a)
{
    const int32_t half_denominator = tg_fp_half_sum(a, INT32_MAX);
    const int32_t c48_17 = 1515870810;
    const int32_t c_neg32_17 = -1010580540;
    int32_t x = tg_add_wrap(c48_17, tg_srdhm(half_denominator, c_neg32_17));
    for (int i = 0; i < 3; ++i) {
        const int32_t one_minus = tg_sub_wrap(1 << 29, tg_srdhm(half_denominator, x));
        x = tg_add_wrap(x, tg_sat_shl(tg_srdhm(x, one_minus), 2));
    }
    return x;
}

/* 1 / (1 + a) for a in (0, 1), 0 integer bits in and out. */
static inline int32_t tg_fp_one_over_one_plus(int32_t a)
{
    return tg_sat_shl(tg_fp_newton_reciprocal(a), 1);
}

/* (1 - a) / (1 + a) for a in (0, 1), 0 integer bits in and out. */
static inline int32_t tg_fp_one_minus_over_one_plus(int32_t a)
{
    return tg_sat_shl(tg_sub_wrap(tg_fp_newton_reciprocal(a), 1 << 29), 2);
}

/* logistic(a), a with 4 integer bits; result with 0. */
static inline int32_t tg_fp_logistic(int32_t a)
{
    if (a == 0) {
        return 1 << 30;
    }
    const int32_t magnitude = a > 0 ? a : tg_sub_wrap(0, a);
    const int32_t positive = tg_fp_one_over_one_plus(
        tg_fp_exp_negative(tg_sub_wrap(0, magnitude), 4));
    return a > 0 ? positive : tg_sub_wrap(INT32_MAX, positive);
}

/* tanh(a), a with 4 integer bits; result with 0. */
static inline int32_t tg_fp_tanh(int32_t a)
{
    if (a == 0) {
        return 0;
    }
    const int32_t negative_magnitude = a < 0 ? a : tg_sub_wrap(0, a);
    /* exp(2n) for n <= 0: the same raw value read with one more integer bit. */
    const int32_t t = tg_fp_one_minus_over_one_plus(tg_fp_exp_negative(negative_magnitude, 5));
    return a < 0 ? tg_sub_wrap(0, t) : t;
}

#endif
