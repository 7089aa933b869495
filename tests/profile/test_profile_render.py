"""A profile build differs from the normal one only where it must: the config header (the
TINYGEN_PROFILE switch) and the model's code (the timing calls); the normal sources hold
nothing of it."""

from __future__ import annotations

from tests.profile.support import KWS_TINY, KWS_TINY_OPS
from tinygen.board import load_board
from tinygen.model import load_model
from tinygen.native.render import prepare_native, render_native
from tinygen.tflm.render import render_tflm

BOARD = "mps2_an386"


def _changed(normal: dict[str, str], profile: dict[str, str]) -> set[str]:
    assert normal.keys() == profile.keys()  # no file more: the same sources compile
    return {name for name in normal if normal[name] != profile[name]}


def test_native_profile_adds_a_timing_call_per_operator_and_nothing_else() -> None:
    board, info = load_board(BOARD), load_model(KWS_TINY)
    model = prepare_native(info)
    normal = render_native(board, info, model, "kws01").files
    profile = render_native(board, info, model, "kws01", profile=True).files
    assert _changed(normal, profile) == {"src/tinygen_config.h", "src/model.c"}
    assert "TINYGEN_PROFILE" not in normal["src/tinygen_config.h"]
    assert "#define TINYGEN_PROFILE 1" in profile["src/tinygen_config.h"]
    assert f"#define EE_PROFILE_OPS {KWS_TINY_OPS}" in profile["src/tinygen_config.h"]
    assert "ee_profile" not in normal["src/model.c"]
    calls = [f"ee_profile_op_end({c.op_index}u);" for c in model.calls]
    assert [line.strip() for line in profile["src/model.c"].splitlines()
            if "ee_profile_op_end" in line] == calls


def test_tflm_profile_passes_a_profiler_to_the_interpreter_and_nothing_else() -> None:
    board, info = load_board(BOARD), load_model(KWS_TINY)

    def files(profile: bool) -> dict[str, str]:
        return render_tflm(board, info, "kws01", 8192, dep_include_dirs=[], defines=[],
                           profile=profile).files

    normal, profile = files(False), files(True)
    assert _changed(normal, profile) == {"src/tinygen_config.h", "src/th_model.cc"}
    assert "TINYGEN_PROFILE" not in normal["src/tinygen_config.h"]
    assert f"#define EE_PROFILE_OPS {KWS_TINY_OPS}" in profile["src/tinygen_config.h"]
    assert "Profiler" not in normal["src/th_model.cc"]
    assert "allocator, nullptr, g_profiler)" in profile["src/th_model.cc"]
