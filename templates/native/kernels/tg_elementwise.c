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

/* ADD and SUB's fast forms (p->form, chosen and checked on all 65,536 input pairs by
 * tinygen/native/add_forms.py). The output stage takes twice the sum (difference). */
#define TG_FORM_DIRECT 1
#define TG_FORM_TABLES 2
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

/* Flat inputs, four elements per iteration: the whole loop compiled per (form, mode, full
 * range) so that nothing is decided per element. The direct form reads the linear input
 * from `lin_in`, the other from `in`. */
__attribute__((always_inline))
static inline void tg_add_fast_flat(const tg_binary_t *p, const int8_t *lin_in,
                                    const int8_t *in, int8_t *out, int form, int mode,
                                    int full)
{
    const int32_t mult = p->mult, right = -p->shift, round = p->round;
    const int32_t lo = p->act_min, hi = p->act_max;
    const int8_t *const end = out + p->size;
    const int8_t *const end4 = out + (p->size & ~3);
    if (form == TG_FORM_TABLES) {
        const int32_t *t1 = p->table1, *t2 = p->table2;
        const uint8_t *a = (const uint8_t *)lin_in, *b = (const uint8_t *)in;
#define TG_TABLE_ONE() \
    *out++ = (int8_t)tg_add_output(t1[*a++] + t2[*b++], mult, right, round, lo, hi, full)
        while (out != end4) {
            TG_TABLE_ONE();
            TG_TABLE_ONE();
            TG_TABLE_ONE();
            TG_TABLE_ONE();
        }
        while (out != end) {
            TG_TABLE_ONE();
        }
#undef TG_TABLE_ONE
        return;
    }
    const int lin1 = p->linear == 1;
    const int32_t lin_base = tg_shl(lin1 ? p->in1_offset : p->in2_offset, 20);
    const int32_t base = tg_shl(lin1 ? p->in2_offset : p->in1_offset, 21);
    const int32_t m = lin1 ? p->mult2 : p->mult1;
    const int32_t r = -(lin1 ? p->shift2 : p->shift1);
    const int32_t round_in = p->round_in;
#define TG_DIRECT_ONE()                                                                      \
    *out++ = (int8_t)tg_add_output(tg_add_direct(*lin_in++, *in++, lin_base, base, m, r,      \
                                                 round_in, mode),                             \
                                   mult, right, round, lo, hi, full)
    while (out != end4) {
        TG_DIRECT_ONE();
        TG_DIRECT_ONE();
        TG_DIRECT_ONE();
        TG_DIRECT_ONE();
    }
    while (out != end) {
        TG_DIRECT_ONE();
    }
#undef TG_DIRECT_ONE
}

/* One element of a fast form with broadcasting (the form read per element). */
static inline int8_t tg_add_fast_one(const tg_binary_t *p, int32_t a, int32_t b, int subtract)
{
    int32_t s2;
    if (p->form == TG_FORM_TABLES) {
        s2 = p->table1[(uint8_t)a] + p->table2[(uint8_t)b];
    } else if (p->linear == 1) {
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

static inline int8_t tg_add_fast_one_add(const tg_binary_t *p, int32_t a, int32_t b)
{
    return tg_add_fast_one(p, a, b, 0);
}

static inline int8_t tg_add_fast_one_sub(const tg_binary_t *p, int32_t a, int32_t b)
{
    return tg_add_fast_one(p, a, b, 1);
}

/* Dispatches a fast form; returns 0 for form 0 (TFLM's arithmetic as written). */
static int tg_add_fast(const tg_binary_t *p, const int8_t *in1, const int8_t *in2, int8_t *out,
                       int subtract);

void tg_add_s8(const tg_binary_t *p, const int8_t *in1, const int8_t *in2, int8_t *out)
{
    if (tg_add_fast(p, in1, in2, out, 0)) {
        return;
    }
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

void tg_sub_s8(const tg_binary_t *p, const int8_t *in1, const int8_t *in2, int8_t *out)
{
    if (tg_add_fast(p, in1, in2, out, 1)) {
        return;
    }
    if (p->broadcast) {
        TG_BROADCAST_LOOP(p, in1, in2, out, tg_sub_one);
        return;
    }
    for (int32_t i = 0; i < p->size; ++i) {
        out[i] = tg_sub_one(p, in1[i], in2[i]);
    }
}

static int tg_add_fast(const tg_binary_t *p, const int8_t *in1, const int8_t *in2, int8_t *out,
                       int subtract)
{
    if (p->form != TG_FORM_DIRECT && p->form != TG_FORM_TABLES) {
        return 0;
    }
    if (p->broadcast) {
        if (subtract) {
            TG_BROADCAST_LOOP(p, in1, in2, out, tg_add_fast_one_sub);
        } else {
            TG_BROADCAST_LOOP(p, in1, in2, out, tg_add_fast_one_add);
        }
        return 1;
    }
    const int full = p->act_min == -128 && p->act_max == 127;
    if (p->form == TG_FORM_TABLES) {  /* SUB's second table is negated: one loop for both */
        if (full) {
            tg_add_fast_flat(p, in1, in2, out, TG_FORM_TABLES, TG_LIN_PLUS, 1);
        } else {
            tg_add_fast_flat(p, in1, in2, out, TG_FORM_TABLES, TG_LIN_PLUS, 0);
        }
        return 1;
    }
    const int lin1 = p->linear == 1;
    const int8_t *lin_in = lin1 ? in1 : in2, *other = lin1 ? in2 : in1;
    const int mode = !subtract ? TG_LIN_PLUS : lin1 ? TG_LIN_MINUS : TG_MINUS_LIN;
#define TG_DIRECT_CASE(m)                                                                    \
    case m:                                                                                  \
        if (full) {                                                                          \
            tg_add_fast_flat(p, lin_in, other, out, TG_FORM_DIRECT, m, 1);                   \
        } else {                                                                             \
            tg_add_fast_flat(p, lin_in, other, out, TG_FORM_DIRECT, m, 0);                   \
        }                                                                                    \
        break
    switch (mode) {
        TG_DIRECT_CASE(TG_LIN_PLUS);
        TG_DIRECT_CASE(TG_LIN_MINUS);
        TG_DIRECT_CASE(TG_MINUS_LIN);
    }
#undef TG_DIRECT_CASE
    return 1;
}
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
