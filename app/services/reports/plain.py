"""A report as plain JSON-ready values (REST, the page's charts, ``report monthly --json``), and back:
a stored report (``app.services.reports.stored``) is kept as these values and read as a Report."""

from __future__ import annotations

from datetime import date, datetime

from .model import ChildRow, Figure, Report, Table


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


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _figure(d: dict) -> Figure:
    table = d.get("table")
    return Figure(key=d["key"], name=d["name"], definition=d["definition"], unit=d["unit"], value=d["value"],
                  previous=d["previous"], flagged=d["flagged"], flag_note=d["flag_note"], chart=d["chart"],
                  table=None if table is None else Table(tuple(table["header"]), tuple(tuple(r) for r in table["rows"])))


def report_of(d: dict) -> Report:
    """The Report that ``as_dict`` gave ``d`` for (what a stored report is read back as)."""
    node = d["node"]
    return Report(
        node_code=node["code"], node_name=node["name"], node_level=node["level"],
        month=date.fromisoformat(f"{d['month']}-01"), as_of=_moment(d["as_of"]),
        generated_at=_moment(d["generated_at"]), figures=tuple(_figure(f) for f in d["figures"]),
        children=tuple(ChildRow(c["code"], c["name"], c["level"], dict(c["values"])) for c in d["children"]),
        trend={k: tuple((m, v) for m, v in points) for k, points in d["trend"].items()},
        status=d["status"], signed_by=d["signed_by"], signed_at=_moment(d["signed_at"]), live=d["live"],
        snapshot_taken_at=_moment(d["snapshot_taken_at"]), last_backup_at=_moment(d["last_backup_at"]))
