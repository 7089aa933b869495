/* tinygen native runtime: QUANTIZE (float32 -> int8, int8 -> int8), DEQUANTIZE (int8 -> float32)
 * and the standalone int8 RELU and RELU6 (a requantization clamped to the activation's range). */
#include "tg_arith.h"
#include "tg_kernels.h"

void tg_quantize_f32_s8(const tg_quant_t *p, const float *in, int8_t *out)
{
    for (int32_t i = 0; i < p->size; ++i) {
        /* float32 division, then round half away from zero, as TFLM's AffineQuantize. */
        const int32_t q = tg_round_f32(in[i] / p->scale) + p->out_zp;
        out[i] = (int8_t)tg_clamp(q, -128, 127);
    }
}

void tg_requantize_s8(const tg_quant_t *p, const int8_t *in, int8_t *out)
{
    for (int32_t i = 0; i < p->size; ++i) {
        const int32_t q = tg_requant(in[i] - p->in_zp, p->mult, p->shift) + p->out_zp;
        out[i] = (int8_t)tg_clamp(q, p->act_min, p->act_max);
    }
}

void tg_dequantize_s8_f32(const tg_quant_t *p, const int8_t *in, float *out)
{
    for (int32_t i = 0; i < p->size; ++i) {
        /* TFLM multiplies in double; the product of a float and a 9-bit integer is exact in
         * double, so rounding it to float equals one float multiplication. */
        out[i] = p->scale * (float)(in[i] - p->in_zp);
    }
}
