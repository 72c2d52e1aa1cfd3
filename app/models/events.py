"""Keep the clear-text jurisdiction chain of every scoped row in step with its parent, on flush."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from .jurisdiction import Jurisdiction
from .school import School, ScopedMixin

_ORDER = {Jurisdiction: 0, School: 1}


def _refresh_chains(session: Session, _ctx, _instances) -> None:
    from .imports import ImportJob

    touched = [o for o in list(session.new) + list(session.dirty)
               if isinstance(o, (Jurisdiction, ScopedMixin, ImportJob))]
    # parents first: jurisdictions, then schools, then rows that copy from a school
    for obj in sorted(touched, key=lambda o: _ORDER.get(type(o), 2)):
        obj.refresh_chain()


class AppendOnly(Exception):
    """A history row was about to be changed or deleted."""


def _refuse(mapper, connection, target) -> None:
    raise AppendOnly(f"{target.__tablename__} is append-only: history is never rewritten")


def install() -> None:
    if not event.contains(Session, "before_flush", _refresh_chains):
        event.listen(Session, "before_flush", _refresh_chains)
    from .audit import AuditEvent, ExportLog, PersonalDataAccess
    from .requests import RequestStep
    from .rules import RuleSetVersion

    for model in (AuditEvent, PersonalDataAccess, RequestStep, RuleSetVersion, ExportLog):
        for name in ("before_update", "before_delete"):
            if not event.contains(model, name, _refuse):
                event.listen(model, name, _refuse)
