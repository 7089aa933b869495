"""Test-only firmwares that fault on purpose: the bring-up firmware of a board with its port
(src/th_model.c) replaced by tests/runner/faulty_th_model.c, the fault picked by TEST_FAULT."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tinygen.board import load_board
from tinygen.bringup import BringupRuntime
from tinygen.resources import sconstruct_path
from tinygen.scons import run_scons

PORT = Path(__file__).with_name("faulty_th_model.c")
# The values of TEST_FAULT in faulty_th_model.c.
FAULTS = {"boot_write": 1, "infer_write": 2, "null_call": 3, "recursion": 4, "huge_frame": 5,
          "lockup": 6, "boot_error": 7, "time_check": 8}


def build_faulty(folder: Path, board: str, fault: str) -> Path:
    """Build the faulting firmware for ``board`` in ``folder``; return its ELF."""
    project = BringupRuntime("kws01").render(load_board(board), 0)
    project.files["src/th_model.c"] = PORT.read_text()
    config = json.loads(project.files["tinygen_project.json"])
    config["defines"] = [*config["defines"], f"TEST_FAULT={FAULTS[fault]}"]
    project.files["tinygen_project.json"] = json.dumps(config, indent=2) + "\n"
    project.write(folder)
    shutil.copy(sconstruct_path(), folder / "SConstruct")
    (folder / "tinygen_local.json").write_text("{}\n")
    run_scons(folder, total=None, label="faulty firmware", progress=None)
    return folder / "firmware.elf"
