"""QEMU for boards with an ``emulator`` section: start it, talk to its UART, always stop it."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType

from tinygen.board import Board, Emulator
from tinygen.errors import DeviceError, InputError, NotEmulatedError, ToolMissingError
from tinygen.process import start as start_child
from tinygen.process import stop as stop_child
from tinygen.runner.fault import describe_qemu_exit

QEMU = "qemu-system-arm"


def require_qemu() -> str:
    exe = shutil.which(QEMU)
    if exe is None:
        raise ToolMissingError(f"{QEMU} is not installed",
                               hint="install it: apt-get install qemu-system-arm")
    return exe


NOT_EMULATED_HINT = ("pick an emulated board with the same core ('tinygen boards' lists them: "
                     "emulated = yes)")


def require_emulated(board: Board, hint: str = NOT_EMULATED_HINT) -> Emulator:
    """The board's emulator; the one check (and exit code, 3) for a board QEMU cannot run.
    ``hint``: what the caller offers instead (a serial port, a terminal program)."""
    if board.emulator is None:
        raise NotEmulatedError(
            f"board {board.name} is not emulated (its description has no emulator section)",
            hint=hint)
    return board.emulator


def qemu_command(board: Board, elf: Path, serial_socket: Path) -> list[str]:
    """The QEMU command line: deterministic time (-icount shift=0: one instruction per virtual
    nanosecond), no display, UART 0 on a Unix socket QEMU waits on before starting the CPU."""
    emulator = require_emulated(board)
    return [
        require_qemu(), "-machine", emulator.qemu_machine, "-nographic",
        "-monitor", "none", "-icount", "shift=0",
        "-chardev", f"socket,id=uart0,path={serial_socket},server=on,wait=on",
        "-serial", "chardev:uart0", *emulator.options, "-kernel", str(elf),
    ]


class QemuTransport:
    """A running QEMU with the firmware; a byte pipe to its first UART.

    Use as a context manager: QEMU is stopped on exit, on errors and on Ctrl-C.
    """

    def __init__(self, board: Board, elf: Path, *, start_timeout: float = 10.0) -> None:
        if not elf.is_file():
            raise InputError(f"{elf} does not exist", hint="build it first: tinygen build")
        self._tmp = tempfile.TemporaryDirectory(prefix="tinygen-qemu-")
        sock_path = Path(self._tmp.name) / "uart0.sock"
        self.command = qemu_command(board, elf, sock_path)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._buffer = b""
        self.elf = elf
        self._output: list[bytes] = []
        try:
            self._proc = start_child(self.command, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            # QEMU's own output (a lockup, a fatal error) is read all along, so a full pipe
            # never stalls it and a stop can be explained.
            self._watcher = threading.Thread(target=self._read_output, daemon=True)
            self._watcher.start()
            self._connect(sock_path, start_timeout)
        except BaseException:
            # Whatever stops the start (a signal, Ctrl-C, an OS error), QEMU must not outlive it.
            self.close()
            raise

    def _connect(self, sock_path: Path, start_timeout: float) -> None:
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                self._sock.connect(str(sock_path))
                break
            except (FileNotFoundError, ConnectionRefusedError) as exc:
                if self._proc.poll() is not None or time.monotonic() > deadline:
                    out = self.output() if self._proc.poll() is not None else ""
                    raise DeviceError(f"QEMU did not start: {out.strip() or exc}",
                                      hint="run the qemu-system-arm command by hand to see why; "
                                           "is the QEMU installed new enough for this machine "
                                           "(qemu-system-arm -machine help)?") from exc
                time.sleep(0.02)

    def write(self, data: bytes) -> None:
        try:
            self._sock.sendall(data)
        except OSError as exc:
            raise DeviceError(f"lost the emulated UART: {exc}",
                              hint="QEMU stopped under tinygen; run again (and check the firmware "
                                   "with tinygen audit)") from exc

    def readline(self, timeout: float) -> str | None:
        """One line without its CR LF, or None if nothing complete arrived within ``timeout``."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self._sock.settimeout(left)
            try:
                chunk = self._sock.recv(4096)
            except TimeoutError:
                return None
            except OSError as exc:
                raise DeviceError(f"lost the emulated UART: {exc}",
                                  hint="QEMU stopped under tinygen; run again (and check the "
                                       "firmware with tinygen audit)") from exc
            if not chunk:
                raise self._exit_error()
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.rstrip(b"\r").decode(errors="replace")

    def _read_output(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            self._output.append(line)
            del self._output[:-400]  # a register dump fits; a flood does not grow memory

    def output(self, wait: float = 5.0) -> str:
        """What QEMU printed, once it has exited (waits up to ``wait`` seconds for that)."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(timeout=wait)
        self._watcher.join(timeout=wait)
        return b"".join(self._output).decode(errors="replace")

    def _exit_error(self) -> DeviceError:
        """Why the UART closed: QEMU's lockup or fatal error in words, else its exit."""
        output = self.output()
        found = describe_qemu_exit(output, self.elf)
        if found is not None:
            return found
        code = self._proc.poll()
        status = f" with status {code}" if code else ""
        return DeviceError(f"QEMU closed the UART (the emulator exited{status})",
                           hint="the firmware may have crashed or been built for another board: "
                                "tinygen audit FIRMWARE.elf --board BOARD, or --log to see its "
                                "last lines")

    def close(self) -> None:
        try:
            self._sock.close()
        finally:
            # Either may be missing when the start was cut short before it made them.
            proc: subprocess.Popen[bytes] | None = getattr(self, "_proc", None)
            watcher: threading.Thread | None = getattr(self, "_watcher", None)
            if proc is not None:
                stop_child(proc)
            if watcher is not None:
                watcher.join(timeout=5.0)
            if proc is not None and proc.stdout:
                proc.stdout.close()
            self._tmp.cleanup()

    def __enter__(self) -> QemuTransport:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
