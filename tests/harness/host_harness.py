"""Talk to the harness built with host_port.c: raw bytes in, answers (lines before m-ready) out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .toolchain import run_program

# host_port.c: the fake clock starts at 1000 us; a stamp adds 1, an inference 100.
CLOCK_START_US = 1000
BOOT_ANSWER = ["m-timestamp-mode-performance", f"m-lap-us-{CLOCK_START_US}", "m-init-done"]

Answer = list[str]


def fnv1a32(data: bytes) -> int:
    """The checksum host_port.c's th_infer computes over the input."""
    value = 2166136261
    for byte in data:
        value = ((value ^ byte) * 16777619) & 0xFFFFFFFF
    return value


def split_answers(stdout: bytes) -> list[Answer]:
    """Split the harness output into answers, checking its form: ASCII lines, CR LF, m-ready."""
    text = stdout.decode("ascii")
    assert text.endswith("\r\n"), f"output does not end with CR LF: {text[-40:]!r}"
    lines = text[: -len("\r\n")].split("\r\n")
    for line in lines:
        assert line.isprintable(), f"line with a stray CR, LF or control byte: {line!r}"
    answers: list[Answer] = []
    current: Answer = []
    for line in lines:
        if line == "m-ready":
            answers.append(current)
            current = []
        else:
            current.append(line)
    assert not current, f"output after the last m-ready: {current}"
    return answers


@dataclass(frozen=True)
class HostHarness:
    """One sanitized host build of the harness; each call is a fresh process (a reset board)."""

    program: Path

    def send(self, data: bytes) -> list[Answer]:
        """Feed raw bytes; return one answer per '%' in ``data``, the boot answer checked."""
        proc = run_program(self.program, stdin=data)
        errors = proc.stderr.decode(errors="replace")
        assert proc.returncode == 0 and not errors, f"exit {proc.returncode}:\n{errors}"
        answers = split_answers(proc.stdout)
        assert answers[0] == BOOT_ANSWER
        assert len(answers) - 1 == data.count(b"%"), "not one answer per command"
        return answers[1:]

    def converse(self, *commands: str) -> list[Answer]:
        """Send each command with its '%'; return their answers."""
        return self.send("".join(f"{command}%" for command in commands).encode("ascii"))

    def ask(self, *commands: str) -> Answer:
        """The answer to the last command, after running the ones before it."""
        return self.converse(*commands)[-1]


def db_commands(data: bytes, chunk: int = 31) -> list[str]:
    """`db load` and the `db` chunks that send ``data``, as the MLCommons runner does."""
    chunks = [data[i : i + chunk].hex() for i in range(0, len(data), chunk)]
    return [f"db load {len(data)}", *(f"db {hex_chunk}" for hex_chunk in chunks)]


def infer_answer(data: bytes, count: int, warmup: int, clock_us: int) -> Answer:
    """The exact answer of host_port.c to `infer count warmup` with the fake clock at clock_us."""
    t0 = clock_us + 100 * warmup
    return [
        f"h-load-tensor-{len(data)}",
        f"m-warmup-start-{warmup}",
        "m-warmup-done",
        f"m-infer-start-{count}",
        f"m-lap-us-{t0}",
        f"h-pre-{warmup}",
        f"h-post-{warmup + count}",
        f"m-lap-us-{t0 + 1 + 100 * count}",
        "m-infer-done",
        f"m-results-[{len(data)},{fnv1a32(data)}]",
    ]
