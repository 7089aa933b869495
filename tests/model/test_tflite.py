"""Tests of tinygen.model and tinygen.tflm.ops on real .tflite files."""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tflite_micro.python.tflite_micro import runtime
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

from tinygen.errors import ExitCode, ModelError
from tinygen.model import ModelInfo, check_buildable, load_model, parse_model
from tinygen.native.graph import graph_of
from tinygen.tflm import ops

MODELS = Path(__file__).resolve().parents[2] / "models"
TEST_DATA = Path(__file__).resolve().parents[1] / "data"

# --- reference models ---------------------------------------------------------------------------

# file -> (benchmark, MACs in millions to 2 decimals, exact MACs, op counts,
#          input (shape, scale, zero point), output (shape, scale, zero point))
REFERENCE: dict[str, tuple[Any, ...]] = {
    "kws_ref_model.tflite": (
        "kws01", 2.66, 2_656_768,
        {"CONV_2D": 5, "DEPTHWISE_CONV_2D": 4, "AVERAGE_POOL_2D": 1, "RESHAPE": 1,
         "FULLY_CONNECTED": 1, "SOFTMAX": 1},
        ((1, 49, 10, 1), 0.5847029, 83), ((1, 12), 0.00390625, -128)),
    "vww_96_int8.tflite": (
        "vww01", 7.49, 7_489_664,
        {"CONV_2D": 14, "DEPTHWISE_CONV_2D": 13, "AVERAGE_POOL_2D": 1, "RESHAPE": 1,
         "FULLY_CONNECTED": 1, "SOFTMAX": 1},
        ((1, 96, 96, 3), 0.00392157, -128), ((1, 2), 0.00390625, -128)),
    "pretrainedResnet_quant.tflite": (
        "ic01", 12.50, 12_501_632,
        {"CONV_2D": 9, "ADD": 3, "AVERAGE_POOL_2D": 1, "RESHAPE": 1, "FULLY_CONNECTED": 1,
         "SOFTMAX": 1},
        ((1, 32, 32, 3), 1.0, -128), ((1, 10), 0.00390625, -128)),
    "ad01_int8.tflite": (
        "ad01", 0.26, 264_192, {"FULLY_CONNECTED": 10},
        ((1, 640), 0.3910152, 89), ((1, 640), 0.3644985, 96)),
    # ic02 has the ic01 I/O signature, so it runs in the ic01 harness.
    "pretrainedResnet_large_int8.tflite": (
        "ic01", 76.47, 76_473_920,
        {"CONV_2D": 9, "ADD": 3, "AVERAGE_POOL_2D": 1, "RESHAPE": 1, "FULLY_CONNECTED": 1,
         "SOFTMAX": 1},
        ((1, 32, 32, 3), 1.0, -128), ((1, 10), 0.00390625, -128)),
    "str_ww_ref_model.tflite": (
        None, 0.83, 826_368,
        {"DEPTHWISE_CONV_2D": 4, "CONV_2D": 4, "RESHAPE": 1, "FULLY_CONNECTED": 1,
         "SOFTMAX": 1},
        ((1, 30, 1, 40), 0.00370104, -128), ((1, 3), 0.00390625, -128)),
}


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_reference_model(mlperf_models: Path, name: str) -> None:
    benchmark, mega, macs, op_counts, (in_shape, in_scale, in_zp), (out_shape, out_scale,
                                                                     out_zp) = REFERENCE[name]
    path = mlperf_models / name
    info = load_model(path)

    assert info.benchmark == benchmark
    assert round(info.macs / 1e6, 2) == mega
    assert info.macs == macs
    assert info.op_counts == op_counts
    assert list(info.op_counts) == list(op_counts)  # first-appearance order
    assert info.quantization == "int8"
    assert info.unsupported_ops == ()
    assert info.schema_version == 3
    assert info.num_subgraphs == 1
    assert info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert info.size_bytes == path.stat().st_size
    assert 0 < info.weights_bytes < info.size_bytes
    (i,), (o,) = info.inputs, info.outputs
    assert (i.shape, i.dtype, i.zero_point) == (in_shape, "int8", in_zp)
    assert (o.shape, o.dtype, o.zero_point) == (out_shape, "int8", out_zp)
    assert i.scale == pytest.approx(in_scale, rel=1e-6)
    assert o.scale == pytest.approx(out_scale, rel=1e-6)
    assert i.num_scales == o.num_scales == 1
    assert not i.is_constant and i.nbytes == int(np.prod(in_shape))
    check_buildable(info)


