"""Model inspection: parse a .tflite flatbuffer into a frozen ``ModelInfo`` and judge it."""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

from tinygen.benchmarks import match_signature
from tinygen.errors import ModelError
from tinygen.model.contents import (
    dataflow_problem,
    operator_problem,
    tensor_problem,
)
from tinygen.model.dtypes import dtype_name, storage_bytes
from tinygen.model.quantization import (
    quantization_verdict,
)
from tinygen.tflm.ops import builtin_name, is_supported

# The only flatbuffer schema version TFLM accepts (TFLITE_SCHEMA_VERSION).
SCHEMA_VERSION = 3

@dataclass(frozen=True)
class TensorInfo:
    """One tensor; ``scale``/``zero_point`` are set only for per-tensor quantization."""

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    scale: float | None
    zero_point: int | None
    num_scales: int
    nbytes: int
    is_constant: bool
    is_variable: bool = False  # state a kernel keeps from one Invoke to the next (SVDF, LSTM)
    # Every scale and zero point (per-channel ones too) and the axis they run along.
    scales: tuple[float, ...] = ()
    zero_points: tuple[int, ...] = ()
    quantized_dimension: int = 0
    data: bytes | None = field(default=None, repr=False, compare=False)  # a constant's bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index, "name": self.name, "shape": list(self.shape),
            "dtype": self.dtype, "scale": self.scale, "zero_point": self.zero_point,
            "num_scales": self.num_scales, "nbytes": self.nbytes,
        }


@dataclass(frozen=True)
class OperatorInfo:
    """One operator of the main subgraph; ``inputs`` may hold -1 for an omitted optional."""

    index: int
    name: str
    version: int
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    macs: int
    # The builtin options' fields as plain values (tuples, str); empty for none.
    options: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class ModelInfo:
    """What tinygen needs to know about a model, read once from its file.

    ``operators`` and ``tensors`` are those of the main subgraph (0). ``quantization`` is one
    of tinygen.model.quantization.VERDICTS: 'int8' (full integer), 'int16x8', 'int8-float-io',
    'int8-float-island', 'hybrid', 'float' or 'mixed'.
    ``benchmark`` is the MLPerf Tiny benchmark whose int8 I/O signature matches, or None.
    """

    path: Path
    sha256: str
    size_bytes: int
    schema_version: int
    num_subgraphs: int
    operators: tuple[OperatorInfo, ...]
    tensors: tuple[TensorInfo, ...]
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]
    macs: int
    weights_bytes: int
    quantization: str
    unsupported_ops: tuple[str, ...]
    benchmark: str | None
    data: bytes = field(default=b"", repr=False, compare=False)  # the file's bytes

    @property
    def op_counts(self) -> dict[str, int]:
        """Operator name -> how often it occurs, in order of first appearance."""
        counts: dict[str, int] = {}
        for op in self.operators:
            counts[op.name] = counts.get(op.name, 0) + 1
        return counts

    @property
    def macs_per_op(self) -> dict[str, int]:
        """Operator name -> MACs of all its occurrences, in order of first appearance."""
        totals: dict[str, int] = {}
        for op in self.operators:
            totals[op.name] = totals.get(op.name, 0) + op.macs
        return totals

    def op_versions(self, name: str) -> tuple[int, ...]:
        return tuple(sorted({op.version for op in self.operators if op.name == name}))

    def is_int8_op(self, op: OperatorInfo) -> bool:
        """Whether ``op`` may use TFLM's int8-only kernel variant (ops.OpSupport).

        Outputs and activations must be int8; constant inputs int8 (weights) or int32 (bias).
        """
        if not op.outputs:
            return False
        for i in op.outputs:
            if self.tensors[i].dtype != "int8":
                return False
        for i in op.inputs:
            if i < 0:
                continue
            t = self.tensors[i]
            allowed = ("int8", "int32") if t.is_constant else ("int8",)
            if t.dtype not in allowed:
                return False
        return True

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "schema_version": self.schema_version,
            "subgraphs": self.num_subgraphs,
            "quantization": self.quantization,
            "benchmark": self.benchmark,
            "ops": self.op_counts,
            "macs": self.macs,
            "macs_per_op": self.macs_per_op,
            "weights_bytes": self.weights_bytes,
            "unsupported_ops": list(self.unsupported_ops),
            "inputs": [t.to_json() for t in self.inputs],
            "outputs": [t.to_json() for t in self.outputs],
            "operators": [
                {"index": op.index, "name": op.name, "version": op.version, "macs": op.macs,
                 "inputs": list(op.inputs), "outputs": list(op.outputs)}
                for op in self.operators
            ],
        }


