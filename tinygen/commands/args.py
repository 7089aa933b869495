"""Argument types shared by several commands."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from tinygen import units


def parse_size(text: str) -> int:
    """Bytes from ``262144``, ``0x40000``, ``256K`` or ``1M`` (K and M are 1024-based)."""
    try:
        return units.parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


MAX_SECONDS = 86400.0  # a day: longer is a typo, and select() overflows far beyond it


def seconds(text: str, allow_zero: bool = False) -> float:
    """A finite number of seconds, > 0 (or >= 0 with ``allow_zero``) and at most a day."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise argparse.ArgumentTypeError(
            f"must be a number {'>=' if allow_zero else '>'} 0, not {text}")
    if value > MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"{text} s is more than a day ({MAX_SECONDS:g} s)")
    return value


def whole_number(minimum: int, maximum: int) -> Callable[[str], int]:
    """An argparse type: a whole number in [minimum, maximum]."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, not {value}")
        if value > maximum:
            raise argparse.ArgumentTypeError(f"must be <= {maximum:,}, not {value:,}")
        return value
    return parse