def test_reference_macs_per_operator(mlperf_models: Path) -> None:
    info = load_model(mlperf_models / "kws_ref_model.tflite")
    # DS-CNN: a 10x4 stride-2 conv to 25x5x64, four 3x3 depthwise + 1x1 pointwise, FC 64 -> 12
    assert info.operators[0].name == "CONV_2D"
    assert info.operators[0].macs == 25 * 5 * 64 * 10 * 4
    assert info.operators[1].name == "DEPTHWISE_CONV_2D"
    assert info.operators[1].macs == 25 * 5 * 64 * 9
    assert info.operators[2].macs == 25 * 5 * 64 * 64
    assert info.macs_per_op["FULLY_CONNECTED"] == 64 * 12
    assert info.macs_per_op["SOFTMAX"] == 0
    assert sum(op.macs for op in info.operators) == info.macs


def test_reference_per_channel_weights(mlperf_models: Path) -> None:
    info = load_model(mlperf_models / "vww_96_int8.tflite")
    conv = info.operators[0]
    weights = info.tensors[conv.inputs[1]]
    assert weights.is_constant and weights.dtype == "int8"
    assert weights.num_scales == weights.shape[0] > 1
    assert weights.scale is None and weights.zero_point is None
    assert info.is_int8_op(conv)


def test_dynamic_range_model_is_hybrid_and_rejected(mlperf_models: Path) -> None:
    # The "float32" KWS model stores int8 weights but computes in float (hybrid).
    info = load_model(mlperf_models / "kws_ref_model_float32.tflite")
    assert info.quantization == "hybrid"
    assert info.inputs[0].dtype == "float32"
    assert info.benchmark is None
    assert round(info.macs / 1e6, 2) == 2.66
    with pytest.raises(ModelError, match="dynamic-range") as exc:
        check_buildable(info)
    assert exc.value.hint and "int8" in exc.value.hint


# --- bundled models ---------------------------------------------------------------------------

BUNDLED = {
    "kws_tiny.tflite": ("kws01", {"CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D",
                                  "FULLY_CONNECTED", "SOFTMAX"}),
    "ic_tiny.tflite": ("ic01", {"CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "AVERAGE_POOL_2D",
                                "FULLY_CONNECTED", "SOFTMAX"}),
    "ad_tiny.tflite": ("ad01", {"FULLY_CONNECTED"}),
}


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_bundled_model(name: str) -> None:
    benchmark, op_names = BUNDLED[name]
    info = load_model(MODELS / name)
    assert info.benchmark == benchmark
    assert set(info.op_counts) == op_names
    assert info.quantization == "int8"
    assert info.unsupported_ops == ()
    assert info.size_bytes < 100 * 1024
    assert all(info.is_int8_op(op) for op in info.operators)
    check_buildable(info)


def test_bundled_macs() -> None:
    ad = load_model(MODELS / "ad_tiny.tflite")
    assert ad.macs == 640 * 32 + 32 * 8 + 8 * 32 + 32 * 640
    kws = load_model(MODELS / "kws_tiny.tflite")
    # 10x4 stride-2 conv to 25x5x48, four (3x3 depthwise + 1x1 pointwise) blocks, FC 48 -> 12
    assert kws.macs == 25 * 5 * 48 * 40 + 4 * (25 * 5 * 48 * 9 + 25 * 5 * 48 * 48) + 48 * 12


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_bundled_model_runs_on_host_tflm(name: str) -> None:
    info = load_model(MODELS / name)
    interpreter = runtime.Interpreter.from_file(str(MODELS / name))
    x = np.random.default_rng(0).integers(-128, 128, size=info.inputs[0].shape, dtype=np.int8)
    interpreter.set_input(x, 0)
    interpreter.invoke()
    y = interpreter.get_output(0)
    assert y.shape == info.outputs[0].shape and y.dtype == np.int8


def test_float_model() -> None:
    info = load_model(TEST_DATA / "float_model.tflite")
    assert info.quantization == "float"
    assert info.inputs[0].scale is None and info.inputs[0].zero_point is None
    with pytest.raises(ModelError, match="not quantized") as exc:
        check_buildable(info)
    assert exc.value.hint and "tinygen quantize" in exc.value.hint
    assert "int8 quantization" in exc.value.hint
    assert exc.value.exit_code == ExitCode.BAD_INPUT


