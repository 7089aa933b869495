"""Fixtures: bring-up firmware built once per session, QEMU sessions on it, datasets."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tinygen.board import Board, load_board
from tinygen.firmware import BuildOptions, build_firmware
from tinygen.runner.protocol import DutClient
from tinygen.runner.session import open_transport, start_session
from tinygen.transport import Transport

TOOLS = ("qemu-system-arm", "arm-none-eabi-gcc")


def require_tools() -> None:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed")


def _build(factory: pytest.TempPathFactory, board: str, benchmark: str) -> Path:
    require_tools()
    out = factory.mktemp(f"bringup-{board}-{benchmark}") / "fw"
    result = build_firmware(BuildOptions(board=load_board(board), out_dir=out,
                                         benchmark=benchmark))
    return result.elf


@pytest.fixture(scope="session")
def an386() -> Board:
    return load_board("mps2_an386")


@pytest.fixture(scope="session")
def bringup_elf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bring-up firmware (kws01: 490-byte inputs, 12 FNV-1a lanes) for mps2_an386."""
    return _build(tmp_path_factory, "mps2_an386", "kws01")


@pytest.fixture(scope="session")
def bringup_ad_elf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bring-up firmware for ad01 (2560-byte inputs, one lane) for mps2_an386."""
    return _build(tmp_path_factory, "mps2_an386", "ad01")


@pytest.fixture(scope="session")
def netduino_elf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bring-up firmware for netduinoplus2 (STM32F4 USART instead of the CMSDK UART)."""
    return _build(tmp_path_factory, "netduinoplus2", "kws01")


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