# Exceptions the generated binding (flatbuffers + numpy) raises on offsets that point outside
# the file or vectors longer than it: all mean "corrupt", none may reach the user as a traceback.
_CORRUPT = (struct.error, IndexError, ValueError, TypeError, OverflowError, MemoryError)


def load_model(path: Path) -> ModelInfo:
    """Read and check the .tflite file at ``path``; raise ModelError if it is unusable."""
    path = Path(path)
    if not path.exists():
        raise ModelError(f"model file {path} does not exist",
                         hint="pass the path to an int8 .tflite file")
    if not path.is_file():
        raise ModelError(f"{path} is not a file", hint="pass the path to an int8 .tflite file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"{path}: cannot read: {exc.strerror}",
                         hint="check the path and its permissions") from exc
    return parse_model(data, path)


def parse_model(data: bytes, path: Path) -> ModelInfo:
    """Parse the bytes of a .tflite file (``path`` only names it in messages)."""
    if not data:
        raise ModelError(f"{path}: the file is empty",
                         hint="re-export the model; a .tflite file holds a TFLite flatbuffer")
    if len(data) < 8 or not schema.Model.ModelBufferHasIdentifier(data, 0):
        raise ModelError(
            f"{path}: not a TensorFlow Lite model (no 'TFL3' flatbuffer identifier)",
            hint="pass a .tflite file written by TensorFlow's TFLiteConverter",
        )
    try:
        return _parse(data, path)
    except _CORRUPT as exc:
        raise _corrupt(path, f"reading it failed ({type(exc).__name__})") from exc


def _corrupt(path: Path, detail: str) -> ModelError:
    return ModelError(f"{path}: the model is truncated or corrupt: {detail}",
                      hint="copy or convert the model again; compare its sha256 with the source's")


_CONTENT_HINT = ("re-export the model with TensorFlow's TFLiteConverter (or re-quantize it: "
                 "'tinygen quantize'); if a tool edited the file, the edit broke it")


def _bad_content(path: Path, what: str, problem: str) -> ModelError:
    """A flatbuffer that parses but whose values are wrong (tinygen.model.contents)."""
    return ModelError(f"{path}: the model is corrupt: {what}: {problem}", hint=_CONTENT_HINT)


def _check_table(table: Any, size: int, path: Path, what: str) -> None:
    """Check that a table and its vtable lie inside the file.

    Python's struct reads negative offsets from the end of the buffer instead of failing, so a
    corrupt offset would otherwise give garbage rather than an error. The generated classes
    keep their position only in ``_tab`` (a flatbuffers Table); there is no public accessor.
    """
    tab = getattr(table, "_tab", table)  # a generated class, or a bare Table (a union)
    pos = tab.Pos
    if not 0 <= pos <= size - 4:
        raise _corrupt(path, f"{what} lies outside the file")
    # A table starts with a signed offset back to its vtable, which starts with its own size.
    vtable = pos - struct.unpack_from("<i", tab.Bytes, pos)[0]
    if not 0 <= vtable <= size - 4:
        raise _corrupt(path, f"{what} has its field table outside the file")
    vtable_len = struct.unpack_from("<H", tab.Bytes, vtable)[0]
    if vtable_len < 4 or vtable + vtable_len > size:
        raise _corrupt(path, f"{what} has a field table running past the end of the file")


def _ints(values: Any) -> tuple[int, ...]:
    """A vector read with *AsNumpy (the binding returns the int 0 for an absent vector)."""
    if isinstance(values, int):
        return ()
    return tuple(int(v) for v in values)


def _text(raw: bytes | None) -> str:
    return raw.decode("utf-8", errors="replace") if raw else ""


