"""Command reception byte by byte: '%', CR/LF, TAB, over-long commands, bad bytes."""

from __future__ import annotations

import pytest

from .host_harness import HostHarness

NAME = b"name%"
NAME_ANSWER = ["m-name-dut-[tinygen host test]"]
TOO_LONG = "e-[Command too long (max 79 characters)]"


def test_each_percent_ends_one_command(harness: HostHarness) -> None:
    assert harness.send(b"%%" + NAME + b"%") == [[], [], NAME_ANSWER, []]


def test_command_without_percent_is_not_run(harness: HostHarness) -> None:
    assert harness.send(b"name") == []


def test_cr_and_lf_are_ignored(harness: HostHarness) -> None:
    answers = harness.send(b"na\r\nme\r\n%\r\ndb lo\nad 2%db 01\r\n02%db print%")
    assert answers == [NAME_ANSWER, ["m-[Expecting 2 bytes]"], ["m-load-done"], ["m-buffer-01-02"]]


def test_tabs_and_repeated_spaces_separate_words(harness: HostHarness) -> None:
    answers = harness.send(b"\tdb\tload  \t3 %  db\t010203\t%db print%")
    assert answers == [["m-[Expecting 3 bytes]"], ["m-load-done"], ["m-buffer-01-02-03"]]


def test_longest_command_is_accepted(harness: HostHarness) -> None:
    word = "a" * 79
    assert harness.send(f"{word}%".encode()) == [[f"e-[Unknown command: {word}]"]]


@pytest.mark.parametrize("length", [80, 81, 200, 100_000])
def test_longer_command_is_an_error_and_the_next_one_works(
    harness: HostHarness, length: int
) -> None:
    assert harness.send(b"a" * length + b"%" + NAME) == [[TOO_LONG], NAME_ANSWER]


def test_cr_lf_do_not_count_towards_the_length(harness: HostHarness) -> None:
    word = "b" * 79
    data = b"\r\n".join(word[i : i + 10].encode() for i in range(0, 79, 10)) + b"%"
    assert harness.send(data) == [[f"e-[Unknown command: {word}]"]]


def test_too_long_chunk_writes_nothing(harness: HostHarness) -> None:
    chunk = b"db " + b"ee" * 39  # 81 characters: one byte more than fits
    answers = harness.send(
        b"db load 40%db 0102%" + chunk + b"%db print%db " + b"ee" * 38 + b"%db print%"
    )
    assert answers[2:] == [
        [TOO_LONG],
        ["m-buffer-01-02"],
        ["m-load-done"],
        ["m-buffer-01-02-ee-ee-ee-ee-ee-ee", *["m-buffer-" + "-".join(["ee"] * 8)] * 4],
    ]


@pytest.mark.parametrize("byte", [0x00, 0x01, 0x08, 0x1B, 0x7F, 0x80, 0xC3, 0xFF])
def test_bad_byte_discards_the_command(harness: HostHarness, byte: int) -> None:
    data = b"na" + bytes([byte]) + b"me%" + NAME
    assert harness.send(data) == [[f"e-[Bad character 0x{byte:02x} in command]"], NAME_ANSWER]


def test_first_bad_byte_is_reported(harness: HostHarness) -> None:
    assert harness.send(b"\x01x\x02%") == [["e-[Bad character 0x01 in command]"]]


def test_bad_byte_in_a_chunk_writes_nothing(harness: HostHarness) -> None:
    answers = harness.send(b"db load 2%db 01\x0002%db print%db 0304%")
    assert answers == [
        ["m-[Expecting 2 bytes]"],
        ["e-[Bad character 0x00 in command]"],
        [],
        ["m-load-done"],
    ]


def test_too_long_wins_over_a_bad_byte(harness: HostHarness) -> None:
    assert harness.send(b"\x01" + b"a" * 100 + b"%") == [[TOO_LONG]]


def test_smaller_command_buffer_from_the_config(small_harness: HostHarness) -> None:
    word = "c" * 31
    answers = small_harness.send(f"{word}%{word}c%".encode() + NAME)
    assert answers == [
        [f"e-[Unknown command: {word}]"],
        ["e-[Command too long (max 31 characters)]"],
        NAME_ANSWER,
    ]


def test_smaller_db_buffer_from_the_config(small_harness: HostHarness) -> None:
    answers = small_harness.send(b"db load 6%db load 5%db 0102030405%db 06%db print%")
    assert answers == [
        ["e-[db load: size 6 exceeds the buffer of 5 bytes]"],
        ["m-[Expecting 5 bytes]"],
        ["m-load-done"],
        ["e-[db: 1 bytes exceed the 0 bytes still expected]"],
        ["m-buffer-01-02-03-04-05"],
    ]
