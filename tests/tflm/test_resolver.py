"""Every operator registration and kernel header the generator can emit compiles against the
pinned TFLM, and every registration it calls is defined in the TFLM library.

One generated th_model.cc registers every operator of tinygen/tflm/ops.py, with the int8 variants
(and their headers) in one translation unit and the generic registrations in another; each is
compiled with arm-none-eabi-g++ and the TFLM include dirs and defines of the kernel set.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

import pytest

from tests.tflm.support import tflm_unreachable_reason
from tinygen.board import load_board
from tinygen.deps import Checkout, load_manifest, resolve
from tinygen.model import ModelInfo, OperatorInfo, load_model
from tinygen.tflm.library import KERNEL_SETS, LibrarySpec, ensure_library, library_dir, library_spec
from tinygen.tflm.ops import RESOLVER_H, SUPPORTED_OPS
from tinygen.tflm.render import render_tflm
from tinygen.toolchain import board_cpu_flags

MODEL = Path(__file__).resolve().parents[2] / "models" / "kws_tiny.tflite"
_REASON = tflm_unreachable_reason()
pytestmark = [pytest.mark.tflm, pytest.mark.skipif(_REASON is not None, reason=_REASON or "")]
BOARD = "mps2_an386"  # the variant the other TFLM tests build, so the library is shared
_REGISTER = re.compile(r"tflite::(Register_\w+)\(\)")


def _with_ops(names: Iterable[str], int8: bool) -> ModelInfo:
    """kws_tiny's description with one operator of each kind named, all on int8 tensors (their
    int8 variants are emitted) or all on float32 ones (none is)."""
    base = load_model(MODEL)
    tensor = dataclasses.replace(base.inputs[0], index=0, dtype="int8" if int8 else "float32",
                                 is_constant=False)
    ops = tuple(OperatorInfo(i, name, 1, (0,), (0,), 0) for i, name in enumerate(names))
    return dataclasses.replace(base, operators=ops, tensors=(tensor,))


def _compile(kernels: str, int8: bool, tmp_path: Path, names: Iterable[str] = SUPPORTED_OPS,
             ) -> tuple[Path, str, LibrarySpec, dict[str, Checkout]]:
    board = load_board(BOARD)
    checkouts = resolve(load_manifest())
    spec = library_spec(checkouts, board_cpu_flags(board), kernels)
    project = render_tflm(board, _with_ops(names, int8), "generic", 4096,
                          dep_include_dirs=spec.include_dirs, defines=spec.defines)
    folder = tmp_path / f"{kernels}-{'int8' if int8 else 'generic'}-{'-'.join(names)[:40]}"
    project.write(folder)
    config = json.loads(project.files["tinygen_project.json"])
    includes = [f"-I{folder / d}" for d in config["include_dirs"]]
    includes += [f"-I{checkouts[dep].path / sub}" for dep, sub in config["dep_include_dirs"]]
    obj = folder / "th_model.o"
    command = ["arm-none-eabi-g++", *config["cpu_flags"], "-std=c++17", "-fno-rtti",
               "-fno-exceptions", "-Os", "-Wall", "-Werror", "-Wno-unused-parameter",
               *(f"-D{d}" for d in config["defines"]), *includes,
               "-c", str(folder / "src/th_model.cc"), "-o", str(obj)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    return obj, project.files["src/th_model.cc"], spec, checkouts


def _registrations(nm_args: list[str]) -> set[str]:
    out = subprocess.run(["arm-none-eabi-nm", "-C", *nm_args], capture_output=True, text=True,
                         check=True).stdout
    return set(_REGISTER.findall(out))


@pytest.mark.parametrize("int8", [True, False], ids=["int8", "generic"])
@pytest.mark.parametrize("kernels", KERNEL_SETS)
def test_every_registration_compiles(kernels: str, int8: bool, tmp_path: Path) -> None:
    _, source, _, _ = _compile(kernels, int8, tmp_path)
    assert source.count("if (resolver.Add") == len(SUPPORTED_OPS)
    emitted = {s.int8_registration for s in SUPPORTED_OPS.values() if s.int8_registration}
    for name in emitted:
        assert (f"tflite::{name}()" in source) == int8, name


_OWN_HEADERS = sorted({s.int8_header for s in SUPPORTED_OPS.values()
                       if s.int8_registration and s.int8_header != RESOLVER_H})


@pytest.mark.parametrize("header", _OWN_HEADERS, ids=[Path(h).name for h in _OWN_HEADERS])
@pytest.mark.parametrize("kernels", KERNEL_SETS)
def test_each_kernel_header_compiles_alone(kernels: str, header: str, tmp_path: Path) -> None:
    """A model whose only operators need ``header``: no other header can hide a missing
    include (kernels/transpose.h needs MicroContext; pad.h brings it in through kernel_util.h)."""
    names = [n for n, s in SUPPORTED_OPS.items() if s.int8_registration and s.int8_header == header]
    _, source, _, _ = _compile(kernels, True, tmp_path, names)
    assert f'#include "{header}"' in source


@pytest.mark.skipif(shutil.which("arm-none-eabi-nm") is None, reason="no arm-none-eabi-nm")
def test_every_registration_called_is_in_the_library(tmp_path: Path) -> None:
    """With CMSIS_NN defined, the int8 variants are declared but defined only by the CMSIS-NN
    kernels the library compiles: the object's undefined registrations must all be there."""
    called: set[str] = set()
    for int8 in (True, False):
        obj, _, spec, checkouts = _compile("cmsis-nn", int8, tmp_path)
        called |= _registrations(["--undefined-only", str(obj)])
    ensure_library(spec, checkouts)
    archives = [str(library_dir(spec) / f"lib{name}.a") for name, _ in spec.archives]
    defined = _registrations(["--defined-only", *archives])
    assert len(called) >= len(SUPPORTED_OPS)
    assert sorted(called - defined) == []
