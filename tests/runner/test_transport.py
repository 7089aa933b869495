"""SerialTransport on real pseudo-terminals and sockets: lines, timeouts, garbage, open errors."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tinygen.board import Board
from tinygen.errors import DeviceError
from tinygen.runner.emulator import QemuTransport
from tinygen.runner.transport import MAX_LINE_BYTES, LineBuffer, SerialTransport, Transport

from .fake_device import FakeDevice


@pytest.fixture
def device() -> Iterator[FakeDevice]:
    with FakeDevice(lambda command: f"echo {command}\r\n".encode()) as fake:
        yield fake


def test_lines_both_ways(device: FakeDevice) -> None:
    with SerialTransport(device.path, 115200) as port:
        port.write(b"hello%")
        assert port.readline(2.0) == "echo hello"
        device.send(b"a\r\nb\n")
        assert [port.readline(2.0), port.readline(2.0)] == ["a", "b"]


def test_readline_times_out_with_none(device: FakeDevice) -> None:
    with SerialTransport(device.path) as port:
        device.send(b"no newline yet")
        assert port.readline(0.2) is None
        device.send(b"\r\n")
        assert port.readline(2.0) == "no newline yet"


def test_garbage_bytes_decode_without_error(device: FakeDevice) -> None:
    with SerialTransport(device.path) as port:
        device.send(bytes(range(256)).replace(b"\n", b"") + b"\r\n")
        line = port.readline(2.0)
        assert line is not None and line.startswith("\x00\x01\x02")
        assert line.count("\ufffd") == 128  # each byte above 0x7f is replaced, none lost


def test_a_stream_without_newlines_is_cut_into_bounded_lines() -> None:
    buffer = LineBuffer()
    buffer.feed(b"x" * (MAX_LINE_BYTES + 5))
    assert buffer.pop_line() == "x" * MAX_LINE_BYTES
    assert buffer.pop_line() is None
    buffer.feed(b"\r\n")
    assert buffer.pop_line() == "xxxxx"


def test_missing_port_is_a_device_error_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(DeviceError) as err:
        SerialTransport(str(tmp_path / "ttyNOPE"))
    assert "does not exist" in err.value.message
    assert err.value.hint is not None and "list_ports" in err.value.hint


def test_busy_port_is_a_device_error_with_a_hint(device: FakeDevice) -> None:
    with SerialTransport(device.path), pytest.raises(DeviceError) as err:
        SerialTransport(device.path)
    assert "busy" in err.value.message
    assert err.value.hint is not None and "another program" in err.value.hint


def test_a_network_bridge_through_a_socket_url() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port_number = server.getsockname()[1]

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            data = b""
            while not data.endswith(b"%"):
                data += conn.recv(64)
            conn.sendall(b"m-name-dut-[bridge]\r\nm-ready\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    with server, SerialTransport(f"socket://127.0.0.1:{port_number}") as port:
        port.write(b"name%")
        assert port.readline(2.0) == "m-name-dut-[bridge]"
        assert port.readline(2.0) == "m-ready"
    thread.join(timeout=2)


def test_qemu_transport_is_a_transport(an386: Board, bringup_elf: Path) -> None:
    transport: Transport = QemuTransport(an386, bringup_elf)  # checked by mypy, used here
    with transport:
        assert transport.readline(10.0) == "m-timestamp-mode-performance"
