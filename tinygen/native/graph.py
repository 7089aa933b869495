"""The model as a typed operator graph: tensors with quantization and bytes, ops with options."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

from tinygen.model import parse_model
from tinygen.ops import builtin_name

_DTYPES: dict[int, str] = {
    value: name.lower()
    for name, value in vars(schema.TensorType).items()
    if not name.startswith("_") and isinstance(value, int)
}
ITEMSIZE = {"int8": 1, "uint8": 1, "int16": 2, "int32": 4, "float32": 4, "int64": 8, "bool": 1}
NUMPY_DTYPES = {"int8": np.int8, "uint8": np.uint8, "int16": np.int16, "int32": np.int32,
                "float32": np.float32, "int64": np.int64, "bool": np.bool_}


@dataclass(frozen=True)
class Tensor:
    """One tensor of the main subgraph; ``data`` holds a constant's bytes, else None."""

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    scales: tuple[float, ...]
    zero_points: tuple[int, ...]
    quantized_dimension: int
    data: bytes | None = field(repr=False)

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    @property
    def elements(self) -> int:
        return math.prod(self.shape)

    @property
    def itemsize(self) -> int:
        return ITEMSIZE.get(self.dtype, 0)

    @property
    def nbytes(self) -> int:
        return self.elements * self.itemsize

    @property
    def scale(self) -> float:
        """The per-tensor scale (the first one of a per-channel tensor)."""
        return self.scales[0] if self.scales else 0.0

    @property
    def zero_point(self) -> int:
        return self.zero_points[0] if self.zero_points else 0

    def array(self) -> np.ndarray:
        """A constant's values, shaped."""
        if self.data is None:
            raise ValueError(f"tensor {self.index} ({self.name}) is not a constant")
        values: np.ndarray = np.frombuffer(self.data, dtype=NUMPY_DTYPES[self.dtype])
        return values.reshape(self.shape)


@dataclass(frozen=True)
class Op:
    """One operator; ``inputs`` may hold -1 for an omitted optional input."""

    index: int
    kind: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options: Mapping[str, Any] = field(hash=False)


@dataclass(frozen=True)
class Graph:
    path: Path
    sha256: str
    tensors: tuple[Tensor, ...]
    ops: tuple[Op, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]

    def tensor(self, index: int) -> Tensor:
        return self.tensors[index]

    def describe(self, op: Op) -> str:
        """How error messages name an operator."""
        outs = ", ".join(self.tensors[i].name or f"#{i}" for i in op.outputs)
        return f"{self.path}: operator {op.index} ({op.kind}, output {outs})"


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return tuple(value.tolist())
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def _options(op: Any) -> dict[str, Any]:
    opts = op.builtinOptions
    if opts is None:
        return {}
    return {k: _plain(v) for k, v in vars(opts).items()}


def _buffer_bytes(buf: Any, data: bytes) -> bytes | None:
    if buf is None:
        return None
    if buf.offset and buf.offset > 1:
        raw = data[buf.offset:buf.offset + buf.size]
        return raw or None
    if buf.data is None:
        return None
    raw = np.asarray(buf.data, dtype=np.uint8).tobytes()
    return raw or None


def read_graph(path: Path) -> Graph:
    """Read the main subgraph of the .tflite file at ``path``.

    This reads what code generation needs on top of tinygen.model: builtin options,
    per-channel quantization and constant bytes. It relies on the checks of
    tinygen.model.parse_model, made here on the same bytes (so that a file changed since
    load_model cannot slip through): every index is in range, every constant's bytes match its
    shape and type, every scale and zero point is valid, every operator has the options it
    needs, of its own type.
    """
    data = Path(path).read_bytes()
    parse_model(data, Path(path))  # raises ModelError on a corrupt file
    model = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
    sg = model.subgraphs[0]
    tensors = []
    for i, t in enumerate(sg.tensors or []):
        q = t.quantization
        scales: tuple[float, ...] = ()
        zero_points: tuple[int, ...] = ()
        qdim = 0
        if q is not None and q.scale is not None:
            scales = tuple(float(np.float32(s)) for s in q.scale)
            zero_points = tuple(int(z) for z in (q.zeroPoint if q.zeroPoint is not None else []))
            qdim = int(q.quantizedDimension or 0)
        buf = model.buffers[t.buffer] if 0 <= t.buffer < len(model.buffers or []) else None
        shape = tuple(int(d) for d in (t.shape if t.shape is not None else []))
        name = t.name.decode("utf-8", errors="replace") if isinstance(t.name, bytes) else (
            t.name or "")
        tensors.append(Tensor(
            index=i, name=name, shape=shape, dtype=_DTYPES.get(t.type, f"type{t.type}"),
            scales=scales, zero_points=zero_points, quantized_dimension=qdim,
            data=_buffer_bytes(buf, data) if t.buffer > 0 else None,
        ))
    ops = []
    for i, op in enumerate(sg.operators or []):
        code = model.operatorCodes[op.opcodeIndex]
        builtin = max(int(code.builtinCode), int(code.deprecatedBuiltinCode))
        kind = "CUSTOM" if builtin == schema.BuiltinOperator.CUSTOM else builtin_name(builtin)
        ops.append(Op(
            index=i, kind=kind,
            inputs=tuple(int(x) for x in (op.inputs if op.inputs is not None else [])),
            outputs=tuple(int(x) for x in (op.outputs if op.outputs is not None else [])),
            options=_options(op),
        ))
    return Graph(
        path=Path(path), sha256=hashlib.sha256(data).hexdigest(), tensors=tuple(tensors),
        ops=tuple(ops), inputs=tuple(int(x) for x in sg.inputs),
        outputs=tuple(int(x) for x in sg.outputs),
    )
