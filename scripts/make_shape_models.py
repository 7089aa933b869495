"""Make the varied-shapes models of bench/native_shapes.py (needs TensorFlow).

Small int8 models, one shape family each, where a kernel's special cases show: depth
multipliers 1, 2 and 8, one-channel inputs, odd channel counts (3, 5, 7, 13), strides 1 and 2,
dilation 2, 1x1, 3x3 and 5x5 filters, large FULLY_CONNECTED layers, pools and ADD, plus a
keyword model and a MobileNet-v1-like stem on 96x96x1 as users bring them. Seeded and
reproducible (each model's seed comes from its name); written to build/shape-models/ by
default, not committed.

    python3 scripts/make_shape_models.py [--check] [--only NAME ...] [--out ROOT]
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
OUT = Path("build/shape-models")
SEED = 20261212
CALIBRATION_SAMPLES = 24

Body = Callable[[Any, Consts], Any]


def flat(x: Any) -> Any:
    return tf.reshape(x, [int(x.shape[0]), -1])


def _kws_dw_m8(x: Any, c: Consts) -> Any:
    # The keyword model: depthwise x8 on one channel, stride 2, then FC and SOFTMAX.
    y = tf.nn.relu(depthwise(x, c, (10, 4), multiplier=8, stride=2))
    return tf.nn.softmax(dense(flat(y), c, 12))


def _mobilenet_stem(x: Any, c: Consts) -> Any:
    # The first blocks of a MobileNet-v1 (alpha 0.25) person detector on 96x96x1.
    y = tf.nn.relu6(conv(x, c, 3, 8, stride=2))
    for out, stride in ((16, 1), (32, 2), (32, 1), (64, 2)):
        y = tf.nn.relu6(depthwise(y, c, 3, stride=stride))
        y = tf.nn.relu6(conv(y, c, 1, out))
    y = tf.reduce_mean(y, axis=[1, 2])
    return tf.nn.softmax(dense(y, c, 2))


def _add(x: Any, c: Consts) -> Any:
    return tf.nn.relu(conv(x, c, 1, 7) + conv(x, c, 3, 7))


@dataclass(frozen=True)
class ShapeModel:
    name: str
    shape: tuple[int, ...]
    body: Body


MODELS: tuple[ShapeModel, ...] = (
    ShapeModel("kws_dw_m8_c1", (1, 49, 40, 1), _kws_dw_m8),
    ShapeModel("mobilenet_stem_96x96x1", (1, 96, 96, 1), _mobilenet_stem),
    # DEPTHWISE_CONV_2D
    ShapeModel("dw3x3_m8_c1_s2", (1, 49, 40, 1), lambda x, c: depthwise(x, c, 3, 8, 2)),
    ShapeModel("dw3x3_m2_c3", (1, 24, 24, 3), lambda x, c: depthwise(x, c, 3, 2)),
    ShapeModel("dw3x3_m2_c8_s2", (1, 24, 24, 8), lambda x, c: depthwise(x, c, 3, 2, 2)),
    ShapeModel("dw3x3_m1_c7_s2", (1, 24, 24, 7), lambda x, c: depthwise(x, c, 3, 1, 2)),
    ShapeModel("dw3x3_m1_c13", (1, 20, 20, 13), lambda x, c: depthwise(x, c, 3)),
    ShapeModel("dw3x3_m1_c32", (1, 20, 20, 32), lambda x, c: depthwise(x, c, 3)),
    ShapeModel("dw3x3_m1_c5_dil2", (1, 20, 20, 5),
               lambda x, c: depthwise(x, c, 3, dilation=2)),
    ShapeModel("dw5x5_m1_c16", (1, 16, 16, 16), lambda x, c: depthwise(x, c, 5)),
    ShapeModel("dw5x5_m1_c3", (1, 20, 20, 3), lambda x, c: depthwise(x, c, 5)),
    ShapeModel("dw3x3_m1_c1", (1, 32, 32, 1), lambda x, c: depthwise(x, c, 3)),
    # CONV_2D
    ShapeModel("conv3x3_c1_s2", (1, 49, 40, 1), lambda x, c: conv(x, c, 3, 8, 2)),
    ShapeModel("conv10x4_c1_s2", (1, 49, 10, 1), lambda x, c: conv(x, c, (10, 4), 64, 2)),
    ShapeModel("conv3x3_c3_s2", (1, 32, 32, 3), lambda x, c: conv(x, c, 3, 8, 2)),
    ShapeModel("conv5x5_c7", (1, 16, 16, 7), lambda x, c: conv(x, c, 5, 5)),
    ShapeModel("conv3x3_c5_dil2", (1, 18, 18, 5), lambda x, c: conv(x, c, 3, 7, dilation=2)),
    ShapeModel("conv1x1_c5_13", (1, 16, 16, 5), lambda x, c: conv(x, c, 1, 13)),
    ShapeModel("conv1x1_c13_s2", (1, 16, 16, 13), lambda x, c: conv(x, c, 1, 7, 2)),
    ShapeModel("conv1x1_c32_64", (1, 12, 12, 32), lambda x, c: conv(x, c, 1, 64)),
    ShapeModel("conv3x3_c16_16", (1, 12, 12, 16), lambda x, c: conv(x, c, 3, 16)),
    # FULLY_CONNECTED
    ShapeModel("fc_1024x256", (1, 1024), lambda x, c: dense(x, c, 256)),
    ShapeModel("fc_4000x10", (1, 4000), lambda x, c: dense(x, c, 10)),
    ShapeModel("fc_13x7", (1, 13), lambda x, c: dense(x, c, 7)),
    ShapeModel("fc_250x3", (1, 250), lambda x, c: dense(x, c, 3)),
    # pools, ADD
    ShapeModel("avgpool2x2_c7", (1, 24, 24, 7),
               lambda x, c: tf.nn.avg_pool2d(conv(x, c, 1, 7), 2, 2, "VALID")),
    ShapeModel("maxpool3x3_s2_c13", (1, 23, 23, 13),
               lambda x, c: tf.nn.max_pool2d(conv(x, c, 1, 13), 3, 2, "SAME")),
    ShapeModel("add_c7", (1, 16, 16, 5), _add),
)


def convert(model: ShapeModel, seed: int) -> bytes:
    consts = Consts(seed)
    converter = function_converter(lambda x: model.body(x, consts), model.shape)
    return quantize_int8(converter, model.shape, CALIBRATION_SAMPLES,
                         np.random.default_rng(seed + 1))


def main(argv: list[str] | None = None) -> int:
    parser = maker_arguments(__doc__ or "", ROOT)
    args = parser.parse_args(argv)
    differ = 0
    for model in MODELS:
        if args.only and model.name not in args.only:
            continue
        tf.keras.utils.set_random_seed(name_seed(SEED, model.name))
        data = convert(model, name_seed(SEED, model.name))
        differ += write_or_check(args.out / OUT / f"{model.name}.tflite", data, args.check)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
