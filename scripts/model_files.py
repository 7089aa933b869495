"""What the model-making scripts share: the command line, writing or checking a file, seeds,
seeded layers, tracing and int8 quantization."""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np


def write_or_check(target: Path, data: bytes, check: bool) -> bool:
    """Write ``data`` to ``target`` (or, with ``check``, compare); True if the file differs."""
    digest = hashlib.sha256(data).hexdigest()
    if check:
        same = target.is_file() and target.read_bytes() == data
        print(f"{'same' if same else 'DIFFERS'}  {digest}  {target.name}")
        return not same
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    print(f"{len(data):7d} B  {digest}  {target.name}")
    return False


def import_tensorflow() -> Any:
    """TensorFlow, configured for reproducible conversions: quiet logs, and no oneDNN, whose
    float rounding varies by CPU and would change calibration ranges (and so the bytes) from one
    machine to another. Exits with the install hint when TensorFlow is missing."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    try:
        import tensorflow as tf
    except ImportError:  # pragma: no cover - depends on the environment
        sys.exit("error: TensorFlow is needed: pip install 'tinygen[quantize]' (or "
                 "tensorflow-cpu)")
    return tf


class Consts:
    """Seeded constants (weights, biases) for a model traced with TensorFlow, drawn in order."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def kernel(self, shape: tuple[int, ...], fan_in: int) -> Any:
        w = self.rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
        return import_tensorflow().constant(w.astype(np.float32))

    def bias(self, n: int) -> Any:
        b = self.rng.standard_normal(n) * 0.1
        return import_tensorflow().constant(b.astype(np.float32))

    def uniform(self, shape: tuple[int, ...], low: float, high: float) -> Any:
        return import_tensorflow().constant(self.rng.uniform(low, high, shape).astype(np.float32))


def maker_arguments(doc: str, root: Path) -> argparse.ArgumentParser:
    """The command line every model maker takes: --check, --only NAME..., --out ROOT."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if a file differs from what would be made")
    parser.add_argument("--only", nargs="+", help="make only these models")
    parser.add_argument("--out", type=Path, default=root, help="root to write under")
    return parser


def quantize_int8(converter: Any, shape: tuple[int, ...], samples: int,
                  rng: np.random.Generator, *, std: float = 1.0, io: str | None = "int8",
                  per_tensor_dense: bool = False) -> bytes:
    """Full-integer post-training quantization, as users run it: ``samples`` seeded normal
    calibration inputs of ``shape`` (times ``std``), int8 builtins, I/O of type ``io`` ("int8",
    "float32", or None for the converter's default)."""
    tf = import_tensorflow()

    def representative() -> Iterator[list[np.ndarray]]:
        for _ in range(samples):
            yield [(rng.standard_normal(shape) * std).astype(np.float32)]

    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if per_tensor_dense:
        converter._experimental_disable_per_channel_quantization_for_dense_layers = True
    if io is not None:
        converter.inference_input_type = getattr(tf, io)
        converter.inference_output_type = getattr(tf, io)
    return bytes(converter.convert())


def name_seed(base: int, name: str) -> int:
    """A model's seed from its name alone, so adding or reordering models changes no other."""
    return base + zlib.crc32(name.encode()) % 1_000_000


def function_converter(body: Callable[[Any], Any], shape: tuple[int, ...]) -> Any:
    """TensorFlow's converter for ``body`` traced on one float32 input of ``shape``."""
    tf = import_tensorflow()
    fn = tf.function(body, input_signature=[tf.TensorSpec(shape, tf.float32)])
    return tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function()])


# Layers as the makers write them: seeded weights from ``c`` in call order, fan-in scaled.
def conv(x: Any, c: Consts, k: int | tuple[int, int], out: int,
         stride: int | tuple[int, int] = 1, *, padding: str = "SAME", dilation: int = 1) -> Any:
    tf = import_tensorflow()
    kh, kw = (k, k) if isinstance(k, int) else k
    cin = int(x.shape[-1])
    w = c.kernel((kh, kw, cin, out), kh * kw * cin)
    return tf.nn.conv2d(x, w, strides=stride, padding=padding, dilations=dilation) + c.bias(out)


def depthwise(x: Any, c: Consts, k: int | tuple[int, int], multiplier: int = 1,
              stride: int = 1, *, padding: str = "SAME", dilation: int = 1) -> Any:
    tf = import_tensorflow()
    kh, kw = (k, k) if isinstance(k, int) else k
    cin = int(x.shape[-1])
    w = c.kernel((kh, kw, cin, multiplier), kh * kw)
    y = tf.nn.depthwise_conv2d(x, w, strides=[1, stride, stride, 1], padding=padding,
                               dilations=[dilation, dilation])
    return y + c.bias(cin * multiplier)


def dense(x: Any, c: Consts, units: int) -> Any:
    depth = int(x.shape[-1])
    return import_tensorflow().matmul(x, c.kernel((depth, units), depth)) + c.bias(units)
