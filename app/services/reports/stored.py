"""Stored monthly reports (月报): generated once by the ``report_monthly`` job -- the figures in both
languages and the xlsx and PDF files the page offers -- and served as stored, so no web request
computes a report.  Generating a node's month again replaces its stored report.

A stored report is scoped like the report: the actor must be able to read its node (its own or one
below), and the row is fetched inside the actor's jurisdiction as well.
"""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, undefer

from ...errors import Conflict, NotFound, ValidationFailed
from ...i18n import speaking, t
from ...models import JobRun, Jurisdiction, MonthlyReport, MonthlyReportFile, School
from ..common.actors import Actor
from ..common.transaction import transaction
from . import monthly, nodes, plain, snapshot
from .model import Report
from .window import month_of, month_start

LANGS = ("zh", "en")
KINDS = ("xlsx", "pdf")
JOB = "report_monthly"
STEPS = 4  # Chinese figures, English figures, the files, the row


def subject(node_code: str, month: date) -> str:
    """The job subject of a node's month (how a queued or running generation is found)."""
    return f"report:{node_code}:{month:%Y-%m}"


def asked(session: Session, actor: Actor, node_code: str | None, month, now: datetime) -> tuple[nodes.Node, date]:
    """The node (the actor's own when None) and month asked for, checked as the report checks them:
    a node the actor may read, a month that has begun."""
    node = monthly._node(session, actor, node_code)
    first = month_of(month)
    if month_start(first) > now:
        raise ValidationFailed(t(f"{first:%Y-%m} 尚未开始", f"{first:%Y-%m} has not begun"), "month")
    return node, first


def find(session: Session, actor: Actor, node: nodes.Node, first: date) -> MonthlyReport | None:
    """The stored report of ``node`` for ``first``'s month inside the actor's jurisdiction."""
    return session.scalar(select(MonthlyReport).where(
        MonthlyReport.node_code == node.code, MonthlyReport.month == first, actor.scope.clause(MonthlyReport)))


def report_of(session: Session, row: MonthlyReport, lang: str = "zh") -> Report:
    """The stored report as a Report in ``lang``, with its sign-off as it stands now."""
    from .signing import with_signoff

    return with_signoff(session, plain.report_of(row.data["en" if lang == "en" else "zh"]))


def pending(session: Session, actor: Actor, node: nodes.Node, first: date) -> JobRun | None:
    """The queued or running generation of the node's month the actor sees, if any."""
    from ..operations import jobs

    run = jobs.latest(session, actor, subject(node.code, first))
    return run if run is not None and run.status in ("queued", "running") else None


def file_of(session: Session, actor: Actor, node: nodes.Node, first: date, kind: str, lang: str) -> MonthlyReportFile:
    """One file of the stored report, or NotFound (not generated, or not in the jurisdiction)."""
    if kind not in KINDS:
        raise ValidationFailed(t("文件格式须为 xlsx 或 pdf", "format must be xlsx or pdf"), "format")
    row = find(session, actor, node, first)
    found = session.scalar(select(MonthlyReportFile).options(undefer(MonthlyReportFile.body)).where(
        MonthlyReportFile.report_id == (row.id if row is not None else None), MonthlyReportFile.kind == kind,
        MonthlyReportFile.lang == ("en" if lang == "en" else "zh")))
    if found is None:
        raise NotFound(not_generated(node, first), "month")
    return found


def not_generated(node: nodes.Node, first: date):
    return t(f"{node.name} {first:%Y-%m} 的月报尚未生成", f"the report of {node.name} for {first:%Y-%m} "
             "has not been generated yet")


# -- queueing -----------------------------------------------------------------------------------

def place(session: Session, node: nodes.Node) -> School | Jurisdiction:
    """The school or bureau a node's job is placed at (its readers see the job)."""
    if node.level == "school":
        return session.get(School, node.school_id)
    return session.scalar(select(Jurisdiction).where(Jurisdiction.code == node.code))


def queue(session: Session, actor: Actor, node_code: str | None, month, *, now: datetime) -> JobRun:
    """Queue the generation of a node's month (one transaction; ``jobs.launch`` it after): a
    registrar or supervisor who may read the report.  One already queued or running is returned."""
    from ..operations import jobs

    node, first = asked(session, actor, node_code, month, now)
    actor.require("Report", "generate")
    with transaction(session):
        waiting = pending(session, actor, node, first)
        if waiting is not None:
            return waiting
        return jobs.start(session, JOB, {"node": node.code, "month": f"{first:%Y-%m}"}, actor, now=now,
                          at=place(session, node), subject=subject(node.code, first))


