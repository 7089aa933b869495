"""A seeded, structure-aware mutator of .tflite models, and what tinygen makes of each mutant.

Mutants are made with the flatbuffer object API of the schema the tflite-micro wheel ships (as
tinygen.model parses): the file stays a valid flatbuffer, only its contents go wrong (shapes,
types, buffers, quantization, builtin options, tensor indices), the damage a structural check
cannot see. ``classify`` takes a mutant through ``tinygen inspect`` and the generation steps of
``tinygen build --runtime native`` (load, check, lower, plan, render the C; no compiler), in
this process. A mutant is then refused (a ModelError: exit 3), accepted (it must then build and
verify bit-exact in QEMU) or a crash: an exception escaping tinygen, an error with another exit
code or no hint, or a RuntimeWarning.
"""

from __future__ import annotations

import copy
import io
import math
import random
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import flatbuffers
import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

from tinygen.board import load_board
from tinygen.build_options import BuildOptions
from tinygen.cli import main
from tinygen.errors import TinygenError
from tinygen.firmware import prepare_runtime

MODELS = Path(__file__).resolve().parents[2] / "models"
BUNDLED = ("kws_tiny.tflite", "ic_tiny.tflite", "ad_tiny.tflite")
BOARD = "mps2_an386"

INT32 = (-(2**31), 2**31 - 1)
TENSOR_TYPES = sorted(v for k, v in vars(schema.TensorType).items()
                      if not k.startswith("_") and isinstance(v, int))


def _as_list(values: Any) -> list[Any]:
    return [] if values is None else [v.item() if hasattr(v, "item") else v for v in values]


