"""A report as plain JSON-ready values (REST, the page's charts, ``report monthly --json``)."""

from __future__ import annotations

from datetime import date, datetime

from .model import Figure, Report


def _stamp(value: date | datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if isinstance(value, datetime) else (
        value.isoformat() if value is not None else None)


def figure_dict(f: Figure) -> dict:
    return {"key": f.key, "name": f.name, "definition": f.definition, "unit": f.unit, "value": f.value,
            "previous": f.previous, "change": f.change, "flagged": f.flagged, "flag_note": f.flag_note,
            "chart": f.chart,
            "table": None if f.table is None else {"header": list(f.table.header),
                                                   "rows": [list(r) for r in f.table.rows]}}


def as_dict(report: Report) -> dict:
    """Everything the report says, as JSON-ready values."""
    return {
        "node": {"code": report.node_code, "name": report.node_name, "level": report.node_level},
        "month": report.period, "as_of": _stamp(report.as_of), "generated_at": _stamp(report.generated_at),
        "live": report.live, "snapshot_taken_at": _stamp(report.snapshot_taken_at),
        "last_backup_at": _stamp(report.last_backup_at),
        "status": report.status, "signed_by": report.signed_by, "signed_at": _stamp(report.signed_at),
        "figures": [figure_dict(f) for f in report.figures],
        "children": [{"code": c.code, "name": c.name, "level": c.level, "values": c.values}
                     for c in report.children],
        "trend": {key: [[m, v] for m, v in points] for key, points in report.trend.items()},
    }
