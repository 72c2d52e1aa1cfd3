"""What the monthly report's page JSON and its REST resource share: a stored report as JSON, and
the answer when none is stored (202 while its generation runs, else 404 saying how to start it)."""

from __future__ import annotations

from flask import url_for

from ..errors import DomainError
from ..i18n import english, t
from ..services.operations import jobs
from ..services.reports import plain, stored


def lang() -> str:
    """The reader's language, as the stored report keeps its two."""
    return "en" if english() else "zh"


def stored_dict(row, report) -> dict:
    """The stored report as JSON (in the reader's language), with when, by whom and by which job
    it was made, and the rule set and snapshot it stood on."""
    taken = row.snapshot_taken_at
    return {**plain.as_dict(report), "stored": {
        "generated_at": row.generated_at.isoformat(timespec="seconds"), "generated_by": row.generated_by,
        "job": row.job_run_id, "rule_version": row.rule_version, "millis": row.millis,
        "snapshot_taken_at": taken.isoformat(timespec="seconds") if taken else None}}


def absent(node, first, run, generate: str) -> tuple[dict, int]:
    """No stored report: 202 with the generation under way, else 404 naming ``generate``, where
    to ask for it."""
    if run is not None:
        return {"message": str(t("月报正在生成", "the report is being generated")), "job": jobs.view(run),
                "job_url": url_for("JobView.show", pk=run.id)}, 202
    return {**DomainError(stored.not_generated(node, first), "month").as_json(), "generate": generate}, 404
