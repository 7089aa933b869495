"""The arguments several commands share: value types (sizes, seconds, counts, lists) and the
one ``--board`` option."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from tinygen import units
from tinygen.runner.modes import MAX_ITERATIONS


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


# Counts up to the largest the firmware's `infer` takes (2**31 - 1).
positive_int = whole_number(1, MAX_ITERATIONS)
non_negative_int = whole_number(0, MAX_ITERATIONS)
baud_rate = whole_number(1, 100_000_000)


def non_negative_seconds(text: str) -> float:
    """Seconds >= 0 (0: not at all), at most a day."""
    return seconds(text, allow_zero=True)


def name_list(text: str) -> list[str]:
    """``a,b, c`` -> ['a', 'b', 'c'] (empty parts dropped)."""
    return [part.strip() for part in text.split(",") if part.strip()]


BOARD_HELP = "board name (see 'tinygen boards') or a board .yaml"


def add_board_argument(p: argparse.ArgumentParser, required: bool = True,
                       note: str = "") -> None:
    """``--board``, declared once for every command; ``note`` says what the command needs of
    it (an emulated board) or does without it."""
    p.add_argument("--board", required=required,
                   help=f"{BOARD_HELP}{f' ({note})' if note else ''}")
