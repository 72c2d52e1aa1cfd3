"""导出审批: whether an export must wait for a supervisor's approval, every reason with its rule's
file:line (``exports`` in the rule files); and, for one that need not, the rule that lets it go."""

from __future__ import annotations

from dataclasses import dataclass

from .engine import Violation
from .ruleset import Effective

WHOLE = {"province": "全省", "city": "全市", "county": "全县（区）", "school": "全校"}


@dataclass(frozen=True)
class Clearance:
    """Why an export needs no approval, in words, and the rule lines that say so."""

    message: str
    source: str


def window_hours(eff: Effective) -> int:
    """How many hours back the account's earlier exports count towards the row threshold."""
    return int(eff.export_window.value) if eff.export_window is not None else 0


def export_hold(eff: Effective, *, level: str, rows: int, earlier: int = 0) -> tuple[Violation, ...]:
    """Why an export of ``rows`` students of a whole ``level`` node waits for approval (none: the
    file is made and downloaded at once); ``earlier``: the rows the same account exported inside
    the window (other scopes of its jurisdiction), which count with these."""
    reasons = []
    limit = eff.export_rows
    if limit is not None and rows > limit.value:
        reasons.append(Violation("export_over_rows", f"导出 {rows} 名学生，超过 {limit.value} 名须经学籍主管领导"
                                                     "审批后才能下载", str(limit.source), "rows"))
    elif limit is not None and rows + earlier > limit.value:
        hours, window = window_hours(eff), eff.export_window
        reasons.append(Violation(
            "export_over_rows_in_window",
            f"导出 {rows} 名学生，加上本账号 {hours} 小时内已导出的 {earlier} 名（{window.source if window else ''}），"
            f"共 {rows + earlier} 名，超过 {limit.value} 名须经学籍主管领导审批后才能下载", str(limit.source), "rows"))
    scope = eff.export_scopes.get(level)
    if scope is not None:
        reasons.append(Violation("export_scope", f"导出{WHOLE.get(level, level)}的学生须经学籍主管领导审批后"
                                                 "才能下载", str(scope), "scope"))
    return tuple(reasons)


def export_clearance(eff: Effective, *, level: str, rows: int, earlier: int = 0) -> Clearance:
    """Why an export ``export_hold`` lets go needs no approval: the threshold and the window in
    force, with their lines (recorded on a large export made by a job)."""
    limit, window = eff.export_rows, eff.export_window
    if limit is None:
        return Clearance(f"导出{WHOLE.get(level, level)} {rows} 名学生：规则未设人数上限，无需审批",
                         "; ".join(eff.files) or "rules/")
    counted = f"（含 {window_hours(eff)} 小时内已导出的 {earlier} 名）" if earlier else ""
    sources = [str(limit.source)] + ([str(window.source)] if window is not None else [])
    return Clearance(f"导出 {rows} 名学生{counted}，未超过 {limit.value} 名，导出{WHOLE.get(level, level)}也不在须审批"
                     "之列：无需学籍主管领导审批", "; ".join(sources))


def export_rules(eff: Effective) -> dict:
    """The export threshold in force, each value with its file:line (``rules explain exports``)."""
    rows, window = eff.export_rows, eff.export_window
    return {"approval_over_rows": {"value": rows.value, "source": str(rows.source)} if rows else None,
            "approval_scopes": [{"level": level, "source": str(source)}
                                for level, source in eff.export_scopes.items()],
            "approval_window_hours": {"value": window.value, "source": str(window.source)} if window else None}