def _parse(data: bytes, path: Path) -> ModelInfo:
    size = len(data)
    model = schema.Model.GetRootAs(data, 0)
    _check_table(model, size, path, "the model table")
    num_subgraphs = model.SubgraphsLength()
    if num_subgraphs < 1:
        raise _corrupt(path, "it has no subgraph")
    sg = model.Subgraphs(0)
    _check_table(sg, size, path, "subgraph 0")

    buffers = _buffers(model, data, path)
    buffer_sizes = [len(b) for b in buffers]
    read = [_tensor(sg, i, buffers, size, path) for i in range(sg.TensorsLength())]
    tensors = tuple(r.info for r in read)
    # Tensors may share a buffer (deduplicated weights): count each buffer once.
    constant_buffers = {r.buffer for r in read if r.info.is_constant}
    opcodes = _opcode_names(model, size, path)

    def checked(indices: Iterable[int], what: str, optional: bool = False) -> tuple[int, ...]:
        out = tuple(indices)
        for i in out:
            if not (0 <= i < len(tensors) or (optional and i == -1)):
                raise _corrupt(path, f"{what} refers to tensor {i} of {len(tensors)}")
        return out

    operators = []
    shapes = [t.shape for t in tensors]
    scales = [r.scales for r in read]
    zero_points = [t.zero_point for t in tensors]
    for i in range(sg.OperatorsLength()):
        op = sg.Operators(i)
        _check_table(op, size, path, f"operator {i}")
        code = op.OpcodeIndex()
        if not 0 <= code < len(opcodes):
            raise _corrupt(path, f"operator {i} uses operator code {code} of {len(opcodes)}")
        name, version = opcodes[code]
        ins = checked(_ints(op.InputsAsNumpy()), f"operator {i}", optional=True)
        outs = checked(_ints(op.OutputsAsNumpy()), f"operator {i}")
        options_type, options = _options(op, size, path, i)
        problem = operator_problem(name, options_type, options, ins, outs, shapes, scales,
                                   zero_points)
        if problem:
            raise _bad_content(path, f"operator {i} ({name})", problem)
        operators.append(OperatorInfo(i, name, version, ins, outs,
                                      count_macs(name, ins, outs, tensors),
                                      _plain_options(options)))

    inputs = tuple(tensors[i] for i in checked(_ints(sg.InputsAsNumpy()), "the input list"))
    outputs = tuple(tensors[i] for i in checked(_ints(sg.OutputsAsNumpy()), "the output list"))
    bad_flow = dataflow_problem([(op.inputs, op.outputs) for op in operators],
                                [t.name for t in tensors], [t.is_constant for t in tensors],
                                {r.info.index for r in read if r.is_variable},
                                [t.index for t in inputs], [t.index for t in outputs])
    if bad_flow:
        what, index, problem = bad_flow
        name = operators[index].name if what == "operator" else tensors[index].name
        raise _bad_content(path, f"{what} {index} ({name})", problem)
    unsupported = tuple(dict.fromkeys(op.name for op in operators if not is_supported(op.name)))
    return ModelInfo(
        path=path,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=size,
        schema_version=model.Version(),
        num_subgraphs=num_subgraphs,
        operators=tuple(operators),
        tensors=tensors,
        inputs=inputs,
        outputs=outputs,
        macs=sum(op.macs for op in operators),
        weights_bytes=sum(buffer_sizes[b] for b in constant_buffers),
        quantization=quantization_verdict(operators, tensors, inputs, outputs),
        unsupported_ops=unsupported,
        benchmark=match_benchmark(inputs, outputs),
        data=data,
    )


def _buffers(model: Any, data: bytes, path: Path) -> list[bytes]:
    """The data of each buffer, checking that it lies inside the file."""
    size = len(data)
    buffers = []
    for b in range(model.BuffersLength()):
        buf = model.Buffers(b)
        _check_table(buf, size, path, f"buffer {b}")
        if buf.Offset() > 1:
            # Models over 2 GB keep their data after the flatbuffer, located by offset and size.
            if buf.Offset() + buf.Size() > size:
                raise _corrupt(path, f"buffer {b} runs past the end of the file")
            buffers.append(data[buf.Offset():buf.Offset() + buf.Size()])
            continue
        # DataAsNumpy raises when the vector runs past the end: that catches truncated weights.
        raw = buf.DataAsNumpy()
        buffers.append(b"" if isinstance(raw, int) else raw.tobytes())
    return buffers


def _plain(value: Any) -> Any:
    """An option's value as plain Python: numpy arrays and lists become tuples, bytes text."""
    if isinstance(value, np.ndarray):
        return tuple(value.tolist())
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def _plain_options(options: dict[str, Any] | None) -> dict[str, Any]:
    return {k: _plain(v) for k, v in (options or {}).items()}


def _options(op: Any, size: int, path: Path, index: int) -> tuple[str, dict[str, Any] | None]:
    """The name of an operator's builtin options type and their fields (None: no options)."""
    kind = int(op.BuiltinOptionsType())
    type_name = _OPTIONS_NAMES.get(kind, f"options type {kind}")
    table = op.BuiltinOptions()
    if kind == 0 or table is None:
        return "NONE", None
    _check_table(table, size, path, f"operator {index}'s options")
    options = schema.BuiltinOptionsCreator(kind, table)
    return type_name, (None if options is None else dict(vars(options)))


_OPTIONS_NAMES: dict[int, str] = {
    value: name for name, value in vars(schema.BuiltinOptions).items()
    if not name.startswith("_") and isinstance(value, int)
}


class _Read(NamedTuple):
    """A tensor as read from the file: its TensorInfo and what only the checks need."""

    info: TensorInfo
    buffer: int
    scales: tuple[float, ...]
    is_variable: bool


