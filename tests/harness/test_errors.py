"""Every bad command: one exact e- line, nothing changed, and the next command still works."""

from __future__ import annotations

import pytest

from .host_harness import CLOCK_START_US, HostHarness, infer_answer

NAME_ANSWER = ["m-name-dut-[tinygen host test]"]
NOTHING: tuple[str, ...] = ()
LOADING = ("db load 4", "db 0011")  # 2 of 4 bytes received
COMPLETE = ("db load 2", "db abcd")
INFERRED = (*COMPLETE, "infer 1 0")


def case(setup: tuple[str, ...], command: str, error: str) -> object:
    return pytest.param(setup, command, error, id=command or "empty")


BAD_COMMANDS = [
    # db load
    case(COMPLETE, "db load", "e-[db load: missing size]"),
    case(COMPLETE, "db load 0", "e-[db load: size must be > 0]"),
    case(COMPLETE, "db load 0000", "e-[db load: size must be > 0]"),
    case(COMPLETE, "db load -3", "e-[db load: size must be > 0]"),
    case(COMPLETE, "db load -0", "e-[db load: size must be > 0]"),
    case(COMPLETE, "db load abc", "e-[db load: size is not a decimal number: abc]"),
    case(COMPLETE, "db load 12x", "e-[db load: size is not a decimal number: 12x]"),
    case(COMPLETE, "db load +5", "e-[db load: size is not a decimal number: +5]"),
    case(COMPLETE, "db load 0x10", "e-[db load: size is not a decimal number: 0x10]"),
    case(COMPLETE, "db load -", "e-[db load: size is not a decimal number: -]"),
    case(COMPLETE, "db load 491", "e-[db load: size 491 exceeds the buffer of 490 bytes]"),
    case(
        LOADING,
        "db load 4294967297",
        "e-[db load: size 4294967297 exceeds the buffer of 490 bytes]",
    ),
    case(
        COMPLETE,
        "db load 18446744073709551617",
        "e-[db load: size 18446744073709551617 exceeds the buffer of 490 bytes]",
    ),
    case(COMPLETE, "db load 4 5", "e-[db load: unexpected argument: 5]"),
    case(COMPLETE, "db load 0 5", "e-[db load: size must be > 0]"),
    # db data
    case(LOADING, "db", "e-[db: missing argument]"),
    case(NOTHING, "db 0011", "e-[db: no db load in progress]"),
    case(LOADING, "db 001", "e-[db: odd number of hex digits]"),
    case(LOADING, "db 00zz", "e-[db: bad hex digit 'z']"),
    case(LOADING, "db 0g1", "e-[db: bad hex digit 'g']"),
    case(LOADING, "db -1", "e-[db: bad hex digit '-']"),
    case(LOADING, "db loadx 4", "e-[db: unexpected argument: 4]"),
    case(LOADING, "db 0011 2233", "e-[db: unexpected argument: 2233]"),
    case(LOADING, "db 001122", "e-[db: 3 bytes exceed the 2 bytes still expected]"),
    case(COMPLETE, "db 00", "e-[db: 1 bytes exceed the 0 bytes still expected]"),
    case(LOADING, "db print x", "e-[db print: unexpected argument: x]"),
    # infer
    case(NOTHING, "infer", "e-[infer: no input loaded]"),
    case(LOADING, "infer 1 0", "e-[infer: input incomplete: 2 of 4 bytes]"),
    case(COMPLETE, "infer 0", "e-[infer: count must be > 0]"),
    case(COMPLETE, "infer -1 0", "e-[infer: count must be > 0]"),
    case(COMPLETE, "infer x", "e-[infer: count is not a decimal number: x]"),
    case(COMPLETE, "infer 1.5", "e-[infer: count is not a decimal number: 1.5]"),
    case(NOTHING, "infer 1e3", "e-[infer: count is not a decimal number: 1e3]"),
    case(COMPLETE, "infer 2147483648", "e-[infer: count out of range: 2147483648]"),
    case(COMPLETE, "infer 1 -1", "e-[infer: warm-up must be >= 0]"),
    case(COMPLETE, "infer 1 y", "e-[infer: warm-up is not a decimal number: y]"),
    case(COMPLETE, "infer 1 99999999999", "e-[infer: warm-up out of range: 99999999999]"),
    case(COMPLETE, "infer 1 2 3", "e-[infer: unexpected argument: 3]"),
    # results / outbytes
    case(COMPLETE, "results", "e-[results: no inference yet]"),
    case(NOTHING, "outbytes", "e-[outbytes: no inference yet]"),
    case(INFERRED, "results now", "e-[results: unexpected argument: now]"),
    case(INFERRED, "outbytes 1", "e-[outbytes: unexpected argument: 1]"),
    # commands without arguments
    case(LOADING, "name x", "e-[name: unexpected argument: x]"),
    case(LOADING, "profile x", "e-[profile: unexpected argument: x]"),
    case(LOADING, "help me", "e-[help: unexpected argument: me]"),
    case(LOADING, "timestamp now", "e-[timestamp: unexpected argument: now]"),
    # unknown
    case(LOADING, "foo", "e-[Unknown command: foo]"),
    case(LOADING, "foo bar baz", "e-[Unknown command: foo]"),
    case(LOADING, "NAME", "e-[Unknown command: NAME]"),
    case(COMPLETE, "Infer 1", "e-[Unknown command: Infer]"),
    case(LOADING, "dbload 4", "e-[Unknown command: dbload]"),
    case(LOADING, "   db-load 4", "e-[Unknown command: db-load]"),
    case(LOADING, "e-[x]", "e-[Unknown command: e-[x]]"),
]


