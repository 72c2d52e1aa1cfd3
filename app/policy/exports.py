"""导出审批: whether an export must wait for a supervisor's approval, every reason with its rule's
file:line (``exports`` in the rule files)."""

from __future__ import annotations

from .engine import Violation
from .ruleset import Effective

WHOLE = {"province": "全省", "city": "全市", "county": "全县（区）", "school": "全校"}


def export_hold(eff: Effective, *, level: str, rows: int) -> tuple[Violation, ...]:
    """Why an export of ``rows`` students of a whole ``level`` node waits for approval (none: the
    file is made and downloaded at once)."""
    reasons = []
    limit = eff.export_rows
    if limit is not None and rows > limit.value:
        reasons.append(Violation("export_over_rows", f"导出 {rows} 名学生，超过 {limit.value} 名须经学籍主管领导"
                                                     "审批后才能下载", str(limit.source), "rows"))
    scope = eff.export_scopes.get(level)
    if scope is not None:
        reasons.append(Violation("export_scope", f"导出{WHOLE.get(level, level)}的学生须经学籍主管领导审批后"
                                                 "才能下载", str(scope), "scope"))
    return tuple(reasons)


def export_rules(eff: Effective) -> dict:
    """The export threshold in force, each value with its file:line (``rules explain exports``)."""
    rows = eff.export_rows
    return {"approval_over_rows": {"value": rows.value, "source": str(rows.source)} if rows else None,
            "approval_scopes": [{"level": level, "source": str(source)}
                                for level, source in eff.export_scopes.items()]}
