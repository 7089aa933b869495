"""Kernel calls: what the generated graph code does for one operator, in C terms."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from tinygen.errors import ModelError
from tinygen.native import quant
from tinygen.native.graph import Graph, Op, Tensor

RUNTIME_HINT = "build with --runtime tflm, which runs every operator TFLM has"

# C element type per tensor dtype.
CTYPES = {"int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t", "int32": "int32_t",
          "float32": "float"}


class UnsupportedOpError(ModelError):
    """The native runtime cannot generate code for an operator (or its options)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, hint=RUNTIME_HINT)


@dataclass(frozen=True)
class ConstArray:
    """A constant array in flash: weights, folded biases, per-channel multipliers and shifts."""

    name: str
    ctype: str
    values: tuple[int | float | str, ...] = field(repr=False)  # C literals for floats


@dataclass(frozen=True)
class Arg:
    """A runtime argument: a tensor's data, the op's scratch buffer, or a list of tensors."""

    kind: str  # "tensor" | "scratch" | "tensors" (inputs) | "outputs"
    ctype: str
    tensors: tuple[int, ...] = ()
    const: bool = False  # read-only (an input)


@dataclass(frozen=True)
class Call:
    """``function(&params, args...)`` for one operator (or ``function(arg_format)``).

    ``fields`` are the C designated initializers of the params struct (values already C
    literals); ``alias`` says the output shares the input tensor's memory (a RESHAPE), so
    nothing runs; ``inplace`` names an input whose memory the output may reuse; ``lag`` > 0
    says the output may start ``lag`` bytes before the first input and run over it when that
    input dies at the call (tinygen.native.conv_lag).
    """

    op_index: int
    kind: str
    function: str
    struct: str
    fields: tuple[tuple[str, str], ...]
    args: tuple[Arg, ...]
    consts: tuple[ConstArray, ...] = ()
    scratch_bytes: int = 0
    alias: int | None = None
    inplace: int | None = None
    lag: int = 0
    source: str = ""  # the kernel source file (templates/native/kernels/) it needs
    trailing: tuple[str, ...] = ()  # literal arguments after the tensors
    # A library call's whole argument list: {0}, {1}, ... the tensor args in order, {p} the
    # params struct's name, {ctx} the scratch buffer's context (tinygen.native.cmsis_nn).
    arg_format: str = ""
    check: str = ""  # C expression: the library's own scratch size ({p} as above)
    library_sources: tuple[str, ...] = ()  # CMSIS-NN sources (inside its checkout) it needs

    @property
    def output(self) -> int:
        """The tensor the call writes (the first one, for several outputs)."""
        return next(a.tensors[0] for a in self.args
                    if (a.kind == "tensor" and not a.const) or a.kind == "outputs")


def c_int_array(values: Sequence[int]) -> str:
    return "{" + ", ".join(str(int(v)) for v in values) + "}"


def c_float(value: float) -> str:
    """An exact float32 literal (hexadecimal floating constant)."""
    v = float(np.float32(value))
    if v == 0.0:
        return "0.0f"
    return f"{v.hex()}f"


def c_literal(value: int | float | bool | Sequence[int] | str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return c_float(value)
    return c_int_array(list(value))


def fields_of(**values: int | float | bool | Sequence[int] | str) -> tuple[tuple[str, str], ...]:
    """Designated initializers in the order given."""
    return tuple((name, c_literal(v)) for name, v in values.items())


def int32_wrap(values: np.ndarray) -> tuple[int, ...]:
    """int64 values wrapped to int32 as C's two's complement arithmetic would."""
    return tuple(int(v) for v in values.astype(np.int64).astype(np.uint32).astype(np.int32))


def tensor_array(index: int) -> str:
    """The C name of a constant tensor's array."""
    return f"tg_t{index}"


def params_name(op: Op) -> str:
    return f"tg_op{op.index}"


class Checker:
    """Raises UnsupportedOpError naming the model and the operator."""

    def __init__(self, graph: Graph, op: Op) -> None:
        self.graph = graph
        self.op = op

    def fail(self, what: str) -> UnsupportedOpError:
        return UnsupportedOpError(f"{self.graph.describe(self.op)}: {what}")

    def require(self, condition: bool, what: str) -> None:
        if not condition:
            raise self.fail(what)

    def tensor(self, position: int, dtypes: tuple[str, ...] = ("int8",),
               constant: bool | None = False, rank: int | None = None) -> Tensor:
        """Input ``position`` (or output with a negative position: -1 is output 0)."""
        ids = self.op.inputs if position >= 0 else self.op.outputs
        pos = position if position >= 0 else -position - 1
        what = f"input {pos}" if position >= 0 else f"output {pos}"
        self.require(pos < len(ids) and ids[pos] >= 0, f"{what} is missing")
        t = self.graph.tensor(ids[pos])
        self.require(t.dtype in dtypes,
                     f"{what} is {t.dtype}; the native runtime takes {'/'.join(dtypes)} here")
        if constant is not None:
            self.require(t.is_constant == constant,
                         f"{what} must {'' if constant else 'not '}be a constant")
        if rank is not None:
            self.require(len(t.shape) == rank, f"{what} must have {rank} dimensions")
        if t.dtype in ("int8", "int16") and not t.is_constant:
            self.require(len(t.scales) == 1, f"{what} needs per-tensor quantization")
        return t

    def optional(self, position: int) -> int | None:
        ids = self.op.inputs
        return ids[position] if position < len(ids) and ids[position] >= 0 else None

    def activation(self, output: Tensor) -> tuple[int, int]:
        act = int(self.op.options.get("fusedActivationFunction", 0) or 0)
        self.require(act in (quant.ACT_NONE, quant.ACT_RELU, quant.ACT_RELU6,
                             quant.ACT_RELU_N1_TO_1),
                     f"fused activation {act} is not supported")
        return quant.activation_range(act, output.scale, output.zero_point)
