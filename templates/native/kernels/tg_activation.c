/* tinygen native runtime: int8 SOFTMAX, LOGISTIC and TANH (TFLM reference arithmetic). */
#include "tg_fixedpoint.h"
#include "tg_kernels.h"

static int32_t tg_clz32(uint32_t x)
{
    int32_t n = 0;
    if (x == 0) {
        return 32;
    }
    while (!(x & UINT32_C(0x80000000))) {
        x <<= 1;
        ++n;
    }
    return n;
}

void tg_softmax_s8(const tg_softmax_t *p, const int8_t *in, int8_t *out)
{
    for (int32_t r = 0; r < p->rows; ++r) {
        const int8_t *x = in + r * p->depth;
        int8_t *y = out + r * p->depth;
        int32_t max = -128;
        for (int32_t c = 0; c < p->depth; ++c) {
            max = x[c] > max ? x[c] : max;
        }
        /* Sum of exps with 12 integer bits. */
        int32_t sum = 0;
        for (int32_t c = 0; c < p->depth; ++c) {
            const int32_t diff = x[c] - max;
            if (diff >= p->diff_min) {
                const int32_t scaled = tg_requant(diff, p->input_mult, p->input_left_shift);
                sum = tg_add_wrap(sum, tg_rdbpot(tg_fp_exp_negative(scaled, 5), 12));
            }
        }
        const int32_t headroom = tg_clz32((uint32_t)sum);
        const int32_t bits_over_unit = 12 - headroom;
        const int32_t shifted_sum_minus_one =
            (int32_t)(((uint32_t)sum << headroom) - UINT32_C(0x80000000));
        const int32_t reciprocal = tg_fp_one_over_one_plus(shifted_sum_minus_one);
        const int32_t exponent = bits_over_unit + 31 - 8;
        for (int32_t c = 0; c < p->depth; ++c) {
            const int32_t diff = x[c] - max;
            if (diff >= p->diff_min) {
                const int32_t scaled = tg_requant(diff, p->input_mult, p->input_left_shift);
                const int32_t e = tg_fp_exp_negative(scaled, 5);
                const int32_t v = tg_rdbpot(tg_srdhm(reciprocal, e), exponent) - 128;
                y[c] = (int8_t)tg_clamp(v, -128, 127);
            } else {
                y[c] = -128;
            }
        }
    }
}

/* LOGISTIC and TANH: saturate outside the input range, else the fixed-point function of the
 * rescaled input, rounded down by ``shift`` bits and moved by ``offset`` (TFLM's int8 paths). */
static inline void tg_saturating_map(const tg_sigmoid_t *p, const int8_t *in, int8_t *out,
                                     int32_t (*fn)(int32_t), int32_t shift, int32_t offset)
{
    for (int32_t i = 0; i < p->size; ++i) {
        const int32_t x = in[i] - p->in_zp;
        if (x <= -p->range_radius) {
            out[i] = -128;
        } else if (x >= p->range_radius) {
            out[i] = 127;
        } else {
            const int32_t q4 = tg_requant(x, p->input_mult, p->input_left_shift);
            const int32_t v = tg_rdbpot(fn(q4), shift) + offset;
            out[i] = (int8_t)tg_clamp(v, -128, 127);
        }
    }
}

void tg_logistic_s8(const tg_sigmoid_t *p, const int8_t *in, int8_t *out)
{
    tg_saturating_map(p, in, out, tg_fp_logistic, 23, -128);
}

void tg_tanh_s8(const tg_sigmoid_t *p, const int8_t *in, int8_t *out)
{
    tg_saturating_map(p, in, out, tg_fp_tanh, 24, 0);
}
