"""The one table of tensor element types: the schema's names, storage bits, numpy types."""

from __future__ import annotations

import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

# Storage bits per element; types that have no fixed size in a buffer are absent (bits 0).
_BITS = {
    "float32": 32, "float16": 16, "bfloat16": 16, "float64": 64, "int64": 64, "uint64": 64,
    "int32": 32, "uint32": 32, "int16": 16, "uint16": 16, "int8": 8, "uint8": 8, "bool": 8,
    "int4": 4, "uint4": 4, "int2": 2, "complex64": 64, "complex128": 128,
    "float8_e4m3fn": 8, "float8_e5m2": 8,
}
# The types whose values tinygen reads or writes as numpy arrays (little-endian, as stored).
_NUMPY = {"int8": np.int8, "uint8": np.uint8, "int16": np.int16, "int32": np.int32,
          "float32": np.float32, "int64": np.int64, "bool": np.bool_}
# Names of the schema's TensorType values, lower case: 9 -> 'int8'.
_NAMES: dict[int, str] = {
    value: name.lower()
    for name, value in vars(schema.TensorType).items()
    if not name.startswith("_") and isinstance(value, int)
}
# Types the schema defines that hold no fixed-size elements.
UNSIZED = ("string", "resource", "variant")


def dtype_name(code: int) -> str:
    """The name of a schema TensorType value ('type<N>' for one this schema does not know)."""
    return _NAMES.get(code, f"type{code}")


def is_known(dtype: str) -> bool:
    return dtype in _BITS or dtype in UNSIZED


def element_bits(dtype: str) -> int:
    """Storage bits of one element (0: no fixed size)."""
    return _BITS.get(dtype, 0)


def itemsize(dtype: str) -> int:
    """Bytes of one element for the whole-byte types (0 for sub-byte and unsized ones)."""
    return element_bits(dtype) // 8


def storage_bytes(dtype: str, elements: int) -> int:
    """Bytes of ``elements`` values stored packed (sub-byte types round up)."""
    return (elements * element_bits(dtype) + 7) // 8


def numpy_dtype(dtype: str) -> type[np.generic]:
    """The numpy type of ``dtype``'s values; KeyError for a type tinygen does not compute with."""
    return _NUMPY[dtype]
