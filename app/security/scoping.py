"""Jurisdiction scoping: every account sees its own node and everything below it, nothing else.

One ``Scope`` per account; ``clause(model)`` turns it into a WHERE condition on the clear-text
chain columns (province_code / city_code / county_code / school_id) each scoped table carries.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import g, has_request_context
from flask_appbuilder.models.filters import BaseFilter
from sqlalchemy import false, select, true
from sqlalchemy.sql import ColumnElement

from ..models import (
    AuditEvent,
    ExportLog,
    FamilyMember,
    ImportJob,
    Jurisdiction,
    PersonalDataAccess,
    ProblemCase,
    ProblemMember,
    RegistryNumber,
    Request,
    School,
    Student,
    XuejiUser,
)
from .roles import LEVELS, ROLES, RoleSpec


@dataclass(frozen=True)
class Scope:
    """Where an account sits: level, jurisdiction code (bureaus) or school id (schools)."""

    level: str  # province / city / county / school / none / system (maintenance commands)
    code: str | None = None
    school_id: int | None = None

    @property
    def depth(self) -> int:
        return LEVELS.index(self.level) if self.level in LEVELS else -1

    def clause(self, model) -> ColumnElement[bool]:
        """WHERE condition restricting ``model`` rows to this scope."""
        if self.level == "none":
            return false()
        if self.level == "system":
            return true()
        if model is Jurisdiction:
            if self.level == "school":
                return false()
            return getattr(Jurisdiction, f"{self.level}_code") == self.code
        if model is School:
            return self._chain(School, School.id)
        if model is FamilyMember:
            return FamilyMember.student_id.in_(select(Student.id).where(self.clause(Student)))
        if model is RegistryNumber:
            return RegistryNumber.student_id.in_(select(Student.id).where(self.clause(Student)))
        if model is AuditEvent:
            return self._audit()
        if model is PersonalDataAccess:
            return model.student_id.in_(select(Student.id).where(self.clause(Student))) | \
                model.import_job_id.in_(select(ImportJob.id).where(self.clause(ImportJob)))
        if issubclass(model, XuejiUser):
            return self._users()
        if model is Request:
            return self._request()
        if model is ProblemCase:
            return self._problem()
        if model in (ImportJob, ExportLog):
            return self._chain(model, model.school_id)
        return self._chain(model, model.school_id)

    def _chain(self, model, school_col) -> ColumnElement[bool]:
        if self.level == "school":
            return school_col == self.school_id
        return getattr(model, f"{self.level}_code") == self.code

    def _request(self) -> ColumnElement[bool]:
        """A request belongs to both schools' jurisdictions (a transfer's four parties see it)."""
        if self.level == "school":
            return (Request.origin_school_id == self.school_id) | (Request.other_school_id == self.school_id)
        return (getattr(Request, f"origin_{self.level}") == self.code) | \
            (getattr(Request, f"other_{self.level}") == self.code)

    def _audit(self) -> ColumnElement[bool]:
        """A row about a school's record or account goes by its school; a row about what has no
        school (a bureau's account) by its jurisdiction chain."""
        in_schools = AuditEvent.school_id.in_(select(School.id).where(self.clause(School)))
        if self.level == "school":
            return in_schools
        return in_schools | (getattr(AuditEvent, f"{self.level}_code") == self.code)

    def _problem(self) -> ColumnElement[bool]:
        members = select(ProblemMember.case_id).where(
            ProblemMember.school_id.in_(select(School.id).where(self.clause(School))))
        return ProblemCase.id.in_(members)

    def _users(self) -> ColumnElement[bool]:
        schools = select(School.id).where(self.clause(School))
        if self.level == "school":
            return XuejiUser.school_id == self.school_id
        nodes = select(Jurisdiction.id).where(self.clause(Jurisdiction))
        return XuejiUser.jurisdiction_id.in_(nodes) | XuejiUser.school_id.in_(schools)

    def contains_school(self, school: School) -> bool:
        if self.level == "system":
            return True
        if self.level == "school":
            return school.id == self.school_id
        if self.level == "none":
            return False
        return getattr(school, f"{self.level}_code") == self.code

    def contains_jurisdiction(self, node: Jurisdiction, *, strictly: bool = False) -> bool:
        if self.level == "system":
            return True
        if self.level in ("none", "school"):
            return False
        inside = getattr(node, f"{self.level}_code") == self.code
        return inside and not (strictly and node.code == self.code)


NO_SCOPE = Scope("none")


def scopable(model) -> bool:
    """Whether rows of ``model`` belong to a jurisdiction (and so must be filtered)."""
    return (model in (Jurisdiction, School, FamilyMember, RegistryNumber, AuditEvent,
                      PersonalDataAccess, Request, ProblemCase, ImportJob, ExportLog)
            or (isinstance(model, type) and issubclass(model, XuejiUser))
            or hasattr(model, "school_id"))


def account_roles(user) -> list[RoleSpec]:
    return [ROLES[r.name] for r in getattr(user, "roles", []) or [] if r.name in ROLES]


def scope_of(user) -> Scope:
    """The scope of an account, from the node it is bound to."""
    if user is None or not getattr(user, "is_authenticated", False):
        return NO_SCOPE
    if getattr(user, "school_id", None):
        return Scope("school", school_id=user.school_id)
    node = getattr(user, "jurisdiction", None)
    if node is not None:
        return Scope(node.level, code=node.code)
    return NO_SCOPE


def current_user_obj():
    if has_request_context():
        return getattr(g, "user", None)
    return None


def current_scope() -> Scope:
    return scope_of(current_user_obj())


class InScope(BaseFilter):
    """FAB base filter: restricts a view, an API, a select box or a search to the account's scope."""

    name = "In scope"
    arg_name = "inscope"

    def apply(self, query, value):
        return query.filter(current_scope().clause(self.model))


SCOPED = [["id", InScope, None]]
