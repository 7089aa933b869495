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

/* ADD and SUB's fast forms, one function each (the unused ones are left out of the link),
 * chosen and checked on all 65,536 input pairs by tinygen/native/add_forms.py. The output
 * stage takes twice the sum (difference). */
/* How the direct form combines twice the linear input's term (lin) and twice the other's. */
#define TG_LIN_PLUS 0      /* ADD */
#define TG_LIN_MINUS 1     /* SUB, input 1 the linear one */
#define TG_MINUS_LIN 2     /* SUB, input 2 the linear one */

static inline int32_t tg_add_output(int32_t s2, int32_t mult, int32_t right, int32_t round,
                                    int32_t lo, int32_t hi, int full)
{
    const int32_t v = tg_requant_round2(s2, mult, right, round);
    return full ? tg_sat8(v) : tg_clamp(v, lo, hi);
}

/* Twice the sum of the direct form: lin_base + (l << 20) is twice (l + offset) * 2^19, the
 * linear input's term; base + (r << 21) is twice the other's shifted input, rescaled. */
static inline int32_t tg_add_direct(int32_t l, int32_t r, int32_t lin_base, int32_t base,
                                    int32_t mult, int32_t right, int32_t round, int mode)
{
    const int32_t lin = tg_add_wrap(lin_base, tg_shl(l, 20));
    const int32_t x2 = tg_add_wrap(base, tg_shl(r, 21));
    const int32_t t = tg_shl(tg_requant_round2(x2, mult, right, round), 1);
    return mode == TG_LIN_PLUS ? tg_add_wrap(lin, t)
         : mode == TG_LIN_MINUS ? tg_sub_wrap(lin, t) : tg_sub_wrap(t, lin);
}

/* Four elements per iteration, the loop compiled per activation range (full: SSAT). */
#define TG_ADD_FLAT(out, size, one)                                                          \
    do {                                                                                     \
        int8_t *const end = (out) + (size);                                                  \
        int8_t *const end4 = (out) + ((size) & ~3);                                          \
        while ((out) != end4) {                                                              \
            one;                                                                             \
            one;                                                                             \
            one;                                                                             \
            one;                                                                             \
        }                                                                                    \
        while ((out) != end) {                                                               \
            one;                                                                             \
        }                                                                                    \
    } while (0)

__attribute__((always_inline))
static inline void tg_add_tables_flat(const tg_binary_t *p, const uint8_t *a, const uint8_t *b,
                                      int8_t *out, int full)
{
    const int32_t *t1 = p->table1, *t2 = p->table2;
    const int32_t mult = p->mult, right = -p->shift, round = p->round;
    const int32_t lo = p->act_min, hi = p->act_max;
    TG_ADD_FLAT(out, p->size, *out++ = (int8_t)tg_add_output(t1[*a++] + t2[*b++], mult, right,
                                                             round, lo, hi, full));
}

static inline int8_t tg_add_tables_one(const tg_binary_t *p, int32_t a, int32_t b)
{
    return (int8_t)tg_add_output(p->table1[(uint8_t)a] + p->table2[(uint8_t)b], p->mult,
                                 -p->shift, p->round, p->act_min, p->act_max, 0);
}

/* Both inputs looked up (ADD and SUB: SUB's second table is negated). */
void tg_add_tables_s8(const tg_binary_t *p, const int8_t *in1, const int8_t *in2, int8_t *out)
{
    if (p->broadcast) {
        TG_BROADCAST_LOOP(p, in1, in2, out, tg_add_tables_one);
    } else if (p->act_min == -128 && p->act_max == 127) {
        tg_add_tables_flat(p, (const uint8_t *)in1, (const uint8_t *)in2, out, 1);
    } else {
        tg_add_tables_flat(p, (const uint8_t *)in1, (const uint8_t *)in2, out, 0);
    }
}

