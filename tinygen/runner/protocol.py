"""The host side of the MLPerf Tiny serial protocol (PROTOCOL.md section 2) over a Transport."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tinygen.errors import DeviceError
from tinygen.runner.fault import describe_fault, parse_fault
from tinygen.runner.transport import Transport

COUNTER_MODULUS = 1 << 32  # the device's free-running microsecond counter is 32 bits wide
CHUNK_BYTES = 31  # bytes per `db` command, as the MLCommons runner sends (62 hex digits)
DEFAULT_TIMEOUT = 5.0  # seconds for any line of an ordinary command
INFER_TIMEOUT = 30.0  # seconds for any line during `infer` (the MLCommons runner's limit)

_NOT_HARNESS_HINT = ("is it an MLPerf Tiny harness firmware? --log SESSION.log records every "
                     "line exchanged")
_NO_ANSWER_HINT = ("is the firmware running, on the UART the host listens to, at the same baud "
                   "rate? 'tinygen bench --mode smoke' checks a board step by step")


def elapsed_us(t0_us: int, t1_us: int) -> int:
    """Microseconds from ``t0_us`` to ``t1_us`` on a 32-bit counter that may have wrapped once."""
    return (t1_us - t0_us) % COUNTER_MODULUS


@dataclass(frozen=True)
class InferResult:
    """One `infer N W`: the two timestamps around the N timed inferences and the last scores."""

    iterations: int
    warmup: int
    t0_us: int
    t1_us: int
    scores: list[float]

    @property
    def elapsed_us(self) -> int:
        return elapsed_us(self.t0_us, self.t1_us)

    @property
    def latency_us(self) -> float:
        return self.elapsed_us / self.iterations


class SessionRecorder(Protocol):
    """Receives every byte of the session as text: commands sent, lines received, remarks."""

    def sent(self, text: str) -> None: ...

    def received(self, line: str) -> None: ...

    def note(self, text: str) -> None: ...


class DeviceReplyError(DeviceError):
    """The device answered a command with an ``e-`` line; the session is still in step (the
    answer ended with m-ready), so the next command can be sent."""

    def __init__(self, command: str, line: str) -> None:
        super().__init__(f"the device rejected '{command}': {line}",
                         hint="the e- line is the firmware's reason; --log SESSION.log records "
                              "the whole session")
        self.command = command
        self.line = line


class DeviceBootError(DeviceError):
    """The device printed an ``e-`` line while booting: the wait ends there, with that line."""

    def __init__(self, line: str, boot_lines: list[str]) -> None:
        hint = ("the model does not fit the firmware's tensor arena: rebuild it without "
                "--arena-size ('tinygen build' measures the arena the model needs)"
                if line.startswith("e-[AllocateTensors failed") else
                "the line is the firmware's own error: check the model with 'tinygen inspect' "
                "and rebuild the firmware; --log records the whole boot")
        super().__init__(f"the device reported an error while booting: {line}", hint=hint)
        self.line = line
        self.boot_lines = boot_lines


# board_panic() (templates/board/board.c.j2) ends a firmware with one of these, then hangs.
_PANIC = re.compile(r"e-\[(unexpected interrupt|exit)\]")

# (pattern, what a reader should see) for each line an answer must hold, in order.
_Expect = tuple[re.Pattern[str], str]


def _expect(pattern: str, shown: str) -> _Expect:
    return re.compile(pattern), shown


_NAME = _expect(r"m-name-dut-\[(.*)\]", "m-name-dut-[<name>]")
_PROFILE = _expect(r"m-profile-\[(.*)\]", "m-profile-[<profile>]")
_MODEL = _expect(r"m-model-\[(.*)\]", "m-model-[<model id>]")
_LAP = _expect(r"m-lap-us-(\d+)", "m-lap-us-<microseconds>")
_EXPECTING = _expect(r"m-\[Expecting (\d+) bytes\]", "m-[Expecting <N> bytes]")
_LOAD_DONE = _expect(r"m-load-done", "m-load-done")
_BUFFER = re.compile(r"m-buffer((?:-[0-9a-fA-F]{2})+)")
_WARMUP_START = _expect(r"m-warmup-start-(\d+)", "m-warmup-start-<W>")
_WARMUP_DONE = _expect(r"m-warmup-done", "m-warmup-done")
_INFER_START = _expect(r"m-infer-start-(\d+)", "m-infer-start-<N>")
_INFER_DONE = _expect(r"m-infer-done", "m-infer-done")
_RESULTS = _expect(r"m-results-\[(.*)\]", "m-results-[<scores>]")
_OUTBYTES = _expect(r"m-outbytes-\[([0-9a-fA-F]*)\]", "m-outbytes-[<hex>]")
_OP_CLOCK = _expect(r"m-opprofile-clock-(\d+)", "m-opprofile-clock-<ticks per second>")
_OP = re.compile(r"m-opprofile-op-(\d+)-(\d+)")
_OP_TOTAL = _expect(r"m-opprofile-total-(\d+)", "m-opprofile-total-<ticks>")
_MEMORY = _expect(r"m-memory-\[stack_peak=(\d+),stack_size=(\d+),heap_used=(\d+),heap_size=(\d+)\]",
                  "m-memory-[stack_peak=<n>,stack_size=<n>,heap_used=<n>,heap_size=<n>]")


@dataclass(frozen=True)
class MemoryUsage:
    """What the ``memory`` command reports, in bytes."""

    stack_peak: int
    stack_size: int
    heap_used: int
    heap_size: int


@dataclass(frozen=True)
class OpTimes:
    """What the ``opprofile`` command reports of the last inference: (operator index, ticks)
    in the order the operators ran, the whole inference, and the counter's ticks per second."""

    clock_hz: int
    ops: tuple[tuple[int, int], ...]
    total: int


