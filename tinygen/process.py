"""Signals and child processes: SIGTERM and SIGHUP stop tinygen as Ctrl-C does, and no child
(SCons and its compilers, QEMU, git) outlives the tinygen that started it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator, Sequence
from types import FrameType
from typing import Any

# Seconds a child gets to stop after SIGTERM before it is killed.
STOP_GRACE_SECONDS = 5.0


class Terminated(BaseException):
    """tinygen received SIGTERM or SIGHUP. A BaseException like KeyboardInterrupt, so every
    ``finally`` and ``except BaseException`` cleanup runs on the way out."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"terminated by {signal.Signals(signum).name}")
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum  # the shell's convention: 143 for SIGTERM, 129 for SIGHUP


_stopping = False


def _on_signal(signum: int, frame: FrameType | None) -> None:
    global _stopping
    if _stopping:
        return  # a second signal must not interrupt the cleanup the first one started
    _stopping = True
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated(signum)


@contextlib.contextmanager
def signals_handled() -> Iterator[None]:
    """While inside: SIGTERM and SIGHUP raise Terminated, SIGINT raises KeyboardInterrupt, the
    first of them only (a second one must not cut the cleanup short). The handlers before are
    restored on the way out.

    A SIGINT that the parent set to be ignored stays ignored: that is how a shell starts a
    background job (``tinygen ... &`` in a script), and Ctrl-C at the terminal must not reach it.
    """
    global _stopping
    _stopping = False
    before: dict[int, Any] = {}
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        current = signal.getsignal(signum)
        if current != signal.SIG_IGN:
            before[signum] = current
            signal.signal(signum, _on_signal)
    try:
        yield
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)


def stop(proc: subprocess.Popen[Any], grace: float = STOP_GRACE_SECONDS) -> None:
    """Stop ``proc`` and every process of its group (started by ``start``): SIGTERM, then
    SIGKILL after ``grace`` seconds; reaped either way. A child that already ended is left
    alone (its group is gone with it)."""
    if proc.poll() is not None:
        return
    _signal_group(proc, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
    # The leader may be gone while its children (compilers under SCons) still run.
    _signal_group(proc, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)


def _signal_group(proc: subprocess.Popen[Any], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signum)


def start(cmd: Sequence[str], **popen_kwargs: Any) -> subprocess.Popen[Any]:
    """``subprocess.Popen`` in a process group of its own, so ``stop`` reaches its children too
    and a Ctrl-C at the terminal reaches only tinygen, which then stops the group itself."""
    return subprocess.Popen(list(cmd), start_new_session=True, **popen_kwargs)


@contextlib.contextmanager
def child(cmd: Sequence[str], **popen_kwargs: Any) -> Iterator[subprocess.Popen[Any]]:
    """A child process that is stopped with its whole group when the block is left, however."""
    proc: subprocess.Popen[Any] | None = None
    try:
        proc = start(cmd, **popen_kwargs)
        yield proc
    finally:
        if proc is not None:
            stop(proc)
