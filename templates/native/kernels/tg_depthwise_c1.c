/*
 * tinygen native runtime: int8 DEPTHWISE_CONV_2D of one channel into one (depth multiplier 1),
 * a plain 2-D correlation of a single-channel image.
 *
 * Windows inside the image read their taps at fixed offsets from the window's corner, with no
 * bounds checks and no pointer table; the padded border is computed tap by tap (taps outside
 * the image read the input zero point, which the folded bias cancels, as in tg_conv.c). 3x3
 * filters of stride and dilation 1 walk each output row with three input row pointers and the
 * weights in registers, two outputs at a time on DSP cores.
 *
 * A translation unit of its own: appended to tg_conv.c, it changed GCC's inlining there and
 * cost the multi-channel depthwise kernel up to 9% more instructions.
 */
#include "tg_arith.h"
#include "tg_dot.h"
#include "tg_kernels.h"

#if TG_DSP
/* One filter row of 3 taps for outputs x and x + 1, from the input bytes b0..b3 at x in v:
 * SMLAD adds b0 w0 + b2 w2 (a) and b1 w0 + b3 w2 (b) with the outer taps as a halfword pair
 * `outer`, SMLABB/SMLATB the middle tap `mid` times b1 (a) and b2 (b). */
static inline void tg_row3_pair(uint32_t v, int32_t outer, int32_t mid, int32_t *a, int32_t *b)
{
    const int32_t e = (int32_t)tg_even16(v), o = (int32_t)tg_odd16(v);
    *a = __smlabb(o, mid, __smlad(e, outer, *a));
    *b = __smlatb(e, mid, __smlad(o, outer, *b));
}
#endif

/* The accumulator of the window whose corner is (y0, x0), partly outside the image. */
static int32_t tg_dw1_edge(const tg_conv_t *p, const int8_t *image, int32_t y0, int32_t x0)
{
    int32_t acc = p->bias[0];
    const int8_t *w = p->weights;
    for (int32_t ky = 0; ky < p->k_h; ++ky) {
        const int32_t y = y0 + ky * p->dil_h;
        const int y_inside = y >= 0 && y < p->in_h;
        for (int32_t kx = 0; kx < p->k_w; ++kx, ++w) {
            const int32_t x = x0 + kx * p->dil_w;
            const int32_t v = y_inside && x >= 0 && x < p->in_w ? image[y * p->in_w + x]
                                                                : p->in_zp;
            acc += (int32_t)*w * v;
        }
    }
    return acc;
}

/* The accumulator of a window inside the image, any filter, stride and dilation. */
static inline int32_t tg_dw1_inside(const tg_conv_t *p, const int8_t *corner)
{
    int32_t acc = p->bias[0];
    const int8_t *w = p->weights;
    for (int32_t ky = 0; ky < p->k_h; ++ky, corner += p->dil_h * p->in_w) {
        for (int32_t kx = 0; kx < p->k_w; ++kx, ++w) {
            acc += (int32_t)*w * corner[kx * p->dil_w];
        }
    }
    return acc;
}

/* 3x3, stride 1, dilation 1: the n outputs of one row whose windows lie inside the image, the
 * first window's top-left tap at r0 (rows r0, r0 + in_w, r0 + 2 * in_w). The weights stay in
 * registers. */
