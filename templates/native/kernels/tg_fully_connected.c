/* tinygen native runtime: int8 FULLY_CONNECTED, four units at a time (weights interleaved by
 * four rows, see tg_dot.h; the input offset is folded into the bias). */
#include "tg_arith.h"
#include "tg_dot.h"
#include "tg_kernels.h"

static inline void tg_fc(const tg_fc_t *p, const int8_t *in, int8_t *out, const int fast)
{
    const int32_t depth = p->depth, units = p->units, stride = 4 * ((depth + 3) / 4);
    const int32_t out_zp = p->out_zp, act_min = p->act_min, act_max = p->act_max;
    const int32_t per_channel = p->per_channel;
    const int32_t *const bias = p->bias;
    const int32_t *const mult = p->mult;
    const int32_t *const shift = p->shift;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *x = in + b * depth;
        int8_t *restrict y = out + b * units;
        const int8_t *w = p->weights;
        int32_t u = 0;
        for (; u + 4 <= units; u += 4, w += 4 * stride) {
            int32_t acc[4] = {bias[u], bias[u + 1], bias[u + 2], bias[u + 3]};
            tg_dot_quad(w, x, depth, acc);
            for (int32_t r = 0; r < 4; ++r) {
                const int32_t q = per_channel ? u + r : 0;
                y[u + r] = tg_output(acc[r], mult[q], shift[q], fast, out_zp, act_min, act_max);
            }
        }
        for (; u < units; ++u, w += stride) {
            const int32_t q = per_channel ? u : 0;
            const int32_t acc = bias[u] + tg_dot_row(w, x, depth);
            y[u] = tg_output(acc, mult[q], shift[q], fast, out_zp, act_min, act_max);
        }
    }
}

void tg_fully_connected_s8(const tg_fc_t *p, const int8_t *in, int8_t *out)
{
    if (p->fast_requant) {
        tg_fc(p, in, out, 1);
    } else {
        tg_fc(p, in, out, 0);
    }
}
