"""What the bring-up firmware (templates/bringup/th_model.c.j2) answers for an input, so the
host can check that every byte arrived intact and the port computed on them."""

from __future__ import annotations

# The name the bring-up firmware reports (codegen.render_bringup's vendor string).
BRINGUP_NAME = "tinygen bring-up"

_FNV_OFFSET = 2166136261
_FNV_PRIME = 16777619


def bringup_lanes(data: bytes, lanes: int) -> list[int]:
    """FNV-1a over the bytes whose index mod ``lanes`` is the lane, one 32-bit hash per lane."""
    hashes = [_FNV_OFFSET] * lanes
    for i, byte in enumerate(data):
        lane = i % lanes
        hashes[lane] = ((hashes[lane] ^ byte) * _FNV_PRIME) & 0xFFFFFFFF
    return hashes


def bringup_scores(data: bytes, lanes: int) -> list[float]:
    """The m-results-[...] scores: each lane's hash mod 1000, in thousandths."""
    return [(h % 1000) / 1000 for h in bringup_lanes(data, lanes)]


def bringup_outbytes(data: bytes, lanes: int) -> bytes:
    """The m-outbytes-[...] bytes: the lanes as little-endian 32-bit words (Cortex-M)."""
    return b"".join(h.to_bytes(4, "little") for h in bringup_lanes(data, lanes))
