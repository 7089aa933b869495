"""Compile the harness (templates/harness) for the host with sanitizers, and run the results."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
HARNESS_DIR = REPO_ROOT / "templates" / "harness"
TESTS_DIR = Path(__file__).resolve().parent  # holds the test tinygen_config.h and the ports
HARNESS_SOURCES = (HARNESS_DIR / "ee_benchmark.c", HARNESS_DIR / "th_libc.c")
HARNESS_MAIN = HARNESS_DIR / "ee_main.c"  # left out where a fuzzer brings its own main
HOST_PORT = TESTS_DIR / "host_port.c"
FUZZER = TESTS_DIR / "fuzz_protocol.c"

C_WARNINGS = ("-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Werror")
SANITIZE = ("-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer")
# The harness allocates nothing; leak checking needs ptrace, which containers often forbid.
SANITIZER_ENV = {
    "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
}

Defines = Mapping[str, str | int]


class CompileError(Exception):
    """The compiler rejected a source; carries its full output."""


def find_host_cc() -> str | None:
    """The host C compiler the tests use (gcc), or None when there is none."""
    return shutil.which("gcc")


def define_flags(defines: Defines) -> list[str]:
    return [f"-D{name}={value}" for name, value in defines.items()]


def compile_c(command: Sequence[str | os.PathLike[str]]) -> None:
    """Run one compiler command; raise CompileError with its output when it fails."""
    proc = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise CompileError(f"{' '.join(map(str, command))}\n{proc.stdout}{proc.stderr}")


def build_host_program(
    output: Path,
    port_sources: Sequence[Path],
    defines: Defines | None = None,
    cc: str = "gcc",
    harness_sources: Sequence[Path] = HARNESS_SOURCES,
) -> Path:
    """Link the harness (without ee_main.c) and ``port_sources`` into a sanitized executable."""
    compile_c(
        [
            cc,
            *C_WARNINGS,
            "-g",
            "-O1",
            *SANITIZE,
            f"-I{TESTS_DIR}",
            f"-I{HARNESS_DIR}",
            *define_flags(defines or {}),
            *harness_sources,
            *port_sources,
            "-o",
            output,
        ]
    )
    return output


def run_program(
    program: Path, args: Sequence[str] = (), stdin: bytes = b"", timeout: float = 60
) -> subprocess.CompletedProcess[bytes]:
    """Run a sanitized program; the caller checks returncode and stderr."""
    return subprocess.run(
        [str(program), *args],
        input=stdin,
        capture_output=True,
        timeout=timeout,
        env={**os.environ, **SANITIZER_ENV},
        check=False,
    )
