"""The static memory plan: every activation tensor and scratch buffer at an arena offset.

Lifetimes are op indices: a tensor lives from the op that writes it (-1: the model input,
written before inference) to the last op that reads it (len(ops): the model output, read
after). RESHAPE outputs alias their input; an elementwise op may write over an input that
dies there. Buffers are placed greedily, largest first, at the lowest offset that no buffer
alive at the same time uses (as TFLM's GreedyMemoryPlanner does); a few orders are tried and
the smallest arena kept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tinygen.native.calls import Call
from tinygen.native.graph import Graph

ALIGN = 4


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


@dataclass(frozen=True)
class Buffer:
    key: str  # "t<tensor>" or "s<op>"
    size: int
    start: int
    end: int

    def overlaps(self, other: Buffer) -> bool:
        return self.start <= other.end and other.start <= self.end


@dataclass(frozen=True)
class MemoryPlan:
    """Arena offsets of tensors (aliases resolved) and of each op's scratch buffer."""

    arena_size: int
    tensor_offsets: dict[int, int]
    scratch_offsets: dict[int, int]
    input_kept: bool  # the model input survives inference (else it is re-loaded each time)
    inplace: tuple[int, ...]  # ops whose output reuses an input's memory
    lower_bound: int  # the largest set of buffers alive at one time

    def offset(self, tensor: int) -> int:
        return self.tensor_offsets[tensor]


class _Groups:
    """Union-find over tensor indices: tensors sharing one buffer."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, t: int) -> int:
        while self.parent.get(t, t) != t:
            t = self.parent[t]
        return t

    def union(self, keep: int, other: int) -> None:
        self.parent[self.find(other)] = self.find(keep)


def _lifetimes(graph: Graph, calls: Sequence[Call], groups: _Groups,
               keep_input: bool) -> dict[int, tuple[int, int, int]]:
    """Group root -> (start, end, bytes) over the non-constant tensors the calls use."""
    n = len(calls)
    spans: dict[int, tuple[int, int, int]] = {}

    def touch(t: int, when: int) -> None:
        if graph.tensor(t).is_constant:
            return
        root = groups.find(t)
        start, end, size = spans.get(root, (when, when, 0))
        spans[root] = (min(start, when), max(end, when), max(size, graph.tensor(t).nbytes))

    for t in graph.inputs:
        touch(t, -1)
        if keep_input:
            touch(t, n)
    for call in calls:
        for arg in call.args:
            for t in arg.tensors:
                touch(t, call.op_index)
    for t in graph.outputs:
        touch(t, n)
    return spans


def _place(buffers: list[Buffer], order: Callable[[Buffer], tuple[int, ...]]) -> dict[str, int]:
    placed: list[tuple[int, Buffer]] = []
    offsets: dict[str, int] = {}
    for buf in sorted(buffers, key=order):
        offset = 0
        for at, other in sorted((p for p in placed if p[1].overlaps(buf)), key=lambda p: p[0]):
            if offset + buf.size <= at:
                break
            offset = max(offset, _align(at + other.size))
        placed.append((offset, buf))
        offsets[buf.key] = offset
    return offsets


def _peak(buffers: Sequence[Buffer], offsets: dict[str, int]) -> int:
    return max((offsets[b.key] + b.size for b in buffers), default=0)


def _lower_bound(buffers: Sequence[Buffer]) -> int:
    times = {b.start for b in buffers} | {b.end for b in buffers}
    return max((sum(_align(b.size) for b in buffers if b.start <= t <= b.end) for t in times),
               default=0)


_ORDERS: tuple[Callable[[Buffer], tuple[int, ...]], ...] = (
    lambda b: (-b.size, b.start),
    lambda b: (b.start, -b.size),
    lambda b: (-(b.end - b.start), -b.size, b.start),
)


def plan_memory(graph: Graph, calls: Sequence[Call], keep_input: bool = True,
                inplace: bool = True) -> MemoryPlan:
    groups = _Groups()
    for call in calls:
        if call.alias is not None:
            out = call.output
            groups.union(call.alias, out)
    spans = _lifetimes(graph, calls, groups, keep_input)
    done: list[int] = []
    if inplace:
        protected = {groups.find(t) for t in graph.outputs}
        if keep_input:
            protected |= {groups.find(t) for t in graph.inputs}
        for call in calls:
            if call.inplace is None or graph.tensor(call.inplace).is_constant:
                continue
            src, out = groups.find(call.inplace), groups.find(call.output)
            if src in protected or src == out:
                continue
            s_start, s_end, s_size = spans[src]
            o_start, o_end, o_size = spans[out]
            # The input must die here and nothing else may read the output's bytes early.
            if s_end == call.op_index and o_start == call.op_index and s_size == o_size:
                groups.union(src, out)
                spans[src] = (s_start, o_end, s_size)
                del spans[out]
                done.append(call.op_index)
    buffers = [Buffer(f"t{root}", size, start, end) for root, (start, end, size) in spans.items()
               if size > 0]
    buffers += [Buffer(f"s{c.op_index}", c.scratch_bytes, c.op_index, c.op_index)
                for c in calls if c.scratch_bytes > 0]
    best: dict[str, int] | None = None
    for order in _ORDERS:
        offsets = _place(buffers, order)
        if best is None or _peak(buffers, offsets) < _peak(buffers, best):
            best = offsets
    assert best is not None
    tensor_offsets: dict[int, int] = {}
    for call in calls:
        for arg in call.args:
            for t in arg.tensors:
                if not graph.tensor(t).is_constant:
                    key = f"t{groups.find(t)}"
                    tensor_offsets[t] = best.get(key, 0)
    for t in (*graph.inputs, *graph.outputs):
        tensor_offsets[t] = best.get(f"t{groups.find(t)}", 0)
    scratch = {c.op_index: best[f"s{c.op_index}"] for c in calls if c.scratch_bytes > 0}
    return MemoryPlan(
        arena_size=_align(max(_peak(buffers, best), ALIGN)), tensor_offsets=tensor_offsets,
        scratch_offsets=scratch, input_kept=keep_input, inplace=tuple(done),
        lower_bound=_lower_bound(buffers),
    )


def plan_arena(graph: Graph, calls: Sequence[Call]) -> MemoryPlan:
    """The plan to build with: the input kept alive unless that makes the arena larger."""
    kept = plan_memory(graph, calls, keep_input=True)
    reused = plan_memory(graph, calls, keep_input=False)
    return kept if kept.arena_size <= reused.arena_size else reused
