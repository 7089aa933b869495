"""Make the small seeded models in models/ and tests/data/ (needs TensorFlow: .[quantize])."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from model_files import import_tensorflow, write_or_check

tf = import_tensorflow()


ROOT = Path(__file__).resolve().parents[1]
SEED = 20240601
CALIBRATION_SAMPLES = 64

Array = np.ndarray[Any, np.dtype[np.float32]]


class _Weights:
    """Seeded He-initialised constants, so that every run makes the same model."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def kernel(self, shape: tuple[int, ...], fan_in: int) -> tf.Variable:
        w = self.rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
        return tf.Variable(w.astype(np.float32))

    def bias(self, n: int) -> tf.Variable:
        return tf.Variable((self.rng.standard_normal(n) * 0.05).astype(np.float32))


def _conv(x: Any, w: tf.Variable, b: tf.Variable, stride: int = 1) -> Any:
    return tf.nn.relu(tf.nn.conv2d(x, w, strides=stride, padding="SAME") + b)


def _depthwise(x: Any, w: tf.Variable, b: tf.Variable) -> Any:
    return tf.nn.relu(
        tf.nn.depthwise_conv2d(x, w, strides=[1, 1, 1, 1], padding="SAME") + b)


class KwsTiny(tf.Module):
    """DS-CNN-like keyword spotter with the kws01 signature: [1,49,10,1] -> 12 classes."""

    channels = 48
    blocks = 4

    def __init__(self, w: _Weights) -> None:
        super().__init__()
        c = self.channels
        self.conv_w, self.conv_b = w.kernel((10, 4, 1, c), 40), w.bias(c)
        self.dw = [(w.kernel((3, 3, c, 1), 9), w.bias(c)) for _ in range(self.blocks)]
        self.pw = [(w.kernel((1, 1, c, c), c), w.bias(c)) for _ in range(self.blocks)]
        self.fc_w, self.fc_b = w.kernel((c, 12), c), w.bias(12)

    @tf.function(input_signature=[tf.TensorSpec([1, 49, 10, 1], tf.float32)])
    def __call__(self, x: Any) -> Any:
        x = _conv(x, self.conv_w, self.conv_b, stride=2)  # -> [1, 25, 5, c]
        for (dw_w, dw_b), (pw_w, pw_b) in zip(self.dw, self.pw, strict=True):
            x = _conv(_depthwise(x, dw_w, dw_b), pw_w, pw_b)
        x = tf.nn.avg_pool2d(x, ksize=(25, 5), strides=1, padding="VALID")
        x = tf.reshape(x, [1, self.channels])
        return tf.nn.softmax(tf.matmul(x, self.fc_w) + self.fc_b)


class IcTiny(tf.Module):
    """Tiny residual CNN with the ic01 signature: [1,32,32,3] -> 10 classes."""

    def __init__(self, w: _Weights) -> None:
        super().__init__()
        self.c1_w, self.c1_b = w.kernel((3, 3, 3, 16), 27), w.bias(16)
        self.dw_w, self.dw_b = w.kernel((3, 3, 16, 1), 9), w.bias(16)
        self.pw_w, self.pw_b = w.kernel((1, 1, 16, 16), 16), w.bias(16)
        self.c2_w, self.c2_b = w.kernel((3, 3, 16, 32), 144), w.bias(32)
        self.fc_w, self.fc_b = w.kernel((32, 10), 32), w.bias(10)

    @tf.function(input_signature=[tf.TensorSpec([1, 32, 32, 3], tf.float32)])
    def __call__(self, x: Any) -> Any:
        x = _conv(x, self.c1_w, self.c1_b, stride=2)  # -> [1, 16, 16, 16]
        y = _depthwise(x, self.dw_w, self.dw_b)
        y = tf.nn.conv2d(y, self.pw_w, strides=1, padding="SAME") + self.pw_b
        x = tf.nn.relu(x + y)  # the residual ADD
        x = _conv(x, self.c2_w, self.c2_b, stride=2)  # -> [1, 8, 8, 32]
        x = tf.nn.avg_pool2d(x, ksize=8, strides=8, padding="VALID")
        x = tf.reshape(x, [1, 32])
        return tf.nn.softmax(tf.matmul(x, self.fc_w) + self.fc_b)


