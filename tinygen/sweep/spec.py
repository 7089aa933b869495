"""Sweep files: strict YAML, checked by schema then by meaning; errors name the file and key."""

from __future__ import annotations

import glob
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from tinygen.board.file import describe_schema_error, read_yaml_file, strict_validator
from tinygen.build_options import RUNTIMES
from tinygen.errors import InputError, ModelError, UsageError
from tinygen.native.render import NATIVE_KERNELS
from tinygen.tflm.library import KERNEL_SETS
from tinygen.units import SIZE_EXAMPLES, parse_size

SCHEMA_PATH = Path(__file__).with_name("sweep.schema.json")
MAX_SWEEP_FILE_BYTES = 256 * 1024
# The kernel sets each runtime builds with (None: the board's default).
RUNTIME_KERNELS: dict[str, tuple[str, ...]] = {"tflm": tuple(KERNEL_SETS),
                                               "native": tuple(NATIVE_KERNELS)}


@dataclass(frozen=True)
class Only:
    """A filter on cells: each given axis lists the values a cell must have (None: any)."""

    models: tuple[str, ...] | None = None  # model stems ("bringup" for the bring-up cells)
    boards: tuple[str, ...] | None = None
    runtime: tuple[str, ...] | None = None
    kernels: tuple[str, ...] | None = None
    optimize: tuple[str, ...] | None = None

    def matches(self, model: str, board: str, runtime: str | None, kernels: str | None,
                optimize: str) -> bool:
        pairs = ((self.models, model), (self.boards, board), (self.runtime, runtime),
                 (self.kernels, kernels), (self.optimize, optimize))
        return all(want is None or got in want for want, got in pairs)


@dataclass(frozen=True)
class VerifyStep:
    random: int = 2  # seeded random inputs compared with the host interpreter
    only: Only = field(default_factory=Only)
    # Input files per model stem, checked before the random ones (a model's reference sample).
    inputs: tuple[tuple[str, tuple[Path, ...]], ...] = ()

    def inputs_for(self, model: str) -> tuple[Path, ...]:
        return dict(self.inputs).get(model, ())


