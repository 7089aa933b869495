"""TensorFlow's side: load the float model, run it, and convert it to full int8.

The only module of tinygen that imports TensorFlow, and only when one of its functions runs,
so that every other command works without the ``quantize`` extra.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinygen.errors import ModelError, ToolMissingError
from tinygen.quantize.source import KERAS, SourceModel

TF_INSTALL_HINT = ("install the quantize extra: pip install 'tinygen[quantize]' "
                   "(or pip install tensorflow-cpu)")
_NO_BUILTIN = re.compile(r"'(tf\.\w+)' op is neither a custom op nor a flex op")

Floats = np.ndarray[Any, np.dtype[np.float32]]


@contextlib.contextmanager
def tensorflow_output() -> Iterator[None]:
    """Hold back what TensorFlow and Keras print (Python and C++, stdout and stderr): stdout
    is for tinygen's results, and the log is shown on stderr only if something fails."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with tempfile.TemporaryFile("w+b") as log:
        failed = True
        try:
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            with contextlib.ExitStack() as stack:
                text = stack.enter_context(open(os.dup(log.fileno()), "w", closefd=True))
                stack.enter_context(contextlib.redirect_stdout(text))
                stack.enter_context(contextlib.redirect_stderr(text))
                stack.enter_context(warnings.catch_warnings())
                # The converter warns that int8 I/O has no input statistics: it derives them.
                warnings.filterwarnings("ignore", message="Statistics for quantized inputs")
                # Keras: a model built with a list of one input, called with the tensor.
                warnings.filterwarnings("ignore", message="The structure of `inputs`")
                yield
            failed = False
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            if failed:
                log.seek(0)
                sys.stderr.write(log.read().decode("utf-8", errors="replace"))
                sys.stderr.flush()


def import_tensorflow() -> Any:
    """TensorFlow, or ToolMissingError naming the pip command."""
    # Before TensorFlow loads: fewer log lines, and no oneDNN, whose float rounding varies by
    # CPU and would change calibration ranges (so the model's bytes) between machines.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    if "keras" not in sys.modules:
        os.environ["KERAS_BACKEND"] = "tensorflow"  # the converter reads TensorFlow graphs
    try:
        with tensorflow_output():
            import tensorflow as tf
    except ImportError as exc:
        problem = ("is not installed" if exc.name == "tensorflow" else
                   f"does not import ({exc})")
        raise ToolMissingError(f"TensorFlow {problem}; tinygen quantize uses its converter",
                               hint=TF_INSTALL_HINT) from exc
    return tf


@dataclass(frozen=True)
class FloatModel:
    """The float source model, loaded: its fixed I/O shapes (batch 1), a runner, a converter."""

    source: SourceModel
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    run_one: Callable[[Floats], Floats]
    make_converter: Callable[[], Any]

    def predict(self, inputs: Floats) -> Floats:
        """Float outputs for ``inputs`` of shape (N, *input_shape): (N, *output_shape)."""
        out = np.empty((len(inputs), *self.output_shape), dtype=np.float32)
        with tensorflow_output():
            for i, x in enumerate(inputs):
                out[i] = np.asarray(self.run_one(x), dtype=np.float32).reshape(self.output_shape)
        return out


def _fixed_shape(dims: Any, where: str, what: str) -> tuple[int, ...]:
    """A static shape with the batch dimension (the first, if unknown) set to 1."""
    shape = [None if d is None else int(d) for d in dims]
    if shape and shape[0] is None:
        shape[0] = 1
    if not shape or any(d is None or d < 1 for d in shape):
        shown = "(" + ", ".join("None" if d is None else str(d) for d in dims) + ")"
        raise ModelError(f"{where}: the {what} has shape {shown}; tinygen needs a fixed shape "
                         "(apart from the batch dimension)",
                         hint="give the model's input a fixed shape, e.g. keras.Input((49, 10, "
                              "1)), as firmware tensors have static shapes")
    return tuple(d for d in shape if d is not None)


def _first_line(exc: BaseException) -> str:
    """The first line of the innermost cause Keras names (it nests them in one message)."""
    text = str(exc).rsplit("Exception encountered:", 1)[-1]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    text = lines[0] if lines else type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def load_float_model(source: SourceModel) -> FloatModel:
    """Load the Keras file or SavedModel with TensorFlow and check its single float input."""
    tf = import_tensorflow()
    with tensorflow_output():
        if source.kind == KERAS:
            return _load_keras(tf, source)
        return _load_saved_model(tf, source)


def _check_dtype(dtype: Any, where: str, what: str) -> None:
    name = getattr(dtype, "name", str(dtype))
    if name != "float32":
        raise ModelError(f"{where}: the {what} is {name}; tinygen quantize takes a model with "
                         "float32 input and output",
                         hint="quantize a model whose input is float32 (features, not indices)")


