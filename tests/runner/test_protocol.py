"""DutClient against the real bring-up firmware in QEMU, and against scripted misbehaviour."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tinygen.errors import DeviceError
from tinygen.runner.bringup import BRINGUP_NAME, bringup_outbytes, bringup_scores
from tinygen.runner.fault import DeviceFaultError
from tinygen.runner.protocol import (
    CHUNK_BYTES,
    DeviceBootError,
    DeviceReplyError,
    DutClient,
    InferResult,
    elapsed_us,
)
from tinygen.runner.transport import SerialTransport, Transport

from .fake_device import FakeDevice, Handler, answer

INPUT = bytes((i * 37 + 11) % 256 for i in range(490))


class Log:
    """A SessionRecorder keeping everything in lists."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def sent(self, text: str) -> None:
        self.lines.append((">", text))

    def received(self, line: str) -> None:
        self.lines.append(("<", line))

    def note(self, text: str) -> None:
        self.lines.append(("#", text))


# ---- arithmetic --------------------------------------------------------------------------


def test_elapsed_handles_one_wrap_of_the_32_bit_counter() -> None:
    assert elapsed_us(100, 350) == 250
    assert elapsed_us(0xFFFFFF00, 0x100) == 0x200
    assert elapsed_us(5, 5) == 0
    result = InferResult(iterations=4, warmup=0, t0_us=2**32 - 1000, t1_us=1000, scores=[])
    assert result.elapsed_us == 2000 and result.latency_us == 500.0


# ---- the real firmware in QEMU -----------------------------------------------------------


def test_every_command_of_the_bringup_firmware(dut: DutClient) -> None:
    assert "m-init-done" in dut.boot_lines
    assert dut.name() == BRINGUP_NAME
    assert dut.profile() == ("ULPMark for tinyML Firmware V0.0.1", "kws01")
    assert any("db load" in line for line in dut.help())
    assert dut.timestamp() >= 0
    dut.load(INPUT)
    assert dut.db_print() == INPUT
    result = dut.infer(3, 2)
    assert (result.iterations, result.warmup) == (3, 2)
    assert result.elapsed_us > 0
    assert result.scores == bringup_scores(INPUT, 12)
    assert dut.results() == result.scores
    assert dut.outbytes() == bringup_outbytes(INPUT, 12)
    assert dut.ignored_lines == []


