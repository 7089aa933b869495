"""Fixtures: the harness's host build with the profile compiled in, served on a pseudo-terminal
as a board on a serial port; the profile firmware of kws_tiny built once."""

from __future__ import annotations

import os
import subprocess
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.toolchain import (
    HARNESS_MAIN,
    HOST_PORT,
    SANITIZER_ENV,
    build_host_program,
    find_host_cc,
)
from tests.profile.support import KWS_TINY_OPS


@pytest.fixture(scope="session")
def profile_host_program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The harness and host_port.c with TINYGEN_PROFILE: kws_tiny's operator count of fake
    operators, operator i taking 1000 * (i + 1) ticks of a 1 MHz counter; without the port's
    h- lines, which the runner (rightly) refuses."""
    cc = find_host_cc()
    if cc is None:
        pytest.skip("no host gcc to compile the harness with")
    out = tmp_path_factory.mktemp("profile_host") / "harness_profile"
    return build_host_program(out, [HARNESS_MAIN, HOST_PORT],
                              {"TINYGEN_PROFILE": 1, "EE_PROFILE_OPS": KWS_TINY_OPS,
                               "HOST_QUIET": 1}, cc=cc)


@pytest.fixture
def board_port(profile_host_program: Path) -> Iterator[str]:
    """The path of a serial port with the host harness at the other end, booted."""
    master, slave = os.openpty()
    tty.setraw(slave)  # a plain byte pipe: no echo, no CR/LF translation
    proc = subprocess.Popen([str(profile_host_program)], stdin=master, stdout=master,
                            stderr=subprocess.PIPE, env={**os.environ, **SANITIZER_ENV})
    try:
        yield os.ttyname(slave)
    finally:
        proc.kill()
        _, errors = proc.communicate(timeout=10)
        os.close(master)
        os.close(slave)
    assert not errors, errors.decode(errors="replace")