def test_int8_float_io_model() -> None:
    info = load_model(TEST_DATA / "int8_float_io.tflite")
    assert info.quantization == "int8-float-io"
    assert list(info.op_counts) == ["QUANTIZE", "FULLY_CONNECTED", "DEQUANTIZE"]
    assert info.inputs[0].dtype == info.outputs[0].dtype == "float32"
    assert info.benchmark is None
    check_buildable(info)  # TFLM runs QUANTIZE/DEQUANTIZE


def test_two_inputs_model() -> None:
    info = load_model(TEST_DATA / "two_inputs.tflite")
    assert info.quantization == "int8"
    assert len(info.inputs) == 2 and len(info.outputs) == 1
    assert info.benchmark is None
    with pytest.raises(ModelError, match="2 inputs and 1 output;") as exc:
        check_buildable(info)
    assert exc.value.hint


def test_unsupported_op(unsupported_op_model: Path) -> None:
    info = load_model(unsupported_op_model)
    assert info.op_counts == {"GELU": 4}
    assert info.unsupported_ops == ("GELU",)
    with pytest.raises(ModelError, match="TFLM has no kernel for: GELU") as exc:
        check_buildable(info)
    assert exc.value.hint


def test_custom_op(custom_op_model: Path) -> None:
    info = load_model(custom_op_model)
    assert info.unsupported_ops == ("CUSTOM:MyFancyOp",)
    with pytest.raises(ModelError, match="CUSTOM:MyFancyOp"):
        check_buildable(info)


def test_two_subgraphs(two_subgraph_model: Path) -> None:
    info = load_model(two_subgraph_model)
    assert info.num_subgraphs == 2
    with pytest.raises(ModelError, match="2 subgraphs"):
        check_buildable(info)


def test_to_json_is_serialisable_and_complete() -> None:
    info = load_model(MODELS / "ic_tiny.tflite")
    data = json.loads(json.dumps(info.to_json()))
    for key in ("ops", "inputs", "outputs", "macs", "macs_per_op", "weights_bytes",
                "quantization", "unsupported_ops", "benchmark", "schema_version", "subgraphs",
                "operators", "sha256", "size_bytes"):
        assert key in data
    assert data["ops"] == info.op_counts
    assert data["inputs"][0]["shape"] == [1, 32, 32, 3]
    assert set(data["inputs"][0]) >= {"name", "shape", "dtype", "scale", "zero_point"}
    assert [op["name"] for op in data["operators"]] == [op.name for op in info.operators]
    assert sum(op["macs"] for op in data["operators"]) == data["macs"]


def test_old_schema_version(tmp_path: Path, edit_model: Any) -> None:
    def to_v2(model: Any) -> None:
        model.version = 2

    info = load_model(edit_model(MODELS / "ad_tiny.tflite", tmp_path / "v2.tflite", to_v2))
    assert info.schema_version == 2
    with pytest.raises(ModelError, match="schema version 2; TFLM reads version 3"):
        check_buildable(info)


def test_model_info_is_frozen() -> None:
    info = load_model(MODELS / "ad_tiny.tflite")
    assert isinstance(info, ModelInfo)
    with pytest.raises(AttributeError):
        info.macs = 0  # type: ignore[misc]


# --- bad files ---------------------------------------------------------------------------------


def _expect_error(path: Path, *fragments: str) -> ModelError:
    with pytest.raises(ModelError) as exc:
        load_model(path)
    for fragment in fragments:
        assert fragment in exc.value.message
    assert exc.value.hint
    assert exc.value.exit_code == ExitCode.BAD_INPUT
    return exc.value


def test_missing_file(tmp_path: Path) -> None:
    _expect_error(tmp_path / "nope.tflite", "does not exist")


def test_directory(tmp_path: Path) -> None:
    _expect_error(tmp_path, "is not a file")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.tflite"
    path.write_bytes(b"")
    _expect_error(path, "empty")


@pytest.mark.parametrize("size", [1, 7, 8, 4096])
def test_random_bytes(tmp_path: Path, size: int) -> None:
    path = tmp_path / "random.tflite"
    path.write_bytes(np.random.default_rng(size).bytes(size))
    _expect_error(path, "not a TensorFlow Lite model", "TFL3")


