"""Every command of the protocol, answered exactly, through the host build's stdin/stdout."""

from __future__ import annotations

import pytest

from .host_harness import CLOCK_START_US, HostHarness, db_commands, fnv1a32, infer_answer
from .toolchain import REPO_ROOT

SAMPLES = REPO_ROOT.parent / "shared" / "mlperf-tiny" / "samples"
KWS_SAMPLE = SAMPLES / "kws01_kws_input_data_sample0_i8_49x10.bin"
# The clock after the boot stamp (host_port.c).
CLOCK_AFTER_BOOT = CLOCK_START_US + 1


def test_boot_answer_alone(harness: HostHarness) -> None:
    assert harness.send(b"") == []


def test_name(harness: HostHarness) -> None:
    assert harness.ask("name") == ["m-name-dut-[tinygen host test]"]


def test_profile(harness: HostHarness) -> None:
    assert harness.ask("profile") == [
        "m-profile-[ULPMark for tinyML Firmware V0.0.1]",
        "m-model-[kws01]",
    ]


def test_help_lists_every_command_and_has_no_protocol_lines(harness: HostHarness) -> None:
    text = harness.ask("help")
    assert text, "help printed nothing"
    assert not any(line.startswith(("m-", "e-")) for line in text)
    for command in (
        "name",
        "profile",
        "timestamp",
        "db load",
        "db print",
        "infer",
        "results",
        "outbytes",
        "memory",
    ):
        assert any(command in line for line in text), command
    assert any("1..490" in line for line in text), "help should state MAX_DB_INPUT_SIZE"


def test_timestamp_calls_th_timestamp_each_time(harness: HostHarness) -> None:
    assert harness.converse("timestamp", "timestamp") == [
        [f"m-lap-us-{CLOCK_AFTER_BOOT}"],
        [f"m-lap-us-{CLOCK_AFTER_BOOT + 1}"],
    ]


def test_empty_command_answers_only_ready(harness: HostHarness) -> None:
    assert harness.converse("", "  ", "name") == [[], [], ["m-name-dut-[tinygen host test]"]]


def test_db_load_announces_size(harness: HostHarness) -> None:
    assert harness.ask("db load 4") == ["m-[Expecting 4 bytes]"]
    assert harness.ask("db load 490") == ["m-[Expecting 490 bytes]"]
    assert harness.ask("db load 0007") == ["m-[Expecting 7 bytes]"]


def test_db_chunks_fill_the_buffer_and_report_load_done(harness: HostHarness) -> None:
    answers = harness.converse("db load 5", "db 0a0B", "db 0c", "db 0D0e", "db print")
    assert answers == [
        ["m-[Expecting 5 bytes]"],
        [],
        [],
        ["m-load-done"],
        ["m-buffer-0a-0b-0c-0d-0e"],
    ]


def test_db_print_prints_received_bytes_eight_a_line(harness: HostHarness) -> None:
    data = bytes(range(0xF0, 0xFA))
    answers = harness.converse("db load 20", f"db {data.hex()}", "db print")
    assert answers[-1] == ["m-buffer-f0-f1-f2-f3-f4-f5-f6-f7", "m-buffer-f8-f9"]


def test_db_print_before_any_load_prints_nothing(harness: HostHarness) -> None:
    assert harness.ask("db print") == []


def test_largest_chunk_fits_the_command_buffer(harness: HostHarness) -> None:
    # 80-byte command buffer: "db " + 76 hex digits = 79 characters = 38 bytes.
    data = bytes(range(38))
    command = f"db {data.hex()}"
    assert len(command) == 79
    assert harness.converse("db load 38", command, "db print")[1:] == [
        ["m-load-done"],
        [f"m-buffer-{'-'.join(f'{b:02x}' for b in data[i : i + 8])}" for i in range(0, 38, 8)],
    ]


def test_new_db_load_restarts_the_buffer(harness: HostHarness) -> None:
    answers = harness.converse(
        "db load 2", "db 0102", "db load 3", "db print", "db 0a0b0c", "db print"
    )
    assert answers[2:] == [["m-[Expecting 3 bytes]"], [], ["m-load-done"], ["m-buffer-0a-0b-0c"]]


def test_infer_runs_hooks_in_protocol_order(harness: HostHarness) -> None:
    data = bytes([1, 2, 3, 4])
    answers = harness.converse("db load 4", f"db {data.hex()}", "infer 3 2")
    assert answers[-1] == infer_answer(data, count=3, warmup=2, clock_us=CLOCK_AFTER_BOOT)


