/*
 * tinygen native runtime: int8 DEPTHWISE_CONV_2D.
 *
 * Each tap of an output pixel points at its input pixel (at fixed offsets from the window's
 * corner inside the image), or at a pixel of zero points for a tap outside the image (which
 * the folded bias cancels exactly, as for the convolution), then four channels are
 * accumulated at a time (SMLABB/SMLATT on the halves of SXTB16 with the DSP extension). A
 * depthwise convolution of one input channel into four or more output channels is lowered to
 * CONV_2D instead (tg_conv.c), and one of one input channel into one output channel to
 * tg_depthwise_c1_s8 (tg_depthwise_c1.c, a 2-D correlation).
 */
#include "tg_arith.h"
#include "tg_dot.h"
#include "tg_kernels.h"

static inline void tg_fill(int8_t *dst, int32_t value, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        dst[i] = (int8_t)value;
    }
}

/* Points rows[t] at the input pixel tap t reads, or at `padding` (in_c zero-point bytes) for
 * a tap outside the image. */
static void tg_depthwise_rows(const tg_conv_t *p, const int8_t *image, int32_t y0, int32_t x0,
                              const int8_t *padding, const int8_t **rows)
{
    for (int32_t ky = 0; ky < p->k_h; ++ky) {
        const int32_t y = y0 + ky * p->dil_h;
        const int y_inside = y >= 0 && y < p->in_h;
        for (int32_t kx = 0; kx < p->k_w; ++kx) {
            const int32_t x = x0 + kx * p->dil_w;
            *rows++ = y_inside && x >= 0 && x < p->in_w
                ? image + (y * p->in_w + x) * p->in_c : padding;
        }
    }
}

/* a0..a3 += the products of four consecutive channels of one tap (x: input, w: filter). A
 * macro, so that the accumulators stay scalars (in registers). */
#if TG_DSP
#define TG_MAC_CHANNELS4(x, w, a0, a1, a2, a3)                                              \
    do {                                                                                    \
        /* Channels 0 and 2 in the halves of the even words, 1 and 3 in the odd ones. */    \
        const uint32_t xv_ = tg_load4(x), wv_ = tg_load4(w);                                \
        const int32_t xe_ = (int32_t)tg_even16(xv_), we_ = (int32_t)tg_even16(wv_);         \
        const int32_t xo_ = (int32_t)tg_odd16(xv_), wo_ = (int32_t)tg_odd16(wv_);           \
        a0 = __smlabb(xe_, we_, a0);                                                        \
        a2 = __smlatt(xe_, we_, a2);                                                        \
        a1 = __smlabb(xo_, wo_, a1);                                                        \
        a3 = __smlatt(xo_, wo_, a3);                                                        \
    } while (0)
#else
#define TG_MAC_CHANNELS4(x, w, a0, a1, a2, a3)                                              \
    do {                                                                                    \
        const int8_t *const x_ = (x), *const w_ = (w);                                      \
        a0 += (int32_t)w_[0] * x_[0];                                                       \
        a1 += (int32_t)w_[1] * x_[1];                                                       \
        a2 += (int32_t)w_[2] * x_[2];                                                       \
        a3 += (int32_t)w_[3] * x_[3];                                                       \
    } while (0)
#endif

/* Depthwise with multiplier 1 at one output pixel: four channels at a time, tap by tap (the
 * last group overlaps the one before when three channels are left: those are computed twice,
 * to the same bytes), one channel at a time for one or two left. The parameters are read into
 * locals once: the int8 stores could otherwise alias them. */
static inline void tg_depthwise_m1(const tg_conv_t *p, const int8_t *const *rows,
                                   const int32_t taps, int8_t *restrict dst, const int fast)
{
    const int32_t c = p->in_c;
    const int8_t *const weights = p->weights;
    const int32_t *const bias = p->bias;
    const int32_t *const mult = p->mult;
    const int32_t *const shift = p->shift;
    const int32_t out_zp = p->out_zp, act_min = p->act_min, act_max = p->act_max;
    const int32_t groups_end = c >= 4 && c % 4 == 3 ? c + 1 : c;
    int32_t ch = 0;
    for (; ch + 4 <= groups_end; ch += 4) {
        const int32_t g = ch + 4 <= c ? ch : c - 4;
        int32_t a0 = bias[g], a1 = bias[g + 1], a2 = bias[g + 2], a3 = bias[g + 3];
        const int8_t *w = weights + g;
        for (int32_t t = 0; t < taps; ++t, w += c) {
            TG_MAC_CHANNELS4(rows[t] + g, w, a0, a1, a2, a3);
        }
        dst[g] = tg_output(a0, mult[g], shift[g], fast, out_zp, act_min, act_max);
        dst[g + 1] = tg_output(a1, mult[g + 1], shift[g + 1], fast, out_zp, act_min, act_max);
        dst[g + 2] = tg_output(a2, mult[g + 2], shift[g + 2], fast, out_zp, act_min, act_max);
        dst[g + 3] = tg_output(a3, mult[g + 3], shift[g + 3], fast, out_zp, act_min, act_max);
    }
    for (; ch < c; ++ch) {
        int32_t a = bias[ch];
        const int8_t *w = weights + ch;
        for (int32_t t = 0; t < taps; ++t, w += c) {
            a += (int32_t)*w * rows[t][ch];
        }
        dst[ch] = tg_output(a, mult[ch], shift[ch], fast, out_zp, act_min, act_max);
    }
}

