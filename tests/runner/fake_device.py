"""A scripted device on a real pseudo-terminal, for what real firmware never does (stay silent,
send garbage, wrap its counter): the runner talks to it through the real SerialTransport."""

from __future__ import annotations

import os
import select
import threading
import tty
from collections.abc import Callable

# Given one command (without its '%'), the bytes the device sends back (b"": say nothing).
Handler = Callable[[str], bytes]


def answer(*lines: str, ready: bool = True) -> bytes:
    """Lines as the firmware sends them: CR LF after each, m-ready last."""
    body = "".join(f"{line}\r\n" for line in lines)
    return (body + ("m-ready\r\n" if ready else "")).encode()


class FakeDevice:
    """Owns a pty pair; ``path`` is the device side a SerialTransport opens. A thread reads
    commands from the host side and writes what ``handler`` returns."""

    def __init__(self, handler: Handler, banner: bytes = b"") -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no CR/LF translation: a plain byte pipe
        self.path = os.ttyname(self._slave)
        self.commands: list[str] = []
        self._handler = handler
        self._stop = threading.Event()
        if banner:
            os.write(self._master, banner)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def send(self, data: bytes) -> None:
        os.write(self._master, data)

    def _serve(self) -> None:
        pending = b""
        while not self._stop.is_set():
            readable, _, _ = select.select([self._master], [], [], 0.02)
            if not readable:
                continue
            try:
                pending += os.read(self._master, 4096)
            except OSError:
                return
            while b"%" in pending:
                raw, pending = pending.split(b"%", 1)
                command = raw.decode("latin-1")
                self.commands.append(command)
                reply = self._handler(command)
                if reply:
                    os.write(self._master, reply)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        os.close(self._master)
        os.close(self._slave)

    def __enter__(self) -> FakeDevice:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
