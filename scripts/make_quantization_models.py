"""Make the models of each quantization class in tests/data/quantization/ (needs TensorFlow).

Each is converted the way users convert (TFLiteConverter from a concrete function):
- int16x8_*: 16x8 quantization (EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8,
  int16 I/O): int16 activations, int8 weights, int64 biases.
- layernorm_island: full-integer int8 with a LayerNorm left in float by TensorFlow's selective
  quantization (QuantizationDebugger with the LayerNorm's operators denylisted): DEQUANTIZE,
  MEAN, SQUARED_DIFFERENCE, RSQRT, SUB, MUL, ADD in float, then QUANTIZE.
- hybrid_dense: dynamic-range quantization (Optimize.DEFAULT without a representative
  dataset): int8 weights, float activations.

    python3 scripts/make_quantization_models.py [--check] [--only NAME ...]
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
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
    write_or_check,
)

tf = import_tensorflow()

ROOT = Path(__file__).resolve().parents[1]
OUT = Path("tests/data/quantization")
SEED = 20261205
CALIBRATION_SAMPLES = 32
_LAYERNORM_OPS = ["MEAN", "SQUARED_DIFFERENCE", "RSQRT", "SUB", "MUL", "ADD"]



def dense(x: Any, c: Consts, units: int) -> Any:
    depth = int(x.shape[-1])
    return tf.matmul(x, c.kernel((depth, units), depth)) + c.bias(units)


def conv(x: Any, c: Consts, k: int, out: int, stride: int = 1) -> Any:
    cin = int(x.shape[-1])
    w = c.kernel((k, k, cin, out), k * k * cin)
    return tf.nn.conv2d(x, w, strides=stride, padding="SAME") + c.bias(out)


def layer_norm(x: Any, c: Consts) -> Any:
    """LayerNormalization over the last axis, written out as Keras computes it."""
    mean = tf.reduce_mean(x, axis=-1, keepdims=True)
    var = tf.reduce_mean(tf.math.squared_difference(x, mean), axis=-1, keepdims=True)
    width = int(x.shape[-1])
    gamma = tf.constant((1.0 + c.rng.standard_normal(width) * 0.1).astype(np.float32))
    return (x - mean) * tf.math.rsqrt(var + 1e-3) * gamma + c.bias(width)


@dataclass(frozen=True)
class QuantModel:
    name: str
    shape: tuple[int, ...]
    body: Callable[[Any, Consts], Any]
    scheme: str  # "int16x8" | "island" | "hybrid"


MODELS: tuple[QuantModel, ...] = (
    QuantModel("int16x8_conv", (1, 10, 10, 3), lambda x, c: dense(tf.reshape(
        tf.nn.max_pool2d(tf.nn.relu(conv(x, c, 3, 8, stride=2)), 2, 2, "VALID"), [1, 32]), c,
        10), "int16x8"),
    QuantModel("int16x8_dense_softmax", (1, 32), lambda x, c: tf.nn.softmax(dense(
        tf.nn.relu(dense(x, c, 24)), c, 6)), "int16x8"),
    QuantModel("layernorm_island", (1, 24), lambda x, c: dense(
        layer_norm(tf.nn.relu(dense(x, c, 32)), c), c, 8), "island"),
    QuantModel("hybrid_dense", (1, 40), lambda x, c: dense(tf.nn.relu(dense(x, c, 32)), c, 5),
               "hybrid"),
)


def convert(model: QuantModel, seed: int) -> bytes:
    consts = Consts(seed)
    converter = function_converter(lambda x: model.body(x, consts), model.shape)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if model.scheme == "hybrid":
        return bytes(converter.convert())

    def representative() -> Iterator[list[np.ndarray]]:
        rng = np.random.default_rng(seed + 1)
        for _ in range(CALIBRATION_SAMPLES):
            yield [rng.standard_normal(model.shape).astype(np.float32)]

    converter.representative_dataset = representative
    if model.scheme == "int16x8":
        # CMSIS-NN's int16 FULLY_CONNECTED takes per-tensor weights only (TFLM's reference
        # kernel takes both); the converter makes dense layers per-channel unless told.
        converter._experimental_disable_per_channel_quantization_for_dense_layers = True
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
        converter.inference_input_type = tf.int16
        converter.inference_output_type = tf.int16
        return bytes(converter.convert())
    # Selective quantization, as TensorFlow's guide does it: the debugger converts with the
    # denylisted operators left in float, DEQUANTIZE/QUANTIZE around them.
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8,
                                           tf.lite.OpsSet.TFLITE_BUILTINS]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    options = tf.lite.experimental.QuantizationDebugOptions(
        denylisted_ops=_LAYERNORM_OPS, fully_quantize=True)
    debugger = tf.lite.experimental.QuantizationDebugger(
        converter=converter, debug_dataset=representative, debug_options=options)
    return bytes(debugger.get_nondebug_quantized_model())


def main(argv: list[str] | None = None) -> int:
    parser = maker_arguments(__doc__ or "", ROOT)
    args = parser.parse_args(argv)
    tf.keras.utils.set_random_seed(SEED)
    differ = 0
    for model in MODELS:
        if args.only and model.name not in args.only:
            continue
        data = convert(model, name_seed(SEED, model.name))
        differ += write_or_check(args.out / OUT / f"{model.name}.tflite", data, args.check)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
