"""The static memory plan: every activation tensor and scratch buffer at an arena offset.

Lifetimes are op indices: a tensor lives from the op that writes it (-1: the model input,
written before inference) to the last op that reads it (len(ops): the model output, read
after). RESHAPE outputs alias their input; an elementwise op may write over an input that
dies there; a convolution whose input dies there may write its output a few rows before
the input and over it (tinygen.native.conv_lag): the two are placed as one block, kept when
that makes the arena smaller. Buffers (blocks) are placed greedily, largest first, at the
lowest offset that no buffer alive at the same time uses (as TFLM's GreedyMemoryPlanner
does); a few orders are tried and the smallest arena kept.
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
    at: int = 0  # offset inside its block

    def overlaps(self, other: Buffer) -> bool:
        return self.start <= other.end and other.start <= self.end


@dataclass(frozen=True)
class Block:
    """Buffers placed together at fixed distances: one buffer, or convolutions' inputs with
    the outputs that run over them (tinygen.native.conv_lag)."""

    parts: tuple[Buffer, ...]

    @property
    def size(self) -> int:
        return max(p.at + p.size for p in self.parts)

    @property
    def start(self) -> int:
        return min(p.start for p in self.parts)

    @property
    def end(self) -> int:
        return max(p.end for p in self.parts)


@dataclass(frozen=True)
class MemoryPlan:
    """Arena offsets of tensors (aliases resolved) and of each op's scratch buffer."""

    arena_size: int
    tensor_offsets: dict[int, int]
    scratch_offsets: dict[int, int]
    input_kept: bool  # the model input survives inference (else it is re-loaded each time)
    inplace: tuple[int, ...]  # ops whose output reuses an input's memory
    lower_bound: int  # the largest set of buffers alive at one time
    # convolutions whose output starts Call.lag bytes before their input and runs over it
    shifted: tuple[int, ...] = ()

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


def _place(blocks: list[Block], order: Callable[[Block], tuple[int, ...]]) -> dict[str, int]:
    """Each block at the lowest aligned offset where none of its buffers meets a buffer placed
    before it that is alive at the same time."""
    placed: list[tuple[int, Buffer]] = []
    offsets: dict[str, int] = {}
    for block in sorted(blocks, key=order):
        clashes = [(part, at, other) for part in block.parts for at, other in placed
                   if other.overlaps(part)]
        # The lowest free base is 0 or just past a clashing buffer (the parts' own offsets
        # are aligned, so the candidates are too).
        candidates = sorted({0} | {_align(at + other.size) - part.at
                                   for part, at, other in clashes})
        base = next(c for c in candidates if c >= 0 and all(
            c + part.at + part.size <= at or at + other.size <= c + part.at
            for part, at, other in clashes))
        for part in block.parts:
            placed.append((base + part.at, part))
            offsets[part.key] = base + part.at
    return offsets


def _peak(blocks: Sequence[Block], offsets: dict[str, int]) -> int:
    return max((offsets[p.key] + p.size for b in blocks for p in b.parts), default=0)


def _lower_bound(blocks: Sequence[Block]) -> int:
    """The largest total, over the op indices, of the blocks' bytes alive then (a block's
    alive parts from the lowest to the highest byte)."""
    def alive(b: Block, t: int) -> int:
        parts = [p for p in b.parts if p.start <= t <= p.end]
        return _align(max(p.at + p.size for p in parts) - min(p.at for p in parts)) if parts else 0

    times = {b.start for b in blocks} | {b.end for b in blocks}
    return max((sum(alive(b, t) for b in blocks) for t in times), default=0)


_ORDERS: tuple[Callable[[Block], tuple[int, ...]], ...] = (
    lambda b: (-b.size, b.start),
    lambda b: (b.start, -b.size),
    lambda b: (-(b.end - b.start), -b.size, b.start),
)


def _shifted_outputs(graph: Graph, calls: Sequence[Call], groups: _Groups,
                     spans: dict[int, tuple[int, int, int]],
                     protected: set[int]) -> dict[int, tuple[int, int, int]]:
    """Op -> (input root, output root, lag) for each call whose output may run over its
    input from Call.lag bytes before it: the input dies there and the output is born there."""
    shifted: dict[int, tuple[int, int, int]] = {}
    taken: set[int] = set()  # roots already some output's: an output has one place
    for call in calls:
        if call.lag <= 0 or graph.tensor(call.args[0].tensors[0]).is_constant:
            continue
        src, out = groups.find(call.args[0].tensors[0]), groups.find(call.output)
        if src in protected or src == out or out in taken:
            continue
        if spans[src][1] == call.op_index and spans[out][0] == call.op_index:
            shifted[call.op_index] = (src, out, call.lag)
            taken.add(out)
    return shifted