@pytest.mark.parametrize(("setup", "command", "error"), BAD_COMMANDS)
def test_bad_command_is_one_error_and_changes_nothing(
    harness: HostHarness, setup: tuple[str, ...], command: str, error: str
) -> None:
    answers = harness.converse(*setup, "db print", command, "db print", "name")
    before, bad, after, name = answers[-4:]
    assert bad == [error]
    assert after == before, "the rejected command changed the buffer"
    assert name == NAME_ANSWER


def test_rejected_chunks_leave_the_load_resumable(harness: HostHarness) -> None:
    answers = harness.converse(*LOADING, "db 001122", "db 0g", "db 223", "db 2233", "db print")
    assert [len(answer) for answer in answers[2:5]] == [1, 1, 1]
    assert answers[5:] == [["m-load-done"], ["m-buffer-00-11-22-33"]]


def test_rejected_db_load_keeps_the_load_in_progress(harness: HostHarness) -> None:
    answers = harness.converse(*LOADING, "db load x", "db load 491", "db 2233")
    assert answers[-1] == ["m-load-done"]


def test_rejected_db_load_keeps_a_complete_input_inferable(harness: HostHarness) -> None:
    answers = harness.converse(*COMPLETE, "db load 0", "db load 9999", "infer 1 0")
    assert answers[-1] == infer_answer(b"\xab\xcd", count=1, warmup=0, clock_us=CLOCK_START_US + 1)


def test_rejected_infers_run_nothing(harness: HostHarness) -> None:
    # A rejected infer takes no timestamp, so the clock of the good one is unchanged.
    answers = harness.converse(*COMPLETE, "infer 0", "infer 1 -1", "infer 1 2 3", "infer 1 0")
    assert answers[-1] == infer_answer(b"\xab\xcd", count=1, warmup=0, clock_us=CLOCK_START_US + 1)


def test_infer_after_a_restarted_load_waits_for_it(harness: HostHarness) -> None:
    answers = harness.converse(*COMPLETE, "db load 3", "infer 1 0", "db 010203", "infer 1 0")
    assert answers[-3] == ["e-[infer: input incomplete: 0 of 3 bytes]"]
    assert answers[-1][0] == "h-load-tensor-3"


def test_infer_refuses_a_size_other_than_the_model_input(small_harness: HostHarness) -> None:
    # small_harness: EE_CFG_INPUT_BYTES 4 in a 5-byte buffer.
    answers = small_harness.converse(
        "db load 5", "db 0102030405", "infer 1 0", "db load 4", "db 01020304", "infer 1 0"
    )
    assert answers[2] == ["e-[infer: input is 5 bytes, the model takes 4]"]
    assert answers[5] == infer_answer(
        bytes([1, 2, 3, 4]), count=1, warmup=0, clock_us=CLOCK_START_US + 1
    )
