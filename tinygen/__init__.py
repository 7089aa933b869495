"""tinygen: MLPerf Tiny benchmark firmware from a quantized model and a board description."""

__version__ = "0.1.0"
