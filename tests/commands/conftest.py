"""Fixtures of the command tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import MODELS, require_tools
from tinygen.board import load_board
from tinygen.build_options import BuildOptions
from tinygen.firmware import build_firmware


@pytest.fixture
def elf(bringup_elf: Path) -> Path:
    """The session's bring-up firmware for mps2_an386 (tests/conftest.py)."""
    return bringup_elf


@pytest.fixture(scope="session")
def kws_elf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A firmware with a model (models/kws_tiny.tflite, kws01: 12 classes) for mps2_an386,
    with the native runtime (no TFLM needed)."""
    require_tools()
    out = tmp_path_factory.mktemp("kws-native") / "fw"
    return build_firmware(BuildOptions(board=load_board("mps2_an386"), out_dir=out,
                                       model_path=MODELS / "kws_tiny.tflite",
                                       runtime="native")).elf
