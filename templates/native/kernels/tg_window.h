/*
 * tinygen native runtime: the taps of a filter window, shared by the depthwise kernels.
 */
#ifndef TG_WINDOW_H
#define TG_WINDOW_H

#include <stdint.h>

#include "tg_kernels.h"

/* Points rows[t] at the input pixel tap t reads, or at `padding` (in_c zero-point bytes) for
 * a tap outside the image. */
static inline void tg_tap_pointers(const tg_conv_t *p, const int8_t *image, int32_t y0,
                                   int32_t x0, const int8_t *padding, const int8_t **rows)
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

#endif