def _opcode_names(model: Any, size: int, path: Path) -> list[tuple[str, int]]:
    names = []
    for i in range(model.OperatorCodesLength()):
        oc = model.OperatorCodes(i)
        _check_table(oc, size, path, f"operator code {i}")
        # Schema 3a moved codes above 127 to builtin_code; old files only set the deprecated one.
        code = max(int(oc.BuiltinCode()), int(oc.DeprecatedBuiltinCode()))
        if code == schema.BuiltinOperator.CUSTOM:
            name = f"CUSTOM:{_text(oc.CustomCode())}"
        else:
            name = builtin_name(code)
        names.append((name, int(oc.Version())))
    return names


def _tensor(sg: Any, index: int, buffers: Sequence[bytes], size: int,
            path: Path) -> _Read:
    """Tensor ``index`` of subgraph ``sg``, checked."""
    t = sg.Tensors(index)
    _check_table(t, size, path, f"tensor {index}")
    shape = _ints(t.ShapeAsNumpy())
    dtype = dtype_name(t.Type())
    buffer = t.Buffer()
    if not 0 <= buffer < len(buffers):
        raise _corrupt(path, f"tensor {index} refers to buffer {buffer} of {len(buffers)}")
    scale: float | None = None
    zero_point: int | None = None
    scales: tuple[float, ...] = ()
    zero_points: tuple[int, ...] = ()
    quantized_dimension = 0
    q = t.Quantization()
    if q is not None:
        _check_table(q, size, path, f"tensor {index}'s quantization")
        raw_scales = q.ScaleAsNumpy()
        scales = () if isinstance(raw_scales, int) else tuple(float(s) for s in raw_scales)
        zero_points = _ints(q.ZeroPointAsNumpy())
        quantized_dimension = int(q.QuantizedDimension())
        if len(scales) == 1:
            scale = scales[0]
            zero_point = zero_points[0] if zero_points else 0
    name = _text(t.Name())
    constant = buffers[buffer] if buffer > 0 and buffers[buffer] else None
    problem = tensor_problem(shape, dtype, None if constant is None else len(constant), scales,
                             zero_points, quantized_dimension)
    if problem:
        raise _bad_content(path, f"tensor {index} ({name})", problem)
    elements = math.prod(shape)
    info = TensorInfo(
        index=index,
        name=name,
        shape=shape,
        dtype=dtype,
        scale=scale,
        zero_point=zero_point,
        num_scales=len(scales),
        nbytes=storage_bytes(dtype, elements),
        is_constant=constant is not None,
        is_variable=bool(t.IsVariable()),
        scales=scales,
        zero_points=zero_points,
        quantized_dimension=quantized_dimension,
        data=constant,
    )
    return _Read(info, buffer, scales, bool(t.IsVariable()))


def count_macs(name: str, inputs: Sequence[int], outputs: Sequence[int],
               tensors: Sequence[TensorInfo]) -> int:
    """Multiply-accumulates of one operator; 0 for operators that are not matrix products."""

    def shape(i: int) -> tuple[int, ...]:
        return tensors[i].shape if 0 <= i < len(tensors) else ()

    if not outputs:
        return 0
    out = shape(outputs[0])
    out_elements = math.prod(out) if out else 0
    if name == "CONV_2D" and len(inputs) >= 2:
        # filter [out_ch, kh, kw, in_ch/groups]: each output element sums kh*kw*in_ch products
        f = shape(inputs[1])
        return out_elements * math.prod(f[1:]) if len(f) == 4 else 0
    if name == "DEPTHWISE_CONV_2D" and len(inputs) >= 2:
        # filter [1, kh, kw, out_ch]: each output element sums kh*kw products
        f = shape(inputs[1])
        return out_elements * f[1] * f[2] if len(f) == 4 else 0
    if name == "FULLY_CONNECTED" and len(inputs) >= 2:
        # weights [units, depth]: each output element sums depth products
        f = shape(inputs[1])
        return out_elements * f[-1] if len(f) == 2 else 0
    if name == "TRANSPOSE_CONV" and len(inputs) >= 3:
        # inputs (output_shape, filter [out_ch, kh, kw, in_ch], input): every input element is
        # scattered onto kh*kw*out_ch outputs
        f, x = shape(inputs[1]), shape(inputs[2])
        return math.prod(x) * math.prod(f[:3]) if len(f) == 4 and x else 0
    return 0


def match_benchmark(inputs: Sequence[TensorInfo], outputs: Sequence[TensorInfo]) -> str | None:
    """The MLPerf Tiny benchmark whose int8 I/O signature the model has, if any."""
    if len(inputs) != 1 or len(outputs) != 1:
        return None
    i, o = inputs[0], outputs[0]
    if i.dtype != "int8" or o.dtype != "int8":
        return None
    return match_signature(i.shape, o.shape)
