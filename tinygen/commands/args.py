"""Argument types shared by several commands."""

from __future__ import annotations

import argparse
import re

_SIZE = re.compile(r"^(0x[0-9a-f]+|\d+)\s*(k|kb|kib|m|mb|mib)?$", re.IGNORECASE)
_UNITS = {None: 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1 << 20, "mb": 1 << 20,
          "mib": 1 << 20}


def parse_size(text: str) -> int:
    """Bytes from ``262144``, ``0x40000``, ``256K`` or ``1M`` (K and M are 1024-based)."""
    m = _SIZE.match(text.strip())
    if not m:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a size (examples: 262144, 0x40000, 256K, 1M)")
    value = int(m.group(1), 0) * _UNITS[m.group(2).lower() if m.group(2) else None]
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: a size must be > 0")
    return value
