"""Fixtures of the audit tests: one stand-in firmware per core, built once per session."""

from __future__ import annotations

import pytest

from tests.audit.support import CPU_FLAGS, GCC, Firmware, build_firmware, write_board
from tinygen.board import Board, load_board


@pytest.fixture(scope="session")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Firmware]:
    if GCC is None:
        pytest.skip("arm-none-eabi-gcc is not installed")
    root = tmp_path_factory.mktemp("audit")
    return {cpu: build_firmware(root / cpu, cpu=cpu) for cpu in CPU_FLAGS}


@pytest.fixture(scope="session")
def m4(builds: dict[str, Firmware]) -> Firmware:
    return builds["cortex-m4"]


@pytest.fixture(scope="session")
def board_m4(tmp_path_factory: pytest.TempPathFactory) -> Board:
    return load_board(str(write_board(tmp_path_factory.mktemp("boards") / "test_m4.yaml")))


