/* tinygen native runtime: int8 AVERAGE_POOL_2D and MAX_POOL_2D (TFLM reference arithmetic). */
#include "tg_arith.h"
#include "tg_kernels.h"

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
                for (int32_t ch = 0; ch < c; ++ch) {
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
                for (int32_t ch = 0; ch < c; ++ch) {
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
