"""The data-quality confirmation form (学生信息确认表), as .xlsx and as PDF: the students in scope
gathered as the export gathers them, written by ``documents.confirmation``.

Printing them is the province's business: the `export_confirmation_forms` switch and the
data-verification window of the rules decide, like any other action -- or an open data-quality
campaign covering the school (``services.quality``), which stands for both.  A campaign's school
prints them class by class."""

from __future__ import annotations

import io
from datetime import datetime

from sqlalchemy.orm import Session

from ...errors import Forbidden
from ..common.actors import Actor
from ..policy import rulesets
from ..quality import campaigns
from ..record import personal_data
from . import export_requests


def _gate(session: Session, actor: Actor, school, now: datetime) -> None:
    if not personal_data.may_see(actor):
        raise Forbidden("无权导出学生个人信息 (your role may not export personal data)")
    campaigns.gate(session, actor, school, now, "verify_data", required=False)


def _forms(session: Session, actor: Actor, school, now: datetime, kind: str, class_id: int | None = None) -> bytes:
    """Gate, write every student in scope (or one class's), log the export (ExportHeld when the
    rules' export threshold wants a supervisor's approval first)."""
    _gate(session, actor, school, now)
    buffer = io.BytesIO()
    export_requests.deliver(session, rulesets.current(session), actor,
                            export_requests.What(kind, school, class_id), buffer, now)
    return buffer.getvalue()


def forms_xlsx(session: Session, actor: Actor, school, now: datetime, class_id: int | None = None) -> bytes:
    """The forms as a printable workbook, one student per page."""
    return _forms(session, actor, school, now, "confirmation_xlsx", class_id)


def forms_pdf(session: Session, actor: Actor, school, now: datetime, class_id: int | None = None) -> bytes:
    """The forms as a PDF, one student per page."""
    return _forms(session, actor, school, now, "confirmation_pdf", class_id)


def request(session: Session, actor: Actor, what: export_requests.What, now: datetime):
    """Forms the export threshold holds, filed for approval once the same gate lets them through."""
    _gate(session, actor, what.school, now)
    return export_requests.file(session, rulesets.current(session), actor, what, now)


def gate(session: Session, actor: Actor, what: export_requests.What, now: datetime) -> None:
    """Whether the account may print these forms now (before a job is queued to make them)."""
    _gate(session, actor, what.school, now)


def make(session: Session, actor: Actor, what: export_requests.What, now: datetime):
    """Forms too many to make inside a web request, made by a job once the same gate lets them
    through (``export_requests.make``)."""
    _gate(session, actor, what.school, now)
    return export_requests.make(session, rulesets.current(session), actor, what, now)
