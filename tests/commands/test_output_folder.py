"""``--out`` folders through the CLI with real builds and real processes: tinygen never deletes a
file it did not write, and two runs into one folder take turns."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.commands.cli_support import needs_gcc, needs_qemu_and_gcc, run_cli
from tinygen import outdir
from tinygen.errors import ExitCode

pytestmark = needs_gcc

REPO = Path(__file__).resolve().parents[2]
KWS = REPO / "models" / "kws_tiny.tflite"
Capture = pytest.CaptureFixture[str]


def _bringup(capsys: Capture, out: Path, *extra: str) -> tuple[int, str, str]:
    return run_cli(capsys, "build", "--board", "mps2_an386", "--bringup", "--out", str(out),
                   *extra)


@pytest.fixture
def built(capsys: Capture, tmp_path: Path) -> Path:
    out = tmp_path / "out" / "x"
    code, _, err = _bringup(capsys, out)
    assert code == 0, err
    return out


def test_a_rebuild_into_tinygens_own_folder_replaces_it(capsys: Capture, built: Path) -> None:
    (built / "firmware.elf").write_bytes(b"stale")  # tinygen's file, changed: still tinygen's
    code, _, err = _bringup(capsys, built)
    assert code == 0, err
    assert (built / "firmware.elf").read_bytes()[:4] == b"\x7fELF"
    assert outdir.foreign_files(built) == []


def test_the_users_files_and_input_model_are_never_deleted(capsys: Capture, built: Path) -> None:
    model = built / "my_model.tflite"
    shutil.copy(KWS, model)
    (built / "NOTES.txt").write_text("x\n")
    code, out, err = run_cli(capsys, "build", "--runtime", "native", "--board", "mps2_an386",
                             "--model", str(model), "--out", str(built), "--json")
    assert code == ExitCode.BAD_INPUT
    assert "my_model.tflite" in err and "hint:" in err
    assert json.loads(out)["exit_code"] == ExitCode.BAD_INPUT
    assert model.read_bytes() == KWS.read_bytes()
    assert (built / "NOTES.txt").read_text() == "x\n"
    assert (built / "firmware.elf").is_file()  # the earlier build is untouched too


def test_a_folder_from_before_manifests_is_refused(capsys: Capture, built: Path) -> None:
    (built / outdir.MANIFEST).unlink()  # what tinygen 0.1 wrote: tinygen_project.json only
    code, _, err = _bringup(capsys, built)
    assert code == ExitCode.BAD_INPUT, err
    assert (built / "tinygen_project.json").is_file() and (built / "firmware.elf").is_file()


@pytest.mark.parametrize("suffix", [".partial", ".failed"])
def test_a_users_folder_named_like_a_work_folder_is_kept(capsys: Capture, tmp_path: Path,
                                                          suffix: str) -> None:
    mine = tmp_path / f"fw{suffix}"
    mine.mkdir()
    (mine / "thesis.tex").write_text("chapter 1")
    code, _, err = _bringup(capsys, tmp_path / "fw")
    assert code == ExitCode.BAD_INPUT
    assert f"fw{suffix}" in err and "thesis.tex" in err
    assert (mine / "thesis.tex").read_text() == "chapter 1"
    assert not (tmp_path / "fw").exists()


def test_a_failed_build_is_kept_with_a_manifest_and_replaced_next_time(
        capsys: Capture, tmp_path: Path) -> None:
    out = tmp_path / "fw"
    code, _, err = _bringup(capsys, out, "--budget-flash", "100")
    assert code == ExitCode.OVER_BUDGET, err
    failed = tmp_path / "fw.failed"
    assert outdir.foreign_files(failed) == [] and (failed / "firmware.elf").is_file()
    code, _, err = _bringup(capsys, out)
    assert code == 0, err
    assert not failed.exists() and not (tmp_path / "fw.partial").exists()


def _start(out: Path, cache: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tinygen", "build", "--board", "mps2_an386", "--runtime",
         "native", "--model", str(KWS), "--out", str(out)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "TINYGEN_CACHE": str(cache)},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


@needs_qemu_and_gcc
def test_two_runs_into_one_folder_take_turns(tmp_path: Path) -> None:
    """The first run measures the stack in QEMU (an empty cache) while the second arrives."""
    out = tmp_path / "fw"
    first = _start(out, tmp_path / "cache")
    deadline = time.monotonic() + 120
    while not (tmp_path / "fw.partial").exists():  # the first one holds the folder's lock
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()
        time.sleep(0.01)
    second = _start(out, tmp_path / "cache")
    _, err1 = first.communicate(timeout=300)
    _, err2 = second.communicate(timeout=300)
    assert (first.returncode, second.returncode) == (0, 0), err1 + err2
    assert f"another tinygen is writing {out}" in err2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "fw"]
    assert outdir.foreign_files(out) == [] and (out / "firmware.elf").is_file()
