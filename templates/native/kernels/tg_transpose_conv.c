/* tinygen native runtime: int8 TRANSPOSE_CONV, TFLM's reference scatter: every input pixel adds
 * (input - zero point) * filter into the int32 accumulators of the output pixels it reaches
 * (the scratch buffer, one per output element), then bias, per-channel requantization and the
 * activation range. Integer sums, so the order of the additions does not matter. */
#include <string.h>

#include "tg_arith.h"
#include "tg_kernels.h"

void tg_transpose_conv_s8(const tg_conv_t *p, const int8_t *in, int8_t *out, int32_t *acc)
{
    const int32_t ic = p->in_c, oc = p->out_c;
    const int32_t total = p->batches * p->out_h * p->out_w * oc;
    memset(acc, 0, (size_t)total * sizeof(int32_t));
    for (int32_t b = 0; b < p->batches; ++b) {
        for (int32_t iy = 0; iy < p->in_h; ++iy) {
            for (int32_t ix = 0; ix < p->in_w; ++ix) {
                const int8_t *x = in + (((size_t)b * p->in_h + iy) * p->in_w + ix) * ic;
                for (int32_t ky = 0; ky < p->k_h; ++ky) {
                    const int32_t oy = iy * p->stride_h - p->pad_h + ky;
                    if (oy < 0 || oy >= p->out_h) {
                        continue;
                    }
                    for (int32_t kx = 0; kx < p->k_w; ++kx) {
                        const int32_t ox = ix * p->stride_w - p->pad_w + kx;
                        if (ox < 0 || ox >= p->out_w) {
                            continue;
                        }
                        int32_t *a = acc + (((size_t)b * p->out_h + oy) * p->out_w + ox) * oc;
                        for (int32_t o = 0; o < oc; ++o) {
                            const int8_t *w = p->weights + (((size_t)o * p->k_h + ky) * p->k_w
                                                            + kx) * ic;
                            int32_t sum = 0;
                            for (int32_t c = 0; c < ic; ++c) {
                                sum += (x[c] - p->in_zp) * w[c];
                            }
                            a[o] += sum;
                        }
                    }
                }
            }
        }
    }
    for (int32_t i = 0; i < total; ++i) {
        const int32_t o = i % oc;
        const int32_t v = tg_requant(acc[i] + p->bias[o], p->mult[o], p->shift[o]) + p->out_zp;
        out[i] = (int8_t)tg_clamp(v, p->act_min, p->act_max);
    }
}
