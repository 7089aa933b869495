"""Ctrl-C, SIGTERM and SIGHUP stop tinygen with real QEMU: children stopped, nothing half-written
left behind, the shell's exit code (130, 143, 129), no traceback.

Each tinygen here is started with SIGINT at its default disposition. A shell starts background
jobs (``cmd &`` in a script, as some CI runners do) with SIGINT ignored, and every process below
inherits that: a SIGINT sent to tinygen then does nothing, as POSIX intends. That is why this
test once saw a finished run (exit 0) in full-suite runs started that way and never alone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.commands.cli_support import needs_qemu_and_gcc
from tests.processes import qemu_children
from tinygen.runner.dataset import synthetic_input

pytestmark = needs_qemu_and_gcc

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"
SIGNALS = [(signal.SIGINT, 130, "error: interrupted"),
           (signal.SIGTERM, 143, "error: terminated by SIGTERM"),
           (signal.SIGHUP, 129, "error: terminated by SIGHUP")]


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _tinygen(*argv: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tinygen", *argv], cwd=REPO, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint,
        env={**os.environ, **(env or {})})


def _wait_for_qemu(proc: subprocess.Popen[str], seconds: float = 300) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        if qemu := qemu_children(proc.pid):
            return qemu
        time.sleep(0.02)
    _, err = proc.communicate() if proc.poll() is not None else ("", "")
    pytest.fail(f"QEMU did not start under tinygen (exit {proc.poll()}): {err[-2000:]}")


def _gone(pids: list[int]) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if not any(Path(f"/proc/{pid}").exists() for pid in pids):
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def accuracy_run(kws_elf: Path, tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """``tinygen bench`` in accuracy mode over 400 inputs: long enough to stop in the middle."""
    data = tmp_path / "data"
    (data / "kws01").mkdir(parents=True)
    rows = []
    for i in range(400):
        (data / "kws01" / f"in{i}.bin").write_bytes(synthetic_input(490, i))
        rows.append(f"in{i}.bin,12,{i % 12}\n")
    (data / "kws01" / "y_labels.csv").write_text("".join(rows))
    # A model firmware: the bring-up one has no accuracy and is refused in this mode.
    proc = _tinygen("bench", "--board", "mps2_an386", "--elf", str(kws_elf), "--mode",
                    "accuracy", "--dataset", str(data), "--out", str(tmp_path / "results.json"))
    yield proc
    if proc.poll() is None:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize(("signum", "code", "said"), SIGNALS, ids=lambda v: str(v))
def test_a_signal_during_bench_stops_qemu(accuracy_run: subprocess.Popen[str], signum: int,
                                          code: int, said: str, tmp_path: Path) -> None:
    qemu = _wait_for_qemu(accuracy_run)
    accuracy_run.send_signal(signum)
    _, err = accuracy_run.communicate(timeout=60)
    assert accuracy_run.returncode == code, err
    assert said in err and "Traceback" not in err
    assert _gone(qemu), "QEMU outlived tinygen"
    assert not (tmp_path / "results.json").exists()


def test_sigterm_during_the_probe_stops_qemu_and_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "fw"
    proc = _tinygen("build", "--runtime", "native", "--board", "mps2_an386", "--model",
                    str(MODELS / "kws_tiny.tflite"), "--out", str(out),
                    env={"TINYGEN_CACHE": str(tmp_path / "cache")})  # no cached probe result
    try:
        qemu = _wait_for_qemu(proc)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, err
    assert "error: terminated by SIGTERM" in err and "Traceback" not in err
    assert _gone(qemu), "QEMU outlived tinygen"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache"]  # no fw, fw.partial, fw.failed


# Python itself is up (site and its .pth hooks loaded, which tinygen cannot guard); from here on,
# whatever tinygen is doing (importing its modules, parsing, building), Ctrl-C is quiet.
# The marker comes where the `tinygen` script pip writes calls run(): after its one import.
_STARTED = ("import sys; from tinygen import run; sys.stderr.write('python-up\\n'); "
            "sys.stderr.flush(); sys.argv[0] = 'tinygen'; run()")


@pytest.mark.parametrize("delay", [0.05, 0.1, 0.2, 0.4])
def test_ctrl_c_right_after_start_is_no_traceback(delay: float, tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _STARTED, "build", "--runtime", "native", "--board",
         "mps2_an386", "--model", str(MODELS / "kws_tiny.tflite"), "--out", str(tmp_path / "fw")],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=_default_sigint, env={**os.environ, "TINYGEN_CACHE": str(tmp_path / "cache")})
    assert proc.stderr is not None
    assert proc.stderr.readline() == "python-up\n"
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert "Traceback" not in err, err
    assert proc.returncode == 130, err
    assert "error: interrupted" in err
    assert not (tmp_path / "fw").exists() and not (tmp_path / "fw.partial").exists()
