"""Sizes as people write them: ``262144``, ``0x40000``, ``256K``, ``1M`` (1024-based)."""

from __future__ import annotations

import re

_SIZE = re.compile(r"^(0x[0-9a-f]+|\d+)\s*(k|kb|kib|m|mb|mib)?$", re.IGNORECASE)
_UNITS = {None: 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1 << 20, "mb": 1 << 20,
          "mib": 1 << 20}
SIZE_EXAMPLES = "262144, 0x40000, 256K, 1M"


def parse_size(text: str) -> int:
    """Bytes from a size; ValueError naming the text when it is none (or not > 0)."""
    m = _SIZE.match(text.strip())
    if not m:
        raise ValueError(f"{text!r} is not a size (examples: {SIZE_EXAMPLES})")
    value = int(m.group(1), 0) * _UNITS[m.group(2).lower() if m.group(2) else None]
    if value <= 0:
        raise ValueError(f"{text!r}: a size must be > 0")
    return value
