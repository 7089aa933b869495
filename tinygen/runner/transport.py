"""Byte pipes to a benchmark device: the ``Transport`` interface and its serial-port implementation.

``tinygen.runner.emulator.QemuTransport`` (an emulated board) satisfies the same interface.
"""

from __future__ import annotations

import contextlib
import errno
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from tinygen.errors import DeviceError

if TYPE_CHECKING:
    from typing import Self

# A device that sends bytes but never a newline (wrong baud rate, a runaway print) must not grow
# the buffer without bound: this many bytes without LF are returned as one (garbage) line.
MAX_LINE_BYTES = 1 << 20
# How long one read() of the serial port may block; readline() loops until its own deadline.
_POLL_SECONDS = 0.05


class Transport(Protocol):
    """A byte pipe to a device's UART: the host writes commands and reads answer lines."""

    def write(self, data: bytes) -> None:
        """Send ``data``; raise DeviceError when the link is gone."""

    def readline(self, timeout: float) -> str | None:
        """One line without its CR LF (undecodable bytes replaced, never an exception), or
        None when no complete line arrived within ``timeout`` seconds."""

    def close(self) -> None:
        """Release the link (and stop whatever the transport started)."""

    def __enter__(self) -> Transport: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...


def decode_line(raw: bytes) -> str:
    """Bytes of one line (LF already removed) as text: trailing CR dropped, garbage replaced."""
    return raw.rstrip(b"\r").decode("utf-8", errors="replace")


class LineBuffer:
    """Splits a byte stream into lines; bounded, so a stream without newlines cannot grow it."""

    def __init__(self) -> None:
        self._data = b""

    def feed(self, chunk: bytes) -> None:
        self._data += chunk

    def pop_line(self) -> str | None:
        if b"\n" in self._data:
            line, self._data = self._data.split(b"\n", 1)
            return decode_line(line)
        if len(self._data) >= MAX_LINE_BYTES:
            line, self._data = self._data[:MAX_LINE_BYTES], self._data[MAX_LINE_BYTES:]
            return decode_line(line)
        return None


def _open_error(port: str, exc: Exception) -> DeviceError:
    """A DeviceError for a port that would not open, with a hint that fits the cause."""
    code = getattr(exc, "errno", None)
    text = str(exc)
    if code == errno.ENOENT or "No such file" in text or "FileNotFoundError" in text:
        return DeviceError(
            f"serial port {port} does not exist",
            hint="list the ports with: python -m serial.tools.list_ports -v "
                 "(is the board plugged in?)")
    if code in (errno.EBUSY, errno.EAGAIN, errno.EWOULDBLOCK) or "lock" in text.lower():
        return DeviceError(
            f"serial port {port} is busy: {text}",
            hint="another program holds it (a serial monitor, a debugger, another tinygen); "
                 "close it and retry")
    if code in (errno.EACCES, errno.EPERM):
        return DeviceError(
            f"no permission to open serial port {port}",
            hint="on Linux add yourself to the 'dialout' group (then log in again)")
    return DeviceError(f"cannot open serial port {port}: {text}",
                       hint="check the port name and that no other program uses it")


class SerialTransport:
    """A board on a serial port (pyserial). ``port`` may also be a pyserial URL such as
    ``socket://host:4000`` or ``rfc2217://host:4000`` for a board behind a network bridge."""

    def __init__(self, port: str, baud: int = 115200) -> None:
        try:
            import serial  # lazily: only commands that talk to a board need pyserial
        except ImportError as exc:  # pragma: no cover - pyserial is a dependency
            raise DeviceError("pyserial is not installed", hint="pip install pyserial") from exc
        self.port = port
        self.baud = baud
        self._buffer = LineBuffer()
        self._serial_error: type[Exception] = serial.SerialException
        try:
            # exclusive: a second program on the same port would steal half of the answers.
            self._port: Any = serial.serial_for_url(port, baudrate=baud, timeout=_POLL_SECONDS,
                                                    write_timeout=10.0, exclusive=True)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise _open_error(port, exc) from exc

    def write(self, data: bytes) -> None:
        try:
            self._port.write(data)
            self._port.flush()
        except (self._serial_error, OSError) as exc:
            raise DeviceError(f"lost serial port {self.port}: {exc}",
                              hint="check the cable and that no other program holds the port, "
                                   "then run again") from exc

    def readline(self, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while True:
            line = self._buffer.pop_line()
            if line is not None:
                return line
            if time.monotonic() >= deadline:
                return None
            try:
                waiting = self._port.in_waiting
                chunk = self._port.read(max(1, waiting))
            except (self._serial_error, OSError) as exc:
                raise DeviceError(f"lost serial port {self.port}: {exc}",
                                  hint="check the cable and that no other program holds the port, "
                                       "then run again") from exc
            if chunk:
                self._buffer.feed(bytes(chunk))

    def close(self) -> None:
        # Closing a port that vanished (board unplugged) is not an error.
        with contextlib.suppress(self._serial_error, OSError):
            self._port.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
