/* tinygen native runtime: int8 BATCH_MATMUL. out[..., a, c] = sum over b of
 * (lhs[..., a, b] - lhs_zp) * (rhs[..., b, c] - rhs_zp), requantized, as TFLM's reference (which
 * transposes into RHS^T x LHS^T first: the same integers). adj_x / adj_y and broadcast batch
 * dimensions are strides computed at generation time, so nothing is transposed or copied. */
#include "tg_arith.h"
#include "tg_kernels.h"

void tg_batch_matmul_s8(const tg_matmul_t *p, const int8_t *lhs, const int8_t *rhs, int8_t *out)
{
    for (int32_t b0 = 0; b0 < p->batch[0]; ++b0) {
        for (int32_t b1 = 0; b1 < p->batch[1]; ++b1) {
            for (int32_t b2 = 0; b2 < p->batch[2]; ++b2) {
                const int8_t *l = lhs + b0 * p->lhs_batch[0] + b1 * p->lhs_batch[1]
                                  + b2 * p->lhs_batch[2];
                const int8_t *r = rhs + b0 * p->rhs_batch[0] + b1 * p->rhs_batch[1]
                                  + b2 * p->rhs_batch[2];
                for (int32_t a = 0; a < p->rows; ++a) {
                    for (int32_t c = 0; c < p->cols; ++c) {
                        const int8_t *x = l + a * p->lhs_row;
                        const int8_t *y = r + c * p->rhs_col;
                        int32_t sum = 0;
                        for (int32_t k = 0; k < p->depth; ++k) {
                            sum += (x[k * p->lhs_depth] - p->lhs_zp)
                                   * (y[k * p->rhs_depth] - p->rhs_zp);
                        }
                        const int32_t v = tg_requant(sum, p->mult, p->shift) + p->out_zp;
                        *out++ = (int8_t)tg_clamp(v, -128, 127);
                    }
                }
            }
        }
    }
}
