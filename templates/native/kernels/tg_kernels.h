/*
 * tinygen native runtime: int8 kernels called straight from the generated graph code.
 *
 * Written for tinygen. Every kernel reproduces the integer arithmetic of the TFLM reference
 * kernel of the same operator bit for bit; the parameters (multipliers, shifts, activation
 * ranges, padding) are computed by tinygen at generation time as TFLM computes them in
 * Prepare. Biases come with the input offset folded in (bias + input_offset * sum of the
 * filter), and padded taps read the input zero point, which makes both exactly equivalent to
 * TFLM's sum of filter * (input + input_offset) over the taps inside the image.
 * Portable C99; the Cortex-M DSP paths are chosen by __ARM_FEATURE_DSP.
 */
#ifndef TG_KERNELS_H
#define TG_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* The parameter structs' version; generated model_data.h checks it. */
#define TG_KERNELS_ABI 6

#define TG_MAX_DIMS 6

typedef struct {
    int32_t batches, in_h, in_w, in_c, out_h, out_w, out_c;
    int32_t k_h, k_w, stride_h, stride_w, dil_h, dil_w, pad_h, pad_w;
    int32_t in_zp;                 /* what padded taps read */
    int32_t out_zp, act_min, act_max;
    const int8_t *weights;         /* conv [out_c][k_h][k_w][in_c]; depthwise [k_h][k_w][out_c] */
    const int32_t *bias;           /* input offset folded in */
    const int32_t *mult;           /* per output channel */
    const int32_t *shift;
    int32_t fast_requant;          /* 1: every shift < 0 and |accumulator| < 2^29 */
    /* CONV_2D with fast_requant: per output channel bias, mult, right shift, 2^(right - 1) +
     * out_zp * 2^right (tg_requant_round with the output zero point folded in), by channel
     * pairs {b0, b1, m0, r0, t0, m1, r1, t1}, a last odd channel {b, m, r, t}; else NULL */
    const int32_t *rq;
} tg_conv_t;

typedef struct {
    int32_t batches, depth, units;
    int32_t out_zp, act_min, act_max;
    int32_t per_channel;           /* 0: mult[0]/shift[0] for every unit */
    const int8_t *weights;         /* [units][depth] */
    const int32_t *bias;           /* input offset folded in */
    const int32_t *mult;
    const int32_t *shift;
    int32_t fast_requant;          /* 1: every shift < 0 and |accumulator| < 2^29 */
} tg_fc_t;

typedef struct {
    int32_t batches, in_h, in_w, channels, out_h, out_w;
    int32_t k_h, k_w, stride_h, stride_w, pad_h, pad_w;
    int32_t act_min, act_max;
} tg_pool_t;

/* Binary elementwise ops (ADD, SUB, MUL, SQUARED_DIFFERENCE, MAXIMUM, MINIMUM, PRELU) with
 * broadcasting: when broadcast is 0 the inputs and output are flat arrays of `size` elements;
 * else out_shape (TG_MAX_DIMS, leading 1s) and each input's strides (0 along a broadcast
 * dimension). */
typedef struct {
    int32_t size, broadcast;
    int32_t out_shape[TG_MAX_DIMS], strides1[TG_MAX_DIMS], strides2[TG_MAX_DIMS];
    int32_t in1_offset, in2_offset, out_zp, act_min, act_max;
    int32_t left_shift;            /* ADD, SUB, SQUARED_DIFFERENCE */
    int32_t mult1, shift1, mult2, shift2;  /* the same; PRELU: x >= 0, x < 0 */
    int32_t mult, shift;           /* output rescaling */
    /* ADD, SUB's fast forms (tinygen/native/add_forms.py, exact for every input pair):
     * tg_add/sub_direct_s8: input `linear` (1 or 2) scaled by 2^19 exactly, the other
     * rescaled with one SMMLAR (its rounding term round_in); tg_add_tables_s8: both looked up
     * (table1/2: twice each input's rescaled value, SUB's second negated, by the byte as
     * uint8). Both then requantize twice the sum with round (2^(right-1) + out_zp * 2^right,
     * right = -shift) and clamp. */
    int32_t linear, round_in, round;
    const int32_t *table1, *table2;
} tg_binary_t;

typedef struct {
    int32_t rows, depth;
    int32_t input_mult, input_left_shift, diff_min;
} tg_softmax_t;

typedef struct {
    int32_t size, in_zp, range_radius, input_mult, input_left_shift;
} tg_sigmoid_t;

