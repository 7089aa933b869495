"""report.html: fit matrix, Pareto plots, sortable table; self-contained; drawn by chromium."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path
from typing import Any

import pytest

from tinygen.sweep.report import pareto_front, render_report, write_report

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser")
                 if shutil.which(n)), None)
OVER_RED = (0xC6, 0x28, 0x28)


def _row(model: str, board: str, kernels: str, **figures: Any) -> dict[str, Any]:
    return {"cell": f"{model}-{board}-native-{kernels}-speed", "model": model, "board": board,
            "runtime": "native", "kernels": kernels, "optimize": "speed", "status": "ok",
            "exit_code": 0, **figures}


ROWS = [
    _row("kws_tiny", "mps2_an385", "native", flash=38168, ram=14960, flash_share=0.78,
         ram_share=0.02, fits=True, instructions=7269000, bit_exact=True),
    _row("kws_tiny", "mps2_an386", "native", flash=37648, ram=14960, flash_share=0.77,
         ram_share=0.02, fits=True, instructions=4877636, latency_ms=4.88),
    _row("ic_tiny", "mps2_an385", "native", flash=26740, ram=17728, flash_share=0.55,
         ram_share=0.03, fits=True, instructions=2654000),
    _row("ad_tiny", "mps2_an385", "native", status="failed", exit_code=5,
         error_class="over-budget", flash=62992, ram=5568, flash_over=13840, ram_over=0,
         fits=False, error="firmware over budget"),
    _row("ad_tiny", "mps2_an386", "native", status="failed", exit_code=4,
         error_class="build-failed", error="compile error <in> kernel.c"),
]


def test_the_fit_matrix_marks_over_budget_cells_with_the_overflow() -> None:
    html = render_report("t", ROWS)
    assert 'class="over"' in html and "+13.5 KiB flash" in html
    assert 'class="fail"' in html and "build-failed" in html
    assert "compile error &lt;in&gt; kernel.c" in html  # escaped
    assert "<h3>native · native · speed</h3>" in html
    assert "5 cells: 3 ok, 2 failed (1 over budget)" in html


def test_the_page_is_self_contained() -> None:
    html = render_report("t", ROWS)
    # No external resource: no src/href attributes, no url(), only the SVG namespace URI.
    assert not re.search(r"\b(src|href)\s*=", html)
    assert "url(" not in html and "@import" not in html
    assert set(re.findall(r"https?://[^\"' ]+", html)) == {"http://www.w3.org/2000/svg"}
    assert html.count("<svg") == 2 and "<script>" in html


def test_the_pareto_front_is_the_points_nothing_beats_on_both_axes() -> None:
    points = [(1.0, 5.0), (2.0, 2.0), (3.0, 1.0), (3.0, 3.0), (1.0, 6.0), (2.0, 2.0)]
    assert pareto_front(points) == [0, 1, 5, 2]  # equal points are both on the front
    html = render_report("t", ROWS)
    assert html.count("(Pareto front)") >= 2


def _png_pixels(path: Path) -> tuple[int, int, bytes]:
    """Width, height and RGB(A) rows of an 8-bit RGB or RGBA PNG (chromium's screenshots)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        header = body if kind == b"IHDR" else header
        idat += body if kind == b"IDAT" else b""
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6)
    bpp = 3 if colour == 2 else 4
    raw, stride, out = zlib.decompress(idat), width * bpp, bytearray()
    prev = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        out += line
        prev = line
    return width, height, bytes(out)


def screenshot(html: Path, png: Path, width: int = 1400, height: int = 1700) -> None:
    """Draw ``html`` with headless chromium into ``png``."""
    assert CHROMIUM is not None
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                    "--hide-scrollbars", f"--window-size={width},{height}",
                    f"--screenshot={png}", html.resolve().as_uri()],
                   check=True, capture_output=True, timeout=120)


def check_not_blank(png: Path) -> None:
    width, height, pixels = _png_pixels(png)
    bpp = len(pixels) // (width * height)
    colours = {pixels[i:i + 3] for i in range(0, len(pixels), bpp * 7)}
    inked = sum(pixels[i:i + 3] != b"\xff\xff\xff" for i in range(0, len(pixels), bpp * 7))
    assert len(colours) > 50, "the screenshot is (nearly) one colour"
    assert inked > len(pixels) // bpp // 7 // 50, "under 2 % of the screenshot is drawn"


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (scripts/setup.sh "
                                             "installs it: apt-get install chromium)")
def test_the_report_renders_in_a_headless_browser(tmp_path: Path) -> None:
    html, png = tmp_path / "report.html", tmp_path / "report.png"
    write_report(html, "t", ROWS)
    screenshot(html, png)
    check_not_blank(png)
    width, height, pixels = _png_pixels(png)
    bpp = len(pixels) // (width * height)
    assert bytes(OVER_RED) in {pixels[i:i + 3] for i in range(0, len(pixels), bpp)}, \
        "the over-budget cell's red is not on the page"
