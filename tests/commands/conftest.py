"""Fixtures of the command tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def elf(bringup_elf: Path) -> Path:
    """The session's bring-up firmware for mps2_an386 (tests/conftest.py)."""
    return bringup_elf
