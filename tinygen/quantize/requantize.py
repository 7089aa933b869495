"""Give an int8 model's input a chosen quantization by requantizing it inside the model.

MLPerf Tiny datasets hold inputs already quantized for the reference int8 model (kws01: int8,
scale 0.5847029, zero point 83), and the benchmark runner sends those bytes to the firmware as
they are. Calibration picks its own input scale and zero point from the samples it sees, so a
new model would read the same bytes as slightly different values. Putting a QUANTIZE
(int8 -> int8) in front of the calibrated input makes the model take the data's own
quantization and changes nothing else.
"""

from __future__ import annotations

import flatbuffers
import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

from tinygen.errors import ModelError

# QUANTIZE's version for int8 output (TFLite's op versioning); TFLM ignores versions.
_QUANTIZE_VERSION = 2


def input_quantization(data: bytes) -> tuple[float, int] | None:
    """The (scale, zero point) of input 0, if it is int8 with one scale."""
    model = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
    graph = model.subgraphs[0]
    tensor = graph.tensors[int(graph.inputs[0])]
    q = tensor.quantization
    if tensor.type != schema.TensorType.INT8 or q is None or q.scale is None or len(q.scale) != 1:
        return None
    zero_points = q.zeroPoint if q.zeroPoint is not None else [0]
    return float(q.scale[0]), int(zero_points[0])


def pin_input_quantization(data: bytes, scale: float, zero_point: int) -> bytes:
    """``data`` whose int8 input takes (``scale``, ``zero_point``); unchanged if it already
    does (compared as float32, as the flatbuffer stores them)."""
    current = input_quantization(data)
    if current is None:
        raise ModelError("the quantized model's input is not int8 with one scale",
                         hint="quantize the model again (tinygen quantize)")
    if np.float32(current[0]) == np.float32(scale) and current[1] == zero_point:
        return data
    if not -128 <= zero_point <= 127:
        raise ModelError(f"an int8 input cannot have zero point {zero_point}",
                         hint="int8 zero points lie in -128..127")
    model = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
    graph = model.subgraphs[0]
    old = int(graph.inputs[0])
    calibrated = graph.tensors[old]

    new = schema.TensorT()
    new.name = calibrated.name
    calibrated.name = (calibrated.name or b"input") + b"/requantized"
    new.shape = calibrated.shape
    new.shapeSignature = calibrated.shapeSignature
    new.type = schema.TensorType.INT8
    new.buffer = len(model.buffers)
    model.buffers.append(schema.BufferT())
    new.quantization = schema.QuantizationParametersT()
    new.quantization.scale = [float(scale)]
    new.quantization.zeroPoint = [int(zero_point)]
    graph.tensors.append(new)
    new_index = len(graph.tensors) - 1

    op = schema.OperatorT()
    op.opcodeIndex = _quantize_opcode(model)
    op.inputs = [new_index]
    op.outputs = [old]
    op.builtinOptionsType = schema.BuiltinOptions.QuantizeOptions
    op.builtinOptions = schema.QuantizeOptionsT()
    graph.operators.insert(0, op)
    graph.inputs[0] = new_index
    for signature in model.signatureDefs or []:
        for io in signature.inputs or []:
            if io.tensorIndex == old:
                io.tensorIndex = new_index

    builder = flatbuffers.Builder(len(data) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _quantize_opcode(model: schema.ModelT) -> int:
    """Index of a QUANTIZE operator code, added if the model has none."""
    code = schema.BuiltinOperator.QUANTIZE
    for i, oc in enumerate(model.operatorCodes):
        if max(oc.builtinCode, oc.deprecatedBuiltinCode) == code:
            oc.version = max(oc.version, _QUANTIZE_VERSION)
            return i
    oc = schema.OperatorCodeT()
    oc.builtinCode = code
    oc.deprecatedBuiltinCode = code  # codes below 127 are kept in both fields
    oc.version = _QUANTIZE_VERSION
    model.operatorCodes.append(oc)
    return len(model.operatorCodes) - 1
