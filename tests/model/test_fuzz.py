"""The model fuzzer (issue 16): seeded, structure-aware mutants of the bundled models.

Every mutant is either refused with exit 3 (a ModelError with a hint) or generates, and then
builds and verifies bit-exact in QEMU; none escapes as a traceback, another exit code or a
RuntimeWarning. ``python bench/model_fuzz.py`` runs the same for a larger count.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.commands.cli_support import needs_qemu_and_gcc, run_cli
from tests.model.mutants import classify, generate_native, mutants, verify_native
from tinygen.errors import ModelError

MODELS = Path(__file__).resolve().parents[2] / "models"
# Kept small for CI: the fast path takes a few seconds for this many.
FAST_COUNT = 300
QEMU_COUNT = 4


def test_mutants_are_refused_or_generate(tmp_path: Path) -> None:
    counts: Counter[str] = Counter()
    crashes = []
    for mutant in mutants(0, FAST_COUNT):
        outcome = classify(mutant, tmp_path / str(mutant.seed))
        counts[outcome.verdict] += 1
        if outcome.verdict == "crash":
            crashes.append(f"{mutant.label}\n    {outcome.detail}")
    print(f"\nmodel fuzzer: {FAST_COUNT} mutants tried, {counts['refused']} refused, "
          f"{counts['accepted']} generated, {counts['crash']} crashes")
    assert crashes == []
    # The mutator keeps both sides busy: most mutants are corrupt, some stay valid.
    assert counts["refused"] > FAST_COUNT // 2 and counts["accepted"] > FAST_COUNT // 20


@needs_qemu_and_gcc
def test_accepted_mutants_build_and_verify_in_qemu(tmp_path: Path) -> None:
    verified = []
    for mutant in mutants(0, FAST_COUNT):
        if len(verified) == QEMU_COUNT:
            break
        folder = tmp_path / str(mutant.seed)
        if classify(mutant, folder).verdict != "accepted":
            continue
        outcome = verify_native(mutant, folder)
        assert outcome.verdict == "verified", f"{mutant.label}: {outcome.detail}"
        verified.append(mutant.label)
    print("\nverified bit-exact in QEMU:\n  " + "\n  ".join(verified))
    assert len(verified) == QEMU_COUNT


# --- the cases issue 16 names, through the command line ----------------------------------------


def _conv_output_quant(model: Any, **fields: Any) -> None:
    # kws_tiny: tensor 21 is the first CONV_2D's int8 output (fused RELU)
    for name, value in fields.items():
        setattr(model.subgraphs[0].tensors[21].quantization, name, value)


def test_int8_zero_point_of_minus_2_pow_40_is_refused(
        tmp_path: Path, edit_model: Any, capsys: pytest.CaptureFixture[str]) -> None:
    path = edit_model(MODELS / "kws_tiny.tflite", tmp_path / "zp.tflite",
                      lambda m: _conv_output_quant(m, zeroPoint=[-(2**40)]))
    code, _, err = run_cli(capsys, "generate", "--runtime", "native", "--board", "mps2_an386",
                           "--model", str(path), "--out", str(tmp_path / "out"))
    assert code == 3
    assert "the model is corrupt: tensor 21" in err and "outside int8's -128..127" in err
    assert "hint: re-export the model" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("scale", [0.0, math.inf, math.nan])
def test_bad_scale_refused_without_runtime_warning(tmp_path: Path, edit_model: Any,
                                                   scale: float) -> None:
    path = edit_model(MODELS / "kws_tiny.tflite", tmp_path / "scale.tflite",
                      lambda m: _conv_output_quant(m, scale=[scale]))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(ModelError, match=r"tensor 21 .*scale is"):
            generate_native(path)


def test_benchmark_that_does_not_fit_the_model_is_bad_input(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # --benchmark vww01 for a KWS model: refused before anything is built (tflm, so the
    # check runs before the TFLM library would be), exit 3, not 4 (build failed).
    for runtime in ("tflm", "native"):
        code, _, err = run_cli(capsys, "build", "--runtime", runtime, "--board", "mps2_an386",
                               "--model", str(MODELS / "kws_tiny.tflite"), "--benchmark",
                               "vww01", "--out", str(tmp_path / runtime))
        assert code == 3, err
        assert "does not fit the vww01 port" in err and "hint: pass --benchmark generic" in err
