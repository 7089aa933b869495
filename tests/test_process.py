"""tinygen/process.py: signals become exceptions once; a stopped child takes its group along."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tinygen.process import Terminated, child, signals_handled, start, stop


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_sigterm_raises_terminated_with_the_shells_exit_code() -> None:
    with pytest.raises(Terminated) as info, signals_handled():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1)
    assert info.value.exit_code == 143 and "SIGTERM" in str(info.value)


def test_a_second_signal_does_not_cut_the_cleanup_short() -> None:
    cleaned = False
    with pytest.raises(Terminated), signals_handled():
        try:
            os.kill(os.getpid(), signal.SIGHUP)
            time.sleep(1)
        finally:
            os.kill(os.getpid(), signal.SIGTERM)  # arrives during the cleanup: ignored
            time.sleep(0.05)
            cleaned = True
    assert cleaned


def test_an_ignored_sigint_stays_ignored() -> None:
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with signals_handled():
            assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) != signal.SIG_DFL
    finally:
        signal.signal(signal.SIGINT, old)


def test_stop_reaches_the_grandchildren() -> None:
    # A shell that starts a long sleep and waits, like SCons waiting on a compiler.
    proc = start(["sh", "-c", "sleep 300 & echo $!; wait"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    grandchild = int(proc.stdout.readline())
    assert _alive(grandchild)
    stop(proc, grace=2)
    deadline = time.monotonic() + 5
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _alive(grandchild) and proc.returncode is not None
    proc.stdout.close()


def test_a_child_is_stopped_when_the_block_is_left_by_an_exception() -> None:
    with pytest.raises(KeyboardInterrupt), child([sys.executable, "-c",
                                                  "import time; time.sleep(300)"]) as proc:
        raise KeyboardInterrupt
    assert proc.returncode is not None


def test_a_finished_child_is_left_alone() -> None:
    with child(["true"]) as proc:
        proc.wait()
    assert proc.returncode == 0
