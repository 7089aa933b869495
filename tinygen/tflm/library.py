"""The TFLM (+ CMSIS-NN) static library for one variant: source lists, flags, its cache
folder, built once by SCons and shared by every later build (a lock per variant)."""

from __future__ import annotations

import hashlib
import json
import re
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from tinygen.deps import Checkout, cache_root
from tinygen.errors import DependencyError
from tinygen.outdir import file_lock
from tinygen.scons import Progress, run_scons

KERNEL_SETS = ("cmsis-nn", "reference")
# speed: TFLM's own Makefile defaults (-Os framework, -O2 kernels and CMSIS-NN);
# size: -Os everywhere.
OPTIMIZE = {"speed": ("-Os", "-O2"), "size": ("-Os", "-Os")}

# Framework sources TFLM lists but a firmware never needs (tests, mocks) or that tinygen
# replaces: debug_log.cc is provided by the port so that logs go to the benchmark UART.
_FRAMEWORK_SKIP = {
    "debug_log.cc", "fake_micro_context.cc", "mock_micro_graph.cc", "test_helpers.cc",
    "test_helper_custom_ops.cc",
}
_KERNEL_LINE = re.compile(r"\$\(TENSORFLOW_ROOT\)(tensorflow/lite/micro/kernels/[\w/]+\.cc)")

COMMON_DEFINES = ["TF_LITE_STATIC_MEMORY", "TF_LITE_DISABLE_X86_NEON", "NDEBUG"]
CMSIS_NN_DEFINES = ["CMSIS_NN", "ARM_NN_ENABLE_F16=0", "ARM_NN_ENABLE_F32=0",
                    "KERNELS_OPTIMIZED_FOR_SPEED"]


@dataclass(frozen=True)
class LibrarySpec:
    """Everything that determines the compiled library; its hash names the cache folder."""

    cpu_flags: tuple[str, ...]
    kernels: str
    defines: tuple[str, ...]
    include_dirs: tuple[tuple[str, str], ...]  # (dependency, path inside it)
    archives: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]  # name -> sources
    commits: tuple[tuple[str, str], ...]
    framework_opt: str = "-Os"
    kernel_opt: str = "-O2"

    @property
    def key(self) -> str:
        blob = json.dumps(
            [self.cpu_flags, self.kernels, self.defines, self.include_dirs, self.archives,
             self.commits, self.framework_opt, self.kernel_opt, _SPEC_VERSION],
            sort_keys=True,
        )
        digest = hashlib.sha256(blob.encode()).hexdigest()[:10]
        cpu = "-".join(f.split("=", 1)[1] for f in self.cpu_flags if "=" in f)
        return f"{cpu}-{self.kernels}-{digest}"

    @property
    def source_count(self) -> int:
        return sum(len(srcs) for _, srcs in self.archives)

    def to_json(self) -> dict[str, object]:
        return {
            "key": self.key,
            "cpu_flags": list(self.cpu_flags),
            "kernels": self.kernels,
            "defines": list(self.defines),
            "include_dirs": [list(i) for i in self.include_dirs],
            "archives": {name: [list(s) for s in srcs] for name, srcs in self.archives},
            "framework_opt": self.framework_opt,
            "kernel_opt": self.kernel_opt,
        }


# Bump when the way the library is compiled changes, so old cache entries are not reused.
_SPEC_VERSION = 1


def _kernel_sources(tflm: Path) -> list[str]:
    """The kernel list TFLM's own Makefile compiles (sources.inc), so both stay in step."""
    inc = tflm / "tensorflow/lite/micro/tools/make/sources.inc"
    if not inc.is_file():
        raise DependencyError(f"{tflm} has no {inc.relative_to(tflm)}; not a TFLM checkout?",
                              hint="point --deps-dir at a TFLM checkout, or let tinygen fetch the "
                                   "pinned one (tinygen deps)")
    text = inc.read_text()
    start = text.find("MICROLITE_CC_KERNEL_SRCS :=")
    if start < 0:
        raise DependencyError(f"{inc}: no MICROLITE_CC_KERNEL_SRCS list (TFLM layout changed?)",
                              hint="use the TFLM commit pinned in third_party/manifest.yaml "
                                   "(tinygen deps)")
    block = text[start:].split("\n\n", 1)[0]
    return sorted(set(_KERNEL_LINE.findall(block)))


