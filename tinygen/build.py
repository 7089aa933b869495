"""Run SCons: the cached TFLM library variant first, then the generated firmware project."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from tinygen.deps import Checkout
from tinygen.errors import BuildError, OverBudgetError, ToolMissingError
from tinygen.library import LibrarySpec, library_complete, library_dir
from tinygen.outdir import file_lock
from tinygen.process import child
from tinygen.resources import sconstruct_path

Progress = Callable[[str], None]
_COMPILE_LINE = re.compile(r"^(CC|CXX) (.+)$")
_OVERFLOW = re.compile(r"region `(\w+)' overflowed by (\d+) bytes")
_ERROR_LINE = re.compile(r"(error|undefined reference|multiple definition|overflowed|will not fit)",
                         re.IGNORECASE)


@dataclass(frozen=True)
class LibraryResult:
    path: Path
    built: bool  # False: reused from the cache
    seconds: float


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
            f"{label} build failed in {folder}:\n{detail}",
            hint=f"the full log: scons -f {sconstruct_path()} -C {folder} VERBOSE=1",
        )
    return [ln for ln in lines if "warning:" in ln]


def _locked(folder: Path, progress: Progress | None) -> AbstractContextManager[None]:
    """One builder per library folder: a second tinygen waits, then finds the library built."""
    return file_lock(folder.parent / f"{folder.name}.lock",
                     f"waiting for another tinygen that is compiling {folder.name}", progress)


def ensure_library(spec: LibrarySpec, checkouts: dict[str, Checkout],
                   progress: Progress | None = None) -> LibraryResult:
    """Build the library variant once into the cache; later calls reuse it."""
    folder = library_dir(spec)
    if library_complete(spec):
        return LibraryResult(folder, built=False, seconds=0.0)
    with _locked(folder, progress):
        if library_complete(spec):
            return LibraryResult(folder, built=False, seconds=0.0)
        return _build_library(spec, checkouts, folder, progress)


def _build_library(spec: LibrarySpec, checkouts: dict[str, Checkout], folder: Path,
                   progress: Progress | None) -> LibraryResult:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "complete.json").unlink(missing_ok=True)
    config = spec.to_json() | {"deps": {n: str(c.path) for n, c in checkouts.items()}}
    (folder / "tinygen_library.json").write_text(json.dumps(config, indent=1))
    if progress:
        progress(f"compiling TFLM library variant {spec.key} ({spec.source_count} files, "
                 f"once per variant; later builds reuse it)")
    start = time.monotonic()
    run_scons(folder, total=spec.source_count, label="tflm", progress=progress)
    seconds = time.monotonic() - start
    (folder / "complete.json").write_text(json.dumps({"key": spec.key, "seconds": seconds}))
    return LibraryResult(folder, built=True, seconds=seconds)
