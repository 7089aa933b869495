"""Fuzz the serial protocol: seeded random byte streams through the harness under ASan/UBSan.

The generator, the port and the protocol model are in fuzz_protocol.c; here it is built per
configuration and run with a fixed seed. By hand, with more inputs spread over all cores:

    python -m tests.harness.test_fuzz --count 100000 [--seed S] [--jobs J]
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from .toolchain import (
    FUZZER,
    HARNESS_SOURCES,
    Defines,
    build_host_program,
    find_host_cc,
    run_program,
)

# A small db buffer makes overflows frequent (and a fixed model input size refuses some loads);
# a small command buffer makes over-long commands frequent and, with the kws01 buffer, loads long.
FUZZ_CONFIGS: dict[str, Defines] = {
    "db48-in40-cmd80": {"MAX_DB_INPUT_SIZE": 48, "EE_CFG_INPUT_BYTES": 40},
    "db490-cmd32": {"MAX_DB_INPUT_SIZE": 490, "EE_CMD_SIZE": 32},
}
CI_SEED = 1
CI_COUNT = 4000  # per configuration; about 1 s each with the sanitizers
SUMMARY = re.compile(
    r"(?P<inputs>\d+) inputs, (?P<bytes>\d+) bytes, (?P<accepted>\d+) commands accepted, "
    r"(?P<rejected>\d+) rejected, (?P<loads>\d+) loads inferred \((?P<infers>\d+) inferences\)"
)


class FuzzFailure(AssertionError):
    """The fuzzer crashed, a sanitizer reported, or the protocol model disagreed."""


@dataclass(frozen=True)
class FuzzStats:
    inputs: int = 0
    bytes: int = 0
    accepted: int = 0
    rejected: int = 0
    loads: int = 0
    infers: int = 0

    def __add__(self, other: FuzzStats) -> FuzzStats:
        return FuzzStats(*(a + b for a, b in zip(self.values(), other.values(), strict=True)))

    def values(self) -> tuple[int, ...]:
        return (self.inputs, self.bytes, self.accepted, self.rejected, self.loads, self.infers)

    def describe(self) -> str:
        return (
            f"{self.inputs} inputs, 0 crashes ({self.bytes} bytes, {self.accepted} commands "
            f"accepted, {self.rejected} rejected, {self.loads} infer commands run)"
        )


def build_fuzzer(
    out_dir: Path,
    defines: Defines,
    cc: str = "gcc",
    harness_sources: Sequence[Path] = HARNESS_SOURCES,
) -> Path:
    return build_host_program(
        out_dir / "fuzz_protocol", [FUZZER], defines, cc=cc, harness_sources=harness_sources
    )


def run_fuzzer(program: Path, seed: int, count: int, start: int = 0) -> FuzzStats:
    """Run inputs start..start+count-1 of ``seed``; raise FuzzFailure on any finding."""
    args = ["--seed", str(seed), "--count", str(count), "--start", str(start)]
    proc = run_program(program, args, timeout=3600)
    out = proc.stdout.decode(errors="replace")
    err = proc.stderr.decode(errors="replace")
    match = SUMMARY.search(out)
    if proc.returncode != 0 or err or match is None:
        raise FuzzFailure(
            f"{program.name} {' '.join(args)} exited {proc.returncode}\n{err[-6000:]}{out}"
        )
    return FuzzStats(*(int(value) for value in match.groups()))


# ---- pytest ----


@pytest.fixture(scope="module", params=list(FUZZ_CONFIGS))
def fuzzer(
    request: pytest.FixtureRequest, host_cc: str, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    name: str = request.param
    return build_fuzzer(tmp_path_factory.mktemp(f"fuzz-{name}"), FUZZ_CONFIGS[name], cc=host_cc)


def test_fuzz_protocol(fuzzer: Path) -> None:
    stats = run_fuzzer(fuzzer, seed=CI_SEED, count=CI_COUNT)
    print(f"{fuzzer.parent.name}: {stats.describe()}")
    assert stats.inputs == CI_COUNT
    # The generator must keep reaching the deep paths, or the run proves little.
    assert stats.loads > CI_COUNT
    assert stats.accepted > 10 * CI_COUNT and stats.rejected > 10 * CI_COUNT


def test_inputs_are_independent_of_the_split(fuzzer: Path) -> None:
    whole = run_fuzzer(fuzzer, seed=7, count=200)
    halves = run_fuzzer(fuzzer, seed=7, count=120) + run_fuzzer(fuzzer, seed=7, count=80, start=120)
    assert whole == halves


def test_dump_and_replay_one_input(fuzzer: Path, tmp_path: Path) -> None:
    dumped = run_program(fuzzer, ["--dump", "--seed", "3", "--start", "42"])
    assert dumped.returncode == 0 and dumped.stdout
    saved = tmp_path / "input-42.bin"
    saved.write_bytes(dumped.stdout)
    handmade = tmp_path / "handmade.bin"
    handmade.write_bytes(
        b"db load 3%db 0102\x00%db 010203%db 04%infer 1 0%"
        + b"x" * 5000
        + b"%outbytes%results%\xff"
    )
    replay = run_program(fuzzer, ["--replay", str(saved), str(handmade)])
    assert replay.returncode == 0, replay.stderr.decode(errors="replace")
    assert b"2 inputs replayed, 0 failures" in replay.stdout


def test_fuzzer_finds_a_planted_overflow(host_cc: str, tmp_path: Path) -> None:
    """Remove the bounds check on `db` chunks: the fuzzer must notice within the CI budget."""
    harness = HARNESS_SOURCES[0].read_text()
    check = "if (count > remaining) {"
    assert check in harness, "planted-bug test is out of date with ee_benchmark.c"
    broken = tmp_path / "ee_benchmark.c"
    broken.write_text(harness.replace(check, "if (0) {"))
    program = build_fuzzer(
        tmp_path,
        FUZZ_CONFIGS["db48-in40-cmd80"],
        cc=host_cc,
        harness_sources=[broken, *HARNESS_SOURCES[1:]],
    )
    with pytest.raises(FuzzFailure, match=r"runtime error|FAILURE|AddressSanitizer"):
        run_fuzzer(program, seed=CI_SEED, count=CI_COUNT)


# ---- by hand ----


def _split(count: int, jobs: int) -> list[tuple[int, int]]:
    """(start, count) ranges covering 0..count-1 in at most ``jobs`` parts."""
    jobs = max(1, min(jobs, count))
    size, extra = divmod(count, jobs)
    ranges, start = [], 0
    for job in range(jobs):
        part = size + (1 if job < extra else 0)
        ranges.append((start, part))
        start += part
    return ranges


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.harness.test_fuzz", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--count", type=int, default=100_000, help="inputs per configuration")
    parser.add_argument("--seed", type=int, default=None, help="default: a random one")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--config", choices=list(FUZZ_CONFIGS), action="append", help="default: all"
    )
    args = parser.parse_args(argv)
    cc = find_host_cc()
    if cc is None:
        print("error: no host gcc", file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else secrets.randbelow(2**63)
    failed = False
    with tempfile.TemporaryDirectory(prefix="tinygen-fuzz-") as tmp:
        for name in args.config or list(FUZZ_CONFIGS):
            out_dir = Path(tmp) / name
            out_dir.mkdir()
            program = build_fuzzer(out_dir, FUZZ_CONFIGS[name], cc=cc)
            ranges = _split(args.count, args.jobs)
            with ThreadPoolExecutor(len(ranges)) as pool:
                futures = [
                    pool.submit(run_fuzzer, program, seed, part, start) for start, part in ranges
                ]
                try:
                    total = sum((future.result() for future in futures), FuzzStats())
                except FuzzFailure as exc:
                    print(f"{name}: seed {seed}: FAILED\n{exc}", file=sys.stderr)
                    failed = True
                    continue
            print(f"{name}: seed {seed}: {total.describe()}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
