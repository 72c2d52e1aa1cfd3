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

from ...documents import confirmation
from ...errors import Forbidden
from ..common.actors import Actor
from ..quality import campaigns
from ..record import personal_data
from . import exports


def _gate(session: Session, actor: Actor, school, now: datetime) -> None:
    if not personal_data.may_see(actor):
        raise Forbidden("无权导出学生个人信息 (your role may not export personal data)")
    campaigns.gate(session, actor, school, now, "verify_data", required=False)


def _forms(session: Session, actor: Actor, school, now: datetime, writer, kind: str,
           class_id: int | None = None) -> bytes:
    """Gate, write every student in scope (or one class's) with ``writer``, log the export."""
    _gate(session, actor, school, now)
    buffer = io.BytesIO()
    count = writer(exports.rows(session, actor, school, class_id), buffer)
    exports.log(session, actor, kind, count, school)
    return buffer.getvalue()


def forms_xlsx(session: Session, actor: Actor, school, now: datetime, class_id: int | None = None) -> bytes:
    """The forms as a printable workbook, one student per page."""
    return _forms(session, actor, school, now, confirmation.write_xlsx, "confirmation_xlsx", class_id)


def forms_pdf(session: Session, actor: Actor, school, now: datetime, class_id: int | None = None) -> bytes:
    """The forms as a PDF, one student per page."""
    return _forms(session, actor, school, now, confirmation.write_pdf, "confirmation_pdf", class_id)
