"""Code generation for the native runtime: the model as plain C calls into tinygen's kernels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tinygen.benchmarks import payload_bytes, port
from tinygen.board import Board
from tinygen.model import ModelInfo
from tinygen.native import cmsis_nn
from tinygen.native.calls import CTYPES, Call, ConstArray, c_float, tensor_array
from tinygen.native.fold import fold_shape_ops
from tinygen.native.graph import Graph, graph_of
from tinygen.native.input_quant import quantize_thresholds
from tinygen.native.lowering import lower_graph
from tinygen.native.plan import MemoryPlan, plan_arena
from tinygen.project import GeneratedProject, banner, base_files, project_config, render, sources
from tinygen.resources import templates_dir

# Bumped whenever the kernels' parameter structs change; generated headers check it.
KERNELS_ABI = 6
KERNEL_HEADERS = ("tg_kernels.h", "tg_arith.h", "tg_dot.h", "tg_fixedpoint.h", "tg_window.h")
# The kernels are compiled for speed, as TFLM's are (-O2), whatever the rest of the firmware.
KERNEL_OPT = {"speed": "-O2", "size": "-Os"}
# native: the DSP-extension inner loops where the core has them (the counterpart of TFLM's
# cmsis-nn set); native-portable: plain C only (the counterpart of TFLM's reference kernels);
# cmsis-nn: CMSIS-NN calls for the operators it covers, the native kernels for the rest.
NATIVE_KERNELS = ("native", "native-portable", "cmsis-nn")


@dataclass(frozen=True)
class NativeModel:
    """Everything decided at generation time: the graph, one call per op, the memory plan."""

    graph: Graph
    calls: tuple[Call, ...]
    plan: MemoryPlan

    @property
    def arena_size(self) -> int:
        return self.plan.arena_size

    @property
    def kernel_sources(self) -> tuple[str, ...]:
        return tuple(sorted({c.source for c in self.calls if c.source}))

    @property
    def library_sources(self) -> tuple[str, ...]:
        """The CMSIS-NN sources the calls need (paths inside its checkout)."""
        return tuple(sorted({s for c in self.calls for s in c.library_sources}))


def prepare_native(info: ModelInfo, kernels: str = "native", dsp: bool = True) -> NativeModel:
    """Lower and plan the model ``info`` (parsed and checked by tinygen.model).

    ``kernels`` cmsis-nn: CMSIS-NN calls where it covers the op, for a core with (``dsp``) or
    without the DSP extension, which decides CMSIS-NN's scratch sizes.
    """
    graph = fold_shape_ops(graph_of(info))  # shape arithmetic becomes constants
    calls = lower_graph(graph)  # also makes TFLM's Prepare checks for every op
    if kernels == "cmsis-nn":
        calls = [cmsis_nn.lower_cmsis_op(graph, op, dsp) or call
                 for op, call in zip(graph.ops, calls, strict=True)]
    return NativeModel(graph, tuple(calls), plan_arena(graph, calls))


def _lines(values: Sequence[int | float | str], per_line: int) -> list[str]:
    return [", ".join(str(v) for v in values[i:i + per_line]) + ","
            for i in range(0, len(values), per_line)]


def _arrays(model: NativeModel) -> list[ConstArray]:
    """Every constant array once: the calls' own and the constant tensors they read."""
    found: dict[str, ConstArray] = {}
    for call in model.calls:
        for const in call.consts:
            found.setdefault(const.name, const)
        for arg in call.args:
            for t in arg.tensors:
                tensor = model.graph.tensor(t)
                if tensor.is_constant and tensor_array(t) not in found:
                    values = tensor.array().reshape(-1)
                    found[tensor_array(t)] = ConstArray(
                        tensor_array(t), CTYPES[tensor.dtype],
                        tuple(c_float(v) if tensor.dtype == "float32" else int(v)
                              for v in values.tolist()))
    return list(found.values())


def _pointer(model: NativeModel, t: int, ctype: str, const: bool) -> str:
    qualifier = "const " if const else ""
    if model.graph.tensor(t).is_constant:
        return f"({qualifier}{ctype} *){tensor_array(t)}"
    return f"TG_AT({qualifier}{ctype}, {model.plan.offset(t)})"


def _step(model: NativeModel, call: Call) -> dict[str, object]:
    graph = model.graph
    out = graph.tensor(call.output)
    comment = f"{call.op_index}: {call.kind} -> {out.name or out.index} {list(out.shape)}"
    if not call.function:
        src = graph.tensor(call.args[0].tensors[0])
        return {"comment": f"{comment}: the same memory as {src.name or src.index}",
                "code": "", "op": call.op_index}
    if call.arg_format:
        return {"comment": comment, "code": _library_call(model, call), "op": call.op_index}
    args: list[str] = []
    prelude: list[str] = []
    for arg in call.args:
        if arg.kind == "scratch":
            at = model.plan.scratch_offsets.get(call.op_index)
            args.append("NULL" if at is None else f"TG_AT({arg.ctype}, {at})")
        elif arg.kind == "tensors":
            items = ", ".join(_pointer(model, t, arg.ctype, True) for t in arg.tensors)
            prelude.append(
                f"const void *const in{call.op_index}[{len(arg.tensors)}] = {{{items}}};")
            args.append(f"in{call.op_index}")
        elif arg.kind == "outputs":
            items = ", ".join(_pointer(model, t, arg.ctype, False) for t in arg.tensors)
            prelude.append(f"void *const out{call.op_index}[{len(arg.tensors)}] = {{{items}}};")
            args.append(f"out{call.op_index}")
        else:
            args.append(_pointer(model, arg.tensors[0], arg.ctype, arg.const))
    params = [f"&tg_op{call.op_index}"] if call.struct else []
    code = f"{call.function}({', '.join([*params, *args, *call.trailing])});"
    if prelude:
        lines = "".join(f"\n        {line}" for line in prelude)
        code = f"{{{lines}\n        {code}\n    }}"
    if call.op_index in model.plan.inplace:
        comment += " (in place)"
    if call.op_index in model.plan.shifted:
        comment += f" (over its input, from {call.lag} bytes before it)"
    return {"comment": comment, "code": code, "op": call.op_index}


