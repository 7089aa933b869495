/* tinygen native runtime: int8 AVERAGE_POOL_2D and MAX_POOL_2D (TFLM reference arithmetic).
 * With the DSP extension four channels go together: SXTAB16 sums bytes 0/2 and 1/3 into
 * 16-bit lanes (exact for windows of up to 256 pixels: |sum| <= 32768 = 256 * 128, and -32768
 * is the only value of that size), SSUB8 + SEL keep the byte-wise maximum. */
#include <string.h>

#include "tg_arith.h"
#include "tg_kernels.h"

#if TG_DSP
static inline uint32_t tg_pool_load4(const int8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline uint32_t tg_sxtab16_ror8(uint32_t acc, uint32_t x)
{
    uint32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(acc), "r"(x));
    return r;
}
#endif

typedef struct {
    int32_t y0, y1, x0, x1;  /* the window's rows and columns inside the image */
} tg_window_t;

static tg_window_t tg_pool_window(const tg_pool_t *p, int32_t oy, int32_t ox)
{
    const int32_t iy = oy * p->stride_h - p->pad_h;
    const int32_t ix = ox * p->stride_w - p->pad_w;
    tg_window_t w;
    w.y0 = iy < 0 ? 0 : iy;
    w.y1 = iy + p->k_h < p->in_h ? iy + p->k_h : p->in_h;
    w.x0 = ix < 0 ? 0 : ix;
    w.x1 = ix + p->k_w < p->in_w ? ix + p->k_w : p->in_w;
    return w;
}

void tg_avg_pool_s8(const tg_pool_t *p, const int8_t *in, int8_t *out)
{
    const int32_t c = p->channels;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *image = in + b * p->in_h * p->in_w * c;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            for (int32_t ox = 0; ox < p->out_w; ++ox, out += c) {
                const tg_window_t w = tg_pool_window(p, oy, ox);
                const int32_t count = (w.y1 - w.y0) * (w.x1 - w.x0);
                int32_t ch = 0;
#if TG_DSP
                for (; count <= 256 && ch + 4 <= c; ch += 4) {
                    uint32_t even = 0, odd = 0;  /* channels 0, 2 and 1, 3 in 16-bit lanes */
                    for (int32_t y = w.y0; y < w.y1; ++y) {
                        const int8_t *row = image + (y * p->in_w) * c + ch;
                        for (int32_t x = w.x0; x < w.x1; ++x) {
                            const uint32_t v = tg_pool_load4(row + x * c);
                            even = __sxtab16(even, v);
                            odd = tg_sxtab16_ror8(odd, v);
                        }
                    }
                    const int32_t sums[4] = {(int16_t)even, (int16_t)odd,
                                             (int16_t)(even >> 16), (int16_t)(odd >> 16)};
                    for (int32_t k = 0; k < 4; ++k) {
                        int32_t acc = sums[k];
                        if (count > 0) {
                            acc = acc > 0 ? (acc + count / 2) / count
                                          : (acc - count / 2) / count;
                        }
                        out[ch + k] = (int8_t)tg_clamp(acc, p->act_min, p->act_max);
                    }
                }
#endif
                for (; ch < c; ++ch) {
                    int32_t acc = 0;
                    for (int32_t y = w.y0; y < w.y1; ++y) {
                        const int8_t *row = image + (y * p->in_w) * c + ch;
                        for (int32_t x = w.x0; x < w.x1; ++x) {
                            acc += row[x * c];
                        }
                    }
                    if (count > 0) {
                        /* Round half away from zero, as TFLM does. */
                        acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                    }
                    out[ch] = (int8_t)tg_clamp(acc, p->act_min, p->act_max);
                }
            }
        }
    }
}

void tg_max_pool_s8(const tg_pool_t *p, const int8_t *in, int8_t *out)
{
    const int32_t c = p->channels;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *image = in + b * p->in_h * p->in_w * c;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            for (int32_t ox = 0; ox < p->out_w; ++ox, out += c) {
                const tg_window_t w = tg_pool_window(p, oy, ox);
                int32_t ch = 0;
#if TG_DSP
                for (; ch + 4 <= c; ch += 4) {
                    uint32_t max = 0x80808080u;
                    for (int32_t y = w.y0; y < w.y1; ++y) {
                        const int8_t *row = image + (y * p->in_w) * c + ch;
                        for (int32_t x = w.x0; x < w.x1; ++x) {
                            const uint32_t v = tg_pool_load4(row + x * c);
                            (void)__ssub8(v, max);  /* GE bits: v >= max, byte by byte */
                            max = __sel(v, max);
                        }
                    }
                    for (int32_t k = 0; k < 4; ++k) {
                        out[ch + k] = (int8_t)tg_clamp((int8_t)(max >> (8 * k)), p->act_min,
                                                       p->act_max);
                    }
                }
#endif
                for (; ch < c; ++ch) {
                    int32_t max = -128;
                    for (int32_t y = w.y0; y < w.y1; ++y) {
                        const int8_t *row = image + (y * p->in_w) * c + ch;
                        for (int32_t x = w.x0; x < w.x1; ++x) {
                            max = row[x * c] > max ? row[x * c] : max;
                        }
                    }
                    out[ch] = (int8_t)tg_clamp(max, p->act_min, p->act_max);
                }
            }
        }
    }
}