def test_other_flatbuffer_identifier(tmp_path: Path) -> None:
    data = bytearray((MODELS / "ad_tiny.tflite").read_bytes())
    data[4:8] = b"TFL2"
    path = tmp_path / "tfl2.tflite"
    path.write_bytes(bytes(data))
    _expect_error(path, "TFL3")


def test_truncated_model(truncated_model: Path) -> None:
    _expect_error(truncated_model, "truncated or corrupt")


@pytest.mark.parametrize("name", ["kws_tiny.tflite", "ic_tiny.tflite", "ad_tiny.tflite"])
def test_every_truncation_is_detected(name: str) -> None:
    data = (MODELS / name).read_bytes()
    for cut in range(0, len(data), 97):
        with pytest.raises(ModelError):
            parse_model(data[:cut], Path(name))


@pytest.mark.parametrize("value", [0xFFFFFFFF, 0x7FFFFFF0, 12])
def test_root_offset_out_of_range(tmp_path: Path, value: int) -> None:
    data = bytearray((MODELS / "ic_tiny.tflite").read_bytes())
    struct.pack_into("<I", data, 0, value)
    path = tmp_path / "bad_root.tflite"
    path.write_bytes(bytes(data))
    _expect_error(path, "truncated or corrupt")


def test_vtable_offset_outside_file(tmp_path: Path) -> None:
    # A table's signed vtable offset pointing behind the file start: Python's struct would read
    # it from the end of the buffer instead of failing, so load_model must check it.
    data = bytearray((MODELS / "ic_tiny.tflite").read_bytes())
    root = struct.unpack_from("<I", data, 0)[0]
    struct.pack_into("<i", data, root, root + 64)
    path = tmp_path / "bad_vtable.tflite"
    path.write_bytes(bytes(data))
    _expect_error(path, "truncated or corrupt", "outside the file")


def test_random_corruption_never_escapes() -> None:
    data = (MODELS / "kws_tiny.tflite").read_bytes()
    rng = np.random.default_rng(7)
    for _ in range(300):
        corrupt = bytearray(data)
        for _ in range(int(rng.integers(1, 6))):
            at = int(rng.integers(8, 4096)) & ~3
            struct.pack_into("<I", corrupt, at, int(rng.integers(0, 2**32)))
        # Either it still parses (the bytes hit unused padding) or it fails as a ModelError.
        with contextlib.suppress(ModelError):
            parse_model(bytes(corrupt), Path("x.tflite"))


def test_tensor_index_out_of_range(tmp_path: Path, edit_model: Any) -> None:
    def bad_index(model: Any) -> None:
        model.subgraphs[0].operators[0].inputs[0] = 999

    path = edit_model(MODELS / "ad_tiny.tflite", tmp_path / "bad_index.tflite", bad_index)
    _expect_error(path, "refers to tensor 999")


# --- ops table ---------------------------------------------------------------------------------


def test_builtin_name() -> None:
    assert ops.builtin_name(schema.BuiltinOperator.CONV_2D) == "CONV_2D"
    assert ops.builtin_name(3) == "CONV_2D"
    assert ops.builtin_name(9) == "FULLY_CONNECTED"
    assert ops.builtin_name(100_000) == "BUILTIN_100000"


def test_op_table_names_are_schema_builtins() -> None:
    names = {n for n in vars(schema.BuiltinOperator) if not n.startswith("_")}
    assert set(ops.SUPPORTED_OPS) <= names
    assert "CUSTOM" not in ops.SUPPORTED_OPS
    for support in ops.SUPPORTED_OPS.values():
        assert support.resolver_method.startswith("Add")


def test_op_table_int8_registrations() -> None:
    conv = ops.SUPPORTED_OPS["CONV_2D"]
    assert conv == ops.OpSupport("AddConv2D", "Register_CONV_2D_INT8",
                                 "tensorflow/lite/micro/micro_mutable_op_resolver.h")
    assert ops.SUPPORTED_OPS["DEPTHWISE_CONV_2D"].int8_registration == (
        "Register_DEPTHWISE_CONV_2D_INT8")
    assert ops.SUPPORTED_OPS["FULLY_CONNECTED"].int8_registration == (
        "Register_FULLY_CONNECTED_INT8")
    assert ops.SUPPORTED_OPS["PAD"].int8_header == "tensorflow/lite/micro/kernels/pad.h"
    assert ops.SUPPORTED_OPS["RESHAPE"] == ops.OpSupport("AddReshape")
    assert ops.SUPPORTED_OPS["AVERAGE_POOL_2D"].resolver_method == "AddAveragePool2D"
    assert not ops.is_supported("GELU")
    assert ops.is_supported("SOFTMAX")