def queue_month(session: Session, month, *, now: datetime, actor: Actor | None = None) -> list[JobRun]:
    """Queue ``month``'s report of every bureau node (province, cities, counties), one job each, in
    one transaction (the scheduled run on the 1st, after the month-end snapshot)."""
    from ..operations import jobs

    actor = actor or Actor.system("scheduler")
    first = month_of(month)
    with transaction(session):
        bureaus = session.scalars(select(Jurisdiction).order_by(Jurisdiction.code)).all()
        return [jobs.start(session, JOB, {"node": b.code, "month": f"{first:%Y-%m}"}, actor, now=now, at=b,
                           subject=subject(b.code, first)) for b in bureaus]


# -- generating ---------------------------------------------------------------------------------

def generate(session: Session, actor: Actor, node_code: str, month, *, now: datetime, by: str | None = None,
             job_run_id: int | None = None, progress: Callable | None = None) -> MonthlyReport:
    """Compute the report of a node's month in Chinese and in English, write its files, and store
    it (replacing the one stored before).  The figures of both languages must be the same."""
    progress = progress or (lambda done, total=None: None)
    started = time.monotonic()
    with speaking("zh"):
        zh = monthly.compute(session, actor, node_code, month, now=now)
    progress(1, STEPS)
    with speaking("en"):
        en = monthly.compute(session, actor, zh.node_code, zh.month, now=now)
    progress(2, STEPS)
    from .signing import report_digest

    digest = report_digest(zh)  # in Chinese, as a sign-off's
    if _numbers(en) != _numbers(zh):  # a live month changed between the two counts
        raise Conflict(t("生成期间数据发生变化，请重新生成", "the figures changed while the report was made: "
                         "generate it again"))
    files = [_file(zh, "zh", kind) for kind in KINDS] + [_file(en, "en", kind) for kind in KINDS]
    progress(3, STEPS)
    values = dict(live=zh.live, generated_at=now.replace(microsecond=0), generated_by=(by or actor.username)[:128],
                  job_run_id=job_run_id, millis=round(1000 * (time.monotonic() - started)),
                  rule_version=_rule_version(session, zh), snapshot_taken_at=zh.snapshot_taken_at, digest=digest,
                  data={"zh": plain.as_dict(zh), "en": plain.as_dict(en)})
    row = _store(session, nodes.find(session, zh.node_code), zh.month, values, files)
    progress(4, STEPS)
    return row


def _numbers(report: Report) -> list:
    """What a report counts, in no language (its labels left out): its two languages compared."""
    return [[f.key, f.value, [[c for c in r if not isinstance(c, str)] for r in f.table.rows] if f.table else None]
            for f in report.figures] + [[c.code, sorted(c.values.items())] for c in report.children]


def _rule_version(session: Session, report: Report) -> int | None:
    """The rule set the report counted deadlines by: a closed month's, else the rules in force."""
    if not report.live:
        row = snapshot.taken(session, report.month)
        if row is not None:
            return row.rule_version
    from ..policy.rulesets import latest_version

    version = latest_version(session)
    return version.id if version is not None else None


def _file(report: Report, lang: str, kind: str) -> MonthlyReportFile:
    if kind == "xlsx":
        from ...documents.report_xlsx import write
    else:
        from ...documents.report_pdf import write
    buffer = io.BytesIO()
    with speaking(lang):
        write(report, buffer, lang)
    body = buffer.getvalue()
    name = (f"monthly-report-{report.node_code}-{report.period}.{kind}" if lang == "en"
            else f"月报-{report.node_code}-{report.period}.{kind}")
    return MonthlyReportFile(kind=kind, lang=lang, name=name, size=len(body),
                             sha256=hashlib.sha256(body).hexdigest(), body=body)


def _store(session: Session, node: nodes.Node, first: date, values: dict, files: list) -> MonthlyReport:
    """Insert or replace the node's month in one transaction (two at once: the later replaces)."""
    for attempt in (1, 2):
        try:
            with transaction(session):
                row = session.scalar(select(MonthlyReport).where(
                    MonthlyReport.node_code == node.code, MonthlyReport.month == first).with_for_update())
                if row is None:
                    row = MonthlyReport(node_code=node.code, node_level=node.level, month=first,
                                        school_id=node.school_id, province_code=node.province_code,
                                        city_code=node.city_code, county_code=node.county_code)
                    session.add(row)
                else:
                    row.files.clear()
                    session.flush()  # the old files go before the new ones (same kind and language)
                for key, value in values.items():
                    setattr(row, key, value)
                row.files.extend(files)
            return row
        except IntegrityError:  # stored at the same moment by another job: replace that one
            if attempt == 2:
                raise
    raise AssertionError("unreachable")