/* Any depth multiplier: output channel ic * mult + m reads input channel ic. */
static inline void tg_depthwise_any(const tg_conv_t *p, const int8_t *const *rows,
                                    int8_t *restrict dst, const int fast)
{
    const int32_t mult = p->out_c / p->in_c;
    const int32_t taps = p->k_h * p->k_w;
    for (int32_t ic = 0; ic < p->in_c; ++ic) {
        for (int32_t m = 0; m < mult; ++m) {
            const int32_t ch = ic * mult + m;
            const int8_t *w = p->weights + ch;
            int32_t acc = p->bias[ch];
            for (int32_t t = 0; t < taps; ++t, w += p->out_c) {
                acc += (int32_t)*w * rows[t][ic];
            }
            dst[ch] = tg_output(acc, p->mult[ch], p->shift[ch], fast, p->out_zp, p->act_min,
                                p->act_max);
        }
    }
}

/* One output pixel; 3x3 filters with a constant tap count, so that the tap loop unrolls. */
static inline void tg_depthwise_pixel(const tg_conv_t *p, const int8_t *const *rows,
                                      int8_t *dst, const int fast)
{
    const int32_t taps = p->k_h * p->k_w;
    if (p->out_c != p->in_c) {
        tg_depthwise_any(p, rows, dst, fast);
    } else if (taps == 9) {
        tg_depthwise_m1(p, rows, 9, dst, fast);
    } else {
        tg_depthwise_m1(p, rows, taps, dst, fast);
    }
}

/* Always inlined: each caller's constant `fast` then specialises the whole loop nest. */
__attribute__((always_inline))
static inline void tg_depthwise(const tg_conv_t *p, const int8_t *in, int8_t *out,
                                const int8_t *padding, const int8_t **rows,
                                int32_t *offsets, const int fast)
{
    const int32_t taps = p->k_h * p->k_w;
    const int32_t span_h = (p->k_h - 1) * p->dil_h, span_w = (p->k_w - 1) * p->dil_w;
    for (int32_t ky = 0, t = 0; ky < p->k_h; ++ky) {
        for (int32_t kx = 0; kx < p->k_w; ++kx, ++t) {
            offsets[t] = (ky * p->dil_h * p->in_w + kx * p->dil_w) * p->in_c;
        }
    }
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *image = in + b * p->in_h * p->in_w * p->in_c;
        int8_t *dst = out + b * p->out_h * p->out_w * p->out_c;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            const int y_inside = y0 >= 0 && y0 + span_h < p->in_h;
            for (int32_t ox = 0; ox < p->out_w; ++ox, dst += p->out_c) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                if (y_inside && x0 >= 0 && x0 + span_w < p->in_w) {
                    /* Inside the image: every tap at its fixed offset from the corner. */
                    const int8_t *corner = image + (y0 * p->in_w + x0) * p->in_c;
                    for (int32_t t = 0; t < taps; ++t) {
                        rows[t] = corner + offsets[t];
                    }
                } else {
                    tg_depthwise_rows(p, image, y0, x0, padding, rows);
                }
                tg_depthwise_pixel(p, rows, dst, fast);
            }
        }
    }
}

void tg_depthwise_s8(const tg_conv_t *p, const int8_t *in, int8_t *out, int8_t *scratch)
{
    /* scratch: one pixel of in_c zero-point bytes that the taps outside the image read, then
     * (8-byte aligned, whatever the pointer size) a table of k_h * k_w row pointers and one of
     * k_h * k_w int32 tap offsets (see _conv in tinygen/native/lowering.py). */
    int8_t *padding = scratch;
    const int8_t **rows = (const int8_t **)(void *)(
        ((uintptr_t)(scratch + p->in_c) + 7u) & ~(uintptr_t)7u);
    int32_t *offsets = (int32_t *)(void *)(rows + p->k_h * p->k_w);
    tg_fill(padding, p->in_zp, p->in_c);
    if (p->fast_requant) {
        tg_depthwise(p, in, out, padding, rows, offsets, 1);
    } else {
        tg_depthwise(p, in, out, padding, rows, offsets, 0);
    }
}