class AdTiny(tf.Module):
    """Fully connected autoencoder with the ad01 signature: [1,640] -> [1,640]."""

    sizes = (640, 32, 8, 32, 640)

    def __init__(self, w: _Weights) -> None:
        super().__init__()
        self.layers = [(w.kernel((a, b), a), w.bias(b))
                       for a, b in zip(self.sizes, self.sizes[1:], strict=False)]

    @tf.function(input_signature=[tf.TensorSpec([1, 640], tf.float32)])
    def __call__(self, x: Any) -> Any:
        for i, (k, b) in enumerate(self.layers):
            x = tf.matmul(x, k) + b
            if i < len(self.layers) - 1:
                x = tf.nn.relu(x)
        return x


class SmallDense(tf.Module):
    """[1,16] -> [1,4] through two fully connected layers: the float and float-I/O tests."""

    def __init__(self, w: _Weights) -> None:
        super().__init__()
        self.w1, self.b1 = w.kernel((16, 8), 16), w.bias(8)
        self.w2, self.b2 = w.kernel((8, 4), 8), w.bias(4)

    @tf.function(input_signature=[tf.TensorSpec([1, 16], tf.float32)])
    def __call__(self, x: Any) -> Any:
        return tf.matmul(tf.nn.relu(tf.matmul(x, self.w1) + self.b1), self.w2) + self.b2


class TwoInputs(tf.Module):
    """Two [1,8] inputs concatenated into one fully connected layer."""

    def __init__(self, w: _Weights) -> None:
        super().__init__()
        self.w, self.b = w.kernel((16, 4), 16), w.bias(4)

    @tf.function(input_signature=[tf.TensorSpec([1, 8], tf.float32, name="a"),
                                  tf.TensorSpec([1, 8], tf.float32, name="b")])
    def __call__(self, a: Any, b: Any) -> Any:
        return tf.matmul(tf.concat([a, b], axis=1), self.w) + self.b


@dataclass(frozen=True)
class Recipe:
    path: str
    build: Callable[[_Weights], tf.Module]
    input_scale: float  # standard deviation of the calibration data
    quantize: bool = True
    int8_io: bool = True


RECIPES = (
    Recipe("models/kws_tiny.tflite", KwsTiny, 8.0),
    Recipe("models/ic_tiny.tflite", IcTiny, 1.0),
    Recipe("models/ad_tiny.tflite", AdTiny, 1.0),
    Recipe("tests/data/float_model.tflite", SmallDense, 1.0, quantize=False),
    Recipe("tests/data/int8_float_io.tflite", SmallDense, 1.0, int8_io=False),
    Recipe("tests/data/two_inputs.tflite", TwoInputs, 1.0),
)


def convert(recipe: Recipe, seed: int) -> bytes:
    """Build the recipe's model from ``seed`` and convert it to .tflite bytes."""
    module = recipe.build(_Weights(seed))
    fn = module.__call__.get_concrete_function()
    converter = tf.lite.TFLiteConverter.from_concrete_functions([fn], module)
    if recipe.quantize:
        specs = fn.structured_input_signature[0]
        rng = np.random.default_rng(seed + 1)

        def representative() -> Iterator[list[Array]]:
            for _ in range(CALIBRATION_SAMPLES):
                yield [(rng.standard_normal(s.shape) * recipe.input_scale).astype(np.float32)
                       for s in specs]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        if recipe.int8_io:
            converter.inference_input_type = tf.int8
            converter.inference_output_type = tf.int8
    return bytes(converter.convert())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if a file differs from what would be made")
    parser.add_argument("--out", type=Path, default=ROOT, help="root to write under")
    args = parser.parse_args(argv)
    tf.keras.utils.set_random_seed(SEED)  # conversion itself draws no random numbers; belt only
    differ = 0
    for i, recipe in enumerate(RECIPES):
        data = convert(recipe, SEED + 100 * i)
        differ += write_or_check(args.out / recipe.path, data, args.check)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