class _Mutator:
    """One model's object tree and the mutations that apply to it."""

    def __init__(self, model: Any, rng: random.Random) -> None:
        self.model = model
        self.rng = rng
        self.sg = model.subgraphs[0]

    # --- picking -------------------------------------------------------------------------------

    def tensor(self) -> tuple[int, Any]:
        i = self.rng.randrange(len(self.sg.tensors))
        return i, self.sg.tensors[i]

    def quantized_tensor(self) -> tuple[int, Any]:
        ids = [i for i, t in enumerate(self.sg.tensors)
               if t.quantization is not None and t.quantization.scale is not None]
        i = self.rng.choice(ids)
        return i, self.sg.tensors[i]

    def constant_tensor(self) -> tuple[int, Any]:
        ids = [i for i, t in enumerate(self.sg.tensors)
               if 0 < t.buffer < len(self.model.buffers)
               and self.model.buffers[t.buffer].data is not None]
        i = self.rng.choice(ids)
        return i, self.sg.tensors[i]

    def op(self) -> tuple[int, Any]:
        i = self.rng.randrange(len(self.sg.operators))
        return i, self.sg.operators[i]

    def int_value(self, current: int, limits: tuple[int, int] = INT32) -> int:
        value = self.rng.choice([0, -1, 1, 2, 3, -128, 127, 128, -129, 255, 256, current + 1,
                                 current - 1, current * 2, limits[0], limits[1], 2**16])
        return min(max(value, limits[0]), limits[1])

    def float_value(self, current: float) -> float:
        return self.rng.choice([0.0, -0.0, math.nan, math.inf, -math.inf, -current, 1e-45,
                                1e-30, 3e38, 1e30, current * 1.5, current * 0.5, 1.0])

    # --- tensors -------------------------------------------------------------------------------

    def shape(self) -> str:
        i, t = self.tensor()
        shape = _as_list(t.shape)
        kind = self.rng.choice(["dim", "dim", "append", "drop"])
        if kind == "dim" and shape:
            d = self.rng.randrange(len(shape))
            shape[d] = self.int_value(shape[d])
        elif kind == "append" or not shape:
            shape.append(self.rng.choice([1, 2, 0, -1]))
        else:
            shape.pop(self.rng.randrange(len(shape)))
        t.shape = shape
        return f"tensor {i} shape -> {shape}"

    def dtype(self) -> str:
        i, t = self.tensor()
        t.type = self.rng.choice([*TENSOR_TYPES, 23, 99, 127])
        return f"tensor {i} type -> {t.type}"

    def buffer_index(self) -> str:
        i, t = self.tensor()
        n = len(self.model.buffers)
        t.buffer = self.rng.choice([0, n, n + 7, 2**32 - 1, self.rng.randrange(n)])
        return f"tensor {i} buffer -> {t.buffer}"

    # --- buffers -------------------------------------------------------------------------------

    def buffer_length(self) -> str:
        i, t = self.constant_tensor()
        buf = self.model.buffers[t.buffer]
        data = _as_list(buf.data)
        kind = self.rng.choice(["truncate", "extend", "halve", "one"])
        if kind == "truncate":
            data = data[:-self.rng.choice([1, 2, 4])] or [0]
        elif kind == "extend":
            data = data + [0] * self.rng.choice([1, 3, 4, 64])
        elif kind == "halve":
            data = data[:max(1, len(data) // 2)]
        else:
            data = data[:1]
        buf.data = data
        return f"tensor {i} buffer {t.buffer}: {kind} to {len(data)} bytes"

    def buffer_values(self) -> str:
        """New weight values of the right length: a valid model that must verify."""
        i, t = self.constant_tensor()
        buf = self.model.buffers[t.buffer]
        data = _as_list(buf.data)
        if t.type == schema.TensorType.INT32:
            # Biases: small values, as a converter would write them.
            values = np.frombuffer(bytes(data), dtype=np.int32).copy()
            values += np.array([self.rng.randrange(-2000, 2000) for _ in values], np.int32)
            buf.data = list(values.tobytes())
        else:
            buf.data = [self.rng.randrange(256) for _ in data]
        return f"tensor {i} buffer {t.buffer}: new values"

    # --- quantization --------------------------------------------------------------------------

    def _set_scale(self, pick: Callable[[float], float]) -> str:
        i, t = self.quantized_tensor()
        q = t.quantization
        scales = _as_list(q.scale)
        k = self.rng.randrange(len(scales))
        scales[k] = pick(scales[k])
        q.scale = scales
        return f"tensor {i} scale[{k}] -> {scales[k]!r}"

    def scale(self) -> str:
        return self._set_scale(self.float_value)

    def scale_benign(self) -> str:
        """A slightly different scale: a valid model that must verify."""
        return self._set_scale(
            lambda v: float(np.float32(v * self.rng.choice([0.75, 0.9, 1.1, 1.25]))))

    def zero_point(self) -> str:
        i, t = self.quantized_tensor()
        q = t.quantization
        zps = _as_list(q.zeroPoint) or [0]
        k = self.rng.randrange(len(zps))
        zps[k] = self.rng.choice([-(2**40), 2**40, 128, -129, 255, 256, 32768, -(2**63),
                                  2**63 - 1, self.rng.randrange(-128, 128)])
        q.zeroPoint = zps
        return f"tensor {i} zero_point[{k}] -> {zps[k]}"

    def quant_counts(self) -> str:
        i, t = self.quantized_tensor()
        q = t.quantization
        scales, zps = _as_list(q.scale), _as_list(q.zeroPoint)
        kind = self.rng.choice(["add scale", "drop scale", "drop zero points", "add zero point",
                                "no scales", "no quantization"])
        if kind == "add scale":
            q.scale = [*scales, scales[-1]]
            q.zeroPoint = [*zps, 0] if self.rng.random() < 0.5 else zps
        elif kind == "drop scale":
            q.scale = scales[:-1] or None
        elif kind == "drop zero points":
            q.zeroPoint = None
        elif kind == "add zero point":
            q.zeroPoint = [*zps, 0]
        elif kind == "no scales":
            q.scale = None
        else:
            t.quantization = None
        return f"tensor {i}: {kind}"

    def quantized_dimension(self) -> str:
        i, t = self.quantized_tensor()
        q = t.quantization
        q.quantizedDimension = self.rng.choice([-1, 1, 2, 3, 4, 7, 2**31 - 1])
        return f"tensor {i} quantized_dimension -> {q.quantizedDimension}"

    # --- operators -----------------------------------------------------------------------------

    def options(self) -> str:
        i, op = self.op()
        kind = self.rng.choice(["none", "other", "field", "field", "field"])
        if kind == "none" or op.builtinOptions is None:
            op.builtinOptionsType, op.builtinOptions = 0, None
            return f"operator {i}: no options"
        if kind == "other":
            _, other = self.op()
            op.builtinOptionsType = other.builtinOptionsType
            op.builtinOptions = copy.deepcopy(other.builtinOptions)
            return f"operator {i}: options of type {other.builtinOptionsType}"
        opts = op.builtinOptions
        names = [n for n, v in vars(opts).items() if isinstance(v, (bool, int, float))]
        if not names:
            return f"operator {i}: options unchanged"
        name = self.rng.choice(names)
        value = getattr(opts, name)
        if isinstance(value, bool):
            new: Any = not value
        elif isinstance(value, float):
            new = self.float_value(value)
        else:
            # The option fields are at most int32 (enums are int8/uint8: keep those in range).
            limits = (-128, 127) if name in ("padding", "fusedActivationFunction",
                                             "weightsFormat", "quantizedBiasType") else INT32
            new = self.int_value(value, limits)
        setattr(opts, name, new)
        return f"operator {i}: {name} -> {new!r}"

    def operand(self) -> str:
        i, op = self.op()
        side = self.rng.choice(["inputs", "outputs"])
        ids = _as_list(getattr(op, side))
        n = len(self.sg.tensors)
        kind = self.rng.choice(["index", "index", "drop", "append"])
        if kind == "index" and ids:
            k = self.rng.randrange(len(ids))
            ids[k] = self.rng.choice([-1, n, n + 100, INT32[1], self.rng.randrange(n)])
        elif kind == "drop" and ids:
            ids.pop()
        else:
            ids.append(self.rng.choice([-1, self.rng.randrange(n)]))
        setattr(op, side, ids)
        return f"operator {i} {side} -> {ids}"

    def opcode(self) -> str:
        i, op = self.op()
        n = len(self.model.operatorCodes)
        op.opcodeIndex = self.rng.choice([n, n + 3, self.rng.randrange(n)])
        return f"operator {i} opcode -> {op.opcodeIndex}"

    def graph_io(self) -> str:
        side = self.rng.choice(["inputs", "outputs"])
        n = len(self.sg.tensors)
        ids = [self.rng.choice([-1, n, self.rng.randrange(n)])]
        setattr(self.sg, side, ids)
        return f"subgraph {side} -> {ids}"


# Mutation name -> weight. The benign ones keep the model valid, so that some mutants are
# accepted and go through the real build and QEMU.
MUTATIONS: dict[str, int] = {
    "shape": 3, "dtype": 2, "buffer_index": 2, "buffer_length": 3, "buffer_values": 2,
    "scale": 4, "scale_benign": 2, "zero_point": 3, "quant_counts": 3,
    "quantized_dimension": 2, "options": 5, "operand": 3, "opcode": 1, "graph_io": 1,
}


@dataclass(frozen=True)
class Mutant:
    seed: int
    source: str
    changes: tuple[str, ...]
    data: bytes = field(repr=False)

    @property
    def label(self) -> str:
        return f"seed {self.seed} {self.source}: {'; '.join(self.changes)}"


def make_mutant(seed: int) -> Mutant:
    """The mutant of one seed: a bundled model with one to three seeded mutations."""
    rng = random.Random(seed)
    source = rng.choice(BUNDLED)
    model = schema.ModelT.InitFromPackedBuf(bytearray((MODELS / source).read_bytes()), 0)
    mutator = _Mutator(model, rng)
    names, weights = zip(*MUTATIONS.items(), strict=True)
    changes = []
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        name = rng.choices(names, weights)[0]
        changes.append(getattr(mutator, name)())
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return Mutant(seed, source, tuple(changes), bytes(builder.Output()))


def mutants(first_seed: int, count: int) -> Iterator[Mutant]:
    for seed in range(first_seed, first_seed + count):
        yield make_mutant(seed)


@dataclass(frozen=True)
class Outcome:
    """What tinygen made of one mutant: 'refused', 'accepted' or 'crash' (with the detail)."""

    verdict: str
    detail: str = ""


def _capture(action: Callable[[], int]) -> tuple[int | None, str, str]:
    """Run ``action`` (returns an exit code): (the exit code, or that of the TinygenError it
    raised, or None when anything else escaped; stderr; what escaped or warned)."""
    err = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, redirect_stdout(io.StringIO()), \
            redirect_stderr(err):
        warnings.simplefilter("always")
        escaped = ""
        try:
            code: int | None = action()
        except TinygenError as exc:
            code = int(exc.exit_code)
            print(f"error: {exc.message}", file=err)
            if exc.hint:
                print(f"hint: {exc.hint}", file=err)
        except Exception as exc:
            code, escaped = None, f"{type(exc).__name__}: {exc}"
    warned = [f"{w.category.__name__}: {w.message}" for w in caught
              if issubclass(w.category, RuntimeWarning)]
    return code, err.getvalue(), escaped or "; ".join(warned)


def generate_native(path: Path) -> int:
    """What ``tinygen generate --runtime native`` does before it compiles anything: the
    pipeline's own checks and preparation (tinygen/firmware.py), then the rendering."""
    board = load_board(BOARD)
    runtime = prepare_runtime(BuildOptions(board=board, out_dir=path.parent / "firmware",
                                           model_path=path, runtime="native"))
    runtime.render(board, runtime.planned_arena or 0)
    return 0


def classify(mutant: Mutant, folder: Path) -> Outcome:
    """Take ``mutant`` through ``tinygen inspect`` and native code generation."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"mutant-{mutant.seed}.tflite"
    path.write_bytes(mutant.data)
    for step, action in (("inspect", lambda: main(["inspect", str(path)])),
                         ("generate", lambda: generate_native(path))):
        code, err, problem = _capture(action)
        if problem or code not in (0, 3):
            return Outcome("crash", f"{step}: exit {code}: {problem or err}")
        if code == 3:
            if "hint:" not in err:
                return Outcome("crash", f"{step}: an error without a hint: {err}")
            return Outcome("refused", err.strip().splitlines()[0])
    return Outcome("accepted")


def verify_native(mutant: Mutant, folder: Path, random_inputs: int = 2,
                  timeout: float = 600) -> Outcome:
    """``tinygen verify --runtime native`` on an accepted mutant, in a real process: 'verified'
    (built, and every output equal to the host TFLM interpreter's), 'refused' (exit 3), or a
    crash (a traceback, a differing output, another exit code)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"mutant-{mutant.seed}.tflite"
    path.write_bytes(mutant.data)
    proc = subprocess.run(
        [sys.executable, "-m", "tinygen", "verify", "--runtime", "native", "--board", BOARD,
         "--model", str(path), "--out", str(folder / "firmware"),
         "--random", str(random_inputs)],
        capture_output=True, text=True, timeout=timeout, check=False)
    if "Traceback" in proc.stderr or proc.returncode not in (0, 3):
        return Outcome("crash", f"verify: exit {proc.returncode}: {proc.stderr[-2000:]}")
    if proc.returncode == 3:
        return Outcome("refused", proc.stderr.strip().splitlines()[0])
    return Outcome("verified")