def _library_call(model: NativeModel, call: Call) -> str:
    """``function(arg_format)`` with the tensors' and the scratch buffer's places filled in."""
    tensors = [_pointer(model, a.tensors[0], a.ctype, a.const)
               for a in call.args if a.kind == "tensor"]
    ctx = cmsis_nn.context_arg(model.plan.scratch_offsets.get(call.op_index), call.scratch_bytes)
    args = call.arg_format.format(*tensors, p=f"tg_op{call.op_index}", ctx=ctx)
    return f"{call.function}({args});"


def _checks(model: NativeModel) -> list[dict[str, object]]:
    """Each library call's own scratch size, for the start-up check against the plan."""
    return [{"op": c.op_index, "kind": c.kind, "planned": c.scratch_bytes,
             "expr": c.check.format(p=f"tg_op{c.op_index}")}
            for c in model.calls if c.check]


def _io(model: NativeModel, t: int) -> dict[str, object]:
    tensor = model.graph.tensor(t)
    return {"offset": model.plan.offset(t), "bytes": tensor.nbytes,
            "elements": tensor.elements, "is_float": tensor.dtype == "float32",
            "ctype": CTYPES.get(tensor.dtype, "int8_t"), "scale": c_float(tensor.scale),
            "zero_point": tensor.zero_point, "dtype": tensor.dtype}


def model_files(model: NativeModel, text_banner: str, profile: bool = False) -> dict[str, str]:
    """The model's C files (src/...) and the kernel sources it needs (src/native/...);
    ``profile``: with a timing call after each operator."""
    arrays = [
        {"name": a.name, "ctype": a.ctype, "count": len(a.values),
         "lines": _lines(list(a.values), 16 if a.ctype in ("int8_t", "uint8_t") else 8)}
        for a in _arrays(model)
    ]
    params = [{"name": f"tg_op{c.op_index}", "struct": c.struct, "fields": c.fields,
               "kind": c.kind} for c in model.calls if c.struct]
    ctx: dict[str, object] = {
        "banner": text_banner, "abi": KERNELS_ABI, "arrays": arrays, "params": params,
        "steps": [_step(model, c) for c in model.calls], "plan": model.plan,
        "input": _io(model, model.graph.inputs[0]), "output": _io(model, model.graph.outputs[0]),
        "ops": len(model.calls), "checks": _checks(model),
        "cmsis_header": cmsis_nn.HEADER if model.library_sources else "",
        "profile": profile,
    }
    files = {
        "src/model_data.h": render("native/model_data.h.j2", **ctx),
        "src/model_data.c": render("native/model_data.c.j2", **ctx),
        "src/tg_model.h": render("native/tg_model.h.j2", **ctx),
        "src/model.c": render("native/model.c.j2", **ctx),
    }
    kernels = templates_dir() / "native" / "kernels"
    headers = (*KERNEL_HEADERS, cmsis_nn.HEADER) if model.library_sources else KERNEL_HEADERS
    for name in (*headers, *model.kernel_sources):
        files[f"src/native/{name}"] = (kernels / name).read_text()
    return files


def render_native(board: Board, info: ModelInfo, model: NativeModel, benchmark: str, *,
                  kernels: str = "native", optimize: str = "speed",
                  energy: bool = False, profile: bool = False) -> GeneratedProject:
    """The whole firmware project: harness, board support, the model's C and the port;
    ``profile``: the profile build, timing every operator (``tinygen profile``)."""
    text_banner = banner(board, info.sha256)
    payload = payload_bytes(info, benchmark)
    preprocess, postprocess = port(benchmark)
    files = base_files(board, text_banner, benchmark, payload, energy,
                       profile_ops=len(model.calls) if profile else 0)
    files |= model_files(model, text_banner, profile)
    thresholds: tuple[int, ...] = ()
    if preprocess == "quantize_f32" and board.fpu == "none":
        # Re-quantizing the input before each inference without a software division.
        tensor = model.graph.tensor(model.graph.inputs[0])
        thresholds = quantize_thresholds(tensor.scale, tensor.zero_point)
    files["src/th_model.c"] = render(
        "native/th_model.c.j2", banner=text_banner, benchmark=benchmark,
        payload_bytes=payload, preprocess=preprocess, postprocess=postprocess,
        ops=sorted({c.kind for c in model.calls}), input_thresholds=_lines(thresholds, 6))
    defines = ["TG_PORTABLE=1"] if kernels == "native-portable" else []
    library = model.library_sources
    opt = KERNEL_OPT.get(optimize, "-O2")
    # The CMSIS-NN sources are compiled from the checkout tinygen_local.json names, with the
    # kernels' flags.
    files["tinygen_project.json"] = project_config(
        board, sources(files), defines, list(cmsis_nn.INCLUDE_DIRS) if library else [],
        include_dirs=["src/native"],
        opt_overrides=[("src/native/", opt), *([("cmsis-nn/", opt)] if library else [])],
        dep_sources=[("cmsis-nn", s) for s in library])
    return GeneratedProject(files)
