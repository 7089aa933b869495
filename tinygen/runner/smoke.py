"""The smoke mode: every command of the protocol once, each answer checked line by line; a
bring-up firmware's scores also checked against what it must compute."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tinygen.benchmarks import BENCHMARKS
from tinygen.errors import DeviceError
from tinygen.runner.bringup import BRINGUP_NAME, bringup_outbytes, bringup_scores
from tinygen.runner.modes import BenchInput, check_advanced
from tinygen.runner.protocol import DeviceReplyError, DutClient, InferResult, elapsed_us


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class SmokeResult:
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def summary_lines(self) -> list[str]:
        failed = [c for c in self.checks if not c.ok]
        if not failed:
            return [f"Smoke test passed: {len(self.checks)} of {len(self.checks)} checks"]
        return [f"Smoke test FAILED: {len(failed)} of {len(self.checks)} checks failed "
                f"({', '.join(c.name for c in failed)})"]

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok,
                "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail}
                           for c in self.checks]}


class _Mismatch(Exception):
    """A well-formed answer with the wrong content; the session is still in step."""


class _Smoke:
    def __init__(self) -> None:
        self.checks: list[Check] = []
        self.lost: str | None = None  # why the session cannot go on

    def step(self, name: str, action: Callable[[], str]) -> bool:
        if self.lost is not None:
            self.checks.append(Check(name, False, f"not run: {self.lost}"))
            return False
        try:
            detail = action()
        except (DeviceReplyError, _Mismatch) as exc:
            self.checks.append(Check(name, False, str(exc)))
            return False
        except DeviceError as exc:
            self.checks.append(Check(name, False, exc.message))
            self.lost = "the session was lost at an earlier check"
            return False
        self.checks.append(Check(name, True, detail))
        return True


def _boot_detail(boot_lines: Sequence[str]) -> str:
    if "m-init-done" not in boot_lines:
        return "no boot banner (the board was already running); resynchronised"
    modes = [ln for ln in boot_lines if ln.startswith("m-timestamp-mode-")]
    if modes != ["m-timestamp-mode-performance"]:
        raise _Mismatch(f"expected m-timestamp-mode-performance at boot, got {modes}")
    if not any(ln.startswith("m-lap-us-") for ln in boot_lines):
        raise _Mismatch("no m-lap-us line at boot (th_timestamp_initialize must stamp once)")
    return "m-timestamp-mode-performance, m-lap-us, m-init-done, m-ready"


class _SmokeSession:
    """One smoke run: every command once, each answer checked; what earlier checks learned
    (the firmware's name and model, the inference result, the output bytes) in typed fields."""

    def __init__(self, client: DutClient, item: BenchInput, benchmark: str | None,
                 emulated: bool, timer_probe_s: float) -> None:
        self.client = client
        self.item = item
        self.expected = benchmark
        self.emulated = emulated
        self.timer_probe_s = timer_probe_s
        self.name: str | None = None
        self.model: str | None = benchmark
        self.result: InferResult | None = None
        self.out: bytes | None = None

    def check_name(self) -> str:
        self.name = self.client.name()
        return self.name

    def check_profile(self) -> str:
        prof, model = self.client.profile()
        if self.expected is not None and model != self.expected:
            raise _Mismatch(f"the firmware runs model {model!r}, expected {self.expected!r}")
        self.model = model
        return f"{prof}; model {model}"

    def check_help(self) -> str:
        return f"{len(self.client.help())} lines of help"

    def check_timestamp(self) -> str:
        return f"m-lap-us-{self.client.timestamp()}"

    def check_load(self) -> str:
        self.client.load(self.item.data)
        return f"{len(self.item.data)} bytes of {self.item.name}"

    def check_db_print(self) -> str:
        echoed, sent = self.client.db_print(), self.item.data
        if echoed != sent:
            first = next((i for i, (a, b) in enumerate(zip(echoed, sent, strict=False))
                          if a != b), min(len(echoed), len(sent)))
            raise _Mismatch(f"the buffer differs from the input at byte {first} "
                            f"({len(echoed)} bytes echoed, {len(sent)} sent)")
        return "the buffer holds the input"

    def _scores_expected(self) -> int | None:
        return BENCHMARKS[self.model].scores if self.model in BENCHMARKS else None

    def check_infer(self) -> str:
        self.result = result = self.client.infer(1, 0)
        count = self._scores_expected()
        if count is not None and len(result.scores) != count:
            raise _Mismatch(f"{len(result.scores)} scores; {self.model} has {count}")
        return f"{len(result.scores)} scores, {result.elapsed_us} us"

    def _inferred(self) -> InferResult:
        assert self.result is not None, "checked only after a successful infer"
        return self.result

    def check_results(self) -> str:
        again = self.client.results()
        if again != self._inferred().scores:
            raise _Mismatch(f"results% gave {again}, infer gave {self._inferred().scores}")
        return "the same scores as infer"

    def check_outbytes(self) -> str:
        try:
            self.out = self.client.outbytes()
        except DeviceReplyError as exc:
            if "Unknown command" in exc.line:
                return "not supported (a tinygen extension)"
            raise
        return f"{len(self.out)} bytes"

    @property
    def is_bringup(self) -> bool:
        return self.name == BRINGUP_NAME and self.model in BENCHMARKS

    def check_bringup(self) -> str:
        lanes = self._scores_expected() or 0
        scores, data = self._inferred().scores, self.item.data
        if scores != bringup_scores(data, lanes):
            raise _Mismatch(f"scores {scores} are not the FNV-1a lanes of the input: bytes "
                            "were lost or changed on the way")
        if self.out is not None and self.out != bringup_outbytes(data, lanes):
            raise _Mismatch("outbytes are not the FNV-1a lanes of the input")
        return "scores and outbytes are the FNV-1a lanes of the input"

    def check_timer(self) -> str:
        result = self._inferred()
        check_advanced(result)
        if self.emulated:
            return f"advances ({result.elapsed_us} us for one inference); virtual time"
        # On a board the counter must run at 1 MHz: compare it with the host clock.
        before, start = self.client.timestamp(), time.monotonic()
        time.sleep(self.timer_probe_s)
        after, stop = self.client.timestamp(), time.monotonic()
        ratio = elapsed_us(before, after) / ((stop - start) * 1e6)
        if not 0.95 <= ratio <= 1.05:
            raise _Mismatch(f"the microsecond counter runs at {ratio:.3f}x the host clock: "
                            "is the board's clock_hz right?")
        return f"runs at {ratio:.3f}x the host clock"

    def check_error_path(self) -> str:
        try:
            self.client.command("tinygen-smoke-probe")
        except DeviceReplyError as exc:
            again = self.client.name()
            if self.name is not None and again != self.name:
                raise _Mismatch(f"name changed after an error: {again!r}") from None
            return f"{exc.line}, then answers again"
        raise _Mismatch("an unknown command got no e- line")


def run_smoke(client: DutClient, item: BenchInput, *, benchmark: str | None,
              emulated: bool, timer_probe_s: float = 1.0) -> SmokeResult:
    """Every command once, each answer checked line by line; a bring-up firmware's scores are
    also checked against what it must compute. Continues after a failed check while the
    session is in step."""
    smoke = _Smoke()
    session = _SmokeSession(client, item, benchmark, emulated, timer_probe_s)
    smoke.step("boot", lambda: _boot_detail(client.boot_lines))
    smoke.step("name", session.check_name)
    smoke.step("profile", session.check_profile)
    smoke.step("help", session.check_help)
    smoke.step("timestamp", session.check_timestamp)
    if smoke.step("db load", session.check_load):
        smoke.step("db print", session.check_db_print)
        if smoke.step("infer", session.check_infer):
            smoke.step("results", session.check_results)
            smoke.step("outbytes", session.check_outbytes)
            if session.is_bringup:
                smoke.step("bring-up scores", session.check_bringup)
            smoke.step("timer", session.check_timer)
    smoke.step("error path", session.check_error_path)
    return SmokeResult(tuple(smoke.checks))