def test_resolver_call() -> None:
    assert ops.resolver_call("CONV_2D", int8=True) == (
        "AddConv2D(tflite::Register_CONV_2D_INT8())")
    assert ops.resolver_call("CONV_2D", int8=False) == "AddConv2D()"
    assert ops.resolver_call("RESHAPE", int8=True) == "AddReshape()"


def test_is_int8_op_rejects_float_io_ops() -> None:
    info = load_model(TEST_DATA / "int8_float_io.tflite")
    quantize, fc, _, dequantize = info.operators
    assert not info.is_int8_op(quantize)
    assert info.is_int8_op(fc)
    assert not info.is_int8_op(dequantize)


# --- corrupt contents in a valid flatbuffer (issue 16, section 4) -----------------------------


def _tensor(model: Any, index: int) -> Any:
    return model.subgraphs[0].tensors[index]


def _set_quant(index: int, **fields: Any) -> Any:
    def edit(model: Any) -> None:
        q = _tensor(model, index).quantization
        for name, value in fields.items():
            setattr(q, name, value)
    return edit


def _set_option(op: int, **fields: Any) -> Any:
    def edit(model: Any) -> None:
        for name, value in fields.items():
            setattr(model.subgraphs[0].operators[op].builtinOptions, name, value)
    return edit


def _truncate_buffer(index: int, keep: int) -> Any:
    def edit(model: Any) -> None:
        buf = model.buffers[_tensor(model, index).buffer]
        buf.data = buf.data[:keep]
    return edit


def _set_shape(index: int, shape: list[int]) -> Any:
    def edit(model: Any) -> None:
        _tensor(model, index).shape = shape
    return edit


def _options_of(op: int, other: int) -> Any:
    def edit(model: Any) -> None:
        ops_ = model.subgraphs[0].operators
        ops_[op].builtinOptionsType = ops_[other].builtinOptionsType
        ops_[op].builtinOptions = ops_[other].builtinOptions
    return edit


def _no_options(op: int) -> Any:
    def edit(model: Any) -> None:
        model.subgraphs[0].operators[op].builtinOptionsType = 0
        model.subgraphs[0].operators[op].builtinOptions = None
    return edit


def _short_bias(model: Any) -> None:
    # ad_tiny's first FULLY_CONNECTED: 32 units, its bias (tensor 7) cut to 16 values, with
    # a buffer that matches the new shape.
    bias = _tensor(model, 7)
    bias.shape = [16]
    model.buffers[bias.buffer].data = model.buffers[bias.buffer].data[:64]
    bias.quantization.scale = bias.quantization.scale[:16]
    bias.quantization.zeroPoint = bias.quantization.zeroPoint[:16]


def _constant_output(model: Any) -> None:
    # ad_tiny: operator 0's output [1, 32] given a buffer of 32 bytes
    buffer = schema.BufferT()
    buffer.data = [1] * 32
    model.buffers.append(buffer)
    _tensor(model, 9).buffer = len(model.buffers) - 1


