"""tinygen.audit.diff, render, report and treemap: growth between two audits, the JSON schema,
text, Markdown and the self-contained treemap page."""

from __future__ import annotations

import json
import re
from pathlib import Path
from xml.etree import ElementTree

from tests.audit.support import (
    Firmware,
    build_firmware,
    needs_gcc,
    size_totals,
)
from tinygen.audit import (
    audit_elf,
    diff_reports,
    render_diff_markdown,
    render_diff_text,
    render_markdown,
    render_text,
    write_treemap_html,
)
from tinygen.board import Board

# --- diff and outputs ---------------------------------------------------------------------------


@needs_gcc
def test_diff_shows_growth_per_role_and_symbol(m4: Firmware, board_m4: Board,
                                               tmp_path: Path) -> None:
    bigger = build_firmware(tmp_path / "new", model_size=m4.model_size + 1600)
    new, old = audit_elf(bigger.elf, board_m4), audit_elf(m4.elf, board_m4)
    diff = diff_reports(new, old)
    totals = {d.name: d for d in diff.totals}
    assert totals["flash"].delta == new.totals.flash - old.totals.flash
    model = next(r for r in diff.roles if r.role == "model" and r.component is None)
    assert model.flash.delta == new.role("model").flash - old.role("model").flash
    assert 1600 - 16 < model.flash.delta < 1600 + 16
    assert diff.symbols[0].name == "g_model_data" and diff.symbols[0].delta == 1600
    text = render_diff_text(diff)
    assert "g_model_data" in text and "+1,600" in text
    assert "g_model_data" in render_diff_markdown(diff)
    as_json = json.loads(json.dumps(diff.to_json()))
    assert as_json["schema"] == "tinygen-audit-diff"
    assert as_json["symbols"][0] == {"name": "g_model_data", "role": "model", "kind": "text",
                                     "old": m4.model_size, "new": m4.model_size + 1600,
                                     "delta": 1600, "status": "changed"}
    same = diff_reports(old, old)
    assert not same.symbols and all(d.delta == 0 for d in same.totals)


@needs_gcc
def test_json_follows_the_documented_schema(m4: Firmware, board_m4: Board) -> None:
    report = audit_elf(m4.elf, board_m4)
    data = json.loads(json.dumps(report.to_json()))
    assert data["schema"] == "tinygen-audit" and data["schema_version"] == 1
    assert set(data) == {"schema", "schema_version", "elf", "board", "map", "attribution",
                         "totals", "budgets", "regions", "roles", "sections", "symbols",
                         "symbols_total", "notes"}
    text, data_size, bss = size_totals(m4.elf)
    assert data["totals"] == {"text": text, "data": data_size, "bss": bss,
                              "flash": text + data_size, "ram": data_size + bss}
    assert [r["role"] for r in data["roles"]] == [
        "model", "arena", "tflm", "kernel", "cmsis_nn", "harness", "port", "board", "runtime",
        "stack", "heap", "other"]
    assert len(data["symbols"]) == data["symbols_total"]
    assert len(report.to_json(top=3)["symbols"]) == 3
    assert set(data["symbols"][0]) == {"name", "address", "size", "kind", "section", "role",
                                       "component", "flash", "ram"}
    assert data["regions"][0]["roles"]["model"] == report.role("model").flash


@needs_gcc
def test_text_and_markdown(m4: Firmware, board_m4: Board) -> None:
    report = audit_elf(m4.elf, board_m4)
    text = render_text(report, top=5)
    assert "model weights" in text and "[" in text and "top 5 symbols" in text
    assert f"text {report.totals.text:,}" in text
    md = render_markdown(report)
    assert md.startswith("### Firmware size: `firmware.elf` (within budget)")
    assert "| region | kind | used | budget | use |" in md
    assert "<details>" in md


@needs_gcc
def test_treemap_html_is_self_contained(m4: Firmware, board_m4: Board,
                                        tmp_path: Path) -> None:
    report = audit_elf(m4.elf, board_m4)
    out = tmp_path / "flash.html"
    write_treemap_html(report, out)
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    assert "<script" not in page and "src=" not in page and "href=" not in page
    for svg in re.findall(r"<svg.*?</svg>", page, flags=re.DOTALL):
        ElementTree.fromstring(svg)  # well-formed
    assert "model weights" in page and "g_model_data" not in page.split("<svg")[0]
    write_treemap_html(report, tmp_path / "again.html")
    assert (tmp_path / "again.html").read_text() == page  # deterministic
