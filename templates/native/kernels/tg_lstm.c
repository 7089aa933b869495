/* tinygen native runtime: UNIDIRECTIONAL_SEQUENCE_LSTM with int8 activations and weights, int32
 * biases, an int16 cell state and int16 gate internals (TFLM's EvalLstm<int8_t, int8_t, int16_t,
 * int32_t>). Per step and batch: each gate is two fully connected layers (input, recurrent) into
 * Q3.12, a saturating sum, then sigmoid (tanh for the cell gate) into Q0.15, TFLM's int16
 * table interpolations; the cell state is forget * cell + input * cell gate (saturating, then
 * clipped), the hidden state tanh(cell) * output requantized to int8, copied to the output.
 * The hidden and cell states are variable tensors the benchmark port resets before every
 * inference (as the TFLM port calls Reset()), so they live in the op's scratch buffer. */
#include "tg_arith.h"
#include "tg_dot.h"
#include "tg_kernels.h"

enum { TG_FORGET, TG_INPUT, TG_CELL, TG_OUTPUT };

static inline int16_t tg_sat16(int32_t v)
{
    return (int16_t)tg_clamp(v, -32768, 32767);
}

/* reference_integer_ops::Logistic for int16 with the LSTM's input multiplier 3 and no shift:
 * the input is Q3.12, the output Q0.15. */
static void tg_lstm_sigmoid(const uint16_t *table, int16_t *data, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        const int32_t x = data[i] * 3;
        const uint32_t a = (uint32_t)(x < 0 ? -x : x);
        const uint32_t uh = a >> 9;
        uint32_t r;
        if (uh >= 255u) {
            r = UINT32_C(0x7FFF) << 10;
        } else {
            const uint32_t ua = table[uh];
            const uint32_t ub = table[uh + 1u];
            r = (ua << 9) + (a & 0x1FFu) * (ub - ua);
        }
        r = x >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1u;
        data[i] = (int16_t)(r >> 10);
    }
}

/* reference_integer_ops::Tanh for int16: the input times mult, rounded right by shift (the
 * multiplier and shift lstm_internal::Tanh derives from the input's power-of-two scale). */
static void tg_lstm_tanh(const uint16_t *table, int32_t mult, int32_t shift, const int16_t *in,
                         int16_t *out, int32_t n)
{
    const int32_t round = shift > 0 ? (int32_t)1 << (shift - 1) : 0;
    for (int32_t i = 0; i < n; ++i) {
        const int32_t x = (in[i] * mult + round) >> shift;
        const uint32_t a = (uint32_t)(x < 0 ? -x : x);
        const uint32_t uh = a >> 8;
        int32_t r;
        if (uh >= 255u) {
            r = 0xFFFF << 8;
        } else {
            const uint32_t ua = table[uh];
            const uint32_t ub = table[uh + 1u];
            r = (int32_t)((ua << 8) + (a & 0xFFu) * (ub - ua));
        }
        r = x >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
        out[i] = (int16_t)(r >> 8);
    }
}

/* reference_integer_ops::FullyConnected, int8 x int8 into int16 (output zero point 0). The
 * input zero point is folded into the bias at generation time (bias - zp * sum(w): integer
 * sums are exact, so this is TFLM's sum), leaving a plain dot product per row. */
static void tg_lstm_fc(const int8_t *in, int32_t depth, const int8_t *w, const int32_t *bias,
                       int32_t units, int32_t mult, int32_t shift, int32_t fast, int16_t *out)
{
    for (int32_t u = 0; u < units; ++u, w += depth) {
        int32_t acc = bias[u];
        int32_t d = 0;
#if TG_DSP
        for (; d + 4 <= depth; d += 4) {
            const uint32_t v = tg_load4(w + d);
            acc = tg_mac4(tg_even16(v), tg_odd16(v), tg_load4(in + d), acc);
        }
#endif
        for (; d < depth; ++d) {
            acc += w[d] * in[d];
        }
        out[u] = tg_sat16(fast ? tg_requant_fast(acc, mult, -shift)
                               : tg_requant(acc, mult, shift));
    }
}

