"""Make the small per-operator int8 models in tests/data/ops/ (needs TensorFlow).

Each model exercises one operator with one set of options (strides, padding, dilation,
per-channel quantization, fused activations, broadcasting); tests/native compares the native
runtime with the TFLM interpreter on them without needing TensorFlow. Models of operators only
TFLM runs go to tests/data/tflm_ops/ (tests/tflm/test_models.py).

    python3 scripts/make_op_models.py [--check] [--only NAME ...]
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from model_files import (
    Consts,
    conv,
    dense,
    depthwise,
    function_converter,
    import_tensorflow,
    maker_arguments,
    name_seed,
    quantize_int8,
    write_or_check,
)

tf = import_tensorflow()

ROOT = Path(__file__).resolve().parents[1]
OUT = Path("tests/data/ops")
SEED = 20240607
CALIBRATION_SAMPLES = 32



Body = Callable[[Any, Consts], Any]


@dataclass(frozen=True)
class OpModel:
    name: str
    shape: tuple[int, ...]
    body: Body
    int8_io: bool = True
    std: float = 1.0  # of the calibration data
    per_tensor_dense: bool = False  # one scale for a FULLY_CONNECTED's weights
    tflm_only: bool = False  # an operator the native runtime lacks: tests/data/tflm_ops


MODELS: tuple[OpModel, ...] = (
    OpModel("conv_same_relu", (1, 9, 9, 3),
            lambda x, c: tf.nn.relu(conv(x, c, (3, 3), 8))),
    OpModel("conv_valid_stride2", (1, 11, 10, 4),
            lambda x, c: conv(x, c, (3, 3), 6, stride=2, padding="VALID")),
    OpModel("conv_dilated_relu6", (1, 12, 12, 3),
            lambda x, c: tf.nn.relu6(conv(x, c, (3, 3), 5, dilation=2))),
    OpModel("conv_asymmetric_stride", (1, 13, 8, 2),
            lambda x, c: tf.nn.relu(conv(x, c, (5, 3), 7, stride=(2, 1)))),
    OpModel("conv_1x1_stride2", (1, 8, 8, 6),
            lambda x, c: tf.nn.relu(conv(x, c, (1, 1), 9, stride=2))),
    OpModel("conv_odd_channels", (1, 7, 5, 5),
            lambda x, c: conv(x, c, (2, 2), 3, padding="SAME")),
    OpModel("depthwise_same_relu", (1, 10, 10, 8),
            lambda x, c: tf.nn.relu(depthwise(x, c, 3))),
    OpModel("depthwise_stride2_valid", (1, 11, 11, 6),
            lambda x, c: depthwise(x, c, 3, stride=2, padding="VALID")),
    OpModel("depthwise_multiplier2_relu6", (1, 8, 8, 4),
            lambda x, c: tf.nn.relu6(depthwise(x, c, 3, multiplier=2))),
    OpModel("depthwise_dilated", (1, 12, 12, 4),
            lambda x, c: depthwise(x, c, 3, dilation=2)),
    OpModel("depthwise_5x5_stride2_same", (1, 10, 9, 5),
            lambda x, c: tf.nn.relu(depthwise(x, c, 5, stride=2))),
    OpModel("fully_connected_relu", (1, 32),
            lambda x, c: tf.nn.relu(dense(x, c, 16))),
    OpModel("fully_connected_batch3", (3, 20),
            lambda x, c: dense(x, c, 7)),
    OpModel("fully_connected_per_tensor", (1, 40),
            lambda x, c: tf.nn.relu6(dense(x, c, 11)), per_tensor_dense=True),
    OpModel("avg_pool_same_stride2", (1, 9, 9, 4),
            lambda x, c: tf.nn.avg_pool2d(x, 3, 2, "SAME")),
    OpModel("avg_pool_valid_2x2", (1, 8, 6, 3),
            lambda x, c: tf.nn.avg_pool2d(x, 2, 2, "VALID")),
    OpModel("max_pool_same_stride2", (1, 9, 9, 4),
            lambda x, c: tf.nn.max_pool2d(x, 3, 2, "SAME")),
    OpModel("max_pool_valid_relu", (1, 8, 8, 3),
            lambda x, c: tf.nn.relu(tf.nn.max_pool2d(conv(x, c, (1, 1), 4), 2, 2, "VALID"))),
    OpModel("add_relu", (1, 6, 6, 4),
            lambda x, c: tf.nn.relu(conv(x, c, (1, 1), 4) + conv(x, c, (3, 3), 4))),
    OpModel("add_broadcast", (1, 5, 5, 6),
            lambda x, c: conv(x, c, (1, 1), 6)
            + tf.reduce_mean(conv(x, c, (3, 3), 6), axis=[1, 2], keepdims=True)),
    OpModel("mul", (1, 6, 6, 4),
            lambda x, c: conv(x, c, (1, 1), 4) * conv(x, c, (3, 3), 4)),
    OpModel("mul_broadcast_sigmoid", (1, 5, 5, 8),
            lambda x, c: x * tf.sigmoid(dense(tf.reduce_mean(x, axis=[1, 2], keepdims=True),
                                              c, 8))),
    OpModel("softmax", (1, 10),
            lambda x, c: tf.nn.softmax(dense(x, c, 12))),
    OpModel("softmax_rows", (4, 9),
            lambda x, c: tf.nn.softmax(x * 3.0)),
    OpModel("logistic", (1, 256), lambda x, c: tf.sigmoid(x), std=4.0),
    OpModel("tanh", (1, 256), lambda x, c: tf.tanh(x), std=2.0),
    OpModel("float_io", (1, 24),
            lambda x, c: tf.nn.relu(dense(x, c, 10)), int8_io=False),
    OpModel("requantize_concat", (1, 16),
            lambda x, c: tf.concat([tf.sigmoid(x), x], axis=1), std=3.0),
    OpModel("relu", (1, 4, 4, 3), lambda x, c: tf.nn.relu(x)),
    OpModel("relu6", (1, 4, 4, 3), lambda x, c: tf.nn.relu6(x), std=4.0),
    OpModel("pad", (1, 5, 4, 3),
            lambda x, c: tf.pad(conv(x, c, (1, 1), 3), [[0, 0], [1, 2], [2, 1], [0, 0]])),
    OpModel("pad_constant", (1, 6, 5),
            lambda x, c: tf.pad(x, [[0, 0], [2, 0], [1, 3]], constant_values=0.75)),
    OpModel("concatenation", (1, 5, 5, 3),
            lambda x, c: tf.concat([conv(x, c, (1, 1), 4), conv(x, c, (3, 3), 2)], axis=3)),
    OpModel("concatenation_axis1", (1, 4, 3, 2),
            lambda x, c: tf.concat([x, tf.nn.relu(x)], axis=1)),
    OpModel("mean_hw", (1, 7, 6, 5),
            lambda x, c: tf.reduce_mean(conv(x, c, (1, 1), 5), axis=[1, 2], keepdims=True)),
    OpModel("mean_last_axis", (1, 4, 6, 8),
            lambda x, c: tf.reduce_mean(x, axis=[3])),
    OpModel("gather", (1, 5, 6), lambda x, c: tf.gather(x, [3, 0, 2, 2], axis=1),
            tflm_only=True),
    OpModel("arg_max", (2, 12),
            lambda x, c: tf.math.argmax(dense(x, c, 10), axis=-1, output_type=tf.int32),
            tflm_only=True),
    OpModel("arg_max_cast", (1, 4, 9),
            lambda x, c: tf.cast(tf.math.argmax(x, axis=-1, output_type=tf.int32), tf.int8),
            tflm_only=True),
    OpModel("reduce_max", (1, 5, 6, 4), lambda x, c: tf.reduce_max(x, axis=[1, 2]),
            tflm_only=True),
    OpModel("space_to_depth", (1, 4, 6, 3), lambda x, c: tf.nn.space_to_depth(x, 2),
            tflm_only=True),
    OpModel("depth_to_space", (1, 3, 2, 8), lambda x, c: tf.nn.depth_to_space(x, 2),
            tflm_only=True),
    OpModel("space_to_batch_nd", (1, 4, 4, 2),
            lambda x, c: tf.space_to_batch_nd(x, [2, 2], [[0, 0], [0, 0]]), tflm_only=True),
    OpModel("log_softmax", (1, 10), lambda x, c: tf.nn.log_softmax(x * 2.0), tflm_only=True),
    OpModel("l2_normalization", (1, 12), lambda x, c: tf.math.l2_normalize(x, axis=-1),
            tflm_only=True),
    OpModel("mirror_pad", (1, 5, 4, 3),
            lambda x, c: tf.pad(x, [[0, 0], [1, 1], [2, 1], [0, 0]], mode="REFLECT"),
            tflm_only=True),
    OpModel("reshape_squeeze", (1, 4, 4, 2),
            lambda x, c: dense(tf.reshape(tf.squeeze(tf.reduce_mean(
                x, axis=[1], keepdims=True), axis=1), [1, 8]), c, 5)),
)


def convert(model: OpModel, seed: int) -> bytes:
    consts = Consts(seed)
    converter = function_converter(lambda x: model.body(x, consts), model.shape)
    return quantize_int8(converter, model.shape, CALIBRATION_SAMPLES,
                         np.random.default_rng(seed + 1), std=model.std,
                         io="int8" if model.int8_io else None,
                         per_tensor_dense=model.per_tensor_dense)


def main(argv: list[str] | None = None) -> int:
    parser = maker_arguments(__doc__ or "", ROOT)
    args = parser.parse_args(argv)
    tf.keras.utils.set_random_seed(SEED)
    differ = 0
    for model in MODELS:
        if args.only and model.name not in args.only:
            continue
        data = convert(model, name_seed(SEED, model.name))
        folder = OUT.with_name("tflm_ops") if model.tflm_only else OUT
        differ += write_or_check(args.out / folder / f"{model.name}.tflite", data, args.check)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
