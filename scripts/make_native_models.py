"""Make the native runtime's test models in tests/data/native/ (needs TensorFlow).

Models as users export them: float32 I/O around int8 compute, Keras models with Flatten or
Reshape on a dynamic batch (whose shape arithmetic the native runtime folds away), and one
model per operator kernel the native runtime added for them. Seeded and reproducible: each
model's seed comes from its name.

    python3 scripts/make_native_models.py [--check] [--only NAME ...]
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
    function_converter,
    import_tensorflow,
    maker_arguments,
    name_seed,
    quantize_int8,
    write_or_check,
)

tf = import_tensorflow()

ROOT = Path(__file__).resolve().parents[1]
OUT = Path("tests/data/native")
SEED = 20261204
CALIBRATION_SAMPLES = 48



def dense(x: Any, c: Consts, units: int) -> Any:
    depth = int(x.shape[-1])
    return tf.matmul(x, c.kernel((depth, units), depth)) + c.bias(units)


def conv(x: Any, c: Consts, k: int, out: int, stride: int = 1, padding: str = "SAME") -> Any:
    cin = int(x.shape[-1])
    w = c.kernel((k, k, cin, out), k * k * cin)
    return tf.nn.conv2d(x, w, strides=stride, padding=padding) + c.bias(out)


def depthwise(x: Any, c: Consts, k: int, multiplier: int = 1, stride: int = 1,
              dilation: int = 1) -> Any:
    cin = int(x.shape[-1])
    w = c.kernel((k, k, cin, multiplier), k * k)
    y = tf.nn.depthwise_conv2d(x, w, strides=[1, stride, stride, 1], padding="SAME",
                               dilations=[dilation, dilation])
    return y + c.bias(cin * multiplier)


Body = Callable[[Any, Consts], Any]


@dataclass(frozen=True)
class FunctionModel:
    """A traced function with a fixed input shape; int8 or float32 I/O."""

    name: str
    shape: tuple[int, ...]
    body: Body
    int8_io: bool = True
    std: float = 1.0  # of the calibration data


@dataclass(frozen=True)
class KerasModel:
    """A Keras model with a dynamic batch (the way Keras exports), int8 I/O."""

    name: str
    shape: tuple[int, ...]  # without the batch
    layers: Callable[[], list[Any]]


def _flatten_dense() -> list[Any]:
    k = tf.keras.layers
    return [k.Conv2D(6, 3, padding="same", activation="relu"), k.MaxPooling2D(2), k.Flatten(),
            k.Dense(10, activation="relu"), k.Dense(4)]


def _reshape_dense() -> list[Any]:
    k = tf.keras.layers
    return [k.Conv2D(4, 3, strides=2, activation="relu"), k.Reshape((-1, 8)),
            k.Reshape((4, 2, 8)), k.Flatten(), k.Dense(3), k.Softmax()]


FUNCTION_MODELS: tuple[FunctionModel, ...] = (
    # The float-I/O model: QUANTIZE, FULLY_CONNECTED, TANH, FULLY_CONNECTED, DEQUANTIZE.
    FunctionModel("float_io_dense_tanh", (1, 16),
                  lambda x, c: dense(tf.tanh(dense(x, c, 8)), c, 4), int8_io=False),
    FunctionModel("float_io_batch3", (3, 10),
                  lambda x, c: dense(tf.tanh(dense(x, c, 12)), c, 5), int8_io=False, std=2.0),
    FunctionModel("float_io_conv", (1, 7, 6, 2),
                  lambda x, c: dense(tf.reshape(tf.nn.relu(conv(x, c, 3, 4, stride=2)),
                                                [1, 48]), c, 6), int8_io=False),
    FunctionModel("float_io_wide", (1, 100),
                  lambda x, c: tf.nn.softmax(dense(tf.tanh(dense(x, c, 33)), c, 10)),
                  int8_io=False, std=3.0),
)

# One model per data-movement kernel (int8 I/O); the operator is applied to the int8 input or
# to a convolution's output, so it keeps its place in the converted graph.
MOVE_MODELS: tuple[FunctionModel, ...] = (
    FunctionModel("op_strided_slice", (1, 8, 9, 4),
                  lambda x, c: conv(x, c, 1, 4)[:, 1:7:2, ::-1, 1:3]),
    FunctionModel("op_strided_slice_shrink", (2, 6, 10), lambda x, c: x[1, 2:, ::3]),
    FunctionModel("op_slice", (1, 6, 7, 5),
                  lambda x, c: tf.slice(conv(x, c, 1, 5), [0, 1, 2, 0], [1, 4, 3, -1])),
    FunctionModel("op_split", (1, 4, 5, 6),
                  lambda x, c: (lambda a, b, d: tf.concat([d, a, b], axis=3))(
                      *tf.split(conv(x, c, 1, 6), 3, axis=3))),
    FunctionModel("op_split_v", (1, 8, 3, 2),
                  lambda x, c: (lambda a, b, d: tf.concat([d, a, b], axis=1))(
                      *tf.split(conv(x, c, 1, 2), [2, 5, 1], axis=1))),
    FunctionModel("op_transpose", (1, 3, 5, 4),
                  lambda x, c: tf.transpose(conv(x, c, 1, 4), [0, 2, 3, 1])),
    FunctionModel("op_transpose_3d", (4, 6, 3), lambda x, c: tf.transpose(x, [2, 0, 1])),
    FunctionModel("op_unpack", (1, 3, 8),
                  lambda x, c: (lambda a, b, d: tf.concat([d, a, b], axis=1))(
                      *tf.unstack(x, axis=1))),
    FunctionModel("op_pack", (1, 4, 6),
                  lambda x, c: tf.stack([x[:, 0], x[:, 3], x[:, 1]], axis=2)),
    FunctionModel("op_resize_nearest_half_pixel", (1, 5, 4, 3),
                  lambda x, c: tf.image.resize(conv(x, c, 1, 3), [10, 7], "nearest")),
    FunctionModel("op_resize_nearest_align_corners", (1, 4, 6, 2),
                  lambda x, c: tf.compat.v1.image.resize_nearest_neighbor(
                      x, [9, 11], align_corners=True)),
    FunctionModel("op_resize_nearest_2x", (1, 3, 4, 5),
                  lambda x, c: tf.compat.v1.image.resize_nearest_neighbor(x, [6, 8])),
)


def _two_convs(x: Any, c: Consts) -> tuple[Any, Any]:
    return conv(x, c, 1, int(x.shape[-1])), conv(x, c, 3, int(x.shape[-1]))


def _channel_mean(x: Any) -> Any:
    return tf.reduce_mean(x, axis=[1, 2], keepdims=True)


ELEMENTWISE_MODELS: tuple[FunctionModel, ...] = (
    FunctionModel("op_sub", (1, 6, 6, 4), lambda x, c: tf.subtract(*_two_convs(x, c))),
    FunctionModel("op_sub_relu", (1, 5, 5, 3),
                  lambda x, c: tf.nn.relu(tf.subtract(*_two_convs(x, c)))),
    FunctionModel("op_sub_broadcast", (1, 5, 4, 6),
                  lambda x, c: conv(x, c, 1, 6) - _channel_mean(conv(x, c, 3, 6))),
    FunctionModel("op_squared_difference", (1, 6, 5, 3),
                  lambda x, c: tf.math.squared_difference(*_two_convs(x, c))),
    FunctionModel("op_squared_difference_broadcast", (1, 4, 4, 8),
                  lambda x, c: tf.math.squared_difference(x, _channel_mean(x)), std=2.0),
    FunctionModel("op_maximum", (1, 6, 6, 4), lambda x, c: tf.maximum(*_two_convs(x, c))),
    FunctionModel("op_maximum_broadcast", (1, 5, 5, 3),
                  lambda x, c: tf.maximum(x, _channel_mean(conv(x, c, 3, 3)))),
    FunctionModel("op_minimum", (1, 6, 6, 4), lambda x, c: tf.minimum(*_two_convs(x, c))),
    FunctionModel("op_leaky_relu", (1, 6, 6, 4),
                  lambda x, c: tf.nn.leaky_relu(conv(x, c, 3, 4), alpha=0.2)),
    FunctionModel("op_leaky_relu_input", (1, 64), lambda x, c: tf.nn.leaky_relu(x, alpha=0.01),
                  std=3.0),
    FunctionModel("op_hard_swish", (1, 6, 6, 4),
                  lambda x, c: (lambda y: y * tf.nn.relu6(y + 3.0) / 6.0)(conv(x, c, 3, 4)),
                  std=2.0),
    FunctionModel("op_hard_swish_input", (1, 128),
                  lambda x, c: x * tf.nn.relu6(x + 3.0) / 6.0, std=3.0),
    FunctionModel("op_sum_hw", (1, 5, 6, 4),
                  lambda x, c: tf.reduce_sum(conv(x, c, 1, 4), axis=[1, 2], keepdims=True)),
    FunctionModel("op_sum_last_axis", (1, 4, 3, 10), lambda x, c: tf.reduce_sum(x, axis=[3])),
    FunctionModel("op_sum_all_but_channels", (2, 3, 4), lambda x, c: tf.reduce_sum(x, axis=[0, 1]),
                  std=0.5),
    FunctionModel("op_rsqrt", (1, 64),
                  lambda x, c: tf.math.rsqrt(tf.nn.relu(x) + 0.25), std=2.0),
)


def _prelu() -> list[Any]:
    k = tf.keras.layers
    return [k.Conv2D(5, 3, padding="same"), k.PReLU(shared_axes=[1, 2],
                                                    alpha_initializer="random_uniform"),
            k.Flatten(), k.Dense(4)]


def _prelu_full() -> list[Any]:
    k = tf.keras.layers
    return [k.Conv2D(3, 1), k.PReLU(alpha_initializer=tf.keras.initializers.RandomUniform(
        -0.5, 0.9))]


def transpose_conv(x: Any, c: Consts, k: int, out: int, stride: int, padding: str) -> Any:
    _, h, w, cin = (int(d) for d in x.shape)
    size = (h * stride, w * stride) if padding == "SAME" else (
        (h - 1) * stride + k, (w - 1) * stride + k)
    kernel = c.kernel((k, k, out, cin), k * k * cin)
    y = tf.nn.conv2d_transpose(x, kernel, (1, *size, out), stride, padding)
    return y + c.bias(out)


def _conv_over_input(x: Any, c: Consts) -> Any:
    """A residual block whose second 3x3 convolution's input dies there (its output may run
    over it, tinygen.native.conv_lag), then one into the model output: 5 channels of 7
    columns, so a lag of three rows (105 B) is rounded to 108 and the filter rows (15 B) are
    gathered."""
    skip = conv(x, c, 1, 5)
    block = conv(tf.nn.relu(conv(skip, c, 3, 5)), c, 3, 5)
    return conv(tf.nn.relu(skip + block), c, 3, 5)


CONV_MODELS: tuple[FunctionModel, ...] = (
    FunctionModel("op_conv_over_input", (1, 8, 7, 3), _conv_over_input),
    FunctionModel("op_transpose_conv_same", (1, 4, 5, 3),
                  lambda x, c: tf.nn.relu(transpose_conv(x, c, 3, 4, 2, "SAME"))),
    FunctionModel("op_transpose_conv_valid", (1, 3, 3, 5),
                  lambda x, c: transpose_conv(x, c, 4, 2, 2, "VALID")),
    FunctionModel("op_transpose_conv_stride1", (1, 6, 4, 2),
                  lambda x, c: transpose_conv(x, c, 3, 3, 1, "SAME")),
)
MATMUL_MODELS: tuple[FunctionModel, ...] = (
    FunctionModel("op_batch_matmul_adj_y", (1, 4, 6),
                  lambda x, c: tf.matmul(dense(x, c, 8), dense(x, c, 8), transpose_b=True)),
    FunctionModel("op_batch_matmul_batched", (3, 4, 5),
                  lambda x, c: tf.matmul(x, dense(x, c, 6), transpose_a=True)),
    FunctionModel("op_batch_matmul_broadcast", (2, 3, 7),
                  lambda x, c: tf.matmul(dense(x, c, 5), tf.reduce_mean(
                      tf.reshape(dense(x, c, 10), [2, 5, 6]), axis=0, keepdims=True))),
)
# The kernel paths of shapes that were slower than TFLM+CMSIS-NN (bench/native_shapes.py):
# depthwise on one input channel (a convolution when it has 4 outputs or more, a 2-D
# correlation when it has one: 3x3 stride 1 by row pointers, 5x5 stride 2 tap by tap), multiplier 1
# with 3 (an overlapping last group), 1 and 2 channels left over, 3x3 and 5x5 taps, borders;
# pools whose channels are not a multiple of four.
SHAPE_MODELS: tuple[FunctionModel, ...] = (
    FunctionModel("op_depthwise_one_channel_m8", (1, 11, 9, 1),
                  lambda x, c: tf.nn.relu(depthwise(x, c, 3, multiplier=8, stride=2))),
    FunctionModel("op_depthwise_one_channel_m2", (1, 9, 8, 1),
                  lambda x, c: depthwise(x, c, 3, multiplier=2)),
    FunctionModel("op_depthwise_one_channel_m1", (1, 9, 11, 1),
                  lambda x, c: tf.nn.relu(depthwise(x, c, 3))),
    FunctionModel("op_depthwise_one_channel_m1_5x5_s2", (1, 10, 9, 1),
                  lambda x, c: depthwise(x, c, 5, stride=2)),
    FunctionModel("op_depthwise_c7_dilated", (1, 10, 9, 7),
                  lambda x, c: depthwise(x, c, 3, dilation=2)),
    FunctionModel("op_depthwise_c13_stride2", (1, 11, 10, 13),
                  lambda x, c: tf.nn.relu6(depthwise(x, c, 3, stride=2))),
    FunctionModel("op_depthwise_c6_5x5", (1, 8, 7, 6), lambda x, c: depthwise(x, c, 5)),
    FunctionModel("op_max_pool_c6", (1, 9, 9, 3),
                  lambda x, c: tf.nn.max_pool2d(conv(x, c, 1, 6), 3, 2, "SAME")),
    FunctionModel("op_avg_pool_c5", (1, 9, 8, 3),
                  lambda x, c: tf.nn.avg_pool2d(conv(x, c, 1, 5), 3, 2, "SAME")),
)
RESIZE_MODELS: tuple[FunctionModel, ...] = (
    FunctionModel("op_resize_bilinear_half_pixel", (1, 5, 4, 3),
                  lambda x, c: tf.image.resize(conv(x, c, 1, 3), [9, 11], "bilinear")),
    FunctionModel("op_resize_bilinear_align_corners", (1, 4, 6, 2),
                  lambda x, c: tf.compat.v1.image.resize_bilinear(x, [7, 13],
                                                                  align_corners=True)),
    FunctionModel("op_resize_bilinear_down", (1, 9, 8, 4),
                  lambda x, c: tf.compat.v1.image.resize_bilinear(x, [4, 5])),
)
KERAS_MODELS: tuple[KerasModel, ...] = (
    KerasModel("keras_flatten_dynamic_batch", (8, 8, 3), _flatten_dense),
    KerasModel("keras_reshape_dynamic_batch", (9, 9, 2), _reshape_dense),
    KerasModel("op_prelu", (6, 6, 3), _prelu),
    KerasModel("op_prelu_full_alpha", (4, 5, 2), _prelu_full),
)


def _quantize(converter: Any, shape: tuple[int, ...], std: float, seed: int,
              int8_io: bool) -> bytes:
    return quantize_int8(converter, shape, CALIBRATION_SAMPLES, np.random.default_rng(seed + 1),
                         std=std, io="int8" if int8_io else "float32")


def convert_function(model: FunctionModel, seed: int) -> bytes:
    consts = Consts(seed)
    converter = function_converter(lambda x: model.body(x, consts), model.shape)
    return _quantize(converter, model.shape, model.std, seed, model.int8_io)


def convert_keras(model: KerasModel, seed: int) -> bytes:
    tf.keras.backend.clear_session()  # layer names (in the tensor names) restart per model
    tf.keras.utils.set_random_seed(seed)
    keras_model = tf.keras.Sequential([tf.keras.Input(model.shape), *model.layers()])
    converter = tf.lite.TFLiteConverter.from_keras_model(keras_model)
    return _quantize(converter, (1, *model.shape), 1.0, seed, True)


def main(argv: list[str] | None = None) -> int:
    parser = maker_arguments(__doc__ or "", ROOT)
    args = parser.parse_args(argv)
    differ = 0
    makers: list[tuple[str, Callable[[int], bytes]]] = [
        *((m.name, lambda s, m=m: convert_function(m, s))
          for m in (*FUNCTION_MODELS, *MOVE_MODELS, *ELEMENTWISE_MODELS, *RESIZE_MODELS,
                    *CONV_MODELS, *MATMUL_MODELS, *SHAPE_MODELS)),
        *((m.name, lambda s, m=m: convert_keras(m, s)) for m in KERAS_MODELS),
    ]
    for name, make in makers:
        if args.only and name not in args.only:
            continue
        tf.keras.utils.set_random_seed(name_seed(SEED, name))
        data = make(name_seed(SEED, name))
        differ += write_or_check(args.out / OUT / f"{name}.tflite", data, args.check)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
