"""Whether TFLM sources are reachable for tests, and why not (the skip reason)."""

from __future__ import annotations

import os
import shutil
import subprocess

TFLM_URL = "https://github.com/tensorflow/tflite-micro"


def tflm_unreachable_reason() -> str | None:
    """None when tests may fetch or find TFLM; else the reason to skip.

    Tests never reach for the network on their own: they use TFLM only where the user set it up,
    through $TINYGEN_DEPS_DIR or a git ``url.<mirror>.insteadOf`` for the TFLM repository.
    """
    if shutil.which("arm-none-eabi-gcc") is None:
        return "arm-none-eabi-gcc is not installed"
    if os.environ.get("TINYGEN_DEPS_DIR"):
        return None
    if shutil.which("git") is None:
        return "git is not installed"
    out = subprocess.run(["git", "config", "--get-regexp", r"^url\..*\.insteadof$"],
                         capture_output=True, text=True, check=False).stdout
    if any(line.split()[-1] == TFLM_URL for line in out.splitlines() if line.split()):
        return None
    return (f"TFLM sources not configured: set TINYGEN_DEPS_DIR, or git config --global "
            f"url.<mirror>.insteadOf={TFLM_URL} (and the other pinned repositories)")
