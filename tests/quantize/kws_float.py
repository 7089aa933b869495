"""A float Keras DS-CNN rebuilt from the MLPerf Tiny KWS ``kws_ref_model_float32.tflite``.

That file is dynamic-range quantized (int8 CONV_2D weights, float computation), so it cannot be
quantized again; its source (a SavedModel from mlcommons/tiny's keyword_spotting training) is
not in ../shared. Its weights are though: dequantized, they make a trained float Keras model,
a stand-in for the source, for the tests and the worked example of docs/quantize.md.

    python tests/quantize/kws_float.py OUT.keras   (needs TensorFlow)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

from tinygen.tflm.ops import builtin_name

REPO = Path(__file__).resolve().parents[2]
KWS_FLOAT = REPO / ".." / "shared" / "mlperf-tiny" / "models" / "kws_ref_model_float32.tflite"
_INT8 = schema.TensorType.INT8
_SAME = schema.Padding.SAME
_RELU = schema.ActivationFunctionType.RELU


def _weights(model: Any, tensor: Any) -> np.ndarray[Any, Any]:
    """A constant tensor as float32, dequantizing int8 weights (per tensor or per channel)."""
    raw = model.buffers[tensor.buffer].data
    data = np.asarray(raw, dtype=np.uint8).tobytes()
    shape = tuple(int(d) for d in tensor.shape)
    if tensor.type == _INT8:
        q = np.frombuffer(data, dtype=np.int8).reshape(shape).astype(np.float32)
        scale = np.asarray(tensor.quantization.scale, dtype=np.float32)
        axis = int(tensor.quantization.quantizedDimension)
        if scale.size > 1:
            scale = scale.reshape([-1 if i == axis else 1 for i in range(len(shape))])
        return q * scale
    return np.frombuffer(data, dtype="<f4").reshape(shape).copy()


def rebuild_kws(path: Path = KWS_FLOAT) -> Any:
    """The Keras model (TensorFlow backend) computing what ``path``'s operators compute."""
    import keras  # type: ignore[import-not-found, unused-ignore]  # with TensorFlow

    model = schema.ModelT.InitFromPackedBuf(bytearray(path.read_bytes()), 0)
    graph = model.subgraphs[0]
    x = inputs = keras.Input(tuple(int(d) for d in graph.tensors[graph.inputs[0]].shape[1:]))
    for op in graph.operators:
        code = model.operatorCodes[op.opcodeIndex]
        name = builtin_name(max(code.builtinCode, code.deprecatedBuiltinCode))
        opts = op.builtinOptions
        params = [_weights(model, graph.tensors[i]) for i in op.inputs[1:] if i >= 0]
        if name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            padding = "same" if opts.padding == _SAME else "valid"
            activation = "relu" if opts.fusedActivationFunction == _RELU else None
            w, b = params
            if name == "CONV_2D":  # TFLite [out, kh, kw, in] -> Keras [kh, kw, in, out]
                layer = keras.layers.Conv2D(
                    w.shape[0], w.shape[1:3], strides=(opts.strideH, opts.strideW),
                    padding=padding, activation=activation)
                kernel = w.transpose(1, 2, 3, 0)
            else:  # TFLite [1, kh, kw, channels] -> Keras [kh, kw, channels, 1]
                layer = keras.layers.DepthwiseConv2D(
                    w.shape[1:3], strides=(opts.strideH, opts.strideW), padding=padding,
                    activation=activation)
                kernel = w[0][..., None]
            x = layer(x)
            layer.set_weights([kernel, b])
        elif name == "AVERAGE_POOL_2D":
            x = keras.layers.AveragePooling2D(
                (opts.filterHeight, opts.filterWidth), strides=(opts.strideH, opts.strideW),
                padding="same" if opts.padding == _SAME else "valid")(x)
        elif name == "RESHAPE":
            x = keras.layers.Flatten()(x)
        elif name == "FULLY_CONNECTED":  # TFLite [units, depth] -> Keras [depth, units]
            w, b = params
            layer = keras.layers.Dense(w.shape[0])
            x = layer(x)
            layer.set_weights([w.T, b])
        elif name == "SOFTMAX":
            x = keras.layers.Softmax()(x)
        else:
            raise ValueError(f"{path}: no Keras layer for {name}")
    return keras.Model(inputs, x)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: python {sys.argv[0]} OUT.keras")
    rebuild_kws().save(sys.argv[1])
    print(sys.argv[1])
