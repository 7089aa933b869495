/* tinygen native runtime: data movement (PAD, CONCATENATION, copies) and int8 MEAN. */
#include <string.h>

#include "tg_arith.h"
#include "tg_kernels.h"

void tg_copy(const void *in, void *out, size_t bytes)
{
    if (in != out) {
        memmove(out, in, bytes);
    }
}

void tg_pad(const tg_pad_t *p, const void *in, void *out)
{
    const int32_t n = p->itemsize;
    int32_t total = 1;
    for (int32_t d = 0; d < 5; ++d) {
        total *= p->out_shape[d];
    }
    uint8_t *dst = (uint8_t *)out;
    if (n == 1) {
        memset(dst, p->value, (size_t)total);
    } else {
        for (int32_t i = 0; i < total; ++i) {
            memcpy(dst + i * n, &p->value, (size_t)n);
        }
    }
    /* Copy each innermost row of the input to its place in the output. */
    const int32_t *is = p->in_shape;
    const int32_t *os = p->out_shape;
    const size_t row = (size_t)(is[4] * n);
    const uint8_t *src = (const uint8_t *)in;
    for (int32_t a = 0; a < is[0]; ++a) {
        for (int32_t b = 0; b < is[1]; ++b) {
            for (int32_t c = 0; c < is[2]; ++c) {
                for (int32_t d = 0; d < is[3]; ++d, src += row) {
                    const int32_t o = (((a + p->before[0]) * os[1] + b + p->before[1]) * os[2]
                                       + c + p->before[2]) * os[3] + d + p->before[3];
                    memcpy(dst + ((size_t)o * os[4] + p->before[4]) * n, src, row);
                }
            }
        }
    }
}

void tg_concat(const tg_concat_t *p, const void *const *in, void *out)
{
    uint8_t *dst = (uint8_t *)out;
    for (int32_t o = 0; o < p->outer; ++o) {
        for (int32_t i = 0; i < p->inputs; ++i) {
            const size_t row = (size_t)p->in_row[i];
            memcpy(dst, (const uint8_t *)in[i] + (size_t)o * row, row);
            dst += row;
        }
    }
}

void tg_mean_s8(const tg_mean_t *p, const int8_t *in, int8_t *out, int32_t *sums)
{
    int32_t idx[TG_MAX_DIMS] = {0};
    int32_t total = 1;
    for (int32_t d = 0; d < p->in_dims; ++d) {
        total *= p->in_shape[d];
    }
    for (int32_t i = 0; i < p->out_size; ++i) {
        sums[i] = 0;
    }
    int32_t o = 0;
    for (int32_t i = 0; i < total; ++i) {
        sums[o] += in[i];
        for (int32_t d = p->in_dims - 1; d >= 0; --d) {
            o += p->out_strides[d];
            if (++idx[d] < p->in_shape[d]) {
                break;
            }
            o -= p->out_strides[d] * p->in_shape[d];
            idx[d] = 0;
        }
    }
    for (int32_t i = 0; i < p->out_size; ++i) {
        const int32_t shifted = sums[i] - p->in_zp * p->count;
        const int32_t v = tg_requant(shifted, p->mult, p->shift) + p->out_zp;
        out[i] = (int8_t)tg_clamp(v, -128, 127);
    }
}
