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
MODELS = sorted((REPO / "models").glob("*.tflite")) + sorted(
    (REPO / "tests" / "data" / "ops").glob("*.tflite"))


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
    for step in range(-1, n + 1):
        regions = [(plan.tensor_offsets[r], size[r], f"tensor {r}") for r, (a, b) in
                   live.items() if a <= step <= b]
        if step in plan.scratch_offsets:
            scratch = next(c.scratch_bytes for c in calls if c.op_index == step)
            regions.append((plan.scratch_offsets[step], scratch, "scratch"))
        pair = inplace.get(step)
        for i, (a_off, a_len, a_name) in enumerate(regions):
            for b_off, b_len, b_name in regions[i + 1:]:
                if pair and {a_name, b_name} == {f"tensor {root(p)}" for p in pair}:
                    assert a_off == b_off, "an in-place op must write exactly over its input"
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
