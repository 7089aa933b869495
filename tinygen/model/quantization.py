"""What a model computes with: the quantization verdict ``tinygen inspect`` shows and builds
check (ModelInfo.quantization)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tinygen.model.tflite import OperatorInfo, TensorInfo

# Every verdict, for the JSON schema and the CLI's descriptions:
# int8               int8 weights and activations (with the integer internals TFLM's int8
#                    kernels define: int32 biases, int16 state and time weights of SVDF and LSTM)
#                    and integer I/O (int8, or another integer type QUANTIZE converts)
# int16x8            int16 activations, int8 weights (TFLM's 16x8 kernels)
# int8-float-io      float32 I/O converted by QUANTIZE/DEQUANTIZE around int8 compute
# int8-float-island  int8 compute with a float part between DEQUANTIZE and QUANTIZE that TFLM's
#                    float kernels run (a LayerNorm the converter left in float)
# hybrid             dynamic-range quantization: int8 weights, float activations (TFLM has no
#                    such kernels)
# float              no quantized computation
# mixed              anything else
VERDICTS = ("int8", "int16x8", "int8-float-io", "int8-float-island", "hybrid", "float", "mixed")
_INTEGER_IO = frozenset({"int8", "uint8", "int16", "int32"})

FLOAT_TYPES = frozenset({"float32", "float16", "bfloat16", "float64"})
QUANT_TYPES = frozenset({"int8", "int4", "uint8", "int16"})
# Integer types that carry biases, shapes and indices rather than activations or weights.
AUX_TYPES = frozenset({"int32", "int64", "bool", "string"})

# Inputs of TFLM's int8 kernels that are int16 by definition (by input position):
# SVDF's weights_time and activation state; the integer LSTM's cell state and layer-norm
# coefficients (lstm_shared.h).
_INT16_INTERNALS: dict[str, frozenset[int]] = {
    "SVDF": frozenset({2, 4}),
    "UNIDIRECTIONAL_SEQUENCE_LSTM": frozenset({19, 20, 21, 22, 23}),
}
# Operators that multiply activations by constant weights: with float activations and int8
# weights they are hybrid (dynamic-range) kernels.
_WEIGHTED = frozenset({
    "FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV", "BATCH_MATMUL", "SVDF",
    "UNIDIRECTIONAL_SEQUENCE_LSTM", "UNIDIRECTIONAL_SEQUENCE_RNN", "BIDIRECTIONAL_SEQUENCE_LSTM",
    "LSTM", "RNN", "EMBEDDING_LOOKUP", "CONV_3D",
})


def integer_internals(operators: Sequence[OperatorInfo],
                      tensors: Sequence[TensorInfo]) -> tuple[str, ...]:
    """Operators (by name, once each) whose int8 kernels keep int16 internals in this model."""
    found: dict[str, None] = {}
    for op in operators:
        positions = _INT16_INTERNALS.get(op.name, frozenset())
        if any(0 <= i < len(op.inputs) and op.inputs[i] >= 0
               and tensors[op.inputs[i]].dtype == "int16" for i in positions):
            found[op.name] = None
    return tuple(found)


def _compute_tensors(op: OperatorInfo, tensors: Sequence[TensorInfo], input_ids: set[int],
                     output_ids: set[int]) -> list[TensorInfo]:
    """The tensors ``op`` computes with: no I/O conversion, no aux types, no int16 internals."""
    ids = [i for i in op.inputs + op.outputs if i >= 0]
    if op.name == "QUANTIZE" and set(op.inputs) <= input_ids:
        ids = list(op.outputs)
    elif op.name == "DEQUANTIZE" and set(op.outputs) <= output_ids:
        ids = [i for i in op.inputs if i >= 0]
    internal = {op.inputs[i] for i in _INT16_INTERNALS.get(op.name, ())
                if i < len(op.inputs) and op.inputs[i] >= 0
                and tensors[op.inputs[i]].dtype == "int16"}
    return [tensors[i] for i in ids if i not in internal and tensors[i].dtype not in AUX_TYPES]


def compute_dtypes(operators: Sequence[OperatorInfo], tensors: Sequence[TensorInfo],
                   inputs: Sequence[TensorInfo], outputs: Sequence[TensorInfo]) -> set[str]:
    """Types of the weights and activations that the model computes with.

    A QUANTIZE reading a model input and a DEQUANTIZE writing a model output only convert the
    I/O, so their I/O side does not count; int32/int64 tensors (biases, shapes) and the int16
    internals of int8 kernels (SVDF, LSTM state) do not either.
    """
    input_ids = {t.index for t in inputs}
    output_ids = {t.index for t in outputs}
    found: set[str] = set()
    for op in operators:
        found.update(t.dtype for t in _compute_tensors(op, tensors, input_ids, output_ids))
    return found


def _is_hybrid(op: OperatorInfo, computed: list[TensorInfo]) -> bool:
    """Float activations multiplied by quantized constant weights (a dynamic-range kernel)."""
    activations = {t.dtype for t in computed if not t.is_constant}
    weights = {t.dtype for t in computed if t.is_constant}
    return (op.name in _WEIGHTED and bool(activations & FLOAT_TYPES)
            and bool(weights & QUANT_TYPES))


def _float_island(op: OperatorInfo, computed: list[TensorInfo]) -> bool | None:
    """True: the op computes in float only, or converts between int8 and float (the edges of a
    float island); None: it computes in int8 only; False: anything else."""
    types = {t.dtype for t in computed}
    if types <= {"int8"}:
        return None
    if types <= {"float32"}:
        return True
    return op.name in ("QUANTIZE", "DEQUANTIZE") and types == {"int8", "float32"}


def quantization_verdict(operators: Sequence[OperatorInfo], tensors: Sequence[TensorInfo],
                         inputs: Sequence[TensorInfo], outputs: Sequence[TensorInfo]) -> str:
    """One of VERDICTS (see there)."""
    input_ids = {t.index for t in inputs}
    output_ids = {t.index for t in outputs}
    per_op = [(op, _compute_tensors(op, tensors, input_ids, output_ids)) for op in operators]
    compute = {t.dtype for _, computed in per_op for t in computed}
    io_types = {t.dtype for t in (*inputs, *outputs)}
    if compute and compute <= FLOAT_TYPES:
        return "float"
    if any(_is_hybrid(op, computed) for op, computed in per_op):
        return "hybrid"
    if compute <= {"int8"}:
        if io_types <= {"float32"}:
            return "int8-float-io"
        if io_types <= _INTEGER_IO:
            return "int8"  # int8 I/O, or integer I/O that QUANTIZE converts (TFLM's benchmarks)
        return "mixed"
    activations = {t.dtype for _, computed in per_op for t in computed if not t.is_constant}
    weights = {t.dtype for _, computed in per_op for t in computed if t.is_constant}
    if activations == {"int16"} and weights <= {"int8", "int16"} and io_types <= {
            "int16", "float32"}:
        return "int16x8"
    islands = [_float_island(op, computed) for op, computed in per_op]
    if (compute <= {"int8", "float32"} and any(islands) and False not in islands
            and io_types <= {"int8"}):
        return "int8-float-island"
    return "mixed"
