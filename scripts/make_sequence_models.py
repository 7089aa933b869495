"""Make the full-integer sequence models in tests/data/sequence/ (needs TensorFlow and tf_keras).

- lstm_*: a Keras LSTM layer converted as users convert it (TFLiteConverter, a representative
  dataset, TFLITE_BUILTINS_INT8, int8 I/O): one fused UNIDIRECTIONAL_SEQUENCE_LSTM with int8
  weights and activations and an int16 cell state. Keras 3 LSTMs are not fused by the converter
  (it keeps a WHILE loop and resource variables), so the layer comes from tf_keras, the Keras 2
  that TensorFlow still ships for this (pip install tf-keras).
- svdf_*: SVDF layers as TFLM's keyword examples ship them (int8 input, weights_feature and
  output, int16 weights_time and activation state, int32 bias). No TensorFlow op converts to
  SVDF, so the flatbuffer is written with the schema's object API, quantized from a float
  reference of the layer run over a seeded calibration set, the way the converter quantizes.

    python3 scripts/make_sequence_models.py [--check] [--only NAME ...]
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flatbuffers
import numpy as np
from model_files import (
    import_tensorflow,
    maker_arguments,
    name_seed,
    quantize_int8,
    write_or_check,
)
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

tf = import_tensorflow()

ROOT = Path(__file__).resolve().parents[1]
OUT = Path("tests/data/sequence")
SEED = 20261204
CALIBRATION_SAMPLES = 32


# --- LSTM: Keras (tf_keras) layers through the TFLite converter -------------------------------

@dataclass(frozen=True)
class KerasModel:
    name: str
    shape: tuple[int, ...]  # with the batch of 1
    layers: Callable[[Any], list[Any]]


def _tf_keras() -> Any:
    try:
        import tf_keras
    except ImportError:  # pragma: no cover - depends on the environment
        sys.exit("error: the LSTM models need tf_keras (pip install -e '.[models]'): Keras 3 LSTMs "
                 "do not convert to UNIDIRECTIONAL_SEQUENCE_LSTM")
    return tf_keras


KERAS_MODELS: tuple[KerasModel, ...] = (
    # A keyword-spotting shape: 49 frames of 10 MFCCs, one LSTM, a classifier.
    KerasModel("lstm_kws", (1, 49, 10), lambda k: [
        k.layers.LSTM(24), k.layers.Dense(12)]),
    # Two stacked layers: the first returns its whole sequence, the second its last state.
    KerasModel("lstm_stacked", (1, 12, 6), lambda k: [
        k.layers.LSTM(16, return_sequences=True), k.layers.LSTM(8), k.layers.Dense(4)]),
)


def convert_keras(spec: KerasModel, seed: int) -> bytes:
    keras = _tf_keras()
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(spec.shape[1:], batch_size=spec.shape[0])
    x = inputs
    for layer in spec.layers(keras):
        x = layer(x)
    model = keras.Model(inputs, x)
    # TFLM's mnist_lstm example converts this way: a concrete function with a fixed batch.
    run = tf.function(lambda t: model(t))
    concrete = run.get_concrete_function(tf.TensorSpec(spec.shape, tf.float32))
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], model)
    return quantize_int8(converter, spec.shape, CALIBRATION_SAMPLES,
                         np.random.default_rng(seed + 1))


# --- SVDF: the flatbuffer written directly, quantized like the converter quantizes -------------

@dataclass(frozen=True)
class Svdf:
    units: int
    rank: int
    memory: int


@dataclass(frozen=True)
class Dense:
    units: int
    relu: bool = False


@dataclass(frozen=True)
class SvdfModel:
    name: str
    inputs: int
    layers: tuple[Svdf | Dense, ...]
    steps: int = 16  # calibration sequence length: the state fills over several steps


SVDF_MODELS: tuple[SvdfModel, ...] = (
    # Rank-1 and rank-2 SVDF with a dense layer between, as in TFLM's keyword examples.
    SvdfModel("svdf_kws", 40, (Svdf(32, 1, 8), Dense(24, relu=True), Svdf(12, 2, 4))),
)


@dataclass
class _FloatLayer:
    spec: Svdf | Dense
    weights: np.ndarray  # Svdf: weights_feature [filters, inputs]; Dense: [units, inputs]
    bias: np.ndarray
    weights_time: np.ndarray | None = None  # Svdf: [filters, memory]


def _float_layers(spec: SvdfModel, rng: np.random.Generator) -> list[_FloatLayer]:
    layers = []
    width = spec.inputs
    for layer in spec.layers:
        if isinstance(layer, Svdf):
            filters = layer.units * layer.rank
            wf = rng.standard_normal((filters, width)) * np.sqrt(1.0 / width)
            wt = rng.standard_normal((filters, layer.memory)) * np.sqrt(1.0 / layer.memory)
            layers.append(_FloatLayer(layer, wf, rng.standard_normal(layer.units) * 0.1, wt))
        else:
            w = rng.standard_normal((layer.units, width)) * np.sqrt(2.0 / width)
            layers.append(_FloatLayer(layer, w, rng.standard_normal(layer.units) * 0.1))
        width = layer.units
    return layers


def _run_float(layers: list[_FloatLayer], sequence: np.ndarray,
               record: Callable[[int, str, np.ndarray], None]) -> None:
    """TFLite's SVDF semantics (svdf_common.cc) in float64, from a zero state; ``record`` sees
    every activation and state value, for calibration."""
    states = [np.zeros((lay.weights.shape[0], lay.weights_time.shape[1]))
              if lay.weights_time is not None else None for lay in layers]
    for x in sequence:
        record(-1, "act", x)
        for i, lay in enumerate(layers):
            if lay.weights_time is not None and isinstance(lay.spec, Svdf):
                state = states[i]
                assert state is not None
                state[:, :-1] = state[:, 1:].copy()
                state[:, -1] = lay.weights @ x
                record(i, "state", state[:, -1])
                per_filter = (state * lay.weights_time).sum(axis=1)
                x = per_filter.reshape(lay.spec.units, lay.spec.rank).sum(axis=1) + lay.bias
            else:
                x = lay.weights @ x + lay.bias
                if isinstance(lay.spec, Dense) and lay.spec.relu:
                    x = np.maximum(x, 0.0)
            record(i, "act", x)


def _asymmetric(lo: float, hi: float) -> tuple[float, int]:
    """int8 scale and zero point covering [lo, hi] (widened to hold 0), as the converter does."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = (hi - lo) / 255.0 or 1.0
    zero = int(np.clip(round(-128 - lo / scale), -128, 127))
    return scale, zero


