/*
 * tinygen native runtime: int8 DEPTHWISE_CONV_2D, the generic kernel: any depth multiplier,
 * any channel count, one output channel at a time.
 *
 * Each tap of an output pixel points at its input pixel (at fixed offsets from the window's
 * corner inside the image), or at a pixel of zero points for a tap outside the image (which
 * the folded bias cancels exactly, as for the convolution). Depth multiplier 1 on four or more
 * channels has its own kernel (tg_depthwise_m1.c, four channels at a time); a depthwise
 * convolution of one input channel into four or more output channels is lowered to CONV_2D
 * (tg_conv.c), and one of one input channel into one output channel to tg_depthwise_c1_s8
 * (tg_depthwise_c1.c, a 2-D correlation).
 */
#include "tg_arith.h"
#include "tg_kernels.h"
#include "tg_window.h"

static inline void tg_fill(int8_t *dst, int32_t value, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        dst[i] = (int8_t)value;
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
                    tg_tap_pointers(p, image, y0, x0, padding, rows);
                }
                tg_depthwise_any(p, rows, dst, fast);
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
