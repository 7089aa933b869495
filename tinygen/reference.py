"""The host reference: the PyPI tflite-micro interpreter, fed exactly as the firmware port is."""

from __future__ import annotations

import numpy as np

from tinygen.benchmarks import payload_bytes, port
from tinygen.errors import InputError
from tinygen.model import ModelInfo
from tinygen.model.dtypes import numpy_dtype


def input_tensor(info: ModelInfo, benchmark: str, payload: bytes) -> np.ndarray:
    """What th_load_tensor makes of ``payload`` (templates/model/th_model.cc.j2), in numpy."""
    expected = payload_bytes(info, benchmark)
    if len(payload) != expected:
        raise InputError(f"input is {len(payload)} bytes, {benchmark} expects {expected}",
                         hint="is the input for another model, or truncated?")
    tensor = info.inputs[0]
    shape = tensor.shape
    preprocess = port(benchmark)[0]
    if preprocess == "u8_to_i8":
        values = np.frombuffer(payload, dtype=np.uint8).astype(np.int16) - 128
        return values.astype(np.int8).reshape(shape)
    if preprocess == "quantize_f32":
        assert tensor.scale is not None and tensor.zero_point is not None
        x = np.frombuffer(payload, dtype="<f4")
        _check_ad_input(x, tensor.scale)
        return quantize_f32(x, tensor.scale, tensor.zero_point).reshape(shape)
    raw: np.ndarray = np.frombuffer(payload, dtype=numpy_dtype(tensor.dtype))
    if tensor.dtype == "float32":
        _check_float_input(info, raw)
    return raw.reshape(shape)


def quantize_f32(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """The ports' float32 -> int8 input quantization: float32 division as in C, then round
    half away from zero (lround) in float64, where adding 0.5 to a float32 value is exact, plus
    the zero point, clamped to int8."""
    with np.errstate(all="ignore"):  # infinities quantize to the ends of the range
        v = (x.astype(np.float32) / np.float32(scale)).astype(np.float64)
        q = np.sign(v) * np.floor(np.abs(v) + 0.5) + zero_point
    quantized: np.ndarray = np.clip(q, -128, 127).astype(np.int8)
    return quantized


def _unquantizable(values: np.ndarray, scale: float) -> int | None:
    """The first value whose quotient by ``scale`` C leaves undefined (NaN, infinity, beyond
    a 32-bit integer), or None."""
    with np.errstate(all="ignore"):  # the quotient of a bad value is what is checked
        quotient = values.astype(np.float64) / scale
    bad = ~np.isfinite(quotient) | (np.abs(quotient) >= 2.0 ** 31)
    return int(np.argmax(bad)) if bad.any() else None


def _check_float_input(info: ModelInfo, values: np.ndarray) -> None:
    """Refuse float inputs whose quantization TFLM leaves undefined (NaN, infinity, or beyond
    int32 in steps of the scale): there the host's float-to-int conversion differs from a
    device's (x86 gives INT32_MIN where Arm saturates)."""
    quantization = _input_quantization(info)
    i = _unquantizable(values, quantization[0] if quantization else 1.0)
    if i is not None:
        low, high = float_input_range(info)
        raise InputError(
            f"input value {i} is {values[i]}: quantizing it overflows int32, where TFLM's "
            "float-to-int conversion is undefined (the host and a device differ)",
            hint=f"send finite float32 values within the model's input range, about "
                 f"{low:.4g} to {high:.4g}")


def _check_ad_input(values: np.ndarray, scale: float) -> None:
    """Refuse log-mel values the AD port's lround(x / scale) leaves undefined (NaN, infinity,
    a quotient beyond a 32-bit long): the host and a device would differ there."""
    i = _unquantizable(values, scale)
    if i is not None:
        raise InputError(
            f"input value {i} is {values[i]}: quantizing it (lround(x / {scale:g})) is "
            "undefined in C, so the host and a device differ",
            hint=f"send finite float32 log-mel values, each below {2.0 ** 31 * scale:.4g} in "
                 "magnitude")


def host_arena_size(info: ModelInfo) -> int:
    """A tensor arena for the host interpreter, generous: every activation at once, plus room
    for per-op and tensor data (the interpreter's default, ten times the file, is too small for
    small-weight models, which it then refuses to allocate)."""
    activations = sum(t.nbytes for t in info.tensors if not t.is_constant)
    return 2 * activations + 10 * info.size_bytes + 64 * 1024


def host_output_bytes(info: ModelInfo, benchmark: str, payload: bytes) -> bytes:
    """Raw bytes of output 0 after one inference on the host TFLM interpreter."""
    from tflite_micro.python.tflite_micro import runtime

    interpreter = runtime.Interpreter.from_bytes(info.data, arena_size=host_arena_size(info))
    interpreter.set_input(input_tensor(info, benchmark, payload), 0)
    interpreter.invoke()
    out: np.ndarray = interpreter.get_output(0)
    return bytes(out.tobytes())


def _input_quantization(info: ModelInfo) -> tuple[float, int] | None:
    """(scale, zero point) of the QUANTIZE that reads a float32 input, if there is one."""
    tensor = info.inputs[0]
    for op in info.operators:
        if op.name == "QUANTIZE" and op.inputs[:1] == (tensor.index,):
            out = info.tensors[op.outputs[0]]
            if out.scale and out.zero_point is not None:
                return out.scale, out.zero_point
    return None


def float_input_range(info: ModelInfo) -> tuple[float, float]:
    """The float values a float32 input can take apart from clamping: the int8 range of the
    QUANTIZE that reads it, widened by a quarter to reach the clamps (else -4..4)."""
    quantization = _input_quantization(info)
    if quantization is None:
        return -4.0, 4.0
    scale, zero_point = quantization
    low, high = (-128 - zero_point) * scale, (127 - zero_point) * scale
    margin = (high - low) / 8
    return low - margin, high + margin


def random_payload(info: ModelInfo, benchmark: str, seed: int) -> bytes:
    """A seeded random input of the right size; AD gets float32 values in a log-mel range.

    A float32 input of the generic port gets finite values around its quantization range, not
    random bit patterns: those include NaN and values whose quantization overflows int32, where
    TFLM's float-to-int conversion is undefined (x86 gives INT32_MIN, Arm saturates), so the host
    interpreter's outputs would not be the device's TFLM's either.
    """
    rng = np.random.default_rng(seed)
    n = payload_bytes(info, benchmark)
    if port(benchmark)[0] == "quantize_f32":
        return rng.uniform(-60.0, 10.0, n // 4).astype("<f4").tobytes()
    if info.inputs[0].dtype == "float32":
        return rng.uniform(*float_input_range(info), n // 4).astype("<f4").tobytes()
    return rng.integers(0, 256, n, dtype=np.uint8).tobytes()
