"""The TFLM firmware project: the model as a flatbuffer array, an op resolver with the model's
operators, and th_model.cc running TFLM's interpreter in a guarded arena."""

from __future__ import annotations

from collections.abc import Sequence

from tinygen.benchmarks import payload_bytes, port
from tinygen.board import Board
from tinygen.model import ModelInfo
from tinygen.project import (
    GeneratedProject,
    banner,
    base_files,
    hex_lines,
    project_config,
    render,
    sources,
)
from tinygen.tflm.ops import SUPPORTED_OPS, resolver_call

_TFLM_HEADERS = (
    "tensorflow/lite/micro/arena_allocator/single_arena_buffer_allocator.h",
    "tensorflow/lite/micro/memory_planner/greedy_memory_planner.h",
    "tensorflow/lite/micro/micro_allocator.h",
    "tensorflow/lite/micro/micro_context.h",
    "tensorflow/lite/micro/micro_interpreter.h",
    "tensorflow/lite/micro/micro_mutable_op_resolver.h",
    "tensorflow/lite/schema/schema_generated.h",
)


def tflm_headers(op_headers: list[str]) -> list[str]:
    """The includes of th_model.cc: TFLM's framework first, then the kernel headers that
    declare int8 registrations. Some kernel headers (kernels/transpose.h) use MicroContext
    without including its header, so they compile only after the framework's."""
    return [*_TFLM_HEADERS, *sorted(set(op_headers) - set(_TFLM_HEADERS))]


def resolver_ops(info: ModelInfo) -> tuple[list[dict[str, str]], list[str]]:
    """One resolver call per distinct operator, int8-specialised where every use is int8."""
    calls: list[dict[str, str]] = []
    headers: set[str] = set()
    for name in info.op_counts:
        uses = [op for op in info.operators if op.name == name]
        int8 = all(info.is_int8_op(op) for op in uses)
        calls.append({"name": name, "call": resolver_call(name, int8)})
        support = SUPPORTED_OPS[name]
        if int8 and support.int8_registration:
            headers.add(support.int8_header)
    return calls, sorted(headers)


def render_tflm(board: Board, info: ModelInfo, benchmark: str, arena_size: int, *,
                dep_include_dirs: Sequence[tuple[str, str]], defines: Sequence[str],
                energy: bool = False, arena_probe: bool = False,
                profile: bool = False) -> GeneratedProject:
    """The whole project for ``info`` (whose bytes it embeds) on ``board``; ``arena_probe``:
    the probe build, which searches the smallest arena AllocateTensors accepts; ``profile``:
    the profile build, timing every operator through TFLM's profiler hook."""
    text_banner = banner(board, info.sha256)
    payload = payload_bytes(info, benchmark)
    ops, op_headers = resolver_ops(info)
    preprocess, postprocess = port(benchmark)
    files = base_files(board, text_banner, benchmark, payload, energy,
                       profile_ops=len(info.operators) if profile else 0)
    files["src/model_data.h"] = render(
        "model/model_data.h.j2", banner=text_banner, sha256=info.sha256, size=len(info.data))
    files["src/model_data.cc"] = render(
        "model/model_data.cc.j2", banner=text_banner, size=len(info.data),
        lines=hex_lines(info.data))
    files["src/th_model.cc"] = render(
        "model/th_model.cc.j2", banner=text_banner, benchmark=benchmark, ops=ops,
        headers=tflm_headers(op_headers), arena_size=arena_size,
        payload_bytes=payload, preprocess=preprocess, postprocess=postprocess,
        stateful=any(t.is_variable for t in info.tensors), profile=profile)
    all_defines = [*defines, *(["TINYGEN_ARENA_PROBE=1"] if arena_probe else [])]
    files["tinygen_project.json"] = project_config(
        board, sources(files), all_defines, list(dep_include_dirs))
    return GeneratedProject(files)
