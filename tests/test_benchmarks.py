"""tinygen.benchmarks: the MLPerf Tiny facts every stage reads, held to PROTOCOL.md and to the
reference models' signatures."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tinygen.benchmarks import (
    BENCHMARKS,
    GENERIC,
    POSTPROCESS,
    PREPROCESS,
    Benchmark,
    default_warmup,
    get_benchmark,
    match_signature,
    payload_bytes,
    port,
)
from tinygen.errors import InputError
from tinygen.model import load_model

MODELS = Path(__file__).resolve().parents[1] / "models"
# Bytes per input element the host sends, by how the port turns them into the input tensor.
_HOST_BYTES = {"copy": 1, "u8_to_i8": 1, "quantize_f32": 4}


@pytest.mark.parametrize("record", BENCHMARKS.values(), ids=list(BENCHMARKS))
def test_each_record_is_consistent(record: Benchmark) -> None:
    b = get_benchmark(record.id)
    assert b is record
    assert b.preprocess in PREPROCESS and b.postprocess in POSTPROCESS
    assert b.payload_bytes == math.prod(b.input_shape) * _HOST_BYTES[b.preprocess]
    # the scores th_results prints: the output vector, or one reconstruction error
    assert b.scores == (1 if b.postprocess == "mse" else math.prod(b.output_shape))
    assert match_signature(b.input_shape, b.output_shape) == b.id
    assert default_warmup(b.id) == b.warmup and b.reference_model.endswith(".tflite")


def test_generic_and_unknown() -> None:
    assert port(GENERIC) == ("copy", "scores")
    assert default_warmup("a-model-of-my-own") == 10
    assert match_signature((1, 5), (1, 2)) is None
    with pytest.raises(InputError, match="unknown benchmark 'kws02'") as info:
        port("kws02")
    assert "generic" in info.value.hint


def test_payload_of_the_bundled_models() -> None:
    kws = load_model(MODELS / "kws_tiny.tflite")
    assert kws.benchmark == "kws01" and payload_bytes(kws, "kws01") == 490
    assert payload_bytes(kws, GENERIC) == kws.inputs[0].nbytes
    with pytest.raises(InputError, match="does not fit the vww01 port"):
        payload_bytes(kws, "vww01")
    ad = load_model(MODELS / "ad_tiny.tflite")
    assert payload_bytes(ad, "ad01") == 2560  # float32 log-mel values quantized on the board