@dataclass(frozen=True)
class BenchStep:
    mode: str = "performance"  # or "accuracy"
    dataset: Path | None = None
    limit: int | None = None
    iterations: int | None = None
    only: Only = field(default_factory=Only)


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep: the axes and the steps run per cell."""

    name: str
    source: str  # the sweep file, or "the command line"
    models: tuple[Path, ...]
    boards: tuple[str, ...]  # board names, or absolute paths of board files
    bringup: bool = False
    runtimes: tuple[str, ...] = ("tflm",)
    kernels: tuple[tuple[str, tuple[str | None, ...]], ...] = (("tflm", (None,)),)
    optimizes: tuple[str, ...] = ("speed",)
    benchmarks: tuple[str | None, ...] = (None,)
    arena_sizes: tuple[int | None, ...] = (None,)
    budgets_flash: tuple[int | None, ...] = (None,)
    budgets_ram: tuple[int | None, ...] = (None,)
    verify: VerifyStep | None = None
    bench: BenchStep | None = None

    def kernels_for(self, runtime: str) -> tuple[str | None, ...]:
        return dict(self.kernels).get(runtime, (None,))


def _fail(where: str, key: str, problem: str, hint: str) -> InputError:
    return InputError(f"{where}: {key}: {problem}", hint=hint)


def _schema_check(raw: object, where: str) -> None:
    error = jsonschema.exceptions.best_match(strict_validator(SCHEMA_PATH).iter_errors(raw))
    if error is None:
        return
    key, problem, hint = describe_schema_error(
        error, schema_hint="see docs/sweep.md for the keys a sweep file takes")
    raise _fail(where, key, problem, hint)


def read_sweep_file(path: Path) -> object:
    """The parsed YAML of a sweep file (strict: no aliases, anchors or repeated keys)."""
    return read_yaml_file(path, "sweep", InputError, MAX_SWEEP_FILE_BYTES,
                          missing_hint="check the path (docs/sweep.md describes the format)")


def _listed(value: object) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _unique(values: Sequence[Any], where: str, key: str) -> None:
    seen: set[Any] = set()
    for value in values:
        if value in seen:
            raise _fail(where, key, f"{value!r} is listed twice",
                        hint="list each value once (a cell would run twice)")
        seen.add(value)


def _models(patterns: Sequence[str], base: Path, where: str) -> tuple[Path, ...]:
    found: list[Path] = []
    for i, pattern in enumerate(patterns):
        key = f"models[{i}]"
        full = pattern if Path(pattern).is_absolute() else str(base / pattern)
        if glob.has_magic(pattern):
            matches = sorted(Path(p) for p in glob.glob(full, recursive=True))
            if not matches:
                raise ModelError(f"{where}: {key}: {pattern!r} matches no file",
                                 hint="check the pattern (relative to the sweep file's folder)")
        else:
            matches = [Path(full)]
            if not matches[0].is_file():
                raise ModelError(f"{where}: {key}: model {pattern} does not exist",
                                 hint="check the path (relative to the sweep file's folder)")
        for m in matches:
            resolved = m.resolve()
            if resolved not in found:
                found.append(resolved)
    stems: dict[str, Path] = {}
    for m in found:
        if m.stem in stems:
            raise ModelError(f"{where}: models: {stems[m.stem]} and {m} have the same name "
                             f"{m.stem!r}", hint="cells and report rows are named by the "
                             "model's file name: rename one")
        stems[m.stem] = m
    return tuple(found)


def _board_refs(names: Sequence[str], base: Path) -> tuple[str, ...]:
    refs = []
    for name in names:
        if Path(name).suffix in (".yaml", ".yml"):
            path = Path(name) if Path(name).is_absolute() else base / name
            refs.append(str(path.resolve()))
        else:
            refs.append(name)
    return tuple(refs)


def _sizes(value: object, where: str, key: str) -> tuple[int | None, ...]:
    if value is None:
        return (None,)
    out: list[int | None] = []
    for v in _listed(value):
        if isinstance(v, int):
            out.append(v)
            continue
        try:
            out.append(parse_size(str(v)))
        except ValueError as exc:
            raise _fail(where, key, str(exc), hint=f"e.g. {SIZE_EXAMPLES}") from None
    _unique(out, where, key)
    return tuple(out)


def _kernels(raw: object, runtimes: Sequence[str], where: str
             ) -> tuple[tuple[str, tuple[str | None, ...]], ...]:
    if raw is None:
        return tuple((r, (None,)) for r in runtimes)
    if isinstance(raw, dict):
        for runtime in raw:
            if runtime not in runtimes:
                raise _fail(where, f"options.kernels.{runtime}", f"runtime {runtime} is not "
                            "in options.runtime", hint=f"add {runtime} to options.runtime or "
                            "remove this entry")
        table = {r: _listed(raw[r]) if r in raw else [None] for r in runtimes}
    else:
        table = {r: _listed(raw) for r in runtimes}
    for runtime, sets in table.items():
        _unique(sets, where, "options.kernels")
        for k in sets:
            if k is not None and k not in RUNTIME_KERNELS[runtime]:
                raise _fail(where, "options.kernels", f"{k} is not a kernel set of runtime "
                            f"{runtime}", hint=f"runtime {runtime} takes "
                            f"{', '.join(RUNTIME_KERNELS[runtime])}; give kernels per runtime "
                            "as a mapping (kernels: {tflm: [...], native: [...]})")
    return tuple((r, tuple(table[r])) for r in runtimes)


def _only(raw: object) -> Only:
    if not isinstance(raw, dict):
        return Only()

    def get(key: str) -> tuple[str, ...] | None:
        return None if key not in raw else tuple(str(v) for v in _listed(raw[key]))

    return Only(get("models"), get("boards"), get("runtime"), get("kernels"), get("optimize"))


def _verify_inputs(raw: object, models: Sequence[Path], base: Path, where: str
                   ) -> tuple[tuple[str, tuple[Path, ...]], ...]:
    if not isinstance(raw, dict):
        return ()
    stems = {m.stem for m in models}
    table = []
    for model, files in raw.items():
        key = f"steps.verify.inputs.{model}"
        if model not in stems:
            raise _fail(where, key, f"{model} is not a model of this sweep",
                        hint=f"name a model by its file's stem: {', '.join(sorted(stems))}")
        paths = []
        for i, name in enumerate(_listed(files)):
            file = Path(name) if Path(name).is_absolute() else base / name
            if not file.is_file():
                raise _fail(where, f"{key}[{i}]", f"input {name} is not a file",
                            hint="check the path (relative to the sweep file's folder)")
            paths.append(file.resolve())
        table.append((str(model), tuple(paths)))
    return tuple(table)


def parse_sweep(raw: object, path: Path) -> SweepSpec:
    """Validate a sweep file's data (schema, then meaning) into a SweepSpec."""
    where = str(path)
    if not isinstance(raw, dict):
        raise InputError(f"{where}: a sweep file must be a mapping of keys to values",
                         hint="start from the example in docs/sweep.md")
    _schema_check(raw, where)
    base = path.resolve().parent
    if not raw.get("models") and not raw.get("bringup"):
        raise _fail(where, "models", "no models and no bring-up cells: nothing to build",
                    hint="list model files (or globs), or set bringup: true")
    options = raw.get("options") or {}
    runtimes = tuple(_listed(options.get("runtime", "tflm")))
    _unique(runtimes, where, "options.runtime")
    optimizes = tuple(_listed(options.get("optimize", "speed")))
    _unique(optimizes, where, "options.optimize")
    benchmarks = tuple(_listed(options["benchmark"])) if "benchmark" in options else (None,)
    _unique(benchmarks, where, "options.benchmark")
    boards = _listed(raw["boards"])
    _unique(boards, where, "boards")
    models = _models(_listed(raw.get("models") or []), base, where)
    steps = raw.get("steps") or {}
    verify = bench = None
    if "verify" in steps:
        v = steps["verify"] or {}
        verify = VerifyStep(random=v.get("random", 2), only=_only(v.get("only")),
                            inputs=_verify_inputs(v.get("inputs"), models, base, where))
    if "bench" in steps:
        b = steps["bench"] or {}
        dataset = None
        if "dataset" in b:
            dataset = (base / b["dataset"]).resolve()
            if not dataset.is_dir():
                raise _fail(where, "steps.bench.dataset", f"{b['dataset']} is not a folder",
                            hint="the MLCommons dataset root: DIR/<model id>/y_labels.csv")
        mode = b.get("mode", "performance")
        if mode == "accuracy" and dataset is None:
            raise _fail(where, "steps.bench", "mode accuracy needs a dataset",
                        hint="add dataset: DIR (the MLCommons layout)")
        bench = BenchStep(mode=mode, dataset=dataset, limit=b.get("limit"),
                          iterations=b.get("iterations"), only=_only(b.get("only")))
    name = raw.get("name") or path.stem
    return SweepSpec(
        name=name, source=where,
        models=models,
        boards=_board_refs(boards, base), bringup=bool(raw.get("bringup", False)),
        runtimes=runtimes, kernels=_kernels(options.get("kernels"), runtimes, where),
        optimizes=optimizes, benchmarks=benchmarks,
        arena_sizes=_sizes(options.get("arena_size"), where, "options.arena_size"),
        budgets_flash=_sizes(options.get("budget_flash"), where, "options.budget_flash"),
        budgets_ram=_sizes(options.get("budget_ram"), where, "options.budget_ram"),
        verify=verify, bench=bench,
    )


def load_sweep(path: Path) -> SweepSpec:
    """Read and validate the sweep file at ``path``."""
    return parse_sweep(read_sweep_file(path), path)


def spec_from_args(models: Sequence[str], boards: Sequence[str], runtime: str,
                   kernels: Sequence[str], optimize: str) -> SweepSpec:
    """The common sweep without a file: ``--models 'zoo/*.tflite' --boards a,b,c``."""
    where = "the command line"
    if runtime not in RUNTIMES:
        raise UsageError(f"unknown runtime {runtime!r}", hint=f"use one of {RUNTIMES}")
    if not boards:
        raise UsageError("--models needs --boards", hint="e.g. --boards mps2_an385,mps2_an386")
    cwd = Path.cwd()
    try:
        kernel_table = _kernels(list(kernels) or None, [runtime], where)
    except InputError as exc:
        raise UsageError(exc.message.replace(f"{where}: options.kernels", "--kernels"),
                         hint=exc.hint) from None
    return SweepSpec(name="models", source=where, models=_models(models, cwd, where),
                     boards=_board_refs(boards, cwd), runtimes=(runtime,),
                     kernels=kernel_table, optimizes=(optimize,))
