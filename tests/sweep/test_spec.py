"""Sweep files: every invalid_*.yaml is refused before anything runs, naming the file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from tinygen.cli import main
from tinygen.errors import InputError, ModelError, UsageError
from tinygen.sweep.spec import load_sweep, spec_from_args

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[2]
INVALID = sorted(DATA.glob("invalid_*.yaml"))


def _expected(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect: ")
    return first.removeprefix("# expect: ")


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_an_invalid_sweep_file_is_refused_before_anything_runs(
        path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out)]) == 3
    err = capsys.readouterr().err
    assert f"error: {path}: " in err  # the file ...
    assert _expected(path) in err  # ... and the key, with the problem
    assert "\nhint: " in err and "Traceback" not in err
    assert not out.exists()  # nothing ran


def test_the_example_sweep_file_of_the_docs_is_valid() -> None:
    spec = load_sweep(REPO / "docs" / "sweep-example.yaml")
    assert {p.stem for p in spec.models} == {"kws_tiny", "ic_tiny", "ad_tiny"}
    assert spec.runtimes == ("native",)
    assert spec.kernels_for("native") == ("native", "native-portable")
    assert spec.verify is not None and spec.bench is not None


def test_sizes_and_lists_are_read_as_the_command_line_reads_them(tmp_path: Path) -> None:
    sweep = tmp_path / "s.yaml"
    sweep.write_text(f"sweep: 1\nmodels: ['{REPO}/models/*_tiny.tflite']\n"
                     "boards: mps2_an385\noptions: {runtime: [tflm, native], "
                     "kernels: {native: native-portable}, budget_flash: [256K, 0x10000], "
                     "arena_size: 20000}\n")
    spec = load_sweep(sweep)
    assert spec.budgets_flash == (262144, 65536)
    assert spec.arena_sizes == (20000,)
    assert spec.kernels_for("tflm") == (None,)
    assert spec.kernels_for("native") == ("native-portable",)
    assert [p.name for p in spec.models] == ["ad_tiny.tflite", "ic_tiny.tflite",
                                             "kws_tiny.tflite"]


def test_the_command_line_sweep_checks_its_options() -> None:
    models = [str(REPO / "models" / "kws_tiny.tflite")]
    spec = spec_from_args(models, ["mps2_an385"], "native", ["native"], "size")
    assert spec.optimizes == ("size",) and spec.kernels_for("native") == ("native",)
    with pytest.raises(UsageError,
                       match=r"^--kernels: reference is not a kernel set of runtime native"
                       ) as caught:
        spec_from_args(models, ["mps2_an385"], "native", ["native", "reference"], "speed")
    assert "native-portable" in caught.value.hint
    with pytest.raises(UsageError, match="--models needs --boards"):
        spec_from_args(models, [], "native", [], "speed")
    with pytest.raises(ModelError, match="does not exist"):
        spec_from_args(["nope.tflite"], ["mps2_an385"], "native", [], "speed")


def test_command_line_mistakes_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sweep"]) == 2
    assert "nothing to sweep" in capsys.readouterr().err
    sweep = DATA / "invalid_version.yaml"
    assert main(["sweep", str(sweep), "--models", "x.tflite"]) == 2
    assert main(["sweep", "--compare", "a"]) == 2
    assert main(["sweep", "--models", "m.tflite", "--boards", "mps2_an385",
                 "--cluster", "tcp://127.0.0.1:1", "--jobs", "3"]) == 2


def test_a_missing_sweep_file_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_sweep(tmp_path / "none.yaml")
    assert main(["sweep", str(tmp_path / "none.yaml")]) == 3
    assert main(["sweep", str(tmp_path)]) == 3  # a folder