def _framework_sources(tflm: Path) -> list[str]:
    micro = tflm / "tensorflow/lite/micro"
    found = [p for p in micro.glob("*.cc") if p.name not in _FRAMEWORK_SKIP]
    for sub in ("arena_allocator", "memory_planner", "tflite_bridge"):
        found += list((micro / sub).glob("*.cc"))
    shared = tflm / "tensorflow"
    for p in shared.rglob("*.c*"):
        rel = p.relative_to(tflm).as_posix()
        if p.suffix not in (".c", ".cc") or rel.startswith(
            ("tensorflow/lite/micro/", "tensorflow/lite/experimental/")
        ):
            continue
        if rel != "tensorflow/lite/array.cc":
            found.append(p)
    return sorted(
        p.relative_to(tflm).as_posix() for p in found if not p.name.endswith("_test.cc")
    )


def library_spec(checkouts: dict[str, Checkout], cpu: list[str], kernels: str,
                 optimize: str = "speed") -> LibrarySpec:
    if kernels not in KERNEL_SETS:
        raise DependencyError(f"unknown kernel set {kernels!r}; use one of {KERNEL_SETS}",
                              hint=f"use one of {', '.join(KERNEL_SETS)}")
    tflm = checkouts["tflite-micro"].path
    kernel_srcs = _kernel_sources(tflm)
    defines = list(COMMON_DEFINES)
    archives: list[tuple[str, tuple[tuple[str, str], ...]]] = []
    if kernels == "cmsis-nn":
        defines += CMSIS_NN_DEFINES
        optimized = tflm / "tensorflow/lite/micro/kernels/cmsis_nn"
        # TFLM's specialize_files.py rule: an optimized file replaces the same-named reference one.
        kernel_srcs = [
            f"tensorflow/lite/micro/kernels/cmsis_nn/{Path(s).name}"
            if (optimized / Path(s).name).is_file() else s
            for s in kernel_srcs
        ]
        nn = checkouts["cmsis-nn"].path
        nn_srcs = sorted(
            p.relative_to(nn).as_posix() for p in (nn / "Source").rglob("*.c")
            if not p.name.endswith(("_f16.c", "_f32.c")) and p.name != "arm_nntables_flt.c"
        )
        archives.append(("cmsis_nn", tuple(("cmsis-nn", s) for s in nn_srcs)))
    tflm_srcs = _framework_sources(tflm) + kernel_srcs
    archives.insert(0, ("tflm", tuple(("tflite-micro", s) for s in tflm_srcs)))
    includes = [
        ("tflite-micro", ""), ("flatbuffers", "include"), ("gemmlowp", ""), ("ruy", ""),
    ]
    if kernels == "cmsis-nn":
        includes += [("cmsis-nn", ""), ("cmsis-nn", "Include"), ("cmsis", "CMSIS/Core/Include")]
    commits = tuple(sorted((n, c.version) for n, c in checkouts.items()))
    framework_opt, kernel_opt = OPTIMIZE[optimize]
    return LibrarySpec(
        cpu_flags=tuple(cpu), kernels=kernels, defines=tuple(defines),
        include_dirs=tuple(includes), archives=tuple(archives), commits=commits,
        framework_opt=framework_opt, kernel_opt=kernel_opt,
    )


def library_dir(spec: LibrarySpec) -> Path:
    return cache_root() / "lib" / spec.key


def library_complete(spec: LibrarySpec) -> bool:
    """True when a previous build of this variant finished (its stamp is written last)."""
    d = library_dir(spec)
    return (d / "complete.json").is_file() and all(
        (d / f"lib{name}.a").is_file() for name, _ in spec.archives
    )


@dataclass(frozen=True)
class LibraryResult:
    path: Path
    built: bool  # False: reused from the cache
    seconds: float


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
