"""Post-training int8 quantization of a float model, checked against it (``tinygen quantize``).

Only ``convert`` imports TensorFlow, and only when called: importing this package does not.
"""

from __future__ import annotations

from tinygen.quantize.calibration import Decoding
from tinygen.quantize.compare import Agreement
from tinygen.quantize.pipeline import QuantizeOptions, QuantizeResult, quantize_model

__all__ = ["Agreement", "Decoding", "QuantizeOptions", "QuantizeResult", "quantize_model"]
