"""Compile a model's native C for the host and run it; run the TFLM interpreter beside it."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tinygen.model import load_model
from tinygen.native.graph import graph_of
from tinygen.native.render import NativeModel, model_files, prepare_native

DRIVER = Path(__file__).with_name("host_main.c")
CC = shutil.which("gcc") or shutil.which("cc")
# UBSan aborts on signed overflow, shifts out of range and misaligned accesses.
CFLAGS = ("-std=c99", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter",
          "-fsanitize=undefined", "-fno-sanitize-recover=all")


def write_sources(model: NativeModel, folder: Path) -> None:
    for rel, text in model_files(model, "host test").items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def compile_folder(folder: Path) -> Path:
    """Compile the sources written in ``folder`` with the host driver."""
    assert CC is not None, "no host C compiler"
    sources = sorted((folder / "src").rglob("*.c"))
    exe = folder / "model"
    cmd = [CC, *CFLAGS, "-I", str(folder / "src"), "-I", str(folder / "src" / "native"),
           *map(str, sources), str(DRIVER), "-o", str(exe), "-lm"]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return exe


def compile_host(model: NativeModel, folder: Path) -> Path:
    """The host executable for ``model``: stdin input tensors -> stdout output tensors."""
    write_sources(model, folder)
    return compile_folder(folder)


def run_host(exe: Path, inputs: Sequence[np.ndarray], output_bytes: int) -> list[bytes]:
    data = b"".join(x.tobytes() for x in inputs)
    result = subprocess.run([str(exe)], input=data, capture_output=True, check=False,
                            timeout=300)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    out = result.stdout
    assert len(out) == output_bytes * len(inputs)
    return [out[i * output_bytes:(i + 1) * output_bytes] for i in range(len(inputs))]


def run_interpreter(model_path: Path, inputs: Sequence[np.ndarray]) -> list[bytes]:
    from tflite_micro.python.tflite_micro import runtime

    interpreter = runtime.Interpreter.from_file(str(model_path))
    outputs = []
    for x in inputs:
        # Variable tensors (SVDF, LSTM state) start from TFLM's reset values for every input,
        # as the benchmark ports reset them before each inference.
        interpreter.reset()
        interpreter.set_input(x, 0)
        interpreter.invoke()
        outputs.append(bytes(interpreter.get_output(0).tobytes()))
    return outputs


def random_inputs(model: NativeModel, count: int, seed: int) -> list[np.ndarray]:
    """Inputs spread over the whole int8 range (float inputs over a few units)."""
    tensor = model.graph.tensor(model.graph.inputs[0])
    rng = np.random.default_rng(seed)
    if tensor.dtype == "float32":
        return [rng.uniform(-4.0, 4.0, tensor.shape).astype(np.float32) for _ in range(count)]
    return [rng.integers(-128, 128, tensor.shape).astype(np.int8) for _ in range(count)]


def compare(model_path: Path, folder: Path, inputs: Sequence[np.ndarray] | None = None,
            count: int = 4, seed: int = 0) -> tuple[list[bytes], list[bytes]]:
    """(native outputs, interpreter outputs) for ``inputs`` (default: ``count`` random ones)."""
    model = prepare_native(load_model(model_path))
    exe = compile_host(model, folder)
    inputs = list(inputs) if inputs is not None else random_inputs(model, count, seed)
    out_bytes = model.graph.tensor(model.graph.outputs[0]).nbytes
    return run_host(exe, inputs, out_bytes), run_interpreter(model_path, inputs)


def op_kinds(path: Path) -> set[str]:
    """The operators of a model, and each fused activation as ``KIND/activation``."""
    kinds = set()
    for op in graph_of(load_model(path)).ops:
        kinds.add(op.kind)
        act = op.options.get("fusedActivationFunction")
        if act is not None:
            kinds.add(f"{op.kind}/{act}")
    return kinds


def assert_op_model_bit_exact(path: Path, kinds: tuple[str, ...], folder: Path) -> None:
    """A per-operator model holds its operators, and the native code's outputs for six random
    inputs are the TFLM interpreter's, byte for byte, and not all the same."""
    assert set(kinds) <= op_kinds(path), "the model does not exercise its operator"
    native, host = compare(path, folder, count=6, seed=len(path.stem))
    differing = [i for i, (a, b) in enumerate(zip(native, host, strict=True)) if a != b]
    assert differing == [], f"inputs {differing} differ from the TFLM interpreter"
    assert len(set(host)) > 1, "every input gives the same output: the test would prove nothing"