def test_load_sends_at_most_31_bytes_a_command(qemu: Transport) -> None:
    log = Log()
    client = DutClient(qemu, recorder=log, strict=True)
    client.start()
    client.load(INPUT)
    chunks = [text for marker, text in log.lines
              if marker == ">" and re.fullmatch(r"db [0-9a-f]+%", text)]
    assert len(chunks) == -(-len(INPUT) // CHUNK_BYTES)
    assert max(len(c) - len("db %") for c in chunks) == 2 * CHUNK_BYTES
    assert bytes.fromhex("".join(c[3:-1] for c in chunks)) == INPUT
    assert (">", "db load 490%") in log.lines and ("<", "m-load-done") in log.lines


# Each bad input of issue 5, section 5: an e- answer, then the firmware answers correctly.
_ROBUSTNESS = [
    pytest.param(None, "x" * 200, "e-[Command too long (max 79 characters)]", id="too-long"),
    pytest.param(20, "db 123", "e-[db: odd number of hex digits]", id="odd-digits"),
    pytest.param(20, "db 0g", "e-[db: bad hex digit 'g']", id="non-hex"),
    pytest.param(None, "db load 491", "e-[db load: size 491 exceeds the buffer of 490 bytes]",
                 id="load-beyond-buffer"),
    pytest.param(480, "db " + "00" * 11, "e-[db: 11 bytes exceed the 10 bytes still expected]",
                 id="data-past-size"),
    pytest.param(None, "frobnicate 1 2", "e-[Unknown command: frobnicate]", id="unknown"),
    pytest.param(490, "infer 0 0", "e-[infer: count must be > 0]", id="zero-count"),
    pytest.param(490, "infer -3 0", "e-[infer: count must be > 0]", id="negative-count"),
    pytest.param(490, "infer 1 -1", "e-[infer: warm-up must be >= 0]", id="negative-warmup"),
]


def _send_part(client: DutClient, data: bytes, count: int) -> None:
    """`db load` for all of ``data`` and its first ``count`` bytes."""
    client.command(f"db load {len(data)}")
    for start in range(0, count, CHUNK_BYTES):
        lines = client.command(f"db {data[start:min(count, start + CHUNK_BYTES)].hex()}")
        assert lines in ([], ["m-load-done"])


@pytest.mark.parametrize(("loaded", "bad", "error"), _ROBUSTNESS)
def test_firmware_rejects_bad_input_and_keeps_answering(
        dut: DutClient, loaded: int | None, bad: str, error: str) -> None:
    if loaded is not None:
        _send_part(dut, INPUT, loaded)
    with pytest.raises(DeviceReplyError) as err:
        dut.command(bad)
    assert err.value.line == error
    assert err.value.command == f"{bad}%"
    # The next command is answered correctly, and a load in progress was not disturbed.
    assert dut.name() == BRINGUP_NAME
    if loaded is not None and loaded < len(INPUT):
        for start in range(loaded, len(INPUT), CHUNK_BYTES):
            dut.command(f"db {INPUT[start:min(len(INPUT), start + CHUNK_BYTES)].hex()}")
        assert dut.db_print() == INPUT
    dut.load(INPUT)
    assert dut.infer(1, 0).scores == bringup_scores(INPUT, 12)


# ---- scripted misbehaviour on a real pseudo-terminal ---------------------------------------


@contextmanager
def session(handler: Handler, timeout: float = 5.0) -> Iterator[DutClient]:
    """A DutClient on a SerialTransport to a FakeDevice answering with ``handler``."""
    with FakeDevice(handler) as fake, SerialTransport(fake.path) as port:
        yield DutClient(port, timeout=timeout)


@pytest.fixture
def silent() -> Iterator[DutClient]:
    with session(lambda command: b"", timeout=0.3) as client:
        yield client


def test_a_silent_device_times_out_naming_the_last_command(silent: DutClient) -> None:
    with pytest.raises(DeviceError) as err:
        silent.name()
    assert "did not answer 'name%' within 0.3 s" in err.value.message
    assert err.value.hint


def test_a_silent_device_at_boot(silent: DutClient) -> None:
    with pytest.raises(DeviceError, match=r"no m-init-done / m-ready .* it sent nothing"):
        silent.start(0.3)
    # a resync does not help a device that says nothing at all
    with pytest.raises(DeviceError, match="did not answer '%'"):
        silent.start(0.2, resync=True)


FAULT_LINE = ("e-[BusFault: pc=0x00000d7c lr=0x0000074f psr=0x61000000 sp=0x200034e0 "
              "cfsr=0x00008200 hfsr=0x00000000 bfar=0x86667fe4]")


@pytest.mark.parametrize("error", [FAULT_LINE, "e-[HardFault]"])
def test_a_fault_at_boot_ends_the_wait_at_once(error: str) -> None:
    """The boot wait is 60 s here and the device never sends m-init-done: only the fault
    line can end the wait (before, it ran to the timeout and said 'it sent nothing')."""
    banner = f"m-timestamp-mode-performance\r\nm-lap-us-1\r\n\r\n{error}\r\n".encode()
    with FakeDevice(lambda c: b"") as fake, SerialTransport(fake.path) as port:
        fake.send(banner)  # after the port opened: opening it drops what came before
        with pytest.raises(DeviceFaultError) as err:
            DutClient(port).start(60.0)
    assert err.value.message.startswith("the firmware faulted")
    assert err.value.exit_code == 6


def test_an_error_line_at_boot_ends_the_wait_with_the_line() -> None:
    banner = b"m-timestamp-mode-performance\r\ne-[Model schema 2, TFLM expects 3]\r\n"
    with FakeDevice(lambda c: b"") as fake, SerialTransport(fake.path) as port:
        fake.send(banner)
        with pytest.raises(DeviceBootError) as err:
            DutClient(port).start(60.0)
    assert err.value.line == "e-[Model schema 2, TFLM expects 3]"
    assert "e-[Model schema 2, TFLM expects 3]" in err.value.message


@pytest.mark.parametrize(("line", "error"), [
    (FAULT_LINE, DeviceFaultError), ("e-[exit]", DeviceError),
    ("e-[unexpected interrupt]", DeviceError)])
def test_a_fault_during_a_command_ends_the_wait_at_once(line: str,
                                                       error: type[DeviceError]) -> None:
    """No m-ready follows a fault; the 60 s line timeout must not be waited out."""
    with session(lambda c: answer("m-warmup-start-0", line, ready=False),
                 timeout=60.0) as client, pytest.raises(error) as err:
        client.infer(1, 0, timeout=60.0)
    assert not isinstance(err.value, DeviceReplyError)
    assert line in err.value.message + (err.value.hint or "")


def test_a_running_board_is_resynchronised_with_a_bare_percent() -> None:
    with session(lambda c: answer("e-[Unknown command: ]") if c == "" else b"") as client:
        assert client.start(0.2, resync=True) == []


def test_a_silence_in_the_middle_of_an_answer_quotes_the_last_line() -> None:
    with session(lambda c: answer("m-warmup-start-0", ready=False), timeout=0.3) as client:
        with pytest.raises(DeviceError) as err:
            client.infer(1, 0, timeout=0.3)
        assert "'infer 1 0%'" in err.value.message
        assert "'m-warmup-start-0'" in err.value.message


@pytest.mark.parametrize("garbage", [b"\xff\xfe\x00garbage", b"hello there", b"m\x00-ready"])
def test_garbage_is_an_error_quoting_the_line(garbage: bytes) -> None:
    with session(lambda c: garbage + b"\r\n" + answer()) as client:
        with pytest.raises(DeviceError) as err:
            client.name()
        shown = repr(garbage.decode("utf-8", errors="replace"))
        assert f"after 'name%': {shown}" in err.value.message


def test_an_error_line_is_quoted_and_keeps_the_session() -> None:
    def handler(command: str) -> bytes:
        if command == "name":
            return answer("e-[the port is on fire]")
        return answer("m-model-[x]", "m-profile-[p]")

    with session(handler) as client:
        with pytest.raises(DeviceReplyError) as err:
            client.name()
        assert err.value.line == "e-[the port is on fire]"
        assert "'name%'" in err.value.message
        # lines out of order are malformed
        with pytest.raises(DeviceError, match="incomplete answer to 'profile%'"):
            client.profile()


def _infer_reply(t0: int, t1: int, *, extra: tuple[str, ...] = (),
                 drop: str | None = None) -> Handler:
    def handler(command: str) -> bytes:
        lines = ["m-warmup-start-0", "m-warmup-done", "m-infer-start-7", *extra,
                 f"m-lap-us-{t0}", f"m-lap-us-{t1}", "m-infer-done", "m-results-[0.250,0.750]"]
        return answer(*[ln for ln in lines if ln != drop])
    return handler


def test_a_counter_that_wraps_during_the_window() -> None:
    with session(_infer_reply(2**32 - 300, 400)) as client:
        result = client.infer(7, 0)
        assert (result.t0_us, result.t1_us, result.elapsed_us) == (2**32 - 300, 400, 700)
        assert result.latency_us == 100.0
        assert result.scores == [0.25, 0.75]


def test_a_counter_beyond_32_bits_is_malformed() -> None:
    with session(_infer_reply(0, 2**32)) as client, \
            pytest.raises(DeviceError, match="beyond 32 bits"):
        client.infer(7, 0)


def test_an_answer_missing_a_line_is_malformed() -> None:
    with session(_infer_reply(10, 20, drop="m-infer-done")) as client, \
            pytest.raises(DeviceError, match="no m-infer-done line"):
        client.infer(7, 0)


def test_energy_mode_firmware_is_explained() -> None:
    # only one lap line left: malformed, not energy mode
    with session(_infer_reply(10, 20, drop="m-lap-us-10")) as client, \
            pytest.raises(DeviceError, match="incomplete answer"):
        client.infer(7, 0)
    reply = answer("m-warmup-start-0", "m-warmup-done", "m-infer-start-7", "m-infer-done",
                   "m-results-[1.0]")
    with session(lambda c: reply) as client, pytest.raises(DeviceError, match="energy mode"):
        client.infer(7, 0)


def test_extra_lines_are_errors_only_when_strict() -> None:
    handler = _infer_reply(10, 20, extra=("m-port-note-[hi]",))
    with session(handler) as client:
        assert client.infer(7, 0).elapsed_us == 10
        assert client.ignored_lines == ["m-port-note-[hi]"]
        client.strict = True
        with pytest.raises(DeviceError, match="unexpected line 'm-port-note-\\[hi\\]'"):
            client.infer(7, 0)


@pytest.mark.parametrize("scores", ["m-results-[0.1,abc]", "m-results-[nan]",
                                    "m-results-[0.1,,0.2]"])
def test_unreadable_scores(scores: str) -> None:
    with session(lambda c: answer(scores)) as client, \
            pytest.raises(DeviceError, match="unreadable scores"):
        client.results()


def test_commands_cannot_smuggle_a_percent(silent: DutClient) -> None:
    with pytest.raises(ValueError):
        silent.command("name%profile")


def test_the_bringup_reference_matches_a_known_answer() -> None:
    # m-results and m-outbytes of the firmware for the first KWS input, as printed in QEMU
    data = (Path(__file__).resolve().parents[2] / ".." / "shared" / "mlperf-tiny" / "datasets"
            / "kws01" / "tst_000000_Stop_7.bin")
    if not data.is_file():
        pytest.skip("no reference datasets")
    payload = data.read_bytes()
    assert bringup_scores(payload, 12)[:3] == [0.056, 0.053, 0.709]
    assert bringup_outbytes(payload, 12)[:8].hex() == "804b1458bdb17834"
