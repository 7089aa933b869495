"""The host reference: the PyPI tflite-micro interpreter, fed exactly as the firmware port is."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tinygen.codegen import payload_bytes
from tinygen.errors import InputError
from tinygen.model import ModelInfo

_NP_DTYPES = {"int8": np.int8, "uint8": np.uint8, "int16": np.int16, "int32": np.int32,
              "float32": np.float32}


def input_tensor(info: ModelInfo, benchmark: str, payload: bytes) -> np.ndarray:
    """What th_load_tensor makes of ``payload`` (templates/model/th_model.cc.j2), in numpy."""
    expected = payload_bytes(info, benchmark)
    if len(payload) != expected:
        raise InputError(f"input is {len(payload)} bytes, {benchmark} expects {expected}")
    tensor = info.inputs[0]
    shape = tensor.shape
    if benchmark in ("vww01", "ic01"):
        values = np.frombuffer(payload, dtype=np.uint8).astype(np.int16) - 128
        return values.astype(np.int8).reshape(shape)
    if benchmark == "ad01":
        assert tensor.scale is not None and tensor.zero_point is not None
        x = np.frombuffer(payload, dtype="<f4")
        # float32 division as in C, then round half away from zero (lround) in float64, where
        # adding 0.5 to a float32 value is exact.
        v = (x / np.float32(tensor.scale)).astype(np.float64)
        q = np.sign(v) * np.floor(np.abs(v) + 0.5) + tensor.zero_point
        quantized: np.ndarray = np.clip(q, -128, 127).astype(np.int8)
        return quantized.reshape(shape)
    raw: np.ndarray = np.frombuffer(payload, dtype=_NP_DTYPES[tensor.dtype])
    return raw.reshape(shape)


def host_output_bytes(model_path: Path, info: ModelInfo, benchmark: str,
                      payload: bytes) -> bytes:
    """Raw bytes of output 0 after one inference on the host TFLM interpreter."""
    from tflite_micro.python.tflite_micro import runtime

    interpreter = runtime.Interpreter.from_file(str(model_path))
    interpreter.set_input(input_tensor(info, benchmark, payload), 0)
    interpreter.invoke()
    out: np.ndarray = interpreter.get_output(0)
    return bytes(out.tobytes())


def random_payload(info: ModelInfo, benchmark: str, seed: int) -> bytes:
    """A seeded random input of the right size; AD gets float32 values in a log-mel range."""
    rng = np.random.default_rng(seed)
    n = payload_bytes(info, benchmark)
    if benchmark == "ad01":
        return rng.uniform(-60.0, 10.0, n // 4).astype("<f4").tobytes()
    return rng.integers(0, 256, n, dtype=np.uint8).tobytes()
