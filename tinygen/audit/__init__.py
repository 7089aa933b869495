"""Flash and RAM of a firmware ELF against a board's budgets, by ML role (``tinygen audit``).

Modules: elf (read the ELF), linkmap (read the ld map), dwarf (compile-unit ranges), roles
(the role table), regions (memory map), attribution (bytes to roles), auditor (``audit_elf``),
report (records and JSON), budget, diff, render (text/Markdown), treemap (HTML), layout (the
vector table at the boot origin, sections inside the regions).
"""

from tinygen.audit.auditor import audit_elf
from tinygen.audit.budget import budget_violations, enforce_budgets
from tinygen.audit.diff import AuditDiff, diff_reports, render_diff_markdown, render_diff_text
from tinygen.audit.render import render_markdown, render_text
from tinygen.audit.report import SCHEMA, SCHEMA_VERSION, AuditReport
from tinygen.audit.treemap import render_treemap_html, write_treemap_html

__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "AuditDiff",
    "AuditReport",
    "audit_elf",
    "budget_violations",
    "diff_reports",
    "enforce_budgets",
    "render_diff_markdown",
    "render_diff_text",
    "render_markdown",
    "render_text",
    "render_treemap_html",
    "write_treemap_html",
]
