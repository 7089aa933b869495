"""Writing or checking a generated model file, shared by the model-making scripts."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path
from typing import Any


def write_or_check(target: Path, data: bytes, check: bool) -> bool:
    """Write ``data`` to ``target`` (or, with ``check``, compare); True if the file differs."""
    digest = hashlib.sha256(data).hexdigest()
    if check:
        same = target.is_file() and target.read_bytes() == data
        print(f"{'same' if same else 'DIFFERS'}  {digest}  {target.name}")
        return not same
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    print(f"{len(data):7d} B  {digest}  {target.name}")
    return False


def import_tensorflow() -> Any:
    """TensorFlow, configured for reproducible conversions: quiet logs, and no oneDNN, whose
    float rounding varies by CPU and would change calibration ranges (and so the bytes) from one
    machine to another. Exits with the install hint when TensorFlow is missing."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    try:
        import tensorflow as tf
    except ImportError:  # pragma: no cover - depends on the environment
        sys.exit("error: TensorFlow is needed: pip install 'tinygen[quantize]' (or "
                 "tensorflow-cpu)")
    return tf
