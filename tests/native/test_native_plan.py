"""The memory plan: checked against lifetimes recomputed here, independently of plan.py."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tinygen.model import load_model
from tinygen.native.graph import Graph
from tinygen.native.lowering import lower_graph
from tinygen.native.plan import MemoryPlan, plan_memory
from tinygen.native.render import prepare_native

REPO = Path(__file__).resolve().parents[2]
OVER_INPUT = REPO / "tests" / "data" / "native" / "op_conv_over_input.tflite"
MODELS = sorted((REPO / "models").glob("*.tflite")) + sorted(
    (REPO / "tests" / "data" / "ops").glob("*.tflite")) + [OVER_INPUT]


def _check_plan(graph: Graph, plan: MemoryPlan) -> None:
    calls = lower_graph(graph)
    n = len(calls)
    alias = {c.output: c.alias for c in calls if c.alias is not None}

    def root(t: int) -> int:
        while t in alias:
            t = alias[t]
        return t

    live: dict[int, list[int]] = {}  # root -> [first, last]
    for t in graph.inputs:
        live[root(t)] = [-1, n if plan.input_kept else -1]
    for c in calls:
        for arg in c.args:
            for t in arg.tensors:
                if graph.tensor(t).is_constant:
                    continue
                span = live.setdefault(root(t), [c.op_index, c.op_index])
                span[0], span[1] = min(span[0], c.op_index), max(span[1], c.op_index)
    for t in graph.outputs:
        live[root(t)][1] = n
    size = {r: max(graph.tensor(t).nbytes for t in plan.tensor_offsets if root(t) == r)
            for r in live}
    for t, off in plan.tensor_offsets.items():
        assert off == plan.tensor_offsets[root(t)], "an alias has its own memory"
        assert off % 4 == 0 and off + graph.tensor(t).nbytes <= plan.arena_size
    inplace = {c.op_index: (c.inplace, c.output) for c in calls
               if c.op_index in plan.inplace and c.inplace is not None}
    # A shifted convolution's output starts exactly `lag` bytes before its input.
    shifted = {c.op_index: (root(c.args[0].tensors[0]), root(c.output), c.lag) for c in calls
               if c.op_index in plan.shifted}
    assert all(lag > 0 for _, _, lag in shifted.values())
    for step in range(-1, n + 1):
        regions = [(plan.tensor_offsets[r], size[r], f"tensor {r}") for r, (a, b) in
                   live.items() if a <= step <= b]
        if step in plan.scratch_offsets:
            scratch = next(c.scratch_bytes for c in calls if c.op_index == step)
            regions.append((plan.scratch_offsets[step], scratch, "scratch"))
        pair = inplace.get(step)
        shift = shifted.get(step)
        for i, (a_off, a_len, a_name) in enumerate(regions):
            for b_off, b_len, b_name in regions[i + 1:]:
                if pair and {a_name, b_name} == {f"tensor {root(p)}" for p in pair}:
                    assert a_off == b_off, "an in-place op must write exactly over its input"
                    continue
                if shift and {a_name, b_name} == {f"tensor {shift[0]}", f"tensor {shift[1]}"}:
                    src, out = plan.tensor_offsets[shift[0]], plan.tensor_offsets[shift[1]]
                    assert out == src - shift[2], "a shifted output must start lag bytes lower"
                    continue
                assert a_off + a_len <= b_off or b_off + b_len <= a_off, (
                    f"op {step}: {a_name} and {b_name} overlap")


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
@pytest.mark.parametrize("keep_input", [True, False])
def test_plan_never_overlaps_live_buffers(path: Path, keep_input: bool) -> None:
    model = prepare_native(load_model(path))
    plan = plan_memory(model.graph, model.calls, keep_input=keep_input)
    _check_plan(model.graph, plan)


def test_bundled_models_reach_the_lower_bound() -> None:
    for name in ("kws_tiny", "ic_tiny", "ad_tiny"):
        plan = prepare_native(load_model(REPO / "models" / f"{name}.tflite")).plan
        assert plan.arena_size == plan.lower_bound, name


def test_input_is_kept_only_when_it_costs_nothing() -> None:
    model = prepare_native(load_model(REPO / "models" / "ad_tiny.tflite"))
    kept = plan_memory(model.graph, model.calls, keep_input=True)
    reused = plan_memory(model.graph, model.calls, keep_input=False)
    assert reused.arena_size < kept.arena_size
    assert model.plan.input_kept is False and model.plan.arena_size == reused.arena_size


def test_reshape_shares_its_input(mlperf_models: Path) -> None:
    model = prepare_native(load_model(mlperf_models / "kws_ref_model.tflite"))
    (reshape,) = [c for c in model.calls if c.kind == "RESHAPE"]
    assert reshape.alias is not None and reshape.function == ""
    offsets = model.plan.tensor_offsets
    assert offsets[reshape.output] == offsets[reshape.alias]


def test_residual_add_writes_in_place(mlperf_models: Path) -> None:
    model = prepare_native(load_model(mlperf_models / "pretrainedResnet_quant.tflite"))
    adds = [c.op_index for c in model.calls if c.kind == "ADD"]
    assert adds and set(adds) <= set(model.plan.inplace)
    _check_plan(model.graph, model.plan)


def test_the_checker_catches_an_overlap() -> None:
    model = prepare_native(load_model(REPO / "models" / "kws_tiny.tflite"))
    first = model.calls[1]  # reads op 0's output while writing its own
    offsets = dict(model.plan.tensor_offsets)
    offsets[first.output] = offsets[first.args[0].tensors[0]]
    broken = dataclasses.replace(model.plan, tensor_offsets=offsets, inplace=())
    with pytest.raises(AssertionError, match="overlap"):
        _check_plan(model.graph, broken)


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_shifted_outputs_only_when_the_arena_shrinks(path: Path) -> None:
    model = prepare_native(load_model(path))
    for keep_input in (True, False):
        plan = plan_memory(model.graph, model.calls, keep_input=keep_input)
        plain = plan_memory(model.graph, model.calls, keep_input=keep_input, shift=False)
        assert plain.shifted == ()
        if plan.shifted:
            assert plan.arena_size < plain.arena_size
        else:
            assert plan == plain


def test_convolutions_write_over_their_dying_inputs() -> None:
    """The residual block's second convolution and the last one (scripts/make_native_models.py)
    write over their inputs, three rows (5 channels of 7 columns: 105 B, aligned 108) lower."""
    model = prepare_native(load_model(OVER_INPUT))
    plan = model.plan
    assert plan.shifted == (2, 4)
    for op in plan.shifted:
        call = model.calls[op]
        assert call.function == "tg_conv_s8" and call.lag == 108
        assert plan.offset(call.output) == plan.offset(call.args[0].tensors[0]) - 108
    # Op 1's input (the skip) lives on until the ADD: its output has its own place.
    assert model.calls[1].lag == 108 and 1 not in plan.shifted
    assert plan.arena_size < plan_memory(model.graph, model.calls, keep_input=plan.input_kept,
                                         shift=False).arena_size
    _check_plan(model.graph, plan)


def test_the_checker_catches_a_misplaced_shift() -> None:
    model = prepare_native(load_model(OVER_INPUT))
    call = model.calls[model.plan.shifted[0]]
    offsets = dict(model.plan.tensor_offsets)
    offsets[call.output] += 4
    with pytest.raises(AssertionError, match="lag bytes lower"):
        _check_plan(model.graph, dataclasses.replace(model.plan, tensor_offsets=offsets))


def test_resnet_convolutions_write_over_their_inputs(mlperf_models: Path) -> None:
    """ic01's peak (TFLM's too) is the first residual block's second convolution: its input,
    the skip and its output; with the output over the input, the arena is 2 x 16 KiB, three
    rows of 32 pixels of 16 channels and the op's scratch buffer."""
    model = prepare_native(load_model(mlperf_models / "pretrainedResnet_quant.tflite"))
    assert 2 in model.plan.shifted
    assert model.plan.arena_size == 2 * 16384 + 3 * 32 * 16 + model.calls[2].scratch_bytes
    _check_plan(model.graph, model.plan)


def test_cmsis_nn_convolutions_keep_their_own_memory() -> None:
    """Only tinygen's tg_conv_s8 is known to walk its output in raster order."""
    model = prepare_native(load_model(OVER_INPUT), "cmsis-nn", True)
    assert all(c.lag == 0 for c in model.calls if c.kind == "CONV_2D")
    assert model.plan.shifted == ()