def _blocks(spans: dict[int, tuple[int, int, int]], scratch: Sequence[Buffer],
            shifted: dict[int, tuple[int, int, int]]) -> list[Block]:
    """The tensors' buffers, each output of `shifted` in its input's block, lag bytes lower
    (chains of such convolutions make one block), and the scratch buffers alone."""
    home: dict[int, int] = {root: root for root in spans}  # root -> its block's first root
    at: dict[int, int] = dict.fromkeys(spans, 0)
    for _op, (src, out, lag) in sorted(shifted.items()):
        home[out] = home[src]
        at[out] = at[src] - lag
    members: dict[int, list[int]] = {}
    for root in spans:
        members.setdefault(home[root], []).append(root)
    blocks: list[Block] = []
    for roots in members.values():
        low = min(at[r] for r in roots)
        parts = tuple(Buffer(f"t{r}", spans[r][2], spans[r][0], spans[r][1], at[r] - low)
                      for r in roots if spans[r][2] > 0)
        if parts:
            blocks.append(Block(parts))
    return blocks + [Block((b,)) for b in scratch]


def _arrange(blocks: list[Block]) -> dict[str, int]:
    """The smallest of the orders' arrangements (the first on a tie)."""
    best: dict[str, int] | None = None
    for order in _ORDERS:
        offsets = _place(blocks, order)
        if best is None or _peak(blocks, offsets) < _peak(blocks, best):
            best = offsets
    assert best is not None
    return best


def plan_memory(graph: Graph, calls: Sequence[Call], keep_input: bool = True,
                inplace: bool = True, shift: bool = True) -> MemoryPlan:
    """``inplace``: elementwise outputs over their inputs; ``shift``: convolutions' outputs
    over their inputs, a few rows lower (kept only when the arena is smaller for it)."""
    groups = _Groups()
    for call in calls:
        if call.alias is not None:
            out = call.output
            groups.union(call.alias, out)
    spans = _lifetimes(graph, calls, groups, keep_input)
    protected = {groups.find(t) for t in graph.outputs}
    if keep_input:
        protected |= {groups.find(t) for t in graph.inputs}
    done: list[int] = []
    if inplace:
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
    scratch = [Buffer(f"s{c.op_index}", c.scratch_bytes, c.op_index, c.op_index)
               for c in calls if c.scratch_bytes > 0]
    blocks = _blocks(spans, scratch, {})
    best = _arrange(blocks)
    shifted = _shifted_outputs(graph, calls, groups, spans, protected) if shift else {}
    if shifted:
        lagged = _blocks(spans, scratch, shifted)
        offsets = _arrange(lagged)
        if _peak(lagged, offsets) < _peak(blocks, best):
            blocks, best = lagged, offsets
        else:
            shifted = {}
    tensor_offsets: dict[int, int] = {}
    for call in calls:
        for arg in call.args:
            for t in arg.tensors:
                if not graph.tensor(t).is_constant:
                    key = f"t{groups.find(t)}"
                    tensor_offsets[t] = best.get(key, 0)
    for t in (*graph.inputs, *graph.outputs):
        tensor_offsets[t] = best.get(f"t{groups.find(t)}", 0)
    scratch_offsets = {c.op_index: best[f"s{c.op_index}"] for c in calls if c.scratch_bytes > 0}
    return MemoryPlan(
        arena_size=_align(max(_peak(blocks, best), ALIGN)), tensor_offsets=tensor_offsets,
        scratch_offsets=scratch_offsets, input_kept=keep_input, inplace=tuple(done),
        lower_bound=_lower_bound(blocks), shifted=tuple(sorted(shifted)),
    )


def plan_arena(graph: Graph, calls: Sequence[Call]) -> MemoryPlan:
    """The plan to build with: the input kept alive unless that makes the arena larger."""
    kept = plan_memory(graph, calls, keep_input=True)
    reused = plan_memory(graph, calls, keep_input=False)
    return kept if kept.arena_size <= reused.arena_size else reused