/* The direct form on flat inputs: the linear input read from `lin_in`, the other from `in`. */
__attribute__((always_inline))
static inline void tg_add_direct_flat(const tg_binary_t *p, const int8_t *lin_in,
                                      const int8_t *in, int8_t *out, int mode, int full)
{
    const int lin1 = p->linear == 1;
    const int32_t lin_base = tg_shl(lin1 ? p->in1_offset : p->in2_offset, 20);
    const int32_t base = tg_shl(lin1 ? p->in2_offset : p->in1_offset, 21);
    const int32_t m = lin1 ? p->mult2 : p->mult1;
    const int32_t r = -(lin1 ? p->shift2 : p->shift1);
    const int32_t round_in = p->round_in;
    const int32_t mult = p->mult, right = -p->shift, round = p->round;
    const int32_t lo = p->act_min, hi = p->act_max;
    TG_ADD_FLAT(out, p->size,
                *out++ = (int8_t)tg_add_output(tg_add_direct(*lin_in++, *in++, lin_base, base, m,
                                                             r, round_in, mode),
                                               mult, right, round, lo, hi, full));
}

/* One element of the direct form with broadcasting. */
__attribute__((always_inline))
static inline int8_t tg_add_direct_one(const tg_binary_t *p, int32_t a, int32_t b, int subtract)
{
    int32_t s2;
    if (p->linear == 1) {
        s2 = tg_add_direct(a, b, tg_shl(p->in1_offset, 20), tg_shl(p->in2_offset, 21),
                           p->mult2, -p->shift2, p->round_in,
                           subtract ? TG_LIN_MINUS : TG_LIN_PLUS);
    } else {
        s2 = tg_add_direct(b, a, tg_shl(p->in2_offset, 20), tg_shl(p->in1_offset, 21),
                           p->mult1, -p->shift1, p->round_in,
                           subtract ? TG_MINUS_LIN : TG_LIN_PLUS);
    }
    return (int8_t)tg_add_output(s2, p->mult, -p->shift, p->round, p->act_min, p->act_max, 0);
}

static inline int8_t tg_add_direct_one_add(const tg_binary_t *p, int32_t a, int32_t b)
{
    return tg_add_direct_one(p, a, b, 0);
}

static inline int8_t tg_add_direct_one_sub(const tg_binary_t *p, int32_t a, int32_t b)
{
    return tg_add_direct_one(p, a, b, 1);
}

void tg_add_direct_s8(const tg_binary_t *p, const int8_t *in1, const int8_t *in2, int8_t *out)
{
    const int lin1 = p->linear == 1;
    const int8_t *lin_in = lin1 ? in1 : in2, *other = lin1 ? in2 : in1;
    if (p->broadcast) {
        TG_BROADCAST_LOOP(p, in1, in2, out, tg_add_direct_one_add);
    } else if (p->act_min == -128 && p->act_max == 127) {
        tg_add_direct_flat(p, lin_in, other, out, TG_LIN_PLUS, 1);
    } else {
        tg_add_direct_flat(p, lin_in, other, out, TG_LIN_PLUS, 0);
    }
}

void tg_sub_direct_s8(const tg_binary_t *p, const int8_t *in1, const int8_t *in2, int8_t *out)
{
    const int full = p->act_min == -128 && p->act_max == 127;
    if (p->broadcast) {
        TG_BROADCAST_LOOP(p, in1, in2, out, tg_add_direct_one_sub);
    } else if (p->linear == 1) {
        if (full) {
            tg_add_direct_flat(p, in1, in2, out, TG_LIN_MINUS, 1);
        } else {
            tg_add_direct_flat(p, in1, in2, out, TG_LIN_MINUS, 0);
        }
    } else if (full) {
        tg_add_direct_flat(p, in2, in1, out, TG_MINUS_LIN, 1);
    } else {
        tg_add_direct_flat(p, in2, in1, out, TG_MINUS_LIN, 0);
    }
}

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
