"""Fixtures: more bring-up firmwares (the kws01 one is in tests/conftest.py), QEMU sessions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import build_bringup
from tinygen.board import Board, load_board
from tinygen.runner.protocol import DutClient
from tinygen.runner.session import open_transport, start_session
from tinygen.runner.transport import Transport


@pytest.fixture(scope="session")
def an386() -> Board:
    return load_board("mps2_an386")


@pytest.fixture(scope="session")
def bringup_ad_elf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bring-up firmware for ad01 (2560-byte inputs, one lane) for mps2_an386."""
    return build_bringup(tmp_path_factory, "mps2_an386", "ad01")


@pytest.fixture(scope="session")
def netduino_elf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bring-up firmware for netduinoplus2 (STM32F4 USART instead of the CMSDK UART)."""
    return build_bringup(tmp_path_factory, "netduinoplus2", "kws01")


@pytest.fixture
def qemu(an386: Board, bringup_elf: Path) -> Iterator[Transport]:
    with open_transport(an386, bringup_elf, None, None) as transport:
        yield transport


@pytest.fixture
def dut(qemu: Transport) -> DutClient:
    """A started session with the kws01 bring-up firmware in QEMU (strict answers)."""
    client = DutClient(qemu, strict=True)
    start_session(client, emulated=True)
    return client
