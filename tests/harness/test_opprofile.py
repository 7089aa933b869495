"""The `opprofile` command of a profile build (TINYGEN_PROFILE), and its absence elsewhere."""

from __future__ import annotations

from .conftest import PROFILE_OPS
from .host_harness import HostHarness, db_commands

INPUT = bytes(i % 256 for i in range(490))
# host_port.c: operator i takes 1000 * (i + 1) ticks, 7 ticks before each and after the last.
GAP = 7


def _expected(ops: int) -> list[str]:
    total = sum(1000 * (i + 1) for i in range(ops)) + GAP * (ops + 1)
    return ["m-opprofile-clock-1000000",
            *(f"m-opprofile-op-{i}-{1000 * (i + 1)}" for i in range(ops)),
            f"m-opprofile-total-{total}"]


def test_the_last_inference_operator_by_operator(profile_harness: HostHarness) -> None:
    answer = profile_harness.ask(*db_commands(INPUT), "infer 2 1", "opprofile")
    assert answer == _expected(PROFILE_OPS)


def test_asked_again_it_answers_the_same(profile_harness: HostHarness) -> None:
    answers = profile_harness.converse(*db_commands(INPUT), "infer 1 0", "opprofile",
                                       "opprofile")
    assert answers[-1] == answers[-2] == _expected(PROFILE_OPS)


def test_before_any_inference_it_is_an_error(profile_harness: HostHarness) -> None:
    assert profile_harness.ask("opprofile") == ["e-[opprofile: no inference yet]"]


def test_extra_words_are_an_error(profile_harness: HostHarness) -> None:
    answer = profile_harness.ask(*db_commands(INPUT), "infer 1 0", "opprofile 3")
    assert answer == ["e-[opprofile: unexpected argument: 3]"]


def test_more_operators_than_recorded_is_an_error(
        overfull_profile_harness: HostHarness) -> None:
    answer = overfull_profile_harness.ask(*db_commands(INPUT), "infer 1 0", "opprofile")
    assert answer == ["e-[opprofile: 5 operators ran, EE_PROFILE_OPS is 3]"]


def test_help_lists_it_in_a_profile_build_only(profile_harness: HostHarness,
                                               harness: HostHarness) -> None:
    assert any("opprofile" in line for line in profile_harness.ask("help"))
    assert not any("opprofile" in line for line in harness.ask("help"))


def test_a_normal_build_does_not_know_it(harness: HostHarness) -> None:
    answer = harness.ask(*db_commands(INPUT), "infer 1 0", "opprofile")
    assert answer == ["e-[Unknown command: opprofile]"]