def _symmetric(values: np.ndarray, bits: int) -> tuple[np.ndarray, float]:
    top = (1 << (bits - 1)) - 1
    scale = float(np.abs(values).max()) / top or 1.0
    return np.clip(np.round(values / scale), -top, top), scale


class _Graph:
    """A one-subgraph TFLite model under construction (schema object API)."""

    def __init__(self) -> None:
        self.model = schema.ModelT()
        self.model.version = 3
        self.model.description = "tinygen scripts/make_sequence_models.py"
        self.model.buffers = [schema.BufferT()]
        self.model.operatorCodes = []
        self.sg = schema.SubGraphT()
        self.sg.name = "main"
        self.sg.tensors, self.sg.operators = [], []
        self.model.subgraphs = [self.sg]

    def tensor(self, name: str, shape: tuple[int, ...], dtype: int, scale: float,
               zero: int, data: np.ndarray | None = None, variable: bool = False) -> int:
        t = schema.TensorT()
        t.name, t.shape, t.type, t.isVariable = name, list(shape), dtype, variable
        q = schema.QuantizationParametersT()
        q.scale, q.zeroPoint = [float(scale)], [int(zero)]
        t.quantization = q
        t.buffer = 0
        if data is not None:
            buf = schema.BufferT()
            buf.data = np.frombuffer(data.tobytes(), dtype=np.uint8)
            self.model.buffers.append(buf)
            t.buffer = len(self.model.buffers) - 1
        self.sg.tensors.append(t)
        return len(self.sg.tensors) - 1

    def opcode(self, builtin: int) -> int:
        for i, code in enumerate(self.model.operatorCodes):
            if code.builtinCode == builtin:
                return i
        code = schema.OperatorCodeT()
        code.builtinCode, code.deprecatedBuiltinCode, code.version = builtin, builtin, 1
        self.model.operatorCodes.append(code)
        return len(self.model.operatorCodes) - 1

    def op(self, builtin: int, inputs: list[int], outputs: list[int], options_type: int,
           options: Any) -> None:
        op = schema.OperatorT()
        op.opcodeIndex = self.opcode(builtin)
        op.inputs, op.outputs = inputs, outputs
        op.builtinOptionsType, op.builtinOptions = options_type, options
        self.sg.operators.append(op)

    def finish(self, inputs: list[int], outputs: list[int]) -> bytes:
        self.sg.inputs, self.sg.outputs = inputs, outputs
        builder = flatbuffers.Builder(4096)
        builder.Finish(self.model.Pack(builder), file_identifier=b"TFL3")
        return bytes(builder.Output())