# (model, edit, fragments of the message). kws_tiny: tensor 20 'Conv2D' is the first
# convolution's filter [48, 10, 4, 1] (per-channel, 48 scales), tensor 21 its int8 output,
# operator 0 that CONV_2D, operator 9 the AVERAGE_POOL_2D, 11 the SOFTMAX.
CORRUPT: dict[str, tuple[str, Any, tuple[str, ...]]] = {
    "weights shorter than their shape": (
        "kws_tiny", _truncate_buffer(20, 1000),
        ("tensor 20 (Conv2D)", "buffer holds 1,000 bytes", "[48, 10, 4, 1] of int8 needs 1,920")),
    "weights longer than their shape": (
        "kws_tiny", _set_shape(20, [48, 10, 2, 1]),
        ("tensor 20 (Conv2D)", "holds 1,920", "needs 960")),
    "a shape that no longer matches its weights": (
        "ad_tiny", _set_shape(8, [32, 320]), ("tensor 8 (MatMul)", "buffer holds 20,480")),
    "a negative dimension": (
        "kws_tiny", _set_shape(21, [1, -25, 5, 48]), ("tensor 21", "negative dimension")),
    "an absurd shape": (
        "kws_tiny", _set_shape(21, [2**30, 2**30, 1, 48]), ("tensor 21", "would hold")),
    "an unknown element type": (
        "kws_tiny", lambda m: setattr(_tensor(m, 21), "type", 99),
        ("tensor 21", "element type (type99)")),
    "a scale of 0": (
        "kws_tiny", _set_quant(21, scale=[0.0]), ("tensor 21", "scale is 0;", "> 0")),
    "a NaN scale": ("kws_tiny", _set_quant(21, scale=[math.nan]), ("tensor 21", "nan")),
    "an infinite scale": ("kws_tiny", _set_quant(0, scale=[math.inf]), ("tensor 0", "inf")),
    "a negative per-channel scale": (
        "kws_tiny", lambda m: _tensor(m, 20).quantization.scale.__setitem__(5, -0.01),
        ("tensor 20 (Conv2D)", "scale 5 is -0.01")),
    "an int8 zero point of -2**40": (
        "kws_tiny", _set_quant(21, zeroPoint=[-(2**40)]),
        ("tensor 21", "zero point is -1099511627776, outside int8's -128..127")),
    "an int8 zero point of 128": (
        "kws_tiny", _set_quant(0, zeroPoint=[128]), ("tensor 0", "outside int8's -128..127")),
    "an int32 zero point beyond int32": (
        "ad_tiny", lambda m: _tensor(m, 7).quantization.zeroPoint.__setitem__(3, 2**33),
        ("tensor 7", "zero point 3 is 8589934592")),
    "scales without zero points": (
        "kws_tiny", _set_quant(21, zeroPoint=None), ("tensor 21", "1 quantization scales but 0")),
    "per-channel scales with two zero points": (
        "kws_tiny", _set_quant(20, zeroPoint=[0, 0]),
        ("tensor 20 (Conv2D)", "48 quantization scales but 2 zero points")),
    "zero points without scales": (
        "kws_tiny", _set_quant(21, scale=None), ("tensor 21", "zero points but no scales")),
    "a quantized dimension out of range": (
        "kws_tiny", _set_quant(20, quantizedDimension=4),
        ("tensor 20 (Conv2D)", "quantized dimension is 4, but it has 4 dimensions")),
    "per-channel scales that do not match the dimension": (
        "kws_tiny", _set_quant(20, quantizedDimension=1),
        ("tensor 20 (Conv2D)", "48 per-channel scales, but dimension 1", "is 10")),
    "a requantization multiplier TFLM cannot shift by": (
        "kws_tiny", _set_quant(21, scale=[1e-30]),
        ("operator 0 (CONV_2D)", "requantization multiplier", "below 2^30")),
    "a CONV_2D without options": (
        "kws_tiny", _no_options(0), ("operator 0 (CONV_2D)", "no Conv2DOptions")),
    "a pool with a convolution's options": (
        "kws_tiny", _options_of(9, 0),
        ("operator 9 (AVERAGE_POOL_2D)", "options are Conv2DOptions", "takes Pool2DOptions")),
    "a stride of 0": (
        "kws_tiny", _set_option(0, strideH=0), ("operator 0 (CONV_2D)", "strideH is 0")),
    "a filter height of 0": (
        "kws_tiny", _set_option(9, filterHeight=0), ("operator 9", "filterHeight is 0")),
    "a depth multiplier that does not match the channels": (
        "kws_tiny", _set_option(1, depthMultiplier=2),
        ("operator 1 (DEPTHWISE_CONV_2D)", "depthMultiplier is 2", "48 channels for an input "
                                                                    "of 48")),
    "a dilation of 0": (
        "kws_tiny", _set_option(1, dilationWFactor=0), ("operator 1", "dilationWFactor is 0")),
    "an unknown padding": ("kws_tiny", _set_option(0, padding=7), ("padding is 7",)),
    "an unknown fused activation": (
        "kws_tiny", _set_option(0, fusedActivationFunction=9), ("fusedActivationFunction is 9",)),
    "a NaN softmax beta": (
        "kws_tiny", _set_option(11, beta=math.nan), ("operator 11 (SOFTMAX)", "beta is nan")),
    "a SOFTMAX without options": ("kws_tiny", _no_options(11), ("no SoftmaxOptions",)),
    "a bias of the wrong length": (
        "ad_tiny", _short_bias,
        ("operator 0 (FULLY_CONNECTED)", "bias has 16 values for 32 output channels")),
    "a missing filter": (
        "ad_tiny", lambda m: m.subgraphs[0].operators[0].inputs.__setitem__(1, -1),
        ("operator 0", "a required input is omitted")),
    "a tensor read before any operator writes it": (
        "kws_tiny", lambda m: setattr(m.subgraphs[0].operators[1], "outputs", [23]),
        ("operator 2 (CONV_2D)", "it reads tensor 22", "nor an earlier operator writes")),
    "a tensor written twice": (
        "kws_tiny", lambda m: setattr(m.subgraphs[0].operators[8], "outputs", [26]),
        ("tensor 26", "both operator 5 and operator 8 write it")),
    "a model output that no operator writes": (
        "kws_tiny", lambda m: setattr(m.subgraphs[0], "outputs", [15]),
        ("tensor 15", "the model's output, but no operator writes it")),
    "a pool that changes the quantization": (
        "kws_tiny", lambda m: _tensor(m, 30).quantization.scale.__setitem__(0, 0.5),
        ("operator 9 (AVERAGE_POOL_2D)", "a pool keeps its input's quantization")),
    "an operator's output with constant data": (
        "ad_tiny", _constant_output, ("tensor 9", "operator 0's output but holds constant")),
}


