"""The three modes end to end: the bring-up firmware in QEMU, the runner on the host."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from tinygen.board import Board, load_board
from tinygen.errors import DeviceError
from tinygen.runner import metrics
from tinygen.runner.bringup import bringup_scores
from tinygen.runner.dataset import load_dataset, synthetic_input
from tinygen.runner.modes import (
    EMULATED_MIN_WINDOW_S,
    BenchInput,
    PerformanceResult,
    iterations_for,
    round_up_2sig,
    run_accuracy,
    run_performance,
)
from tinygen.runner.protocol import DutClient
from tinygen.runner.session import open_transport, start_session
from tinygen.runner.smoke import run_smoke
from tinygen.runner.transport import SerialTransport

from .fake_device import FakeDevice, answer
from .test_dataset import write_dataset

SYNTHETIC = [BenchInput(f"s{i}", synthetic_input(490, i)) for i in range(5)]


# ---- smoke ---------------------------------------------------------------------------------


def test_smoke_passes_on_mps2_an386(dut: DutClient) -> None:
    result = run_smoke(dut, SYNTHETIC[0], benchmark="kws01", emulated=True)
    assert result.ok, result.checks
    names = [c.name for c in result.checks]
    assert names == ["boot", "name", "profile", "help", "timestamp", "db load", "db print",
                     "infer", "results", "outbytes", "bring-up scores", "timer", "error path"]
    assert result.summary_lines() == ["Smoke test passed: 13 of 13 checks"]


def test_smoke_passes_on_the_stm32_usart_of_netduinoplus2(netduino_elf: Path) -> None:
    board = load_board("netduinoplus2")
    with open_transport(board, netduino_elf, None, None) as transport:
        client = DutClient(transport, strict=True)
        start_session(client, emulated=True)
        result = run_smoke(client, SYNTHETIC[1], benchmark="kws01", emulated=True)
    assert result.ok, result.checks


def test_smoke_reports_failures_and_goes_on(dut: DutClient) -> None:
    # an ic01 input (3072 bytes) for a kws01 firmware: profile and db load fail, the rest runs
    item = BenchInput("ic", synthetic_input(3072, 0))
    result = run_smoke(dut, item, benchmark="ic01", emulated=True)
    failed = {c.name: c.detail for c in result.checks if not c.ok}
    assert set(failed) == {"profile", "db load"}
    assert "runs model 'kws01', expected 'ic01'" in failed["profile"]
    assert "e-[db load: size 3072 exceeds the buffer of 490 bytes]" in failed["db load"]
    assert [c.ok for c in result.checks if c.name == "error path"] == [True]
    assert result.summary_lines()[0].startswith("Smoke test FAILED: 2 of 7 checks failed")


# ---- performance ---------------------------------------------------------------------------


def test_iterations_are_rounded_up_to_two_significant_digits() -> None:
    assert [round_up_2sig(v) for v in (1, 57, 99, 101, 10274, 2_000_001)] == [
        1, 57, 99, 110, 11000, 2_100_000]
    # 1986 us for 400 inferences; 50 ms wanted with 2 % margin -> 10272.3 -> 11000
    assert iterations_for(50_000, 400, 1986) == 11000


def _performance(dut: DutClient, iterations: int | None = None) -> PerformanceResult:
    return run_performance(dut, SYNTHETIC, iterations=iterations, warmup=1,
                           min_window_s=EMULATED_MIN_WINDOW_S, emulated=True)


def test_performance_two_runs_give_the_same_instruction_count(an386: Board,
                                                              bringup_elf: Path) -> None:
    runs = []
    for _ in range(2):
        with open_transport(an386, bringup_elf, None, None) as transport:
            client = DutClient(transport)
            start_session(client, emulated=True)
            runs.append(_performance(client))
    a, b = runs
    assert len(a.windows) == 5
    assert {w.iterations for w in a.windows} == {w.iterations for w in b.windows}
    n = a.windows[0].iterations
    assert all(w.elapsed_us >= EMULATED_MIN_WINDOW_S * 1e6 for w in a.windows + b.windows)
    assert a.short_windows == []
    # Under -icount the window holds the same instructions every time; the microsecond
    # counter is read at a random point within a microsecond (when the host's bytes arrived),
    # so a window reads as e or e + 1 microseconds: never more apart than that.
    elapsed = {w.elapsed_us for w in a.windows + b.windows}
    assert max(elapsed) - min(elapsed) <= 1
    ipi_a, ipi_b = a.instructions_per_inference, b.instructions_per_inference
    assert ipi_a is not None and ipi_b is not None
    assert abs(ipi_a - ipi_b) <= a.instructions_resolution == 1000 / n
    assert a.median_throughput == pytest.approx(1e6 / (a.latency_ms * 1000), rel=1e-3)
    lines = a.summary_lines()
    assert lines[0].startswith("Median throughput is ") and lines[0].endswith(" inf./sec.")
    assert "instruction count" in lines[-1]


def test_performance_with_given_iterations(dut: DutClient) -> None:
    result = _performance(dut, iterations=500)
    assert [w.iterations for w in result.windows] == [500] * 5
    assert [w.warmup for w in result.windows] == [1] * 5
    assert [w.input for w in result.windows] == ["s0", "s1", "s2", "s3", "s4"]
    assert len(result.short_windows) == 5  # 500 x ~5 us is far below 50 ms
    doc = result.to_json()
    assert doc["iterations_chosen_by_calibration"] is False
    assert doc["windows"][0]["instructions_per_inference"] == pytest.approx(
        doc["windows"][0]["elapsed_us"] * 1000 / 500)


# ---- accuracy ------------------------------------------------------------------------------


def test_accuracy_equals_the_top1_and_auc_computed_from_the_fnv_lanes(
        dut: DutClient, tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    rows = []
    for i in range(12):
        data = rng.integers(0, 256, 490, dtype=np.uint8).tobytes()
        best = int(np.argmax(bringup_scores(data, 12)))
        label = best if i % 3 else (best + 1) % 12  # two thirds right
        rows.append((f"f{i:02d}.bin", data, f"12,{label}"))
    dataset = load_dataset(write_dataset(tmp_path, "kws01", rows), "kws01")

    result = run_accuracy(dut, dataset)

    y_pred = np.array([metrics.normalise(bringup_scores(d, 12)) for _, d, _ in rows])
    labels = [int(r.split(",")[1]) for _, _, r in rows]
    assert result.top1_percent == pytest.approx(100 * 8 / 12)
    assert result.top1_percent == metrics.top1_percent(y_pred, labels)
    assert result.auc == metrics.auc_one_vs_rest(y_pred, labels)
    assert [f.label for f in result.files] == labels
    assert result.summary_lines() == [f"Top 1% = {100 * 8 / 12:2.1f}",
                                      f"AUC = {result.auc:.3f}"]


def test_accuracy_limit_takes_the_first_files(dut: DutClient, tmp_path: Path) -> None:
    rows = [(f"f{i}.bin", synthetic_input(490, i), "12,0") for i in range(4)]
    dataset = load_dataset(write_dataset(tmp_path, "kws01", rows), "kws01")
    result = run_accuracy(dut, dataset, limit=2)
    assert [f.file for f in result.files] == ["f0.bin", "f1.bin"]
    assert result.auc is None
    assert result.summary_lines()[1] == "AUC = n/a (the files hold only one class)"


def test_anomaly_windows_are_averaged_per_file(an386: Board, bringup_ad_elf: Path,
                                               tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    rows = []
    for i, label in enumerate([0, 1, 0, 1]):
        data = rng.integers(0, 256, 2560 + 2 * 512, dtype=np.uint8).tobytes()
        rows.append((f"ad{i}.bin", data, f"2,{label},2560,512"))
    dataset = load_dataset(write_dataset(tmp_path, "ad01", rows), "ad01")
    with open_transport(an386, bringup_ad_elf, None, None) as transport:
        client = DutClient(transport)
        start_session(client, emulated=True)
        result = run_accuracy(client, dataset)

    expected = [np.mean([bringup_scores(d[k * 512:k * 512 + 2560], 1)[0] for k in range(3)])
                for _, d, _ in rows]
    assert [f.inferences for f in result.files] == [3, 3, 3, 3]
    assert [f.scores[0] for f in result.files] == pytest.approx(expected)
    labels = [0, 1, 0, 1]
    assert result.auc == metrics.auc_binary(np.array(labels) == 1, np.array(expected))
    assert result.top1_percent == pytest.approx(
        metrics.ad_detection_percent(np.array(expected), labels))


def test_a_counter_that_stands_still_is_reported(tmp_path: Path) -> None:
    state = {"expected": 0, "received": 0}

    def handler(command: str) -> bytes:
        words = command.split()
        if words[:2] == ["db", "load"]:
            state["expected"], state["received"] = int(words[2]), 0
            return answer(f"m-[Expecting {words[2]} bytes]")
        if words[0] == "db":
            state["received"] += len(words[1]) // 2
            return answer("m-load-done") if state["received"] == state["expected"] else answer()
        time.sleep(0.1)  # an inference the host can see taking time
        return answer(f"m-warmup-start-{words[2]}", "m-warmup-done", f"m-infer-start-{words[1]}",
                      "m-lap-us-77", "m-lap-us-77", "m-infer-done", "m-results-[0.5,0.5]")

    with FakeDevice(handler) as fake, SerialTransport(fake.path) as port:
        client = DutClient(port)
        with pytest.raises(DeviceError, match="counter did not advance over 1 inference"):
            run_performance(client, SYNTHETIC, iterations=None, warmup=0, min_window_s=10.0,
                            emulated=False)
        assert fake.commands[-1] == "infer 1 0"  # found at once, not after longer windows


def test_performance_reports_the_firmwares_stack_peak(an386: Board, bringup_elf: Path) -> None:
    """After the windows the runner asks `memory%`: the bring-up firmware's painted stack shows
    its real peak (inside the 8 KiB it reserves), and nothing took heap."""
    with open_transport(an386, bringup_elf, None, None) as transport:
        client = DutClient(transport)
        start_session(client, emulated=True)
        result = _performance(client, iterations=10)
    assert result.memory is not None
    assert 200 < result.memory.stack_peak < result.memory.stack_size == 8192
    assert result.memory.heap_used == 0
    assert result.to_json()["memory"]["stack_peak"] == result.memory.stack_peak
    assert result.summary_lines()[2] == (
        f"Stack: peak {result.memory.stack_peak:,} of 8,192 bytes reserved; heap: 0 of "
        f"4,096 bytes")