typedef struct {
    int32_t size, in_zp, out_zp, mult, shift;
    int32_t act_min, act_max;      /* int8 -> int8: the output range (RELU, RELU6 clamp it) */
    float scale;                   /* float <-> int8 conversions */
} tg_quant_t;

typedef struct {
    int32_t dims;                  /* 5, shapes with leading 1s */
    int32_t in_shape[5], out_shape[5], before[5];
    int32_t itemsize;
    int32_t value;                 /* the pad value (int8 / int32 bit pattern) */
} tg_pad_t;

typedef struct {
    int32_t outer, inputs, out_row;        /* bytes per outer step of the output */
    const int32_t *in_row;                 /* bytes per outer step of each input */
} tg_concat_t;

typedef struct {
    int32_t in_dims, out_size, count;
    int32_t in_shape[TG_MAX_DIMS], out_strides[TG_MAX_DIMS];  /* 0 along reduced dims */
    int32_t in_zp, out_zp, mult, shift;
} tg_mean_t;

/* A strided gather over six dimensions (leading ones of count 1): element
 * base + sum(i[d] * step[d]) of the input for each index i, in order; steps in elements, may be
 * negative. STRIDED_SLICE, SLICE, TRANSPOSE. */
typedef struct {
    int32_t count[TG_MAX_DIMS], step[TG_MAX_DIMS];
    int32_t base, itemsize;
} tg_strided_t;

typedef struct {
    int32_t outer, outputs;                /* the inverse of tg_concat_t */
    const int32_t *out_row;                /* bytes per outer step of each output */
} tg_split_t;

typedef struct {
    int32_t batches, in_h, in_w, depth, out_h, out_w, itemsize;
    /* nearest: the input row / column of each output one; bilinear: three values each (the
     * two source indices, the 10-bit weight of the second) */
    const int32_t *ys, *xs;
} tg_resize_t;

typedef struct {
    int32_t size, in_zp, out_zp;
    int32_t identity_mult, identity_shift, alpha_mult, alpha_shift;  /* alpha_mult may be < 0 */
} tg_leaky_relu_t;

typedef struct {
    int32_t size;
    const int8_t *table;           /* indexed by the input byte as uint8 (-128 at 128) */
} tg_lut_t;

/* BATCH_MATMUL: element (a, k) of a lhs matrix at a * lhs_row + k * lhs_depth, (k, c) of a rhs
 * one at k * rhs_depth + c * rhs_col; three (broadcast) batch dimensions, strides 0 where an
 * input is broadcast. */
typedef struct {
    int32_t batch[3], lhs_batch[3], rhs_batch[3];
    int32_t rows, depth, cols, lhs_row, lhs_depth, rhs_depth, rhs_col;
    int32_t lhs_zp, rhs_zp, out_zp, mult, shift;
} tg_matmul_t;

typedef struct {
    int32_t batches, inputs, filters, units, rank, memory;
    int32_t in_zp, state_zp, out_zp, mult1, shift1, mult2, shift2;
    int32_t state_reset;           /* what TFLM's Reset() writes into the state */
    const int8_t *weights_feature; /* [filters][inputs] */
    const int16_t *weights_time;   /* [filters][memory] */
    const int32_t *bias;           /* [units], zeros when the model has none */
} tg_svdf_t;

/* UNIDIRECTIONAL_SEQUENCE_LSTM (int8, int16 cell state): per gate (forget, input, cell,
 * output) the multipliers of its input and recurrent fully connected layers into Q3.12. */
typedef struct {
    int32_t batches, steps, inputs, units, time_major;
    int32_t hidden_zp;
    int32_t x_mult[4], x_shift[4], h_mult[4], h_shift[4];
    int32_t x_fast[4], h_fast[4];         /* tg_requant_fast applies (checked when generated) */
    int32_t forget_mult, forget_shift, input_mult, input_shift, output_mult, output_shift;
    int32_t clip, cell_clip;               /* clip the cell state to +-cell_clip */
    int32_t tanh_mult, tanh_shift;         /* the cell state into tanh's Q3.12 input */
    const int8_t *weights_x;               /* [4][units][inputs] */
    const int8_t *weights_h;               /* [4][units][units] */
    const int32_t *bias_x;                 /* [4][units]: bias - input zp * row sum */
    const int32_t *bias_h;                 /* [4][units]: -hidden zp * row sum */
    const uint16_t *sigmoid;               /* sigmoid(i / 24) in 0.16, 256 values */
} tg_lstm_t;

/* out may overlap in, starting three input rows before it (tinygen/native/conv_lag.py): the
 * output pixels go in raster order, each group's receptive fields read before its stores. */
