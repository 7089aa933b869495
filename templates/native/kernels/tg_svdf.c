/* tinygen native runtime: SVDF with int8 input, weights_feature and output, int16 weights_time
 * and activation state (TFLM's EvalIntegerSvdfReference). The state is a variable tensor that
 * the benchmark port resets before every inference (as the TFLM port calls Reset()), so it lives
 * in the op's scratch buffer: reset, shifted one step, the new column written, then the time
 * filter, bias, rank sum and requantization. */
#include "tg_arith.h"
#include "tg_kernels.h"

void tg_svdf_s8(const tg_svdf_t *p, const int8_t *in, int8_t *out, int32_t *scratch)
{
    const int32_t n_state = p->batches * p->filters * p->memory;
    int16_t *state = (int16_t *)(void *)scratch;
    int32_t *acc = scratch + (n_state + 1) / 2;
    int32_t *units = acc + p->batches * p->filters;
    for (int32_t i = 0; i < n_state; ++i) {
        state[i] = (int16_t)p->state_reset;
    }
    /* The state moves left by one element (the first one of the next row enters each row's
     * last place, overwritten below). */
    for (int32_t i = 0; i + 1 < n_state; ++i) {
        state[i] = state[i + 1];
    }
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *x = in + b * p->inputs;
        const int8_t *w = p->weights_feature;
        int16_t *column = state + b * p->filters * p->memory + (p->memory - 1);
        for (int32_t f = 0; f < p->filters; ++f, column += p->memory) {
            int32_t dot = 0;
            for (int32_t c = 0; c < p->inputs; ++c) {
                dot += *w++ * (x[c] - p->in_zp);
            }
            dot = tg_clamp(tg_requant(dot, p->mult1, p->shift1), -32768, 32767);
            *column = (int16_t)(p->state_zp + dot);
        }
    }
    for (int32_t b = 0; b < p->batches; ++b) {
        const int16_t *t = p->weights_time;
        const int16_t *s = state + b * p->memory * p->filters;
        for (int32_t f = 0; f < p->filters; ++f) {
            int32_t sum = 0;
            for (int32_t j = 0; j < p->memory; ++j) {
                sum += *t++ * (*s++ - p->state_zp);
            }
            acc[b * p->filters + f] = sum;
        }
    }
    for (int32_t b = 0; b < p->batches; ++b) {
        const int32_t *a = acc + b * p->filters;
        for (int32_t u = 0; u < p->units; ++u) {
            int32_t sum = p->bias[u];
            for (int32_t r = 0; r < p->rank; ++r) {
                sum += *a++;
            }
            units[b * p->units + u] = sum;
        }
    }
    for (int32_t i = 0; i < p->batches * p->units; ++i) {
        const int32_t v = tg_requant(units[i], p->mult2, p->shift2) + p->out_zp;
        out[i] = (int8_t)tg_clamp(v, -128, 127);
    }
}
