"""Run SCons on a folder (a TFLM library variant, a firmware project): the compile counter,
the error lines of a failed build, a region overflow as OverBudgetError."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tinygen.errors import BuildError, OverBudgetError, ToolMissingError
from tinygen.process import child
from tinygen.resources import sconstruct_path

Progress = Callable[[str], None]
_COMPILE_LINE = re.compile(r"^(CC|CXX) (.+)$")
_OVERFLOW = re.compile(r"region `(\w+)' overflowed by (\d+) bytes")
_ERROR_LINE = re.compile(r"(error|undefined reference|multiple definition|overflowed|will not fit)",
                         re.IGNORECASE)


def _scons_command() -> list[str]:
    exe = shutil.which("scons")
    if exe:
        return [exe]
    try:
        import SCons  # noqa: F401
    except ImportError as exc:
        raise ToolMissingError("SCons is not installed", hint="pip install scons") from exc
    return [sys.executable, "-m", "SCons"]


def jobs() -> int:
    return max(1, os.cpu_count() or 1)


def run_scons(folder: Path, *, total: int | None, label: str,
              progress: Progress | None) -> list[str]:
    """Run SCons in ``folder``; stream a compile counter; on failure raise with the error lines.

    Returns the compiler's warning lines (a clean build returns none).
    """
    cmd = [*_scons_command(), "-f", str(sconstruct_path()), "-C", str(folder), f"-j{jobs()}",
           "-Q"]
    lines: list[str] = []
    done = 0
    # SCons and its compilers stop with tinygen (Ctrl-C, SIGTERM, an error while streaming).
    with child(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            lines.append(line)
            m = _COMPILE_LINE.match(line)
            if m and progress:
                done += 1
                count = f"{done}/{total}" if total else str(done)
                progress(f"[{label} {count}] {Path(m.group(2)).name}")
        rc = proc.wait()
        proc.stdout.close()
    overflows = [m for ln in lines if (m := _OVERFLOW.search(ln))]
    if rc != 0 and overflows:
        parts = ", ".join(f"'{m.group(1)}' by {int(m.group(2)):,} bytes" for m in overflows)
        raise OverBudgetError(
            f"the firmware does not fit the board: the linker overflows region {parts}",
            hint="use a smaller model, --optimize size, or a board with more memory; "
                 "'tinygen audit' of a build that fits shows the biggest contributors",
        )
    if rc != 0:
        errors = [ln for ln in lines if _ERROR_LINE.search(ln)] or lines[-15:]
        detail = "\n".join(errors[:20])
        raise BuildError(
            f"{label} build failed:\n{detail}",
            hint=f"the full log: scons -f {sconstruct_path()} -C FOLDER VERBOSE=1 "
                 "(FOLDER: the kept project)", kept=folder)
    return [ln for ln in lines if "warning:" in ln]