class DutClient:
    """Talks to a device under test: one command at a time, every answer checked.

    ``strict``: an answer may hold no line beyond the ones the protocol defines (smoke mode);
    otherwise extra ``m-`` lines (a port's own diagnostics) are kept in ``ignored_lines``.
    ``elf``: the firmware the device runs, to name the code of a fault report.

    A fault report from the device ends any wait at once with a DeviceFaultError.
    """

    def __init__(self, transport: Transport, *, timeout: float = DEFAULT_TIMEOUT,
                 recorder: SessionRecorder | None = None, strict: bool = False,
                 elf: Path | None = None) -> None:
        self.transport = transport
        self.elf = elf
        self.timeout = timeout
        self.recorder = recorder
        self.strict = strict
        self.last_command: str | None = None
        self.boot_lines: list[str] = []
        self.ignored_lines: list[str] = []

    # ---- session ---------------------------------------------------------------------------

    def start(self, boot_timeout: float = 10.0, *, resync: bool = False) -> list[str]:
        """Wait for ``m-init-done`` and ``m-ready`` after a reset; return the boot lines.

        An ``e-`` line ends the wait at once: a DeviceFaultError for a fault report, else a
        DeviceBootError.

        ``resync``: a board on a serial port may have booted before the port was opened; if
        no banner arrives, send a bare ``%`` (it ends any half-received command; the answer
        ends with m-ready) and carry on from there.
        """
        noise: list[str] = []
        saw_init = False
        while True:
            line = self._readline(boot_timeout)
            if line is None:
                break
            self.boot_lines.append(line)
            if line.startswith("e-"):
                self._check_fatal(line)
                raise DeviceBootError(line, list(self.boot_lines))
            if line == "m-init-done":
                saw_init = True
            elif line == "m-ready" and saw_init:
                return self.boot_lines
            elif line and not line.startswith("m-"):
                noise.append(line)  # boot-loader chatter or line noise before the firmware
        if resync:
            self._note("no boot banner; resynchronising with a bare '%'")
            self._send("")
            self._read_answer("%", self.timeout, allow_errors=True)
            return self.boot_lines
        heard = f"; it sent {noise[-1]!r}" if noise else "; it sent nothing"
        if noise:
            heard += " (a wrong baud rate garbles every line)"
        raise DeviceError(f"no m-init-done / m-ready from the device within {boot_timeout:g} s "
                          f"after reset{heard}", hint=_NO_ANSWER_HINT)

    def command(self, text: str, *, timeout: float | None = None,
                free_text: bool = False) -> list[str]:
        """Send ``text%``; return the answer's lines before m-ready.

        Raises DeviceReplyError for an ``e-`` line (after reading on to m-ready), DeviceError
        for silence, for a line that is neither ``m-`` nor ``e-`` (unless ``free_text``) and
        for a lost link.
        """
        if "%" in text:
            raise ValueError(f"a command cannot contain '%': {text!r}")
        self._send(text)
        return self._read_answer(f"{text}%", timeout or self.timeout, free_text=free_text)

    # ---- commands --------------------------------------------------------------------------

    def name(self) -> str:
        (m,) = self._match("name%", self.command("name"), [_NAME])
        return m.group(1)

    def profile(self) -> tuple[str, str]:
        """(profile, model id), e.g. ('ULPMark for tinyML Firmware V0.0.1', 'kws01')."""
        profile, model = self._match("profile%", self.command("profile"), [_PROFILE, _MODEL])
        return profile.group(1), model.group(1)

    def help(self) -> list[str]:
        return self.command("help", free_text=True)

    def timestamp(self) -> int:
        (m,) = self._match("timestamp%", self.command("timestamp"), [_LAP])
        return self._counter("timestamp%", m)

    def load(self, data: bytes) -> None:
        """``db load N`` then the bytes in chunks of at most 31, as hex."""
        if not data:
            raise ValueError("cannot load an empty input")
        cmd = f"db load {len(data)}"
        (m,) = self._match(f"{cmd}%", self.command(cmd), [_EXPECTING])
        if int(m.group(1)) != len(data):
            raise DeviceError(f"the device answered 'db load {len(data)}%' with {m.group(0)!r}",
                              hint=_NOT_HARNESS_HINT)
        for start in range(0, len(data), CHUNK_BYTES):
            chunk = data[start:start + CHUNK_BYTES]
            cmd = f"db {chunk.hex()}"
            last = start + len(chunk) == len(data)
            self._match(f"{cmd}%", self.command(cmd), [_LOAD_DONE] if last else [])

    def db_print(self) -> bytes:
        """The bytes the device holds in its `db` buffer (``db print``)."""
        data = bytearray()
        for line in self.command("db print"):
            m = _BUFFER.fullmatch(line)
            if m is None:
                if self.strict or line.startswith("m-buffer"):
                    raise DeviceError(f"malformed answer to 'db print%': {line!r}",
                                      hint=_NOT_HARNESS_HINT)
                self.ignored_lines.append(line)
                continue
            data += bytes.fromhex(m.group(1).replace("-", ""))
        return bytes(data)

    def infer(self, n: int, w: int, *, timeout: float | None = None) -> InferResult:
        """``infer N W``: W warm-up inferences, N timed ones; the timestamps and last scores.

        ``timeout`` bounds the wait for each line (default 30 s, the MLCommons runner's); a
        long timed window needs more.
        """
        cmd = f"infer {n} {w}"
        lines = self.command(cmd, timeout=timeout or max(self.timeout, INFER_TIMEOUT))
        if not any(line.startswith("m-lap-us-") for line in lines):
            raise DeviceError(
                f"the answer to '{cmd}%' has no m-lap-us timestamps: the firmware is built "
                "for energy mode, or its th_timestamp() prints nothing",
                hint="build the firmware in performance mode to measure latency")
        ws, _, ns, t0, t1, _, res = self._match(
            f"{cmd}%", lines, [_WARMUP_START, _WARMUP_DONE, _INFER_START, _LAP, _LAP,
                               _INFER_DONE, _RESULTS])
        if int(ws.group(1)) != w or int(ns.group(1)) != n:
            raise DeviceError(f"the device ran a different 'infer' than '{cmd}%': "
                              f"{ws.group(0)!r}, {ns.group(0)!r}",
                              hint=_NOT_HARNESS_HINT)
        return InferResult(iterations=n, warmup=w, t0_us=self._counter(f"{cmd}%", t0),
                           t1_us=self._counter(f"{cmd}%", t1),
                           scores=self._scores(f"{cmd}%", res))

    def results(self) -> list[float]:
        (m,) = self._match("results%", self.command("results"), [_RESULTS])
        return self._scores("results%", m)

    def outbytes(self) -> bytes:
        """The raw output tensor of the last inference (tinygen extension ``outbytes``)."""
        (m,) = self._match("outbytes%", self.command("outbytes"), [_OUTBYTES])
        digits = m.group(1)
        if len(digits) % 2:
            raise DeviceError(f"odd number of hex digits in the answer to 'outbytes%': "
                              f"{m.group(0)!r}",
                              hint=_NOT_HARNESS_HINT)
        return bytes.fromhex(digits)

    def memory(self) -> MemoryUsage:
        """Stack high-water mark and heap use since reset (tinygen extension ``memory``)."""
        (m,) = self._match("memory%", self.command("memory"), [_MEMORY])
        peak, stack, used, heap = (int(g) for g in m.groups())
        return MemoryUsage(stack_peak=peak, stack_size=stack, heap_used=used, heap_size=heap)

    def op_times(self) -> OpTimes:
        """The time of each operator of the last inference (tinygen extension ``opprofile``,
        profile builds only)."""
        lines = self.command("opprofile")
        ops: list[tuple[int, int]] = []
        rest: list[str] = []
        for line in lines:
            m = _OP.fullmatch(line)
            if m is None:
                if line.startswith("m-opprofile-op-"):
                    raise DeviceError(f"malformed answer to 'opprofile%': {line!r}",
                                      hint=_NOT_HARNESS_HINT)
                rest.append(line)
            elif not rest:
                raise DeviceError("operator times before m-opprofile-clock in the answer to "
                                  "'opprofile%'", hint=_NOT_HARNESS_HINT)
            else:
                ops.append((int(m.group(1)), int(m.group(2))))
        clock, total = self._match("opprofile%", rest, [_OP_CLOCK, _OP_TOTAL])
        hz = int(clock.group(1))
        if hz == 0:
            raise DeviceError("the device reports a 0 Hz profile clock", hint=_NOT_HARNESS_HINT)
        return OpTimes(hz, tuple(ops), int(total.group(1)))

    # ---- plumbing --------------------------------------------------------------------------

    def _note(self, text: str) -> None:
        if self.recorder is not None:
            self.recorder.note(text)

    def _send(self, text: str) -> None:
        wire = f"{text}%"
        self.last_command = wire
        if self.recorder is not None:
            self.recorder.sent(wire)
        self.transport.write(wire.encode("latin-1"))

    def _readline(self, timeout: float) -> str | None:
        line = self.transport.readline(timeout)
        if line is not None and self.recorder is not None:
            self.recorder.received(line)
        return line

    def _read_answer(self, shown: str, timeout: float, *, free_text: bool = False,
                     allow_errors: bool = False) -> list[str]:
        lines: list[str] = []
        error: str | None = None
        while True:
            line = self._readline(timeout)
            if line is None:
                after = f" (the last line was {lines[-1]!r})" if lines else ""
                raise DeviceError(f"the device did not answer '{shown}' within {timeout:g} s"
                                  f"{after}", hint=_NO_ANSWER_HINT)
            if line == "m-ready":
                break
            if not line:
                continue  # a bare CR LF carries nothing
            if line.startswith("e-"):
                self._check_fatal(line)
                error = error or line
            elif line.startswith("m-") or free_text:
                lines.append(line)
            else:
                raise DeviceError(
                    f"unexpected line from the device after '{shown}': {line!r}",
                    hint="every line must start with m- or e-: a wrong baud rate, a noisy "
                         "line or a port printing debug text")
        if error is not None and not allow_errors:
            raise DeviceReplyError(shown, error)
        return lines

    def _check_fatal(self, line: str) -> None:
        """Raise at once for a line after which the firmware answers nothing more."""
        fault = parse_fault(line)
        if fault is not None:
            raise describe_fault(fault, self.elf)
        if _PANIC.fullmatch(line):
            raise DeviceError(f"the firmware stopped: {line}",
                              hint="'exit' is abort() or exit() in the firmware; 'unexpected "
                                   "interrupt' an interrupt enabled without a handler")

    def _match(self, shown: str, lines: list[str], expected: list[_Expect]) -> list[re.Match[str]]:
        """Find the expected lines in order; other lines are errors in strict mode."""
        found: list[re.Match[str]] = []
        for line in lines:
            m = expected[len(found)][0].fullmatch(line) if len(found) < len(expected) else None
            if m is not None:
                found.append(m)
            elif self.strict:
                wanted = (f"; expected {expected[len(found)][1]}" if len(found) < len(expected)
                          else "")
                raise DeviceError(f"malformed answer to '{shown}': unexpected line "
                                  f"{line!r}{wanted}",
                                  hint=_NOT_HARNESS_HINT)
            else:
                self.ignored_lines.append(line)
        if len(found) < len(expected):
            got = "; ".join(lines) or "nothing but m-ready"
            raise DeviceError(f"incomplete answer to '{shown}': no "
                              f"{expected[len(found)][1]} line (got: {got})",
                              hint=_NOT_HARNESS_HINT)
        return found

    @staticmethod
    def _counter(shown: str, m: re.Match[str]) -> int:
        value = int(m.group(1))
        if value >= COUNTER_MODULUS:
            raise DeviceError(f"timestamp beyond 32 bits in the answer to '{shown}': "
                              f"{m.group(0)!r}",
                              hint=_NOT_HARNESS_HINT)
        return value

    @staticmethod
    def _scores(shown: str, m: re.Match[str]) -> list[float]:
        text = m.group(1).strip()
        if not text:
            return []
        try:
            scores = [float(part) for part in text.split(",")]
        except ValueError:
            scores = [math.nan]
        if not all(math.isfinite(s) for s in scores):
            raise DeviceError(f"unreadable scores in the answer to '{shown}': {m.group(0)!r}",
                              hint=_NOT_HARNESS_HINT)
        return scores