def test_infer_defaults_to_one_inference_after_ten_warmups(harness: HostHarness) -> None:
    data = b"\x7f"
    assert harness.ask("db load 1", "db 7f", "infer") == infer_answer(
        data, count=1, warmup=10, clock_us=CLOCK_AFTER_BOOT
    )
    assert harness.ask("db load 1", "db 7f", "infer 4") == infer_answer(
        data, count=4, warmup=10, clock_us=CLOCK_AFTER_BOOT
    )


def test_infer_without_warmup(harness: HostHarness) -> None:
    data = b"\x00\xff"
    assert harness.ask("db load 2", "db 00ff", "infer 1 0") == infer_answer(
        data, count=1, warmup=0, clock_us=CLOCK_AFTER_BOOT
    )


def test_infer_accepts_the_largest_count_syntax(harness: HostHarness) -> None:
    # "-0" is zero, so a valid warm-up; leading zeros are fine.
    answer = harness.ask("db load 1", "db 00", "infer 002 -0")
    assert answer[1:4] == ["m-warmup-start-0", "m-warmup-done", "m-infer-start-2"]


def test_complete_load_can_be_inferred_again(harness: HostHarness) -> None:
    data = b"\x10\x20"
    answers = harness.converse("db load 2", "db 1020", "infer 1 0", "infer 2 1")
    t1_first = CLOCK_AFTER_BOOT + 1 + 100
    assert answers[2] == infer_answer(data, count=1, warmup=0, clock_us=CLOCK_AFTER_BOOT)
    assert answers[3] == infer_answer(data, count=2, warmup=1, clock_us=t1_first + 1)


def test_results_repeats_the_last_results(harness: HostHarness) -> None:
    answers = harness.converse("db load 3", "db 010203", "infer 1 0", "results", "results")
    expected = f"m-results-[3,{fnv1a32(bytes([1, 2, 3]))}]"
    assert answers[2][-1] == expected
    assert answers[3:] == [[expected], [expected]]


def test_results_after_a_new_load_still_show_the_last_inference(harness: HostHarness) -> None:
    answers = harness.converse("db load 1", "db 05", "infer 1 0", "db load 2", "results")
    assert answers[-1] == [f"m-results-[1,{fnv1a32(bytes([5]))}]"]


def test_outbytes_prints_the_output_tensor_as_hex(harness: HostHarness) -> None:
    # host_port.c's "output tensor" is the input inverted.
    answers = harness.converse("db load 4", "db 00017f80", "infer 1 0", "outbytes")
    assert answers[-1] == ["m-outbytes-[fffe807f]"]


def test_memory_prints_the_ports_usage(harness: HostHarness) -> None:
    # host_port.c reports fixed figures; the firmware's come from the painted stack.
    answers = harness.converse("memory", "memory x")
    assert answers[0] == ["m-memory-[stack_peak=1024,stack_size=8192,heap_used=0,heap_size=4096]"]
    assert answers[1] == ["e-[memory: unexpected argument: x]"]


@pytest.mark.parametrize("size", [31, 32, 33, 64, 65, 490])
def test_outbytes_of_any_length_is_one_line(harness: HostHarness, size: int) -> None:
    data = bytes((i * 37 + 11) & 0xFF for i in range(size))
    answers = harness.converse(*db_commands(data), "infer 1 0", "outbytes")
    inverted = bytes(b ^ 0xFF for b in data)
    assert answers[-1] == [f"m-outbytes-[{inverted.hex()}]"]


@pytest.mark.skipif(not KWS_SAMPLE.is_file(), reason="shared/mlperf-tiny samples not present")
def test_runner_conversation_with_the_kws_sample(harness: HostHarness) -> None:
    """What the MLCommons runner does per input: name, profile, load in 31-byte chunks, infer."""
    data = KWS_SAMPLE.read_bytes()
    assert len(data) == 490
    commands = ["name", "profile", *db_commands(data, chunk=31), "db print", "infer 1 0"]
    answers = harness.converse(*commands)
    chunk_answers = answers[3 : 3 + 16]
    assert answers[2] == ["m-[Expecting 490 bytes]"]
    assert chunk_answers[:-1] == [[]] * 15
    assert chunk_answers[-1] == ["m-load-done"]
    printed = answers[-2]
    assert len(printed) == 62  # ceil(490 / 8)
    assert (
        bytes.fromhex("".join(line.removeprefix("m-buffer-").replace("-", "") for line in printed))
        == data
    )
    assert answers[-1] == infer_answer(data, count=1, warmup=0, clock_us=CLOCK_AFTER_BOOT)
