"""``tinygen bench`` in-process through tinygen.cli.main, with the bring-up firmware in QEMU."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from tests.commands.cli_support import needs_qemu_and_gcc
from tinygen.cli import main
from tinygen.errors import ExitCode
from tinygen.runner.dataset import synthetic_input

Capture = pytest.CaptureFixture[str]

pytestmark = needs_qemu_and_gcc


def _dataset(root: Path, sizes: list[int], labels: list[int] | None = None) -> Path:
    folder = root / "kws01"
    folder.mkdir(parents=True)
    rows = []
    for i, size in enumerate(sizes):
        (folder / f"in{i}.bin").write_bytes(synthetic_input(size, i))
        rows.append(f"in{i}.bin,12,{labels[i] if labels else i % 12}\n")
    (folder / "y_labels.csv").write_text("".join(rows))
    return root


def _bench(capsys: Capture, *argv: str) -> tuple[int, str, str]:
    code = main(["bench", "--board", "mps2_an386", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_smoke(capsys: Capture, elf: Path) -> None:
    code, out, err = _bench(capsys, "--elf", str(elf), "--mode", "smoke")
    assert code == 0, err
    assert out.splitlines()[-1] == "Smoke test passed: 13 of 13 checks"
    assert re.search(r"^bring-up scores +ok ", out, re.MULTILINE)


def test_performance_prints_the_runner_lines_and_writes_json_and_log(
        capsys: Capture, elf: Path, tmp_path: Path) -> None:
    data = _dataset(tmp_path, [490] * 6)
    results, log = tmp_path / "results.json", tmp_path / "session.log"
    code, out, err = _bench(capsys, "--elf", str(elf), "--mode", "performance", "--dataset",
                            str(data), "--out", str(results), "--log", str(log))
    assert code == 0, err
    lines = out.splitlines()
    assert re.fullmatch(r"Median throughput is +\d+\.\d{3} inf\./sec\.", lines[-5])
    assert re.fullmatch(r"Latency \(median of 5 windows\) is [\d.]+ virtual ms", lines[-4])
    assert re.fullmatch(r"Stack: peak [\d,]+ of 8,192 bytes reserved; heap: 0 of 4,096 bytes",
                        lines[-3])
    assert re.fullmatch(r"Instructions per inference: [\d,]+ \(\+/- .*\)", lines[-2])
    assert lines[-1].startswith("note: emulated (QEMU -icount shift=0): time is instruction")
    doc = json.loads(results.read_text())
    assert (doc["mode"], doc["benchmark"], doc["inputs"]) == ("performance", "kws01", "dataset")
    assert doc["transport"] == {"kind": "qemu", "machine": "mps2-an386", "icount_shift": 0}
    assert doc["device"]["name"] == "tinygen bring-up"
    assert [w["input"] for w in doc["result"]["windows"]] == [f"in{i}.bin" for i in range(5)]
    text = log.read_text()
    assert " > db load 490%" in text and " < m-load-done" in text and " > infer " in text


def test_performance_json_on_stdout_with_synthetic_inputs(capsys: Capture, elf: Path) -> None:
    code, out, err = _bench(capsys, "--elf", str(elf), "--mode", "performance", "--json",
                            "--iterations", "300", "--warmup", "0")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["inputs"] == "synthetic"
    assert [w["iterations"] for w in doc["result"]["windows"]] == [300] * 5
    assert "shorter than 0.05 s" in err  # 300 inferences of ~5 us: a warning, not a failure


def test_accuracy(capsys: Capture, kws_elf: Path, tmp_path: Path) -> None:
    data = _dataset(tmp_path, [490] * 6)
    code, out, err = _bench(capsys, "--elf", str(kws_elf), "--mode", "accuracy", "--dataset",
                            str(data), "--limit", "4")
    assert code == 0, err
    assert out.splitlines()[0] == "4 files, 4 inferences"
    assert re.fullmatch(r"Top 1% = \d+\.\d", out.splitlines()[-2])
    assert re.fullmatch(r"AUC = (\d\.\d{3}|n/a .*)", out.splitlines()[-1])


def test_accuracy_of_the_bringup_firmware_is_refused(capsys: Capture, elf: Path,
                                                     tmp_path: Path) -> None:
    # It has no model: its scores are hashes, and "Top 1% = 0.0" with exit 0 says nothing.
    data = _dataset(tmp_path, [490] * 3)
    log = tmp_path / "session.log"
    code, out, err = _bench(capsys, "--elf", str(elf), "--mode", "accuracy", "--dataset",
                            str(data), "--log", str(log))
    assert code == ExitCode.BAD_INPUT, err
    assert "is the bring-up firmware: it has no model" in err and "hint: " in err
    assert "Top 1%" not in out and " > db " not in log.read_text()
    code, _, err = _bench(capsys, "--bringup", "--mode", "accuracy", "--dataset", str(data),
                          "--build-dir", str(tmp_path / "never"))
    assert code == ExitCode.USAGE and "bring-up firmware has no model" in err
    assert not (tmp_path / "never").exists()  # refused before building


def test_a_dataset_with_another_class_count_is_refused(capsys: Capture, kws_elf: Path,
                                                       tmp_path: Path) -> None:
    data = _dataset(tmp_path, [490] * 3)
    labels = data / "kws01" / "y_labels.csv"
    labels.write_text(labels.read_text().replace(",12,", ",10,"))
    code, out, err = _bench(capsys, "--elf", str(kws_elf), "--mode", "accuracy", "--dataset",
                            str(data))
    assert code == ExitCode.BAD_INPUT, err
    assert "10 classes, but the kws01 firmware gives 12 scores" in err and "hint: " in err
    assert "Top 1%" not in out


def test_wrong_size_file_stops_before_qemu_starts(capsys: Capture, elf: Path,
                                                  tmp_path: Path) -> None:
    data = _dataset(tmp_path, [490, 491, 490])
    log = tmp_path / "session.log"
    code, _, err = _bench(capsys, "--elf", str(elf), "--mode", "accuracy", "--dataset",
                          str(data), "--benchmark", "kws01", "--log", str(log))
    assert code == ExitCode.BAD_INPUT
    assert "in1.bin: 491 bytes, but one input of this benchmark is 490 bytes" in err
    assert not log.exists()


def test_wrong_size_file_stops_before_any_data_is_sent(capsys: Capture, elf: Path,
                                                       tmp_path: Path) -> None:
    data = _dataset(tmp_path, [490, 12])
    log = tmp_path / "session.log"
    code, _, err = _bench(capsys, "--elf", str(elf), "--mode", "performance", "--dataset",
                          str(data), "--log", str(log))
    assert code == ExitCode.BAD_INPUT
    assert "in1.bin: 12 bytes" in err
    sent = [ln.split(" > ", 1)[1] for ln in log.read_text().splitlines() if " > " in ln]
    assert sent == ["name%", "profile%"]  # the benchmark came from the device; no db command


def test_the_firmware_must_run_the_expected_benchmark(capsys: Capture, elf: Path) -> None:
    code, _, err = _bench(capsys, "--elf", str(elf), "--mode", "performance", "--benchmark",
                          "ic01")
    assert code == ExitCode.BAD_INPUT
    assert "the firmware runs benchmark 'kws01', not 'ic01'" in err


def test_failed_smoke_prints_the_table_and_exits_with_the_device_code(
        capsys: Capture, elf: Path) -> None:
    code, out, err = _bench(capsys, "--elf", str(elf), "--mode", "smoke", "--benchmark", "ic01")
    assert code == ExitCode.DEVICE
    assert re.search(r"^profile +FAILED +the firmware runs model 'kws01'", out, re.MULTILINE)
    assert "Smoke test FAILED" in out
    assert "error: smoke test failed: profile:" in err


@pytest.mark.parametrize(("argv", "problem"), [
    (["--mode", "accuracy"], "accuracy mode needs --dataset"),
    (["--mode", "smoke", "--baud", "9600"], "--baud goes with --port"),
    (["--mode", "smoke", "--iterations", "0"], "must be >= 1, not 0"),
    (["--mode", "smoke", "--warmup=-1"], "must be >= 0"),
    (["--mode", "warp"], "invalid choice"),
    (["--mode", "smoke", "--timeout", "inf"], "must be a number > 0, not inf"),
    (["--mode", "smoke", "--timeout", "nan"], "must be a number > 0, not nan"),
    (["--mode", "smoke", "--timeout=-3"], "must be a number > 0, not -3"),
    (["--mode", "smoke", "--timeout", "1e9"], "more than a day"),
    (["--mode", "performance", "--min-window", "inf"], "must be a number > 0"),
    (["--mode", "performance", "--iterations", "99999999999999"], "must be <= 2,147,483,647"),
    (["--mode", "performance", "--warmup", "99999999999999"], "must be <= 2,147,483,647"),
    (["--mode", "performance", "--iterations", "1e3"], "'1e3' is not a whole number"),
])
def test_usage_errors(capsys: Capture, elf: Path, argv: list[str], problem: str) -> None:
    code, _, err = _bench(capsys, "--elf", str(elf), *argv)
    assert code == ExitCode.USAGE
    assert problem in err


def test_a_board_without_emulator_needs_a_port(capsys: Capture, elf: Path) -> None:
    code = main(["bench", "--board", "nucleo_l4r5zi", "--elf", str(elf), "--mode", "smoke"])
    err = capsys.readouterr().err
    assert code == ExitCode.BAD_INPUT
    assert "board nucleo_l4r5zi is not emulated" in err and "--port" in err


def test_a_missing_serial_port(capsys: Capture, elf: Path, tmp_path: Path) -> None:
    code, _, err = _bench(capsys, "--elf", str(elf), "--mode", "smoke", "--port",
                          str(tmp_path / "ttyUSB9"))
    assert code == ExitCode.DEVICE
    assert "does not exist" in err and "hint: list the ports" in err


def test_a_silent_board_on_a_serial_port(capsys: Capture, elf: Path) -> None:
    master, slave = os.openpty()
    try:
        code, _, err = _bench(capsys, "--elf", str(elf), "--mode", "smoke", "--benchmark",
                              "kws01", "--port", os.ttyname(slave), "--timeout", "0.3")
    finally:
        os.close(master)
        os.close(slave)
    assert code == ExitCode.DEVICE
    assert "the device did not answer '%' within 0.3 s" in err


def test_bringup_is_built_once_then_reused(capsys: Capture, tmp_path: Path) -> None:
    folder = tmp_path / "fw"
    argv = ["--bringup", "--build-dir", str(folder), "--mode", "smoke"]
    code, _, err = _bench(capsys, *argv)
    assert code == 0, err
    assert "building firmware for mps2_an386" in err
    code, _, err = _bench(capsys, *argv)
    assert code == 0, err
    assert f"reusing {folder / 'firmware.elf'}" in err


@pytest.mark.parametrize("board", ["mps2_an385", "mps2_an505"])
def test_another_boards_firmware_is_refused_before_qemu_starts(
        capsys: Capture, elf: Path, tmp_path: Path, board: str) -> None:
    log = tmp_path / "session.log"
    code = main(["bench", "--board", board, "--elf", str(elf), "--mode", "smoke", "--log",
                 str(log)])
    err = capsys.readouterr().err
    assert code == ExitCode.BAD_INPUT, err
    assert f"was built for board mps2_an386, not {board}" in err and "hint: " in err
    assert not log.exists()


def test_a_file_that_is_not_arm_firmware_is_refused(capsys: Capture, tmp_path: Path) -> None:
    notes = tmp_path / "notes.elf"
    notes.write_text("x" * 100)
    code, _, err = _bench(capsys, "--elf", str(notes), "--mode", "smoke")
    assert code == ExitCode.BAD_INPUT
    assert "is not an ELF file" in err and "hint: " in err
