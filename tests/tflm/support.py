"""Whether TFLM sources are reachable for tests, and why not (the skip reason)."""

from __future__ import annotations

import os
import shutil
import subprocess

from tinygen.deps import cached_path, load_manifest
from tinygen.native import cmsis_nn

TFLM_URL = "https://github.com/tensorflow/tflite-micro"


def tflm_unreachable_reason() -> str | None:
    """None when tests may fetch or find TFLM; else the reason to skip.

    Tests never reach for the network on their own: they use TFLM only where the user set it up,
    through $TINYGEN_DEPS_DIR or a git ``url.<mirror>.insteadOf`` for the TFLM repository.
    """
    return _unreachable_reason("TFLM", (TFLM_URL,))


def cmsis_nn_unreachable_reason() -> str | None:
    """As tflm_unreachable_reason, for the CMSIS-NN and CMSIS_6 checkouts that native builds
    with ``--kernels cmsis-nn`` compile (also found when tinygen's cache holds them)."""
    pins = [p for p in load_manifest() if p.name in cmsis_nn.PINS]
    if shutil.which("arm-none-eabi-gcc") is not None and all(
            cached_path(p).is_dir() for p in pins):
        return None
    return _unreachable_reason("CMSIS-NN", tuple(p.url for p in pins))


def _unreachable_reason(what: str, urls: tuple[str, ...]) -> str | None:
    if shutil.which("arm-none-eabi-gcc") is None:
        return "arm-none-eabi-gcc is not installed"
    if os.environ.get("TINYGEN_DEPS_DIR"):
        return None
    if shutil.which("git") is None:
        return "git is not installed"
    out = subprocess.run(["git", "config", "--get-regexp", r"^url\..*\.insteadof$"],
                         capture_output=True, text=True, check=False).stdout
    mirrored = {line.split()[-1] for line in out.splitlines() if line.split()}
    if all(url in mirrored for url in urls):
        return None
    return (f"{what} sources not configured: set TINYGEN_DEPS_DIR, or git config --global "
            f"url.<mirror>.insteadOf={urls[0]} (and the other pinned repositories)")
