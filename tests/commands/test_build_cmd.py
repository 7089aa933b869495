"""``tinygen build``/``generate``/``boards`` through the CLI: exit codes, output, no tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.commands.cli_support import needs_gcc, run_cli
from tinygen.cli import main

BOARDS = Path(__file__).resolve().parents[1] / "data" / "boards"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("tinygen ")


def test_no_command_is_usage(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys)
    assert code == 2 and "usage" in err


def test_bad_option_is_usage(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "build", "--board", "mps2_an386", "--bringup", "--kernels", "x")
    assert code == 2
    assert err.startswith("error:") and "hint:" in err


def test_boards_json_lists_six(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "boards", "--json")
    names = {b["name"] for b in json.loads(out)}
    assert code == 0
    assert {"mps2_an385", "mps2_an386", "mps2_an500", "netduinoplus2", "disco_f746",
            "nucleo_l4r5zi"} <= names


def test_boards_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "boards")
    assert code == 0 and "disco_f746" in out and "216 MHz" in out


def test_unknown_board(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run_cli(capsys, "build", "--board", "nucleo_x", "--bringup", "--out",
                          str(tmp_path / "fw"))
    assert code == 3 and out == ""
    lines = err.strip().splitlines()
    assert lines[0] == "error: unknown board 'nucleo_x'"
    assert lines[1].startswith("hint: known boards:") and "mps2_an386" in lines[1]
    assert not (tmp_path / "fw").exists()


def test_invalid_board_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run_cli(capsys, "build", "--board", str(BOARDS / "invalid_overlap.yaml"),
                        "--bringup", "--out", str(tmp_path / "fw"))
    assert code == 3 and "memory: regions 'flash' and 'ram' overlap" in err


@pytest.mark.parametrize(("extra", "named"), [
    (["--kernels", "reference"], "--kernels"),
    (["--arena-size", "4K"], "--arena-size"),
    (["--runtime", "native", "--deps-dir", "/nowhere"], "--deps-dir, --runtime"),
])
def test_model_options_are_refused_with_bringup(capsys: pytest.CaptureFixture[str],
                                                tmp_path: Path, extra: list[str],
                                                named: str) -> None:
    code, out, err = run_cli(capsys, "build", "--board", "mps2_an386", "--bringup", *extra,
                          "--out", str(tmp_path / "fw"))
    assert code == 2 and out == ""
    assert err.splitlines()[0] == f"error: {named} cannot be used with --bringup"
    assert not (tmp_path / "fw").exists()


@needs_gcc
def test_bringup_build_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run_cli(capsys, "build", "--board", "mps2_an385", "--bringup", "--out",
                        str(tmp_path / "fw"), "--json")
    data = json.loads(out)
    assert code == 0
    assert data["board"] == "mps2_an385" and data["warnings"] == []
    assert data["audit"]["schema"] == "tinygen-audit"
    assert Path(data["elf"]).is_file()
    # The audit was made in the work folder and moved with the ELF: its paths are the output's.
    assert data["audit"]["elf"]["path"] == data["elf"]
    assert data["audit"]["map"] == str(Path(data["out_dir"]) / "firmware.map")


@needs_gcc
def test_over_budget_exit_code(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run_cli(capsys, "build", "--board", "mps2_an386", "--bringup", "--out",
                          str(tmp_path / "fw"), "--budget-ram", "4K")
    assert code == 5 and out == ""
    assert "ram" in err and "over" in err
    assert not (tmp_path / "fw").exists()


@needs_gcc
def test_generate_writes_a_buildable_project(capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path) -> None:
    code, out, _ = run_cli(capsys, "generate", "--board", "netduinoplus2", "--bringup", "--out",
                        str(tmp_path / "proj"))
    assert code == 0 and "scons -C" in out
    project = tmp_path / "proj"
    assert (project / "SConstruct").is_file() and (project / "tinygen_project.json").is_file()
    assert not (project / "firmware.elf").exists()
    # Documented: running SCons by hand on a generated project builds it.
    import subprocess
    import sys
    subprocess.run([sys.executable, "-m", "SCons", "-C", str(project), "-Q"], check=True,
                   capture_output=True)
    assert (project / "firmware.elf").is_file() and (project / "firmware.hex").is_file()


def test_missing_toolchain_exit_code(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    code, _, err = run_cli(capsys, "build", "--board", "mps2_an386", "--bringup", "--out",
                        str(tmp_path / "fw"))
    assert code == 8 and "apt-get install gcc-arm-none-eabi" in err


@needs_gcc
def test_linker_overflow_is_over_budget(capsys: pytest.CaptureFixture[str],
                                        tmp_path: Path) -> None:
    """A firmware the linker cannot place exits 5 naming the region and the overflow."""
    code, out, err = run_cli(capsys, "build", "--board", str(BOARDS / "valid_tiny_ram.yaml"),
                          "--bringup", "--out", str(tmp_path / "fw"))
    assert code == 5 and out == ""
    assert "overflows region 'ram' by" in err and "biggest parts" in err
    assert not (tmp_path / "fw").exists() and (tmp_path / "fw.failed").is_dir()


def test_out_folder_with_foreign_files_is_refused(capsys: pytest.CaptureFixture[str],
                                                  tmp_path: Path) -> None:
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "important.txt").write_text("mine")
    code, _, err = run_cli(capsys, "build", "--board", "mps2_an386", "--bringup", "--out",
                        str(keep))
    assert code == 3 and "holds files tinygen did not write" in err
    assert (keep / "important.txt").read_text() == "mine"


def test_out_that_is_a_file_is_refused(capsys: pytest.CaptureFixture[str],
                                       tmp_path: Path) -> None:
    target = tmp_path / "afile"
    target.write_text("x")
    code, _, err = run_cli(capsys, "build", "--board", "mps2_an386", "--bringup", "--out",
                        str(target))
    assert code == 3 and "is a file" in err
    assert not list(tmp_path.glob("afile.*"))


def test_verify_checks_its_request_before_building(capsys: pytest.CaptureFixture[str],
                                                   tmp_path: Path) -> None:
    model = str(Path(__file__).resolve().parents[2] / "models" / "kws_tiny.tflite")
    code, _, err = run_cli(capsys, "verify", "--board", "disco_f746", "--model", model, "--out",
                        str(tmp_path / "fw"))
    assert code == 3 and "not emulated" in err
    code, _, err = run_cli(capsys, "verify", "--board", "mps2_an386", "--model", model, "--out",
                        str(tmp_path / "fw"), "--input", str(tmp_path / "missing.bin"))
    assert code == 3 and "is not a file" in err
    code, _, err = run_cli(capsys, "verify", "--board", "mps2_an386", "--model", model, "--out",
                        str(tmp_path / "fw"), "--random", "0")
    assert code == 2 and "nothing to verify" in err
    assert not (tmp_path / "fw").exists()


MODEL = Path(__file__).resolve().parents[2] / "models" / "kws_tiny.tflite"


@pytest.mark.parametrize(("flags", "message"), [
    (("--runtime", "native", "--kernels", "reference"), "--kernels reference is a TFLM kernel set"),
    (("--runtime", "native", "--arena-size", "4K"), "--arena-size applies to --runtime tflm"),
    (("--kernels", "native-portable"), "--kernels native-portable is a kernel set of --runtime "
                                       "native"),
])
def test_runtime_flag_combinations_are_usage_errors(capsys: pytest.CaptureFixture[str],
                                                    tmp_path: Path, flags: tuple[str, ...],
                                                    message: str) -> None:
    """The command names the flags (exit 2) before anything is read, built or written."""
    code, _, err = run_cli(capsys, "build", "--board", "mps2_an386", "--model", str(MODEL),
                           "--out", str(tmp_path / "fw"), *flags)
    assert code == 2 and message in err and "hint:" in err
    assert not any(tmp_path.iterdir())


def test_native_cmsis_nn_on_helium_is_a_usage_error(capsys: pytest.CaptureFixture[str],
                                                     tmp_path: Path) -> None:
    text = (BOARDS.parents[2] / "boards" / "mps2_an505.yaml").read_text()
    board = tmp_path / "m55.yaml"
    m55 = {"cortex-m33": "cortex-m55", "fpv5-sp-d16": "fpv5-d16", "name: mps2_an505": "name: m55"}
    for old, new in m55.items():
        text = text.replace(old, new)
    board.write_text(text)
    code, _, err = run_cli(capsys, "generate", "--board", str(board), "--model", str(MODEL),
                           "--runtime", "native", "--kernels", "cmsis-nn",
                           "--out", str(tmp_path / "fw"))
    assert code == 2 and "(Helium) yet" in err
