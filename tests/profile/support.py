"""What the profile tests share: the model they profile."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
KWS_TINY = REPO / "models" / "kws_tiny.tflite"
KWS_TINY_OPS = 12  # its operators (tinygen inspect)
