"""Outputs the system refuses (no such folder, not permitted, name too long, a folder, a full
disk): every command exits 3 with a hint, and no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import needs_gcc, run_cli

from tinygen.errors import ExitCode

LONG = "a" * 300
_FULL = Path("/dev/full")


def _unwritable(tmp_path: Path, suffix: str) -> list[Path]:
    """Paths no process may write: under /proc (cannot hold files), a 300-character name,
    under a missing folder, under a file, and (for suffixed names) a folder."""
    afile = tmp_path / "afile"
    afile.write_text("")
    folder = tmp_path / f"folder{suffix}"
    folder.mkdir(exist_ok=True)
    return [Path(f"/proc/x{suffix}"), tmp_path / f"{LONG}{suffix}",
            tmp_path / "missing" / f"x{suffix}", afile / f"x{suffix}"] + (
        [folder] if suffix else [])


def _refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code, _, err = run_cli(capsys, *argv)
    assert code == ExitCode.BAD_INPUT, err
    assert "\nhint: " in err, err
    return err


@needs_gcc
def test_build_out_unwritable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # (build creates missing parent folders, so that case is not refused)
    for out in [p for p in _unwritable(tmp_path, "") if p.parent.name != "missing"] + [
            Path("/sys/x")]:
        _refused(capsys, "build", "--bringup", "--board", "mps2_an386", "--out", str(out))


@needs_gcc
def test_audit_html_unwritable(elf: Path, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    for page in _unwritable(tmp_path, ".html"):
        err = _refused(capsys, "audit", str(elf), "--html", str(page))
        assert "cannot write the treemap" in err


@needs_gcc
@pytest.mark.skipif(not _FULL.exists(), reason="no /dev/full on this system")
@pytest.mark.parametrize("fmt", ["--json", "--markdown", None])
def test_audit_stdout_on_a_full_disk(elf: Path, fmt: str | None) -> None:
    argv = [sys.executable, "-m", "tinygen", "audit", str(elf)] + ([fmt] if fmt else [])
    with _FULL.open("w") as full:
        proc = subprocess.run(argv, stdout=full, stderr=subprocess.PIPE, text=True, check=False)
    assert proc.returncode == ExitCode.BAD_INPUT, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "No space left on device" in proc.stderr and "hint: " in proc.stderr


@needs_gcc
@pytest.mark.parametrize("option", ["--out", "--log"])
def test_bench_outputs_unwritable_refused_before_the_run(
        option: str, elf: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for path in _unwritable(tmp_path, ".txt"):
        err = _refused(capsys, "bench", "--elf", str(elf), "--board", "mps2_an386",
                       "--mode", "smoke", option, str(path))
        assert "cannot write the " in err


def test_board_new_out_unwritable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for out in [p for p in _unwritable(tmp_path, ".yaml") if p.parent.name != "missing"]:
        _refused(capsys, "board", "new", "myboard", "--like", "nucleo_f446re", "--out", str(out))


def test_cache_is_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                         capsys: pytest.CaptureFixture[str]) -> None:
    afile = tmp_path / "cache"
    afile.write_text("")
    monkeypatch.setenv("TINYGEN_CACHE", str(afile))
    err = _refused(capsys, "deps")
    assert "TINYGEN_CACHE" in err


def test_quantize_out_unwritable_refused_before_calibrating(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = Path(__file__).resolve().parents[1] / "data" / "float_model.tflite"
    for out in [p for p in _unwritable(tmp_path, ".tflite") if p.parent.name != "missing"]:
        err = _refused(capsys, "quantize", str(model), "--calibration",
                       str(tmp_path), "--out", str(out))
        assert "cannot write the quantized model" in err
