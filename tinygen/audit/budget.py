"""Budget enforcement: an over-budget firmware raises OverBudgetError naming region and culprits."""

from __future__ import annotations

from tinygen.audit.report import AuditReport
from tinygen.audit.roles import ROLE_LABELS
from tinygen.errors import OverBudgetError

CONTRIBUTORS = 3  # how many roles and symbols an over-budget message names


def budget_violations(report: AuditReport) -> list[str]:
    """One sentence per exceeded budget: regions first, then the flash/RAM totals."""
    found: list[str] = []
    named: set[str] = set()
    for region in report.regions:
        if region.over and region.budget is not None:
            roles = ", ".join(f"{ROLE_LABELS[role]} {n:,} B"
                              for role, n in region.roles[:CONTRIBUTORS])
            found.append(
                f"{region.kind} region '{region.name}' is {region.over:,} bytes over budget "
                f"({region.used:,} used of {region.budget:,}); biggest contributors: {roles}"
                + _symbols(report, region.kind))
            named.add(region.kind)
    for b in report.budgets:
        if b.over and b.budget is not None and b.kind not in named:
            where = (f"region '{b.regions[0]}'" if len(b.regions) == 1 else
                     f"regions {', '.join(repr(r) for r in b.regions)}")
            found.append(
                f"{b.kind} ({where}) is {b.over:,} bytes over budget ({b.used:,} used of "
                f"{b.budget:,}, budget from the {b.source}); biggest contributors: "
                f"{_roles(report, b.kind)}" + _symbols(report, b.kind))
    return found


def _roles(report: AuditReport, kind: str) -> str:
    def amount(r: object) -> int:
        return int(getattr(r, kind))
    ranked = sorted((r for r in report.roles if amount(r)), key=lambda r: -amount(r))
    return ", ".join(f"{r.label} {amount(r):,} B" for r in ranked[:CONTRIBUTORS])


def _symbols(report: AuditReport, kind: str) -> str:
    ranked = sorted((s for s in report.symbols if getattr(s, kind)),
                    key=lambda s: (-int(getattr(s, kind)), s.name))
    if not ranked:
        return ""
    return "; biggest symbols: " + ", ".join(
        f"{s.name} {int(getattr(s, kind)):,} B" for s in ranked[:CONTRIBUTORS])


class BudgetExceededError(OverBudgetError):
    """Over budget, with the audit that found it (its figures, for whoever reports them)."""

    def __init__(self, report: AuditReport, message: str, hint: str) -> None:
        super().__init__(message, hint=hint)
        self.report = report


def enforce_budgets(report: AuditReport) -> None:
    """Raise OverBudgetError (exit code 5) if any region or total exceeds its budget."""
    violations = budget_violations(report)
    if not violations:
        return
    raise BudgetExceededError(report,
        "; ".join(violations) if len(violations) == 1 else
        "firmware over budget:\n  " + "\n  ".join(violations),
        hint="shrink the model or the arena, choose a board with more memory, or raise the "
             "budget (board file 'budgets:', or --budget-flash/--budget-ram)")