void tg_conv_s8(const tg_conv_t *p, const int8_t *in, int8_t *out, int8_t *scratch);
/* TRANSPOSE_CONV: tg_conv_t with the weights as stored ([out_c][k_h][k_w][in_c]), the bias
 * not folded, in_zp the input zero point; scratch holds an int32 per output element. */
void tg_transpose_conv_s8(const tg_conv_t *p, const int8_t *in, int8_t *out, int32_t *acc);
void tg_depthwise_s8(const tg_conv_t *p, const int8_t *in, int8_t *out, int8_t *scratch);
/* DEPTHWISE_CONV_2D of depth multiplier 1 on four or more channels: tg_conv_t without the
 * weights, bias, mult and shift, which are in `stream` (the layout in tg_depthwise_m1.c). */
void tg_depthwise_m1_s8(const tg_conv_t *p, const int8_t *in, int8_t *out, int8_t *scratch,
                        const int32_t *stream);
/* DEPTHWISE_CONV_2D of one input channel into one output channel (no scratch). */
void tg_depthwise_c1_s8(const tg_conv_t *p, const int8_t *in, int8_t *out);
void tg_batch_matmul_s8(const tg_matmul_t *p, const int8_t *lhs, const int8_t *rhs,
                        int8_t *out);
/* scratch: the int16 state (rounded up to a word), an int32 per filter and per unit. */
void tg_svdf_s8(const tg_svdf_t *p, const int8_t *in, int8_t *out, int32_t *scratch);
/* scratch: the int16 cell state, four int16 rows of units, the int8 hidden state. */
void tg_lstm_s8(const tg_lstm_t *p, const int8_t *in, int8_t *out, int16_t *scratch);
void tg_fully_connected_s8(const tg_fc_t *p, const int8_t *in, int8_t *out);
void tg_avg_pool_s8(const tg_pool_t *p, const int8_t *in, int8_t *out);
void tg_max_pool_s8(const tg_pool_t *p, const int8_t *in, int8_t *out);
void tg_add_s8(const tg_binary_t *p, const int8_t *in1, const int8_t *in2, int8_t *out);
void tg_mul_s8(const tg_binary_t *p, const int8_t *in1, const int8_t *in2, int8_t *out);
void tg_sub_s8(const tg_binary_t *p, const int8_t *in1, const int8_t *in2, int8_t *out);
void tg_add_direct_s8(const tg_binary_t *p, const int8_t *in1, const int8_t *in2, int8_t *out);
void tg_sub_direct_s8(const tg_binary_t *p, const int8_t *in1, const int8_t *in2, int8_t *out);
void tg_add_tables_s8(const tg_binary_t *p, const int8_t *in1, const int8_t *in2, int8_t *out);
void tg_squared_difference_s8(const tg_binary_t *p, const int8_t *in1, const int8_t *in2,
                              int8_t *out);
void tg_maximum_s8(const tg_binary_t *p, const int8_t *in1, const int8_t *in2, int8_t *out);
void tg_minimum_s8(const tg_binary_t *p, const int8_t *in1, const int8_t *in2, int8_t *out);
void tg_leaky_relu_s8(const tg_leaky_relu_t *p, const int8_t *in, int8_t *out);
void tg_prelu_s8(const tg_binary_t *p, const int8_t *in, const int8_t *alpha, int8_t *out);
void tg_lut_s8(const tg_lut_t *p, const int8_t *in, int8_t *out);
void tg_softmax_s8(const tg_softmax_t *p, const int8_t *in, int8_t *out);
void tg_logistic_s8(const tg_sigmoid_t *p, const int8_t *in, int8_t *out);
void tg_tanh_s8(const tg_sigmoid_t *p, const int8_t *in, int8_t *out);
void tg_quantize_f32_s8(const tg_quant_t *p, const float *in, int8_t *out);
void tg_requantize_s8(const tg_quant_t *p, const int8_t *in, int8_t *out);
void tg_dequantize_s8_f32(const tg_quant_t *p, const int8_t *in, float *out);
void tg_pad(const tg_pad_t *p, const void *in, void *out);
void tg_concat(const tg_concat_t *p, const void *const *in, void *out);
void tg_mean_s8(const tg_mean_t *p, const int8_t *in, int8_t *out, int32_t *scratch);
void tg_copy(const void *in, void *out, size_t bytes);
void tg_strided_copy(const tg_strided_t *p, const void *in, void *out);
void tg_split(const tg_split_t *p, const void *in, void *const *out);
void tg_resize_nearest(const tg_resize_t *p, const void *in, void *out);
void tg_resize_bilinear_s8(const tg_resize_t *p, const int8_t *in, int8_t *out);

#endif
