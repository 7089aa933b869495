"""Fixtures: the harness compiled once per session for the host, with ASan and UBSan."""

from __future__ import annotations

from pathlib import Path

import pytest

from .host_harness import HostHarness
from .toolchain import HARNESS_MAIN, HOST_PORT, build_host_program, find_host_cc


@pytest.fixture(scope="session")
def host_cc() -> str:
    cc = find_host_cc()
    if cc is None:
        pytest.skip("no host gcc to compile the harness with")
    return cc


def _build(factory: pytest.TempPathFactory, cc: str, name: str, **defines: int) -> Path:
    sources = [HARNESS_MAIN, HOST_PORT]
    return build_host_program(factory.mktemp(name) / name, sources, defines, cc=cc)


@pytest.fixture(scope="session")
def harness(host_cc: str, tmp_path_factory: pytest.TempPathFactory) -> HostHarness:
    """MAX_DB_INPUT_SIZE 490 (kws01), the default command buffer of 80."""
    return HostHarness(_build(tmp_path_factory, host_cc, "harness_default"))


@pytest.fixture(scope="session")
def small_harness(host_cc: str, tmp_path_factory: pytest.TempPathFactory) -> HostHarness:
    """EE_CMD_SIZE 32 (the smallest accepted), MAX_DB_INPUT_SIZE 5, EE_CFG_INPUT_BYTES 4."""
    program = _build(
        tmp_path_factory,
        host_cc,
        "harness_small",
        EE_CMD_SIZE=32,
        MAX_DB_INPUT_SIZE=5,
        EE_CFG_INPUT_BYTES=4,
    )
    return HostHarness(program)


# The profile build's operator count: kws_tiny's (models/), which the serial test profiles.
PROFILE_OPS = 12


@pytest.fixture(scope="session")
def profile_harness(host_cc: str, tmp_path_factory: pytest.TempPathFactory) -> HostHarness:
    """A profile build (TINYGEN_PROFILE): th_infer times PROFILE_OPS fake operators."""
    program = _build(tmp_path_factory, host_cc, "harness_profile", TINYGEN_PROFILE=1,
                     EE_PROFILE_OPS=PROFILE_OPS)
    return HostHarness(program)


@pytest.fixture(scope="session")
def overfull_profile_harness(host_cc: str,
                             tmp_path_factory: pytest.TempPathFactory) -> HostHarness:
    """A profile build whose inference runs more operators (5) than it records (3)."""
    program = _build(tmp_path_factory, host_cc, "harness_overfull", TINYGEN_PROFILE=1,
                     EE_PROFILE_OPS=3, HOST_PROFILE_OPS=5)
    return HostHarness(program)
