"""The model as the lowering reads it: tensors with quantization and bytes, ops with options,
made from the ModelInfo tinygen.model parsed (the file is read and checked once)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tinygen.model import ModelInfo
from tinygen.model.dtypes import itemsize, numpy_dtype


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
        return itemsize(self.dtype)

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
        values: np.ndarray = np.frombuffer(self.data, dtype=numpy_dtype(self.dtype))
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


def graph_of(info: ModelInfo) -> Graph:
    """The main subgraph of a model tinygen.model parsed and checked: every index is in range,
    every constant's bytes match its shape and type, every scale and zero point is valid, every
    operator has the options it needs, of its own type."""
    tensors = tuple(
        Tensor(index=t.index, name=t.name, shape=t.shape, dtype=t.dtype, scales=t.scales,
               zero_points=t.zero_points, quantized_dimension=t.quantized_dimension,
               data=t.data)
        for t in info.tensors)
    ops = tuple(Op(index=op.index, kind=op.name, inputs=op.inputs, outputs=op.outputs,
                   options=op.options) for op in info.operators)
    return Graph(path=info.path, sha256=info.sha256, tensors=tensors, ops=ops,
                 inputs=tuple(t.index for t in info.inputs),
                 outputs=tuple(t.index for t in info.outputs))