def convert_svdf(spec: SvdfModel, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    layers = _float_layers(spec, rng)
    ranges: dict[tuple[int, str], tuple[float, float]] = {}

    def record(i: int, kind: str, v: np.ndarray) -> None:
        lo, hi = ranges.get((i, kind), (0.0, 0.0))
        ranges[(i, kind)] = (min(lo, float(v.min())), max(hi, float(v.max())))

    for _ in range(CALIBRATION_SAMPLES):
        _run_float(layers, rng.standard_normal((spec.steps, spec.inputs)), record)

    g = _Graph()
    T = schema.TensorType
    scale, zero = _asymmetric(*ranges[(-1, "act")])
    x = g.tensor("input", (1, spec.inputs), T.INT8, scale, zero)
    graph_input = x
    for i, lay in enumerate(layers):
        out_scale, out_zero = _asymmetric(*ranges[(i, "act")])
        if isinstance(lay.spec, Svdf):
            assert lay.weights_time is not None
            wf, wf_scale = _symmetric(lay.weights, 8)
            wt, wt_scale = _symmetric(lay.weights_time, 16)
            lo, hi = ranges[(i, "state")]
            state_scale = max(-lo, hi) / 32767.0 or 1.0
            bias_scale = state_scale * wt_scale
            bias = np.round(lay.bias / bias_scale).astype(np.int32)
            filters, memory = lay.weights_time.shape
            inputs = [
                x,
                g.tensor(f"svdf{i}/weights_feature", wf.shape, T.INT8, wf_scale, 0,
                         wf.astype(np.int8)),
                g.tensor(f"svdf{i}/weights_time", wt.shape, T.INT16, wt_scale, 0,
                         wt.astype(np.int16)),
                g.tensor(f"svdf{i}/bias", bias.shape, T.INT32, bias_scale, 0, bias),
                g.tensor(f"svdf{i}/activation_state", (1, filters * memory), T.INT16,
                         state_scale, 0, variable=True),
            ]
            x = g.tensor(f"svdf{i}/output", (1, lay.spec.units), T.INT8, out_scale, out_zero)
            options = schema.SVDFOptionsT()
            options.rank = lay.spec.rank
            options.fusedActivationFunction = schema.ActivationFunctionType.NONE
            g.op(schema.BuiltinOperator.SVDF, inputs, [x], schema.BuiltinOptions.SVDFOptions,
                 options)
        else:
            in_scale = g.sg.tensors[x].quantization.scale[0]
            w, w_scale = _symmetric(lay.weights, 8)
            bias = np.round(lay.bias / (in_scale * w_scale)).astype(np.int32)
            inputs = [
                x,
                g.tensor(f"dense{i}/weights", w.shape, T.INT8, w_scale, 0, w.astype(np.int8)),
                g.tensor(f"dense{i}/bias", bias.shape, T.INT32, in_scale * w_scale, 0, bias),
            ]
            x = g.tensor(f"dense{i}/output", (1, lay.spec.units), T.INT8, out_scale, out_zero)
            fc = schema.FullyConnectedOptionsT()
            fc.fusedActivationFunction = (schema.ActivationFunctionType.RELU
                                          if isinstance(lay.spec, Dense) and lay.spec.relu
                                          else schema.ActivationFunctionType.NONE)
            g.op(schema.BuiltinOperator.FULLY_CONNECTED, inputs, [x],
                 schema.BuiltinOptions.FullyConnectedOptions, fc)
    return g.finish([graph_input], [x])


def main(argv: list[str] | None = None) -> int:
    parser = maker_arguments(__doc__ or "", ROOT)
    args = parser.parse_args(argv)
    makers: list[tuple[str, Callable[[int], bytes]]] = [
        *((m.name, lambda seed, m=m: convert_keras(m, seed)) for m in KERAS_MODELS),
        *((m.name, lambda seed, m=m: convert_svdf(m, seed)) for m in SVDF_MODELS),
    ]
    differ = 0
    for name, make in makers:
        if args.only and name not in args.only:
            continue
        data = make(name_seed(SEED, name))
        differ += write_or_check(args.out / OUT / f"{name}.tflite", data, args.check)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
