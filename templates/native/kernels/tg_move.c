/* tinygen native runtime: operators that only move elements. STRIDED_SLICE, SLICE and TRANSPOSE
 * as one strided gather (the per-axis start, step and count computed at generation time as
 * TFLM computes them), SPLIT, SPLIT_V and UNPACK as the inverse of CONCATENATION, and
 * RESIZE_NEAREST_NEIGHBOR through index tables. Any element size: int8 values are copied as
 * TFLM copies them, without requantization. */
#include <string.h>

#include "tg_kernels.h"

void tg_strided_copy(const tg_strided_t *p, const void *in, void *out)
{
    const size_t n = (size_t)p->itemsize;
    const uint8_t *src = (const uint8_t *)in;
    uint8_t *dst = (uint8_t *)out;
    const int32_t *c = p->count;
    const int32_t *s = p->step;
    const size_t row = (size_t)c[5] * n;
    for (int32_t a = 0; a < c[0]; ++a) {
        for (int32_t b = 0; b < c[1]; ++b) {
            for (int32_t d = 0; d < c[2]; ++d) {
                for (int32_t e = 0; e < c[3]; ++e) {
                    for (int32_t f = 0; f < c[4]; ++f) {
                        const int32_t at = p->base + a * s[0] + b * s[1] + d * s[2] + e * s[3]
                                           + f * s[4];
                        if (s[5] == 1) {
                            memcpy(dst, src + (size_t)at * n, row);
                            dst += row;
                        } else {
                            for (int32_t g = 0; g < c[5]; ++g, dst += n) {
                                memcpy(dst, src + (size_t)(at + g * s[5]) * n, n);
                            }
                        }
                    }
                }
            }
        }
    }
}

void tg_split(const tg_split_t *p, const void *in, void *const *out)
{
    const uint8_t *src = (const uint8_t *)in;
    for (int32_t o = 0; o < p->outer; ++o) {
        for (int32_t i = 0; i < p->outputs; ++i) {
            const size_t row = (size_t)p->out_row[i];
            memcpy((uint8_t *)out[i] + (size_t)o * row, src, row);
            src += row;
        }
    }
}

void tg_resize_nearest(const tg_resize_t *p, const void *in, void *out)
{
    const size_t pixel = (size_t)p->depth * (size_t)p->itemsize;
    const uint8_t *src = (const uint8_t *)in;
    uint8_t *dst = (uint8_t *)out;
    for (int32_t b = 0; b < p->batches; ++b) {
        for (int32_t y = 0; y < p->out_h; ++y) {
            const uint8_t *line = src + (size_t)p->ys[y] * (size_t)p->in_w * pixel;
            for (int32_t x = 0; x < p->out_w; ++x, dst += pixel) {
                memcpy(dst, line + (size_t)p->xs[x] * pixel, pixel);
            }
        }
        src += (size_t)p->in_h * (size_t)p->in_w * pixel;
    }
}

/* RESIZE_BILINEAR, int8: TFLM's ResizeBilinearInteger. Each output row and column has its two
 * source indices and the 10-bit fraction of the second (may be negative with half-pixel
 * centres), computed at generation time; the sum stays below 2^30 in magnitude. */
void tg_resize_bilinear_s8(const tg_resize_t *p, const int8_t *in, int8_t *out)
{
    const int32_t depth = p->depth;
    const int32_t row = p->in_w * depth;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *image = in + (size_t)b * (size_t)p->in_h * (size_t)row;
        for (int32_t y = 0; y < p->out_h; ++y) {
            const int8_t *r0 = image + p->ys[3 * y] * row;
            const int8_t *r1 = image + p->ys[3 * y + 1] * row;
            const int32_t wy = p->ys[3 * y + 2];
            for (int32_t x = 0; x < p->out_w; ++x) {
                const int32_t c0 = p->xs[3 * x] * depth;
                const int32_t c1 = p->xs[3 * x + 1] * depth;
                const int32_t wx = p->xs[3 * x + 2];
                const int32_t w00 = (1024 - wy) * (1024 - wx), w10 = wy * (1024 - wx);
                const int32_t w01 = (1024 - wy) * wx, w11 = wy * wx;
                for (int32_t c = 0; c < depth; ++c) {
                    const int32_t sum = r0[c0 + c] * w00 + r1[c0 + c] * w10
                                        + r0[c1 + c] * w01 + r1[c1 + c] * w11;
                    const int32_t round = sum > 0 ? (1 << 19) : -(1 << 19);
                    *out++ = (int8_t)((sum + round) / (1 << 20));
                }
            }
        }
    }
}