__attribute__((always_inline))
static inline void tg_dw1_3x3_row(const tg_conv_t *p, const int8_t *r0, int8_t *dst,
                                  int32_t n, const int fast)
{
    const int8_t *const w = p->weights;
    const int32_t bias = p->bias[0], mult = p->mult[0], shift = p->shift[0];
    const int32_t out_zp = p->out_zp, act_min = p->act_min, act_max = p->act_max;
    const int8_t *r1 = r0 + p->in_w, *r2 = r1 + p->in_w;
    int32_t x = 0;
#if TG_DSP
    /* Each row's outer taps as a halfword pair (w[0] low, w[2] high), the middle one alone:
     * from the bytes b0..b3 at x, SXTB16 gives (b0, b2) and (b1, b3), so SMLAD adds
     * b0 w0 + b2 w2 for output x and b1 w0 + b3 w2 for output x + 1, and SMLABB/SMLATB the
     * middle taps b1 w1 and b2 w1. */
    const int32_t o0 = (int32_t)(((uint32_t)(uint16_t)w[0]) | ((uint32_t)w[2] << 16));
    const int32_t o1 = (int32_t)(((uint32_t)(uint16_t)w[3]) | ((uint32_t)w[5] << 16));
    const int32_t o2 = (int32_t)(((uint32_t)(uint16_t)w[6]) | ((uint32_t)w[8] << 16));
    const int32_t m0 = w[1], m1 = w[4], m2 = w[7];
    for (; x + 2 <= n; x += 2) {
        int32_t a = bias, b = bias;
        tg_row3_pair(tg_load4(r0 + x), o0, m0, &a, &b);
        tg_row3_pair(tg_load4(r1 + x), o1, m1, &a, &b);
        tg_row3_pair(tg_load4(r2 + x), o2, m2, &a, &b);
        dst[x] = tg_output(a, mult, shift, fast, out_zp, act_min, act_max);
        dst[x + 1] = tg_output(b, mult, shift, fast, out_zp, act_min, act_max);
    }
#endif
    const int32_t w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5];
    const int32_t w6 = w[6], w7 = w[7], w8 = w[8];
    for (; x < n; ++x) {
        const int32_t a = bias + w0 * r0[x] + w1 * r0[x + 1] + w2 * r0[x + 2]
                          + w3 * r1[x] + w4 * r1[x + 1] + w5 * r1[x + 2]
                          + w6 * r2[x] + w7 * r2[x + 1] + w8 * r2[x + 2];
        dst[x] = tg_output(a, mult, shift, fast, out_zp, act_min, act_max);
    }
}

/* Always inlined: each caller's constant `fast` then specialises the whole loop nest. */
__attribute__((always_inline))
static inline void tg_dw1(const tg_conv_t *p, const int8_t *in, int8_t *out, const int fast)
{
    const int32_t mult = p->mult[0], shift = p->shift[0];
    const int32_t span_h = (p->k_h - 1) * p->dil_h, span_w = (p->k_w - 1) * p->dil_w;
    const int three = p->k_h == 3 && p->k_w == 3 && p->stride_h == 1 && p->stride_w == 1
                      && p->dil_h == 1 && p->dil_w == 1;
    /* The output columns [x_lo, x_hi) whose windows lie inside the image horizontally. */
    const int32_t last = p->in_w - 1 - span_w + p->pad_w;
    int32_t x_lo = (p->pad_w + p->stride_w - 1) / p->stride_w;
    int32_t x_hi = last < 0 ? 0 : last / p->stride_w + 1;
    x_lo = x_lo < p->out_w ? x_lo : p->out_w;
    x_hi = x_hi < p->out_w ? x_hi : p->out_w;
    x_hi = x_hi > x_lo ? x_hi : x_lo;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *image = in + b * p->in_h * p->in_w;
        for (int32_t oy = 0; oy < p->out_h; ++oy, out += p->out_w) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            int32_t ox = 0;
            if (y0 >= 0 && y0 + span_h < p->in_h) {
                for (; ox < x_lo; ++ox) {
                    const int32_t acc = tg_dw1_edge(p, image, y0, ox * p->stride_w - p->pad_w);
                    out[ox] = tg_output(acc, mult, shift, fast, p->out_zp, p->act_min,
                                        p->act_max);
                }
                const int8_t *row = image + y0 * p->in_w - p->pad_w;
                if (three) {
                    tg_dw1_3x3_row(p, row + x_lo, out + x_lo, x_hi - x_lo, fast);
                } else {
                    for (; ox < x_hi; ++ox) {
                        const int32_t acc = tg_dw1_inside(p, row + ox * p->stride_w);
                        out[ox] = tg_output(acc, mult, shift, fast, p->out_zp, p->act_min,
                                            p->act_max);
                    }
                }
                ox = x_hi;
            }
            for (; ox < p->out_w; ++ox) {
                const int32_t acc = tg_dw1_edge(p, image, y0, ox * p->stride_w - p->pad_w);
                out[ox] = tg_output(acc, mult, shift, fast, p->out_zp, p->act_min, p->act_max);
            }
        }
    }
}

void tg_depthwise_c1_s8(const tg_conv_t *p, const int8_t *in, int8_t *out)
{
    if (p->fast_requant) {
        tg_dw1(p, in, out, 1);
    } else {
        tg_dw1(p, in, out, 0);
    }
}