/* CalculateLstmGate: FC(input) + FC(hidden), saturated to int16, then the activation. */
static void tg_lstm_gate(const tg_lstm_t *p, int32_t gate, const int8_t *x, const int8_t *h,
                         int16_t *out, int16_t *fc, int32_t tanh)
{
    const int32_t u = p->units;
    tg_lstm_fc(x, p->inputs, p->weights_x + gate * u * p->inputs, p->bias_x + gate * u, u,
               p->x_mult[gate], p->x_shift[gate], p->x_fast[gate], out);
    tg_lstm_fc(h, u, p->weights_h + gate * u * u, p->bias_h + gate * u, u, p->h_mult[gate],
               p->h_shift[gate], p->h_fast[gate], fc);
    for (int32_t i = 0; i < u; ++i) {
        out[i] = tg_sat16(out[i] + fc[i]);
    }
    if (tanh) {
        tg_lstm_tanh(p->sigmoid, 3, 0, out, out, u);
    } else {
        tg_lstm_sigmoid(p->sigmoid, out, u);
    }
}

/* reference_integer_ops::MulElementwise with symmetric inputs. */
static inline int32_t tg_lstm_mul(int16_t a, int16_t b, int32_t mult, int32_t shift,
                                  int32_t zp, int32_t lo, int32_t hi)
{
    return tg_clamp(zp + tg_requant((int32_t)a * b, mult, shift), lo, hi);
}

static void tg_lstm_step(const tg_lstm_t *p, const int8_t *x, int8_t *h, int16_t *c,
                         int16_t *buffers, int8_t *out)
{
    const int32_t u = p->units;
    int16_t *forget = buffers, *input = buffers + u, *cell = buffers + 2 * u;
    int16_t *fc = buffers + 3 * u;
    tg_lstm_gate(p, TG_FORGET, x, h, forget, fc, 0);
    tg_lstm_gate(p, TG_INPUT, x, h, input, fc, 0);
    tg_lstm_gate(p, TG_CELL, x, h, cell, fc, 1);
    for (int32_t i = 0; i < u; ++i) {
        const int32_t kept = tg_lstm_mul(forget[i], c[i], p->forget_mult, p->forget_shift, 0,
                                         -32768, 32767);
        const int32_t added = tg_lstm_mul(input[i], cell[i], p->input_mult, p->input_shift, 0,
                                          -32768, 32767);
        int32_t v = tg_clamp(kept + added, -32768, 32767);
        if (p->clip) {
            v = tg_clamp(v, -p->cell_clip, p->cell_clip);
        }
        c[i] = (int16_t)v;
    }
    int16_t *output = buffers + u;  /* the input gate is no longer needed */
    tg_lstm_gate(p, TG_OUTPUT, x, h, output, fc, 0);
    int16_t *tanh_cell = buffers;
    tg_lstm_tanh(p->sigmoid, p->tanh_mult, p->tanh_shift, c, tanh_cell, u);
    for (int32_t i = 0; i < u; ++i) {
        h[i] = (int8_t)tg_lstm_mul(tanh_cell[i], output[i], p->output_mult, p->output_shift,
                                   p->hidden_zp, -128, 127);
        out[i] = h[i];
    }
}

void tg_lstm_s8(const tg_lstm_t *p, const int8_t *in, int8_t *out, int16_t *scratch)
{
    const int32_t n_state = p->batches * p->units;
    int16_t *cell = scratch;
    int16_t *buffers = cell + n_state;
    int8_t *hidden = (int8_t *)(void *)(buffers + 4 * p->units);
    for (int32_t i = 0; i < n_state; ++i) {
        cell[i] = 0;
        hidden[i] = (int8_t)p->hidden_zp;
    }
    /* Batches are independent: each one runs its steps in order. */
    for (int32_t b = 0; b < p->batches; ++b) {
        for (int32_t t = 0; t < p->steps; ++t) {
            const int32_t row = p->time_major ? t * p->batches + b : b * p->steps + t;
            tg_lstm_step(p, in + row * p->inputs, hidden + b * p->units, cell + b * p->units,
                         buffers, out + row * p->units);
        }
    }
}
