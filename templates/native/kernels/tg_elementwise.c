/* tinygen native runtime: int8 ADD and MUL with broadcasting (TFLM reference arithmetic). */
#include "tg_arith.h"
#include "tg_kernels.h"

static inline int8_t tg_add_one(const tg_binary_t *p, int32_t a, int32_t b)
{
    const int32_t x = tg_shl(a + p->in1_offset, p->left_shift);
    const int32_t y = tg_shl(b + p->in2_offset, p->left_shift);
    const int32_t sum = tg_add_wrap(tg_requant(x, p->mult1, p->shift1),
                                    tg_requant(y, p->mult2, p->shift2));
    const int32_t v = tg_requant(sum, p->mult, p->shift) + p->out_zp;
    return (int8_t)tg_clamp(v, p->act_min, p->act_max);
}

static inline int8_t tg_mul_one(const tg_binary_t *p, int32_t a, int32_t b)
{
    const int32_t v = tg_requant((a + p->in1_offset) * (b + p->in2_offset), p->mult, p->shift)
        + p->out_zp;
    return (int8_t)tg_clamp(v, p->act_min, p->act_max);
}

/* Walks the output in order and both inputs by their (possibly zero) strides. */
#define TG_BROADCAST_LOOP(p, in1, in2, out, one)                                         \
    do {                                                                                 \
        int32_t idx[TG_MAX_DIMS] = {0};                                                  \
        int32_t o1 = 0, o2 = 0;                                                          \
        for (int32_t i = 0; i < (p)->size; ++i) {                                        \
            (out)[i] = one((p), (in1)[o1], (in2)[o2]);                                   \
            for (int32_t d = TG_MAX_DIMS - 1; d >= 0; --d) {                             \
                o1 += (p)->strides1[d];                                                  \
                o2 += (p)->strides2[d];                                                  \
                if (++idx[d] < (p)->out_shape[d]) {                                      \
                    break;                                                               \
                }                                                                        \
                o1 -= (p)->strides1[d] * (p)->out_shape[d];                              \
                o2 -= (p)->strides2[d] * (p)->out_shape[d];                              \
                idx[d] = 0;                                                              \
            }                                                                            \
        }                                                                                \
    } while (0)

void tg_add_s8(const tg_binary_t *p, const int8_t *in1, const int8_t *in2, int8_t *out)
{
    if (p->broadcast) {
        TG_BROADCAST_LOOP(p, in1, in2, out, tg_add_one);
        return;
    }
    for (int32_t i = 0; i < p->size; ++i) {
        out[i] = tg_add_one(p, in1[i], in2[i]);
    }
}

void tg_mul_s8(const tg_binary_t *p, const int8_t *in1, const int8_t *in2, int8_t *out)
{
    if (p->broadcast) {
        TG_BROADCAST_LOOP(p, in1, in2, out, tg_mul_one);
        return;
    }
    for (int32_t i = 0; i < p->size; ++i) {
        out[i] = tg_mul_one(p, in1[i], in2[i]);
    }
}

/* SUB: ADD's arithmetic with the difference of the rescaled inputs (sub.h). */
static inline int8_t tg_sub_one(const tg_binary_t *p, int32_t a, int32_t b)
{
    const int32_t x = tg_shl(a + p->in1_offset, p->left_shift);
    const int32_t y = tg_shl(b + p->in2_offset, p->left_shift);
    const int32_t diff = tg_sub_wrap(tg_requant(x, p->mult1, p->shift1),
                                     tg_requant(y, p->mult2, p->shift2));
    const int32_t v = tg_requant(diff, p->mult, p->shift) + p->out_zp;
    return (int8_t)tg_clamp(v, p->act_min, p->act_max);
}

/* SQUARED_DIFFERENCE: the rescaled difference squared, then a general rescaling. */
static inline int8_t tg_squared_difference_one(const tg_binary_t *p, int32_t a, int32_t b)
{
    const int32_t x = tg_shl(a + p->in1_offset, p->left_shift);
    const int32_t y = tg_shl(b + p->in2_offset, p->left_shift);
    const int32_t diff = tg_requant(x, p->mult1, p->shift1) - tg_requant(y, p->mult2, p->shift2);
    const int32_t v = tg_requant(diff * diff, p->mult, p->shift) + p->out_zp;
    return (int8_t)tg_clamp(v, p->act_min, p->act_max);
}

/* MAXIMUM, MINIMUM: the stored values compared, as TFLM does (no requantization). */
static inline int8_t tg_max_one(const tg_binary_t *p, int32_t a, int32_t b)
{
    (void)p;
    return (int8_t)(a > b ? a : b);
}

static inline int8_t tg_min_one(const tg_binary_t *p, int32_t a, int32_t b)
{
    (void)p;
    return (int8_t)(a < b ? a : b);
}

#define TG_BINARY_KERNEL(name, one)                                                      \
    void name(const tg_binary_t *p, const int8_t *in1, const int8_t *in2, int8_t *out)   \
    {                                                                                    \
        if (p->broadcast) {                                                              \
            TG_BROADCAST_LOOP(p, in1, in2, out, one);                                    \
            return;                                                                      \
        }                                                                                \
        for (int32_t i = 0; i < p->size; ++i) {                                          \
            out[i] = one(p, in1[i], in2[i]);                                             \
        }                                                                                \
    }

TG_BINARY_KERNEL(tg_sub_s8, tg_sub_one)
TG_BINARY_KERNEL(tg_squared_difference_s8, tg_squared_difference_one)
TG_BINARY_KERNEL(tg_maximum_s8, tg_max_one)
TG_BINARY_KERNEL(tg_minimum_s8, tg_min_one)

void tg_leaky_relu_s8(const tg_leaky_relu_t *p, const int8_t *in, int8_t *out)
{
    const int32_t alpha_mult = p->alpha_mult < 0 ? -p->alpha_mult : p->alpha_mult;
    for (int32_t i = 0; i < p->size; ++i) {
        const int32_t x = in[i] - p->in_zp;
        int32_t v = p->out_zp;
        if (x >= 0) {
            v += tg_requant(x, p->identity_mult, p->identity_shift);
        } else {
            const int32_t scaled = tg_requant(x, alpha_mult, p->alpha_shift);
            v += p->alpha_mult < 0 ? -scaled : scaled;
        }
        out[i] = (int8_t)tg_clamp(v, -128, 127);
    }
}

/* int8 -> int8 operators of one value (HARD_SWISH, RSQRT): TFLM's arithmetic replayed at
 * generation time for all 256 inputs (tinygen/native/lut.py), looked up here. */
void tg_lut_s8(const tg_lut_t *p, const int8_t *in, int8_t *out)
{
    for (int32_t i = 0; i < p->size; ++i) {
        out[i] = p->table[(uint8_t)in[i]];
    }
}

/* PRELU: the input rescaled where it is >= 0, else times the (broadcast) alpha (prelu.h). */
static inline int8_t tg_prelu_one(const tg_binary_t *p, int32_t a, int32_t alpha)
{
    const int32_t x = a + p->in1_offset;
    const int32_t v = x >= 0 ? tg_requant(x, p->mult1, p->shift1)
                             : tg_requant(x * (alpha + p->in2_offset), p->mult2, p->shift2);
    return (int8_t)tg_clamp(v + p->out_zp, -128, 127);
}

TG_BINARY_KERNEL(tg_prelu_s8, tg_prelu_one)
