"""The builtin operators TFLM runs (at the pinned commit) and how to register each one."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

# The TFLM commit this table was read from (the commit tinygen builds against).
TFLM_COMMIT = "90b983c2b3f1"

# Kernel headers that declare an int8 registration but that micro_mutable_op_resolver.h does
# not include, so generated code must include them itself.
PAD_H = "tensorflow/lite/micro/kernels/pad.h"
TRANSPOSE_H = "tensorflow/lite/micro/kernels/transpose.h"
RESOLVER_H = "tensorflow/lite/micro/micro_mutable_op_resolver.h"


@dataclass(frozen=True)
class OpSupport:
    """How to add one builtin operator to a ``tflite::MicroMutableOpResolver``.

    ``int8_registration`` names the ``tflite::Register_<OP>_INT8()`` variant where TFLM declares
    one. With CMSIS_NN defined it selects the int8-only CMSIS-NN kernel (smaller and faster);
    without it, the kernel header defines it inline as the reference registration, so the call
    compiles for every kernel set. Use it only when the operator's tensors are all int8.
    ``int8_header`` is the header that declares it.
    """

    resolver_method: str
    int8_registration: str | None = None
    int8_header: str = RESOLVER_H


def _int8(op: str, header: str = RESOLVER_H) -> tuple[str, str]:
    return f"Register_{op}_INT8", header


# Builtin name -> resolver method, from tensorflow/lite/micro/micro_mutable_op_resolver.h at
# TFLM_COMMIT; the int8 variants from tensorflow/lite/micro/kernels/*.h at the same commit.
# Custom operators (the signal library, TFLM_DECODE, detection post-processing, Ethos-U) are
# left out on purpose: tinygen's builds do not compile their kernels.
_TABLE: dict[str, tuple[str, tuple[str, str] | None]] = {
    "ABS": ("AddAbs", None),
    "ADD": ("AddAdd", _int8("ADD")),
    "ADD_N": ("AddAddN", None),
    "ARG_MAX": ("AddArgMax", None),
    "ARG_MIN": ("AddArgMin", None),
    "ASSIGN_VARIABLE": ("AddAssignVariable", None),
    "AVERAGE_POOL_2D": ("AddAveragePool2D", _int8("AVERAGE_POOL_2D")),
    "BATCH_MATMUL": ("AddBatchMatMul", _int8("BATCH_MATMUL")),
    "BATCH_TO_SPACE_ND": ("AddBatchToSpaceNd", None),
    "BROADCAST_ARGS": ("AddBroadcastArgs", None),
    "BROADCAST_TO": ("AddBroadcastTo", None),
    "CALL_ONCE": ("AddCallOnce", None),
    "CAST": ("AddCast", None),
    "CEIL": ("AddCeil", None),
    "CONCATENATION": ("AddConcatenation", None),
    "CONV_2D": ("AddConv2D", _int8("CONV_2D")),
    "COS": ("AddCos", None),
    "CUMSUM": ("AddCumSum", None),
    "DEPTH_TO_SPACE": ("AddDepthToSpace", None),
    "DEPTHWISE_CONV_2D": ("AddDepthwiseConv2D", _int8("DEPTHWISE_CONV_2D")),
    "DEQUANTIZE": ("AddDequantize", None),
    "DIV": ("AddDiv", None),
    "DYNAMIC_UPDATE_SLICE": ("AddDynamicUpdateSlice", None),
    "ELU": ("AddElu", None),
    "EMBEDDING_LOOKUP": ("AddEmbeddingLookup", None),
    "EQUAL": ("AddEqual", None),
    "EXP": ("AddExp", None),
    "EXPAND_DIMS": ("AddExpandDims", None),
    "FILL": ("AddFill", None),
    "FLOOR": ("AddFloor", None),
    "FLOOR_DIV": ("AddFloorDiv", None),
    "FLOOR_MOD": ("AddFloorMod", None),
    "FULLY_CONNECTED": ("AddFullyConnected", _int8("FULLY_CONNECTED")),
    "GATHER": ("AddGather", None),
    "GATHER_ND": ("AddGatherNd", None),
    "GREATER": ("AddGreater", None),
    "GREATER_EQUAL": ("AddGreaterEqual", None),
    "HARD_SWISH": ("AddHardSwish", None),
    "IF": ("AddIf", None),
    "L2_NORMALIZATION": ("AddL2Normalization", None),
    "L2_POOL_2D": ("AddL2Pool2D", None),
    "LEAKY_RELU": ("AddLeakyRelu", None),
    "LESS": ("AddLess", None),
    "LESS_EQUAL": ("AddLessEqual", None),
    "LOG": ("AddLog", None),
    "LOG_SOFTMAX": ("AddLogSoftmax", None),
    "LOGICAL_AND": ("AddLogicalAnd", None),
    "LOGICAL_NOT": ("AddLogicalNot", None),
    "LOGICAL_OR": ("AddLogicalOr", None),
    "LOGISTIC": ("AddLogistic", None),
    "MAX_POOL_2D": ("AddMaxPool2D", _int8("MAX_POOL_2D")),
    "MAXIMUM": ("AddMaximum", _int8("MAXIMUM")),
    "MEAN": ("AddMean", None),
    "MINIMUM": ("AddMinimum", _int8("MINIMUM")),
    "MIRROR_PAD": ("AddMirrorPad", None),
    "MUL": ("AddMul", _int8("MUL")),
    "NEG": ("AddNeg", None),
    "NOT_EQUAL": ("AddNotEqual", None),
    "PACK": ("AddPack", None),
    "PAD": ("AddPad", _int8("PAD", PAD_H)),
    "PADV2": ("AddPadV2", None),
    "PRELU": ("AddPrelu", None),
    "QUANTIZE": ("AddQuantize", None),
    "READ_VARIABLE": ("AddReadVariable", None),
    "REDUCE_ALL": ("AddReduceAll", None),
    "REDUCE_MAX": ("AddReduceMax", None),
    "REDUCE_MIN": ("AddReduceMin", None),
    "RELU": ("AddRelu", None),
    "RELU6": ("AddRelu6", None),
    "RESHAPE": ("AddReshape", None),
    "RESIZE_BILINEAR": ("AddResizeBilinear", None),
    "RESIZE_NEAREST_NEIGHBOR": ("AddResizeNearestNeighbor", None),
    "REVERSE_V2": ("AddReverseV2", None),
    "ROUND": ("AddRound", None),
    "RSQRT": ("AddRsqrt", None),
    "SELECT_V2": ("AddSelectV2", None),
    "SHAPE": ("AddShape", None),
    "SIN": ("AddSin", None),
    "SLICE": ("AddSlice", None),
    "SOFTMAX": ("AddSoftmax", _int8("SOFTMAX")),
    "SPACE_TO_BATCH_ND": ("AddSpaceToBatchNd", None),
    "SPACE_TO_DEPTH": ("AddSpaceToDepth", None),
    "SPLIT": ("AddSplit", None),
    "SPLIT_V": ("AddSplitV", None),
    "SQRT": ("AddSqrt", None),
    "SQUARE": ("AddSquare", None),
    "SQUARED_DIFFERENCE": ("AddSquaredDifference", None),
    "SQUEEZE": ("AddSqueeze", None),
    "STRIDED_SLICE": ("AddStridedSlice", None),
    "SUB": ("AddSub", None),
    "SUM": ("AddSum", None),
    "SVDF": ("AddSvdf", _int8("SVDF")),
    "TANH": ("AddTanh", None),
    "TRANSPOSE": ("AddTranspose", _int8("TRANSPOSE", TRANSPOSE_H)),
    "TRANSPOSE_CONV": ("AddTransposeConv", _int8("TRANSPOSE_CONV")),
    "UNIDIRECTIONAL_SEQUENCE_LSTM": (
        "AddUnidirectionalSequenceLSTM", _int8("UNIDIRECTIONAL_SEQUENCE_LSTM")),
    "UNPACK": ("AddUnpack", None),
    "VAR_HANDLE": ("AddVarHandle", None),
    "WHILE": ("AddWhile", None),
    "ZEROS_LIKE": ("AddZerosLike", None),
}

SUPPORTED_OPS: dict[str, OpSupport] = {
    name: OpSupport(method, *int8) if int8 else OpSupport(method)
    for name, (method, int8) in _TABLE.items()
}


@cache
def _builtin_names() -> dict[int, str]:
    return {
        value: name
        for name, value in vars(schema.BuiltinOperator).items()
        if not name.startswith("_") and isinstance(value, int)
    }


def builtin_name(code: int) -> str:
    """The schema's name of a builtin operator code (3 -> 'CONV_2D').

    A code newer than the schema bundled with tflite-micro gets a made-up name, so that it shows
    up as unsupported instead of failing the whole inspection.
    """
    return _builtin_names().get(code, f"BUILTIN_{code}")


def is_supported(name: str) -> bool:
    """Whether TFLM has a builtin kernel for the operator named ``name`` (a builtin_name)."""
    return name in SUPPORTED_OPS


def resolver_call(name: str, int8: bool) -> str:
    """The C++ call adding operator ``name`` to a resolver, without the object: 'AddConv2D()'.

    With ``int8`` and an int8 variant, it passes that registration explicitly:
    'AddConv2D(tflite::Register_CONV_2D_INT8())'.
    """
    support = SUPPORTED_OPS[name]
    if int8 and support.int8_registration:
        return f"{support.resolver_method}(tflite::{support.int8_registration}())"
    return f"{support.resolver_method}()"
