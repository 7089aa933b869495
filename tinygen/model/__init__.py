"""The model stage: a .tflite file parsed and checked once into a frozen ``ModelInfo``
(tflite.py, contents.py), what it computes with (quantization.py) and the one dtype table
(dtypes.py)."""

from tinygen.model.buildable import check_buildable
from tinygen.model.tflite import (
    SCHEMA_VERSION,
    ModelInfo,
    OperatorInfo,
    TensorInfo,
    load_model,
    parse_model,
)

__all__ = ["SCHEMA_VERSION", "ModelInfo", "OperatorInfo", "TensorInfo", "check_buildable",
           "load_model", "parse_model"]
