/*
 * tinygen native runtime with --kernels cmsis-nn: each CMSIS-NN call's argument structs,
 * grouped per operator so that the generated model_data.c holds them as one constant each.
 *
 * Written for tinygen. The generated graph code passes these fields straight to the CMSIS-NN
 * functions named below (arm_nnfunctions.h of the pinned CMSIS-NN).
 */
#ifndef TG_CMSIS_NN_H
#define TG_CMSIS_NN_H

#include "arm_nnfunctions.h"

/* arm_convolve_wrapper_s8 */
typedef struct {
    cmsis_nn_conv_params conv;
    cmsis_nn_per_channel_quant_params quant;
    cmsis_nn_dims input, filter, bias, output;
} tg_cmsis_conv_t;

/* arm_depthwise_conv_wrapper_s8 */
typedef struct {
    cmsis_nn_dw_conv_params conv;
    cmsis_nn_per_channel_quant_params quant;
    cmsis_nn_dims input, filter, bias, output;
} tg_cmsis_dw_conv_t;

/* arm_fully_connected_s8 (per-tensor weights) */
typedef struct {
    cmsis_nn_fc_params fc;
    cmsis_nn_per_tensor_quant_params quant;
    cmsis_nn_dims input, filter, bias, output;
} tg_cmsis_fc_t;

/* arm_fully_connected_per_channel_s8 */
typedef struct {
    cmsis_nn_fc_params fc;
    cmsis_nn_per_channel_quant_params quant;
    cmsis_nn_dims input, filter, bias, output;
} tg_cmsis_fc_per_channel_t;

/* arm_avgpool_s8, arm_max_pool_s8 */
typedef struct {
    cmsis_nn_pool_params pool;
    cmsis_nn_dims input, filter, output;
} tg_cmsis_pool_t;

#endif