@pytest.mark.parametrize("case", sorted(CORRUPT))
def test_corrupt_contents_refused_at_load(tmp_path: Path, edit_model: Any, case: str) -> None:
    source, edit, fragments = CORRUPT[case]
    path = edit_model(MODELS / f"{source}.tflite", tmp_path / "corrupt.tflite", edit)
    error = _expect_error(path, "the model is corrupt: ", *fragments)
    assert "re-export the model" in (error.hint or "")


# The same for operators of tests/data/native: (model, edit, fragments of the message).
CORRUPT_OPS: dict[str, tuple[str, Any, tuple[str, ...]]] = {
    "a NaN LEAKY_RELU alpha": (
        "op_leaky_relu", _set_option(1, alpha=math.nan),
        ("operator 1 (LEAKY_RELU)", "alpha is nan")),
    "a STRIDED_SLICE with a convolution's options": (
        "op_strided_slice", _options_of(1, 0),
        ("operator 1 (STRIDED_SLICE)", "options are Conv2DOptions; STRIDED_SLICE takes "
                                       "StridedSliceOptions")),
}


@pytest.mark.parametrize("case", sorted(CORRUPT_OPS))
def test_corrupt_options_of_other_operators(tmp_path: Path, edit_model: Any, case: str) -> None:
    source, edit, fragments = CORRUPT_OPS[case]
    path = edit_model(TEST_DATA / "native" / f"{source}.tflite", tmp_path / "corrupt.tflite",
                      edit)
    _expect_error(path, "the model is corrupt: ", *fragments)


def test_corrupt_contents_refused_by_the_native_reader(tmp_path: Path, edit_model: Any) -> None:
    # The native runtime's reader relies on the same checks, made on the bytes it reads.
    path = edit_model(MODELS / "kws_tiny.tflite", tmp_path / "corrupt.tflite",
                      _truncate_buffer(20, 1000))
    with pytest.raises(ModelError, match="the model is corrupt: tensor 20"):
        graph_of(load_model(path))


def test_valid_edits_still_load(tmp_path: Path, edit_model: Any) -> None:
    # Values inside their ranges are not corrupt: a zero point at an end of int8, a weight
    # scale that is tiny but positive, another changed, a larger stride.
    def edit(model: Any) -> None:
        _tensor(model, 21).quantization.zeroPoint = [127]
        _tensor(model, 20).quantization.scale[3] = 1e-30
        _tensor(model, 20).quantization.scale[4] *= 1.5
        _tensor(model, 18).quantization.zeroPoint = [0]  # one for all channels, as TFLM reads
        model.subgraphs[0].operators[9].builtinOptions.strideW = 3

    info = load_model(edit_model(MODELS / "kws_tiny.tflite", tmp_path / "ok.tflite", edit))
    assert info.tensors[21].zero_point == 127
