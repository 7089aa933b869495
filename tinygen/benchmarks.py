"""The MLPerf Tiny benchmarks: one frozen record per benchmark, the facts every stage reads."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tinygen.errors import InputError

if TYPE_CHECKING:
    from tinygen.model import ModelInfo

# A model with no benchmark's signature: the host sends the input tensor's raw bytes.
GENERIC = "generic"
# The benchmark a build with no model (the bring-up firmware) answers as.
DEFAULT_BENCHMARK = "kws01"
# How th_load_tensor turns the received bytes into the input tensor.
PREPROCESS = ("copy", "u8_to_i8", "quantize_f32")
# What th_results prints: the output scores, or the reconstruction error (the AD autoencoder).
POSTPROCESS = ("scores", "mse")


@dataclass(frozen=True)
class Benchmark:
    """One MLPerf Tiny benchmark (PROTOCOL.md section 4; mlcommons/tiny)."""

    id: str  # the model id the firmware reports: kws01, vww01, ic01, ad01
    task: str
    input_shape: tuple[int, ...]  # the int8 I/O signature of its reference model
    output_shape: tuple[int, ...]
    payload_bytes: int  # bytes the host sends per input
    scores: int  # values th_results prints
    preprocess: str  # one of PREPROCESS
    postprocess: str  # one of POSTPROCESS
    warmup: int  # inferences the MLCommons runner makes before its timed window
    reference_model: str  # the reference model's file (benchmark/training/*/trained_models)


BENCHMARKS: dict[str, Benchmark] = {b.id: b for b in (
    Benchmark("kws01", "keyword spotting", (1, 49, 10, 1), (1, 12), 490, 12, "copy", "scores",
              10, "kws_ref_model.tflite"),
    Benchmark("vww01", "visual wake words", (1, 96, 96, 3), (1, 2), 27648, 2, "u8_to_i8",
              "scores", 5, "vww_96_int8.tflite"),
    Benchmark("ic01", "image classification", (1, 32, 32, 3), (1, 10), 3072, 10, "u8_to_i8",
              "scores", 5, "pretrainedResnet_quant.tflite"),
    Benchmark("ad01", "anomaly detection", (1, 640), (1, 640), 2560, 1, "quantize_f32", "mse",
              10, "ad01_int8.tflite"),
)}
# Where a model id is not one of the four (a generic model): the MLCommons runner's default.
DEFAULT_WARMUP = 10


def benchmark_names(generic: bool = False) -> list[str]:
    """The benchmark ids, for command-line choices (with 'generic' where a model may have none)."""
    return [*BENCHMARKS, GENERIC] if generic else list(BENCHMARKS)


def get_benchmark(benchmark: str) -> Benchmark:
    """The record of ``benchmark``; an unknown id is bad input."""
    found = BENCHMARKS.get(benchmark)
    if found is None:
        raise InputError(f"unknown benchmark {benchmark!r}",
                         hint=f"use one of {', '.join(benchmark_names(generic=True))}")
    return found


def port(benchmark: str) -> tuple[str, str]:
    """What th_load_tensor does with the received bytes and what th_results prints."""
    if benchmark == GENERIC:
        return "copy", "scores"
    record = get_benchmark(benchmark)
    return record.preprocess, record.postprocess


def default_warmup(model_id: str) -> int:
    """Inferences before a timed window, as the MLCommons runner makes them."""
    record = BENCHMARKS.get(model_id)
    return record.warmup if record else DEFAULT_WARMUP


def match_signature(input_shape: tuple[int, ...], output_shape: tuple[int, ...]) -> str | None:
    """The benchmark whose reference model has this int8 I/O signature, if any."""
    return next((b.id for b in BENCHMARKS.values()
                 if (b.input_shape, b.output_shape) == (input_shape, output_shape)), None)


def payload_bytes(info: ModelInfo, benchmark: str) -> int:
    """Bytes the host sends for one input; checks the benchmark's port fits the model."""
    tensor = info.inputs[0]
    if benchmark == GENERIC:
        return tensor.nbytes
    record = get_benchmark(benchmark)
    expected = record.payload_bytes
    elements = math.prod(tensor.shape)
    fits = {
        "copy": tensor.nbytes == expected,
        "u8_to_i8": tensor.dtype == "int8" and elements == expected,
        "quantize_f32": tensor.dtype == "int8" and elements * 4 == expected,
    }[record.preprocess]
    if not fits:
        raise InputError(
            f"the model's input ({tensor.dtype} {list(tensor.shape)}) does not fit the "
            f"{benchmark} port ({expected} bytes from the host)",
            hint="pass --benchmark generic to send the input tensor's raw bytes instead",
        )
    return expected