def _load_keras(tf: Any, source: SourceModel) -> FloatModel:
    where = str(source.path)
    try:
        model = tf.keras.models.load_model(where, compile=False)
    except Exception as exc:  # Keras raises many types for unreadable or custom-object files
        raise ModelError(f"{where}: TensorFlow could not load the Keras model: "
                         f"{_first_line(exc)}",
                         hint="a model with custom layers cannot be loaded without their code: "
                              "export a SavedModel from where it is defined "
                              "(model.export('DIR')) and pass that folder") from exc
    inputs = list(getattr(model, "inputs", None) or [])
    outputs = list(getattr(model, "outputs", None) or [])
    if not inputs or not outputs:
        raise ModelError(f"{where}: the Keras model has no defined inputs or outputs "
                         "(a subclassed model that was never built?)",
                         hint="build it from keras.Input, or export a SavedModel")
    _check_single(where, len(inputs), len(outputs))
    _check_dtype(inputs[0].dtype, where, "input")
    _check_dtype(outputs[0].dtype, where, "output")
    input_shape = _fixed_shape(inputs[0].shape, where, "input")
    output_shape = _fixed_shape(outputs[0].shape, where, "output")

    def run_one(x: Floats) -> Floats:
        return np.asarray(model(x, training=False).numpy())

    def make_converter() -> Any:
        # A batch of exactly 1, as on the device: with an unknown batch the converter keeps
        # SHAPE/STRIDED_SLICE/PACK ops to compute Flatten's shape at run time.
        fixed = tf.keras.Input(input_shape[1:], batch_size=input_shape[0], name="input")
        wrapper = tf.keras.Model(fixed, model(fixed), name="tinygen")  # no counter in names
        return tf.lite.TFLiteConverter.from_keras_model(wrapper)

    return FloatModel(source, input_shape, output_shape, run_one, make_converter)


def _check_single(where: str, inputs: int, outputs: int) -> None:
    if inputs != 1 or outputs != 1:
        raise ModelError(f"{where}: the model has {inputs} input(s) and {outputs} output(s); "
                         "tinygen quantize takes models with one of each (as the MLPerf Tiny "
                         "benchmark interface does)",
                         hint="concatenate the inputs (or outputs) into one tensor inside the "
                              "model")


def _load_saved_model(tf: Any, source: SourceModel) -> FloatModel:
    where = str(source.path)
    try:
        loaded = tf.saved_model.load(where)
    except Exception as exc:  # TensorFlow raises many types for an unreadable SavedModel
        raise ModelError(f"{where}: TensorFlow could not load the SavedModel: "
                         f"{_first_line(exc)}",
                         hint="export it again (model.export('DIR') or tf.saved_model.save)"
                         ) from exc
    signatures = dict(loaded.signatures)
    if "serving_default" in signatures:
        key = "serving_default"
    elif len(signatures) == 1:
        key = next(iter(signatures))
    else:
        found = ", ".join(sorted(signatures)) or "none"
        raise ModelError(f"{where}: the SavedModel has no 'serving_default' signature "
                         f"(signatures: {found})",
                         hint="save it with signatures={'serving_default': fn} or "
                              "model.export('DIR')")
    signature = signatures[key]
    input_specs = dict(signature.structured_input_signature[1])
    output_specs = dict(signature.structured_outputs)
    _check_single(where, len(input_specs), len(output_specs))
    (input_name, input_spec), = input_specs.items()
    (output_name, output_spec), = output_specs.items()
    _check_dtype(input_spec.dtype, where, "input")
    _check_dtype(output_spec.dtype, where, "output")
    input_shape = _fixed_shape(input_spec.shape, where, "input")
    output_shape = _fixed_shape(output_spec.shape, where, "output")

    def run_one(x: Floats) -> Floats:
        return np.asarray(signature(**{input_name: tf.constant(x)})[output_name].numpy())

    def make_converter() -> Any:
        # A fixed batch of 1, as for Keras models above.
        spec = tf.TensorSpec(input_shape, tf.float32, name="input")
        fn = tf.function(lambda x: signature(**{input_name: x})[output_name],
                         input_signature=[spec])
        return tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function()],
                                                               loaded)

    return FloatModel(source, input_shape, output_shape, run_one, make_converter)


def convert_to_int8(model: FloatModel, calibration: Floats, float_io: bool) -> bytes:
    """Full-integer post-training quantization: int8 ops only, per-channel weights (the
    converter's default), ``calibration`` as the representative dataset, in order."""
    tf = import_tensorflow()

    def representative() -> Iterator[list[Floats]]:
        for x in calibration:
            yield [x]

    with tensorflow_output():
        converter = model.make_converter()
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        if not float_io:
            converter.inference_input_type = tf.int8
            converter.inference_output_type = tf.int8
        try:
            return bytes(converter.convert())
        except Exception as exc:  # ConverterError, or RuntimeError from the calibrator
            raise _conversion_error(model, exc) from exc


def _conversion_error(model: FloatModel, exc: Exception) -> ModelError:
    where = str(model.source.path)
    missing = sorted(set(_NO_BUILTIN.findall(str(exc))))
    if missing:
        return ModelError(
            f"{where}: TensorFlow Lite has no built-in operator for {', '.join(missing)}, so "
            "the int8 converter cannot convert the model",
            hint="replace those operations with ones TensorFlow Lite and TFLM have (tinygen/"
                 "ops.py lists TFLM's); TensorFlow ops (Flex) do not run on microcontrollers")
    return ModelError(f"{where}: TensorFlow's int8 conversion failed: {_first_line(exc)}",
                      hint="run the conversion in TensorFlow directly to see the full message")
